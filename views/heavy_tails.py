"""Page 6 — heavy tails: a Student-t target with ν ≤ 2 has infinite variance, so no Gaussian has
finite KL(p‖q) and the forward fit does not exist; the reverse fit still does."""

from __future__ import annotations

import math

import numpy as np
import streamlit as st

from explorer.distributions import Normal, StudentT
from explorer.figures import tail_kl_curves, tails_figure
from explorer.fitting import NoFiniteFitError, fit_gaussian
from explorer.presets import ComponentSpec
from views.charts import show_chart
from views.common import (
    commit,
    field_callback,
    forward_fit,
    forward_note,
    get_state,
    kl_both,
    kl_value,
    q_text,
    seed,
    show_error,
)
from views.sidebar import TARGET_ERROR, _write_component_keys
from views.state import TAIL_DF_RANGE

state = get_state()
unit = state.unit

st.title("Heavy tails")
st.caption("Forward KL needs q to cover all of p, tails included. A Gaussian's tails fall like "
           "e^(−x²); a Student-t's only like |x|^−(ν+1). For ν ≤ 2 p has infinite variance and "
           "every Gaussian has KL(p‖q) = ∞ — reverse KL(q‖p) only looks where q is, so it "
           "stays finite.")
seed("tail_df", state.tail_df)
# a number input, not a slider: any ν in range can be typed (2.0001 as well as 30), and an
# out-of-range one is reported by the state's check instead of being clamped silently
st.number_input(f"ν of the Student-t target t(0, 1, ν), {TAIL_DF_RANGE[0]:g} to "
                f"{TAIL_DF_RANGE[1]:g}", step=0.1, format="%g", key="tail_df",
                on_change=field_callback("tail_df", "tail_df", float),
                help="ν ≤ 2: infinite variance, no forward fit; try 2.0001 and 1.9999.")
show_error("tail_df")
state = get_state()
nu = state.tail_df


@st.cache_data(max_entries=1, show_spinner=False)
def _curves():
    return tail_kl_curves(np.geomspace(TAIL_DF_RANGE[0], TAIL_DF_RANGE[1], 60))


@st.cache_data(max_entries=64, show_spinner=False)
def _fits(nu: float):
    p = StudentT(0.0, 1.0, nu)
    try:
        fwd = fit_gaussian(p, "forward")
        q_f, reason = (fwd.q.mean, fwd.q.std), None
    except NoFiniteFitError as e:
        q_f, reason = None, str(e)
    rev = fit_gaussian(p, "reverse")
    return q_f, reason, (rev.q.mean, rev.q.std)


q_f, reason, q_r = _fits(nu)
q_fwd = None if q_f is None else Normal(*q_f)
q_rev = Normal(*q_r)
key = (ComponentSpec("t", 1.0, 0.0, 1.0, nu).key(),)

left, right = st.columns(2)
left.markdown("**Forward fit** — minimises KL(p‖q)")
if q_fwd is None:
    left.metric(f"KL(p‖q), {unit}", "∞")
    forward_note(left, reason)
else:
    kpq, _ = kl_both(key, q_fwd.mean, q_fwd.std)
    a, b, c = left.columns(3)
    a.metric("μ", q_text(q_fwd)[0])
    b.metric("σ", q_text(q_fwd)[1])
    c.metric(f"KL(p‖q), {unit}", kl_value(kpq, unit))
right.markdown("**Reverse fit** — minimises KL(q‖p)")
kpq_r, kqp_r = kl_both(key, q_rev.mean, q_rev.std)
a, b = right.columns(2)  # two a row: four in half the page cut long values short
c, d = right.columns(2)
a.metric("μ", q_text(q_rev)[0])
b.metric("σ", q_text(q_rev)[1])
c.metric(f"KL(q‖p), {unit}", kl_value(kqp_r, unit))
d.metric(f"KL(p‖q), {unit}", kl_value(kpq_r, unit))
if math.isinf(kpq_r):
    right.caption("Its KL(p‖q) is ∞ too — the price of p's heavy tails, whatever q is.")

show_chart(lambda stacked: tails_figure(StudentT(0.0, 1.0, nu), q_fwd, q_rev, _curves(), nu,
                                        unit=unit, stacked=stacked),
           "tails_chart", "kl-explorer-heavy-tails")


def _use_as_target() -> None:
    comps = (ComponentSpec("t", 1.0, 0.0, 1.0, get_state().tail_df),)
    _write_component_keys(comps)
    commit(TARGET_ERROR, components=comps, start="best", manual=None)


st.button(f"Use t(0, 1, ν = {nu:g}) as the target p on every page", key="tail_use",
          on_click=_use_as_target)
_, _, target_reason = forward_fit(state.key())
if target_reason:
    st.caption("Your current target (sidebar) has such a heavy tail too: its forward fit does "
               "not exist; the other pages show its reverse fit.")
