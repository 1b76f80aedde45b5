"""A shared link is untrusted input (issue 13): whatever Markdown or HTML it plants — in any
parameter's value, in a parameter's name, in a component's fields, in an outcome's name — is shown
as text.  Here through AppTest: every alert body must have each ASCII punctuation character
backslash-escaped (so Streamlit's Markdown shows it literally) and still read as what was planted;
Plotly gets outcome names HTML-escaped.  The browser suite (test_browser_security.py) checks the
rendered DOM.  Also: the deployment config, the cost caps, and how long a valid link can get."""

from __future__ import annotations

import base64
import json
import re
import string
import tomllib
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from explorer.landscape import COST_BUDGET, affordable_size, grid_cost
from explorer.presets import MAX_COMPONENTS, ComponentSpec, mixture
from explorer.text import as_text, unescape_markdown
from views.state import DISC_LABEL_MAX, DISC_MAX, KEYS, AppState, check_components

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PUNCT = set(string.punctuation)
PAYLOADS = [
    "![i](//evil.invalid/px.png)",
    "[x](//evil.invalid/phish)",
    "<img src=//evil.invalid/i.png>",
    "<a href='//evil.invalid'>x</a>",
    "www.evil.invalid http://evil.invalid a@evil.invalid",
    ":red[red] :material/home: $x^2$ **b** `c` # h",
]


def run(params: dict, page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(params)
    if page:
        at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def assert_escaped(body: str) -> None:
    """Every ASCII punctuation character of ``body`` is backslash-escaped (a Markdown renderer
    shows it as the character itself), and no control character can start a new block."""
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            assert i + 1 < len(body) and body[i + 1] in PUNCT, (body, i)
            i += 2
            continue
        assert ch not in PUNCT, f"unescaped {ch!r} at {i} in {body!r}"
        assert ch.isprintable() or ch == "\u2060", (body, i)  # word joiner: see explorer.text
        i += 1


def alert_bodies(at: AppTest) -> list[str]:
    return [e.value for kind in ("warning", "error") for e in getattr(at, kind)]


def test_as_text_escapes_markdown_and_plotly_and_reads_back():
    for s in PAYLOADS + ["a\nb\r\n# c", "\\", "ok 0.5"]:
        md = as_text(s)
        assert_escaped(md)
        assert unescape_markdown(md) == re.sub(r"[\r\n]", " ", s)
    # autolinks and Streamlit's directives are matched after escapes are resolved: broken by a
    # word joiner instead
    assert as_text("www.x http://y a@b :red[c]") == (
        "www\u2060\\.x http\\:\u2060\\/\\/y a\\@\u2060b \\:\u2060red\\[c\\]")
    assert as_text("<a href='x'>&</a>", "plotly") == "&lt;a href='x'&gt;&amp;&lt;/a&gt;"
    with pytest.raises(ValueError, match="markup"):
        as_text("x", "html")


@pytest.mark.parametrize("key", [*KEYS, "name"])
def test_markup_in_any_link_parameter_is_shown_as_text(key):
    """Each payload in the value of every parameter (and as a parameter's name): the warning
    quotes it — escaped — and reads as what was planted (up to the quoting limit)."""
    for payload in PAYLOADS[:4]:
        params = {payload: "1"} if key == "name" else {key: payload}
        at = run(params)
        bodies = alert_bodies(at)
        assert bodies, params
        for body in bodies:
            assert_escaped(body)
        shown = " ".join(unescape_markdown(b) for b in bodies)
        assert payload[:20] in shown  # quoted (first 30 characters), as text
        assert at.query_params == {}


@pytest.mark.parametrize("field", range(5))
def test_markup_in_each_component_field_is_shown_as_text(field):
    for payload in PAYLOADS[:4]:
        bits = ["t", "1", "0", "1", "2"]
        bits[field] = payload
        at = run({"c": ":".join(bits) + ",n:1:5:1"})
        bodies = alert_bodies(at)
        assert any("component 1" in unescape_markdown(b) for b in bodies)
        for body in bodies:
            assert_escaped(body)


@pytest.mark.parametrize("page", ["views/alpha.py", "views/sweep.py"])
def test_markup_in_the_sweep_pages_parameters_is_shown_as_text_on_those_pages(page):
    for payload in PAYLOADS[:4]:
        at = run({"al": payload, "sw": payload, "sc": payload, "sr": payload}, page)
        bodies = alert_bodies(at)
        assert len(bodies) == 4, bodies
        for body in bodies:
            assert_escaped(body)
        assert payload[:20] in " ".join(unescape_markdown(b) for b in bodies)


LABELS = ["[phish](//evil.in)", "![i](//evil.in/p.png)", "<a href=//evil.in>x</a>",
          "<img src=//evil.in/i>", "www.evil.in"]


def _spec_strings(at: AppTest) -> list[str]:
    out = []

    def walk(node):
        if isinstance(node, dict):
            if "bdata" not in node:
                for v in node.values():
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
        elif isinstance(node, str):
            out.append(node)

    for c in at.get("plotly_chart"):
        walk(json.loads(c.proto.spec))
    return out


def test_outcome_names_from_a_link_are_text_in_the_infinity_box_and_the_chart():
    """Valid states (they persist in shared links): Q rules out the planted outcome, so the red
    ∞ box names it; the chart's categories carry it HTML-escaped."""
    for label in LABELS:
        assert len(label) <= DISC_LABEL_MAX
        at = run({"d": f"{label}:1:0,b:1:1"}, "views/discrete.py")
        assert not at.warning  # a valid link
        errors = [e.value for e in at.error]
        assert any(unescape_markdown(e).startswith("∞:") and label in unescape_markdown(e)
                   for e in errors), errors
        for e in errors:
            assert_escaped(e.removeprefix("∞: "))
        strings = _spec_strings(at)
        assert as_text(label, "plotly") in strings
        assert not [s for s in strings if "evil" in s and ("<" in s or ">" in s)]
        layout = json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]
        assert layout["xaxis"]["type"] == layout["xaxis2"]["type"] == "category"


def test_outcome_names_typed_in_the_page_are_text_in_its_errors():
    at = run({}, "views/discrete.py")
    at.text_input(key="d1_label").set_value(LABELS[0])
    at.run()
    at.text_input(key="d2_label").set_value(LABELS[0])  # a duplicate: the error quotes it
    at.run()
    bodies = alert_bodies(at)
    assert any("unique" in unescape_markdown(b) and LABELS[0] in unescape_markdown(b)
               for b in bodies), bodies
    for body in bodies:
        assert_escaped(body.removesuffix(" — showing the last valid value."))


def test_control_characters_in_outcome_names_are_refused():
    state, warnings = AppState.from_query({"d": "a\nb:1:0,c:1:1"})
    assert state.disc == AppState().disc
    assert any("control characters" in w for w in warnings)


def test_public_deployment_config():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"
    assert config["browser"]["gatherUsageStats"] is False
    app = (ROOT / "app.py").read_text()
    icon = re.search(r"page_icon=\"([^\"]+)\"", app).group(1)
    assert not icon.startswith(":material")  # would be fetched from fonts.gstatic.com


# --- cost caps ----------------------------------------------------------------------------------
def _specs(text: str):
    return [ComponentSpec(b[0], *map(float, b[1:])) for b in
            (part.split(":") for part in text.split(","))]


@pytest.mark.parametrize("target", [
    ",".join(f"l:1:{m}:0.001" for m in range(-5, 1)),
    ",".join(f"t:1:{200 * m}:0.001:0.1" for m in range(-5, 1)),
    "l:1:-5:0.001,l:1:-4:0.001,n:1:-3:0.001,n:1:-2:0.001,n:1:-1:0.001,n:1:0:0.001",
])
def test_many_narrow_heavy_components_are_refused_with_the_field_named(target):
    with pytest.raises(ValueError, match="at most 4 components may be narrower"):
        check_components(_specs(target))
    state, warnings = AppState.from_query({"c": target, "lg": "160"})
    assert state.components == AppState().components and state.land_size == 160
    assert any(w.startswith("Ignored c=") and "Student-t or Laplace" in w for w in warnings)


@pytest.mark.parametrize("target", [
    ",".join(f"n:1:{m}:0.001" for m in range(-5, 1)),  # all Normal: cheap
    "l:1:-5:0.001,l:1:-4:0.001,l:1:-3:0.001,l:1:-2:0.001,n:1:-1:1,n:1:0:1",  # four narrow
    ",".join(f"t:1:{m}:1:0.1" for m in range(-5, 1)),  # not narrow
])
def test_cheaper_targets_stay_allowed(target):
    assert len(check_components(_specs(target))) == MAX_COMPONENTS


def test_the_landscape_grid_shrinks_to_the_budget_only_when_it_must():
    bimodal = mixture(_specs("n:0.5:-3:1,n:0.5:3:1"))
    assert affordable_size(bimodal, 160) == 160
    heavy = mixture(_specs(",".join(f"t:1:{m}:1:0.1" for m in range(-5, 1))))
    assert grid_cost(heavy, 160) > 10 * COST_BUDGET
    size = affordable_size(heavy, 160)
    assert 20 <= size < 60 and grid_cost(heavy, size) <= COST_BUDGET
    assert grid_cost(heavy, size + 10) > COST_BUDGET


def test_the_landscape_page_says_when_it_reduced_the_grid():
    target = ",".join(f"t:1:{m}:1:0.1" for m in range(-5, 1))
    at = run({"c": target, "lg": "160"}, "views/landscape.py")
    size = affordable_size(mixture(_specs(target)), 160)
    assert any(f"Grid reduced to {size} × {size}" in c.value for c in at.caption)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    contour = next(t for t in spec["data"] if t["type"] == "contour")
    x = contour["x"]
    n = (len(base64.b64decode(x["bdata"])) // np.dtype(x["dtype"]).itemsize
         if isinstance(x, dict) else len(x))
    assert n == size
    assert at.query_params["lg"] == "160"  # the link keeps what was asked for
    plain = run({"lg": "160"}, "views/landscape.py")
    assert not any("Grid reduced" in c.value for c in plain.caption)


def test_the_longest_valid_link_stays_far_below_the_servers_limit():
    """Every field at its longest: 6 Student-t components with 17-digit numbers, 10 outcomes with
    24 four-byte characters each, every option away from its default.  The server answers
    HTTP 400 above ~100 KB; a valid link stays under 8 KB."""
    x = -123.45678901234567
    comps = tuple(ComponentSpec("t", 99.123456789012345, x + i, 999.12345678901234,
                                999.1234567890123) for i in range(MAX_COMPONENTS))
    disc = tuple((chr(0x1F600 + i) * DISC_LABEL_MAX, 999.1234567890123, 998.1234567890123)
                 for i in range(DISC_MAX))
    state = AppState(components=comps, unit="bits", start="mean", start_mean=x,
                     manual=(x, 1234.5678901234567), pen_q="manual", land_size=160,
                     ent_q="manual", mle_n=100000, mle_seed=999999, disc=disc,
                     disc_eps=0.12345678901234567, tail_df=29.123456789012345)
    query = urlencode(state.to_query())
    assert 3000 < len(query) < 8000
    assert AppState.from_query(parse_qs(query)) == (state, [])


def test_streamlits_clear_cache_message_leaves_the_numerics_cache_alone():
    """Any websocket client can send clear_cache; Streamlit's handler (run here as it is) wipes
    st.cache_data for everyone, but the fits stay cached."""
    from streamlit.runtime.app_session import AppSession

    from views import common

    run({"p": "three"})
    key = AppState.from_query({"p": "three"})[0].key()
    assert common.reverse_best.cache_info().currsize > 0

    class Session:  # what the handler touches besides the global caches
        _session_state: dict = {}

    AppSession._handle_clear_cache_request(Session())
    hits = common.reverse_best.cache_info().hits
    common.reverse_best(key)
    assert common.reverse_best.cache_info().hits == hits + 1  # served from the cache
