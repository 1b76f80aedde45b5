"""The /vi-2d page's figures: one panel per side — forward or reverse fits as 1σ/2σ ellipses over
p's filled contours — and the ELBO decomposition log Z = ELBO + KL(q‖p) as stacked bars.

The page redraws both panels on every change of the target (Streamlit mounts a new chart), so a
panel is kept to few traces: each Gaussian's two ellipses are one trace, the centres of all of
them one more.  A panel carries its own look (:func:`explorer.style.plain_theme`) and states p's
contour levels (:data:`LEVELS`): the page draws it without Streamlit's theme, which made Plotly
draw every new chart twice, and nothing Plotly would fill in may change between the two."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from explorer import style
from explorer.figures.base import Panels, _merge, finish, legend_below
from explorer.mvnormal import MvNormal

GRID_N = 60  # p's contour grid per axis, uniform; narrow components get finer rows near them
FINE_N = 13  # grid lines across a narrow component's ±3σ
LEVELS = 10  # p's contours at 1/10, 2/10, …, 9/10 of its greatest value on the grid
TITLES = {"forward": "Forward KL(p‖q)", "reverse": "Reverse KL(q‖p)"}
NAMES = {"full": "full-covariance q", "diagonal": "mean-field q"}


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


def _axis_grid(lo: float, hi: float, centres, sds, n: int) -> np.ndarray:
    """``n`` uniform points over [lo, hi], and :data:`FINE_N` more across ±3σ of every
    component narrower than 2 of those steps, which the uniform ones would miss."""
    xs = [np.linspace(lo, hi, n)]
    step = (hi - lo) / (n - 1)
    for m, sd in zip(centres, sds, strict=True):
        if 6.0 * sd < 2.0 * step:
            xs.append(np.clip(m + sd * np.linspace(-3.0, 3.0, FINE_N), lo, hi))
    return np.unique(np.concatenate(xs))


def density_grid(p, n: int = GRID_N) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(xs, ys, density) of p on a grid over :func:`view_box` (:func:`_axis_grid` per axis) —
    the contour background, one evaluation per target (the page caches it; both panels share
    it)."""
    (x0, x1), (y0, y1) = view_box(p)
    mus = np.array([c.mu for c in p.components])
    sds = np.array([c.sds for c in p.components])
    xs = _axis_grid(x0, x1, mus[:, 0], sds[:, 0], n)
    ys = _axis_grid(y0, y1, mus[:, 1], sds[:, 1], n)
    gx, gy = np.meshgrid(xs, ys)
    return xs, ys, p.pdf(np.stack([gx, gy], axis=-1))


def contour_levels(dens: np.ndarray) -> dict:
    """Contour keywords for p's filled contours: :data:`LEVELS` − 1 levels, evenly spaced up to
    the grid's greatest density (a flat or empty grid: Plotly's own choice).  Stated rather than
    left to Plotly, which writes the levels it picks back into the trace: a copy of the figure
    taken before that (Streamlit takes one after mounting a chart) would differ from the drawn
    one, and Plotly would draw it all again."""
    peak = float(np.max(dens)) if dens.size else 0.0
    if not (math.isfinite(peak) and peak > 0.0):
        return {"ncontours": LEVELS}
    step = peak / LEVELS
    return {"autocontour": False,
            "contours": {"start": step, "end": (LEVELS - 0.5) * step, "size": step}}


def _gaussian(pn: Panels, q: MvNormal, colour: str, name: str, dash: str, legend: bool,
              width: float) -> None:
    """q's 1σ and 2σ ellipses as one trace, a gap (None: no NaN in a chart's data) between
    them; coordinates to 1e-4, far below a pixel, as a short JSON list."""
    (x1, y1), (x2, y2) = ellipse(q, 1.0), ellipse(q, 2.0)
    pn.add({"type": "scatter", "x": [*np.round(x1, 4).tolist(), None, *np.round(x2, 4).tolist()],
            "y": [*np.round(y1, 4).tolist(), None, *np.round(y2, 4).tolist()],
            "mode": "lines", "name": name,
            "line": {"color": colour, "dash": dash, "width": width}, "legendgroup": name,
            "showlegend": legend, "hovertemplate": f"{name}: 1σ and 2σ<extra></extra>"}, 1)


def vi2d_figure(p, side: str, fits: dict, family: str, optima=(), grid=None) -> go.Figure:
    """One panel over p's filled contours: the ``side`` ("forward" or "reverse") fits,
    ``fits`` mapping family ("full"/"diagonal") to the fitted MvNormal (or None).  The chosen
    ``family`` is drawn solid, the other dashed; every other reverse local optimum of the
    chosen family (``optima``, the best first) is drawn dotted; an × marks each mean.
    ``grid``: p's :func:`density_grid`, if the caller has it already."""
    if side not in TITLES:
        raise ValueError(f"side must be 'forward' or 'reverse', got {side!r}")
    xs, ys, dens = density_grid(p) if grid is None else grid
    (x0, x1), (y0, y1) = (float(xs[0]), float(xs[-1])), (float(ys[0]), float(ys[-1]))
    # one panel "stacked": the legend gets a row per entry, which fits a column of any width
    pn = Panels(1, True, [TITLES[side]], panel_px=400)
    pn.add({"type": "contour", "x": xs, "y": ys, "z": dens, **contour_levels(dens),
            "showscale": False,
            "colorscale": [[0, "rgba(0,114,178,0)"], [1, style.rgba(style.TARGET, 0.85)]],
            "line": {"width": 0.5, "color": style.rgba(style.TARGET, 0.6)},
            "name": "target p", "showlegend": True,  # a contour's default is no entry
            "hovertemplate": "p = %{z:.3g}<extra></extra>"}, 1)
    colour = style.FORWARD if side == "forward" else style.REVERSE
    other = "diagonal" if family == "full" else "full"
    drawn = []  # (q, colour, name) of every ellipse pair, for the centres
    if side == "reverse":
        for o in optima[1:]:
            _gaussian(pn, o, style.OTHER, "other reverse optima", "dot", o is optima[1], 1.2)
            drawn.append((o, style.OTHER, "another reverse optimum"))
    for fam, dash, width, label in ((other, "dash", 1.4, f"{side}, {NAMES[other]} (dashed)"),
                                    (family, "solid", 2.2, f"{side} fit, {NAMES[family]}")):
        if fits.get(fam) is not None:
            _gaussian(pn, fits[fam], colour, label, dash, True, width)
            drawn.append((fits[fam], colour, f"{side} fit, {NAMES[fam]}"))
    if drawn:
        pn.add({"type": "scatter", "x": [q.mean[0] for q, _, _ in drawn],
                "y": [q.mean[1] for q, _, _ in drawn], "mode": "markers",
                "marker": {"color": [c for _, c, _ in drawn], "size": 8, "symbol": "x"},
                "text": [n for _, _, n in drawn], "name": "means", "showlegend": False,
                "hovertemplate": "%{text}: mean (%{x:.3g}, %{y:.3g})<extra></extra>"}, 1)
    # automargin off: the margins have room for the tick labels and titles, and Plotly's
    # automargin would draw the chart a second time
    _merge(pn.layout, style.plain_theme())
    pn.xaxis(1, range=[x0, x1], title={"text": "x"}, automargin=False)
    pn.yaxis(1, range=[y0, y1], title={"text": "y"}, automargin=False)
    return finish(pn, height=400, hovermode="closest")


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
