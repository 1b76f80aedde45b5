"""Every Plotly figure of the app, one module per page, and the display formatting of numbers.

Pure Plotly and numpy: every builder takes explorer distributions, fits or plain numbers and
returns a ``plotly.graph_objects.Figure`` styled by :mod:`explorer.style` (Okabe–Ito colours,
transparent background, readable on light and dark themes).  No trace has more than
``explorer.grid.MAX_POINTS`` (2000) x/y points (heatmap z grids aside), no value is NaN, and an
infinite quantity is drawn as an explicit "∞" label, never as a broken bar or a NaN.

    text       fmt_num, fmt_kl, fmt_mu_sigma, fmt, safe_kl      (numbers as shown)
    fits       fits_figure, manual_figure                       (main page)
    export     results_document, results_json, json_safe       (the JSON download)
    penalty    penalty_figure                                   (where the penalty comes from)
    landscape  landscape_figure                                 (objective landscape)
    entropy    entropy_values, entropy_figure                   (entropy, cross-entropy, JS)
    mle        mle_figure                                       (MLE is forward KL)
    discrete   discrete_figure                                  (discrete distributions)
    tails      tail_kl_curves, tails_figure                     (heavy tails)
"""

from explorer.figures.discrete import discrete_figure
from explorer.figures.entropy import entropy_figure, entropy_values
from explorer.figures.export import json_safe, q_record, results_document, results_json
from explorer.figures.fits import (
    FORWARD_TITLE,
    REVERSE_TITLE,
    fit_summary,
    fits_figure,
    manual_figure,
)
from explorer.figures.landscape import landscape_figure
from explorer.figures.mle import mle_figure
from explorer.figures.penalty import penalty_figure
from explorer.figures.tails import tail_kl_curves, tails_figure
from explorer.figures.text import INF, fmt, fmt_kl, fmt_mu_sigma, fmt_num, safe_kl

__all__ = [
    "FORWARD_TITLE", "INF", "REVERSE_TITLE", "discrete_figure", "entropy_figure",
    "entropy_values", "fit_summary", "fits_figure", "fmt", "fmt_kl", "fmt_mu_sigma", "fmt_num",
    "json_safe", "landscape_figure", "manual_figure", "mle_figure", "penalty_figure", "q_record",
    "results_document", "results_json", "safe_kl", "tail_kl_curves", "tails_figure",
]
