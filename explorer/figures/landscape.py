"""Landscape page: forward and reverse KL over (μ, log σ), every optimum and the
optimiser's path."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.colors import sequential

from explorer import style
from explorer.distributions import Normal
from explorer.figures.base import Panels, _as_normal, _check_unit, finish, panel_note
from explorer.figures.text import _wrap, fmt_num
from explorer.grid import MAX_POINTS

# Heatmap colours show log10(KL + LOG_FLOOR): basins near KL = 0 stay visible.
LOG_FLOOR = 1e-3
# Plotly's named scale "Viridis", spelt out as its validator would
VIRIDIS = [[i / (len(sequential.Viridis) - 1), c] for i, c in enumerate(sequential.Viridis)]


def landscape_figure(landscape, optima, forward_opt: Normal | None = None,
                     path: list[Normal] | None = None, start: Normal | None = None, *,
                     unit: str = "nats", reason: str | None = None,
                     stacked: bool = False) -> go.Figure:
    """Forward and reverse KL over (μ, log σ), side by side, each with its own colour bar.

    Colour is log10(KL + 0.001) so that basins near 0 stay distinct (colour bar labelled in KL);
    contour lines trace the basins.  ``optima`` (Normals: every reverse local optimum) are marked
    on the reverse panel, ``forward_opt`` on the forward one, and the optimiser ``path`` (reverse
    descent from ``start``) is drawn on the reverse panel.  Fits (:class:`explorer.fitting.Fit`)
    are accepted wherever a Normal is expected.  When forward KL is infinite
    everywhere (heavy tails) the forward panel holds a note (``reason`` or a default) instead.
    """
    factor = _check_unit(unit)
    optima = [_as_normal(o) for o in (optima or [])]
    forward_opt = _as_normal(forward_opt)
    path = [_as_normal(q) for q in (path or [])]
    start = _as_normal(start)
    mu, ls = np.asarray(landscape.mu), np.asarray(landscape.log_sigma)
    pn = Panels(2, stacked, ("Forward KL(p‖q) over q = N(μ, σ²)",
                             "Reverse KL(q‖p) over q = N(μ, σ²)"),
                widths=[0.5, 0.5], h_spacing=0.22, panel_px=300)
    for col, z in ((1, landscape.forward), (2, landscape.reverse)):
        z = np.asarray(z, dtype=float) * factor
        finite = np.isfinite(z)
        if not finite.any():
            text = reason or ("Forward KL(p‖q) is ∞ for every Gaussian q: p has infinite variance "
                              "(a Student-t component with ν ≤ 2), so there is no landscape and "
                              "no forward fit.")
            panel_note(pn, _wrap(text, 34), col, anchor=(float(mu[0]), float(ls[0])))
            continue
        z = np.where(finite, z, float(z[finite].max()))  # never partial; clipped if it were
        axis = "coloraxis" if col == 1 else "coloraxis2"
        # float32 on the wire: half the bytes of a 160 × 160 grid (1.3 -> 0.7 MB per view), and
        # 7 digits is more than the colours and the 4-digit hover show.
        pn.add({"type": "contour",
                "x": mu, "y": ls, "z": np.log10(z + LOG_FLOOR).astype(np.float32),
                "coloraxis": axis, "ncontours": 24,
                "contours": {"coloring": "heatmap", "showlines": True},
                "line": {"color": "rgba(255,255,255,0.35)", "width": 0.6},
                "customdata": z.astype(np.float32),
                "name": "forward KL" if col == 1 else "reverse KL", "showlegend": False,
                "hovertemplate": ("μ = %{x:.3g}<br>log σ = %{y:.3g}<br>KL = %{customdata:.4g} "
                                  f"{unit}<extra></extra>")}, col)
        lo, hi = float(np.log10(z.min() + LOG_FLOOR)), float(np.log10(z.max() + LOG_FLOOR))
        ticks = _kl_ticks(lo, hi)
        # each colour bar beside its own panel, as tall as it: never over the other panel
        (_, x_end), (y0, y1) = pn.domain(col)
        pn.layout[axis] = {
            "colorscale": VIRIDIS, "cmin": lo, "cmax": hi,
            "colorbar": {"title": {"text": f"KL ({unit})", "side": "top"},
                         "tickvals": [math.log10(v + LOG_FLOOR) for v in ticks],
                         "ticktext": [_tick_text(v) for v in ticks], "thickness": 12,
                         "len": (y1 - y0) * 0.9, "lenmode": "fraction", "y": (y0 + y1) / 2,
                         "yanchor": "middle", "x": x_end + 0.01, "xanchor": "left"}}
    if path:
        pts = _thin(path, MAX_POINTS)
        pn.add({"type": "scatter",
                "x": [q.mean for q in pts], "y": [math.log(q.std) for q in pts],
                "mode": "lines+markers", "name": "optimiser path",
                "line": {"color": "white", "width": 2},
                "marker": {"size": 6, "color": "white", "line": {"color": "black", "width": 1}},
                "hovertemplate": "μ = %{x:.3g}<br>log σ = %{y:.3g}<extra>path</extra>"}, 2)
    if start is not None:
        pn.add({"type": "scatter",
                "x": [start.mean], "y": [math.log(start.std)], "mode": "markers",
                "name": "start", "marker": {"symbol": "circle", "size": 13, "color": style.MANUAL,
                                            "line": {"width": 2, "color": "white"}},
                "hovertemplate": f"start {start.label()}<extra></extra>"},
               2)
    marker_line = {"color": "white", "width": 1.5}
    if optima:
        pn.add({"type": "scatter",
                "x": [q.mean for q in optima], "y": [math.log(q.std) for q in optima],
                "mode": "markers", "name": "reverse local optima",
                "marker": {"symbol": "star", "size": 16, "color": style.REVERSE,
                           "line": marker_line},
                "text": [q.label() for q in optima],
                "hovertemplate": "reverse optimum %{text}<extra></extra>"},
               2)
    if forward_opt is not None and np.isfinite(landscape.forward).any():
        pn.add({"type": "scatter",
                "x": [forward_opt.mean], "y": [math.log(forward_opt.std)], "mode": "markers",
                "name": "forward optimum", "marker": {"symbol": "diamond", "size": 14,
                                                      "color": style.FORWARD,
                                                      "line": marker_line},
                "text": [forward_opt.label()],
                "hovertemplate": "forward optimum %{text}<extra></extra>"},
               1)
    sig_ticks = _sigma_ticks(ls)
    for col in (1, 2):
        pn.xaxis(col, title={"text": "μ (mean of q)"}, range=[mu[0], mu[-1]],
                 showgrid=False, zeroline=False)
        # side by side the panels share σ: one axis title, and the gap holds the colour bar
        title = {"title": {"text": "σ (log scale)"}} if stacked or col == 1 else {}
        pn.yaxis(col, **title, range=[ls[0], ls[-1]], tickvals=[math.log(s) for s in sig_ticks],
                 ticktext=[f"{s:g}" for s in sig_ticks], showgrid=False, zeroline=False)
    for trace in pn.data:  # whole markers at the panel edges
        if trace["type"] == "scatter":
            trace["cliponaxis"] = False
    return finish(pn, height=420, hovermode="closest", margin={"r": 70})


def _tick_text(v: float) -> str:
    """A colour-bar tick, short: 0.001, 0.3, 10, 3000, 10⁶ (never "1e+06")."""
    if v < 1e4:
        return f"{v:g}"
    text = fmt_num(v, 2)
    return text.removeprefix("1×") if text.startswith("1×10") else text


def _kl_ticks(lo: float, hi: float) -> list[float]:
    """Colour-bar ticks (KL values) between log10 positions lo and hi: 1-3-10 steps over up to
    three decades, whole decades beyond."""
    steps = (1, 3) if hi - lo <= 3 else (1,)
    vals = [m * 10.0**e for e in range(-4, 8) for m in steps]
    return [v for v in vals if lo <= math.log10(v + LOG_FLOOR) <= hi]


def _thin(path: list, n: int) -> list:
    if len(path) <= n:
        return list(path)
    idx = np.unique(np.linspace(0, len(path) - 1, n).round().astype(int))
    return [path[i] for i in idx]


def _sigma_ticks(log_sigma: np.ndarray) -> list[float]:
    lo, hi = float(log_sigma[0]), float(log_sigma[-1])
    ticks = []
    for e in range(math.floor(lo / math.log(10)) - 1, math.ceil(hi / math.log(10)) + 1):
        for m in (1, 2, 5):
            v = m * 10.0**e
            if lo <= math.log(v) <= hi:
                ticks.append(v)
    return ticks

