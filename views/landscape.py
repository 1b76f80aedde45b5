"""Page 2 — the objective landscape: forward and reverse KL over (μ, log σ), with every optimum
and the reverse optimiser's path from the chosen start."""

from __future__ import annotations

import streamlit as st

from explorer.figures import landscape_figure
from views.cached import landscape, landscape_size
from views.charts import show_chart
from views.common import (
    field_callback,
    forward_fit,
    forward_note,
    get_state,
    q_text,
    render_start_controls,
    reverse_fit,
    seed,
)
from views.state import LAND_SIZES

state = get_state()
key = state.key()

st.title("Objective landscape")
st.caption("Each point is a Gaussian q = N(μ, σ²); colour is its KL. Forward KL has one bowl; "
           "reverse KL can have several basins — around single modes, and bridges over "
           "neighbouring ones — so where you start decides where you end.")
render_start_controls()
seed("land_size", state.land_size)
st.select_slider("Grid resolution (points per axis)", LAND_SIZES, key="land_size",
                 on_change=field_callback("land_size", "land_size"),
                 help="Finer grids take longer to compute the first time.")
state = get_state()


q_fwd, _, reason = forward_fit(key)
rev, optima = reverse_fit(state)
size = landscape_size(key, state.land_size)
with st.spinner("Computing the landscape…"):
    land = landscape(key, size)
show_chart(lambda stacked: landscape_figure(
    land, [o.q for o in optima], forward_opt=q_fwd, path=rev.path, start=rev.start,
    unit=state.unit, reason=reason, stacked=stacked), "landscape_chart", "kl-explorer-landscape")
forward_note(st, reason)
if size < state.land_size:
    st.caption(f"Grid reduced to {size} × {size} for this target: its narrow or heavy-tailed "
               f"components make a {state.land_size} × {state.land_size} grid cost more than "
               "a shared server gives one view (about a second of computing).")
mu, sigma = q_text(rev.q)
start = (f"N({q_text(rev.start)[0]}, {q_text(rev.start)[1]}²)" if rev.start is not None
         else "its start")
n = len(optima)
steps = (f"in {rev.iterations} step{'' if rev.iterations == 1 else 's'} (white path)"
         if rev.iterations else "without a step: the start is already an optimum")
stars = ("Star: the only reverse optimum found — this target has one basin." if n == 1
         else f"Stars: all {n} reverse optima found. Try another start above to land in "
              "another basin.")
st.markdown(f"The reverse optimiser went from {start} to **μ = {mu}, σ = {sigma}** {steps}. "
            f"{stars}")
