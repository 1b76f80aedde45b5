"""Generated hostile links through the whole app (AppTest): every page, any query string.

A shared link is a stranger's input.  For each generated link on each page: no exception, no
"nan" anywhere in the text, figures or tables, no Markdown/HTML from the link rendered as markup
(an alert body always quotes the link's text escaped), and the view the link asked for where it
was valid.  CI replays a fixed set of examples (see conftest); ``KL_FUZZ_LINKS=1000`` runs more
(with ``--timeout=3600``: pyproject.toml's 300 s timeout is per test, and this is one test).
"""

from __future__ import annotations

import os
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_app import assert_no_nan, rerun, run_app

from views.state import KEYS, MLKL_KEYS

PAGE_FILES = ["views/fits.py", "views/penalty.py", "views/landscape.py", "views/entropy.py",
              "views/mle.py", "views/discrete.py", "views/heavy_tails.py", "views/rlhf.py",
              "views/estimators.py", "views/distill.py", "views/alpha.py", "views/sweep.py",
              "views/drift.py", "views/vi2d.py"]
HOSTILE = ["nan", "inf", "-inf", "1e999", "-0", "NaN:NaN", "n:1:0:1:2:3", "t:1:0:1:nan",
           "c0", "m:", ":::", ",,,", "![i](//evil.invalid/px.png)", "[x](//evil.invalid)",
           "<img src=x onerror=alert(1)>", "<a href='//evil.invalid'>x</a>", "**b** _i_",
           ":red[x] :material/home:", "www.evil.invalid", "$x$", "n:1e-300:0:1",
           "t:1:0:0.001:0.1,l:1:1e3:1e3", "x" * 2000,
           # /vi-2d's w:mx:my:sx:sy:rho: ρ = 1, zero weight, a bad field among good ones
           "1:0:0:1:1:1", "0:0:0:1:1:0,0:1:1:1:1:0", "1:0:0:1:1:0,1:nan:0:1:1:0"]
# markup a link could plant, unless escaped: an HTML tag, a Markdown link or image target
MARKUP = re.compile(r"(?<!\\)<(img|a\s)|\]\(")

LINKS = st.dictionaries(
    st.sampled_from(sorted(KEYS) + sorted(MLKL_KEYS)) | st.sampled_from(HOSTILE[11:17]),
    st.sampled_from(HOSTILE) | st.text(max_size=40),
    max_size=6)


@settings(max_examples=int(os.environ.get("KL_FUZZ_LINKS", "30")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(params=LINKS, page=st.sampled_from(PAGE_FILES))
def test_any_link_on_any_page_renders_safely(params, page):
    at = run_app(params)  # asserts no exception
    if page != "views/fits.py":
        at.switch_page(page)
        rerun(at)
    assert_no_nan(at)
    for kind in ("warning", "error", "info", "caption"):
        for element in getattr(at, kind):
            body = str(element.value)
            # what a link planted is quoted escaped: no markup survives unescaped in the body
            assert not MARKUP.search(body), (kind, body[:300])
