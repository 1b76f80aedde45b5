"""Entropy page: cross-entropy = entropy + KL as bars, and each fit's KL beside JS."""

from __future__ import annotations

import math

import plotly.graph_objects as go

from explorer import style
from explorer.distributions import Normal
from explorer.divergences import cross_entropy, entropy, js_divergence, kl_divergence, to_unit
from explorer.figures.base import _check_unit, _finish, at, panel_grid
from explorer.figures.text import fmt


def js_bound(unit: str) -> str:
    """JS's upper bound in ``unit``: "1 bit" or "ln 2 ≈ 0.6931 nats"."""
    return "1 bit" if unit == "bits" else f"ln 2 ≈ {fmt(math.log(2.0))} nats"


def entropy_values(p, q_forward: Normal | None, q_reverse: Normal | None,
                   unit: str = "nats") -> dict:
    """The keyword values of :func:`entropy_figure` for ``p`` and its two fits (in ``unit``);
    a missing fit gives None for its values."""
    _check_unit(unit)

    def each(q, direction):
        if q is None:
            return None, None, None
        own = kl_divergence(p, q, unit) if direction == "forward" else kl_divergence(q, p, unit)
        return cross_entropy(p, q, unit), own, js_divergence(p, q, unit)

    hf, kf, jf = each(q_forward, "forward")
    hr, kr, jr = each(q_reverse, "reverse")
    return {"h_p": entropy(p, unit), "h_pq_forward": hf, "h_pq_reverse": hr,
            "kl_forward": kf, "kl_reverse": kr, "js_forward": jf, "js_reverse": jr}


def entropy_figure(h_p: float, h_pq_forward: float | None, h_pq_reverse: float | None,
                   kl_forward: float | None, kl_reverse: float | None,
                   js_forward: float | None, js_reverse: float | None,
                   unit: str = "nats", stacked: bool = False) -> go.Figure:
    """Cross-entropy = entropy + KL, and each fit's divergences beside JS (all in ``unit``).

    Arguments are numbers already in ``unit`` (see :func:`entropy_values`): H(p), the
    cross-entropies H(p, q_f) and H(p, q_r), KL(p‖q_f) and KL(q_r‖p) (each fit's own objective),
    and JS(p, q_f), JS(p, q_r).  None means "no such fit" (e.g. no forward fit for heavy tails).

    Left: H(p) as a bar from 0 (it may be negative: differential entropy), each KL(p‖q) as a
    floating bar from H(p) to H(p) + KL (``base``), and H(p, q) as a bar from 0 — so the sum
    reads correctly whatever the signs.  Right: KL(p‖q_f), KL(q_r‖p) and both JS, with JS's
    upper bound ln 2 (1 bit) as a dashed line.  Infinite values are an "∞" label, not a bar.
    """
    _check_unit(unit)
    ln2 = to_unit(math.log(2.0), unit)
    fig = panel_grid(2, stacked, ("Cross-entropy H(p,q) = H(p) + KL(p‖q)",
                                  f"Divergences (JS ≤ {js_bound(unit)})"),
                     widths=[0.58, 0.42], h_spacing=0.1, panel_px=300)
    cats = ["H(p)", "+ KL(p‖q_f)", "= H(p,q_f)", "+ KL(p‖q_r)", "= H(p,q_r)"]
    kl_pf = None if h_pq_forward is None else h_pq_forward - h_p
    kl_pr = None if h_pq_reverse is None else h_pq_reverse - h_p
    fig.add_trace(go.Bar(x=[cats[0]], y=[h_p], name="H(p): entropy of the target",
                         marker_color=style.TARGET, text=[fmt(h_p)], textposition="outside",
                         hovertemplate=f"H(p) = %{{y:.4g}} {unit}<extra></extra>"),
                  **at(stacked, 1))
    infinite = []
    for (kl, total, colour, name, i) in [(kl_pf, h_pq_forward, style.FORWARD, "forward fit q_f", 1),
                                          (kl_pr, h_pq_reverse, style.REVERSE, "reverse fit q_r",
                                           3)]:
        if kl is None or total is None:
            infinite.append((cats[i], h_p, "no fit"))
            infinite.append((cats[i + 1], 0.0, "no fit"))
            continue
        if math.isinf(total):
            infinite.append((cats[i], h_p, "∞"))
            infinite.append((cats[i + 1], 0.0, "∞"))
            continue
        fig.add_trace(go.Bar(x=[cats[i]], y=[kl], base=[h_p], name=f"KL(p‖q) of the {name}",
                             marker_color=style.rgba(colour, 0.55),
                             marker_line={"color": colour, "width": 2},
                             text=[f"+{fmt(kl)}"], textposition="outside",
                             hovertemplate=f"KL = %{{y:.4g}} {unit}<extra></extra>"),
                      **at(stacked, 1))
        fig.add_trace(go.Bar(x=[cats[i + 1]], y=[total], name=f"H(p,q) of the {name}",
                             marker_color=colour, text=[fmt(total)], textposition="outside",
                             hovertemplate=f"H(p,q) = %{{y:.4g}} {unit}<extra></extra>"),
                      **at(stacked, 1))
    if infinite:
        fig.add_trace(go.Scatter(x=[c for c, _, _ in infinite], y=[y for _, y, _ in infinite],
                                 mode="markers+text", text=[t for _, _, t in infinite],
                                 textposition="top center", name="infinite / no fit",
                                 textfont={"size": 18}, marker={"symbol": "triangle-up",
                                                                 "size": 12,
                                                                 "color": style.OTHER},
                                 hovertemplate="%{text}<extra></extra>"), **at(stacked, 1))
    fig.add_trace(go.Scatter(x=[cats[0], cats[-1]], y=[h_p, h_p], mode="lines",
                             name="H(p) level", line={"color": style.TARGET, "dash": "dot",
                                                      "width": 1},
                             hoverinfo="skip", showlegend=False), **at(stacked, 1))
    div_cats = ["KL(p‖q_f)", "JS(p,q_f)", "KL(q_r‖p)", "JS(p,q_r)"]
    div_vals = [kl_forward, js_forward, kl_reverse, js_reverse]
    colours = [style.FORWARD, style.FORWARD, style.REVERSE, style.REVERSE]
    shown = [(c, v, col) for c, v, col in zip(div_cats, div_vals, colours, strict=True)
             if v is not None and math.isfinite(v)]
    fig.add_trace(go.Bar(x=[c for c, _, _ in shown], y=[v for _, v, _ in shown],
                         marker_color=[col for _, _, col in shown],
                         marker_pattern_shape=["/" if c.startswith("JS") else ""
                                               for c, _, _ in shown],
                         text=[fmt(v) for _, v, _ in shown], textposition="outside",
                         name="divergence of each fit", showlegend=False,
                         hovertemplate=f"%{{x}} = %{{y:.4g}} {unit}<extra></extra>"),
                  **at(stacked, 2))
    missing = [(c, "∞" if v is not None else "no fit") for c, v in zip(div_cats, div_vals,
                                                                   strict=True)
               if v is None or not math.isfinite(v)]
    if missing:
        fig.add_trace(go.Scatter(x=[c for c, _ in missing], y=[0.0] * len(missing),
                                 mode="markers+text", text=[t for _, t in missing],
                                 textposition="top center", textfont={"size": 18},
                                 marker={"symbol": "triangle-up", "size": 12,
                                         "color": style.OTHER},
                                 name="infinite / no fit (divergence)", showlegend=False,
                                 hovertemplate="%{text}<extra></extra>"), **at(stacked, 2))
    fig.add_trace(go.Scatter(x=[div_cats[0], div_cats[-1]], y=[ln2, ln2], mode="lines",
                             name=f"JS maximum: {js_bound(unit)}",
                             line={"color": style.OTHER, "dash": "dash", "width": 1.5},
                             hoverinfo="skip"), **at(stacked, 2))
    fig.update_xaxes(categoryorder="array", categoryarray=cats, **at(stacked, 1))
    fig.update_xaxes(categoryorder="array", categoryarray=div_cats, **at(stacked, 2))
    fig.update_yaxes(title_text=unit, **at(stacked, 1))
    fig.update_yaxes(title_text=unit, rangemode="tozero", **at(stacked, 2))
    fig.update_yaxes(zeroline=True, zerolinewidth=2)
    _pad_range(fig, [h_p, h_pq_forward, h_pq_reverse, 0.0], at(stacked, 1))
    _pad_range(fig, [*div_vals, ln2, 0.0], at(stacked, 2))
    return _finish(fig, height=400, stacked=stacked, barmode="overlay", hovermode="closest")


def _pad_range(fig: go.Figure, values, pos: dict) -> None:
    """Room above the bars for their outside labels (and below, for negative entropy)."""
    vals = [float(v) for v in values if v is not None and math.isfinite(v)]
    lo, hi = min(vals), max(vals)
    span = max(hi - lo, 1e-9)
    fig.update_yaxes(range=[lo - 0.12 * span if lo < 0 else 0.0, hi + 0.18 * span],
                     **pos)

