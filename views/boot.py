"""What a session's first run sends before anything else: a request for the browser code of the
first page's elements, Plotly's above all.

Streamlit's browser code loads the code of each kind of element (Plotly: a 4.7 MB chunk, ~0.4–0.8 s
to compile and evaluate; a select box, a number input, a slider, a metric, KaTeX: a few kB each,
but one request after another) only when the first element of that kind arrives.  Plotly's
evaluation then blocks the browser's main thread while the run's elements arrive, so the small
chunks were only asked for after it, and the page waited for them (benchmarks/bench_app.py shows
the breakdown).  Asking for all of them at the start of the first run lets the browser load them
while the server computes: Plotly first (the long download), then the small ones, which arrive and
are evaluated before Plotly's evaluation starts.  Only streamlit is imported here, so that this
goes out before numpy, plotly and the app's own modules are imported.
"""

from __future__ import annotations

import re
from pathlib import Path

import streamlit as st

_CHUNK = re.compile(r"[A-Za-z-]+\.[A-Za-z0-9_-]+\.js")

# Streamlit's lazily loaded chunks that the main page needs for its first view, Plotly first:
# charts (and their full-screen frame), select boxes, number inputs, radios, the toggle, metrics,
# sliders, the download button, and KaTeX for st.latex.  Their dependencies follow by import.
FIRST_VIEW = ("PlotlyChart", "withFullScreenWrapper", "Selectbox", "NumberInput", "Radio",
              "Checkbox", "Metric", "Slider", "DownloadButton", "rehype-katex")


def chunk(name: str) -> str | None:
    """File name of the installed Streamlit's chunk ``name`` (``<name>.<hash>.js``), or None if
    this Streamlit has none or several (then it is not preloaded and loads as before)."""
    folder = Path(st.__file__).parent / "static" / "static" / "js"
    names = sorted(p.name for p in folder.glob(f"{name}.*.js")
                   if _CHUNK.fullmatch(p.name) and p.name.split(".")[0] == name)
    return names[0] if len(names) == 1 else None


def plotly_chunk() -> str | None:
    """File name of the installed Streamlit's Plotly chunk (``PlotlyChart.<hash>.js``)."""
    return chunk("PlotlyChart")


_NAMES = [n for n in map(chunk, FIRST_VIEW) if n is not None]

# import() from the URL Streamlit's own index script resolves its chunks against: the same module
# records, so each chunk is evaluated once.  A constant script: nothing from the link or the
# session (the names are the installed files', checked against _CHUNK).
SCRIPT = ("<script>(() => {{ const s = document.querySelector("
          "'script[type=\"module\"][src*=\"/static/js/index.\"]'); "
          "if (s) for (const n of [{names}]) import(new URL(n, s.src).href).catch(() => {{}}); "
          "}})();</script>")


def preload_plotly() -> None:
    """Have the browser start loading Plotly and the first view's other chunks now: an invisible
    element (its container is hidden), sent on every run — were it left out of later runs,
    every element after it would move up one place in Streamlit's element tree and be built and
    drawn afresh.  Once a chunk is loaded, its import does nothing."""
    if plotly_chunk() is None:
        return
    with st.container(key="kl_preload"):
        # the container and the layout wrapper around it (else its 1rem gap shows)
        st.html("<style>.st-key-kl_preload, [data-testid=\"stLayoutWrapper\"]:has("
                "> .st-key-kl_preload) { display: none !important; }</style>")
        st.html(SCRIPT.format(names=", ".join(f"'{n}'" for n in _NAMES)),
                unsafe_allow_javascript=True)
