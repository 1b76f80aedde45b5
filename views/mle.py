"""Page 4 — MLE is forward KL: the Gaussian maximum-likelihood fit of n samples from p converges
to the forward-KL fit, and the average NLL to H(p) + KL(p‖q_f) = H(p, q_f)."""

from __future__ import annotations

import math

import streamlit as st

from explorer.divergences import cross_entropy
from explorer.figures import mle_figure
from explorer.mle import mle_convergence, mle_fit
from explorer.presets import mixture
from views.charts import show_chart
from views.common import (
    field_callback,
    forward_fit,
    forward_note,
    get_state,
    kl_value,
    page_header,
    q_text,
    seed,
)
from views.state import MAX_SEED, MLE_SIZES

SEEDS = 3  # the convergence plot follows this many seeds, from the chosen one on

state, key, p, unit = page_header(
    "MLE is forward KL",
    "Maximising the likelihood of samples from p is minimising the average NLL "
    "−(1/n)Σ log q(xᵢ) → H(p, q) = H(p) + KL(p‖q): for large n, the MLE Gaussian is "
    "the forward-KL fit.")
c1, c2 = st.columns([3, 1])
seed("mle_n", state.mle_n)
c1.select_slider("Sample size n (log scale)", MLE_SIZES, key="mle_n",
                 format_func=lambda n: f"{n:,}", on_change=field_callback("mle_n", "mle_n"))
seed("mle_seed", state.mle_seed)
c2.number_input("Seed", min_value=0, max_value=MAX_SEED, step=1, key="mle_seed",
                on_change=field_callback("mle_seed", "mle_seed", int))
state = get_state()


@st.cache_data(max_entries=64, show_spinner=False)
def _mle(key, n, seed):
    return mle_fit(mixture(key), n, seed)


@st.cache_data(max_entries=32, show_spinner=False)
def _convergence(key, n, seed):
    ns = [m for m in MLE_SIZES if m <= n]
    return mle_convergence(mixture(key), ns, list(range(seed, seed + SEEDS)))


@st.cache_data(max_entries=64, show_spinner=False)
def _cross_entropy(key, mu, sigma):
    from explorer.distributions import Normal

    return cross_entropy(mixture(key), Normal(mu, sigma))


q_fwd, kl_fwd, reason = forward_fit(key)
res = _mle(key, state.mle_n, state.mle_seed)
# None: no certified forward fit (its optimum lies outside the allowed q), so nothing to show
h_pq = (_cross_entropy(key, q_fwd.mean, q_fwd.std) if q_fwd is not None
        else math.inf if kl_fwd == math.inf else None)

a, b, c, d = st.columns(4)
mu_hat, sigma_hat = q_text(res.q)
if q_fwd is not None:
    mu_f, sigma_f = q_text(q_fwd)
    a.metric("MLE μ̂", mu_hat, delta=f"forward fit μ = {mu_f}", delta_color="off",
             delta_arrow="off")
    b.metric("MLE σ̂", sigma_hat, delta=f"forward fit σ = {sigma_f}", delta_color="off",
             delta_arrow="off")
else:
    a.metric("MLE μ̂", mu_hat)
    b.metric("MLE σ̂", sigma_hat)
c.metric(f"Avg NLL of the samples, {unit}", kl_value(res.avg_nll, unit),
         help=f"−(1/n) Σ log q̂(xᵢ) over the n = {state.mle_n:,} samples, under the MLE q̂.")
d.metric(f"H(p) + KL(p‖q_f), {unit}", "—" if h_pq is None else kl_value(h_pq, unit))
forward_note(st, reason)
if kl_fwd == math.inf:
    st.caption("With infinite variance the sample σ̂ never settles: each larger sample finds "
               "a larger outlier.")

runs = _convergence(key, state.mle_n, state.mle_seed)
show_chart(lambda stacked: mle_figure(
    runs, q_fwd, unit=unit, stacked=stacked,
    cross_entropy=h_pq if h_pq is not None and math.isfinite(h_pq) else None),
    "mle_chart", "kl-explorer-mle")
