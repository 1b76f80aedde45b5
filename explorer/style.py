"""Shared look of every figure: a colour-blind-safe palette (Okabe–Ito) and a Plotly layout that
reads on both Streamlit's light and dark themes (transparent background, mid-grey grid)."""

from __future__ import annotations

import math

# Okabe & Ito (2008), distinguishable under the common colour-vision deficiencies.
TARGET = "#0072B2"  # blue: the target p (filled)
FORWARD = "#E69F00"  # orange: the forward-KL fit, KL(p‖q)
REVERSE = "#CC79A7"  # reddish purple: the reverse-KL fit, KL(q‖p)
MANUAL = "#009E73"  # bluish green: the user's own q
OTHER = "#999999"  # grey: other local optima, components, paths
ACCENT = "#D55E00"  # vermillion: markers of optima
SKY = "#56B4E9"

FONT_SIZE = 14
GRID = "rgba(128,128,128,0.25)"
# The look of a chart drawn without Streamlit's theme (plain_theme): Streamlit's body font, and
# one mid-grey for text that reads on Streamlit's light and dark backgrounds alike (4.3:1 on
# white, 4.4:1 on its dark #0e1117; the theme's own tick grey #808495 is 3.7:1 on white).
FONT_FAMILY = '"Source Sans", sans-serif'
TEXT = "#76798a"
SMALL_FONT_SIZE = 12  # ticks and legend, as Streamlit's theme sets them


def rgba(hex_colour: str, alpha: float) -> str:
    """``#RRGGBB`` as an rgba() string with opacity ``alpha``."""
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def base_layout(**overrides) -> dict:
    """Layout keywords for ``fig.update_layout``: transparent, theme-neutral, compact."""
    layout = {
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"size": FONT_SIZE},
        "margin": {"l": 50, "r": 20, "t": 60, "b": 50},
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        "hovermode": "x unified",
    }
    layout.update(overrides)
    return layout


def log_ticks(lo: float, hi: float, mantissas=(1, 2, 5)) -> dict:
    """Axis keywords for a log axis over [lo, hi] with ticks at 1-2-5 × 10^k, each labelled in
    full ("0.5", not Plotly's bare minor digit "5")."""
    ticks = [m * 10.0**e for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
             for m in mantissas if lo <= m * 10.0**e <= hi]
    return {"tickvals": ticks, "ticktext": [f"{t:g}" for t in ticks]}


def style_axes(fig) -> None:
    """Grid and zero lines that show on light and dark backgrounds alike."""
    fig.update_xaxes(gridcolor=GRID, zerolinecolor=GRID)
    fig.update_yaxes(gridcolor=GRID, zerolinecolor=GRID)


def plain_theme() -> dict:
    """Layout keywords that stand in for Streamlit's Plotly theme — fonts, text and grid
    colours, transparent backgrounds — in a chart drawn with ``st.plotly_chart(theme=None)``
    (which /vi-2d does: the theme makes Plotly draw every newly mounted chart twice)."""
    axis = {"tickfont": {"size": SMALL_FONT_SIZE, "color": TEXT}, "gridcolor": GRID,
            "zerolinecolor": GRID, "title": {"font": {"size": FONT_SIZE, "color": TEXT}}}
    return {"font": {"family": FONT_FAMILY, "size": FONT_SIZE, "color": TEXT},
            "legend": {"font": {"size": SMALL_FONT_SIZE, "color": TEXT}},
            "hoverlabel": {"font": {"family": FONT_FAMILY}},
            "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
            "margin": {"pad": 8},  # between the plot area and its tick labels
            "xaxis": {**axis, "showgrid": False, "zeroline": False}, "yaxis": axis}
