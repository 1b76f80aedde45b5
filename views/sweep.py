"""The sweep page: vary one parameter of the sidebar's target — the separation of two components,
one component's weight or its width — and follow every reverse-KL local optimum along it:
branches, their births and deaths, and where the global optimum jumps (explorer.sweeps)."""

from __future__ import annotations

import math
from dataclasses import replace

import streamlit as st

from explorer.figures.sweep import events_text, sweep_figure
from explorer.figures.text import fmt_num
from explorer.presets import SCALE_RANGE, mixture
from explorer.sweeps import target_at
from views.cached import param_sweep, sweep_thinning
from views.charts import show_chart
from views.common import (
    as_text,
    commit,
    commit_part,
    errors,
    get_state,
    nice_step,
    page_header,
    show_error,
    tidy,
)
from views.sidebar import _after_components, _write_component_keys
from views.state.sweeps import PARAMETERS, check_range

LABELS = {"sep": "Separation of two components", "w": "One component's weight",
          "s": "One component's width"}
DIVISIONS = 120  # about 50–120 sweep points over the range (fewer for many modes)


def current_value(comps, param: str, i: int, j: int) -> float:
    """The swept parameter of the target itself (i, j 0-based): loc_j − loc_i, i's share of the
    weight, or i's scale — as :func:`explorer.sweeps.target_at` sets it."""
    if param == "sep":
        return comps[j].loc - comps[i].loc
    if param == "w":
        return comps[i].weight / math.fsum(c.weight for c in comps)
    return comps[i].scale


def default_span(comps, param: str, i: int, j: int) -> tuple[float, float]:
    cur = current_value(comps, param, i, j)
    if param == "sep":
        reach = tidy(max(2 * abs(cur), 6 * max(comps[i].scale, comps[j].scale)))
        return (0.0, reach) if cur >= 0 else (-reach, 0.0)
    if param == "w":
        return 0.02, 0.98
    return tidy(max(cur / 5, SCALE_RANGE[0])), tidy(min(cur * 3, SCALE_RANGE[1]))


def grid(lo: float, hi: float, thinning: int = 1) -> tuple[float, ...]:
    step = nice_step(hi - lo, DIVISIONS // thinning)
    n = int(math.floor((hi - lo) / step + 1e-9)) + 1
    return tuple(tidy(lo + k * step) for k in range(n))


def specs_at(comps, param: str, value: float, i: int, j: int):
    """The target's components with the parameter set to ``value`` (by target_at), rounded to
    10 digits for the link."""
    m = target_at(mixture(tuple(c.key() for c in comps)), PARAMETERS[param], value, i, j)
    total = math.fsum(c.weight for c in comps)
    return tuple(replace(spec, weight=tidy(w * total), loc=tidy(c.loc), scale=tidy(c.scale))
                 for spec, w, c in zip(comps, m.weights, m.components, strict=True))


state, key, p, unit = page_header(
    "Sweeps: when optima are born, die and trade places",
    "Vary one parameter of the sidebar's target and follow every local optimum of reverse "
    "KL(q‖p): each line is one optimum, continued from one value to the next.")
comps, n = state.components, len(state.components)
sw_state = state.sweeps
options = ["sep", "w", "s"] if n > 1 else ["s"]
param = sw_state.param if sw_state.param in options else options[-1]
i, j = sw_state.comps
note = None
if max(i, j if param == "sep" else 1) > n:
    note = (f"The link's components {i}:{j} are not in this {n}-component target; sweeping "
            "components 1 and 2 instead." if param == "sep" else
            f"The link's component {i} is not in this target; sweeping component 1 instead.")
    i, j = 1, min(2, n)
if param != sw_state.param:
    note = "A single-component target has only a width to sweep."


def _commit_sweeps(widget: str, **changes) -> None:
    commit_part("sweeps", widget, **changes)


ss = st.session_state
ss["sw_param"] = param
ss["sw_i"], ss["sw_j"] = i, j
c1, c2, c3 = st.columns([2, 1, 1])
c1.radio("Sweep", options, key="sw_param", format_func=LABELS.get, horizontal=True,
         on_change=lambda: _commit_sweeps("sw_param", param=ss["sw_param"], span=None))
names = list(range(1, n + 1))


def _label(k: int) -> str:
    return f"{k}: {comps[k - 1].label()}"


c2.selectbox("component" if param != "sep" else "from component", names, key="sw_i",
             format_func=_label, on_change=lambda: _commit_sweeps(
                 "sw_i", comps=(ss["sw_i"], ss["sw_j"] if ss["sw_j"] != ss["sw_i"] else
                                (2 if ss["sw_i"] == 1 else 1)), span=None))
if param == "sep":
    c3.selectbox("to component", names, key="sw_j", format_func=_label,
                 on_change=lambda: _commit_sweeps("sw_j", comps=(ss["sw_i"], ss["sw_j"]),
                                                  span=None))
show_error("sw_i")
show_error("sw_j")
if note:
    st.caption(as_text(note))
i0, j0 = i - 1, j - 1
if param == "sep" and i == j:
    st.error("Choose two different components to separate.")
    st.stop()
lo, hi = sw_state.span or default_span(comps, param, i0, j0)


def _on_span() -> None:
    try:
        span = check_range(param, ss["sw_lo"], ss["sw_hi"])
    except ValueError as e:
        errors()["sw_lo"] = str(e)
        return
    _commit_sweeps("sw_lo", span=span)


if ss.get("_sw_span") != (param, lo, hi):  # else keep what the user typed, even if refused
    ss["sw_lo"], ss["sw_hi"] = float(lo), float(hi)
    ss["_sw_span"] = (param, lo, hi)
r1, r2, r3 = st.columns([1, 1, 2])
r1.number_input("from", key="sw_lo", format="%g", on_change=_on_span)
r2.number_input("to", key="sw_hi", format="%g", on_change=_on_span)
show_error("sw_lo")
values = grid(lo, hi, sweep_thinning(key))
cur = current_value(comps, param, i0, j0)
what = {"sep": f"μ{j} − μ{i}", "w": f"weight of component {i}",
        "s": f"scale of component {i}"}[param]
with st.spinner("Following every optimum along the sweep…"):
    sw = param_sweep(key, param, i0, j0, values)
inside = values[0] <= cur <= values[-1]
show_chart(lambda stacked: sweep_figure(sw, cur if inside else None, x_title=what, unit=unit,
                                        stacked=stacked), "sweep_chart", "kl-explorer-sweep")
st.caption(as_text(events_text(sw, what)) + (
    "" if inside else f" The current target ({what} = {fmt_num(cur)}) is outside this range."))


def _on_jump() -> None:
    try:
        new = specs_at(get_state().components, param, float(ss["sw_jump"]), i0, j0)
        changes = _after_components(get_state(), new)
    except ValueError as e:
        errors()["sw_jump"] = str(e)
        return
    if commit("sw_jump", **changes):
        _write_component_keys(new)


ss["sw_jump"] = min(values, key=lambda v: abs(v - cur))
r3.select_slider(f"Set the target's {what} to", values, key="sw_jump", on_change=_on_jump,
                 format_func=fmt_num,
                 help="Moves the sidebar's target to this point of the sweep; every page "
                      "then shows that target.")
show_error("sw_jump")
