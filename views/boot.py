"""What a session's first run sends before anything else: a request for Plotly's code.

Streamlit's browser code loads Plotly (a 4.7 MB chunk, ~0.7 s to compile and evaluate in a
browser) only when the first chart element arrives — on the main page that is after the sidebar,
the fits and the figures have been computed.  Asking for that very chunk at the start of the first
run lets the browser load it while the server computes (benchmarks/bench_app.py shows the
breakdown).  Only streamlit is imported here, so that this goes out before numpy, plotly and the
app's own modules are imported.

Plotly alone: importing the first view's small chunks here too (select box, number input, slider,
metric, KaTeX…: ~40 files with their dependencies) had them ready before Plotly's evaluation, but
the server, serving them while it ran the script, delivered Plotly ~0.25 s later, and the first
view was drawn no sooner (bench_app.py --compare, six alternating cold starts).
"""

from __future__ import annotations

import re
from pathlib import Path

import streamlit as st

_CHUNK = re.compile(r"PlotlyChart\.[A-Za-z0-9_-]+\.js")


def plotly_chunk() -> str | None:
    """File name of the installed Streamlit's Plotly chunk (``PlotlyChart.<hash>.js``), or None
    if this Streamlit has none (then nothing is preloaded and charts load as before)."""
    folder = Path(st.__file__).parent / "static" / "static" / "js"
    names = sorted(p.name for p in folder.glob("PlotlyChart.*.js") if _CHUNK.fullmatch(p.name))
    return names[0] if len(names) == 1 else None


_NAME = plotly_chunk()

# import() from the URL Streamlit's own index script resolves its chunks against: the same module
# record, so Plotly is evaluated once.  A constant script: nothing from the link or the session.
SCRIPT = ("<script>(() => {{ const s = document.querySelector("
          "'script[type=\"module\"][src*=\"/static/js/index.\"]'); "
          "if (s) import(new URL('{name}', s.src).href).catch(() => {{}}); }})();</script>")


def preload_plotly() -> None:
    """Have the browser start loading Plotly now: an invisible element (its container is
    hidden), sent on every run — were it left out of later runs, every element after it would
    move up one place in Streamlit's element tree and be built and drawn afresh.  Once Plotly is
    loaded, the import does nothing."""
    if _NAME is None:
        return
    with st.container(key="kl_preload"):
        # the container and the layout wrapper around it (else its 1rem gap shows)
        st.html("<style>.st-key-kl_preload, [data-testid=\"stLayoutWrapper\"]:has("
                "> .st-key-kl_preload) { display: none !important; }</style>")
        st.html(SCRIPT.format(name=_NAME), unsafe_allow_javascript=True)
