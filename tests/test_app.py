"""The app's behaviour through streamlit.testing.v1.AppTest: presets, edits, units, reverse starts,
manual q, the URL round trip, hostile links, and no NaN anywhere on any page.

Displayed KL values are checked against independent numbers: the closed-form Gaussian KL where p
is Gaussian, else explorer's kl_divergence (the numerics are tested in test_divergences.py)."""

from __future__ import annotations

import base64
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from explorer.distributions import Mixture, Normal
from explorer.divergences import gaussian_kl, kl_divergence
from explorer.figures import fmt_kl, fmt_num
from explorer.fitting import fit_gaussian
from explorer.presets import PRESETS, mixture
from explorer.text import unescape_markdown

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 60
LN2 = math.log(2)


def run_app(params: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update(params or {})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def rerun(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def table(at: AppTest, first_column: str = "#") -> dict[str, list[str]]:
    """The page's plain (Markdown) table whose first column is ``first_column``, as
    {column: [cells as a reader sees them]}."""
    for md in at.markdown:
        lines = md.value.split("\n")
        cells = [[unescape_markdown(c.strip()) for c in re.split(r"(?<!\\)\|", ln)[1:-1]]
                 for ln in lines if ln.startswith("|")]
        if len(cells) > 2 and cells[0][0] == first_column:
            return {h: [r[i] for r in cells[2:]] for i, h in enumerate(cells[0])}
    raise AssertionError(f"no table starting with column {first_column!r}")


def metrics(at: AppTest) -> list[tuple[str, str]]:
    return [(m.label, m.value) for m in at.metric]


def fit_panel(at: AppTest) -> dict[str, dict[str, str]]:
    """The forward and reverse fit metrics: {"forward": {"μ": .., "σ": .., "KL(p‖q)": ..}, ...}."""
    out, side = {"forward": {}, "reverse": {}}, "forward"
    for label, value in metrics(at)[:8]:
        name = label.split(",")[0]
        if name in out[side] or name.startswith("Forward fit"):
            if name.startswith("Forward fit"):
                out["forward"]["KL(p‖q)"] = value
            side = "reverse"
            if name.startswith("Forward fit"):
                continue
        if "your q" in label:
            break
        out[side][name] = value
    return out


def all_text(at: AppTest, quotes: bool = True) -> str:
    """Every piece of text the page shows, figures' specs included (``quotes=False``: without
    the link warnings, which quote the bad values they ignored, e.g. u='NaN')."""
    parts = []
    kinds = ("title", "header", "subheader", "markdown", "caption", "latex", "text", "error",
             "info", "success") + (("warning",) if quotes else ())
    for kind in kinds:
        parts += [unescape_markdown(str(e.value)) for e in getattr(at, kind)]
    parts += [f"{m.label} {m.value} {m.proto.delta}" for m in at.metric]
    parts += [df.value.to_string() for df in at.dataframe]
    for c in at.get("plotly_chart"):
        spec = json.loads(c.proto.spec)
        parts += [text for text in _strings(spec)]
    return "\n".join(parts)


def _strings(node):
    """Every string in a figure spec except base64 array payloads (their numbers are checked
    by :func:`_arrays`)."""
    if isinstance(node, dict):
        if "bdata" in node:
            return
        for v in node.values():
            yield from _strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from _strings(v)
    elif isinstance(node, str):
        yield node


def _arrays(node):
    """Every numeric array of a figure spec (Plotly 7 ships them base64-encoded)."""
    if isinstance(node, dict):
        if "bdata" in node and "dtype" in node:
            yield np.frombuffer(base64.b64decode(node["bdata"]), dtype=node["dtype"])
            return
        for v in node.values():
            yield from _arrays(v)
    elif isinstance(node, list):
        if node and all(isinstance(v, int | float) for v in node):
            yield np.asarray(node, dtype=float)
        for v in node:
            yield from _arrays(v)


NAN = re.compile(r"\bnan\b|NaN", re.IGNORECASE)


def assert_no_nan(at: AppTest) -> None:
    text = all_text(at, quotes=False)
    assert not NAN.search(text), text[max(NAN.search(text).start() - 80, 0):][:160]
    for c in at.get("plotly_chart"):
        for arr in _arrays(json.loads(c.proto.spec)["data"]):
            assert not np.isnan(arr.astype(float)).any()


def chart_spec(at: AppTest, i: int = 0) -> dict:
    return json.loads(at.get("plotly_chart")[i].proto.spec)


# --- main page ---------------------------------------------------------------------------------
def test_default_view_is_the_bimodal_target_with_both_fits():
    at = run_app()
    assert at.selectbox(key="preset").value == "bimodal"
    assert at.query_params == {}
    fits = fit_panel(at)
    p = mixture(PRESETS["bimodal"].components)
    q = Normal(0, math.sqrt(10))  # moment matching
    assert fits["forward"]["μ"] == "0" and fits["forward"]["σ"] == "3.162"
    assert fits["forward"]["KL(p‖q)"] == fmt_num(kl_divergence(p, q))
    assert fits["forward"]["KL(q‖p)"] == fmt_num(kl_divergence(q, p))
    assert fits["reverse"]["μ"] in ("−2.984", "2.984") and fits["reverse"]["σ"] == "1.023"
    spec = chart_spec(at)
    titles = [a["text"] for a in spec["layout"]["annotations"]]
    assert "Forward KL(p‖q): mass-covering" in titles
    assert "Reverse KL(q‖p): mode-seeking" in titles
    assert len(at.latex) == 2
    assert_no_nan(at)


def test_every_reverse_optimum_is_listed_and_drawn():
    at = run_app()
    rows = table(at)
    assert rows["μ"] == ["−2.984", "2.984", "0"]
    assert rows["KL(q‖p)"][:2] == ["0.6888 nats"] * 2
    assert rows["shown"].count("◀ reverse fit") == 1
    names = [t.get("name") for t in chart_spec(at)["data"]]
    assert names.count("other reverse optima") == 2


def test_single_gaussian_manual_q_shows_closed_form_kls():
    at = run_app({"p": "single", "q": "1:2"})
    mine = dict(metrics(at))
    assert mine["KL(p‖q), your q"] == fmt_kl(gaussian_kl(0, 1, 1, 2)) == "0.4431 nats"
    assert mine["KL(q‖p), your q"] == fmt_kl(gaussian_kl(1, 2, 0, 1))
    assert at.slider(key="manual_mu").value == 1.0
    assert at.slider(key="manual_sigma").value == 2.0
    fits = fit_panel(at)
    assert fits["forward"]["KL(p‖q)"] == "0" and fits["reverse"]["KL(q‖p)"] == "0"


def test_dragging_the_manual_q_updates_kls_and_url():
    at = run_app({"p": "single"})
    at.slider(key="manual_mu").set_value(0.5)
    rerun(at)
    at.slider(key="manual_sigma").set_value(0.5)
    rerun(at)
    mine = dict(metrics(at))
    assert mine["KL(p‖q), your q"] == fmt_kl(gaussian_kl(0, 1, 0.5, 0.5))
    assert mine["KL(q‖p), your q"] == fmt_kl(gaussian_kl(0.5, 0.5, 0, 1))
    assert at.query_params == {"p": "single", "q": "0.5:0.5"}
    gap = [m for m in at.metric if m.label == "KL(p‖q), your q"][0].proto.delta
    assert gap == f"+{fmt_kl(gaussian_kl(0, 1, 0.5, 0.5))} vs optimum"


@pytest.mark.parametrize("pid", list(PRESETS))
def test_choosing_each_preset_updates_view_and_url(pid):
    at = run_app()
    at.selectbox(key="preset").set_value(pid)
    rerun(at)
    comps = PRESETS[pid].components
    assert at.number_input(key="n_comp").value == len(comps)
    assert at.number_input(key="c1_loc").value == comps[0].loc
    assert at.query_params == ({} if pid == "bimodal" else {"p": pid})
    assert_no_nan(at)


def test_editing_a_component_makes_the_target_custom():
    at = run_app()
    at.number_input(key="c2_scale").set_value(2.0)
    rerun(at)
    assert at.selectbox(key="preset").value == "custom"
    assert at.query_params == {"c": "n:0.5:-3:1,n:0.5:3:2"}
    p = Mixture([Normal(-3, 1), Normal(3, 2)])
    var = 0.5 * 1 + 0.5 * 4 + 9  # mixture variance, mean 0
    q = Normal(0, math.sqrt(var))
    assert fit_panel(at)["forward"]["KL(p‖q)"] == fmt_num(kl_divergence(p, q))


def test_adding_components_and_families():
    at = run_app()
    at.number_input(key="n_comp").set_value(3)
    rerun(at)
    at.selectbox(key="c3_fam").set_value("t")
    rerun(at)
    at.number_input(key="c3_df").set_value(4.0)
    rerun(at)
    assert at.query_params["c"] == "n:0.5:-3:1,n:0.5:3:1,t:0.5:6:1:4"
    at.selectbox(key="c1_fam").set_value("l")
    rerun(at)
    assert at.query_params["c"] == "l:0.5:-3:1,n:0.5:3:1,t:0.5:6:1:4"
    assert at.number_input(key="c1_loc").label == "location"
    assert_no_nan(at)
    at.number_input(key="n_comp").set_value(1)
    rerun(at)
    assert at.query_params == {"c": "l:0.5:-3:1"}


def test_all_weights_zero_keeps_the_typed_value_and_the_last_good_target():
    at = run_app()
    at.number_input(key="c1_w").set_value(0.0)
    rerun(at)
    assert at.query_params == {"c": "n:0:-3:1,n:0.5:3:1"}
    before = fit_panel(at)
    at.number_input(key="c2_w").set_value(0.0)
    rerun(at)
    assert at.number_input(key="c2_w").value == 0.0  # what the user typed stays
    shown = [unescape_markdown(e.value) for e in at.sidebar.error]
    assert any("weights" in e and "> 0" in e for e in shown)
    assert at.query_params == {"c": "n:0:-3:1,n:0.5:3:1"}  # last good state
    assert fit_panel(at) == before
    at.number_input(key="c2_w").set_value(1.0)
    rerun(at)
    assert not at.sidebar.error
    assert at.query_params == {"c": "n:0:-3:1,n:1:3:1"}


def test_bits_divide_by_ln2():
    at = run_app({"u": "bits"})
    p = mixture(PRESETS["bimodal"].components)
    q = Normal(0, math.sqrt(10))
    fits = fit_panel(at)
    assert fits["forward"]["KL(p‖q)"] == fmt_num(kl_divergence(p, q) / LN2)
    at.radio(key="unit").set_value("nats")
    rerun(at)
    assert fit_panel(at)["forward"]["KL(p‖q)"] == fmt_num(kl_divergence(p, q))
    assert at.query_params == {}


def test_reverse_start_commits_to_the_chosen_mode():
    at = run_app()
    at.radio(key="rev_start").set_value("component")
    rerun(at)
    at.selectbox(key="rev_comp").set_value(2)
    rerun(at)
    assert fit_panel(at)["reverse"]["μ"] == "2.984"
    assert at.query_params == {"rs": "c2"}
    at.selectbox(key="rev_comp").set_value(1)
    rerun(at)
    assert fit_panel(at)["reverse"]["μ"] == "−2.984"
    at.radio(key="rev_start").set_value("mean")
    rerun(at)
    at.slider(key="rev_mean").set_value(2.0)
    rerun(at)
    assert fit_panel(at)["reverse"]["μ"] == "2.984"
    assert at.query_params == {"rs": "m:2"}
    assert table(at)["shown"] == ["", "◀ reverse fit", ""]


def test_heavy_tail_says_forward_fit_does_not_exist_and_shows_reverse():
    at = run_app({"p": "heavy"})
    fits = fit_panel(at)
    assert fits["forward"] == {"KL(p‖q)": "∞"}
    errs = " ".join(unescape_markdown(e.value) for e in at.main.error)
    assert "no finite Gaussian fit" in errs and "ν = 1.5" in errs
    assert fits["reverse"]["KL(p‖q)"] == "∞" and fits["reverse"]["μ"] == "0"
    captions = [unescape_markdown(c.value) for c in at.caption]
    assert any("∞:" in c and "variance is infinite" in c for c in captions)
    assert_no_nan(at)
    doc = json.loads(at.session_state["_kl_results_json"])
    assert doc["forward_fit"]["kl_p_q"] == "inf"


def test_download_json_is_strict_and_matches_the_view():
    at = run_app({"p": "asymmetric", "u": "bits", "rs": "c2"})
    assert at.get("download_button")[0].label == "Download results (JSON)"
    text = at.session_state["_kl_results_json"]
    assert "NaN" not in text and "Infinity" not in text
    doc = json.loads(text)
    assert doc["unit"] == "bits" and doc["link_query"] == {"p": "asymmetric", "u": "bits",
                                                           "rs": "c2"}
    p = mixture(PRESETS["asymmetric"].components)
    q = Normal(doc["reverse_fit"]["mu"], doc["reverse_fit"]["sigma"])
    assert q.mean == pytest.approx(3, abs=0.05)
    assert doc["reverse_fit"]["kl_q_p"] == pytest.approx(kl_divergence(q, p) / LN2)
    assert len(doc["reverse_optima"]) == 2
    assert doc["reverse_fit"]["start"] == {"mu": 3.0, "sigma": 0.5}


# --- URL round trip and hostile links ------------------------------------------------------------
def test_url_round_trip_reproduces_the_view():
    at = run_app()
    at.selectbox(key="preset").set_value("three")
    rerun(at)
    at.number_input(key="c2_w").set_value(0.8)
    rerun(at)
    at.radio(key="unit").set_value("bits")
    rerun(at)
    at.radio(key="rev_start").set_value("component")
    rerun(at)
    at.selectbox(key="rev_comp").set_value(3)
    rerun(at)
    at.slider(key="manual_mu").set_value(2.0)
    rerun(at)
    query = dict(at.query_params)
    assert query == {"c": "n:0.3:-7:1,n:0.8:0:1,n:0.3:7:1", "u": "bits", "rs": "c3",
                     "q": "2:5.6"}
    again = run_app(query)
    assert again.query_params == query
    assert metrics(again) == metrics(at)
    assert table(again) == table(at)
    assert chart_spec(again)["data"] == chart_spec(at)["data"]
    assert not again.warning


HOSTILE = [
    ({"u": "NaN"}, "u=", {}),
    ({"c": "n:0.5:-3:abc,n:0.5:3:1"}, "std/scale", {"c": "n:0.5:3:1"}),
    ({"c": "n:0.5:inf:1"}, "mean/location", {}),
    ({"c": "n:1e300:0:1"}, "weight", {}),
    ({"c": "n:0.5:0:-1"}, "std/scale", {}),
    ({"c": "x" * 10_000}, "10,000 characters", {}),
    ({"zzz": "1", "u": "bits"}, "unknown", {"u": "bits"}),
    ({"q": "nan:nan", "u": "bits"}, "manual μ", {"u": "bits"}),
    ({"rs": "c99"}, "start component", {}),
    ({"p": "heavy", "rs": "m:1e99"}, "start mean", {"p": "heavy"}),
    ({"k" * 10_000: "v"}, "unknown", {}),
]


@pytest.mark.parametrize("params, words, kept", HOSTILE)
def test_hostile_links_warn_and_fall_back_per_field(params, words, kept):
    at = run_app(params)
    text = " ".join(unescape_markdown(w.value) for w in at.warning)
    assert words in text
    assert len(text) < 3000
    assert at.query_params == kept
    assert_no_nan(at)
    # the warning stays until the view changes, then goes
    rerun(at)
    assert at.warning
    at.radio(key="unit").set_value("nats" if at.radio(key="unit").value == "bits" else "bits")
    rerun(at)
    assert not [w for w in at.warning if words in unescape_markdown(w.value)]


# --- teaching pages ------------------------------------------------------------------------------
PAGES = {"penalty": "views/penalty.py", "landscape": "views/landscape.py",
         "entropy": "views/entropy.py", "mle": "views/mle.py", "discrete": "views/discrete.py",
         "heavy-tails": "views/heavy_tails.py"}
H_STD_NORMAL = 0.5 * math.log(2 * math.pi * math.e)


def open_page(page: str, params: dict | None = None) -> AppTest:
    """What opening /<page>?<params> does: the link's state, then that page."""
    at = run_app(params)
    at.switch_page(PAGES[page])
    return rerun(at)


def metric_map(at: AppTest) -> dict[str, str]:
    return dict(metrics(at))


@pytest.mark.parametrize("preset", ["bimodal", "heavy", "spike"])
@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_renders_without_nan(page, preset):
    at = open_page(page, {"p": preset})
    assert at.title[0].value
    assert at.get("plotly_chart"), "every page draws its figure"
    assert_no_nan(at)
    assert at.query_params == ({} if preset == "bimodal" else {"p": preset})


@pytest.mark.parametrize("page", ["penalty", "landscape", "entropy", "mle"])
def test_heavy_tails_on_teaching_pages_state_no_forward_fit(page):
    at = open_page(page, {"p": "heavy"})
    errs = " ".join(unescape_markdown(e.value) for e in at.main.error)
    assert "no finite Gaussian fit" in errs and "ν = 1.5" in errs


def test_penalty_area_matches_kl_for_both_fits():
    at = open_page("penalty")
    m = metric_map(at)
    assert m["Area under p·log(p/q), nats"] == m["KL(p‖q), nats"] == "0.462"
    assert m["Area under q·log(q/p), nats"] == m["KL(q‖p), nats"] == "0.6888"


def test_penalty_with_your_q_uses_closed_form_values_and_round_trips():
    at = open_page("penalty", {"p": "single", "q": "1:2"})
    at.radio(key="pen_q").set_value("manual")
    rerun(at)
    m = metric_map(at)
    assert m["KL(p‖q), nats"] == fmt_num(gaussian_kl(0, 1, 1, 2))
    assert m["KL(q‖p), nats"] == fmt_num(gaussian_kl(1, 2, 0, 1))
    query = dict(at.query_params)
    assert query == {"p": "single", "q": "1:2", "pq": "manual"}
    again = open_page("penalty", query)
    assert metrics(again) == metrics(at) and again.radio(key="pen_q").value == "manual"


def test_the_landscape_is_computed_once_for_every_rerun():
    # its cache lives in an imported module: one defined in the page script would be a new,
    # empty cache on every run (as it once was)
    from views.cached import landscape

    at = open_page("landscape", {"c": "n:1:-2:1,n:1:2:0.7"})
    before = landscape.cache_info()
    rerun(at)
    rerun(at)
    after = landscape.cache_info()
    assert (after.hits, after.misses) == (before.hits + 2, before.misses)


def test_landscape_start_and_grid_round_trip():
    at = open_page("landscape")
    at.radio(key="rev_start").set_value("component")
    rerun(at)
    at.selectbox(key="rev_comp").set_value(2)
    rerun(at)
    at.select_slider(key="land_size").set_value(60)
    rerun(at)
    query = dict(at.query_params)
    assert query == {"rs": "c2", "lg": "60"}
    assert "μ = 2.984, σ = 1.023" in " ".join(m.value for m in at.markdown)
    spec = chart_spec(at)
    heat = [t for t in spec["data"] if t["type"] == "contour"]
    assert len(heat) == 2 and len(heat[0]["x"]["bdata"] if isinstance(heat[0]["x"], dict)
                                  else heat[0]["x"]) > 0
    path = [t for t in spec["data"] if t.get("name") == "optimiser path"]
    assert path, "the reverse optimiser's path is drawn"
    again = open_page("landscape", query)
    assert again.select_slider(key="land_size").value == 60
    assert [m.value for m in again.markdown] == [m.value for m in at.markdown]
    # the start is shared with the main page
    at.switch_page("views/fits.py")
    rerun(at)
    assert fit_panel(at)["reverse"]["μ"] == "2.984"


def test_entropy_identity_with_closed_form():
    at = open_page("entropy", {"p": "single", "q": "1:2", "u": "bits"})
    at.radio(key="ent_q").set_value("manual")
    rerun(at)
    m = metric_map(at)
    kl = gaussian_kl(0, 1, 1, 2)
    assert m["H(p), bits"] == fmt_num(H_STD_NORMAL / LN2)
    assert m["H(p,q), bits"] == fmt_num((H_STD_NORMAL + kl) / LN2)
    assert m["KL(p‖q), bits"] == fmt_num(kl / LN2)
    js = float(m["JS(p,q), bits"])
    assert 0 < js <= 1.0
    assert at.query_params == {"p": "single", "u": "bits", "q": "1:2", "eq": "manual"}


def test_mle_page_controls_and_values():
    at = open_page("mle", {"p": "single"})
    at.select_slider(key="mle_n").set_value(100_000)
    rerun(at)
    at.number_input(key="mle_seed").set_value(3)
    rerun(at)
    m = metric_map(at)
    assert m["H(p) + KL(p‖q_f), nats"] == fmt_num(H_STD_NORMAL)  # q_f = p
    nll = float(m["Avg NLL of the samples, nats"].replace("−", "-"))
    assert nll == pytest.approx(H_STD_NORMAL, abs=0.01)  # 100 000 samples: sd ~ 0.002
    sigma = float(m["MLE σ̂"])
    assert sigma == pytest.approx(1, abs=0.01)
    assert at.query_params == {"p": "single", "n": "100000", "seed": "3"}
    again = open_page("mle", dict(at.query_params))
    assert metrics(again) == metrics(at)


def test_mle_heavy_tail_has_no_reference_line_but_no_nan():
    at = open_page("mle", {"p": "heavy", "n": "100"})
    assert metric_map(at)["H(p) + KL(p‖q_f), nats"] == "∞"
    assert_no_nan(at)


def test_discrete_weather_example():
    at = open_page("discrete")
    m = metric_map(at)
    kl_pq = 0.7 * math.log(0.7 / 0.5) + 0.3 * math.log(0.3 / 0.5)
    kl_qp = 0.5 * math.log(0.5 / 0.7) + 0.5 * math.log(0.5 / 0.3)
    assert (round(kl_pq, 4), round(kl_qp, 4)) == (0.0823, 0.0872)
    assert m["KL(P‖Q), nats"] == fmt_num(kl_pq) and m["KL(Q‖P), nats"] == fmt_num(kl_qp)
    assert m["KL(P‖Q), bits"] == fmt_num(kl_pq / LN2)
    assert m["KL(Q‖P), bits"] == fmt_num(kl_qp / LN2)
    assert at.text_input(key="d1_label").value == "sunny"
    assert at.query_params == {}


def test_discrete_zero_names_the_outcome_and_smoothing_makes_it_finite():
    at = open_page("discrete")
    at.number_input(key="d2_q").set_value(0.0)
    rerun(at)
    m = metric_map(at)
    assert m["KL(P‖Q), nats"] == "∞" and m["KL(P‖Q), bits"] == "∞"
    assert any("'rainy'" in unescape_markdown(e.value) for e in at.error)
    at.number_input(key="d_eps").set_value(0.01)
    rerun(at)
    smoothed = metrics(at)[5:10]
    p_s = [(0.7 + 0.01) / 1.02, (0.3 + 0.01) / 1.02]
    q_s = [(1.0 + 0.01) / 1.02, (0.0 + 0.01) / 1.02]  # Q = (0.5, 0) normalises to (1, 0)
    want = sum(a * math.log(a / b) for a, b in zip(p_s, q_s, strict=True))
    assert smoothed[0] == ("KL(P‖Q), nats", fmt_num(want))
    assert at.query_params == {"d": "sunny:0.7:0.5,rainy:0.3:0", "de": "0.01"}
    assert_no_nan(at)


def test_discrete_bad_label_keeps_typed_text_and_last_good_state():
    at = open_page("discrete")
    at.number_input(key="d_n").set_value(3)
    rerun(at)
    at.number_input(key="d3_p").set_value(1.0)
    rerun(at)
    assert at.query_params == {"d": "sunny:0.7:0.5,rainy:0.3:0.5,outcome 3:1:0"}
    at.text_input(key="d3_label").set_value("snow, sleet")
    rerun(at)
    assert at.text_input(key="d3_label").value == "snow, sleet"
    assert any("outcome 3 name" in unescape_markdown(e.value) for e in at.error)
    assert at.query_params == {"d": "sunny:0.7:0.5,rainy:0.3:0.5,outcome 3:1:0"}
    at.text_input(key="d3_label").set_value("rainy")
    rerun(at)
    assert any("unique" in unescape_markdown(e.value) for e in at.error)
    at.text_input(key="d3_label").set_value("snow")
    rerun(at)
    assert at.query_params == {"d": "sunny:0.7:0.5,rainy:0.3:0.5,snow:1:0"}
    assert not at.error or all("∞" in unescape_markdown(e.value) for e in at.error)


def test_discrete_link_round_trip():
    query = {"d": "a:1:2,b:2:0,c:0:1", "de": "0.5", "u": "bits"}
    at = open_page("discrete", query)
    assert at.query_params == query
    assert [at.text_input(key=f"d{i}_label").value for i in (1, 2, 3)] == ["a", "b", "c"]
    assert at.number_input(key="d_eps").value == 0.5
    as_entered = dict(metrics(at)[:5])
    assert as_entered["KL(P‖Q), nats"] == "∞"  # Q(b) = 0 < P(b)
    assert as_entered["KL(Q‖P), nats"] == "∞"  # P(c) = 0 < Q(c)
    smoothed = dict(metrics(at)[5:10])
    assert smoothed["KL(P‖Q), nats"] != "∞" and smoothed["KL(Q‖P), nats"] != "∞"


def test_heavy_tails_page():
    at = open_page("heavy-tails")
    m = metric_map(at)
    assert m["KL(p‖q), nats"] == "∞"
    assert any("ν = 1.5" in unescape_markdown(e.value) for e in at.main.error)
    assert m["KL(q‖p), nats"] == fmt_num(kl_divergence(Normal(0, 1.4608907806432136),
                                                       mixture(PRESETS["heavy"].components)))
    at.number_input(key="tail_df").set_value(3.0)
    rerun(at)
    assert at.query_params == {"tv": "3"}
    m = metrics(at)
    assert m[1] == ("σ", fmt_num(math.sqrt(3)))  # forward fit = moment matching, var ν/(ν−2)
    assert not at.main.error
    at.button(key="tail_use").click()
    rerun(at)
    assert at.query_params == {"c": "t:1:0:1:3", "tv": "3"}
    at.switch_page("views/fits.py")
    rerun(at)
    assert fit_panel(at)["forward"]["σ"] == fmt_num(math.sqrt(3))


def test_entropy_page_on_a_target_without_forward_fit_shows_the_reverse_numbers():
    at = open_page("entropy", {"p": "heavy"})
    assert any("reverse fit's numbers" in str(i.value) for i in at.info)
    p = mixture(PRESETS["heavy"].components)
    rev = fit_gaussian(p, "reverse").q
    assert metric_map(at)["KL(q‖p), nats"] == fmt_num(kl_divergence(rev, p))
    assert metric_map(at)["KL(p‖q), nats"] == "∞"


@pytest.mark.parametrize(("key", "value", "words"), [
    ("c1_scale", 1e-6, ["std/scale", "0.001", "1000"]),
    ("c1_scale", 1e6, ["std/scale", "0.001", "1000"]),
    ("c2_loc", 1e9, ["mean/location", "-1000", "1000"]),
])
def test_out_of_range_typed_values_are_rejected_with_their_range(key, value, words):
    at = run_app()
    before = dict(at.query_params)
    at.number_input(key=key).set_value(value)
    rerun(at)
    shown = " ".join(unescape_markdown(e.value) for e in at.sidebar.error)
    assert all(w in shown for w in words), shown
    assert at.number_input(key=key).value == value  # what the user typed stays
    assert dict(at.query_params) == before  # the last good state


def test_a_stale_target_error_does_not_survive_a_trip_to_another_page():
    at = run_app()
    at.number_input(key="c1_w").set_value(0.0)
    at.number_input(key="c2_w").set_value(0.0)
    rerun(at)
    assert at.sidebar.error
    at.number_input(key="c2_w").set_value(0.5)
    rerun(at)
    at.switch_page("views/penalty.py")
    rerun(at)
    assert not at.sidebar.error
    at.switch_page("views/fits.py")
    rerun(at)
    assert not at.sidebar.error and not at.error


def test_first_page_imports_no_pandas_pyarrow_or_scipy():
    """The cold start (benchmarks/bench_app.py): the default page needs numpy and Plotly only.
    pandas + pyarrow (an st.dataframe) and scipy's submodules cost about 1 s of CPU to import,
    and a fresh server pays it before the first page shows."""
    code = ("import sys\nfrom streamlit.testing.v1 import AppTest\n"
            f"at = AppTest.from_file({APP!r}, default_timeout={TIMEOUT}); at.run()\n"
            "assert not at.exception, at.exception\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'pandas', 'pyarrow', 'scipy'}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, cwd=Path(APP).parent)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_a_phone_gets_only_the_stacked_charts(monkeypatch):
    """views.charts.show_chart: a browser that says it is a phone gets each multi-panel chart
    once, stacked (no CSS switch), instead of both layouts; others get both, as before."""
    import views.charts

    def chart_ids(at):
        return [c.proto.id.rsplit("-", 1)[-1] for c in at.get("plotly_chart")]

    assert chart_ids(run_app()) == ["fits_chart", "fits_chart_stacked", "manual_chart",
                                    "manual_chart_stacked"]
    monkeypatch.setattr(views.charts, "on_phone", lambda: True)
    at = run_app()
    assert chart_ids(at) == ["fits_chart_stacked", "manual_chart_stacked"]
    assert not any("@media" in h.proto.body for h in at.get("html"))
    assert "3.162" in [m.value for m in at.metric]  # the same page otherwise


def test_every_run_asks_the_browser_for_plotly_with_a_constant_script():
    """views/boot.py: every run starts with the one script that imports Streamlit's own Plotly
    chunk (an installed file), the same whatever the link says."""
    import streamlit

    from views.boot import plotly_chunk

    name = plotly_chunk()
    assert name is not None
    assert (Path(streamlit.__file__).parent / "static" / "static" / "js" / name).is_file()

    def scripts(at):
        return [h.proto.body for h in at.get("html") if h.proto.unsafe_allow_javascript]

    at = run_app({"c": "n:1:0:1<script>alert(1)</script>", "u": "'); alert(1); ('"})
    first = scripts(at)
    assert len(first) == 1 and f"'{name}'" in first[0]
    assert "alert" not in first[0] and first == scripts(run_app())  # the same for every link
    assert scripts(rerun(at)) == first


def test_penalty_page_reads_true_about_reverse_kl():
    """The bimodal target has three reverse-KL optima (two modes and a bridge), so the page may
    not claim that q "stays inside a mode"."""
    at = open_page("penalty")
    text = all_text(at)
    assert "stays inside a mode" not in text
    assert "tends to lock onto a mode; which one, or a bridge over several, depends on" in text
