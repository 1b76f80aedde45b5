"""The /alpha page's figure: p with its D_α fit and every other local optimum (left), and beside
it the sweep over α — μ and σ of every optimum against α, the global one thick, the current α
marked, the two KL ends labelled, and the α where no Gaussian has a finite D_α shaded."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from explorer import style
from explorer.distributions import Normal, as_mixture
from explorer.figures.base import LEGEND_GAP_PX, _finish, at, panel_grid
from explorer.figures.fits import _density_dicts, _density_range, _note_props, _q_trace
from explorer.figures.sweep import add_branches, mark_current, mark_switches, mu_range
from explorer.figures.text import _wrap, fmt_kl, fmt_mu_sigma, fmt_num
from explorer.grid import x_grid

TICK_LINE_PX = 20
ALPHA_TICKS = {-2: "−2", -1: "−1", 0: "0<br>KL(q‖p)", 1: "1<br>KL(p‖q)", 2: "2", 3: "3"}


def alpha_summary(q: Normal, d_alpha: float, kl_pq: float, kl_qp: float, alpha: float,
                  unit: str) -> str:
    mu, sigma = fmt_mu_sigma(q)
    return (f"μ = {mu}, σ = {sigma}<br>D<sub>α</sub> = {fmt_kl(d_alpha, unit)} "
            f"(α = {fmt_num(alpha)})<br>KL(p‖q) = {fmt_kl(kl_pq, unit)}<br>"
            f"KL(q‖p) = {fmt_kl(kl_qp, unit)}")


def no_fit_ranges(values: Sequence[float], finite: Sequence[bool]) -> list[tuple[float, float]]:
    """The runs of α (as [first, last] grid values) where no Gaussian has a finite D_α."""
    out, start = [], None
    for k, ok in enumerate(finite):
        if not ok and start is None:
            start = k
        if start is not None and (ok or k == len(finite) - 1):
            out.append((float(values[start]), float(values[k if not ok else k - 1])))
            start = None
    return out


def alpha_figure(p, fit: Normal | None, others: Sequence[Normal], summary: str | None,
                 sw, alpha: float, no_fit: Sequence[tuple[float, float]] = (),
                 reason: str | None = None, *, height: int = 380,
                 stacked: bool = False) -> go.Figure:
    """Panel 1: p, the best D_α fit ``fit`` and the ``others`` optima (dashed), with the
    ``summary`` note; where ``fit`` is None, the note says ``reason`` instead.  Panels 2 and 3:
    μ and σ of every branch of ``sw`` (a sweep over α) against α."""
    fig = panel_grid(3, stacked, ("p and its D<sub>α</sub> fit", "μ of each optimum vs α",
                                  "σ of each optimum vs α"), widths=[0.42, 0.29, 0.29],
                     h_spacing=0.07)
    one = at(stacked, 1)
    qs = [q for q in (fit, *others) if q is not None]
    x = x_grid(p, *qs, n=500)
    for trace in _density_dicts(p, x, show_legend=True):
        fig.add_trace(trace, **one)
    for i, q in enumerate(others):
        fig.add_trace(_q_trace(q, x, "other local optima", style.REVERSE, dash="dash",
                               width=2.0, opacity=0.5, show_legend=i == 0, group="others"),
                      **one)
    if fit is not None:
        fig.add_trace(_q_trace(fit, x, "D<sub>α</sub> fit q", style.FORWARD), **one)
    xref, yref = ("x domain", "y domain")
    fig.add_annotation(**_note_props(
        summary if fit is not None else "No Gaussian has a finite D<sub>α</sub> at this α:<br>"
        + _wrap(reason or "see below", 44), xref, yref))
    curves = [as_mixture(p).pdf(x), *(q.pdf(x) for q in qs)]
    fig.update_yaxes(**_density_range(curves, False, 0.36), **one)
    fig.update_xaxes(title_text="x", **one)
    fig.update_yaxes(title_text="density", **one)
    lo, hi = float(sw.values[0]), float(sw.values[-1])
    ticks = [t for t in ALPHA_TICKS if lo <= t <= hi]
    for i, what in ((2, "mu"), (3, "sigma")):
        pos = at(stacked, i)
        add_branches(fig, sw, what, pos, show_legend=i == 2)
        mark_switches(fig, sw, pos)
        mark_current(fig, alpha, pos)
        for a, b in no_fit:
            fig.add_vrect(x0=a - 0.05, x1=b + 0.05, fillcolor=style.rgba(style.OTHER, 0.18),
                          line_width=0, **pos)
        fig.update_xaxes(title_text="α", range=[lo - 0.05, hi + 0.05], tickvals=ticks,
                         ticktext=[ALPHA_TICKS[t] for t in ticks], **pos)
    fig.update_yaxes(title_text="σ (log scale)", type="log", **at(stacked, 3))
    fig.update_yaxes(title_text="μ", range=mu_range(sw), **at(stacked, 2))
    fig.add_trace(go.Scatter(x=[alpha], y=[None], mode="lines", name="current α",
                             legendgroup="current", line={"color": style.MANUAL, "width": 2.5},
                             hoverinfo="skip"), **at(stacked, 2))
    if no_fit:
        fig.add_trace(go.Scatter(x=[alpha], y=[None], mode="lines", name="no finite fit",
                                 legendgroup="nofit", line={"color": style.rgba(style.OTHER, 0.5),
                                                            "width": 10},
                                 hoverinfo="skip"), **at(stacked, 2))
    fig = _finish(fig, height=height, stacked=stacked, hovermode="closest")
    # the KL ends' two-line tick labels push the α axes' titles down: the legend moves too
    plot_px = fig.layout.meta["plot_px"]
    fig.update_layout(legend_y=-(LEGEND_GAP_PX + TICK_LINE_PX) / plot_px,
                      margin_b=fig.layout.margin.b + TICK_LINE_PX,
                      height=fig.layout.height + TICK_LINE_PX)
    return fig
