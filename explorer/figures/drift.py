"""Drift page: the two samples on the shared bins with each bin's PSI term; every estimate with
its bootstrap interval, the no-drift range and (for generated data) the truth; and each
estimator's mean against sample size."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from explorer import style
from explorer.drift import ESTIMATES, Binned, bin_label
from explorer.figures.base import _check_unit, _finish, at, panel_grid
from explorer.figures.text import fmt

REF, LIVE = style.TARGET, style.FORWARD
TRUTH = style.ACCENT
KNN = style.MANUAL


def _drawn_edges(b: Binned, lo: float, hi: float) -> np.ndarray:
    """The bin edges with the open outer bins closed at the data's range."""
    e = b.edges.copy()
    e[0], e[-1] = min(lo, e[1]), max(hi, e[-2])
    return e


def samples_figure(ref: np.ndarray, live: np.ndarray, b: Binned, truth=None,
                   unit: str = "nats", stacked: bool = False) -> go.Figure:
    """Left: both samples as densities on the shared bins (the open outer bins drawn to the
    data's range), with the true densities when ``truth`` = (p, q) is known.  Right: each bin's
    PSI term (p_b − q_b)·log(p_b/q_b), an empty bin marked ∞."""
    factor = _check_unit(unit)
    lo, hi = float(min(ref.min(), live.min())), float(max(ref.max(), live.max()))
    e = _drawn_edges(b, lo, hi)
    width, mid = np.diff(e), 0.5 * (e[:-1] + e[1:])
    fig = panel_grid(2, stacked, ("The two samples on the shared bins",
                                  f"Each bin's PSI term; PSI = {fmt(b.psi * factor)} {unit}"),
                     h_spacing=0.1, panel_px=300)
    for counts, n, name, colour in ((b.ref_counts, ref.size, "reference", REF),
                                    (b.live_counts, live.size, "live", LIVE)):
        dens = np.where(width > 0, counts / (n * np.where(width > 0, width, 1.0)), 0.0)
        fig.add_trace(go.Bar(x=mid, y=dens, width=width, name=f"{name} (n = {n:,})",
                             marker_color=style.rgba(colour, 0.35),
                             marker_line={"color": colour, "width": 1.5},
                             customdata=counts,
                             hovertemplate=f"{name}: %{{customdata:,}} values<br>density "
                                           "%{y:.4g}<extra></extra>"), **at(stacked, 1))
    if truth is not None:
        x = np.linspace(lo, hi, 400)
        for dist, name, colour in ((truth[0], "true reference density", REF),
                                   (truth[1], "true live density", LIVE)):
            fig.add_trace(go.Scatter(x=x, y=dist.pdf(x), mode="lines", name=name,
                                     line={"color": colour, "width": 2, "dash": "dot"},
                                     hoverinfo="skip"), **at(stacked, 1))
    terms = b.contributions() * factor
    labels = [str(i + 1) for i in range(terms.size)]  # short; the range is in the hover text
    ranges = [bin_label(b.edges, i) for i in range(terms.size)]
    finite = terms[np.isfinite(terms)]
    cap = float(max(finite.max() if finite.size else 0.0, 1e-3)) * 1.15
    fig.add_trace(go.Bar(x=labels, y=np.where(np.isfinite(terms), terms, 0.0),
                         name="PSI term of a bin", marker_color=style.rgba(style.REVERSE, 0.6),
                         marker_line={"color": style.REVERSE, "width": 1.5}, customdata=ranges,
                         hovertemplate=f"bin %{{x}} %{{customdata}}: %{{y:.4g}} {unit}"
                                       "<extra></extra>",
                         showlegend=False), **at(stacked, 2))
    inf = np.flatnonzero(~np.isfinite(terms))
    if inf.size:
        fig.add_trace(go.Scatter(
            x=[labels[i] for i in inf], y=[cap] * inf.size, mode="markers+text",
            text=["∞"] * inf.size, textposition="top center", textfont={"size": 18},
            marker={"symbol": "triangle-up", "size": 12, "color": style.REVERSE},
            name="∞: a sample has no value in this bin", customdata=[ranges[i] for i in inf],
            hovertemplate="bin %{x} %{customdata}: one sample has no value here: ∞"
                          "<extra></extra>"),
            **at(stacked, 2))
    fig.update_xaxes(title_text="value", **at(stacked, 1))
    fig.update_yaxes(title_text="density", rangemode="tozero", **at(stacked, 1))
    fig.update_xaxes(title_text="bin (low to high values)", type="category", tickangle=0,
                     **at(stacked, 2))
    fig.update_yaxes(title_text=unit, range=[0, cap * 1.3], **at(stacked, 2))
    return _finish(fig, height=400, stacked=stacked, barmode="overlay", bargap=0)


def estimates_figure(values: dict, intervals: dict, nulls: dict, truths: dict | None = None,
                     unit: str = "nats") -> go.Figure:
    """Every estimate (a dot) with its bootstrap interval (whiskers), the range the estimate
    takes when nothing drifted (grey bar, 0 to the permutation null's 95th percentile) and, for
    generated data, the true value (diamond).  ∞ is drawn at the right edge and labelled."""
    factor = _check_unit(unit)
    names = list(ESTIMATES)[::-1]  # top to bottom as listed
    finite = [v * factor for n in names for v in (
        values.get(n), truths.get(n) if truths else None,
        getattr(intervals.get(n), "hi", None), getattr(nulls.get(n), "q95", None))
        if v is not None and math.isfinite(v)]
    top = max(finite + [1e-3]) * 1.12
    fig = go.Figure()
    q95 = [getattr(nulls.get(n), "q95", None) for n in names]
    fig.add_trace(go.Bar(
        y=names, x=[min(v * factor, top) if v is not None else 0 for v in q95],
        orientation="h", marker_color="rgba(128,128,128,0.3)", width=0.55,
        name="no drift: 95% of permutation-null estimates are below",
        hovertemplate=f"no-drift 95th percentile: %{{x:.4g}} {unit}<extra></extra>"))
    xs, lo, hi, inf_names = [], [], [], []
    for n in names:
        v, iv = values.get(n), intervals.get(n)
        if v is None or not math.isfinite(v):
            xs.append(None)
            lo.append(0)
            hi.append(0)
            if v is not None:
                inf_names.append(n)
            continue
        xs.append(v * factor)
        lo.append(max(v - iv.lo, 0) * factor if iv else 0)
        hi.append(min(iv.hi - v, top / factor) * factor if iv and math.isfinite(iv.hi) else 0)
    level = next((iv.level for iv in intervals.values() if iv), 0.9)
    fig.add_trace(go.Scatter(
        y=names, x=xs, mode="markers", marker={"size": 11, "color": style.TARGET},
        error_x={"type": "data", "array": hi, "arrayminus": lo, "thickness": 2, "width": 6},
        name=f"estimate, {level:.0%} bootstrap interval",
        hovertemplate=f"%{{y}}: %{{x:.4g}} {unit}<extra></extra>"))
    if inf_names:
        fig.add_trace(go.Scatter(
            y=inf_names, x=[top] * len(inf_names), mode="markers+text", text=["∞"] * len(
                inf_names), textposition="middle left", textfont={"size": 18},
            marker={"symbol": "triangle-right", "size": 12, "color": style.TARGET},
            name="∞ (an empty bin)", hovertemplate="%{y}: ∞<extra></extra>"))
    if truths:
        ty = [n for n in names if truths.get(n) is not None]
        fig.add_trace(go.Scatter(
            y=ty, x=[min(truths[n] * factor, top) for n in ty], mode="markers",
            marker={"symbol": "diamond-open", "size": 13, "color": TRUTH,
                    "line": {"width": 2}},
            name="true value (known distributions)",
            hovertemplate=f"true %{{y}}: %{{x:.4g}} {unit}<extra></extra>"))
    fig.update_xaxes(title_text=unit, range=[0, top * 1.02])
    fig.update_yaxes(type="category", automargin=True)
    return _finish(fig, height=300, margin={"l": 10, "t": 20}, barmode="overlay")


BIAS_PANELS = (("KL(reference‖live)", ("KL(ref‖live)", "kNN KL(ref‖live)"), "KL(ref‖live)"),
               ("KL(live‖reference)", ("KL(live‖ref)", "kNN KL(live‖ref)"), "KL(live‖ref)"),
               ("PSI and JS", ("PSI", "JS"), None))
BIAS_COLOURS = {"KL(ref‖live)": REF, "KL(live‖ref)": LIVE, "kNN KL(ref‖live)": KNN,
                "kNN KL(live‖ref)": KNN, "PSI": style.REVERSE, "JS": style.SKY}


def bias_figure(curve, truths: dict, unit: str = "nats", stacked: bool = False) -> go.Figure:
    """Each estimator's mean ± sd over seeded repeats against the sample size n (= m, log axis),
    with the true values as dashed lines."""
    factor = _check_unit(unit)
    fig = panel_grid(3, stacked, [t for t, _, _ in BIAS_PANELS], h_spacing=0.07, panel_px=260)
    n = np.asarray(curve.sizes, dtype=float)
    for i, (_, names, _) in enumerate(BIAS_PANELS, start=1):
        for name in names:
            mean, sd = curve.mean[name] * factor, curve.sd[name] * factor
            ok = np.isfinite(mean)
            colour = BIAS_COLOURS[name]
            fig.add_trace(go.Scatter(
                x=n[ok], y=mean[ok], mode="lines+markers", name=f"{name}, mean ± sd",
                line={"color": colour, "dash": "dash" if name.startswith("kNN") else "solid"},
                error_y={"type": "data", "array": sd[ok], "thickness": 1},
                legendgroup=name,
                hovertemplate=f"{name} at n = %{{x:,}}: %{{y:.4g}} {unit}<extra></extra>"),
                **at(stacked, i))
            truth = truths.get(name) if truths else None
            if truth is not None and math.isfinite(truth) and not name.startswith("kNN"):
                label = "true J = KL + KL" if name == "PSI" else f"true {name}"
                fig.add_trace(go.Scatter(
                    x=[n[0], n[-1]], y=[truth * factor] * 2, mode="lines", name=label,
                    line={"color": colour, "dash": "dot", "width": 1.5},
                    hovertemplate=f"{label}: %{{y:.4g}} {unit}<extra></extra>"),
                    **at(stacked, i))
        fig.update_xaxes(type="log", title_text="sample size n (each sample)",
                         tickvals=list(curve.sizes), ticktext=[f"{s:,}" for s in curve.sizes],
                         **at(stacked, i))
        fig.update_yaxes(title_text=unit if i == 1 or stacked else None, **at(stacked, i))
    return _finish(fig, height=400, stacked=stacked)
