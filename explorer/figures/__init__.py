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

from explorer.lazy import lazy_attributes

# Name -> module of this package.  Imported on first use (PEP 562): a page loads only its own
# figure module (the first page must not pay for scipy.integrate, which the penalty page uses).
_WHERE = {
    "discrete_figure": "discrete",
    "entropy_figure": "entropy", "entropy_values": "entropy",
    "json_safe": "export", "q_record": "export", "results_document": "export",
    "results_json": "export",
    "FORWARD_TITLE": "fits", "REVERSE_TITLE": "fits", "fit_summary": "fits",
    "fits_figure": "fits", "manual_figure": "fits",
    "landscape_figure": "landscape",
    "mle_figure": "mle",
    "penalty_figure": "penalty",
    "tail_kl_curves": "tails", "tails_figure": "tails",
    "INF": "text", "fmt": "text", "fmt_kl": "text", "fmt_mu_sigma": "text", "fmt_num": "text",
    "safe_kl": "text",
}

__all__ = sorted(_WHERE)


__getattr__, __dir__ = lazy_attributes(__name__, _WHERE, globals())
