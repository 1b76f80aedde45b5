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
