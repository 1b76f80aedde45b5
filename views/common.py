"""What every page shares: the one AppState (session ↔ URL), widget binding, cached computations
and number display.  The pages only lay out widgets and results.

State flow: on a session's first run the state comes from the URL (``AppState.from_query``); from
then on ``st.session_state[STATE]`` is the truth.  Every widget is *seeded* from the state when its
key is missing (first run, or after a page switch dropped it) and writes back through its
``on_change`` callback, which validates: a bad value leaves the state (and the figures) at the last
good value, keeps what the user typed in the widget, and puts an error next to it.  At the end of
every run the state is written to the address bar (``st.query_params``).
"""

from __future__ import annotations

import functools
import math

import streamlit as st

from explorer.distributions import MAX_ABS_LOCATION, MAX_SCALE, Normal
from explorer.figures import fmt_kl, fmt_mu_sigma, safe_kl
from explorer.fitting import NoFiniteFitError, fit_gaussian
from explorer.grid import x_range
from explorer.presets import mixture
from explorer.text import as_text  # the one escaping helper; views import it from here
from views.state import AppState

STATE = "_kl_state"
ERRORS = "_kl_errors"
LINK_WARNINGS = "_kl_link_warnings"
LINK_STATE = "_kl_link_state"


# --- the state ----------------------------------------------------------------------------------
def load_state() -> AppState:
    """The session's state; on the first run, the one the URL describes (warnings kept)."""
    ss = st.session_state
    if STATE not in ss:
        state, warnings = AppState.from_query(st.query_params.to_dict())
        ss[STATE] = state
        ss[LINK_WARNINGS] = warnings
        ss[LINK_STATE] = state
        ss[ERRORS] = {}
    return ss[STATE]


def get_state() -> AppState:
    return st.session_state[STATE]


def set_state(state: AppState) -> None:
    st.session_state[STATE] = state


def errors() -> dict[str, str]:
    return st.session_state.setdefault(ERRORS, {})


def link_warnings() -> list[str]:
    """The link's warnings, while the view is still the one the link opened."""
    ss = st.session_state
    if ss.get(LINK_WARNINGS) and ss.get(LINK_STATE) == ss.get(STATE):
        return ss[LINK_WARNINGS]
    return []


def sync_url(state: AppState) -> None:
    """Write the state to the address bar (only when it differs: no needless messages)."""
    query = state.to_query()
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)


def page_header(title: str, caption: str):
    """Title and one-line caption of a page about the sidebar's target; returns the state, the
    target's cache key, the target p and the unit."""
    state = get_state()
    key = state.key()
    st.title(title)
    st.caption(caption)
    return state, key, mixture(key), state.unit


# --- widgets bound to fields --------------------------------------------------------------------
def seed(key: str, value) -> None:
    """Give widget ``key`` the state's value unless it already holds one (typed by the user)."""
    if key not in st.session_state:
        st.session_state[key] = value


def commit(key: str, **changes) -> bool:
    """Apply ``changes`` to the state; on ValueError keep the last good state and record the
    message under widget ``key``.  True on success."""
    try:
        set_state(get_state().with_(**changes))
    except ValueError as e:
        errors()[key] = str(e)
        return False
    errors().pop(key, None)
    return True


def commit_part(part: str, key: str, **changes) -> bool:
    """Apply ``changes`` to the state's sub-state ``part`` (``mlkl``, ``sweeps``, ``drift`` …);
    on ValueError keep the last good state and record the message under widget ``key``."""
    try:
        new = getattr(get_state(), part).with_(**changes)
    except ValueError as e:
        errors()[key] = str(e)
        return False
    return commit(key, **{part: new})


def field_callback(key: str, field: str, convert=None, apply=None):
    """on_change callback writing widget ``key``'s value into state ``field`` (through
    ``apply(key, **changes)``, default :func:`commit`)."""

    def callback():
        value = st.session_state[key]
        try:
            value = convert(value) if convert else value
        except (TypeError, ValueError) as e:
            errors()[key] = str(e)
            return
        (apply or commit)(key, **{field: value})

    return callback


def show_error(key: str, where=None) -> None:
    msg = errors().get(key)
    if msg:
        (where or st).error(f"{as_text(msg)} — showing the last valid value.", icon="⚠️")


def seed_ranged(key: str, value: float, lo: float, hi: float, step: float) -> float:
    """Seed a slider whose range follows the target, from the state's ``value`` clamped into
    [lo, hi].  A slider whose range changed is a new widget to Streamlit (it would restart at
    ``lo``), so on a range change the value is set again.  Returns the slider's value."""
    ss = st.session_state
    rng_key = f"_range_{key}"
    if key not in ss or ss.get(rng_key) != (lo, hi, step):
        ss[key] = float(min(max(value, lo), hi))
    ss[rng_key] = (lo, hi, step)
    return float(ss[key])


# --- cached computations (keys are plain hashable tuples) -------------------------------------
def shared_cache(maxsize: int):
    """The cache of the expensive numerics (fits, landscapes), owned by the app.  Any websocket
    client can send Streamlit's clear-cache message, and Streamlit 1.67 has no option to refuse
    it: it wipes st.cache_data and st.cache_resource for every visitor.  It cannot reach this
    one (a thread-safe LRU of immutable results: frozen fits, read-only arrays)."""
    return functools.lru_cache(maxsize=maxsize)


@shared_cache(64)
def forward_fit(key: tuple) -> tuple[Normal | None, float | None, str | None]:
    """(q, KL(p‖q) nats, None); (None, ∞, reason) where no Gaussian has finite KL(p‖q); and
    (None, None, reason) where the optimiser certified no minimum (never shown as a fit)."""
    p = mixture(key)
    try:
        fit = fit_gaussian(p, "forward")
    except NoFiniteFitError as e:
        return None, math.inf, str(e)
    if not fit.is_minimum:
        sd = math.sqrt(p.variance)
        return None, None, (f"no certified forward fit: the optimum, p's mean and standard "
                            f"deviation ({p.mean:.6g}, {sd:.6g}), lies outside the Gaussians q "
                            f"may be (σ ≤ {MAX_SCALE:g}, |μ| ≤ {MAX_ABS_LOCATION:g}).")
    return fit.q, fit.kl, None


@shared_cache(64)
def reverse_best(key: tuple):
    """The best reverse fit with every local optimum found (Fit.local_optima)."""
    return fit_gaussian(mixture(key), "reverse")


@shared_cache(128)
def reverse_from(key: tuple, mean: float, std: float):
    """The reverse fit reached from N(mean, std²)."""
    return fit_gaussian(mixture(key), "reverse", init=Normal(mean, std))


@st.cache_data(max_entries=512, show_spinner=False)
def kl_both(key: tuple, mu: float, sigma: float) -> tuple[float, float]:
    """(KL(p‖q), KL(q‖p)) in nats for q = N(mu, sigma²)."""
    p, q = mixture(key), Normal(mu, sigma)
    return safe_kl(p, q), safe_kl(q, p)


def reverse_start(state: AppState) -> Normal | None:
    """The start the user chose for the reverse fit (None: best of all starts)."""
    comps = state.components
    if state.start == "component":
        c = comps[state.start_component - 1]
        return Normal(c.loc, c.scale)
    if state.start == "mean":
        nearest = min(comps, key=lambda c: abs(c.loc - state.start_mean))
        return Normal(state.start_mean, nearest.scale)
    return None


def reverse_fit(state: AppState):
    """The reverse fit the state asks for, and every optimum found from all starts."""
    best = reverse_best(state.key())
    start = reverse_start(state)
    fit = best if start is None else reverse_from(state.key(), start.mean, start.std)
    return fit, list(best.local_optima)


def same_q(a: Normal, b: Normal, tol: float = 1e-4) -> bool:
    s = math.sqrt(a.std * b.std)
    return abs(a.mean - b.mean) <= tol * s and abs(math.log(a.std / b.std)) <= tol


# --- ranges of the target-dependent sliders ----------------------------------------------------
def tidy(x: float) -> float:
    """``x`` without binary round-off (5.6000000000000005 -> 5.6), for slider values."""
    return float(f"{x:.10g}")


def nice_step(span: float, divisions: int = 200) -> float:
    raw = span / divisions
    e = 10.0 ** math.floor(math.log10(raw))
    for m in (1.0, 2.0, 5.0, 10.0):
        if m * e >= raw:
            return tidy(m * e)
    return tidy(10 * e)


def mu_range(key: tuple) -> tuple[float, float, float]:
    """(lo, hi, step) of a slider over locations: p's drawing range on a round grid."""
    lo, hi = x_range(mixture(key))
    step = nice_step(hi - lo)
    return tidy(math.floor(lo / step) * step), tidy(math.ceil(hi / step) * step), step


def sigma_range(key: tuple) -> tuple[float, float, float]:
    lo, hi, step = mu_range(key)
    return step, tidy(max(round((hi - lo) / 2 / step) * step, 2 * step)), step


def default_manual(key: tuple) -> tuple[float, float]:
    """The manual q before the user moves it: centred on p's range, a quarter of it wide."""
    lo, hi, step = mu_range(key)
    mu = round((lo + hi) / 2 / step) * step
    sigma = max(round((hi - lo) / 4 / step) * step, step)
    return tidy(mu) + 0.0, tidy(sigma)


def manual_q(state: AppState) -> Normal:
    mu, sigma = state.manual if state.manual is not None else default_manual(state.key())
    return Normal(mu, sigma)


# --- display ------------------------------------------------------------------------------------
def kl_text(value_nats: float, unit: str) -> str:
    """"0.6888 nats", "∞", "0 bits"."""
    return fmt_kl(value_nats, unit)


def kl_value(value_nats: float, unit: str) -> str:
    """The number alone ("0.6888", "∞"), for metrics whose label carries the unit."""
    text = fmt_kl(value_nats, unit)
    return text.removesuffix(f" {unit}")


def q_text(q: Normal) -> tuple[str, str]:
    """μ and σ of a fit as text; a μ within round-off of 0 (relative to σ) shows as 0."""
    return fmt_mu_sigma(q)


def plain_table(rows: list[dict], key: str, where=None) -> None:
    """A small static table (Markdown, every cell escaped as text) in a container keyed ``key``.

    For a few rows of already formatted numbers: st.dataframe would import pandas and pyarrow
    (about half a second of CPU) on the app's first page for one table; a Markdown table also
    wraps its cells on a phone instead of scrolling sideways."""
    if not rows:
        return
    head = list(rows[0])

    def line(cells) -> str:
        return "| " + " | ".join(as_text(c) if str(c) else " " for c in cells) + " |"

    text = "\n".join([line(head), "|" + "---|" * len(head),
                      *(line(r[h] for h in head) for r in rows)])
    (where or st).container(key=key).markdown(text)


# --- shared controls ------------------------------------------------------------------------------
START_LABELS = {"best": "Best of all starts", "component": "Start at a component",
                "mean": "Start at a mean"}


def render_start_controls() -> None:
    """Where the reverse fit starts (fits and landscape pages share these widgets and field)."""
    from views.state import START_KINDS

    state = get_state()
    seed("rev_start", state.start)
    c_kind, c_value = st.columns([3, 2])
    c_kind.radio("Reverse-KL fit starts from", START_KINDS, key="rev_start", horizontal=True,
                 format_func=START_LABELS.get, on_change=field_callback("rev_start", "start"),
                 help="Reverse KL can have several local optima (single modes, or bridges "
                      "over neighbouring ones); the start decides which one the optimiser "
                      "reaches.")
    if state.start == "component":
        seed("rev_comp", state.start_component)
        if st.session_state["rev_comp"] > len(state.components):
            st.session_state["rev_comp"] = 1
        c_value.selectbox("Component", list(range(1, len(state.components) + 1)),
                          key="rev_comp",
                          format_func=lambda k: f"{k}: {state.components[k - 1].label()}",
                          on_change=field_callback("rev_comp", "start_component"))
    elif state.start == "mean":
        lo, hi, step = mu_range(state.key())
        if seed_ranged("rev_mean", state.start_mean, lo, hi, step) != state.start_mean:
            commit("rev_mean", start_mean=float(st.session_state["rev_mean"]))
        c_value.slider("Initial mean of q", min_value=lo, max_value=hi, step=step,
                       key="rev_mean",
                       on_change=field_callback("rev_mean", "start_mean", float),
                       help="q starts at this mean with the width of the nearest component.")
    show_error("rev_start")


def forward_note(where, reason: str | None) -> None:
    """The plain statement that no forward fit exists (heavy tails), where one is missing."""
    if reason:
        where.error(as_text(reason[:1].upper() + reason[1:]), icon=":material/all_inclusive:")
