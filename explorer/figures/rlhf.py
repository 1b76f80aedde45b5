"""RLHF page: π_ref beside the tilted optimum π*_β, and the reward–KL trade-off as β varies."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from explorer import style
from explorer.figures.base import _check_unit, _finish, at, panel_grid
from explorer.figures.text import fmt
from explorer.text import as_text


def plain(label: str) -> str:
    """A user's label as literal text in a Plotly figure (which renders HTML-like tags)."""
    return as_text(label, "plotly")


def rlhf_figure(reference, policy, frontier, current: tuple[float, float], ends: dict,
                best: str, unit: str = "nats", stacked: bool = False) -> go.Figure:
    """Left: π_ref and π*_β per response.  Right: E_π*[r] against KL(π*‖π_ref) over β
    (``frontier`` = (β, KL nats, E[r]) arrays), ``current`` = (KL, E[r]) marked, and the two
    ends: β → 0 (all mass on ``best``) and β → ∞ (π_ref)."""
    factor = _check_unit(unit)
    labels = [plain(v) for v in reference.labels]
    fig = panel_grid(2, stacked, ("Reference π_ref and optimum π*_β",
                                  "Reward–KL trade-off as β varies"), h_spacing=0.12,
                     panel_px=300)
    for probs, name, colour in ((reference.probs, "π_ref", style.OTHER),
                                (policy.probs, "π*_β", style.TARGET)):
        fig.add_trace(go.Bar(x=labels, y=list(probs), name=name, marker_color=colour,
                             offsetgroup=name,
                             hovertemplate=f"{name}(%{{x}}) = %{{y:.4g}}<extra></extra>"),
                      **at(stacked, 1))
    betas, kls, rewards = frontier
    fig.add_trace(go.Scatter(x=kls * factor, y=rewards, mode="lines", name="optimum over β",
                             line={"color": style.TARGET, "width": 2.5}, customdata=betas,
                             hovertemplate=(f"β = %{{customdata:.3g}}<br>KL = %{{x:.4g}} {unit}"
                                            "<br>E[r] = %{y:.4g}<extra></extra>")),
                  **at(stacked, 2))
    fig.add_trace(go.Scatter(
        x=[ends["kl_hack"] * factor, 0.0], y=[ends["reward_hack"], ends["reward_ref"]],
        mode="markers", name="ends: β → 0 (reward hacking), β → ∞ (π_ref)",
        marker={"symbol": "diamond-open", "size": 12, "color": style.OTHER,
                "line": {"width": 2}},
        text=[f"β → 0: all on '{plain(best)}'", "β → ∞: π* = π_ref"],
        hovertemplate="%{text}<br>KL = %{x:.4g}<br>E[r] = %{y:.4g}<extra></extra>"),
        **at(stacked, 2))
    kl, reward = current
    fig.add_trace(go.Scatter(x=[kl * factor], y=[reward], mode="markers",
                             name=f"current β: KL = {fmt(kl * factor)} {unit}, "
                                  f"E[r] = {fmt(reward)}",
                             marker={"size": 14, "color": style.ACCENT, "symbol": "circle"},
                             hovertemplate="current β<extra></extra>"), **at(stacked, 2))
    fig.update_xaxes(title_text="response", type="category", **at(stacked, 1))
    fig.update_yaxes(title_text="probability", rangemode="tozero", **at(stacked, 1))
    fig.update_xaxes(title_text=f"KL(π*‖π_ref), {unit}", rangemode="tozero", **at(stacked, 2))
    fig.update_yaxes(title_text="expected reward E[r]", **at(stacked, 2))
    return _finish(fig, height=360, stacked=stacked, barmode="group", hovermode="closest")


def implicit_reward_rows(labels, reward, implicit) -> list[dict]:
    """Table rows: r, β log(π*/π_ref) and their difference (the same for every response)."""
    return [{"response": str(label), "reward r": float(r), "β log(π*/π_ref)": float(h),
             "r − β log(π*/π_ref)": float(r - h)}
            for label, r, h in zip(labels, reward, np.asarray(implicit), strict=True)]
