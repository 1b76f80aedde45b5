"""Plotly figures of the teaching views: where the penalty comes from, the objective landscape,
cross-entropy = entropy + KL, MLE converging to the forward fit, and the discrete case.

Every builder takes plain values (distributions, fits, numbers) and returns a
``plotly.graph_objects.Figure`` styled by :mod:`explorer.style` (Okabe–Ito colours, transparent
background, readable on light and dark themes).  No trace has more than
``explorer.grid.MAX_POINTS`` (2000) x/y points (heatmap z grids aside), no value is NaN, and an
infinite quantity is drawn as an explicit "∞" label, never as a broken bar or a NaN.
"""

from __future__ import annotations

import math
import textwrap

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer import style
from explorer.distributions import Normal
from explorer.divergences import (
    UNITS,
    cross_entropy,
    entropy,
    js_divergence,
    kl_divergence,
    to_unit,
    why_infinite,
)
from explorer.grid import MAX_POINTS, x_grid
from explorer.pointwise import AREA_SCALES, integrand_area, kl_integrand
from explorer.text import as_text

POSITIVE = style.ACCENT  # integrand > 0: adds to the KL
NEGATIVE = style.SKY  # integrand < 0: takes away from it
SEED_COLOURS = (style.TARGET, style.MANUAL, style.REVERSE, style.SKY, style.ACCENT, style.OTHER)
# Relative mismatch between area and KL above which the penalty panel says where the rest is.
AREA_NOTE = 1e-3
# Heatmap colours show log10(KL + LOG_FLOOR): basins near KL = 0 stay visible.
LOG_FLOOR = 1e-3


# --- small helpers ------------------------------------------------------------------------------
def fmt(value, unit: str | None = None, digits: int = 4) -> str:
    """A value as shown on the figures: 4 significant digits, "∞" for inf, "n/a" for None/nan,
    followed by ``unit`` when given (e.g. ``fmt(0.4619946, "nats") == "0.462 nats"``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        text = "n/a"
    elif math.isinf(value):
        text = "∞" if value > 0 else "−∞"
    else:
        text = f"{float(value) + 0.0:.{digits}g}".replace("-", "−")
    return f"{text} {unit}" if unit else text


def _wrap(text: str, width: int = 48) -> str:
    return "<br>".join(textwrap.wrap(text, width))


def _nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round tick values from 0 up to ``top`` (about ``count`` of them)."""
    raw = top / count
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    return [round(k * step, 12) for k in range(int(top / step) + 1)]


def _as_normal(q):
    """A Normal, or the ``q`` of a :class:`explorer.fitting.Fit` (either may be passed)."""
    return getattr(q, "q", q)


def _check_unit(unit: str) -> float:
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {sorted(UNITS)}, got {unit!r}")
    return UNITS[unit]


def _finish(fig: go.Figure, height: int, **layout) -> go.Figure:
    fig.update_layout(**style.base_layout(
        height=height,
        legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0},
        margin={"l": 60, "r": 20, "t": 90, "b": 100},
        **layout))
    style.style_axes(fig)
    fig.update_annotations(font_size=style.FONT_SIZE)
    return fig


def _note(fig: go.Figure, text: str, col: int, *, y: float = 0.5, size: int = 13,
          anchor: tuple[float, float] | None = None) -> None:
    """A boxed explanatory note centred in subplot ``col``, placed in paper coordinates from the
    subplot's domain (so it stays put even when the subplot holds no data); an empty subplot
    gets an invisible trace at data point ``anchor`` so that it keeps its axes."""
    sub = fig.get_subplot(1, col)
    (x0, x1), (y0, y1) = sub.xaxis.domain, sub.yaxis.domain
    fig.add_annotation(text=text, xref="paper", yref="paper", x=(x0 + x1) / 2,
                       y=y0 + y * (y1 - y0), xanchor="center", yanchor="middle",
                       showarrow=False, font={"size": size},
                       align="center", bordercolor=style.OTHER, borderwidth=1, borderpad=6,
                       bgcolor="rgba(128,128,128,0.12)")
    if anchor is not None:
        fig.add_trace(go.Scatter(x=[anchor[0]], y=[anchor[1]], mode="markers",
                                 marker={"opacity": 0}, hoverinfo="skip", showlegend=False,
                                 name="(note anchor)"), row=1, col=col)


# --- 1. where the penalty comes from ------------------------------------------------------------
def penalty_figure(p, q_forward: Normal | None, q_reverse: Normal | None, unit: str = "nats",
                   *, reason: str | None = None, reverse_reason: str | None = None) -> go.Figure:
    """The integrands of both fits, side by side.

    Left: p·log(p/q_f), the integrand of KL(p‖q_forward); right: q·log(q/p), the integrand of
    KL(q_reverse‖p).  Each shades the positive part (adds to the KL) and the negative part (takes
    away) in two colours, draws p and q as thin lines on a secondary density axis, and annotates
    "area = … ≈ KL = …" (the area by :func:`explorer.pointwise.integrand_area`).  A fit that is
    None is replaced by a note: ``reason`` for the forward panel (default: why no Gaussian has a
    finite KL(p‖q)), ``reverse_reason`` for the reverse one.
    """
    factor = _check_unit(unit)
    fig = make_subplots(rows=1, cols=2, specs=[[{"secondary_y": True}, {"secondary_y": True}]],
                        horizontal_spacing=0.17,
                        subplot_titles=("Forward KL(p‖q) integrand p·log(p/q)",
                                        "Reverse KL(q‖p) integrand q·log(q/p)"))
    panels = [(1, q_forward, "forward", style.FORWARD, reason),
              (2, q_reverse, "reverse", style.REVERSE, reverse_reason)]
    for col, q, direction, colour, why in panels:
        x = x_grid(p, *([q] if q is not None else []), n=MAX_POINTS)
        dens_top = float(np.max(p.pdf(x)))
        fig.add_trace(go.Scatter(x=x, y=p.pdf(x), name="p (target density)", mode="lines",
                                 line={"color": style.TARGET, "width": 1.6},
                                 legendgroup="p", showlegend=col == 1,
                                 hovertemplate="p(x) = %{y:.4g}<extra></extra>"),
                      row=1, col=col, secondary_y=True)
        if q is None:
            if why is None:
                why = (why_infinite(p, Normal(0.0, 1.0)) if direction == "forward" else None) \
                    or f"No {direction} fit to show."
            _note(fig, _wrap(why), col, y=0.62)
            fig.update_yaxes(range=[0.0, 1.1 * dens_top], tickvals=_nice_ticks(1.1 * dens_top),
                             row=1, col=col, secondary_y=True)
            fig.update_yaxes(visible=False, row=1, col=col, secondary_y=False)
            continue
        a, b = (p, q) if direction == "forward" else (q, p)
        y = kl_integrand(a, b, x) * factor
        dens_top = max(dens_top, float(np.max(q.pdf(x))))
        # Both axes share their zero; headroom on top keeps the area note off the curves.
        top = 1.45 * max(float(y.max()), 1e-300)
        bottom = min(1.1 * float(y.min()), -0.04 * top)
        fig.update_yaxes(range=[bottom, top], row=1, col=col, secondary_y=False)
        fig.update_yaxes(range=[bottom / top * 1.45 * dens_top, 1.45 * dens_top], row=1,
                         col=col, secondary_y=True, tickvals=_nice_ticks(1.45 * dens_top))
        fig.add_trace(go.Scatter(x=x, y=q.pdf(x), name=f"q ({direction} fit)", mode="lines",
                                 line={"color": colour, "width": 2.2, "dash": "dash"},
                                 hovertemplate="q(x) = %{y:.4g}<extra></extra>"),
                      row=1, col=col, secondary_y=True)
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
                          row=1, col=col, secondary_y=False)
        area = integrand_area(a, b) * factor
        kl = kl_divergence(a, b, unit)
        text = f"area = {fmt(area)} ≈ KL = {fmt(kl, unit)}"
        if math.isinf(kl):
            text = (f"area on ±{AREA_SCALES:g} scales = {fmt(area)}, but KL = ∞ {unit}:"
                    "<br>the tails keep adding to it without end")
        elif abs(area - kl) > AREA_NOTE * max(abs(kl), 1e-300):
            text += (f"<br>(the other {fmt(kl - area, unit)} lies in the tails,"
                     f"<br>beyond ±{AREA_SCALES:g} scales of every component)")
        fig.add_annotation(text=text, xref="x domain", yref="y domain", x=0.02, y=0.98,
                           row=1, col=col, xanchor="left", yanchor="top", showarrow=False,
                           align="left",
                           bgcolor="rgba(128,128,128,0.15)", borderpad=4)
    for col, q, *_ in panels:
        fig.update_xaxes(title_text="x", row=1, col=col)
        if q is not None:
            fig.update_yaxes(title_text=f"integrand ({unit} per unit x)", row=1, col=col,
                             secondary_y=False)
        fig.update_yaxes(title_text="density", row=1, col=col, secondary_y=True,
                         showgrid=q is None, zeroline=False)
    return _finish(fig, height=480, hovermode="x unified")


# --- 2. the objective landscape ----------------------------------------------------------------
def landscape_figure(landscape, optima, forward_opt: Normal | None = None,
                     path: list[Normal] | None = None, start: Normal | None = None, *,
                     unit: str = "nats", reason: str | None = None) -> go.Figure:
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
    fig = make_subplots(rows=1, cols=2, shared_yaxes=False, horizontal_spacing=0.2,
                        column_widths=[0.5, 0.5],
                        subplot_titles=("Forward KL(p‖q) over q = N(μ, σ²)",
                                        "Reverse KL(q‖p) over q = N(μ, σ²)"))
    for col, z in ((1, landscape.forward), (2, landscape.reverse)):
        z = np.asarray(z, dtype=float) * factor
        finite = np.isfinite(z)
        if not finite.any():
            text = reason or ("Forward KL(p‖q) is ∞ for every Gaussian q: p has infinite variance "
                              "(a Student-t component with ν ≤ 2), so there is no landscape and "
                              "no forward fit.")
            _note(fig, _wrap(text, 40), col, anchor=(float(mu[0]), float(ls[0])))
            continue
        z = np.where(finite, z, float(z[finite].max()))  # never partial; clipped if it were
        axis = "coloraxis" if col == 1 else "coloraxis2"
        # float32 on the wire: half the bytes of a 160 × 160 grid (1.3 -> 0.7 MB per view), and
        # 7 digits is more than the colours and the 4-digit hover show.
        fig.add_trace(go.Contour(
            x=mu, y=ls, z=np.log10(z + LOG_FLOOR).astype(np.float32), coloraxis=axis,
            ncontours=24,
            contours={"coloring": "heatmap", "showlines": True},
            line={"color": "rgba(255,255,255,0.35)", "width": 0.6},
            customdata=z.astype(np.float32), name="forward KL" if col == 1 else "reverse KL",
            showlegend=False,
            hovertemplate=("μ = %{x:.3g}<br>log σ = %{y:.3g}<br>KL = %{customdata:.4g} "
                           f"{unit}<extra></extra>")), row=1, col=col)
        lo, hi = float(np.log10(z.min() + LOG_FLOOR)), float(np.log10(z.max() + LOG_FLOOR))
        ticks = _kl_ticks(lo, hi)
        x_end = fig.get_subplot(1, col).xaxis.domain[1]
        fig.update_layout({axis: {
            "colorscale": "Viridis", "cmin": lo, "cmax": hi,
            "colorbar": {"title": {"text": f"KL ({unit})", "side": "top"},
                         "tickvals": [math.log10(v + LOG_FLOOR) for v in ticks],
                         "ticktext": [f"{v:g}" for v in ticks], "len": 0.8, "thickness": 14,
                         "x": x_end + 0.01, "xanchor": "left"}}})
    if path:
        pts = _thin(path, MAX_POINTS)
        fig.add_trace(go.Scatter(
            x=[q.mean for q in pts], y=[math.log(q.std) for q in pts], mode="lines+markers",
            name="optimiser path", line={"color": "white", "width": 2},
            marker={"size": 6, "color": "white", "line": {"color": "black", "width": 1}},
            hovertemplate="μ = %{x:.3g}<br>log σ = %{y:.3g}<extra>path</extra>"), row=1, col=2)
    if start is not None:
        fig.add_trace(go.Scatter(
            x=[start.mean], y=[math.log(start.std)], mode="markers", name="start",
            marker={"symbol": "circle", "size": 13, "color": style.MANUAL,
                    "line": {"width": 2, "color": "white"}},
            hovertemplate=f"start {start.label()}<extra></extra>"), row=1, col=2)
    marker_line = {"color": "white", "width": 1.5}
    if optima:
        fig.add_trace(go.Scatter(
            x=[q.mean for q in optima], y=[math.log(q.std) for q in optima], mode="markers",
            name="reverse local optima", marker={"symbol": "star", "size": 16,
                                                 "color": style.REVERSE, "line": marker_line},
            text=[q.label() for q in optima],
            hovertemplate="reverse optimum %{text}<extra></extra>"), row=1, col=2)
    if forward_opt is not None and np.isfinite(landscape.forward).any():
        fig.add_trace(go.Scatter(
            x=[forward_opt.mean], y=[math.log(forward_opt.std)], mode="markers",
            name="forward optimum", marker={"symbol": "diamond", "size": 14,
                                            "color": style.FORWARD, "line": marker_line},
            text=[forward_opt.label()],
            hovertemplate="forward optimum %{text}<extra></extra>"), row=1, col=1)
    sig_ticks = _sigma_ticks(ls)
    for col in (1, 2):
        fig.update_xaxes(title_text="μ (mean of q)", range=[mu[0], mu[-1]], row=1, col=col,
                         showgrid=False, zeroline=False)
        fig.update_yaxes(title_text="σ (std of q, log scale)", range=[ls[0], ls[-1]], row=1,
                         col=col, tickvals=[math.log(s) for s in sig_ticks],
                         ticktext=[f"{s:g}" for s in sig_ticks], showgrid=False, zeroline=False)
    return _finish(fig, height=500, hovermode="closest")


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


# --- 3. cross-entropy = entropy + KL -----------------------------------------------------------
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
                   unit: str = "nats") -> go.Figure:
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
    fig = make_subplots(rows=1, cols=2, column_widths=[0.58, 0.42], horizontal_spacing=0.1,
                        subplot_titles=("Cross-entropy H(p,q) = H(p) + KL(p‖q)",
                                        "Divergences (JS ≤ ln 2)"))
    cats = ["H(p)", "+ KL(p‖q_f)", "= H(p,q_f)", "+ KL(p‖q_r)", "= H(p,q_r)"]
    kl_pf = None if h_pq_forward is None else h_pq_forward - h_p
    kl_pr = None if h_pq_reverse is None else h_pq_reverse - h_p
    fig.add_trace(go.Bar(x=[cats[0]], y=[h_p], name="H(p): entropy of the target",
                         marker_color=style.TARGET, text=[fmt(h_p)], textposition="outside",
                         hovertemplate=f"H(p) = %{{y:.4g}} {unit}<extra></extra>"), row=1, col=1)
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
                      row=1, col=1)
        fig.add_trace(go.Bar(x=[cats[i + 1]], y=[total], name=f"H(p,q) of the {name}",
                             marker_color=colour, text=[fmt(total)], textposition="outside",
                             hovertemplate=f"H(p,q) = %{{y:.4g}} {unit}<extra></extra>"),
                      row=1, col=1)
    if infinite:
        fig.add_trace(go.Scatter(x=[c for c, _, _ in infinite], y=[y for _, y, _ in infinite],
                                 mode="markers+text", text=[t for _, _, t in infinite],
                                 textposition="top center", name="infinite / no fit",
                                 textfont={"size": 18}, marker={"symbol": "triangle-up",
                                                                 "size": 12,
                                                                 "color": style.OTHER},
                                 hovertemplate="%{text}<extra></extra>"), row=1, col=1)
    fig.add_trace(go.Scatter(x=[cats[0], cats[-1]], y=[h_p, h_p], mode="lines",
                             name="H(p) level", line={"color": style.TARGET, "dash": "dot",
                                                      "width": 1},
                             hoverinfo="skip", showlegend=False), row=1, col=1)
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
                  row=1, col=2)
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
                                 hovertemplate="%{text}<extra></extra>"), row=1, col=2)
    fig.add_trace(go.Scatter(x=[div_cats[0], div_cats[-1]], y=[ln2, ln2], mode="lines",
                             name=f"ln 2 = {fmt(ln2, unit)} (JS maximum)",
                             line={"color": style.OTHER, "dash": "dash", "width": 1.5},
                             hoverinfo="skip"), row=1, col=2)
    fig.update_xaxes(categoryorder="array", categoryarray=cats, row=1, col=1)
    fig.update_xaxes(categoryorder="array", categoryarray=div_cats, row=1, col=2)
    fig.update_yaxes(title_text=unit, row=1, col=1)
    fig.update_yaxes(title_text=unit, rangemode="tozero", row=1, col=2)
    fig.update_yaxes(zeroline=True, zerolinewidth=2)
    _pad_range(fig, [h_p, h_pq_forward, h_pq_reverse, 0.0], row_col=(1, 1))
    _pad_range(fig, [*div_vals, ln2, 0.0], row_col=(1, 2))
    return _finish(fig, height=480, barmode="overlay", hovermode="closest")


def _pad_range(fig: go.Figure, values, row_col) -> None:
    """Room above the bars for their outside labels (and below, for negative entropy)."""
    vals = [float(v) for v in values if v is not None and math.isfinite(v)]
    lo, hi = min(vals), max(vals)
    span = max(hi - lo, 1e-9)
    fig.update_yaxes(range=[lo - 0.12 * span if lo < 0 else 0.0, hi + 0.18 * span],
                     row=row_col[0], col=row_col[1])


# --- 4. MLE is forward KL ----------------------------------------------------------------------
def mle_figure(results, forward_q: Normal | None, *, cross_entropy: float | None = None,
               unit: str = "nats") -> go.Figure:
    """Fitted μ̂ and σ̂ against n (log axis) for each seed, with the forward-KL fit's μ and σ as
    dashed reference lines.  With ``cross_entropy`` (H(p) + KL(p‖q_f), nats) a third panel shows
    the average NLL converging to it (in ``unit``)."""
    factor = _check_unit(unit)
    forward_q = _as_normal(forward_q)
    cols = 3 if cross_entropy is not None else 2
    titles = ["Fitted mean μ̂", "Fitted std σ̂ (MLE, ddof = 0)"]
    if cols == 3:
        titles.append("Average NLL → H(p) + KL(p‖q_f)")
    fig = make_subplots(rows=1, cols=cols, subplot_titles=titles, horizontal_spacing=0.09)
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
                                                   f"{seed}</extra>"), row=1, col=col)
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
                                 hovertemplate=f"{name}<extra></extra>"), row=1, col=col)
    if forward_q is None:
        _note(fig, _wrap("No forward-KL fit (p has infinite variance): σ̂ keeps growing "
                         "with n instead of converging.", 34), 2, y=0.85)
    for col in range(1, cols + 1):
        fig.update_xaxes(type="log", title_text="sample size n",
                         **style.log_ticks(min(ns), max(ns), (1,)), row=1, col=col)
    fig.update_yaxes(title_text="μ̂", row=1, col=1)
    fig.update_yaxes(title_text="σ̂", row=1, col=2)
    if cols == 3:
        fig.update_yaxes(title_text=unit, row=1, col=3)
    return _finish(fig, height=460, hovermode="closest")


# --- 5. the discrete case ----------------------------------------------------------------------
def discrete_figure(P, Q, unit: str = "nats") -> go.Figure:
    """Two categoricals over the same outcomes: P and Q side by side (left), and each outcome's
    contribution to KL(P‖Q) and to KL(Q‖P) (right).  An infinite contribution (Q(x) = 0 < P(x))
    is drawn as an "∞" marker above the bars, with the outcome named in its hover text.
    Outcome names are user text: Plotly gets them HTML-escaped, on category axes (a name such as
    "1" or "2024-01-01" must not turn the axis numeric or into dates)."""
    factor = _check_unit(unit)
    labels = [as_text(label, "plotly") for label in P.labels]
    kl_pq, kl_qp = kl_divergence(P, Q, unit), kl_divergence(Q, P, unit)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1, subplot_titles=(
        "Probabilities P(x) and Q(x)",
        f"Contributions: KL(P‖Q) = {fmt(kl_pq)}, KL(Q‖P) = {fmt(kl_qp)} {unit}"))
    for probs, name, colour in ((P.probs, "P", style.TARGET), (Q.probs, "Q", style.FORWARD)):
        fig.add_trace(go.Bar(x=labels, y=list(probs), name=name, marker_color=colour,
                             offsetgroup=name, legendgroup=name,
                             hovertemplate=f"{name}(%{{x}}) = %{{y:.4g}}<extra></extra>"),
                      row=1, col=1)
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
                                           "</extra>"), row=1, col=2)
        inf_idx = [i for i, v in enumerate(t) if not math.isfinite(v)]
        if inf_idx:
            fig.add_trace(go.Scatter(
                x=[labels[i] for i in inf_idx], y=[cap] * len(inf_idx), mode="markers+text",
                text=["∞"] * len(inf_idx), textposition="top center", textfont={"size": 20},
                marker={"symbol": "triangle-up", "size": 14, "color": colour},
                offsetgroup=key, name=f"∞ in KL({key}): {b}(x) = 0 < {a}(x)",
                hovertemplate=(f"%{{x}}: {b}(x) = 0 < {a}(x), so {a}·log({a}/0) = ∞"
                               "<extra></extra>")), row=1, col=2)
    fig.update_xaxes(title_text="outcome x", type="category", row=1, col=1)
    fig.update_xaxes(title_text="outcome x", type="category", row=1, col=2)
    fig.update_yaxes(title_text="probability", rangemode="tozero", row=1, col=1)
    low = min([0.0] + finite)
    fig.update_yaxes(title_text=f"contribution ({unit})", row=1, col=2,
                     range=[low * 1.15 if low < 0 else 0.0, cap * 1.25])
    return _finish(fig, height=460, barmode="group", hovermode="closest",
                   scattermode="group")
