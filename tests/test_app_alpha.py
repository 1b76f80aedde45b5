"""/alpha and /sweep through AppTest and their URL state: values against the package's own
public API (whose numerics test_alpha.py and test_sweep.py check against mpmath and closed
forms), edits, the jump to another point of a sweep, bad input, hostile links, no NaN."""

from __future__ import annotations

import math

import pytest
from test_app import assert_no_nan, metric_map, rerun, run_app

from explorer import alpha_divergence, fit_gaussian, kl_divergence
from explorer.figures import fmt_kl
from explorer.presets import PRESETS, mixture
from explorer.text import unescape_markdown
from views.state import AppState
from views.state.sweeps import SweepState

PAGES = {"alpha": "views/alpha.py", "sweep": "views/sweep.py"}
BIMODAL = mixture(PRESETS["bimodal"].components)


def open_page(page: str, params: dict | None = None):
    at = run_app(params)
    at.switch_page(PAGES[page])
    return rerun(at)


def num(value_nats: float) -> str:
    """A metric's value: the number alone (its label carries the unit)."""
    return fmt_kl(value_nats, "nats").removesuffix(" nats")


def text_of(at, kind: str) -> str:
    return " ".join(unescape_markdown(str(e.value)) for e in getattr(at, kind))


def test_state_round_trip_and_hostile_links():
    s = AppState().with_(sweeps=SweepState(alpha=-1.35, param="w", comps=(2, 1),
                                           span=(0.1, 0.9)))
    back, warnings = AppState.from_query(s.to_query())
    assert back == s and warnings == []
    assert AppState().to_query() == {}
    assert AppState.from_query({"al": "0.333"})[0].sweeps.alpha == 0.35  # the slider's grid
    assert AppState.from_query({"al": "1e-9"})[0].sweeps.alpha == 0.0  # exactly reverse KL
    hostile = {"al": "NaN", "sw": "<b>x</b>", "sc": "1:1", "sr": "5:1"}
    state, warnings = AppState.from_query(hostile)
    assert state.sweeps == SweepState()
    text = " ".join(warnings)
    for word in ("al=", "sw=", "sc=", "must differ", "sr=", "below"):
        assert word in text, word
    # a range is checked against its own parameter's bounds
    assert AppState.from_query({"sw": "w", "sr": "0.5:2"})[1]
    assert AppState.from_query({"sw": "s", "sr": "0.5:2"})[0].sweeps.span == (0.5, 2.0)
    with pytest.raises(ValueError, match="α"):
        SweepState(alpha=7)
    with pytest.raises(ValueError, match="weight"):
        SweepState(param="w", span=(0.0, 0.5))


def test_alpha_page_shows_the_fit_and_both_kls():
    at = open_page("alpha")
    fit = fit_gaussian(BIMODAL, "alpha", alpha=0.5)
    m = metric_map(at)
    assert m["σ"] == f"{fit.q.std:.4g}"
    # the page's D_α is the divergence of the fit it shows
    assert m["D_α, nats"] == num(alpha_divergence(BIMODAL, fit.q, 0.5))
    assert m["KL(p‖q), nats"] == num(kl_divergence(BIMODAL, fit.q))
    assert m["KL(q‖p), nats"] == num(kl_divergence(fit.q, BIMODAL))
    assert len(at.dataframe[0].value) == len(fit.local_optima)
    assert_no_nan(at)


def test_alpha_slider_goes_from_mode_seeking_to_mass_covering_and_into_the_link():
    at = open_page("alpha")
    at.select_slider(key="alpha").set_value(-1.0)
    rerun(at)
    assert at.query_params["al"] == "-1"
    table = at.dataframe[0].value
    assert len(table) == 2  # one Gaussian on each mode
    assert {round(abs(float(mu.replace("−", "-")))) for mu in table["μ"]} == {3}
    at.select_slider(key="alpha").set_value(0.0)  # α = 0 is the reverse-KL fit
    rerun(at)
    rev = fit_gaussian(BIMODAL, "reverse")
    assert metric_map(at)["σ"] == f"{rev.q.std:.4g}"
    assert metric_map(at)["D_α, nats"] == num(rev.kl)
    at.select_slider(key="alpha").set_value(1.0)  # α = 1: forward KL, moment matching
    rerun(at)
    assert metric_map(at)["σ"] == f"{math.sqrt(10):.4g}"
    again = open_page("alpha", dict(at.query_params))
    assert metric_map(again)["σ"] == f"{math.sqrt(10):.4g}"
    assert_no_nan(at)


def test_alpha_page_says_why_no_gaussian_has_a_finite_divergence():
    at = open_page("alpha", {"p": "heavy", "al": "2"})
    assert "too light" in text_of(at, "error")
    assert not at.metric and at.get("plotly_chart")  # no fit, but the sweep over α is drawn
    assert "Grey bands" in text_of(at, "caption")
    assert_no_nan(at)


def test_sweep_page_default_and_the_jump_to_another_target():
    at = open_page("sweep")
    caption = text_of(at, "caption")
    assert "2 births" in caption and "switches branch at μ2 − μ1" in caption
    at.select_slider(key="sw_jump").set_value(2.0)
    rerun(at)
    # separation 2 about the midpoint 0: N(−1, 1) and N(1, 1)
    assert at.query_params["c"] == "n:0.5:-1:1,n:0.5:1:1"
    assert at.sidebar.number_input(key="c2_loc").value == 1.0
    assert "stays on one branch" in text_of(at, "caption") or "switches" in text_of(
        at, "caption")
    assert_no_nan(at)


def test_sweep_weight_range_edits_and_bad_range_keep_the_last_good_state():
    at = open_page("sweep")
    at.radio(key="sw_param").set_value("w")
    rerun(at)
    assert at.query_params["sw"] == "w"
    at.number_input(key="sw_lo").set_value(0.2)
    rerun(at)
    assert at.query_params["sr"] == "0.2:0.98"
    at.number_input(key="sw_hi").set_value(0.1)  # below 'from'
    rerun(at)
    assert "must be below" in text_of(at, "error")
    assert at.query_params["sr"] == "0.2:0.98"
    assert_no_nan(at)


def test_sweep_link_to_missing_components_falls_back():
    at = open_page("sweep", {"sc": "5:6"})
    assert "not in this 2-component target" in text_of(at, "caption")
    at = open_page("sweep", {"p": "single", "sw": "w"})
    assert "only a width" in text_of(at, "caption")
    assert at.get("plotly_chart")
    assert_no_nan(at)


@pytest.mark.parametrize("page", list(PAGES))
@pytest.mark.parametrize("preset", ["asymmetric", "spike", "heavy"])
def test_each_page_renders_every_kind_of_target_without_nan(page, preset):
    at = open_page(page, {"p": preset})
    assert at.get("plotly_chart")
    assert_no_nan(at)


@pytest.mark.parametrize("page", list(PAGES))
def test_hostile_link_on_each_page_never_raises(page):
    at = open_page(page, {"al": "1e999", "sw": "[x](//evil.invalid)", "sc": "0:9",
                          "sr": "nan:inf", "c": "n:1:0:1"})
    assert at.warning
    assert_no_nan(at)

