"""Page 5 — discrete distributions: edit P and Q over up to 10 named outcomes; both KLs in nats
and bits, JS, the outcome that makes a KL infinite, and additive smoothing ε."""

from __future__ import annotations

import streamlit as st

from explorer.discrete import Categorical
from explorer.divergences import js_divergence, kl_divergence
from explorer.figures import discrete_figure
from explorer.figures.entropy import js_bound
from views.charts import show_chart
from views.common import (
    as_text,
    commit,
    errors,
    field_callback,
    get_state,
    kl_value,
    seed,
    show_error,
)
from views.rows import Number, RowEditor
from views.state import DISC_MAX, DISC_MIN, DISC_PROB_RANGE, EPS_RANGE, check_discrete

DISC_ERROR = "disc"

state = get_state()
unit = state.unit


ROWS = RowEditor("d", "outcome", (Number("p", "P({})", *DISC_PROB_RANGE, 0.05, 0.0),
                                  Number("q", "Q({})", *DISC_PROB_RANGE, 0.05, 0.0)),
                 max_chars=40, widths=(2, 1, 1))


def _on_disc() -> None:
    disc = ROWS.checked(check_discrete, DISC_ERROR)
    if disc is not None:
        commit(DISC_ERROR, disc=disc)


st.title("Discrete distributions")
st.caption("KL(P‖Q) = Σ P(x) log(P(x)/Q(x)). One outcome P can produce but Q rules out "
           "(Q(x) = 0) makes it infinite; smoothing makes every outcome possible again.")

if "d_n" not in st.session_state:  # inputs rebuilt from the state: an old error is stale
    errors().pop(DISC_ERROR, None)
seed("d_n", len(state.disc))
top1, top2 = st.columns(2)
top1.number_input("Outcomes", min_value=DISC_MIN, max_value=DISC_MAX, step=1, key="d_n",
                  on_change=_on_disc)
seed("d_eps", state.disc_eps)
top2.number_input("Smoothing ε (added to every probability, then renormalised)",
                  min_value=EPS_RANGE[0], max_value=EPS_RANGE[1], step=0.001, format="%g",
                  key="d_eps", on_change=field_callback("d_eps", "disc_eps", float))

ROWS.render(state.disc, _on_disc)
show_error(DISC_ERROR)
show_error("d_eps")
state = get_state()
st.caption("P and Q are normalised to sum to 1 (type 7 and 3, or 0.7 and 0.3).")

labels = [r[0] for r in state.disc]
P = Categorical([r[1] for r in state.disc], labels)
Q = Categorical([r[2] for r in state.disc], labels)
eps = state.disc_eps


def _metrics(P: Categorical, Q: Categorical, title: str) -> None:
    st.markdown(f"**{title}**")
    cols = st.columns(5)
    pq, qp = kl_divergence(P, Q), kl_divergence(Q, P)
    js = js_divergence(P, Q)
    cols[0].metric("KL(P‖Q), nats", kl_value(pq, "nats"))
    cols[1].metric("KL(P‖Q), bits", kl_value(pq, "bits"))
    cols[2].metric("KL(Q‖P), nats", kl_value(qp, "nats"))
    cols[3].metric("KL(Q‖P), bits", kl_value(qp, "bits"))
    cols[4].metric(f"JS(P,Q), {unit}", kl_value(js, unit),
                   help=f"Jensen–Shannon divergence: symmetric, and never above {js_bound(unit)}.")
    for why in (P.why_infinite(Q), Q.why_infinite(P)):
        if why:
            st.error(f"∞: {as_text(why)}")  # names an outcome: user text


_metrics(P, Q, "P and Q as entered")
if eps > 0:
    Ps, Qs = P.smoothed(eps), Q.smoothed(eps)
    _metrics(Ps, Qs, f"After smoothing with ε = {eps:g}")
    shown, note = (Ps, Qs), f"Drawn after smoothing with ε = {eps:g}."
else:
    shown, note = (P, Q), "Set ε > 0 to see smoothing remove an ∞."
show_chart(lambda stacked: discrete_figure(*shown, unit=unit, stacked=stacked),
           "discrete_chart", "kl-explorer-discrete")
st.caption(note)
