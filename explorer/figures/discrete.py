"""Discrete page: P and Q side by side, and each outcome's contribution to both KLs."""

from __future__ import annotations

import math

import plotly.graph_objects as go

from explorer import style
from explorer.divergences import kl_divergence
from explorer.figures.base import _check_unit, _finish, at, panel_grid
from explorer.figures.text import fmt
from explorer.text import as_text


def discrete_figure(P, Q, unit: str = "nats", stacked: bool = False) -> go.Figure:
    """Two categoricals over the same outcomes: P and Q side by side (left), and each outcome's
    contribution to KL(P‖Q) and to KL(Q‖P) (right).  An infinite contribution (Q(x) = 0 < P(x))
    is drawn as an "∞" marker above the bars, with the outcome named in its hover text."""
    factor = _check_unit(unit)
    # outcome names are user text: HTML-escaped for Plotly, on category axes (a name such as "1"
    # or "2024-01-01" must not turn the axis numeric or into dates)
    labels = [as_text(label, "plotly") for label in P.labels]
    kl_pq, kl_qp = kl_divergence(P, Q, unit), kl_divergence(Q, P, unit)
    fig = panel_grid(2, stacked, (
        "Probabilities P(x) and Q(x)",
        f"Contributions: KL(P‖Q) = {fmt(kl_pq)},<br>KL(Q‖P) = {fmt(kl_qp)} {unit}"),
        h_spacing=0.1, title_lines=2, panel_px=280)
    for probs, name, colour in ((P.probs, "P", style.TARGET), (Q.probs, "Q", style.FORWARD)):
        fig.add_trace(go.Bar(x=labels, y=list(probs), name=name, marker_color=colour,
                             offsetgroup=name, legendgroup=name,
                             hovertemplate=f"{name}(%{{x}}) = %{{y:.4g}}<extra></extra>"),
                      **at(stacked, 1))
    terms = {"P‖Q": P.contributions(Q) * factor, "Q‖P": Q.contributions(P) * factor}
    finite = [float(v) for t in terms.values() for v in t if math.isfinite(v)]
    cap = max([abs(v) for v in finite] + [0.1]) * 1.15
    for (key, t), colour in zip(terms.items(), (style.TARGET, style.FORWARD), strict=True):
        a, b = key.split("‖")
        name = f"{a}(x)·log({a}(x)/{b}(x)) → KL({key})"
        fig.add_trace(go.Bar(x=labels, y=[float(v) if math.isfinite(v) else 0.0 for v in t],
                             name=name, marker_color=style.rgba(colour, 0.6),
                             marker_line={"color": colour, "width": 1.5}, offsetgroup=key,
                             hovertemplate=f"%{{x}}: %{{y:.4g}} {unit}<extra>KL({key})"
                                           "</extra>"), **at(stacked, 2))
        inf_idx = [i for i, v in enumerate(t) if not math.isfinite(v)]
        if inf_idx:
            fig.add_trace(go.Scatter(
                x=[labels[i] for i in inf_idx], y=[cap] * len(inf_idx), mode="markers+text",
                text=["∞"] * len(inf_idx), textposition="top center", textfont={"size": 20},
                marker={"symbol": "triangle-up", "size": 14, "color": colour},
                offsetgroup=key, name=f"∞ in KL({key}): {b}(x) = 0 < {a}(x)",
                hovertemplate=(f"%{{x}}: {b}(x) = 0 < {a}(x), so {a}·log({a}/0) = ∞"
                               "<extra></extra>")), **at(stacked, 2))
    fig.update_xaxes(title_text="outcome x", type="category", **at(stacked, 1))
    fig.update_xaxes(title_text="outcome x", type="category", **at(stacked, 2))
    fig.update_yaxes(title_text="probability", rangemode="tozero", **at(stacked, 1))
    low = min([0.0] + finite)
    fig.update_yaxes(title_text=f"contribution ({unit})", **at(stacked, 2),
                     range=[low * 1.15 if low < 0 else 0.0, cap * 1.25])
    return _finish(fig, height=380, stacked=stacked, title_lines=2, barmode="group",
                   hovermode="closest",
                   scattermode="group")
