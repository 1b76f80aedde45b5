"""Distillation page: soft targets softmax(z/T), a two-parameter student fitted by forward and by
reverse KL (every certified local optimum), and the T² rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from explorer.distill import entropy_curve, fit_student, soft_targets, student, t2_curve
from explorer.figures import fmt_num
from explorer.figures.distill import distill_figure, temperature_figure
from views.charts import show_chart
from views.common import errors, get_state, kl_value, seed, show_error
from views.ml_common import as_text, commit_ml, ml, ml_callback
from views.rows import Number, RowEditor
from views.state.mlkl import LOGIT_RANGE, T_GRID, TOKENS_MAX, TOKENS_MIN, check_tokens

ROWS_ERROR = "dt_rows"
unit = get_state().unit


ROWS = RowEditor("dt", "token", (Number("z", "logit z({})", *LOGIT_RANGE, 0.5, 0.0),),
                 max_chars=24, widths=(1, 1))


def _on_rows() -> None:
    teacher = ROWS.checked(check_tokens, ROWS_ERROR)
    if teacher is not None:
        commit_ml(ROWS_ERROR, teacher=teacher)


@st.cache_data(max_entries=64, show_spinner=False)
def _fits(logits: tuple, t: float):
    return fit_student(logits, t, "forward"), fit_student(logits, t, "reverse")


@st.cache_data(max_entries=32, show_spinner=False)
def _curves(logits: tuple):
    ts = np.geomspace(T_GRID[0], T_GRID[-1], 120)
    student_logits = np.asarray(logits) / 2  # a half-trained student: the teacher's logits, halved
    plain, scaled = t2_curve(logits, student_logits, ts)
    return ts, entropy_curve(logits, ts), plain, scaled


st.title("Distillation: soft targets and the direction of KL")
st.caption("A teacher's logits z, softened by a temperature T: t = softmax(z/T). At T = 1 the "
           "runners-up are nearly invisible; a higher T shows the student which wrong answers "
           "are nearly right (“dark knowledge”).")

if "dt_n" not in st.session_state:
    errors().pop(ROWS_ERROR, None)
state = ml()
seed("dt_n", len(state.teacher))
top1, top2 = st.columns(2)
top1.number_input("Tokens", min_value=TOKENS_MIN, max_value=TOKENS_MAX, step=1, key="dt_n",
                  on_change=_on_rows)
seed("dt_T", state.temperature)
top2.select_slider("Temperature T (log scale)", T_GRID, key="dt_T", format_func=lambda t: f"{t:g}",
                   on_change=ml_callback("dt_T", "temperature"))
with st.expander("Teacher logits", expanded=False):
    ROWS.render(state.teacher, _on_rows)
show_error(ROWS_ERROR)
show_error("dt_T")

state = ml()
labels = [r[0] for r in state.teacher]
logits = tuple(r[1] for r in state.teacher)
t = state.temperature
targets = soft_targets(logits, t, labels)
forward, reverse = _fits(logits, t)
fwd = [(f, student(f.mu, f.sigma, labels)) for f in forward]
rev = [(f, student(f.mu, f.sigma, labels)) for f in reverse]

cols = st.columns(4)
cols[0].metric(f"Entropy of the soft targets, {unit}", kl_value(targets.entropy, unit))
top = int(np.argmax(targets.p))
cols[1].metric(f"t({as_text(labels[top])})", fmt_num(targets.probs[top]),
               help="The teacher's winner, at this temperature.")
if fwd:
    cols[2].metric(f"Forward fit: KL(t‖s), {unit}", kl_value(forward[0].kl_forward, unit),
                   help=f"μ = {fmt_num(forward[0].mu)}, σ = {fmt_num(forward[0].sigma)}")
if rev:
    cols[3].metric(f"Best reverse fit: KL(s‖t), {unit}", kl_value(reverse[0].kl_reverse, unit),
                   help=f"μ = {fmt_num(reverse[0].mu)}, σ = {fmt_num(reverse[0].sigma)}")
for fits, what in ((fwd, "forward"), (rev, "reverse")):
    if not fits:
        st.warning(f"No certified {what}-KL student at T = {t:g}: no start reached a minimum "
                   "with σ in [0.05, 10⁴] and μ within 100 token widths (at very low T the "
                   "best student collapses onto a point; at very high T it can run off towards "
                   "a flat or exponential shape). Nothing is shown rather than an unproven fit.",
                   icon=":material/help:")

show_chart(lambda stacked: distill_figure(targets, fwd, rev, unit=unit, stacked=stacked),
           "distill_chart", "kl-explorer-distill")
rows = [{"fit": ("forward KL(t‖s)" if f.direction == "forward" else
                 ("reverse KL(s‖t)" if j == 0 else f"reverse, local optimum {j + 1}")),
         "μ": fmt_num(f.mu), "σ": fmt_num(f.sigma),
         f"KL(t‖s), {unit}": kl_value(f.kl_forward, unit),
         f"KL(s‖t), {unit}": kl_value(f.kl_reverse, unit)}
        for fits in (forward, reverse) for j, f in enumerate(fits)]
if rows:
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="dt_table")
st.caption("The student is a discretised Gaussian over the token positions (2 parameters): it "
           "cannot copy a teacher whose runner-up sits far from its winner. Forward KL "
           "(classic distillation) is mass-covering: it spreads to cover the runners-up. "
           "Reverse KL (on-policy distillation, MiniLLM) is mode-seeking: it sits on one mode, "
           "and every mode it could sit on is a local optimum, listed best first. Fits are "
           "trust-region Newton descents from 3 starts per token; only certified minima are "
           "shown.")

ts, entropy, plain, scaled = _curves(logits)
show_chart(lambda stacked: temperature_figure(ts, entropy, plain, scaled, t, len(labels),
                                              unit=unit, stacked=stacked),
           "temperature_chart", "kl-explorer-temperature")
st.caption("The T² rule (Hinton et al. 2015): the gradient of the soft loss with respect to the "
           "student's logits v is (softmax(v/T) − softmax(z/T))/T, which shrinks like 1/T² as T "
           "grows; multiplying the soft loss by T² keeps its share of the training signal "
           "constant when T changes. Drawn for a student whose logits are half the teacher's.")
