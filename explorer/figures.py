"""Figures of the main page (the two fits, the manual q) and the display formatting of numbers.

Pure Plotly and numpy: every function takes explorer distributions and returns a figure or plain
data, so the app only lays them out.  Densities are drawn on :func:`explorer.grid.x_grid` (≤ 2000
points a trace) over a range that holds p and every q drawn, so nothing is clipped.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer import style
from explorer.distributions import Normal, as_mixture
from explorer.divergences import kl_divergence, to_unit, why_infinite
from explorer.grid import x_grid, x_range

FORWARD_TITLE = "Forward KL(p‖q): mass-covering"
REVERSE_TITLE = "Reverse KL(q‖p): mode-seeking"
INF = "∞"
UNIT_SHORT = {"nats": "nats", "bits": "bits"}
ZERO_BELOW = 1e-12  # |KL| below this is round-off of a zero divergence


# --- formatting ---------------------------------------------------------------------------------
def fmt_num(x: float, digits: int = 4) -> str:
    """``x`` to ``digits`` significant digits; ∞ as "∞", a minus sign as "−", never "nan"."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    x = float(x)
    if math.isinf(x):
        return INF if x > 0 else "−" + INF
    if x == 0 or abs(x) < 10 ** -(digits + 8):
        return "0"
    s = f"{x:.{digits}g}"
    if "e" in s:
        mant, exp = s.split("e")
        s = f"{mant}×10{str(int(exp)).translate(_SUPERSCRIPT)}"
    return s.replace("-", "−")


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def fmt_mu_sigma(q: Normal) -> tuple[str, str]:
    """μ and σ of a Gaussian as text; a μ within optimiser round-off of 0 (1e-7 σ) shows 0."""
    mu = 0.0 if abs(q.mean) < 1e-7 * q.std else q.mean
    return fmt_num(mu), fmt_num(q.std)


def fmt_kl(value_nats: float, unit: str = "nats", digits: int = 4) -> str:
    """A divergence given in nats, shown in ``unit``: "0.6888 nats", "∞", "0 bits"."""
    if value_nats is None or math.isnan(value_nats):
        return "—"
    if math.isinf(value_nats):
        return INF
    if abs(value_nats) < ZERO_BELOW:
        return f"0 {unit}"
    return f"{fmt_num(to_unit(value_nats, unit), digits)} {unit}"


def safe_kl(p, q) -> float:
    """KL(p‖q) in nats, never NaN (∞ where infinite)."""
    v = kl_divergence(p, q)
    return math.inf if math.isnan(v) else v


# --- figures ------------------------------------------------------------------------------------
def _grid(p, qs: Sequence[Normal], n: int = 500) -> np.ndarray:
    return x_grid(p, *qs, n=n)


def _density_traces(fig, p, x, row: int, col: int, show_legend: bool) -> None:
    """p filled, and (for a mixture) its weighted components as faint dotted lines."""
    pm = as_mixture(p)
    active = [(w, c) for w, c in zip(pm.weights, pm.components, strict=True) if w > 0]
    if len(active) > 1:
        for i, (w, c) in enumerate(active):
            fig.add_trace(go.Scatter(
                x=x, y=w * c.pdf(x), mode="lines", name="components of p",
                legendgroup="components", showlegend=show_legend and i == 0,
                line={"color": style.rgba(style.TARGET, 0.55), "width": 1.2, "dash": "dot"},
                hoverinfo="skip"), row=row, col=col)
    fig.add_trace(go.Scatter(
        x=x, y=pm.pdf(x), mode="lines", name="target p", legendgroup="p",
        showlegend=show_legend, fill="tozeroy", fillcolor=style.rgba(style.TARGET, 0.22),
        line={"color": style.TARGET, "width": 2},
        hovertemplate="p(x) = %{y:.4g}<extra></extra>"), row=row, col=col)


def _q_trace(q: Normal, x, name: str, colour: str, *, dash: str | None = None,
             width: float = 3.0, opacity: float = 1.0, show_legend: bool = True,
             group: str | None = None) -> go.Scatter:
    return go.Scatter(
        x=x, y=q.pdf(x), mode="lines", name=name, legendgroup=group or name,
        showlegend=show_legend, opacity=opacity,
        line={"color": colour, "width": width, "dash": dash},
        hovertemplate=f"{name}: %{{y:.4g}}<extra></extra>")


def fit_summary(p, q: Normal, unit: str = "nats") -> str:
    """μ, σ and both KLs of one fit, as the lines of a figure annotation."""
    mu, sigma = fmt_mu_sigma(q)
    return (f"μ = {mu}, σ = {sigma}<br>"
            f"KL(p‖q) = {fmt_kl(safe_kl(p, q), unit)}<br>"
            f"KL(q‖p) = {fmt_kl(safe_kl(q, p), unit)}")


def _note(fig, text: str, xref: str, yref: str, *, x=0.99, y=0.97, xanchor="right") -> None:
    fig.add_annotation(text=text, xref=xref, yref=yref, x=x, y=y, xanchor=xanchor,
                       yanchor="top", showarrow=False, align="left",
                       bgcolor="rgba(128,128,128,0.14)", borderpad=6, font={"size": 13})


def fits_figure(p, q_forward: Normal | None, q_reverse: Normal,
                other_optima: Sequence[Normal] = (), *, unit: str = "nats",
                forward_reason: str | None = None, height: int = 440) -> go.Figure:
    """Two panels side by side: p with its forward-KL fit (left) and its reverse-KL fit (right),
    the other reverse-KL optima faint, each panel annotated with μ, σ and both KLs of its fit.

    ``q_forward`` is None where no Gaussian has finite KL(p‖q); ``forward_reason`` says why.
    """
    qs = [q for q in (q_forward, q_reverse, *other_optima) if q is not None]
    x = _grid(p, qs)
    fig = make_subplots(rows=1, cols=2, shared_xaxes=True, shared_yaxes=True,
                        horizontal_spacing=0.04, subplot_titles=(FORWARD_TITLE, REVERSE_TITLE))
    _density_traces(fig, p, x, 1, 1, show_legend=True)
    _density_traces(fig, p, x, 1, 2, show_legend=False)
    if q_forward is not None:
        fig.add_trace(_q_trace(q_forward, x, "forward fit q", style.FORWARD), row=1, col=1)
        _note(fig, fit_summary(p, q_forward, unit), "x domain", "y domain")
    else:
        infinite = _forward_infinite(p)
        _note(fig, ("No forward fit: KL(p‖q) = ∞<br>for every Gaussian q"
                    + ("<br>(p's variance is infinite)" if forward_reason else "")) if infinite
              else "No certified forward fit:<br>the optimum lies outside<br>the allowed σ, μ",
              "x domain", "y domain", x=0.01, y=0.97, xanchor="left")
    for i, q in enumerate(other_optima):
        fig.add_trace(_q_trace(q, x, "other reverse optima", style.REVERSE, dash="dash",
                               width=2.0, opacity=0.45, show_legend=i == 0,
                               group="others"), row=1, col=2)
    fig.add_trace(_q_trace(q_reverse, x, "reverse fit q", style.REVERSE), row=1, col=2)
    _note(fig, fit_summary(p, q_reverse, unit), "x2 domain", "y2 domain")
    fig.update_layout(**style.base_layout(height=height, margin={"l": 50, "r": 20, "t": 80,
                                                                  "b": 45}))
    fig.update_layout(legend={"y": 1.14})
    fig.update_xaxes(title_text="x")
    fig.update_yaxes(title_text="density", row=1, col=1)
    style.style_axes(fig)
    return fig


def manual_figure(p, q_manual: Normal, q_forward: Normal | None, q_reverse: Normal,
                  other_optima: Sequence[Normal] = (), *, height: int = 380) -> go.Figure:
    """Left: p, the user's q and both optimal fits (dashed).  Right: the (μ, σ) plane with the
    forward optimum, every reverse optimum and the user's q marked."""
    fits = [q for q in (q_forward, q_reverse) if q is not None]
    x = _grid(p, [q_manual, *fits])
    fig = make_subplots(rows=1, cols=2, column_widths=[0.68, 0.32], horizontal_spacing=0.1,
                        subplot_titles=("p and your q", "where the optima are (μ, σ)"))
    _density_traces(fig, p, x, 1, 1, show_legend=True)
    if q_forward is not None:
        fig.add_trace(_q_trace(q_forward, x, "forward optimum", style.FORWARD, dash="dash",
                               width=2), row=1, col=1)
    fig.add_trace(_q_trace(q_reverse, x, "reverse optimum", style.REVERSE, dash="dash",
                           width=2), row=1, col=1)
    fig.add_trace(_q_trace(q_manual, x, "your q", style.MANUAL, width=3.5), row=1, col=1)
    # parameter plane
    if q_forward is not None:
        fig.add_trace(go.Scatter(x=[q_forward.mean], y=[q_forward.std], mode="markers",
                                 name="forward optimum", legendgroup="forward optimum",
                                 showlegend=False,
                                 marker={"symbol": "star", "size": 16, "color": style.FORWARD},
                                 hovertemplate="forward optimum<br>μ=%{x:.4g}, σ=%{y:.4g}"
                                               "<extra></extra>"), row=1, col=2)
    opt = [q_reverse, *[q for q in other_optima if q != q_reverse]]
    fig.add_trace(go.Scatter(x=[q.mean for q in opt], y=[q.std for q in opt], mode="markers",
                             name="reverse optima", legendgroup="reverse optimum",
                             showlegend=False,
                             marker={"symbol": "diamond", "size": 13, "color": style.REVERSE,
                                     "line": {"width": 1, "color": "white"}},
                             hovertemplate="reverse optimum<br>μ=%{x:.4g}, σ=%{y:.4g}"
                                           "<extra></extra>"), row=1, col=2)
    fig.add_trace(go.Scatter(x=[q_manual.mean], y=[q_manual.std], mode="markers",
                             name="your q", legendgroup="your q", showlegend=False,
                             marker={"symbol": "circle", "size": 12, "color": style.MANUAL},
                             hovertemplate="your q<br>μ=%{x:.4g}, σ=%{y:.4g}<extra></extra>"),
                  row=1, col=2)
    fig.update_layout(**style.base_layout(height=height, hovermode="closest",
                                          margin={"l": 50, "r": 20, "t": 80, "b": 45}))
    fig.update_layout(legend={"y": 1.16})
    fig.update_xaxes(title_text="x", row=1, col=1)
    # The (μ, σ) plane spans p's drawing range and the σ's shown (with room), so optima that
    # coincide up to rounding (μ = ±1e-17) do not blow the axis up into noise.
    lo, hi = x_range(p)
    sds = [q.std for q in (q_manual, *fits, *other_optima)]
    fig.update_xaxes(title_text="μ", range=[lo, hi], row=1, col=2)
    fig.update_yaxes(title_text="density", row=1, col=1)
    e_lo, e_hi = math.log10(min(sds)) - 0.3, math.log10(max(sds)) + 0.3
    fig.update_yaxes(title_text="σ (log scale)", type="log", range=[e_lo, e_hi],
                     **style.log_ticks(10**e_lo, 10**e_hi), row=1, col=2)
    style.style_axes(fig)
    return fig


# --- export ---------------------------------------------------------------------------------------
def json_safe(value):
    """``value`` with every non-finite float replaced: ∞ as the string "inf" ("-inf"), NaN as
    None, so ``json.dumps(..., allow_nan=False)`` always succeeds."""
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return value
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.floating | np.integer):
        return json_safe(value.item())
    return value


def q_record(p, q: Normal, unit: str) -> dict:
    """μ, σ and both KLs (in ``unit``) of a Gaussian q against p."""
    return {"mu": q.mean, "sigma": q.std,
            "kl_p_q": to_unit(safe_kl(p, q), unit), "kl_q_p": to_unit(safe_kl(q, p), unit)}


def _forward_infinite(p) -> bool:
    """Whether every Gaussian has KL(p‖q) = ∞ (else a missing forward fit is uncertified)."""
    return why_infinite(p, Normal(0.0, 1.0)) is not None


def results_document(components, p, q_forward: Normal | None, forward_reason: str | None,
                     q_reverse: Normal, reverse_start: Normal | None, optima: Sequence[Normal],
                     q_manual: Normal, unit: str, query: dict | None = None) -> dict:
    """Everything the main page shows, as plain data: p's components (``ComponentSpec``), both
    fits, every reverse optimum and the manual q, each with μ, σ, KL(p‖q) and KL(q‖p) in ``unit``.
    A missing forward fit is ``{"exists": False, "reason": …, "kl_p_q": inf}``."""
    from explorer.presets import FAMILIES

    pm = as_mixture(p)
    return {
        "app": "KL Explorer",
        "unit": unit,
        "link_query": dict(query or {}),
        "target": [{"family": FAMILIES[c.family], "weight": w, "raw_weight": c.weight,
                    "loc": c.loc, "scale": c.scale, **({"df": c.df} if c.family == "t" else {})}
                   for c, w in zip(components, pm.weights, strict=True)],
        "forward_fit": ({"exists": True, **q_record(p, q_forward, unit)} if q_forward is not None
                        else {"exists": False, "reason": forward_reason,
                              "kl_p_q": math.inf if _forward_infinite(p) else None}),
        "reverse_fit": {**q_record(p, q_reverse, unit),
                        "start": (None if reverse_start is None
                                  else {"mu": reverse_start.mean, "sigma": reverse_start.std})},
        "reverse_optima": [q_record(p, q, unit) for q in optima],
        "manual_q": q_record(p, q_manual, unit),
    }


def results_json(document: dict) -> str:
    """Strict JSON (no NaN/Infinity tokens): ∞ is written as the string "inf"."""
    return json.dumps(json_safe(document), indent=2, allow_nan=False, ensure_ascii=False)


# --- heavy tails ----------------------------------------------------------------------------------
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
                 unit: str = "nats", height: int = 440) -> go.Figure:
    """Left: log-density of the Student-t p and its Gaussian fits far into the tails (a
    Gaussian's log-density falls like −x², the t's like −(ν+1)·log|x|).  Right: both fits' KL
    against ν (from ``curves``, see :func:`tail_kl_curves`), forward KL = ∞ shaded for ν ≤ 2,
    and the current ν marked."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1, column_widths=[0.55, 0.45],
                        subplot_titles=("Tails: log density", "Best Gaussian's KL against ν"))
    comps = as_mixture(p).components
    span = 12 * max(c.scale for c in comps)
    centre = comps[0].loc
    x = np.linspace(centre - span, centre + span, 1201)
    fig.add_trace(go.Scatter(x=x, y=as_mixture(p).pdf(x), name="target p", mode="lines",
                             line={"color": style.TARGET, "width": 3},
                             hovertemplate="p(x) = %{y:.3g}<extra></extra>"), row=1, col=1)
    if q_forward is not None:
        fig.add_trace(_q_trace(q_forward, x, "forward fit q", style.FORWARD), row=1, col=1)
    fig.add_trace(_q_trace(q_reverse, x, "reverse fit q", style.REVERSE), row=1, col=1)
    fig.update_yaxes(type="log", range=[-8, 0.3], exponentformat="power", title_text="density",
                     row=1, col=1)
    fig.update_xaxes(title_text="x", row=1, col=1)
    nus = np.asarray(curves["nu"], dtype=float)
    f = np.asarray([to_unit(v, unit) for v in curves["forward"]], dtype=float)
    r = np.asarray([to_unit(v, unit) for v in curves["reverse"]], dtype=float)
    finite = np.isfinite(f)
    fig.add_trace(go.Scatter(x=nus[finite], y=f[finite], mode="lines", showlegend=False,
                             name="KL(p‖q_f)", line={"color": style.FORWARD, "width": 3},
                             hovertemplate=f"ν = %{{x:.3g}}<br>KL(p‖q_f) = %{{y:.4g}} {unit}"
                                           "<extra></extra>"), row=1, col=2)
    fig.add_trace(go.Scatter(x=nus, y=r, mode="lines", showlegend=False, name="KL(q_r‖p)",
                             line={"color": style.REVERSE, "width": 3},
                             hovertemplate=f"ν = %{{x:.3g}}<br>KL(q_r‖p) = %{{y:.4g}} {unit}"
                                           "<extra></extra>"), row=1, col=2)
    top = float(np.nanmax(np.concatenate([f[finite][f[finite] < 5 * max(r.max(), 0.1)], r])))
    top = max(top * 1.3, 0.1)
    fig.add_vrect(x0=float(nus.min()), x1=2.0, fillcolor=style.rgba(style.OTHER, 0.22),
                  line_width=0, row=1, col=2)
    # annotations on a log axis take log10 positions (shapes take data values)
    fig.add_annotation(x=math.log10(float(nus.min())), y=top * 0.95, xref="x2", yref="y2",
                       xanchor="left",
                       yanchor="top", showarrow=False, align="left",
                       text="ν ≤ 2: KL(p‖q) = ∞<br>for every Gaussian")
    fig.add_vline(x=nu, line={"color": style.ACCENT, "dash": "dot", "width": 2}, row=1, col=2)
    fig.add_annotation(x=math.log10(nu), y=top * 0.55, xref="x2", yref="y2", text=f"ν = {nu:g}",
                       showarrow=False, xanchor="left", xshift=4,
                       font={"color": style.ACCENT})
    fig.update_xaxes(type="log", title_text="ν (degrees of freedom, log scale)",
                     **style.log_ticks(float(nus.min()), float(nus.max())), row=1, col=2)
    fig.update_yaxes(range=[0, top], title_text=unit, row=1, col=2)
    fig.update_layout(**style.base_layout(height=height, hovermode="closest",
                                          margin={"l": 60, "r": 20, "t": 80, "b": 50}))
    fig.update_layout(legend={"y": 1.14})
    style.style_axes(fig)
    return fig
