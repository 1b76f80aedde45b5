"""The α-divergence page: slide α from reverse KL (α = 0) to forward KL (α = 1) and beyond, see
the D_α fit of the sidebar's target with every certified local optimum, and beside it every
optimum's μ and σ across α (explorer.sweeps over α)."""

from __future__ import annotations

import streamlit as st

from explorer.figures.alpha import alpha_figure, alpha_summary, no_fit_ranges
from explorer.figures.sweep import events_text
from views.cached import GRID, alpha_fit, alpha_sweep, sweep_thinning
from views.charts import show_chart
from views.common import (
    as_text,
    commit_part,
    get_state,
    kl_both,
    kl_text,
    kl_value,
    page_header,
    q_text,
    seed,
    show_error,
)
from views.state.sweeps import ALPHA_STEP

NAMED = {0.0: "0 · reverse KL(q‖p)", 1.0: "1 · forward KL(p‖q)", 0.5: "0.5 · 4·Hellinger²",
         2.0: "2 · ½χ²(p‖q)"}


def _on_alpha() -> None:
    commit_part("sweeps", "alpha", alpha=st.session_state["alpha"])


state, key, p, unit = page_header(
    "α-divergence: from mode-seeking to mass-covering",
    "Minka's D_α(p‖q) = ∫[α p + (1−α) q − p^α q^(1−α)] / (α(1−α)) is reverse KL(q‖p) at α = 0 "
    "and forward KL(p‖q) at α = 1. Slide α and watch the Gaussian fit of the sidebar's target "
    "let go of single modes.")
seed("alpha", state.sweeps.alpha)
st.select_slider("α", GRID, key="alpha", on_change=_on_alpha,
                 format_func=lambda a: NAMED.get(a, f"{a:g}".replace("-", "−")),
                 help="α ≤ 0 seeks modes (α = 0 is reverse KL); α ≥ 1 covers mass (α = 1 is "
                      "forward KL). Beyond 1, q's tails must be heavy enough for p's, and "
                      "below 0, p's for q's, or D_α is infinite.")
show_error("alpha")
st.caption("α = 0: reverse KL(q‖p), mode-seeking ← → α = 1: forward KL(p‖q), mass-covering. "
           "α = 0.5 is 4× the squared Hellinger distance, α = 2 half the χ² divergence.")
alpha = get_state().sweeps.alpha

optima, reason = alpha_fit(key, alpha)
with st.spinner("Following every optimum across α…"):
    stride = 2 * sweep_thinning(key)  # α in steps of 0.1 (0.2, 0.5 for many modes)
    sw = alpha_sweep(key, stride)
finite = [bool(b >= 0) for b in sw.best]  # α where some Gaussian has a finite D_α
summary = None
if optima:
    q0, d0 = optima[0]
    kpq, kqp = kl_both(key, q0.mean, q0.std)
    summary = alpha_summary(q0, d0, kpq, kqp, alpha, unit)
show_chart(lambda stacked: alpha_figure(
    p, optima[0][0] if optima else None, [q for q, _ in optima[1:]], summary, sw, alpha,
    no_fit_ranges(GRID[::stride], finite), as_text(reason or "", "plotly"), stacked=stacked),
    "alpha_chart", "kl-explorer-alpha")

if not optima:
    st.error(as_text(f"No D_α fit at α = {alpha:g}: {reason}"), icon=":material/all_inclusive:")
else:
    q0, d0 = optima[0]
    kpq, kqp = kl_both(key, q0.mean, q0.std)
    mu, sigma = q_text(q0)
    cols = st.columns(5)
    cols[0].metric("μ", mu)
    cols[1].metric("σ", sigma)
    cols[2].metric(f"D_α, {unit}", kl_value(d0, unit))
    cols[3].metric(f"KL(p‖q), {unit}", kl_value(kpq, unit))
    cols[4].metric(f"KL(q‖p), {unit}", kl_value(kqp, unit))
    st.subheader("Every certified local optimum at this α")
    rows = []
    for i, (q, d) in enumerate(optima, start=1):
        a_pq, a_qp = kl_both(key, q.mean, q.std)
        m, s = q_text(q)
        rows.append({"#": i, "μ": m, "σ": s, "D_α": kl_text(d, unit),
                     "KL(p‖q)": kl_text(a_pq, unit), "KL(q‖p)": kl_text(a_qp, unit)})
    st.dataframe(rows, hide_index=True, key="alpha_table")
    st.caption(f"{len(rows)} distinct local optim{'um' if len(rows) == 1 else 'a'} of D_α, "
               "best first, each certified (vanishing Newton step, positive-definite Hessian).")
st.caption(f"Right, α in steps of {stride * ALPHA_STEP:g}"
           + (" (coarser for a target with this many modes, to keep a view cheap)"
              if stride > 2 else "") + ": " + events_text(sw, "α")
           + (" Grey bands: no Gaussian has a finite D_α there." if not all(finite) else ""))
