"""Estimators page: k1, k2, k3 (Schulman 2020) sampled R times with n samples each, beside their
exact means, spreads and chances of coming out negative; and the gradient trap of k3 as a loss."""

from __future__ import annotations

import numpy as np
import streamlit as st

from explorer.discrete import Categorical
from explorer.estimators import (
    discrete_exact,
    discrete_log_ratios,
    discrete_samples,
    gaussian_exact,
    gaussian_log_ratios,
    gradient_check,
    summarise,
)
from explorer.figures import fmt_num
from explorer.figures.estimators import estimators_figure, table_rows
from explorer.rlhf import tilted_log_policy
from views.charts import show_chart
from views.common import get_state, kl_value, plain_table, seed, show_error
from views.ml_common import commit_ml, ml, ml_callback
from views.state.mlkl import K_MU_RANGE, K_REPEATS, K_SETTINGS, K_SIZES, MAX_NR, MAX_SEED

unit = get_state().unit
SETTING_LABELS = {"gauss": "q = N(0,1), p = N(μ,1)", "policy": "policy π*_β vs π_ref (/rlhf)"}

st.title("Estimating KL from samples: k1, k2, k3")
st.caption("With x ~ q and r = p(x)/q(x): k1 = −log r, k2 = ½(log r)², k3 = (r − 1) − log r, "
           "all estimating KL(q‖p) (Schulman, “Approximating KL Divergence”, 2020). Each "
           "repeat averages n samples; R repeats show how the logged number scatters.")

state = ml()
seed("k_setting", state.k_setting)
st.radio("Setting", K_SETTINGS, key="k_setting", horizontal=True,
         format_func=SETTING_LABELS.get, on_change=ml_callback("k_setting", "k_setting"))
c1, c2, c3, c4 = st.columns([2, 2, 2, 1])
if state.k_setting == "gauss":
    seed("k_mu", state.k_mu)
    c1.slider("μ (p's mean)", min_value=K_MU_RANGE[0], max_value=K_MU_RANGE[1], step=0.05,
              key="k_mu", on_change=ml_callback("k_mu", "k_mu", float))
else:
    c1.caption(f"q = π*_β at β = {state.beta:g}, p = π_ref, both from the RLHF page.")


def _on_sizes() -> None:
    commit_ml("k_sizes", k_n=st.session_state["k_n"], k_repeats=st.session_state["k_r"])


seed("k_n", state.k_n)
c2.select_slider("Samples per repeat n", K_SIZES, key="k_n", on_change=_on_sizes,
                 format_func=lambda n: f"{n:,}")
seed("k_r", state.k_repeats)
c3.select_slider("Repeats R", K_REPEATS, key="k_r", on_change=_on_sizes,
                 format_func=lambda n: f"{n:,}")
seed("k_seed", state.k_seed)
c4.number_input("Seed", min_value=0, max_value=MAX_SEED, step=1, key="k_seed",
                on_change=ml_callback("k_seed", "k_seed", int))
show_error("k_sizes")
show_error("k_mu")
st.caption(f"Cost is capped: n·R ≤ {MAX_NR:,} samples.")
state = ml()
n, repeats = state.k_n, state.k_repeats


@st.cache_data(max_entries=32, show_spinner=False)
def _gauss(mu: float, n: int, repeats: int, seed: int):
    return gaussian_exact(mu), summarise(gaussian_log_ratios(mu, n, repeats, seed))


@st.cache_data(max_entries=32, show_spinner=False)
def _policy(responses: tuple, beta: float, n: int, repeats: int, seed: int):
    ref = Categorical([r[1] for r in responses], [r[0] for r in responses])
    log_q = tilted_log_policy(ref, [r[2] for r in responses], beta)
    log_p = np.log(ref.p)
    idx = discrete_samples(log_q, n, repeats, seed)
    return (discrete_exact(log_q, log_p), summarise(discrete_log_ratios(log_q, log_p, idx)),
            gradient_check(log_q, log_p, idx))


grads = None
if state.k_setting == "gauss":
    exact, sampled = _gauss(state.k_mu, n, repeats, state.k_seed)
else:
    exact, sampled, grads = _policy(state.responses, state.beta, n, repeats, state.k_seed)

m1, m2, m3 = st.columns(3)
m1.metric(f"Exact KL(q‖p), {unit}", kl_value(exact.kl, unit),
          help="μ²/2 in the Gaussian setting; Σ q log(q/p) for the policy.")
m2.metric("k1 averages < 0 (sampled)", f"{sampled.negative['k1']:.1%}")
neg = exact.neg_n(n)["k1"]
m3.metric("P(k1 average < 0) exact", "—" if neg is None else f"{neg:.1%}",
          help="Φ(−|μ|√n/2) in the Gaussian setting; for the policy known exactly for n = 1.")
if sampled.infinite:
    st.error(sampled.infinite, icon=":material/all_inclusive:")

show_chart(lambda stacked: estimators_figure(sampled.averages, exact.kl, n, unit=unit,
                                             stacked=stacked),
           "estimators_chart", "kl-explorer-estimators")
# one column per estimator, one row per measure: four narrow columns fit a phone (390 px); one
# row per estimator needed nine and scrolled sideways
rows = table_rows(exact, sampled, n)
plain_table([{"measure": measure, **{r["estimator"]: fmt_num(r[measure]) for r in rows}}
             for measure in rows[0] if measure != "estimator"], key="k_table")
st.caption("Bias and standard deviation are of the n-sample average, relative to the true KL "
           "(exact: sd of one sample / √n). **Why is my logged KL negative?** Because k1 is "
           "−log r averaged over a finite batch: each sample is negative wherever p(x) > q(x), "
           "and the average is whenever those samples win — unbiased, but noisy. k2 and k3 are "
           "never negative; k3 is unbiased too, k2 is biased upward.")

st.subheader("Used as a loss, k3 has the wrong gradient")
st.markdown(
    "Differentiate the estimator itself on on-policy samples x ~ π_θ (the sampling not "
    "differentiated): ∇k1 = ∇log π_θ(x), whose expectation is **0** — no signal at all; "
    "∇k3 = (1 − r)∇log π_θ(x), whose expectation is π_θ − π_ref in the logits: the gradient "
    "of the **forward** KL(π_ref‖π_θ), not of the reverse KL(π_θ‖π_ref) the value estimates. "
    "For the reverse KL, differentiate the exact sum over the vocabulary, or put k1 in the "
    "reward (score-function gradient).")
if grads is None:
    st.caption("Switch to the policy setting to see these gradients computed for π*_β.")
else:
    labels = [r[0] for r in state.responses]
    # two 4-column tables (they fit a phone): k1 beside the reverse-KL gradient it fails to
    # estimate, k3 beside the forward-KL gradient it turns out to follow
    for k, exact, key in (("k1", "reverse", "k_grad1"), ("k3", "forward", "k_grad3")):
        # headers that wrap at spaces (a long formula would be cut at 390 px)
        name = {"reverse": "∇ reverse KL", "forward": "∇ forward KL"}[exact]
        plain_table([{"response": label, f"E[∇{k}] exact": fmt_num(grads[k][i]),
                      f"∇{k} sampled": fmt_num(grads[f"{k}_sampled"][i]),
                      name: fmt_num(grads[exact][i])} for i, label in enumerate(labels)],
                    key=key)
    gap = float(np.max(np.abs(grads["k3"] - grads["reverse"])))
    st.caption(f"Gradients with respect to the logits of π*_β at β = {state.beta:g} (reverse KL: "
               f"KL(π‖π_ref); forward KL: KL(π_ref‖π)); sampled: "
               f"averaged over all {n * repeats:,} samples. E[∇k3] misses the reverse-KL "
               f"gradient by up to {fmt_num(gap)} per logit; it matches the forward one.")
