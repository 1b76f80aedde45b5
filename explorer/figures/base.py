"""What every figure builder shares: unit checks, round ticks, layout finishing and boxed notes."""

from __future__ import annotations

import math

import plotly.graph_objects as go

from explorer import style
from explorer.divergences import UNITS


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

