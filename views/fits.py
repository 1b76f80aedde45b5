"""Main page: p with its forward-KL and reverse-KL Gaussian fits side by side, every reverse
optimum, a manual q, the two formulas, and a JSON download."""

from __future__ import annotations

import math

import streamlit as st

from explorer.distributions import Normal
from explorer.divergences import why_infinite
from explorer.figures import (
    fits_figure,
    fmt_num,
    manual_figure,
    results_document,
    results_json,
)
from views.charts import cached_figure, show_chart
from views.common import (
    as_text,
    commit,
    field_callback,
    forward_fit,
    get_state,
    kl_both,
    kl_text,
    kl_value,
    manual_q,
    mu_range,
    page_header,
    plain_table,
    q_text,
    render_start_controls,
    reverse_fit,
    same_q,
    seed,
    seed_ranged,
    show_error,
    sigma_range,
    sync_url,
)

RESULTS_JSON = "_kl_results_json"

state, key, p, unit = page_header(
    "KL Explorer: forward vs reverse KL",
    "Fit one Gaussian q to the target p (built in the sidebar) by minimising KL(p‖q) or "
    "KL(q‖p), and compare.")

# --- reverse start ----------------------------------------------------------------------------
render_start_controls()
seed("log_density", state.log_density)
st.toggle("Log density axis", key="log_density",
          on_change=field_callback("log_density", "log_density", bool),
          help="Six decades of density on a log scale: a narrow spike and a wide slab both "
               "show, and so do the tails.")
state = get_state()

# --- fits ------------------------------------------------------------------------------------
q_fwd, kl_fwd, fwd_reason = forward_fit(key)
rev, optima = reverse_fit(state)
q_rev = rev.q
others = tuple(o.q for o in optima if not same_q(o.q, q_rev))


# built once per view for every session and rerun (a rerun that changes nothing drawn, or many
# visitors opening the same link, reuse them)
show_chart(lambda stacked: cached_figure(fits_figure, key, q_fwd, q_rev, others, unit=unit,
                                         forward_reason=fwd_reason, stacked=stacked,
                                         log_density=state.log_density, fixed_margins=True),
           "fits_chart", "kl-explorer-fits")


def fit_metrics(col, q: Normal | None, reason: str | None, name: str) -> None:
    if q is None:
        col.metric(f"{name}: KL(p‖q), {unit}", "∞" if kl_fwd == math.inf else "—")
        col.error(as_text(reason or "No Gaussian has finite KL(p‖q)."))
        return
    kpq, kqp = kl_both(key, q.mean, q.std)
    mu, sigma = q_text(q)
    # two metrics a row: four in half the page cut 7-character values short ("0.07…")
    a, b = col.columns(2)
    c, d = col.columns(2)
    a.metric("μ", mu)
    b.metric("σ", sigma)
    c.metric(f"KL(p‖q), {unit}", kl_value(kpq, unit))
    d.metric(f"KL(q‖p), {unit}", kl_value(kqp, unit))
    for value, reason_of in ((kpq, (p, q)), (kqp, (q, p))):
        if value == float("inf"):
            col.caption("∞: " + as_text(why_infinite(*reason_of) or "the tails disagree."))


left, right = st.columns(2)
left.markdown("**Forward fit** — minimises KL(p‖q)")
fit_metrics(left, q_fwd, fwd_reason, "Forward fit")
right.markdown("**Reverse fit** — minimises KL(q‖p)")
fit_metrics(right, q_rev, None, "Reverse fit")
if not rev.is_minimum:
    right.warning("Not a certified minimum: the optimiser stopped here without a vanishing "
                  "Newton step and a positive-definite Hessian, so this q is not an optimum "
                  "of KL(q‖p).", icon="⚠️")
if state.start != "best":
    steps = (f"{rev.iterations} optimiser step{'' if rev.iterations == 1 else 's'}"
             if rev.iterations else "already at an optimum: no optimiser step needed")
    right.caption(f"Started at N({fmt_num(rev.start.mean)}, {fmt_num(rev.start.std)}²); "
                  f"{steps}.")

# --- why they differ ---------------------------------------------------------------------------
st.subheader("Why the two fits differ")
f1, f2 = st.columns(2)
f1.latex(r"\mathrm{KL}(p\,\|\,q)=\int p(x)\,\log\frac{p(x)}{q(x)}\,dx")
f1.caption("Weighted by p: wherever p has mass and q ≈ 0 the log blows up, so q must "
           "**cover all of p** — it spreads over every mode (mass-covering).")
f2.latex(r"\mathrm{KL}(q\,\|\,p)=\int q(x)\,\log\frac{q(x)}{p(x)}\,dx")
f2.caption("Weighted by q: q is only punished where it puts mass that p lacks, so it "
           "**tends to lock onto a mode** (mode-seeking); which one, or a bridge over several, "
           "depends on where the optimiser starts — the table below lists every optimum found.")

# --- every reverse optimum ---------------------------------------------------------------------
st.subheader("Reverse-KL local optima")
rows = []
for i, o in enumerate(optima, start=1):
    kpq, kqp = kl_both(key, o.q.mean, o.q.std)
    mu, sigma = q_text(o.q)
    rows.append({"#": i, "μ": mu, "σ": sigma, "KL(q‖p)": kl_text(kqp, unit),
                 "KL(p‖q)": kl_text(kpq, unit),
                 "shown": "◀ reverse fit" if same_q(o.q, q_rev) else ""})
if rows:
    plain_table(rows, key="optima_table")
    st.caption(f"{len(rows)} distinct local optim{'um' if len(rows) == 1 else 'a'} found from "
               "starts at every component and every run of neighbouring components, best "
               "first.")
if not any(same_q(o.q, q_rev) for o in optima):
    st.caption("The chosen start stopped at a point that is not one of these optima "
               f"(μ = {q_text(q_rev)[0]}, σ = {q_text(q_rev)[1]}).")

def _on_manual() -> None:
    commit("manual_mu", manual=(float(st.session_state["manual_mu"]),
                                float(st.session_state["manual_sigma"])))


@st.fragment
def manual_and_download() -> None:
    """Your own q and the download: dragging q reruns only this part of the page."""
    state = get_state()  # the module-level one is from the last full run
    st.subheader("Your own q")
    mlo, mhi, mstep = mu_range(key)
    slo, shi, sstep = sigma_range(key)
    mq = manual_q(state)
    shown = (seed_ranged("manual_mu", mq.mean, mlo, mhi, mstep),
             seed_ranged("manual_sigma", mq.std, slo, shi, sstep))
    if state.manual is not None and shown != state.manual:  # clamped into the new range
        commit("manual_mu", manual=shown)
    s1, s2 = st.columns(2)
    s1.slider("μ of your q", min_value=mlo, max_value=mhi, step=mstep, key="manual_mu",
              on_change=_on_manual)
    s2.slider("σ of your q", min_value=slo, max_value=shi, step=sstep, key="manual_sigma",
              on_change=_on_manual)
    show_error("manual_mu")
    mq = Normal(float(st.session_state["manual_mu"]), float(st.session_state["manual_sigma"]))
    kpq, kqp = kl_both(key, mq.mean, mq.std)
    m1, m2, m3 = st.columns([1, 1, 2])
    if q_fwd is not None:
        m1.metric("KL(p‖q), your q", kl_text(kpq, unit),
                  delta=f"+{kl_text(max(kpq - kl_fwd, 0.0), unit)} vs optimum",
                  delta_color="off", delta_arrow="off")
    else:
        m1.metric("KL(p‖q), your q", kl_text(kpq, unit))
    best_rev = optima[0].kl if optima else rev.kl
    m2.metric("KL(q‖p), your q", kl_text(kqp, unit),
              delta=f"+{kl_text(max(kqp - best_rev, 0.0), unit)} vs best optimum",
              delta_color="off", delta_arrow="off")
    m3.caption("Drag μ and σ: forward KL punishes a q that misses any of p's mass; reverse KL "
               "punishes a q that puts mass where p has little. The dashed curves and the markers "
               "on the right are the optima.")
    show_chart(lambda stacked: cached_figure(manual_figure, key, mq, q_fwd, q_rev, others,
                                             stacked=stacked, log_density=state.log_density,
                                             fixed_margins=True),
               "manual_chart", "kl-explorer-manual")

    # --- download --------------------------------------------------------------------------------
    doc = results_document(state.components, p, q_fwd, fwd_reason, q_rev,
                           rev.start if state.start != "best" else None, [o.q for o in optima], mq,
                           unit, state.to_query())
    text = results_json(doc)
    st.session_state[RESULTS_JSON] = text  # what the button serves (tests read it here)
    st.download_button("Download results (JSON)", text, file_name="kl-explorer-results.json",
                       mime="application/json", key="download_json", on_click="ignore")

    sync_url(get_state())  # a fragment rerun skips the app's own sync at the end


manual_and_download()
