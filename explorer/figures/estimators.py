"""Estimators page: the spread of k1, k2, k3 (each an average of n samples) over R repeats, with
the exact KL and zero marked."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from explorer import style
from explorer.figures.base import _check_unit, _finish, at, panel_grid
from explorer.figures.text import fmt

COLOURS = {"k1": style.FORWARD, "k2": style.REVERSE, "k3": style.MANUAL}
TITLES = {"k1": "k1 = −log r", "k2": "k2 = ½(log r)²", "k3": "k3 = (r − 1) − log r"}
BINS = 40


def estimators_figure(averages: dict, kl: float, n: int, unit: str = "nats",
                      stacked: bool = False) -> go.Figure:
    """One panel per estimator: a histogram (bars, ≤ 40) of its R repeat averages, the exact KL
    as a dashed line and 0 as a grey line.  Infinite averages are left out and counted."""
    factor = _check_unit(unit)
    fig = panel_grid(3, stacked, [TITLES[k] for k in averages], h_spacing=0.07, panel_px=240)
    for i, (k, values) in enumerate(averages.items(), start=1):
        v = np.asarray(values, dtype=float) * factor
        finite = v[np.isfinite(v)]
        counts, edges = np.histogram(finite, bins=BINS) if finite.size else ([], [0, 1])
        mids = 0.5 * (np.asarray(edges[1:]) + np.asarray(edges[:-1]))
        fig.add_trace(go.Bar(x=mids, y=counts, width=np.diff(edges), name=f"{k}: R averages",
                             marker_color=style.rgba(COLOURS[k], 0.75), showlegend=False,
                             hovertemplate=f"{k} ≈ %{{x:.4g}}: %{{y}} repeats<extra></extra>"),
                      **at(stacked, i))
        top = max(list(counts) + [1])
        for x, name, colour, dash in ((kl * factor, f"exact KL = {fmt(kl * factor)} {unit}",
                                       style.TARGET, "dash"), (0.0, "zero", style.OTHER, "dot")):
            fig.add_trace(go.Scatter(x=[x, x], y=[0, top * 1.08], mode="lines", name=name,
                                     legendgroup=name, showlegend=i == 1,
                                     line={"color": colour, "dash": dash, "width": 2.5},
                                     hovertemplate=f"{name}<extra></extra>"), **at(stacked, i))
        dropped = int(v.size - finite.size)
        label = f"average of n = {n:,} ({unit})"
        if dropped:
            label += f"; {dropped} repeats = ∞ not drawn"
        fig.update_xaxes(title_text=label, **at(stacked, i))
        fig.update_yaxes(title_text="repeats" if i == 1 or stacked else None,
                         rangemode="tozero", **at(stacked, i))
    return _finish(fig, height=300, stacked=stacked, hovermode="closest", bargap=0.02)


def table_rows(exact, sampled, n: int) -> list[dict]:
    """Per estimator: exact and sampled bias and standard deviation of the n-sample average
    (relative to the true KL), and the probability / fraction of negative averages."""
    rows = []
    kl = exact.kl
    neg = exact.neg_n(n)
    for k in sampled.mean:
        sd_exact = exact.sd[k] / math.sqrt(n)

        def rel(x):
            return x / kl if kl > 0 else (0.0 if x == 0 else math.inf)

        rows.append({
            "estimator": k,
            "mean (exact)": exact.mean[k], "mean (sampled)": sampled.mean[k],
            "bias/KL (exact)": rel(exact.mean[k] - kl),
            "bias/KL (sampled)": rel(sampled.mean[k] - kl),
            "sd/KL (exact)": rel(sd_exact), "sd/KL (sampled)": rel(sampled.sd[k]),
            "P(< 0) (exact)": neg[k], "fraction < 0 (sampled)": sampled.negative[k]})
    return rows
