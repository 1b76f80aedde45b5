"""Page 1 — where the penalty comes from: the KL integrands of both fits (or of your own q),
with the numerical area under each next to the KL it should equal."""

from __future__ import annotations

import math

import streamlit as st

from explorer.divergences import kl_divergence
from explorer.figures import penalty_figure
from explorer.pointwise import integrand_area
from explorer.presets import mixture
from views.charts import show_chart
from views.common import (
    field_callback,
    forward_fit,
    forward_note,
    get_state,
    kl_value,
    manual_q,
    page_header,
    reverse_fit,
    seed,
)
from views.state import PEN_QS

LABELS = {"fits": "the two optimal fits", "manual": "your own q (from the main page)"}

state, key, p, unit = page_header(
    "Where the penalty comes from",
    "KL is the area under its integrand. Forward KL's integrand is weighted by p, "
    "reverse KL's by q — so they punish different mistakes.")
seed("pen_q", state.pen_q)
st.radio("Show the integrands of", PEN_QS, key="pen_q", horizontal=True, format_func=LABELS.get,
         on_change=field_callback("pen_q", "pen_q"))
state = get_state()

q_fwd, _, reason = forward_fit(key)
rev, _ = reverse_fit(state)
if state.pen_q == "manual":
    q_f = q_r = manual_q(state)
    reason = None
else:
    q_f, q_r = q_fwd, rev.q


@st.cache_data(max_entries=64, show_spinner=False)
def _figure(key, qf, qr, unit, reason, stacked):
    from explorer.distributions import Normal

    p = mixture(key)
    return penalty_figure(p, None if qf is None else Normal(*qf), Normal(*qr), unit,
                          reason=reason, stacked=stacked)


@st.cache_data(max_entries=128, show_spinner=False)
def _area_and_kl(key, a_is_p: bool, mu: float, sigma: float) -> tuple[float, float]:
    """(area under the integrand, KL) in nats, for KL(p‖q) (a_is_p) or KL(q‖p)."""
    from explorer.distributions import Normal

    p, q = mixture(key), Normal(mu, sigma)
    a, b = (p, q) if a_is_p else (q, p)
    kl = kl_divergence(a, b)
    area = integrand_area(a, b) if math.isfinite(kl) else math.inf
    return area, kl


show_chart(lambda stacked: _figure(key, None if q_f is None else (q_f.mean, q_f.std),
                                   (q_r.mean, q_r.std), unit, reason, stacked),
           "penalty_chart", "kl-explorer-penalty")

left, right = st.columns(2)
for col, q, a_is_p, name in ((left, q_f, True, "KL(p‖q)"), (right, q_r, False, "KL(q‖p)")):
    if q is None:
        forward_note(col, reason)
        continue
    area, kl = _area_and_kl(key, a_is_p, q.mean, q.std)
    c1, c2 = col.columns(2)
    c1.metric(f"Area under {'p·log(p/q)' if a_is_p else 'q·log(q/p)'}, {unit}",
              kl_value(area, unit))
    c2.metric(f"{name}, {unit}", kl_value(kl, unit))
    if math.isinf(kl):
        col.caption("∞: the integrand's tails never stop adding area.")

st.markdown(
    "**Read it:** left, p·log(p/q) is large wherever p has mass that q lacks — q must cover it. "
    "Right, q·log(q/p) is large wherever q puts mass that p lacks — so reverse KL tends to "
    "lock onto a mode; which one, or a bridge over several, depends on where the fit starts "
    "(the landscape page shows every basin). "
    "Negative parts (q more likely than p) reduce the total, which stays ≥ 0.")
