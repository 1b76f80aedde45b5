"""The main page's figures: the two fits side by side, and the manual q with the optima in the
(μ, σ) plane.  Densities are drawn on :func:`explorer.grid.x_grid` (≤ 2000 points a trace) over a
range that holds p and every q drawn, so nothing is clipped."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from explorer import style
from explorer.distributions import Normal, as_mixture
from explorer.figures.base import Panels, finish
from explorer.figures.text import fmt_kl, fmt_mu_sigma, forward_infinite, safe_kl
from explorer.grid import x_grid, x_range

FORWARD_TITLE = "Forward KL(p‖q): mass-covering"
# Left margin (px) that holds a density axis's tick labels and its title at the theme's standoff
# for most targets (the presets and others, linear and log, wide and stacked): with a narrower one,
# Plotly's automargin widens it after a first layout and lays out and draws the whole chart again
# — about 40% of a chart's drawing time in the browser.  Wider labels (e.g. a density of 0.004)
# still get room, at that cost: automargin stays on.
LEFT_PX = {False: 82, True: 84}  # by log_density
REVERSE_TITLE = "Reverse KL(q‖p): mode-seeking"


def _grid(p, qs: Sequence[Normal], n: int = 500) -> np.ndarray:
    return x_grid(p, *qs, n=n)


def _density_dicts(p, x, show_legend: bool) -> list[dict]:
    """p filled, and (for a mixture) its weighted components as faint dotted lines."""
    pm = as_mixture(p)
    active = [(w, c) for w, c in zip(pm.weights, pm.components, strict=True) if w > 0]
    out = []
    if len(active) > 1:
        for k, (w, c) in enumerate(active):
            out.append({"type": "scatter",
                        "x": x, "y": w * c.pdf(x), "mode": "lines", "name": "components of p",
                        "legendgroup": "components", "showlegend": show_legend and k == 0,
                        "line": {"color": style.rgba(style.TARGET, 0.55), "width": 1.2,
                                 "dash": "dot"},
                        "hoverinfo": "skip"})
    out.append({"type": "scatter",
                "x": x, "y": pm.pdf(x), "mode": "lines", "name": "target p", "legendgroup": "p",
                "showlegend": show_legend, "fill": "tozeroy",
                "fillcolor": style.rgba(style.TARGET, 0.22),
                "line": {"color": style.TARGET, "width": 2},
                "hovertemplate": "p(x) = %{y:.4g}<extra></extra>"})
    return out


def _density_traces(pn: Panels, p, x, i: int, show_legend: bool) -> None:
    for trace in _density_dicts(p, x, show_legend):
        pn.add(trace, i)


def _q_trace(q: Normal, x, name: str, colour: str, *, dash: str | None = None,
             width: float = 3.0, opacity: float = 1.0, show_legend: bool = True,
             group: str | None = None) -> dict:
    return {"type": "scatter",
            "x": x, "y": q.pdf(x), "mode": "lines", "name": name, "legendgroup": group or name,
            "showlegend": show_legend, "opacity": opacity,
            "line": {"color": colour, "width": width, "dash": dash},
            "hovertemplate": f"{name}: %{{y:.4g}}<extra></extra>"}


def fit_summary(p, q: Normal, unit: str = "nats") -> str:
    """μ, σ and both KLs of one fit, as the lines of a figure annotation."""
    mu, sigma = fmt_mu_sigma(q)
    return (f"μ = {mu}, σ = {sigma}<br>"
            f"KL(p‖q) = {fmt_kl(safe_kl(p, q), unit)}<br>"
            f"KL(q‖p) = {fmt_kl(safe_kl(q, p), unit)}")


def _note_props(text: str, xref: str, yref: str, *, x=0.99, y=0.97, xanchor="right") -> dict:
    """A note in the top corner of a panel (``xref``/``yref``: its axes' domains)."""
    return {"text": text, "xref": xref, "yref": yref, "x": x, "y": y, "xanchor": xanchor,
            "yanchor": "top", "showarrow": False, "align": "left",
            "bgcolor": "rgba(128,128,128,0.14)", "borderpad": 6, "font": {"size": 13}}


def _note(pn: Panels, text: str, i: int, **where) -> None:
    xr, yr = pn._axes(i)
    pn.annotate(**_note_props(text, f"{xr} domain", f"{yr} domain", **where))


def _density_range(values, log_density: bool, headroom: float) -> dict:
    """y axis of a density panel: the curves fill the lower part, the notes the top
    ``headroom`` (a fraction of the axis).  Log: six decades below the highest density."""
    top = max(float(np.max(v)) for v in values)
    if log_density:
        hi = math.log10(top)
        lo = hi - 6.0
        return {"type": "log", "range": [lo, hi + (hi - lo) * headroom / (1 - headroom)],
                "exponentformat": "power"}
    return {"range": [0.0, top / (1 - headroom)]}


def _density_axis(pn: Panels, values, log_density: bool, headroom: float, i: int) -> None:
    pn.yaxis(i, **_density_range(values, log_density, headroom))


def _fixed_margins(log_density: bool) -> dict:
    """finish()'s margin keywords for ``fixed_margins``: room on the left for the density axis."""
    return {"l": LEFT_PX[log_density]}


def fits_figure(p, q_forward: Normal | None, q_reverse: Normal,
                other_optima: Sequence[Normal] = (), *, unit: str = "nats",
                forward_reason: str | None = None, height: int = 360,
                stacked: bool = False, log_density: bool = False,
                fixed_margins: bool = False) -> go.Figure:
    """Two panels side by side (or ``stacked``): p with its forward-KL fit and with its
    reverse-KL fit, the other reverse-KL optima faint, each panel annotated with μ, σ and both
    KLs of its fit in headroom above the curves (never over them).  ``log_density`` draws the
    densities on a log axis (six decades), where a wide and a narrow component both show.

    ``q_forward`` is None where no Gaussian has finite KL(p‖q); ``forward_reason`` says why.
    ``fixed_margins``: margins that Plotly need not grow (:data:`LEFT_PX`), so that the browser
    draws the chart once (the app's charts; the default keeps Plotly's automatic margins).
    """
    qs = [q for q in (q_forward, q_reverse, *other_optima) if q is not None]
    x = _grid(p, qs)
    pn = Panels(2, stacked, (FORWARD_TITLE, REVERSE_TITLE), h_spacing=0.05,
                shared_xaxes=True, shared_yaxes=not stacked)
    _density_traces(pn, p, x, 1, show_legend=True)
    _density_traces(pn, p, x, 2, show_legend=False)
    if q_forward is not None:
        pn.add(_q_trace(q_forward, x, "forward fit q", style.FORWARD), 1)
        _note(pn, fit_summary(p, q_forward, unit), 1)
    else:
        _note(pn, ("No forward fit: KL(p‖q) = ∞<br>for every Gaussian q"
                   + ("<br>(p's variance is infinite)" if forward_reason else ""))
              if forward_infinite(p)
              else "No certified forward fit:<br>the optimum lies outside<br>the allowed σ, μ",
              1, x=0.01, y=0.97, xanchor="left")
    for k, q in enumerate(other_optima):
        pn.add(_q_trace(q, x, "other reverse optima", style.REVERSE, dash="dash", width=2.0,
                        opacity=0.45, show_legend=k == 0, group="others"), 2)
    pn.add(_q_trace(q_reverse, x, "reverse fit q", style.REVERSE), 2)
    _note(pn, fit_summary(p, q_reverse, unit), 2)
    # the notes (3 lines) take the top 30% of each panel; the curves stay below them
    curves = [as_mixture(p).pdf(x), *(q.pdf(x) for q in qs)]
    for i in (1, 2):
        _density_axis(pn, curves, log_density, 0.3, i)
    pn.xaxis(title={"text": "x"})
    label = "density (log scale)" if log_density else "density"
    pn.yaxis(1, title={"text": label})
    if stacked:
        pn.yaxis(2, title={"text": label})
        pn.xaxis(showticklabels=True)
    if fixed_margins:
        return finish(pn, height=height, margin=_fixed_margins(log_density))
    return finish(pn, height=height, margin={"l": 60})


def manual_figure(p, q_manual: Normal, q_forward: Normal | None, q_reverse: Normal,
                  other_optima: Sequence[Normal] = (), *, height: int = 340,
                  stacked: bool = False, log_density: bool = False,
                  fixed_margins: bool = False) -> go.Figure:
    """Panel 1: p, the user's q and both optimal fits (dashed).  Panel 2: the (μ, σ) plane with
    the forward optimum, every reverse optimum and the user's q marked.  Side by side, or
    ``stacked``; ``log_density`` puts panel 1's densities on a log axis; ``fixed_margins`` as
    for :func:`fits_figure`."""
    fits = [q for q in (q_forward, q_reverse) if q is not None]
    x = _grid(p, [q_manual, *fits])
    pn = Panels(2, stacked, ("p and your q", "where the optima are (μ, σ)"),
                widths=[0.68, 0.32], h_spacing=0.1)
    _density_traces(pn, p, x, 1, show_legend=True)
    if q_forward is not None:
        pn.add(_q_trace(q_forward, x, "forward optimum", style.FORWARD, dash="dash", width=2), 1)
    pn.add(_q_trace(q_reverse, x, "reverse optimum", style.REVERSE, dash="dash", width=2), 1)
    pn.add(_q_trace(q_manual, x, "your q", style.MANUAL, width=3.5), 1)
    # parameter plane
    if q_forward is not None:
        pn.add({"type": "scatter", "x": [q_forward.mean], "y": [q_forward.std],
                "mode": "markers", "name": "forward optimum", "legendgroup": "forward optimum",
                "showlegend": False,
                "marker": {"symbol": "star", "size": 16, "color": style.FORWARD},
                "hovertemplate": "forward optimum<br>μ=%{x:.4g}, σ=%{y:.4g}<extra></extra>"}, 2)
    opt = [q_reverse, *[q for q in other_optima if q != q_reverse]]
    pn.add({"type": "scatter", "x": [q.mean for q in opt], "y": [q.std for q in opt],
            "mode": "markers", "name": "reverse optima", "legendgroup": "reverse optimum",
            "showlegend": False,
            "marker": {"symbol": "diamond", "size": 13, "color": style.REVERSE,
                       "line": {"width": 1, "color": "white"}},
            "hovertemplate": "reverse optimum<br>μ=%{x:.4g}, σ=%{y:.4g}<extra></extra>"}, 2)
    pn.add({"type": "scatter", "x": [q_manual.mean], "y": [q_manual.std], "mode": "markers",
            "name": "your q", "legendgroup": "your q", "showlegend": False,
            "marker": {"symbol": "circle", "size": 12, "color": style.MANUAL},
            "hovertemplate": "your q<br>μ=%{x:.4g}, σ=%{y:.4g}<extra></extra>"}, 2)
    pn.xaxis(1, title={"text": "x"})
    # The (μ, σ) plane spans p's drawing range and the σ's shown (with room), so optima that
    # coincide up to rounding (μ = ±1e-17) do not blow the axis up into noise.
    lo, hi = x_range(p)
    sds = [q.std for q in (q_manual, *fits, *other_optima)]
    pn.xaxis(2, title={"text": "μ"}, range=[lo, hi])
    pn.yaxis(1, title={"text": "density"})
    e_lo, e_hi = math.log10(min(sds)) - 0.3, math.log10(max(sds)) + 0.3
    pn.yaxis(2, title={"text": "σ (log scale)"}, type="log", range=[e_lo, e_hi],
             **style.log_ticks(10**e_lo, 10**e_hi))
    curves = [as_mixture(p).pdf(x), *(q.pdf(x) for q in (q_manual, *fits))]
    _density_axis(pn, curves, log_density, 0.05, 1)
    if log_density:
        pn.yaxis(1, title={"text": "density (log scale)"})
    if fixed_margins:
        return finish(pn, height=height, margin=_fixed_margins(log_density), hovermode="closest")
    return finish(pn, height=height, hovermode="closest")
