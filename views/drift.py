"""Drift page: KL, JS and PSI between a reference and a live sample — drawn from the sidebar target
and a drifted copy (so the truth is known and shown), or the visitor's own CSV / pasted values —
with seeded bootstrap intervals, the permutation null, and each estimator's bias against n."""

from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st

from explorer.divergences import js_divergence, kl_divergence
from explorer.drift import BINNINGS, ESTIMATES, Options, knn_kl, psi_reading
from explorer.drift_noise import analyse, bias_curve
from explorer.figures import fmt_num
from explorer.figures.drift import bias_figure, estimates_figure, samples_figure
from explorer.mle import sample
from explorer.presets import mixture
from explorer.samples import MAX_UPLOAD_BYTES, drifted, numeric_column, pick_column, read_csv
from views.charts import show_chart, wide_or_narrow
from views.common import as_text, commit_part, errors, field_callback, get_state, seed, show_error
from views.state.drift import (
    BINS_RANGE,
    EPS_GRID,
    K_RANGE,
    MAX_SEED,
    RESAMPLES,
    SD_RANGE,
    SHIFT_RANGE,
    SIZES,
    WEIGHT_RANGE,
)

DATA = "_drift_data"  # session: each side's last good table ("ref", "live") and column
BIAS_SIZES = (50, 200, 1000, 5000)
SOURCE_LABELS = {"gen": "Generated: the sidebar target and a drifted copy",
                 "data": "Your data: CSV upload or pasted values"}
SIDES = {"ref": "reference", "live": "live"}
EXAMPLE = {"ref": "latency_ms\n" + "\n".join(f"{v:.4f}" for v in 40 + 8 * np.random.default_rng(
    1).standard_normal(400)), "live": "latency_ms\n" + "\n".join(
    f"{v:.4f}" for v in 43 + 9 * np.random.default_rng(2).standard_normal(300))}


def drift():
    return get_state().drift


def on(key: str, field: str, convert=None):
    """on_change callback writing widget ``key``'s value into the drift state's ``field``."""
    return field_callback(key, field, convert,
                          apply=lambda k, **changes: commit_part("drift", k, **changes))


state = get_state()
unit = state.unit
ds = drift()
st.title("Drift: KL, JS and PSI between two samples")
st.caption("A reference column and a live column: how far apart are they, is that more than "
           "noise at these sample sizes, and which number should an alarm use? Binned "
           "estimates depend on the bins and an empty bin makes them infinite; the kNN "
           "estimator needs no bins. Every estimate comes with a bootstrap interval and the "
           "range it takes when nothing drifted.")
seed("x_source", ds.source)
st.radio("Samples", list(SOURCE_LABELS), key="x_source", format_func=SOURCE_LABELS.get,
         horizontal=True, on_change=on("x_source", "source"))
ds = drift()


# --- generated samples ----------------------------------------------------------------------------
@st.cache_data(max_entries=16, show_spinner=False)
def _generated(key, shift, scale, w, m, sd, n_ref, n_live, seed_):
    p = mixture(key)
    q = drifted(p, shift, scale, w, m, sd)
    truths = {"KL(ref‖live)": kl_divergence(p, q), "KL(live‖ref)": kl_divergence(q, p),
              "JS": js_divergence(p, q)}
    truths["PSI"] = truths["KL(ref‖live)"] + truths["KL(live‖ref)"]
    truths["kNN KL(ref‖live)"], truths["kNN KL(live‖ref)"] = truths["KL(ref‖live)"], truths[
        "KL(live‖ref)"]
    return p, q, sample(p, n_ref, seed_), sample(q, n_live, seed_ + 1), truths


def generated_inputs():
    c1, c2, c3 = st.columns(3)
    for col, key, field, label, rng in (
            (c1, "x_shift", "shift", "Drift: shift the mean by", SHIFT_RANGE),
            (c2, "x_scale", "scale", "Drift: scale the spread by ×", (0.01, 100.0)),
            (c3, "x_extra_mean", "extra_mean", "Extra mode: mean", SHIFT_RANGE)):
        seed(key, getattr(ds, field))
        col.number_input(f"{label} [{rng[0]:g}, {rng[1]:g}]", key=key, format="%g",
                         on_change=on(key, field, float))
        show_error(key, col)
    c1, c2, c3 = st.columns(3)
    seed("x_extra_w", ds.extra_weight)
    c1.slider("Extra mode: weight", *WEIGHT_RANGE, step=0.05, key="x_extra_w",
              on_change=on("x_extra_w", "extra_weight"))
    seed("x_extra_sd", ds.extra_sd)
    c2.number_input(f"Extra mode: sd [{SD_RANGE[0]:g}, {SD_RANGE[1]:g}]", key="x_extra_sd",
                    format="%g", on_change=on("x_extra_sd", "extra_sd", float))
    show_error("x_extra_sd", c2)
    seed("x_seed", ds.seed)
    c3.number_input("Seed", min_value=0, max_value=MAX_SEED, step=1, key="x_seed",
                    on_change=on("x_seed", "seed", int))
    c1, c2 = st.columns(2)
    for col, key, field, label in ((c1, "x_n_ref", "n_ref", "Reference sample size"),
                                   (c2, "x_n_live", "n_live", "Live sample size")):
        seed(key, getattr(ds, field))
        col.select_slider(label, SIZES, key=key, format_func=lambda n: f"{n:,}",
                          on_change=on(key, field))


# --- the visitor's data ------------------------------------------------------------------------
def _load(side: str) -> None:
    """Parse what was uploaded or pasted for ``side``; a file without a usable numeric column is
    reported and the last good data kept."""
    ss = st.session_state
    up = ss.get(f"x_file_{side}")
    text = ss.get(f"x_paste_{side}", "")
    if up is not None:
        data, name = up.getvalue(), up.name
    elif text.strip():
        data, name = text.encode("utf-8"), f"pasted {SIDES[side]} values"
    else:
        return
    try:
        table = read_csv(data, name)
        column = pick_column(table)
    except ValueError as e:
        errors()[f"x_file_{side}"] = str(e)
        return
    errors().pop(f"x_file_{side}", None)
    ss.setdefault(DATA, {})[side] = table
    ss[f"x_col_{side}"] = column  # the new table's first numeric column that is not a row id


def _example() -> None:
    for side, text in EXAMPLE.items():
        st.session_state[f"x_paste_{side}"] = text
        _load(side)


def data_inputs():
    tables = st.session_state.setdefault(DATA, {})
    st.caption("Your data stays in this browser session: a copied link keeps the settings but "
               "not the data.")
    cols = st.columns(2)
    columns = {}
    for col, side in zip(cols, SIDES, strict=True):
        name = SIDES[side]
        col.file_uploader(f"{name.capitalize()} CSV (≤ {MAX_UPLOAD_BYTES // 2**20} MB)",
                          type=["csv", "txt", "tsv"], key=f"x_file_{side}",
                          on_change=_load, args=(side,))
        col.text_area(f"…or paste {name} values (one a line, or CSV)", key=f"x_paste_{side}",
                      height=100, on_change=_load, args=(side,))
        show_error(f"x_file_{side}", col)
        table = tables.get(side)
        if table is not None:
            columns[side] = col.selectbox(f"{name.capitalize()} column", table.columns,
                                          key=f"x_col_{side}")
    st.button("Load an example (response latencies, ms)", on_click=_example)
    if len(columns) < 2:
        st.info("Upload or paste both samples (or load the example) to compare them.")
        return None
    out = {}
    for side, column in columns.items():
        table = tables[side]
        try:
            col = numeric_column(table, column)
        except ValueError as e:  # a text column picked: say so, keep the last good values
            st.error(as_text(f"{e} — showing the last valid column."), icon="⚠️")
            col = tables.get(f"{side}_last")
            if col is None:
                return None
            column = col[1]
            col = col[0]
        tables[f"{side}_last"] = (col, column)
        note = col.note(table.file, column)
        if note or table.ragged:
            extra = (f" {table.ragged:,} row(s) had a different number of cells than the "
                     "header." if table.ragged else "")
            st.caption(as_text((note or f"{table.file}:") + extra))
        out[side] = col.values
    return out["ref"], out["live"]


# --- estimates ---------------------------------------------------------------------------------
def _digest(x: np.ndarray) -> str:
    return hashlib.blake2b(x.tobytes(), digest_size=16).hexdigest()


@st.cache_data(max_entries=16, show_spinner=False, hash_funcs={np.ndarray: _digest})
def _analyse(ref, live, opt: Options, resamples: int, seed_: int):
    return analyse(ref, live, opt, resamples, seed_)


@st.cache_data(max_entries=8, show_spinner=False)
def _bias(key, drift_args, opt: Options, seed_: int):
    p = mixture(key)
    return bias_curve(p, drifted(p, *drift_args), BIAS_SIZES, opt, repeats=20, seed=seed_)


def option_inputs():
    c1, c2, c3, c4 = st.columns([3, 2, 2, 2])
    seed("x_binning", ds.binning)
    c1.radio("Bins", list(BINNINGS), key="x_binning", format_func=BINNINGS.get,
             on_change=on("x_binning", "binning"))
    seed("x_bins", ds.bins)
    c2.number_input(f"Number of bins [{BINS_RANGE[0]}, {BINS_RANGE[1]}]", min_value=BINS_RANGE[0],
                    max_value=BINS_RANGE[1], step=1, key="x_bins",
                    disabled=ds.binning == "fd", on_change=on("x_bins", "bins", int))
    seed("x_eps", ds.eps)
    c3.select_slider("Smoothing ε", EPS_GRID, key="x_eps", format_func=lambda e: f"{e:g}",
                     on_change=on("x_eps", "eps"))
    seed("x_k", ds.k)
    c4.number_input(f"kNN k [{K_RANGE[0]}, {K_RANGE[1]}]", min_value=K_RANGE[0],
                    max_value=K_RANGE[1], step=1, key="x_k", on_change=on("x_k", "k", int))
    seed("x_resamples", ds.resamples)
    st.select_slider("Bootstrap and permutation resamples", RESAMPLES, key="x_resamples",
                     on_change=on("x_resamples", "resamples"))


truths = p = q = None
if ds.source == "gen":
    generated_inputs()
    drift_args = (ds.shift, ds.scale, ds.extra_weight, ds.extra_mean, ds.extra_sd)
    try:
        p, q, ref, live, truths = _generated(state.key(), *drift_args, ds.n_ref, ds.n_live,
                                             ds.seed)
    except ValueError as e:  # the drifted copy of this target is out of range
        st.error(as_text(f"The drifted copy is not valid for this target: {e}. Change the "
                         "drift or the target."), icon="⚠️")
        st.stop()
    st.caption(as_text(f"Reference p = {p.label()}; live q = {q.label()}."))
    samples = ref, live
else:
    samples = data_inputs()
option_inputs()
if samples is None:
    st.stop()
ref, live = samples
opt = Options(ds.binning, ds.bins, ds.eps, ds.k)
try:
    est, bins, boot, null = _analyse(ref, live, opt, ds.resamples, ds.seed)
except ValueError as e:  # e.g. Freedman–Diaconis on a reference with no spread
    st.error(as_text(str(e)), icon="⚠️")
    st.stop()

factor = 1.0 if unit == "nats" else 1 / np.log(2)


def _v(x) -> str:
    return "—" if x is None else fmt_num(x * factor)


rows = []
for name in ESTIMATES:
    iv, nl = boot.get(name), null[name]
    row = {"estimate": name, unit: _v(est[name]),
           "interval": "—" if iv is None else f"{_v(iv.lo)} – {_v(iv.hi)}",
           "p (no drift)": "—" if nl.p_value is None else f"{nl.p_value:.3g}"}
    if truths:
        row["true"] = _v(truths[name])
    rows.append(row)
wide_or_narrow("x_table")  # a phone gets two narrow tables: nothing scrolls sideways
st.container(key="x_table").dataframe(rows, hide_index=True, width="stretch")
narrow = st.container(key="x_table_stacked")
for cols in (("estimate", unit, "p (no drift)"), ("estimate", "interval", "true")):
    narrow.dataframe([{c: r[c] for c in cols if c in r} for r in rows], hide_index=True,
                     width="stretch")
level = next((iv.level for iv in boot.values() if iv), 0.9)
b_used = next((iv.resamples for iv in boot.values() if iv), 0)
st.caption(f"interval: {level:.0%} percentile bootstrap ({b_used} resamples); p: share of "
           f"{null['PSI'].resamples} random re-splits of the pooled data (no drift) whose "
           "estimate is at least as large. "
           + ("The true PSI is the continuous J = KL(p‖q) + KL(q‖p). " if truths else "")
           + "Binned estimates use "
           f"{bins.edges.size - 1} bins ({BINNINGS[ds.binning]}), smoothing ε = {ds.eps:g}.")
st.info(as_text(f"PSI = {_v(est['PSI'])} {unit}: {psi_reading(est['PSI'])} (the customary "
                "reading, in nats: < 0.1 no significant change, 0.1–0.25 moderate, > 0.25 "
                "major). Whether it is more than noise is the p-value's question."),
        icon=":material/monitoring:")
why = bins.why_infinite()
if why:
    st.error(as_text(why), icon=":material/all_inclusive:")
for name, x, y in (("kNN KL(ref‖live)", ref, live), ("kNN KL(live‖ref)", live, ref)):
    if est[name] is None:
        st.warning(as_text(f"{name}: {knn_kl(x, y, ds.k).why_not}"), icon="⚠️")
        break
st.plotly_chart(estimates_figure(est, boot, null, truths, unit), key="drift_estimates",
                config={"displaylogo": False})
show_chart(lambda stacked: samples_figure(ref, live, bins, (p, q) if truths else None, unit,
                                          stacked), "drift_chart", "kl-explorer-drift")
if truths:
    st.subheader("Bias against sample size")
    if st.toggle("Draw each estimator's mean ± sd for n = 50 … 5,000 (20 seeded repeats, "
                 "about a second)", key="x_bias"):
        curve = _bias(state.key(), drift_args, opt, ds.seed)
        show_chart(lambda stacked: bias_figure(curve, truths, unit, stacked), "drift_bias",
                   "kl-explorer-drift-bias")
        st.caption("Small samples look drifted even when little changed (every binned estimate "
                   "is biased upward at small n); with fixed bins the binned KL converges to "
                   "the KL of the bin probabilities, which is below the true KL (binning loses "
                   "information). The kNN estimator converges to the true KL.")
