"""How every page draws its charts: Plotly's config, float32 arrays where nothing visible changes
(or short lists, for a chart drawn without Streamlit's theme), the figure cache, and the
side-by-side / stacked pair that reads at any width (a phone gets only the stacked one)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from explorer.presets import mixture
from views.common import shared_cache

NARROW_MAX_PX = 640  # Streamlit stacks st.columns at ≤ 640 px wide; the charts stack there too
MODE_BAR_DROP = ["select2d", "lasso2d", "zoomIn2d", "zoomOut2d", "autoScale2d"]


def plot_config(filename: str) -> dict:
    """Plotly config: a short mode bar (shown on hover, over the title margin, never over the
    legend, which sits below the plot) and a PNG download named ``filename``."""
    return {"displaylogo": False, "modeBarButtonsToRemove": MODE_BAR_DROP,
            "toImageButtonOptions": {"format": "png", "filename": filename, "scale": 2}}


def wide_or_narrow(key: str, where=None) -> None:
    """CSS that shows the element keyed ``key`` on screens wider than 640 px and the one keyed
    ``key + "_stacked"`` at ≤ 640 px (where Streamlit stacks its columns)."""
    (where or st).html(f"<style>@media (max-width: {NARROW_MAX_PX}px) {{ .st-key-{key} "
                       f"{{ display: none !important; }} }} @media (min-width: "
                       f"{NARROW_MAX_PX + 1}px) {{ .st-key-{key}_stacked "
                       "{ display: none !important; } }</style>")


def _float32_or_same(a):
    """``a`` as float32 where that changes nothing a chart shows, else ``a``: every value within
    1e-6 relative (so nothing over- or underflows: a density 1e-300 does not become a 0, which
    a log axis would drop), and on a sorted grid errors under 1% of its finest step (steps
    under 1e-9 of the span, where two grids merged, aside), so that a narrow spike far from 0
    stays resolved when zoomed into."""
    if not isinstance(a, np.ndarray) or a.dtype != np.float64 or a.size < 16:
        return a
    b = a.astype(np.float32)
    finite = np.isfinite(a)
    with np.errstate(over="ignore", invalid="ignore"):
        err = np.abs(b.astype(np.float64) - a)
        if not (np.array_equal(finite, np.isfinite(b))
                and np.all(err[finite] <= 1e-6 * np.abs(a[finite]))):
            return a
    if a.ndim == 1 and np.all(finite) and np.all(np.diff(a) >= 0):  # a grid
        steps = np.diff(a)
        steps = steps[steps > 1e-9 * (a[-1] - a[0])]
        if steps.size and err.max() > 1e-2 * steps.min():
            return a
    return b


def compact(fig):
    """The figure with its trace arrays in float32 where nothing visible changes
    (:func:`_float32_or_same`): half the bytes to encode, send and decode for every chart."""
    for trace in fig.data:
        for name in ("x", "y", "z"):
            if name in trace:
                value = trace[name]
                small = _float32_or_same(value)
                if small is not value:
                    trace[name] = small
    return fig


def _short_list(a: np.ndarray, digits: int) -> list:
    """``a`` as nested lists of its values rounded to ``digits`` significant digits, whose JSON
    is short; a value the rounding cannot scale (under ~1e-290, or not finite) as it is, and a
    sorted grid that rounding would make repeat a value (finer rows merged into it) in full."""
    a = np.asarray(a, dtype=np.float64)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        scale = 10.0 ** (digits - 1 - np.floor(np.log10(np.abs(a))))
        out = np.round(a * scale) / scale
    out = np.where(np.isfinite(out), out, a)
    if a.ndim == 1 and a.size > 1 and np.all(np.diff(a) > 0) and np.any(np.diff(out) <= 0):
        out = a
    return out.tolist()


def plain_chart(fig, digits: int = 6):
    """``fig``, changed in place, for ``st.plotly_chart(..., theme=None)`` drawn once: Streamlit
    copies a chart's figure after mounting it (applying its theme, if any) and Plotly redraws
    whatever the copy changed — with the theme, everything.  So the figure carries its own look
    and everything else about the copy must look unchanged to Plotly: no template and no
    ``meta`` (compared by identity), every array a JSON list (Plotly's binary arrays are not
    lists, and count as changed) of ``digits`` significant digits, and a constant
    ``datarevision``, so that Plotly does not compare the lists.  Safe: Streamlit mounts a new
    chart for a figure with new content (the element's id hashes the figure)."""
    for trace in fig.data:
        for name in ("x", "y", "z"):
            if name in trace and isinstance(trace[name], np.ndarray):
                trace[name] = _short_list(trace[name], digits)
    fig.layout.meta = None
    fig.layout.template = None
    fig.layout.datarevision = 1
    return fig


@shared_cache(64)
def cached_figure(build, key: tuple, *args, **kwargs):
    """``build(p, *args, **kwargs)`` for the target p of cache key ``key``, compacted, built
    once for every session and rerun that asks for the same figure (~0.1 MB each: at most
    ~7 MB when full).  ``build`` must be a
    module-level function (a page script's own functions are new objects on every run) and
    the arguments hashable (Normals, tuples).  Nothing mutates a figure after it is built;
    Streamlit only serialises it."""
    return compact(build(mixture(key), *args, **kwargs))


def on_phone() -> bool:
    """Whether the visitor's browser says it is a phone: "Mobi" in its User-Agent (what phone
    browsers send) or the client hint Sec-CH-UA-Mobile: ?1.  False where unknown (AppTest)."""
    try:
        headers = st.context.headers
        return (headers.get("Sec-CH-UA-Mobile") == "?1"
                or "Mobi" in (headers.get("User-Agent") or ""))
    except Exception:  # no browser session behind this run
        return False


def show_chart(build, key: str, filename: str, where=None) -> None:
    """A multi-panel figure that reads at any width: ``build(stacked)`` is drawn side by side
    (key ``key``) on screens wider than 640 px and stacked (key ``key + "_stacked"``) at
    ≤ 640 px, where Streamlit stacks its columns; a CSS media query shows one of the two.  The
    server cannot know the width, so both are sent (each ≤ 2000 points a trace) — except to a
    phone, which gets the stacked one only (readable at any width): a phone then builds, sends
    and draws half the charts (a chart's first drawing is most of a first view's browser time,
    benchmarks/bench_app.py --phone)."""
    where = where or st
    if on_phone():
        where.plotly_chart(compact(build(True)), key=f"{key}_stacked",
                           config=plot_config(filename))
        return
    wide_or_narrow(key, where)
    where.plotly_chart(compact(build(False)), key=key, config=plot_config(filename))
    where.plotly_chart(compact(build(True)), key=f"{key}_stacked", config=plot_config(filename))
