"""What every figure builder shares: the panel grid (side by side, or stacked for narrow screens),
unit checks, round ticks, layout finishing and boxed notes.

Every multi-panel builder takes ``stacked``: False lays its panels out in one row (desktop), True in
one column (phones: the app shows the stacked figure where Streamlit stacks its columns, at
≤ 640 px).  Legends always sit below the plot area, never over data or under Plotly's mode bar.
"""

from __future__ import annotations

import math

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer import style
from explorer.divergences import UNITS

PANEL_PX = 330  # plot height of one panel, stacked
TITLE_PX = 30  # room for one line of a subplot title
XTITLE_PX = 58  # an x axis's tick labels and title, below its panel
TOP_PX = 40  # above the first subplot title
LEGEND_GAP_PX = 66  # from a panel's bottom edge to the legend's top (below the x-axis title)
WIDE_MARGIN = {"l": 60, "r": 20, "t": 60}


def at(stacked: bool, i: int) -> dict:
    """``row``/``col`` keywords of panel ``i`` (1-based) in the grid of :func:`panel_grid`."""
    return {"row": i, "col": 1} if stacked else {"row": 1, "col": i}


def panel_grid(n: int, stacked: bool, titles, *, widths=None, h_spacing: float = 0.1,
               specs=None, title_lines: int = 1, panel_px: int = PANEL_PX,
               **kwargs) -> go.Figure:
    """``n`` panels in one row (``stacked`` False) or one column, with ``titles`` above them.

    Stacked, the panels are ``panel_px`` tall each, separated by room for the upper panel's x
    axis and the lower panel's title (``title_lines`` lines), so no title or axis label
    overlaps; the figure's height is set to match (:func:`stacked_height`)."""
    if stacked:
        gap = XTITLE_PX + TITLE_PX * title_lines
        plot_h = n * panel_px + (n - 1) * gap
        fig = make_subplots(rows=n, cols=1, subplot_titles=titles,
                            specs=None if specs is None else [[s] for s in specs[0]],
                            vertical_spacing=gap / plot_h, **kwargs)
        fig.layout.meta = {"plot_px": plot_h}
        return fig
    fig = make_subplots(rows=1, cols=n, subplot_titles=titles, column_widths=widths,
                        horizontal_spacing=h_spacing, specs=specs, **kwargs)
    return fig


def legend_below(plot_px: float) -> dict:
    """A horizontal legend under the plot area, clear of the x-axis title (``plot_px``: the
    height of the plot area in pixels; Plotly grows the bottom margin to fit the legend)."""
    return {"orientation": "h", "xanchor": "left", "x": 0, "yanchor": "top",
            "y": -LEGEND_GAP_PX / plot_px, "title": {"text": ""}}


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


def _finish(fig: go.Figure, height: int, stacked: bool = False, *, title_lines: int = 1,
            margin: dict | None = None, **layout) -> go.Figure:
    """Shared layout: ``height`` is the plot area's height side by side (panels of a stacked
    figure keep the height :func:`panel_grid` gave them); the legend goes below it."""
    top = TOP_PX + TITLE_PX * title_lines
    plot_px = fig.layout.meta["plot_px"] if stacked else height
    # room below for the legend, so Plotly never has to grow the margin (which would shrink the
    # plot area and with it the gaps between stacked panels): one entry a row on a phone
    entries = len({t.legendgroup or t.name for t in fig.data
                   if t.showlegend is not False and t.name})
    rows = entries if stacked else 1 + entries // 6
    margin = {**WIDE_MARGIN, "t": top, "b": LEGEND_GAP_PX + 12 + 22 * rows, **(margin or {})}
    fig.update_layout(**style.base_layout(
        height=plot_px + margin["t"] + margin["b"],
        legend=legend_below(plot_px), margin=margin, **layout))
    fig.layout.meta = {"plot_px": plot_px, "stacked": stacked}
    style.style_axes(fig)
    fig.update_annotations(font_size=style.FONT_SIZE)
    return fig


def _note(fig: go.Figure, text: str, col: int, *, y: float = 0.5, size: int = 13,
          anchor: tuple[float, float] | None = None, stacked: bool = False) -> None:
    """A boxed explanatory note centred in subplot ``col``, placed in paper coordinates from the
    subplot's domain (so it stays put even when the subplot holds no data); an empty subplot
    gets an invisible trace at data point ``anchor`` so that it keeps its axes."""
    sub = fig.get_subplot(**at(stacked, col))
    (x0, x1), (y0, y1) = sub.xaxis.domain, sub.yaxis.domain
    fig.add_annotation(text=text, xref="paper", yref="paper", x=(x0 + x1) / 2,
                       y=y0 + y * (y1 - y0), xanchor="center", yanchor="middle",
                       showarrow=False, font={"size": size},
                       align="center", bordercolor=style.OTHER, borderwidth=1, borderpad=6,
                       bgcolor="rgba(128,128,128,0.12)")
    if anchor is not None:
        fig.add_trace(go.Scatter(x=[anchor[0]], y=[anchor[1]], mode="markers",
                                 marker={"opacity": 0}, hoverinfo="skip", showlegend=False,
                                 name="(note anchor)"), **at(stacked, col))

