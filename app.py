"""KL Explorer — see why forward KL(p‖q) covers mass and reverse KL(q‖p) seeks modes.

Run:  streamlit run app.py

This file is the router: page config, the shared sidebar (target builder, unit), link warnings,
the page, and finally the state written back to the address bar.  All state is one
views.state.AppState (schema in its module docstring); views/ lays out, explorer/ computes.

Pages (url_path — file):
    ""            views/fits.py         Forward vs reverse fits (default page, root URL)
    penalty       views/penalty.py      Where the penalty comes from
    landscape     views/landscape.py    Objective landscape
    entropy       views/entropy.py      Entropy, cross-entropy and JS
    mle           views/mle.py          MLE is forward KL
    discrete      views/discrete.py     Discrete distributions
    heavy-tails   views/heavy_tails.py  Heavy tails
    rlhf          views/rlhf.py         RLHF: the β leash, and DPO
    estimators    views/estimators.py   KL estimators k1, k2, k3
    distill       views/distill.py      Distillation and temperature
    alpha         views/alpha.py        α-divergence: from mode-seeking to mass-covering
    sweep         views/sweep.py        Sweeps: births, deaths and switches of optima
    drift         views/drift.py        Drift: KL, JS and PSI between two samples
    vi-2d         views/vi2d.py         Variational inference in 2-D (own 2-D target builder)

Widget keys (stable; tests and browser tests rely on them; charts are st.plotly_chart keys, so
the DOM has .st-key-<key> around each):
    sidebar:     preset, n_comp, c{i}_fam, c{i}_w, c{i}_loc, c{i}_scale, c{i}_df (i = 1…6;
                 c{i}_df only for a Student-t), unit (on every page)
    fits:        rev_start, rev_comp (start = component), rev_mean (start = mean), manual_mu,
                 manual_sigma, download_json; charts fits_chart, manual_chart; table optima_table
    penalty:     pen_q; chart penalty_chart
    landscape:   rev_start, rev_comp, rev_mean (shared with fits), land_size; landscape_chart
    entropy:     ent_q; entropy_chart
    mle:         mle_n, mle_seed; mle_chart
    discrete:    d_n, d{i}_label, d{i}_p, d{i}_q (i = 1…10), d_eps; discrete_chart
                 (no target builder in the sidebar on this page, nor on heavy-tails)
    heavy-tails: tail_df, tail_use (button: use t(0,1,ν) as the target); tails_chart
    rlhf:        rl_n, rl{i}_label, rl{i}_ref, rl{i}_r (i = 1…10), rl_beta, dpo_w, dpo_l;
                 rlhf_chart
    estimators:  k_setting, k_mu, k_n, k_r, k_seed; estimators_chart; table k_table
    distill:     dt_n, dt{i}_label, dt{i}_z (i = 1…12), dt_T; distill_chart, temperature_chart
    alpha:       alpha; alpha_chart; table alpha_table
    sweep:       sw_param, sw_i, sw_j, sw_lo, sw_hi, sw_jump; sweep_chart
    drift:       x_source, x_shift, x_scale, x_extra_mean, x_extra_w, x_extra_sd, x_seed,
                 x_n_ref, x_n_live, x_file_{ref,live}, x_paste_{ref,live}, x_col_{ref,live},
                 x_binning, x_bins, x_eps, x_k, x_resamples, x_bias; charts drift_estimates,
                 drift_chart, drift_bias; tables in x_table (desktop), x_table_stacked (phone)
Session-state hooks for tests: "_kl_results_json" holds the JSON the download button serves.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:  # `streamlit run` adds it; AppTest and other runners may not
    sys.path.insert(0, str(ROOT))


SECTIONS = {  # the sidebar's groups of pages, all shown (expanded)
    "Forward vs reverse KL": [
        ("views/fits.py", "Forward vs reverse fits", "", ":material/compare_arrows:"),
        ("views/penalty.py", "Where the penalty comes from", "penalty", ":material/area_chart:"),
        ("views/landscape.py", "Objective landscape", "landscape", ":material/landscape:"),
        ("views/entropy.py", "Entropy, cross-entropy and JS", "entropy",
         ":material/stacked_bar_chart:"),
        ("views/mle.py", "MLE is forward KL", "mle", ":material/scatter_plot:"),
        ("views/discrete.py", "Discrete distributions", "discrete", ":material/bar_chart:"),
        ("views/heavy_tails.py", "Heavy tails", "heavy-tails", ":material/show_chart:"),
    ],
    "Between and around the two KLs": [
        ("views/alpha.py", "α-divergence", "alpha", ":material/linear_scale:"),
        ("views/sweep.py", "Sweeps of optima", "sweep", ":material/timeline:"),
    ],
    "KL at work in ML": [
        ("views/rlhf.py", "RLHF: the β leash, and DPO", "rlhf", ":material/tune:"),
        ("views/estimators.py", "KL estimators k1, k2, k3", "estimators", ":material/casino:"),
        ("views/distill.py", "Distillation and temperature", "distill", ":material/school:"),
        ("views/vi2d.py", "Variational inference in 2-D", "vi-2d", ":material/blur_on:"),
        ("views/drift.py", "Drift: KL, JS, PSI from samples", "drift", ":material/monitoring:"),
    ],
}
# pages without the sidebar's 1-D target (/vi-2d has its own 2-D target builder)
NO_TARGET = ("discrete", "heavy-tails", "rlhf", "estimators", "distill", "vi-2d")

from views.boot import preload_plotly  # noqa: E402 - streamlit only

# first, so that the browser loads Plotly while the server runs the rest: even the page config
# waits, as recognising the emoji icon below loads Streamlit's emoji table (~50 ms, in a server's
# first run; the Plotly request went out ~0.1 s earlier in bench_app.py --compare)
preload_plotly()
# An emoji icon: Streamlit draws it as an inline data: SVG favicon.  (A ":material/…:" page icon
# is fetched from fonts.gstatic.com on every view; the page icons below use the bundled font.)
st.set_page_config(page_title="KL Explorer", page_icon="⚖️", layout="wide")

from views.common import as_text, get_state, link_warnings, load_state, sync_url  # noqa: E402
from views.sidebar import render_target_builder, render_unit  # noqa: E402

load_state()
page = st.navigation({section: [st.Page(path, title=title, icon=icon, default=not url,
                                          url_path=url or None) for path, title, url, icon in rows]
                      for section, rows in SECTIONS.items()}, expanded=True)
if page.url_path not in NO_TARGET:  # pages that ignore the target
    render_target_builder()
render_unit()
for message in link_warnings():
    st.warning(as_text(message), icon="⚠️")  # it quotes the link: text, never Markdown
page.run()
sync_url(get_state())
