"""What every figure builder shares: the panel grid (side by side, or stacked for narrow screens),
unit checks, round ticks, layout finishing and boxed notes.

Every multi-panel builder takes ``stacked``: False lays its panels out in one row (desktop), True in
one column (phones: the app shows the stacked figure where Streamlit stacks its columns, at
≤ 640 px).  Legends always sit below the plot area, never over data or under Plotly's mode bar.
"""

from __future__ import annotations

import copy
import functools
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


_GRIDS: dict[str, tuple] = {}  # panel_grid's arguments -> (layout, grid ref, grid text)
MAX_GRIDS = 128


def panel_grid(n: int, stacked: bool, titles, *, widths=None, h_spacing: float = 0.1,
               specs=None, title_lines: int = 1, panel_px: int = PANEL_PX,
               **kwargs) -> go.Figure:
    """``n`` panels in one row (``stacked`` False) or one column, with ``titles`` above them.

    Stacked, the panels are ``panel_px`` tall each, separated by room for the upper panel's x
    axis and the lower panel's title (``title_lines`` lines), so no title or axis label
    overlaps; the figure's height is set to match (:func:`stacked_height`).  make_subplots runs
    once per distinct grid: later calls copy its layout and subplot grid (several times
    cheaper)."""
    key = repr((n, stacked, tuple(titles), widths, h_spacing, specs, title_lines, panel_px,
                sorted(kwargs.items())))
    parts = _GRIDS.get(key)
    if parts is None:
        fig = _make_grid(n, stacked, titles, widths=widths, h_spacing=h_spacing, specs=specs,
                         title_lines=title_lines, panel_px=panel_px, **kwargs)
        layout = fig.to_dict()["layout"]
        layout.pop("template", None)
        parts = (layout, fig._grid_ref, fig._grid_str)
        if len(_GRIDS) >= MAX_GRIDS:
            _GRIDS.clear()
        _GRIDS[key] = parts
    layout, grid_ref, grid_str = parts
    return go.Figure({"layout": copy.deepcopy(layout), "_grid_ref": copy.deepcopy(grid_ref),
                      "_grid_str": grid_str})


def _make_grid(n: int, stacked: bool, titles, *, widths=None, h_spacing: float = 0.1,
               specs=None, title_lines: int = 1, panel_px: int = PANEL_PX,
               **kwargs) -> go.Figure:
    """:func:`panel_grid` by make_subplots itself."""
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


@functools.lru_cache(maxsize=64)
def _skeleton(n: int, stacked: bool, titles: tuple, widths: tuple | None, h_spacing: float,
              title_lines: int, panel_px: int, shared: tuple) -> dict:
    """The layout (axes, domains, subplot titles; no template) that :func:`panel_grid` makes
    for these arguments, built once by Plotly and then copied: make_subplots is slow."""
    fig = panel_grid(n, stacked, titles, widths=None if widths is None else list(widths),
                     h_spacing=h_spacing, title_lines=title_lines, panel_px=panel_px,
                     **dict(shared))
    layout = fig.to_dict()["layout"]
    layout.pop("template", None)
    return layout


def _merge(dst: dict, src: dict) -> dict:
    """``src`` into ``dst`` the way Plotly's ``update`` does it: nested dicts merge, None
    removes a key; ``dst`` never shares a dict with ``src``."""
    for k, v in src.items():
        if v is None:
            dst.pop(k, None)
        elif isinstance(v, dict):
            if not isinstance(dst.get(k), dict):
                dst[k] = {}
            _merge(dst[k], v)
        else:
            dst[k] = v
    return dst


class Panels:
    """A figure of :func:`panel_grid`'s layout assembled as plain dicts (trace dicts in
    :attr:`data`, one :attr:`layout` dict) and turned into a ``go.Figure`` once, unvalidated
    (:meth:`figure`): Plotly's property machinery (validation on every ``add_trace`` and
    ``update_*``) cost several times more than the numbers drawn.  Callers write trace and
    layout dicts in Plotly's nested form (``{"title": {"text": ...}}``, not ``title_text``);
    tests/test_figures.py validates every builder's output in full."""

    def __init__(self, n: int, stacked: bool, titles, *, widths=None, h_spacing: float = 0.1,
                 title_lines: int = 1, panel_px: int = PANEL_PX, **shared):
        self.stacked = stacked
        self.data: list[dict] = []
        self.layout = copy.deepcopy(_skeleton(
            n, stacked, tuple(titles), None if widths is None else tuple(widths), h_spacing,
            title_lines, panel_px, tuple(sorted(shared.items()))))

    @staticmethod
    def _axes(i: int) -> tuple[str, str]:
        return ("x", "y") if i == 1 else (f"x{i}", f"y{i}")

    def add(self, trace: dict, i: int | None = None) -> None:
        """Trace dict ``trace`` (with its ``type``) in panel ``i`` (1-based; None: no axes)."""
        trace = _merge({}, trace)
        if i is not None:
            trace["xaxis"], trace["yaxis"] = self._axes(i)
        self.data.append(trace)

    def _update(self, letter: str, i: int | None, props: dict) -> None:
        names = ([k for k in self.layout if k.startswith(letter + "axis")] if i is None
                 else [letter + "axis" + ("" if i == 1 else str(i))])
        for name in names:
            _merge(self.layout.setdefault(name, {}), props)

    def xaxis(self, i: int | None = None, **props) -> None:
        """Merge ``props`` into panel ``i``'s x axis (None: every x axis)."""
        self._update("x", i, props)

    def yaxis(self, i: int | None = None, **props) -> None:
        """Merge ``props`` into panel ``i``'s y axis (None: every y axis)."""
        self._update("y", i, props)

    def domain(self, i: int) -> tuple[list[float], list[float]]:
        """Panel ``i``'s x and y domains in paper coordinates."""
        x, y = self._axes(i)
        return (self.layout["xaxis" + x[1:]]["domain"], self.layout["yaxis" + y[1:]]["domain"])

    def annotate(self, **props) -> None:
        self.layout.setdefault("annotations", []).append(_merge({}, props))

    def figure(self) -> go.Figure:
        """The go.Figure, built once without validation (the dicts are Plotly's own form)."""
        return go.Figure({"data": self.data, "layout": self.layout}, _validate=False)


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
    plot_px = fig.layout.meta["plot_px"] if stacked else height
    entries = len({t.legendgroup or t.name for t in fig.data
                   if t.showlegend is not False and t.name})
    fig.update_layout(**_finish_layout(plot_px, entries, stacked, title_lines, margin, layout))
    fig.layout.meta = {"plot_px": plot_px, "stacked": stacked}
    style.style_axes(fig)
    fig.update_annotations(font_size=style.FONT_SIZE)
    return fig


def _finish_layout(plot_px: float, entries: int, stacked: bool, title_lines: int,
                   margin: dict | None, layout: dict) -> dict:
    """The layout keywords :func:`_finish` sets, for ``entries`` legend entries."""
    top = TOP_PX + TITLE_PX * title_lines
    # room below for the legend, so Plotly never has to grow the margin (which would shrink the
    # plot area and with it the gaps between stacked panels): one entry a row on a phone
    rows = entries if stacked else 1 + entries // 6
    margin = {**WIDE_MARGIN, "t": top, "b": LEGEND_GAP_PX + 12 + 22 * rows, **(margin or {})}
    return style.base_layout(height=plot_px + margin["t"] + margin["b"],
                             legend=legend_below(plot_px), margin=margin, **layout)


def finish(pn: Panels, height: int, *, title_lines: int = 1, margin: dict | None = None,
           **layout) -> go.Figure:
    """:func:`_finish` for a :class:`Panels` figure: the same layout, then the go.Figure."""
    stacked = pn.stacked
    plot_px = pn.layout["meta"]["plot_px"] if stacked else height
    entries = len({t.get("legendgroup") or t.get("name") for t in pn.data
                   if t.get("showlegend") is not False and t.get("name")})
    _merge(pn.layout, _finish_layout(plot_px, entries, stacked, title_lines, margin, layout))
    pn.layout["meta"] = {"plot_px": plot_px, "stacked": stacked}
    grid = {"gridcolor": style.GRID, "zerolinecolor": style.GRID}
    pn.xaxis(**grid)
    pn.yaxis(**grid)
    for note in pn.layout.get("annotations", ()):
        _merge(note, {"font": {"size": style.FONT_SIZE}})
    return pn.figure()


def _note(fig: go.Figure, text: str, col: int, *, y: float = 0.5, size: int = 13,
          anchor: tuple[float, float] | None = None, stacked: bool = False) -> None:
    """A boxed explanatory note centred in subplot ``col``, placed in paper coordinates from the
    subplot's domain (so it stays put even when the subplot holds no data); an empty subplot
    gets an invisible trace at data point ``anchor`` so that it keeps its axes."""
    sub = fig.get_subplot(**at(stacked, col))
    fig.add_annotation(**_note_props(text, sub.xaxis.domain, sub.yaxis.domain, y, size))
    if anchor is not None:
        fig.add_trace(go.Scatter(**_anchor_props(anchor)), **at(stacked, col))


def _note_props(text: str, x_domain, y_domain, y: float, size: int) -> dict:
    (x0, x1), (y0, y1) = x_domain, y_domain
    return {"text": text, "xref": "paper", "yref": "paper", "x": (x0 + x1) / 2,
            "y": y0 + y * (y1 - y0), "xanchor": "center", "yanchor": "middle",
            "showarrow": False, "font": {"size": size}, "align": "center",
            "bordercolor": style.OTHER, "borderwidth": 1, "borderpad": 6,
            "bgcolor": "rgba(128,128,128,0.12)"}


def _anchor_props(anchor: tuple[float, float]) -> dict:
    return {"x": [anchor[0]], "y": [anchor[1]], "mode": "markers", "marker": {"opacity": 0},
            "hoverinfo": "skip", "showlegend": False, "name": "(note anchor)"}


def panel_note(pn: Panels, text: str, i: int, *, y: float = 0.5, size: int = 13,
               anchor: tuple[float, float] | None = None) -> None:
    """:func:`_note` for a :class:`Panels` figure."""
    pn.annotate(**_note_props(text, *pn.domain(i), y, size))
    if anchor is not None:
        pn.add({"type": "scatter", **_anchor_props(anchor)}, i)

