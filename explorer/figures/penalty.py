"""Penalty page: the KL integrands of both fits, with the area under each beside its KL."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from explorer import style
from explorer.distributions import Normal
from explorer.divergences import kl_divergence, why_infinite
from explorer.figures.base import _check_unit, _finish, _nice_ticks, _note, at, panel_grid
from explorer.figures.text import _wrap, fmt
from explorer.grid import MAX_POINTS, x_grid
from explorer.pointwise import AREA_SCALES, integrand_area, kl_integrand

POSITIVE = style.ACCENT  # integrand > 0: adds to the KL
NEGATIVE = style.SKY  # integrand < 0: takes away from it
# Relative mismatch between area and KL above which the penalty panel says where the rest is.
AREA_NOTE = 1e-3


def _area_text(a, b, factor: float, unit: str) -> str:
    """"area = … ≈ KL = …", or where the rest of the KL lies when the two differ."""
    area = integrand_area(a, b) * factor
    kl = kl_divergence(a, b, unit)
    if math.isinf(kl):
        return (f"area on ±{AREA_SCALES:g} scales = {fmt(area)}, but KL = ∞ {unit}:"
                "<br>the tails keep adding to it without end")
    text = f"area = {fmt(area)} ≈ KL = {fmt(kl, unit)}"
    if abs(area - kl) > AREA_NOTE * max(abs(kl), 1e-300):
        text += (f"<br>(the other {fmt(kl - area, unit)} lies in the tails,"
                 f"<br>beyond ±{AREA_SCALES:g} scales of every component)")
    return text


def penalty_figure(p, q_forward: Normal | None, q_reverse: Normal | None, unit: str = "nats",
                   *, reason: str | None = None, reverse_reason: str | None = None,
                   stacked: bool = False) -> go.Figure:
    """The integrands of both fits, side by side (or ``stacked``).

    Panel 1: p·log(p/q_f), the integrand of KL(p‖q_forward); panel 2: q·log(q/p), the integrand
    of KL(q_reverse‖p).  Each shades the positive part (adds to the KL) and the negative part
    (takes away) in two colours, draws p and q as thin lines on a secondary density axis, and
    states "area = … ≈ KL = …" (the area by :func:`explorer.pointwise.integrand_area`) under its
    title, outside the data.  A fit that is None is replaced by a note: ``reason`` for the
    forward panel (default: why no Gaussian has a finite KL(p‖q)), ``reverse_reason`` for the
    reverse one.
    """
    factor = _check_unit(unit)
    panels = [(1, q_forward, "forward", style.FORWARD, reason),
              (2, q_reverse, "reverse", style.REVERSE, reverse_reason)]
    subs = [_area_text(*((p, q) if d == "forward" else (q, p)), factor, unit)
            if q is not None else "" for _, q, d, _, _ in panels]
    lines = 1 + max(t.count("<br>") + 1 if t else 0 for t in subs)
    titles = [f"{t}<br><span style='font-size:12px'>{sub}</span>" if sub else t
              for t, sub in zip(("Forward KL(p‖q) integrand p·log(p/q)",
                                 "Reverse KL(q‖p) integrand q·log(q/p)"), subs, strict=True)]
    fig = panel_grid(2, stacked, titles, h_spacing=0.17, title_lines=lines,
                     specs=[[{"secondary_y": True}, {"secondary_y": True}]])
    for col, q, direction, colour, why in panels:
        pos = at(stacked, col)
        x = x_grid(p, *([q] if q is not None else []), n=MAX_POINTS)
        dens_top = float(np.max(p.pdf(x)))
        fig.add_trace(go.Scatter(x=x, y=p.pdf(x), name="p (target density)", mode="lines",
                                 line={"color": style.TARGET, "width": 1.6},
                                 legendgroup="p", showlegend=col == 1,
                                 hovertemplate="p(x) = %{y:.4g}<extra></extra>"),
                      **pos, secondary_y=True)
        if q is None:
            if why is None:
                why = (why_infinite(p, Normal(0.0, 1.0)) if direction == "forward" else None) \
                    or f"No {direction} fit to show."
            # p fills the lower half; the note sits in the empty upper half
            _note(fig, _wrap(why, 34), col, y=0.76, stacked=stacked)
            fig.update_yaxes(range=[0.0, 2.2 * dens_top], tickvals=_nice_ticks(1.1 * dens_top),
                             **pos, secondary_y=True)
            fig.update_yaxes(visible=False, **pos, secondary_y=False)
            continue
        a, b = (p, q) if direction == "forward" else (q, p)
        y = kl_integrand(a, b, x) * factor
        dens_top = max(dens_top, float(np.max(q.pdf(x))))
        # Both axes share their zero.
        top = 1.1 * max(float(y.max()), 1e-300)
        bottom = min(1.1 * float(y.min()), -0.04 * top)
        fig.update_yaxes(range=[bottom, top], **pos, secondary_y=False)
        fig.update_yaxes(range=[bottom / top * 1.1 * dens_top, 1.1 * dens_top], **pos,
                         secondary_y=True, tickvals=_nice_ticks(1.1 * dens_top))
        fig.add_trace(go.Scatter(x=x, y=q.pdf(x), name=f"q ({direction} fit)", mode="lines",
                                 line={"color": colour, "width": 2.2, "dash": "dash"},
                                 hovertemplate="q(x) = %{y:.4g}<extra></extra>"),
                      **pos, secondary_y=True)
        for part, sign, name, c in [(np.maximum(y, 0.0), "+", "integrand > 0 (adds to KL)",
                                     POSITIVE),
                                    (np.minimum(y, 0.0), "−", "integrand < 0 (reduces KL)",
                                     NEGATIVE)]:
            fig.add_trace(go.Scatter(x=x, y=part, name=name, mode="lines", fill="tozeroy",
                                     line={"color": c, "width": 1.5},
                                     fillcolor=style.rgba(c, 0.45), legendgroup=sign,
                                     showlegend=col == 1 or q_forward is None,
                                     hovertemplate=f"integrand {sign}: %{{y:.4g}} {unit}"
                                                   "<extra></extra>"),
                          **pos, secondary_y=False)
    for col, q, *_ in panels:
        pos = at(stacked, col)
        fig.update_xaxes(title_text="x", **pos)
        if q is not None:
            fig.update_yaxes(title_text=f"integrand ({unit} per x)", **pos, secondary_y=False)
        fig.update_yaxes(title_text="density", **pos, secondary_y=True,
                         showgrid=q is None, zeroline=False)
    return _finish(fig, height=400, stacked=stacked, title_lines=lines, hovermode="x unified",
                   margin={"r": 60})
