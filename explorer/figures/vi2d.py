"""The /vi-2d page's figures: forward and reverse fits as 1σ/2σ ellipses over p's filled contours,
and the ELBO decomposition log Z = ELBO + KL(q‖p) as stacked bars."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from explorer import style
from explorer.figures.base import Panels, _merge, finish, legend_below
from explorer.mvnormal import MvNormal

GRID_N = 120  # contour grid of p, per axis


def ellipse(q: MvNormal, k: float, n: int = 121) -> tuple[np.ndarray, np.ndarray]:
    """The k-σ contour of a 2-D Gaussian (x, y arrays, closed)."""
    t = np.linspace(0.0, 2.0 * math.pi, n)
    pts = q.mu[:, None] + k * q.chol @ np.vstack([np.cos(t), np.sin(t)])
    return pts[0], pts[1]


def view_box(p) -> tuple[tuple[float, float], tuple[float, float]]:
    """A square-ish box around every component's 3-σ ellipse."""
    lo = np.min([c.mu - 3.2 * c.sds for c in p.components], axis=0)
    hi = np.max([c.mu + 3.2 * c.sds for c in p.components], axis=0)
    return (float(lo[0]), float(hi[0])), (float(lo[1]), float(hi[1]))


def _gaussian_traces(pn: Panels, q: MvNormal, colour: str, name: str, dash: str, i: int,
                     legend: bool, width: float = 2.5):
    for k in (1.0, 2.0):
        x, y = ellipse(q, k)
        pn.add({"type": "scatter", "x": x, "y": y, "mode": "lines", "name": name,
                "line": {"color": colour, "dash": dash,
                         "width": width if k == 1 else width * 0.6},
                "legendgroup": name, "showlegend": legend and k == 1,
                "hovertemplate": f"{name}<extra>{k:g}σ</extra>"}, i)
    pn.add({"type": "scatter", "x": [q.mean[0]], "y": [q.mean[1]], "mode": "markers",
            "name": name, "marker": {"color": colour, "size": 8, "symbol": "x"},
            "legendgroup": name, "showlegend": False, "hoverinfo": "skip"}, i)


def density_grid(p, n: int = GRID_N) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(xs, ys, density) of p on an n×n grid over :func:`view_box` — the contour background,
    one evaluation per target (the page caches it; both panels and layouts share it)."""
    (x0, x1), (y0, y1) = view_box(p)
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    gx, gy = np.meshgrid(xs, ys)
    return xs, ys, p.pdf(np.stack([gx, gy], axis=-1))


def vi2d_figure(p, forward: dict, reverse: dict, family: str, optima=(), titles=("", ""),
                stacked: bool = False, grid=None) -> go.Figure:
    """Two panels over p's filled contours: forward (left) and reverse (right) fits;
    ``forward``/``reverse`` map family ("full"/"diagonal") to the fitted MvNormal (or None).
    The chosen ``family`` is drawn solid, the other dashed; every reverse local optimum of the
    chosen family (``optima``) is drawn thin.  ``grid``: p's :func:`density_grid`, if the
    caller has it already."""
    xs, ys, dens = density_grid(p) if grid is None else grid
    (x0, x1), (y0, y1) = (float(xs[0]), float(xs[-1])), (float(ys[0]), float(ys[-1]))
    pn = Panels(2, stacked, list(titles), h_spacing=0.08, panel_px=380)
    other = "diagonal" if family == "full" else "full"
    names = {"full": "full-covariance q", "diagonal": "mean-field q"}
    for i, (fits, colour) in enumerate(((forward, style.FORWARD), (reverse, style.REVERSE)),
                                       start=1):
        pn.add({"type": "contour", "x": xs, "y": ys, "z": dens, "ncontours": 14,
                "showscale": False,
                "colorscale": [[0, "rgba(0,114,178,0)"], [1, style.rgba(style.TARGET, 0.85)]],
                "line": {"width": 0.5, "color": style.rgba(style.TARGET, 0.6)},
                "name": "target p", "showlegend": i == 1,
                "hovertemplate": "p = %{z:.3g}<extra></extra>"}, i)
        if i == 2:
            for o in optima[1:]:
                _gaussian_traces(pn, o, style.OTHER, "other reverse optima", "dot", i,
                                 legend=o is optima[1], width=1.5)
        if fits.get(other) is not None:
            side = "forward" if i == 1 else "reverse"
            _gaussian_traces(pn, fits[other], colour, f"{side}, {names[other]} (dashed)",
                             "dash", i, legend=True, width=1.5)
        if fits.get(family) is not None:
            label = ("forward" if i == 1 else "reverse") + f" fit, {names[family]}"
            _gaussian_traces(pn, fits[family], colour, label, "solid", i, legend=True)
        pn.xaxis(i, range=[x0, x1], title={"text": "x"})
        pn.yaxis(i, range=[y0, y1], title={"text": "y"})
    return finish(pn, height=420, hovermode="closest")


def elbo_figure(rows: list[tuple[str, float, float]], log_z: float, unit: str = "nats"):
    """Stacked bars, one per q: ELBO and KL(q‖p) adding up to log Z (a dashed line)."""
    names = [r[0] for r in rows]
    grid = {"gridcolor": style.GRID, "zerolinecolor": style.GRID}
    data = [
        {"type": "bar", "x": names, "y": [r[1] for r in rows], "name": "ELBO(q)",
         "marker": {"color": style.SKY}, "hovertemplate": "ELBO = %{y:.6g}<extra></extra>"},
        {"type": "bar", "x": names, "y": [r[2] for r in rows], "name": "KL(q‖p)",
         "marker": {"color": style.REVERSE},
         "hovertemplate": "KL(q‖p) = %{y:.6g}<extra></extra>"},
        # the log Z line is named in the legend, not by an annotation, which sat on the
        # right-hand bar at phone width; grey reads on light and dark backgrounds
        {"type": "scatter", "x": [None], "y": [None], "mode": "lines",
         "name": f"log Z = {log_z:g}",
         "line": {"color": style.OTHER, "dash": "dash", "width": 2}}]
    layout = _merge({}, style.base_layout(barmode="relative", height=380,
                                          legend=legend_below(280)))
    _merge(layout, {
        "shapes": [{"type": "line", "xref": "x domain", "x0": 0, "x1": 1, "yref": "y",
                    "y0": log_z, "y1": log_z,
                    "line": {"color": style.OTHER, "dash": "dash", "width": 2}}],
        "xaxis": grid, "yaxis": {"title": {"text": unit}, **grid}})
    return go.Figure({"data": data, "layout": layout}, _validate=False)
