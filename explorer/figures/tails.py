"""Heavy-tails page: a Student-t target's log-density against its Gaussian fits, and both fits' KL
against ν."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from explorer import style
from explorer.distributions import Normal, as_mixture
from explorer.divergences import to_unit
from explorer.figures.base import _finish, at, panel_grid
from explorer.figures.fits import _q_trace


def tail_kl_curves(nus: Sequence[float], loc: float = 0.0, scale: float = 1.0) -> dict:
    """For p = Student-t(loc, scale, ν) at each ν: KL(p‖q_f) of the forward fit (∞ for ν ≤ 2,
    where no Gaussian has a finite one) and KL(q_r‖p) of the best reverse fit, in nats."""
    from explorer.distributions import StudentT
    from explorer.fitting import NoFiniteFitError, fit_gaussian

    forward, reverse = [], []
    for nu in nus:
        p = StudentT(loc, scale, float(nu))
        try:
            forward.append(fit_gaussian(p, "forward").kl)
        except NoFiniteFitError:
            forward.append(math.inf)
        reverse.append(fit_gaussian(p, "reverse").kl)
    return {"nu": [float(v) for v in nus], "forward": forward, "reverse": reverse}


def tails_figure(p, q_forward: Normal | None, q_reverse: Normal, curves: dict, nu: float, *,
                 unit: str = "nats", height: int = 380, stacked: bool = False) -> go.Figure:
    """Left: log-density of the Student-t p and its Gaussian fits far into the tails (a
    Gaussian's log-density falls like −x², the t's like −(ν+1)·log|x|).  Right: both fits' KL
    against ν (from ``curves``, see :func:`tail_kl_curves`), forward KL = ∞ shaded for ν ≤ 2,
    and the current ν marked."""
    fig = panel_grid(2, stacked, ("Tails: log density", "Best Gaussian's KL against ν"),
                     h_spacing=0.1, widths=[0.55, 0.45])
    comps = as_mixture(p).components
    span = 12 * max(c.scale for c in comps)
    centre = comps[0].loc
    x = np.linspace(centre - span, centre + span, 1201)
    fig.add_trace(go.Scatter(x=x, y=as_mixture(p).pdf(x), name="target p", mode="lines",
                             line={"color": style.TARGET, "width": 3},
                             hovertemplate="p(x) = %{y:.3g}<extra></extra>"), **at(stacked, 1))
    if q_forward is not None:
        fig.add_trace(_q_trace(q_forward, x, "forward fit q", style.FORWARD), **at(stacked, 1))
    fig.add_trace(_q_trace(q_reverse, x, "reverse fit q", style.REVERSE), **at(stacked, 1))
    fig.update_yaxes(type="log", range=[-8, 0.3], exponentformat="power", title_text="density",
                     **at(stacked, 1))
    fig.update_xaxes(title_text="x", **at(stacked, 1))
    nus = np.asarray(curves["nu"], dtype=float)
    f = np.asarray([to_unit(v, unit) for v in curves["forward"]], dtype=float)
    r = np.asarray([to_unit(v, unit) for v in curves["reverse"]], dtype=float)
    finite = np.isfinite(f)
    # both curves keep their legend entries whatever ν is (the forward one ends at ν = 2)
    fig.add_trace(go.Scatter(x=nus[finite], y=f[finite], mode="lines",
                             name="KL(p‖q_f) of the forward fit (∞ for ν ≤ 2)",
                             line={"color": style.FORWARD, "width": 3},
                             hovertemplate=f"ν = %{{x:.3g}}<br>KL(p‖q_f) = %{{y:.4g}} {unit}"
                                           "<extra></extra>"), **at(stacked, 2))
    fig.add_trace(go.Scatter(x=nus, y=r, mode="lines", name="KL(q_r‖p) of the reverse fit",
                             line={"color": style.REVERSE, "width": 3},
                             hovertemplate=f"ν = %{{x:.3g}}<br>KL(q_r‖p) = %{{y:.4g}} {unit}"
                                           "<extra></extra>"), **at(stacked, 2))
    top = float(np.nanmax(np.concatenate([f[finite][f[finite] < 5 * max(r.max(), 0.1)], r])))
    top = max(top * 1.3, 0.1)
    fig.add_vrect(x0=float(nus.min()), x1=2.0, fillcolor=style.rgba(style.OTHER, 0.22),
                  line_width=0, **at(stacked, 2))
    # the band's label in the panel's own (domain) coordinates: always inside the axis range
    fig.add_annotation(x=0.01, y=0.98, xref="x2 domain", yref="y2 domain", xanchor="left",
                       yanchor="top", showarrow=False, align="left", font={"size": 12},
                       text="ν ≤ 2:<br>KL(p‖q) = ∞<br>for every<br>Gaussian")
    fig.add_vline(x=nu, line={"color": style.ACCENT, "dash": "dot", "width": 2}, **at(stacked, 2))
    # annotations on a log axis take log10 positions (shapes take data values)
    fig.add_annotation(x=math.log10(nu), y=top * 0.55, xref="x2", yref="y2", text=f"ν = {nu:g}",
                       showarrow=False, xanchor="left", xshift=4,
                       font={"color": style.ACCENT})
    fig.update_xaxes(type="log", title_text="ν (degrees of freedom, log scale)",
                     range=[math.log10(float(nus.min())), math.log10(float(nus.max()))],
                     **style.log_ticks(float(nus.min()), float(nus.max())), **at(stacked, 2))
    fig.update_yaxes(range=[0, top], title_text=unit, **at(stacked, 2))
    return _finish(fig, height=height, stacked=stacked, hovermode="closest")
