"""Page — variational inference in 2-D: full-covariance vs mean-field q, forward vs reverse KL,
every reverse local optimum, the variance story in numbers, and log Z = ELBO + KL(q‖p)."""

from __future__ import annotations

import math

import numpy as np
import streamlit as st

from explorer.figures import fmt_kl, fmt_num
from explorer.figures.vi2d import elbo_figure
from explorer.mvnormal import MvNormal
from views.cached import mixture2d, vi2d_chart, vi2d_fits, vi2d_kl
from views.charts import plot_config
from views.common import errors, get_state, link_warnings, seed, set_state, show_error, sync_url
from views.state.vi2d import (
    FIELDS,
    LOG_Z_RANGE,
    MAX_COMPONENTS,
    MEAN_RANGE,
    PRESETS,
    RHO_RANGE,
    SD_RANGE,
    WEIGHT_RANGE,
)

FAMILY_LABELS = {"full": "Full covariance", "diagonal": "Mean-field (diagonal)"}
WARNED = "_v2_link_warned"  # whether this page's last full run showed the link's warnings


def _commit(key: str, **changes) -> None:
    """Apply changes to the page's state; a bad value keeps the last good state."""
    state = get_state()
    try:
        set_state(state.with_(vi2d=state.vi2d.with_(**changes)))
    except ValueError as e:
        errors()[key] = str(e)
        return
    errors().pop(key, None)


def _reset_widgets() -> None:
    for k in [k for k in st.session_state if str(k).startswith("v2_")]:
        del st.session_state[k]


def _on_preset():
    name = st.session_state["v2_preset"]
    if name in PRESETS:
        _commit("v2_preset", components=PRESETS[name][1], start=0, manual=None)
        _reset_widgets()


def _on_count():
    comps = list(get_state().vi2d.components)
    n = int(st.session_state["v2_n"])
    while len(comps) < n:
        comps.append((1.0, 1.5 * len(comps) - 2, 0.0, 1.0, 1.0, 0.0))
    _commit("v2_n", components=tuple(comps[:n]), start=0)
    _reset_widgets()


def _on_value(i: int, j: int):
    def callback():
        key = f"v2_c{i}_{j}"
        comps = [list(c) for c in get_state().vi2d.components]
        comps[i][j] = st.session_state[key]
        _commit(key, components=tuple(tuple(c) for c in comps))

    return callback


def _on_q(j: int):
    def callback():
        key = f"v2_q_{j}"
        q = list(get_state().vi2d.manual or _default_q(get_state().vi2d.components))
        q[j] = st.session_state[key]
        _commit(key, manual=tuple(q))

    return callback


def _target(comps) -> tuple:
    return tuple(tuple(c) for c in comps)


def _default_q(comps) -> tuple[float, float, float, float, float]:
    p = mixture2d(_target(comps))
    sd = np.sqrt(np.diag(p.cov))
    rho = p.cov[0, 1] / (sd[0] * sd[1])
    clip = lambda v, r: float(min(max(round(v, 2), r[0]), r[1]))  # noqa: E731
    return (clip(p.mean[0], MEAN_RANGE), clip(p.mean[1], MEAN_RANGE), clip(sd[0], SD_RANGE),
            clip(sd[1], SD_RANGE), clip(rho, RHO_RANGE))


def _sd_rho(q: MvNormal) -> tuple[float, float, float]:
    sd = q.sds
    return float(sd[0]), float(sd[1]), float(q.cov[0][1] / (sd[0] * sd[1]))


def _q_text(q: MvNormal) -> str:
    sx, sy, rho = _sd_rho(q)
    return (f"μ = ({fmt_num(q.mean[0])}, {fmt_num(q.mean[1])}), sd = ({fmt_num(sx)}, "
            f"{fmt_num(sy)}), ρ = {fmt_num(rho)}")


def _elbo_rows(key: tuple, rev_q: MvNormal, my_q: MvNormal, log_z: float, factor: float):
    """[(name, ELBO, KL(q‖p))] in the page's unit, for the reverse fit and your q.  ELBO =
    log Z − KL(q‖p) (explorer.vi2d.elbo's definition) from the cached KL(q‖p): the reverse
    fit's is the one its panel shows, so a new target costs one integral here (your q's)."""
    return [(name, (log_z - kl) * factor, kl * factor)
            for name, kl in (("reverse fit", vi2d_kl(key, rev_q, True)[0]),
                             ("your q", vi2d_kl(key, my_q, True)[0]))]


@st.fragment
def elbo_panel(key: tuple, rev_q: MvNormal, unit: str) -> None:
    """The ELBO section.  A fragment: moving "your q" or log Z reruns only this part (the fits,
    their figures and tables above do not depend on either), then writes the link itself (the
    router's sync_url runs at the end of full runs only).  If the edit changes whether the
    link's warnings show at the top, the whole page reruns, as before."""
    st.subheader("ELBO: log Z = ELBO(q) + KL(q‖p)")
    vs = get_state().vi2d
    cz, *cq = st.columns(6)
    seed("v2_logz", vs.log_z)
    cz.number_input("log Z", key="v2_logz", step=0.5,
                    on_change=lambda: _commit("v2_logz", log_z=st.session_state["v2_logz"]),
                    help=f"log of the unnormalised target's total mass, in [{LOG_Z_RANGE[0]:g}, "
                         f"{LOG_Z_RANGE[1]:g}]")
    show_error("v2_logz", cz)
    mq = vs.manual or _default_q(vs.components)
    for j, (name, r) in enumerate(zip(FIELDS[1:], (MEAN_RANGE, MEAN_RANGE, SD_RANGE, SD_RANGE,
                                                  RHO_RANGE), strict=True)):
        seed(f"v2_q_{j}", float(mq[j]))
        cq[j].slider(f"your q: {name}", min_value=r[0], max_value=r[1], step=0.01,
                     key=f"v2_q_{j}", on_change=_on_q(j))
    state = get_state()
    if bool(link_warnings()) != st.session_state.get(WARNED, False):
        st.rerun()
    vs = state.vi2d
    mq = vs.manual or _default_q(vs.components)
    my_q = MvNormal.from_sd(mq[:2], mq[2:4], mq[4])
    factor = 1.0 if unit == "nats" else 1.0 / math.log(2.0)
    rows = _elbo_rows(key, rev_q, my_q, vs.log_z, factor)
    st.plotly_chart(elbo_figure(rows, vs.log_z * factor, unit), key="elbo_chart")
    for name, e, k in rows:
        st.text(f"{name}: ELBO = {fmt_num(e)} {unit}, KL(q‖p) = {fmt_num(k)} {unit}, "
                f"sum = {fmt_num(e + k)} = log Z")
    st.markdown("Maximising the ELBO is minimising KL(q‖p), since their sum log Z does not "
                "depend on q. A variational auto-encoder's loss is the negative ELBO, per data "
                "point: reconstruction error plus the KL of the encoder's q from the prior.")
    sync_url(state)


# --- the page ---------------------------------------------------------------------------------
state = get_state()
vs = state.vi2d
unit = state.unit
st.title("Variational inference in 2-D")
st.caption("Approximate a 2-D target p with one Gaussian q. Reverse KL(q‖p) — what variational "
           "inference minimises — with a mean-field q under-estimates p's variance and locks "
           "onto one mode; forward KL(p‖q) matches p's moments (Bishop, PRML §10.1.2).")

with st.expander("2-D target p", expanded=vs.preset is None):
    c1, c2 = st.columns([3, 1])
    seed("v2_preset", vs.preset or "custom")
    c1.selectbox("Preset", [*PRESETS, "custom"], key="v2_preset", on_change=_on_preset,
                 format_func=lambda k: PRESETS[k][0] if k in PRESETS else "Custom")
    seed("v2_n", len(vs.components))
    c2.selectbox("Components", list(range(1, MAX_COMPONENTS + 1)), key="v2_n",
                 on_change=_on_count)
    ranges = (WEIGHT_RANGE, MEAN_RANGE, MEAN_RANGE, SD_RANGE, SD_RANGE, RHO_RANGE)
    for i, comp in enumerate(vs.components):
        cols = st.columns(6)
        for j, (name, r) in enumerate(zip(FIELDS, ranges, strict=True)):
            key = f"v2_c{i}_{j}"
            seed(key, float(comp[j]))
            cols[j].number_input(f"{i + 1}: {name}", min_value=None, max_value=None,
                                 step=0.1, key=key, format="%.3g", on_change=_on_value(i, j),
                                 help=f"in [{r[0]:g}, {r[1]:g}]")
            show_error(key, cols[j])
    show_error("v2_preset")
    show_error("v2_n")

state = get_state()
vs = state.vi2d
key = _target(vs.components)
p = mixture2d(key)
st.session_state[WARNED] = bool(link_warnings())

c1, c2 = st.columns(2)
seed("v2_family", vs.family)
c1.radio("q's family", ["full", "diagonal"], key="v2_family", horizontal=True,
         format_func=FAMILY_LABELS.get,
         on_change=lambda: _commit("v2_family", family=st.session_state["v2_family"]),
         help="Mean-field: a diagonal covariance, as in mean-field variational inference. The "
              "other family is drawn dashed.")
seed("v2_start", vs.start)
c2.selectbox("Reverse-KL fit starts from", list(range(len(vs.components) + 1)), key="v2_start",
             format_func=lambda k: "Best of all starts" if k == 0 else f"Component {k}",
             on_change=lambda: _commit("v2_start", start=int(st.session_state["v2_start"])))
state = get_state()
vs = state.vi2d
with st.spinner("Fitting…"):  # shown only if the fits take over half a second (not cached)
    fits = vi2d_fits(key, vs.start)
fam = vs.family
fwd = fits["forward"][fam]
rev, optima = fits["reverse"][fam]
fwd_q = tuple((f, fit.q) for f, fit in fits["forward"].items())
rev_q = tuple((f, fits["reverse"][f][0].q) for f in fits["reverse"])
kl = {}
for name, q in (("forward", fwd.q), ("reverse", rev.q)):
    (a, ok_a), (b, ok_b) = vi2d_kl(key, q, False), vi2d_kl(key, q, True)
    kl[name] = (a, b, ok_a and ok_b)
# the two panels, each its own chart over its fit's numbers in a column: Streamlit stacks the
# columns on a narrow screen, so one chart of each reads at any width and none is sent hidden.
# Both are cached on these plain values: a rerun that changes none of them (the unit, your q,
# log Z) reuses them, and so does every session opening the same view
left, right = st.columns(2)
for where, name, fit in ((left, "Forward", fwd), (right, "Reverse", rev)):
    side = name.lower()
    chart = (vi2d_chart(key, side, fwd_q, fam, ()) if side == "forward"
             else vi2d_chart(key, side, rev_q, fam, tuple(o.q for o in optima)))
    # drawn without Streamlit's theme: the figure carries its look, and a new chart is then
    # drawn once, not twice (views.charts.plain_chart)
    where.plotly_chart(chart, key=f"vi2d_{side}", theme=None,
                       config=plot_config(f"kl-explorer-vi-2d-{side}"))
    q = fit.q
    where.markdown(f"**{name} fit, {FAMILY_LABELS[fam].lower()}**")
    where.text(_q_text(q) + "\nΣ = [[" + ", ".join(fmt_num(v) for v in q.cov[0]) + "], ["
               + ", ".join(fmt_num(v) for v in q.cov[1]) + "]]")
    m1, m2 = where.columns(2)
    m1.metric(f"KL(p‖q), {unit}", fmt_kl(kl[name.lower()][0], unit).removesuffix(f" {unit}"))
    m2.metric(f"KL(q‖p), {unit}", fmt_kl(kl[name.lower()][1], unit).removesuffix(f" {unit}"))
    estimate = not kl[name.lower()][2]
    if estimate and name == "Forward" and not fit.is_minimum:
        # the forward fit starts at p's moments and cannot certify them on estimated values
        where.warning("Not certified: this q is p's moment match (where the forward optimum "
                      "is), but the KL values are estimates (the integration hit its work "
                      "limit for this target), so the fit cannot certify it.")
    elif estimate:
        where.warning("Not certified: these KL values are estimates (the integration hit its "
                      "work limit for this target).")
    if not fit.is_minimum and not (estimate and name == "Forward"):
        where.warning("Not certified: this q is where the optimiser stopped, not a certified "
                      "optimum (the integration hit its work limit or the descent did not "
                      "converge), and its KL is not the answer.")

st.subheader("Reverse local optima")
# a static table of five columns (pairs as "(x, y)"): its cells wrap, so it fits a phone's width
# (its cells are Markdown: numbers only, and no "#" header, which would be a heading)
st.table([{"No.": n, "μ (x, y)": f"({fmt_num(o.q.mean[0])}, {fmt_num(o.q.mean[1])})",
           "sd (x, y)": f"({fmt_num(_sd_rho(o.q)[0])}, {fmt_num(_sd_rho(o.q)[1])})",
           "ρ": fmt_num(_sd_rho(o.q)[2]), "KL(q‖p)": fmt_kl(o.kl, unit)}
          for n, o in enumerate(optima, start=1)], hide_index=True)

st.subheader("The variance story")
psd = np.sqrt(np.diag(p.cov))
# static tables, like the optima's: Streamlit redraws an interactive dataframe on every rerun
st.table([{"": name, "sd x": fmt_num(sx), "sd y": fmt_num(sy)} for name, (sx, sy) in (
    ("target p (marginal)", psd), (f"forward q ({fam})", _sd_rho(fwd.q)[:2]),
    (f"reverse q ({fam})", _sd_rho(rev.q)[:2]))], hide_index=True)
ratio = min(_sd_rho(rev.q)[:2][k] / psd[k] for k in range(2))
st.markdown(f"The reverse fit's smallest sd is **{fmt_num(100 * ratio)} %** of p's marginal sd "
            "on that axis: reverse KL with a "
            f"{'mean-field' if fam == 'diagonal' else 'full-covariance'} q "
            f"{'under-estimates' if ratio < 0.999 else 'matches'} the variance.")

elbo_panel(key, rev.q, unit)
