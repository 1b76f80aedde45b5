"""/rlhf, /estimators and /distill through AppTest and their URL state: values against hand
formulas, edits, bad input keeping the last good state, hostile links, no NaN."""

from __future__ import annotations

import math

import pytest
from test_app import assert_no_nan, metric_map, rerun, table

from explorer.text import unescape_markdown
from views.state import AppState
from views.state.mlkl import MlklState

PAGES = {"rlhf": "views/rlhf.py", "estimators": "views/estimators.py",
         "distill": "views/distill.py"}


def open_ml(page: str, params: dict | None = None):
    from streamlit.testing.v1 import AppTest
    from test_app import APP, TIMEOUT

    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update(params or {})
    at.switch_page(PAGES[page])
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_state_round_trip_and_hostile_links():
    s = AppState().with_(mlkl=MlklState(beta=0.03, pair=(4, 1), k_setting="policy", k_mu=-2.5,
                                        k_n=100, k_repeats=5000, k_seed=7,
                                        teacher=(("x", 1.0), ("y", -3.5)), temperature=12.0))
    back, warnings = AppState.from_query(s.to_query())
    assert back == s and warnings == []
    hostile = {"b": "NaN", "rl": "a:0:1,b:0:2", "dp": "1:1", "kn": "10000", "kr": "5000",
               "km": "1e999", "dt": "<script>:1", "tt": "-3", "kx": "x" * 5000}
    state, warnings = AppState.from_query(hostile)
    assert state.mlkl.beta == 1.0 and state.mlkl.pair == (1, 2)
    text = " ".join(warnings)
    for word in ("b=", "rl=", "π_ref(1)", "dp=", "n·R", "km=", "dt=", "tt=", "kx"):
        assert word in text, word
    assert AppState.from_query({"b": "0.5"})[0].mlkl.beta == 0.5
    assert AppState.from_query({"b": "0.52"})[0].mlkl.beta == 0.5  # snapped to the log grid
    with pytest.raises(ValueError, match="n·R"):
        MlklState(k_n=10000, k_repeats=5000)


def test_rlhf_default_values_by_hand():
    at = open_ml("rlhf")
    refs = [0.35, 0.25, 0.2, 0.05, 0.15]
    rewards = [1.0, 1.4, 0.2, 2.5, -1.0]
    w = [p * math.exp(r) for p, r in zip(refs, rewards, strict=True)]
    z = sum(w)
    pol = [x / z for x in w]
    m = metric_map(at)
    assert m["E_π*[r]"] == f"{sum(p * r for p, r in zip(pol, rewards, strict=True)):.4g}"
    assert m["β·log Z (optimum)"] == f"{math.log(z):.4g}"
    kl = sum(p * math.log(p / q) for p, q in zip(pol, refs, strict=True))
    assert m["KL(π*‖π_ref), nats"] == f"{kl:.4g}"
    assert m["P(y_w ≻ y_l) = σ(r_w − r_l)"] == f"{1 / (1 + math.exp(0.4)):.4g}"
    assert m["DPO loss at π = π*_β"] == f"{math.log(1 + math.exp(0.4)):.4g}"
    assert_no_nan(at)


def test_rlhf_beta_and_bad_input_keep_the_last_good_state():
    at = open_ml("rlhf")
    at.select_slider(key="rl_beta").set_value(0.01)
    rerun(at)
    assert at.query_params["b"] == "0.01"
    assert metric_map(at)["E_π*[r]"] == "2.5"  # reward hacking: all on "flattering"
    at.number_input(key="rl4_ref").set_value(0.0)
    rerun(at)
    assert any("π_ref(4) must be > 0" in unescape_markdown(e.value) for e in at.error)
    assert metric_map(at)["E_π*[r]"] == "2.5"  # the last good state
    at.text_input(key="rl1_label").set_value("**bold** <b>x</b>")
    at.number_input(key="rl4_ref").set_value(0.05)
    rerun(at)
    assert "rl" in at.query_params
    assert_no_nan(at)


def test_estimators_gaussian_exact_values_and_policy_setting():
    at = open_ml("estimators", {"km": "1", "kn": "1", "kr": "5000"})
    m = metric_map(at)
    assert m["Exact KL(q‖p), nats"] == "0.5"
    assert m["P(k1 average < 0) exact"] == f"{0.5 * math.erfc(0.5 / math.sqrt(2)):.1%}"
    k = table(at, "measure")  # one column per estimator: fits a phone
    assert list(k) == ["measure", "k1", "k2", "k3"]
    by = {m: [k[e][i] for e in ("k1", "k2", "k3")] for i, m in enumerate(k["measure"])}
    assert by["bias/KL (exact)"] == ["0", "0.25", "0"]
    assert by["sd/KL (exact)"][:2] == ["2", "1.732"]
    assert_no_nan(at)
    at.radio(key="k_setting").set_value("policy")
    rerun(at)
    assert at.query_params["kx"] == "policy"
    assert table(at, "measure") and not at.dataframe  # plain tables: they fit a phone
    grads = [unescape_markdown(md.value) for md in at.markdown
             if md.value.startswith("| response")]
    assert len(grads) == 2  # k1 beside the reverse-KL gradient, k3 beside the forward one
    k1 = table(at, "response")
    assert list(k1) == ["response", "E[∇k1] exact", "∇k1 sampled", "∇ reverse KL"]
    assert all(abs(float(v)) < 1e-12 for v in k1["E[∇k1] exact"])  # no signal at all
    assert "E[∇k3] exact" in grads[1] and "∇ forward KL" in grads[1]
    assert_no_nan(at)


def test_estimators_cap_on_n_times_r():
    at = open_ml("estimators")
    at.select_slider(key="k_n").set_value(10000)
    at.select_slider(key="k_r").set_value(5000)
    rerun(at)
    assert any("n·R" in e.value for e in at.error)
    assert "kn" not in at.query_params  # still the last good sizes


def test_distill_default_fits_and_temperature():
    at = open_ml("distill")
    m = metric_map(at)
    assert m["Forward fit: KL(t‖s), nats"] == "0.9426"
    assert m["Best reverse fit: KL(s‖t), nats"] == "0.1409"
    table = at.dataframe[0].value
    assert len(table) == 3 and table["fit"].iloc[2].startswith("reverse, local optimum")
    assert_no_nan(at)
    at.select_slider(key="dt_T").set_value(20.0)
    rerun(at)
    assert at.query_params["tt"] == "20"
    assert_no_nan(at)
    at.text_input(key="dt2_label").set_value("0")  # a duplicate name
    rerun(at)
    assert any("unique" in e.value for e in at.error)


@pytest.mark.parametrize("page", list(PAGES))
def test_hostile_link_on_each_ml_page_never_raises(page):
    at = open_ml(page, {"rl": "x:1:nan", "dt": "a:inf,b:2", "kn": "-1", "b": "1e309",
                        "tt": "0", "kx": "policy"})
    assert at.warning
    assert_no_nan(at)
