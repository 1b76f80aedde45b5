"""Hostile links in real headless Chromium (issue 13): Markdown and HTML planted in parameter
values, parameter names, component fields and outcome names must render as text — no <img>, <a>
or other element from them in any alert or chart, and no request leaves the server's origin (no
tracking pixel, no third-party favicon)."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest
from browser_support import require_browser, wait_for_app_idle

pytestmark = pytest.mark.browser

playwright_api = require_browser()
PAGES = ["", "penalty", "landscape", "entropy", "mle", "discrete", "heavy-tails", "rlhf",
         "estimators", "distill", "alpha", "sweep", "drift"]
IMG = "![i](//evil.invalid/px.png)"
LINK = "[x](//evil.invalid/phish)"
HTML = "<a href='//evil.invalid'>x</a>"
AUTO = "www.evil.invalid a@evil.invalid"  # GFM autolinks, found after escapes are resolved
DIRECTIVE = ":red[red] :material/home:"  # Streamlit's own Markdown directives
# Outcome names (valid: ≤ 24 characters, no ',' or ':'), Q rules out the first, so the ∞ box
# names it; all appear as chart categories.
LABELS = ["[phish](//evil.in)", "![i](//evil.in/p.png)", "<a href=//evil.in>x</a>",
          "<b>www.evil.in</b>"]

# Elements that planted text could have produced: any img/a/iframe/b/code/h1-6 inside an alert;
# any <a> in a chart (Plotly turns <a href> in text into one) or <b> from a label.
IN_ALERTS = ('[data-testid="stAlert"] :is(img, a, iframe, b, strong, em, code, h1, h2, h3, '
             'h4, h5, h6, span[class*="katex"])')
IN_CHARTS = ".js-plotly-plot :is(a, b, img)"


def hostile_link(server: str, path: str) -> str:
    d = ",".join(f"{quote(lab, safe='')}:{0 if i else 1}:{1 if i else 0}"
                 for i, lab in enumerate(LABELS))
    params = [("u", IMG), (LINK, "1"), ("rs", HTML), ("c", f"n:{IMG}:0:1,n:1:2:{HTML}"),
              ("q", AUTO), ("pq", DIRECTIVE), ("eq", "http://evil.invalid/x")]
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params)
    return f"{server}/{path}?{query}&d={d}"


def open_hostile(page, url: str) -> list[str]:
    """Open ``url``, wait for the page's charts and the end of the run; return every URL the
    page requested."""
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(url)
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)
    wait_for_app_idle(page)
    page.wait_for_timeout(500)  # let any image the page might have planted start loading
    return requested


@pytest.mark.parametrize("path", PAGES)
def test_planted_markup_renders_as_text_on_every_page(server, page, path):
    requested = open_hostile(page, hostile_link(server, path))
    alerts = page.locator('[data-testid="stAlert"]').all_inner_texts()
    text = "\n".join(alerts).replace("\u2060", "")  # invisible word joiners (explorer.text)
    # the warnings quote what they ignored, character for character
    for planted in (IMG, LINK, HTML, AUTO, DIRECTIVE, "http://evil.invalid/x"):
        assert planted[:20] in text, (planted, text)
    assert page.locator(IN_ALERTS).count() == 0
    assert page.locator(IN_CHARTS).count() == 0
    origin = urlsplit(server).netloc
    foreign = [u for u in requested if not u.startswith(("data:", "blob:"))
               and urlsplit(u).netloc != origin]
    assert foreign == []
    icon = page.evaluate("() => [...document.querySelectorAll('link[rel*=icon]')]"
                         ".map(l => l.href)")
    assert icon and all(h.startswith("data:") or urlsplit(h).netloc == origin for h in icon)


def test_outcome_names_are_text_in_the_infinity_box_and_the_chart_axis(server, page):
    open_hostile(page, hostile_link(server, "discrete"))
    errors = [t.replace("\u2060", "")
              for t in page.locator('[data-testid="stAlert"]').all_inner_texts()]
    infinite = " ".join(t for t in errors if t.strip().startswith("∞"))
    for label in LABELS:  # the first in the KL(P‖Q) box, the others in the KL(Q‖P) box
        assert label in infinite, errors
    ticks = page.evaluate(
        "() => [...document.querySelectorAll('.st-key-discrete_chart .xtick text')]"
        ".map(t => t.textContent)")
    for label in LABELS:
        assert label in ticks, ticks  # shown as typed: '<a href=…>' literally, not a link
    assert page.locator(".st-key-discrete_chart a").count() == 0
    assert page.locator(IN_ALERTS).count() == 0
    # the names are valid, so the link keeps them (they are what people share)
    assert "evil.in" in page.evaluate("() => decodeURIComponent(location.search)")
