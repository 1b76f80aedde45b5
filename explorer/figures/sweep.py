"""The /sweep page's figure, and the branch drawing it shares with /alpha: every local optimum of
a sweep (:func:`explorer.sweeps.sweep`) as one line per branch against the swept parameter, the
global optimum drawn over them thick, births (▲), deaths (✕) and switches of the global optimum
(dotted vertical lines) marked, and the current value as a solid vertical line."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from explorer import style
from explorer.figures.base import _check_unit, _finish, at, panel_grid
from explorer.figures.text import fmt_num

# a branch's thin line; never the colours of the global optimum (ACCENT) or the current-value
# line (MANUAL), which a branch drawn in them would be mistaken for
BRANCH_COLOURS = (style.REVERSE, style.SKY, style.FORWARD, style.TARGET)
QUANTITIES = {"sigma": "σ", "mu": "μ", "value": "KL"}


def _values(sw, b: int, what: str, factor: float) -> list[float]:
    br = sw.branches[b]
    vals = getattr(br, what)
    return [v * factor for v in vals] if what == "value" else list(vals)


def _runs(best: Sequence[int]):
    """(branch, first index, last index) of each run of one global branch."""
    out, start = [], 0
    for j in range(1, len(best) + 1):
        if j == len(best) or best[j] != best[start]:
            if best[start] >= 0:
                out.append((best[start], start, j - 1))
            start = j
    return out


def add_branches(fig, sw, what: str, pos: dict, *, show_legend: bool, factor: float = 1.0,
                 label: str = "KL") -> None:
    """Every branch of ``sw`` (a Sweep) as a thin line of ``what`` ("mu", "sigma", "value")
    against the parameter, the global optimum thick over it, births and deaths marked."""
    x = sw.values
    name = QUANTITIES[what] if what != "value" else label
    for b, br in enumerate(sw.branches):
        colour = BRANCH_COLOURS[b % len(BRANCH_COLOURS)]
        fig.add_trace(go.Scatter(
            x=[float(x[j]) for j in br.index], y=_values(sw, b, what, factor),
            mode="lines+markers" if len(br.index) == 1 else "lines",
            name="local optima (a line per branch)", legendgroup="branches",
            showlegend=show_legend and b == 0, line={"color": colour, "width": 1.5},
            marker={"size": 5, "color": colour},
            hovertemplate=f"branch {b + 1}<br>%{{x:.4g}}: {name} = %{{y:.4g}}<extra></extra>"),
            **pos)
    for i, (b, j0, j1) in enumerate(_runs(sw.best)):
        br = sw.branches[b]
        js = [j for j in br.index if j0 <= j <= j1]
        ys = _values(sw, b, what, factor)
        fig.add_trace(go.Scatter(
            x=[float(x[j]) for j in js], y=[ys[br.index.index(j)] for j in js],
            mode="lines+markers" if len(js) == 1 else "lines", name="global optimum",
            legendgroup="global", showlegend=show_legend and i == 0,
            line={"color": style.ACCENT, "width": 4}, marker={"size": 7, "color": style.ACCENT},
            hovertemplate=f"global optimum<br>%{{x:.4g}}: {name} = %{{y:.4g}}<extra></extra>"),
            **pos)
    for kind, events, symbol, at_end in (("birth", sw.births, "triangle-up", False),
                                         ("death", sw.deaths, "x", True)):
        xs, ys = [], []
        for b, _ in events:
            br = sw.branches[b]
            k = -1 if at_end else 0
            if (br.index[k] == 0 and not at_end) or (at_end and br.index[k] == len(x) - 1):
                continue  # alive at the end of the range: not an event
            xs.append(float(x[br.index[k]]))
            ys.append(_values(sw, b, what, factor)[k])
        if xs:
            fig.add_trace(go.Scatter(
                x=xs, y=ys, mode="markers", name=kind, legendgroup=kind,
                showlegend=show_legend,
                marker={"symbol": symbol, "size": 11, "color": style.OTHER,
                        "line": {"width": 1.5, "color": style.OTHER}},
                hovertemplate=f"{kind} of a branch at %{{x:.4g}}<extra></extra>"), **pos)


def mu_range(sw) -> list[float] | None:
    """A μ axis range padded by a quarter of the narrowest optimum's σ, so that optima at one μ
    up to round-off (±1e-17 on a symmetric target) draw as a flat line, not as noise."""
    mus = [m for br in sw.branches for m in br.mu]
    if not mus:
        return None
    lo, hi = min(mus), max(mus)
    pad = max(0.08 * (hi - lo), 0.25 * min(s for br in sw.branches for s in br.sigma))
    return [lo - pad, hi + pad]


def mark_switches(fig, sw, pos: dict) -> None:
    for _, _, v in sw.switches:
        fig.add_vline(x=float(v), line={"color": style.OTHER, "width": 1.5, "dash": "dot"},
                      **pos)


def mark_current(fig, value: float, pos: dict) -> None:
    fig.add_vline(x=float(value), line={"color": style.MANUAL, "width": 2.5}, **pos)


def events_text(sw, what: str = "parameter") -> str:
    """One line: how many branches, births, deaths and switches, and where the switches are."""
    n_b = sum(1 for b, _ in sw.births if sw.branches[b].index[0] > 0)
    n_d = sum(1 for b, _ in sw.deaths if sw.branches[b].index[-1] < len(sw.values) - 1)
    sw_at = ", ".join(fmt_num(v) for _, _, v in sw.switches)
    switch = (f"the global optimum switches branch at {what} = {sw_at}" if sw_at
              else "the global optimum stays on one branch")
    return (f"{len(sw.branches)} branch{'es' if len(sw.branches) != 1 else ''} of local optima; "
            f"{n_b} birth{'s' if n_b != 1 else ''}, {n_d} death{'s' if n_d != 1 else ''}; "
            f"{switch}.")


def sweep_figure(sw, current: float | None, *, x_title: str, unit: str = "nats",
                 height: int = 360, stacked: bool = False) -> go.Figure:
    """Three panels against the swept parameter: σ, μ and KL of every branch of optima; the
    current target's value (``current``, None: outside the range) as a solid line."""
    factor = _check_unit(unit)
    fig = panel_grid(3, stacked, ("σ of each optimum", "μ of each optimum",
                                  f"reverse KL(q‖p), {unit}"), h_spacing=0.07,
                     shared_xaxes=not stacked)
    for i, what in enumerate(("sigma", "mu", "value"), start=1):
        pos = at(stacked, i)
        add_branches(fig, sw, what, pos, show_legend=i == 1, factor=factor,
                     label=f"KL(q‖p), {unit}")
        mark_switches(fig, sw, pos)
        if current is not None:
            mark_current(fig, current, pos)
        if stacked or i == 2:
            fig.update_xaxes(title_text=x_title, **pos)
    fig.update_yaxes(range=mu_range(sw), **at(stacked, 2))
    fig.update_xaxes(range=[float(sw.values[0]), float(sw.values[-1])])
    if current is not None:  # a legend entry for the solid line (shapes have none)
        fig.add_trace(go.Scatter(x=[float(sw.values[0])], y=[None], mode="lines",
                                 name="current target", legendgroup="current",
                                 line={"color": style.MANUAL, "width": 2.5},
                                 hoverinfo="skip"), **at(stacked, 1))
    return _finish(fig, height=height, stacked=stacked, hovermode="closest")
