"""MLE page: the Gaussian MLE of n samples converging to the forward-KL fit."""

from __future__ import annotations

import math

import plotly.graph_objects as go

from explorer import style
from explorer.distributions import Normal
from explorer.figures.base import _as_normal, _check_unit, _finish, _note, at, panel_grid
from explorer.figures.text import _wrap, fmt
from explorer.grid import MAX_POINTS

SEED_COLOURS = (style.TARGET, style.MANUAL, style.REVERSE, style.SKY, style.ACCENT, style.OTHER)


def mle_figure(results, forward_q: Normal | None, *, cross_entropy: float | None = None,
               unit: str = "nats", stacked: bool = False) -> go.Figure:
    """Fitted μ̂ and σ̂ against n (log axis) for each seed, with the forward-KL fit's μ and σ as
    dashed reference lines.  With ``cross_entropy`` (H(p) + KL(p‖q_f), nats) a third panel shows
    the average NLL converging to it (in ``unit``)."""
    factor = _check_unit(unit)
    forward_q = _as_normal(forward_q)
    cols = 3 if cross_entropy is not None else 2
    titles = ["Fitted mean μ̂", "Fitted std σ̂ (MLE, ddof = 0)"]
    if cols == 3:
        titles.append("Average NLL → H(p) + KL(p‖q_f)")
    fig = panel_grid(cols, stacked, titles, h_spacing=0.09, panel_px=260)
    results = list(results)
    seeds = list(dict.fromkeys(r.seed for r in results))
    ns = sorted({r.n for r in results}) or [10, 100_000]
    for k, seed in enumerate(seeds):
        rs = sorted((r for r in results if r.seed == seed), key=lambda r: r.n)[:MAX_POINTS]
        colour = SEED_COLOURS[k % len(SEED_COLOURS)]
        series = [[r.q.mean for r in rs], [r.q.std for r in rs]]
        if cols == 3:
            series.append([r.avg_nll * factor for r in rs])
        for col, y in enumerate(series, start=1):
            y = [v if math.isfinite(v) else None for v in y]
            fig.add_trace(go.Scatter(x=[r.n for r in rs], y=y, mode="lines+markers",
                                     name=f"seed {seed}", legendgroup=f"seed {seed}",
                                     showlegend=col == 1, line={"color": colour, "width": 1.5},
                                     marker={"size": 6, "color": colour},
                                     hovertemplate="n = %{x}<br>%{y:.4g}<extra>seed "
                                                   f"{seed}</extra>"), **at(stacked, col))
    refs = []
    if forward_q is not None:
        # a mean that is zero up to round-off (symmetric p) is shown as 0, not 2.6e−09
        mean = 0.0 if abs(forward_q.mean) < 1e-9 * forward_q.std else forward_q.mean
        refs = [(1, mean, f"forward-KL fit μ = {fmt(mean)}"),
                (2, forward_q.std, f"forward-KL fit σ = {fmt(forward_q.std)}")]
    if cols == 3:
        refs.append((3, cross_entropy * factor, f"H(p,q_f) = {fmt(cross_entropy * factor)} "
                                                f"{unit}"))
    for col, value, name in refs:
        if not math.isfinite(value):
            continue
        fig.add_trace(go.Scatter(x=[ns[0], ns[-1]], y=[value, value], mode="lines", name=name,
                                 line={"color": style.FORWARD, "dash": "dash", "width": 2.5},
                                 hovertemplate=f"{name}<extra></extra>"), **at(stacked, col))
    if forward_q is None:
        _note(fig, _wrap("No forward-KL fit (p has infinite variance): σ̂ keeps growing "
                         "with n instead of converging.", 30), 2, y=0.8, stacked=stacked)
    for col in range(1, cols + 1):
        fig.update_xaxes(type="log", title_text="sample size n",
                         **style.log_ticks(min(ns), max(ns), (1,)), **at(stacked, col))
    fig.update_yaxes(title_text="μ̂", **at(stacked, 1))
    fig.update_yaxes(title_text="σ̂", **at(stacked, 2))
    if cols == 3:
        fig.update_yaxes(title_text=unit, **at(stacked, 3))
    return _finish(fig, height=380, stacked=stacked, hovermode="closest")

