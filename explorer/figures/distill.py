"""Distillation page: the soft targets with the forward and reverse students, the targets'
entropy against T, and the soft-loss gradient against T with and without the T² factor."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from explorer import style
from explorer.figures.base import _check_unit, _finish, at, panel_grid
from explorer.figures.rlhf import plain
from explorer.figures.text import fmt


def distill_figure(targets, forward, reverse, unit: str = "nats",
                   stacked: bool = False) -> go.Figure:
    """The soft targets (bars) with the forward-KL student and every reverse-KL local optimum
    (lines over the token positions).  ``forward``/``reverse``: lists of (StudentFit,
    Categorical), best first; empty when no minimum was certified."""
    factor = _check_unit(unit)
    labels = [plain(v) for v in targets.labels]
    fig = panel_grid(1, stacked, ["Soft targets and the two students"], panel_px=300)
    fig.add_trace(go.Bar(x=labels, y=list(targets.probs), name="teacher softmax(z/T)",
                         marker_color=style.rgba(style.TARGET, 0.55),
                         hovertemplate="t(%{x}) = %{y:.4g}<extra>teacher</extra>"))
    for fits, colour, what in ((forward, style.FORWARD, "forward KL(t‖s)"),
                               (reverse, style.REVERSE, "reverse KL(s‖t)")):
        for j, (fit, s) in enumerate(fits):
            name = (f"{what} student: μ = {fmt(fit.mu)}, σ = {fmt(fit.sigma)}, "
                    f"KL = {fmt(fit.kl * factor)} {unit}")
            if j:
                name = f"other reverse optimum {j}: μ = {fmt(fit.mu)}, σ = {fmt(fit.sigma)}"
            fig.add_trace(go.Scatter(x=labels, y=list(s.probs), mode="lines+markers", name=name,
                                     line={"color": colour, "width": 3 if j == 0 else 1.5,
                                           "dash": "solid" if j == 0 else "dot"},
                                     marker={"size": 8 if j == 0 else 5},
                                     hovertemplate="s(%{x}) = %{y:.4g}<extra></extra>"))
    fig.update_xaxes(title_text="token (in order)", type="category")  # "0".."9" are names
    fig.update_yaxes(title_text="probability", rangemode="tozero")
    return _finish(fig, height=340, stacked=stacked, hovermode="closest")


def temperature_figure(temperatures, entropy, grad_plain, grad_t2, current: float, k: int,
                       unit: str = "nats", stacked: bool = False) -> go.Figure:
    """Left: H(softmax(z/T)) against T (log axis), log K dashed, the current T marked.  Right:
    ‖∂L_soft/∂v‖ against T without and with the T² factor (both axes log)."""
    factor = _check_unit(unit)
    ts = np.asarray(temperatures, dtype=float)
    fig = panel_grid(2, stacked, ("Entropy of the soft targets", "T² rule: soft-loss gradient"),
                     h_spacing=0.12, panel_px=260)
    h = np.asarray(entropy) * factor
    fig.add_trace(go.Scatter(x=ts, y=h, mode="lines", name="H(softmax(z/T))",
                             line={"color": style.TARGET, "width": 2.5},
                             hovertemplate=f"T = %{{x:.3g}}: H = %{{y:.4g}} {unit}"
                                           "<extra></extra>"), **at(stacked, 1))
    fig.add_trace(go.Scatter(x=[ts[0], ts[-1]], y=[math.log(k) * factor] * 2, mode="lines",
                             name=f"log K = {fmt(math.log(k) * factor)} {unit} (uniform)",
                             line={"color": style.OTHER, "dash": "dash"},
                             hoverinfo="skip"), **at(stacked, 1))
    i = int(np.argmin(np.abs(np.log(ts / current))))
    fig.add_trace(go.Scatter(x=[ts[i]], y=[h[i]], mode="markers", name=f"current T = {current:g}",
                             marker={"size": 13, "color": style.ACCENT},
                             hovertemplate="current T<extra></extra>"), **at(stacked, 1))
    for y, name, colour in ((grad_plain, "‖∂L/∂v‖ (shrinks like 1/T²)", style.FORWARD),
                            (grad_t2, "T²·‖∂L/∂v‖ (what is trained)", style.MANUAL)):
        y = np.asarray(y, dtype=float)
        fig.add_trace(go.Scatter(x=ts, y=[float(v) if v > 0 else None for v in y], mode="lines",
                                 name=name, line={"color": colour, "width": 2.5},
                                 hovertemplate="T = %{x:.3g}: %{y:.3g}<extra></extra>"),
                      **at(stacked, 2))
    logt = style.log_ticks(ts[0], ts[-1])
    for col in (1, 2):
        fig.update_xaxes(type="log", title_text="temperature T", **logt, **at(stacked, col))
    fig.update_yaxes(title_text=unit, rangemode="tozero", **at(stacked, 1))
    fig.update_yaxes(title_text="gradient norm", type="log", exponentformat="power",
                     **at(stacked, 2))
    return _finish(fig, height=300, stacked=stacked, hovermode="closest")
