"""Page 3 — entropy, cross-entropy and JS: H(p,q) = H(p) + KL(p‖q) as stacked bars, and JS ≤ ln 2
beside both KLs."""

from __future__ import annotations

import math

import streamlit as st

from explorer.distributions import Normal
from explorer.divergences import cross_entropy, entropy, js_divergence, kl_divergence
from explorer.figures import entropy_figure, entropy_values
from explorer.figures.entropy import js_bound
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
    q_text,
    reverse_fit,
    seed,
)
from views.state import ENT_QS

LABELS = {"forward": "the forward fit", "reverse": "the reverse fit", "manual": "your own q"}

state, key, p, unit = page_header(
    "Entropy, cross-entropy and JS",
    "Cross-entropy H(p,q) = H(p) + KL(p‖q): the entropy is what no q can remove, the KL "
    "is what a wrong q adds. JS is symmetric and never exceeds ln 2.")

q_fwd, _, reason = forward_fit(key)
rev, _ = reverse_fit(state)


@st.cache_data(max_entries=64, show_spinner=False)
def _values(key, qf, qr, unit):
    return entropy_values(mixture(key), None if qf is None else Normal(*qf), Normal(*qr), unit)


@st.cache_data(max_entries=256, show_spinner=False)
def _numbers(key, mu, sigma) -> dict:
    """H(p), H(p,q), both KLs and JS for q = N(mu, sigma²), in nats."""
    p, q = mixture(key), Normal(mu, sigma)
    return {"H(p)": entropy(p), "H(p,q)": cross_entropy(p, q), "KL(p‖q)": kl_divergence(p, q),
            "KL(q‖p)": kl_divergence(q, p), "JS(p,q)": js_divergence(p, q)}


values = _values(key, None if q_fwd is None else (q_fwd.mean, q_fwd.std),
                 (rev.q.mean, rev.q.std), unit)
show_chart(lambda stacked: entropy_figure(**values, unit=unit, stacked=stacked),
           "entropy_chart", "kl-explorer-entropy")
forward_note(st, reason)

seed("ent_q", state.ent_q)
st.radio("Numbers for", ENT_QS, key="ent_q", horizontal=True, format_func=LABELS.get,
         on_change=field_callback("ent_q", "ent_q"))
state = get_state()
q = {"forward": q_fwd, "reverse": rev.q, "manual": manual_q(state)}[state.ent_q]
if q is None:  # the default choice, on a target with no forward fit: the reverse fit instead
    st.info("There is no forward fit for this target, so these are the reverse fit's numbers.")
    q = rev.q
nums = _numbers(key, q.mean, q.std)
mu, sigma = q_text(q)
st.markdown(f"q = N({mu}, {sigma}²)")
cols = st.columns(5)
for col, (name, value) in zip(cols, nums.items(), strict=True):
    col.metric(f"{name}, {unit}", kl_value(value, unit))
hp, hpq, kl = nums["H(p)"], nums["H(p,q)"], nums["KL(p‖q)"]
if math.isfinite(hpq):
    st.caption(f"Check: H(p) + KL(p‖q) = {kl_value(hp + kl, unit)} = H(p,q) "
               f"{kl_value(hpq, unit)} {unit}. JS ≤ {js_bound(unit)}. Differential "
               "entropy H(p) can be negative; the KL never is.")
