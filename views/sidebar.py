"""The sidebar: the target builder (preset, 1–6 components of three families) and the unit."""

from __future__ import annotations

import streamlit as st

from explorer.presets import (
    CUSTOM,
    FAMILIES,
    LOC_RANGE,
    MAX_COMPONENTS,
    PRESETS,
    ComponentSpec,
)
from views.common import commit, errors, get_state, seed, show_error
from views.state import UNITS, AppState, check_components

FIELDS = ("fam", "w", "loc", "scale", "df")
TARGET_ERROR = "target"  # errors() key of the component builder


def ckey(i: int, name: str) -> str:
    """Widget key of field ``name`` of component ``i`` (1-based): c1_fam, c1_w, c1_loc, …"""
    return f"c{i}_{name}"


def _values(spec: ComponentSpec) -> dict[str, object]:
    return {"fam": spec.family, "w": spec.weight, "loc": spec.loc, "scale": spec.scale,
            "df": spec.df}


def _write_component_keys(components) -> None:
    ss = st.session_state
    ss["n_comp"] = len(components)
    for i in range(1, MAX_COMPONENTS + 1):
        for name in FIELDS:
            ss.pop(ckey(i, name), None)
    for i, spec in enumerate(components, start=1):
        for name, value in _values(spec).items():
            ss[ckey(i, name)] = value


def _new_component(prev: ComponentSpec) -> ComponentSpec:
    """A component added after ``prev``: a Normal of the same width, three widths further on."""
    loc = min(prev.loc + 3 * prev.scale, LOC_RANGE[1])
    return ComponentSpec("n", prev.weight, loc, prev.scale)


def _after_components(state: AppState, components) -> dict:
    """State changes for new components: a start at a component that is gone becomes 'best'."""
    changes: dict = {"components": components}
    if state.start == "component" and state.start_component > len(components):
        changes["start"] = "best"
    return changes


def _on_preset() -> None:
    pid = st.session_state["preset"]
    if pid == CUSTOM:
        return
    comps = PRESETS[pid].components
    _write_component_keys(comps)
    for k in ("manual_mu", "manual_sigma", "rev_mean"):
        st.session_state.pop(k, None)
    errors().pop(TARGET_ERROR, None)
    commit(TARGET_ERROR, **_after_components(get_state(), comps), manual=None)


def _on_components() -> None:
    ss = st.session_state
    n = int(ss["n_comp"])
    state = get_state()
    specs = []
    for i in range(1, n + 1):
        if ckey(i, "fam") not in ss:  # a newly added component
            prev = specs[-1] if specs else state.components[0]
            for name, value in _values(_new_component(prev)).items():
                ss[ckey(i, name)] = value
        try:
            specs.append(ComponentSpec(ss[ckey(i, "fam")], ss[ckey(i, "w")], ss[ckey(i, "loc")],
                                       ss[ckey(i, "scale")], ss.get(ckey(i, "df"), 3.0)))
        except ValueError as e:
            errors()[TARGET_ERROR] = f"Component {i}: {e}"
            return
    try:
        comps = check_components(specs)
    except ValueError as e:
        errors()[TARGET_ERROR] = f"Target p: {e}"
        return
    commit(TARGET_ERROR, **_after_components(state, comps))


def render_target_builder() -> None:
    state = get_state()
    ss = st.session_state
    sb = st.sidebar
    sb.header("Target p")
    ss["preset"] = state.preset  # the preset follows the components (edits make it "Custom")
    sb.selectbox("Preset", [*PRESETS, CUSTOM], key="preset", on_change=_on_preset,
                 format_func=lambda pid: PRESETS[pid].label if pid in PRESETS else "Custom",
                 help="Choose a target; editing a component below makes it Custom.")
    if state.preset in PRESETS:  # the blurbs say what each preset shows
        sb.caption(PRESETS[state.preset].blurb)
    if "n_comp" not in ss:  # the widgets are rebuilt from the state: an old error is stale
        errors().pop(TARGET_ERROR, None)
    seed("n_comp", len(state.components))
    sb.number_input("Components", min_value=1, max_value=MAX_COMPONENTS, step=1, key="n_comp",
                    on_change=_on_components)
    for i in range(1, int(ss["n_comp"]) + 1):
        spec = (state.components[i - 1] if i <= len(state.components)
                else _new_component(state.components[-1]))
        for name, value in _values(spec).items():
            seed(ckey(i, name), value)
        box = sb.container(border=True)
        fam = ss[ckey(i, "fam")]
        c1, c2 = box.columns([1.25, 1])
        c1.selectbox(f"Component {i}", list(FAMILIES), key=ckey(i, "fam"),
                     format_func=FAMILIES.get, on_change=_on_components)
        # no min/max on these inputs: the browser would drop an out-of-range value silently;
        # ComponentSpec rejects it instead, naming the value and the allowed range
        c2.number_input("weight", step=0.1, format="%g", key=ckey(i, "w"),
                        on_change=_on_components,
                        help="Relative weight; the weights are normalised to sum to 1.")
        c3, c4 = box.columns(2)
        c3.number_input("mean" if fam == "n" else "location", step=0.5, format="%g",
                        key=ckey(i, "loc"),
                        on_change=_on_components)
        c4.number_input("std" if fam == "n" else "scale", step=0.1, format="%g",
                        key=ckey(i, "scale"),
                        on_change=_on_components)
        if fam == "t":
            box.number_input("ν (degrees of freedom)", step=0.5, format="%g", key=ckey(i, "df"),
                             on_change=_on_components,
                             help="ν ≤ 2: infinite variance, so no Gaussian has finite "
                                  "KL(p‖q); ν ≤ 1: not even a mean.")
    show_error(TARGET_ERROR, sb)


def render_unit() -> None:
    seed("unit", get_state().unit)
    st.sidebar.radio("Unit", UNITS, key="unit", horizontal=True,
                     on_change=lambda: commit("unit", unit=st.session_state["unit"]),
                     help="1 bit = ln 2 nats ≈ 0.693 nats.")
