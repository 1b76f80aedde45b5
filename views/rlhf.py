"""RLHF page: the KL leash β in closed form — π*_β ∝ π_ref·exp(r/β) — the reward–KL trade-off,
and what DPO makes of the same optimum."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from explorer.discrete import Categorical
from explorer.figures import fmt_num
from explorer.figures.rlhf import implicit_reward_rows, rlhf_figure
from explorer.rlhf import (
    bradley_terry,
    dpo_loss,
    frontier,
    frontier_ends,
    implicit_reward,
    tilt,
    tilted_log_policy,
)
from views.charts import show_chart
from views.common import errors, get_state, kl_value, seed, show_error
from views.ml_common import as_text, commit_ml, ml, ml_callback
from views.rows import Number, RowEditor
from views.state.mlkl import BETA_GRID, REF_RANGE, REWARD_RANGE, RLHF_MAX, RLHF_MIN
from views.state.mlkl import check_responses as check_rows

ROWS_ERROR = "rlhf_rows"
unit = get_state().unit


ROWS = RowEditor("rl", "response",
                 (Number("ref", "π_ref({})", *REF_RANGE, 0.05, 0.1),  # new: some mass, no reward
                  Number("r", "reward r({})", *REWARD_RANGE, 0.1, 0.0)),
                 max_chars=24, widths=(2, 1, 1))


def _on_rows() -> None:
    ss = st.session_state
    responses = ROWS.checked(check_rows, ROWS_ERROR)
    if responses is None:
        return
    pair = ml().pair
    if max(pair) > len(responses):
        pair = (1, 2)
        for k, v in zip(("dpo_w", "dpo_l"), pair, strict=True):
            ss[k] = v
    commit_ml(ROWS_ERROR, responses=responses, pair=pair)


@st.cache_data(max_entries=64, show_spinner=False)
def _frontier(refs: tuple, rewards: tuple):
    return frontier(Categorical(refs), rewards, BETA_GRID)


st.title("RLHF: the β leash, and DPO")
st.caption("RLHF maximises E_π[r] − β·KL(π‖π_ref). Its optimum has a closed form: "
           "π*_β(y) = π_ref(y)·exp(r(y)/β) / Z_β, with objective β·log Z_β. β is the leash: "
           "how far the policy may move from the reference to chase reward.")

if "rl_n" not in st.session_state:
    errors().pop(ROWS_ERROR, None)
state = ml()
seed("rl_n", len(state.responses))
top1, top2 = st.columns(2)
top1.number_input("Responses", min_value=RLHF_MIN, max_value=RLHF_MAX, step=1, key="rl_n",
                  on_change=_on_rows)
seed("rl_beta", state.beta)
top2.select_slider("β (KL weight, log scale)", BETA_GRID, key="rl_beta",
                   format_func=lambda b: f"{b:g}", on_change=ml_callback("rl_beta", "beta"),
                   help="Small β: reward wins (reward hacking). Large β: stay at π_ref.")
ROWS.render(state.responses, _on_rows)
show_error(ROWS_ERROR)
show_error("rl_beta")
st.caption("π_ref is normalised (type 7 and 3, or 0.7 and 0.3); every response needs π_ref > 0.")

state = ml()
labels = [r[0] for r in state.responses]
refs = tuple(r[1] for r in state.responses)
rewards = tuple(r[2] for r in state.responses)
ref = Categorical(refs, labels)
beta = state.beta
opt = tilt(ref, rewards, beta)
ends = frontier_ends(ref, rewards)
best = labels[max(range(len(rewards)), key=rewards.__getitem__)]

cols = st.columns(4)
cols[0].metric("E_π*[r]", fmt_num(opt.expected_reward),
               help="Expected reward of the optimal policy at this β.")
cols[1].metric(f"KL(π*‖π_ref), {unit}", kl_value(opt.kl, unit))
cols[2].metric("β·log Z (optimum)", fmt_num(opt.objective),
               help="max_π E_π[r] − β KL(π‖π_ref) = E_π*[r] − β KL(π*‖π_ref) = β log Z.")
cols[3].metric("E_π_ref[r]", fmt_num(ends["reward_ref"]))

show_chart(lambda stacked: rlhf_figure(ref, opt.policy, _frontier(refs, rewards),
                                       (opt.kl, opt.expected_reward), ends, best, unit=unit,
                                       stacked=stacked), "rlhf_chart", "kl-explorer-rlhf")
st.markdown(
    f"**β → 0:** the leash is off: all mass goes to the best-reward response "
    f"('{as_text(best)}', r = {fmt_num(ends['reward_hack'])}), however unlikely the reference "
    f"finds it — KL → −log π_ref = {kl_value(ends['kl_hack'], unit)} {unit}. With a learned, "
    "imperfect reward this is **reward hacking**.  \n"
    f"**β → ∞:** the leash is tight: π* = π_ref, KL → 0 and E[r] → "
    f"{fmt_num(ends['reward_ref'])}.")

st.subheader("DPO: the same optimum without a reward model")
st.caption("Rearranging π*_β gives r(y) = β·log(π*(y)/π_ref(y)) + β·log Z: the policy's "
           "log-ratio is an implicit reward, equal to r up to a constant. Bradley–Terry "
           "preferences depend only on reward differences, so the constant cancels and DPO "
           "fits π directly to preference pairs.")
log_pi = tilted_log_policy(ref, rewards, beta)
implicit = implicit_reward(log_pi, ref, beta)
st.dataframe(pd.DataFrame(implicit_reward_rows(labels, rewards, implicit)),
             hide_index=True, width="stretch")
st.caption(f"The last column is the same for every response: β·log Z = "
           f"{fmt_num(opt.objective)}.")

options = list(range(1, len(labels) + 1))
seed("dpo_w", state.pair[0])
seed("dpo_l", state.pair[1])
d1, d2 = st.columns(2)


def _on_pair() -> None:
    commit_ml("dpo_pair", pair=(st.session_state["dpo_w"], st.session_state["dpo_l"]))


d1.selectbox("Chosen response y_w", options, key="dpo_w", format_func=lambda i: labels[i - 1],
             on_change=_on_pair)
d2.selectbox("Rejected response y_l", options, key="dpo_l", format_func=lambda i: labels[i - 1],
             on_change=_on_pair)
show_error("dpo_pair")
w, lo = (i - 1 for i in ml().pair)
m1, m2, m3 = st.columns(3)
m1.metric("P(y_w ≻ y_l) = σ(r_w − r_l)", fmt_num(bradley_terry(rewards[w], rewards[lo])),
          help="Bradley–Terry probability that the chosen response beats the rejected one.")
m2.metric("DPO loss at π = π_ref", fmt_num(math.log(2.0)),
          help="Both log-ratios are 0: −log σ(0) = log 2.")
m3.metric("DPO loss at π = π*_β", fmt_num(dpo_loss(log_pi, ref, beta, w, lo)),
          help="−log σ(β log(π*(y_w)/π_ref(y_w)) − β log(π*(y_l)/π_ref(y_l))) "
               "= −log σ(r_w − r_l).")
