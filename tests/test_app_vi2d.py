"""The /vi-2d page through AppTest: closed-form KL values on screen, the variance table, the ELBO
identity, the URL round trip, bad input and hostile links."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer.figures import fmt_num
from views.state import AppState

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGE = "views/vi2d.py"
RHO = 0.9
MEAN_FIELD_KL = -0.5 * math.log(1 - RHO**2)  # both directions, mean-field q, ρ = 0.9 Gaussian


def open_vi2d(params: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(params or {})
    at.run()
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric_values(at) -> list[str]:
    return [m.value for m in at.metric]


def test_correlated_gaussian_mean_field_shows_closed_form_kls_and_variances():
    at = open_vi2d({"vp": "corr", "vf": "diag"})
    # the other direction of each fit: q = I against p (forward fit), p against q = 0.19·I
    # (reverse fit), both ½(2/(1 − ρ²) − 2 + log(1 − ρ²))
    other = 0.5 * (2 / (1 - RHO**2) - 2 + math.log(1 - RHO**2))
    assert metric_values(at) == [fmt_num(MEAN_FIELD_KL), fmt_num(other), fmt_num(other),
                                 fmt_num(MEAN_FIELD_KL)]
    table = at.table[1].value  # the variance table (both are static; the optima's comes first)
    sds = dict(zip(table[""], table["sd x"], strict=True))
    assert sds["target p (marginal)"] == "1"
    assert sds["forward q (diagonal)"] == "1"
    assert sds["reverse q (diagonal)"] == fmt_num(math.sqrt(1 - RHO**2))  # 1/√Λ_xx
    assert any("under-estimates" in m.value for m in at.markdown)


def test_full_covariance_is_exact_on_a_gaussian_target():
    at = open_vi2d({"vp": "corr"})
    assert metric_values(at) == ["0"] * 4


def test_elbo_plus_kl_is_log_z():
    at = open_vi2d({"vp": "corr", "vf": "diag", "vz": "2.5"})
    lines = [t.value for t in at.text if t.value.startswith("reverse fit: ELBO")]
    assert lines and f"ELBO = {fmt_num(2.5 - MEAN_FIELD_KL)} nats" in lines[0]
    assert "sum = 2.5 = log Z" in lines[0]


def test_url_round_trip():
    params = {"vp": "three", "vf": "diag", "vs": "c2", "vq": "0.5:-1:1.2:0.8:0.3", "vz": "3"}
    at = open_vi2d(params)
    assert at.query_params.to_dict() if hasattr(at.query_params, "to_dict") else True
    state, warnings = AppState.from_query(params)
    assert not warnings
    assert state.to_query() == params
    got = {k: at.query_params[k] for k in params}
    assert {k: v if isinstance(v, str) else v[-1] for k, v in got.items()} == params


@pytest.mark.parametrize("params, field", [
    ({"vt": "1:0:0:1:1:1"}, "correlation"),
    ({"vt": "1:0:0:1:nan:0"}, "sd y"),
    ({"vt": "0:0:0:1:1:0,0:1:1:1:1:0"}, "weight"),
    ({"vq": "0:0:1:inf:0"}, "sd y"),
    ({"vz": "1e999"}, "log Z"),
    ({"vt": "a" * 5000}, "characters"),
    ({"vf": "<script>"}, "family"),
    ({"vs": "c9"}, "start component"),
])
def test_hostile_links_warn_and_fall_back(params, field):
    at = open_vi2d(params)
    warned = " ".join(w.value for w in at.warning)
    assert field in warned
    assert len(at.metric) == 4


def test_a_bad_edit_keeps_the_last_good_state():
    at = open_vi2d({"vp": "corr"})
    at.number_input(key="v2_c0_5").set_value(1.0).run()
    assert not at.exception
    assert any("correlation" in e.value for e in at.error)
    assert "vt" not in at.query_params and at.query_params["vp"] == "corr"
    at.number_input(key="v2_c0_5").set_value(0.5).run()
    assert not at.error
    assert at.query_params["vt"] == "1:0:0:1:1:0.5"


def test_estimated_values_are_said_once_and_the_forward_q_is_named_a_moment_match():
    """Ridges at the corners: p's entropy needs more nodes than the budget, so every KL(p‖q) is
    an estimate.  The forward panel says so once (its q is p's moment match, not "where the
    optimiser stopped"), the reverse panel says its values are estimates; nothing claims to be
    certified."""
    at = open_vi2d({"vt": "1:-10:-10:0.05:10:0.99,1:10:10:10:0.05:-0.99,"
                          "1:-10:10:0.05:0.05:0.99,1:10:-10:10:10:-0.99", "vf": "diag"})
    texts = [w.value for w in at.warning]
    assert sum("moment match" in t for t in texts) == 1
    assert sum(t.startswith("Not certified: these KL values are estimates") for t in texts) == 1
    assert not any("where the optimiser stopped" in t for t in texts)


def test_moving_your_q_recomputes_no_fit_and_no_figure():
    """The fits, their KL values, p's contour grid and both figures are cached on the target
    and plain values: moving "your q" costs one new KL(q‖p) (its ELBO) and nothing else, and
    a unit toggle costs nothing new.  Every one of those caches is bounded."""
    from views import cached

    caches = {name: getattr(cached, name) for name in
              ("vi2d_fits", "vi2d_kl", "vi2d_grid", "vi2d_chart")}
    assert all(c.cache_parameters()["maxsize"] for c in caches.values())
    at = open_vi2d({"vp": "three"})

    def misses():
        return {name: c.cache_info().misses for name, c in caches.items()}

    seen = misses()
    at.slider(key="v2_q_0").set_value(at.slider(key="v2_q_0").value + 0.01).run()
    assert not at.exception
    now = misses()
    assert now == {**seen, "vi2d_kl": seen["vi2d_kl"] + 1}
    at.radio(key="unit").set_value("bits").run()
    assert not at.exception and misses() == now
    assert metric_values(at)  # the page is drawn in bits from the cache
    assert "KL(p‖q), bits" in [m.label for m in at.metric]
