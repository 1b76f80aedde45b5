"""End-to-end tests in real headless Chromium: `streamlit run app.py` on a free localhost port,
driven by Playwright (Debian's /usr/bin/chromium; no browser is ever downloaded).

tests/run_all.sh sets KL_REQUIRE_BROWSER=1, which turns a missing Chromium into a failure, so
these tests are never silently skipped there."""

from __future__ import annotations

import math
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from browser_support import (
    plotly_trace_count,
    require_browser,
    wait_for_app_idle,
)

pytestmark = pytest.mark.browser

playwright_api = require_browser()
SCREENSHOTS = Path(__file__).parent / "screenshots"
PAGES = ["", "penalty", "landscape", "entropy", "mle", "discrete", "heavy-tails"]
PAGES += ["rlhf", "estimators", "distill"]  # issue 9
PAGES += ["alpha", "sweep"]  # issue 8
PAGES += ["drift"]  # issue 11
PAGES += ["vi-2d"]  # issue 7


def open_app(page, url: str, chart_key: str = "fits_chart") -> None:
    page.goto(url)
    page.wait_for_selector(f".st-key-{chart_key} .js-plotly-plot", timeout=60_000)
    wait_for_app_idle(page)


def body_text(page) -> str:
    return page.inner_text("body")


def assert_clean(page) -> None:
    """No exception box, and no NaN anywhere on the page outside the warnings (which may quote
    a broken link's 'NaN' back to the user) nor in any chart's data."""
    assert page.locator('[data-testid="stException"]').count() == 0
    shown = page.evaluate(
        "() => { const b = document.body.cloneNode(true);"
        " b.querySelectorAll('[data-testid=\"stAlert\"]').forEach(e => e.remove());"
        " return b.innerText; }")
    assert not re.search(r"\bnan\b", shown, flags=re.IGNORECASE)
    bad = page.evaluate(
        "() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(g => g._fullData"
        ".flatMap(t => ['x', 'y', 'z'].flatMap(k => Array.from(t[k] || []).flat()"
        ".filter(v => typeof v === 'number' && Number.isNaN(v)))))")
    assert bad == []


def metric_values(page) -> list[str]:
    return [v.strip() for v in page.locator('[data-testid="stMetricValue"]').all_inner_texts()]


def chart_traces(page, key: str) -> list[dict]:
    return page.evaluate(
        "(k) => { const g = document.querySelector('.st-key-' + k + ' .js-plotly-plot');"
        " return g ? g._fullData.map(t => ({name: t.name || '', n: t._length})) : []; }",
        key)


def test_main_page_shows_both_fits_with_their_kl_values(server, page):
    open_app(page, server)
    assert_clean(page)
    traces = chart_traces(page, "fits_chart")
    names = " ".join(t["name"] for t in traces)
    assert "target p" in names and "forward fit q" in names and "reverse fit q" in names
    assert all(0 < t["n"] <= 2000 for t in traces)
    # the bimodal preset: forward fit N(0, sqrt(10)), reverse fit at a mode, sigma 1.023
    values = metric_values(page)
    assert "3.162" in values and "1.023" in values
    text = body_text(page)
    assert "KL(p‖q)" in text and "KL(q‖p)" in text
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "fits.png"))


def test_changing_a_widget_updates_the_fit_and_the_url(server, page):
    open_app(page, server)
    mean = page.locator(".st-key-c2_loc input")
    mean.fill("5")
    mean.press("Enter")
    # p = 0.5 N(-3,1) + 0.5 N(5,1): the forward fit matches moments, sigma = sqrt(1 + 16)
    expected = f"{math.sqrt(17):.3f}"
    page.wait_for_function(
        "(v) => [...document.querySelectorAll('[data-testid=\"stMetricValue\"]')]"
        ".some(e => e.innerText.trim() === v)", arg=expected, timeout=30_000)
    # the address bar is rewritten at the end of the run
    page.wait_for_function("() => new URLSearchParams(location.search).has('c')",
                           timeout=30_000)
    wait_for_app_idle(page)
    query = parse_qs(urlparse(page.url).query)
    assert query["c"] == ["n:0.5:-3:1,n:0.5:5:1"]
    page.locator(".st-key-unit").get_by_text("bits").click()
    page.wait_for_function(
        "() => document.body.innerText.includes('KL(p‖q), bits')", timeout=30_000)
    page.wait_for_function("() => new URLSearchParams(location.search).get('u') === 'bits'",
                           timeout=30_000)
    assert parse_qs(urlparse(page.url).query)["c"] == ["n:0.5:-3:1,n:0.5:5:1"]
    assert_clean(page)


def test_a_shared_link_reproduces_its_view(server, page):
    link = f"{server}/?c=n:0.3:-2:0.5,n:0.7:4:1.5&u=bits"
    open_app(page, link)
    # moment matching by hand: mean 0.3*-2 + 0.7*4, variance of the mixture
    mean = 0.3 * -2 + 0.7 * 4
    var = 0.3 * (0.25 + 4) + 0.7 * (2.25 + 16) - mean**2
    values = metric_values(page)
    assert f"{mean:.3g}" in values
    assert f"{math.sqrt(var):.4g}" in values
    assert "KL(p‖q), bits" in body_text(page)
    assert parse_qs(urlparse(page.url).query)["c"] == ["n:0.3:-2:0.5,n:0.7:4:1.5"]
    assert_clean(page)


def test_a_hostile_link_warns_and_falls_back(server, page):
    junk = "x" * 10_000
    open_app(page, f"{server}/?c=n:NaN:1:-2&u={junk}&zzz=1&q=inf:3")
    text = body_text(page)
    assert re.search(r"ignored", text, flags=re.IGNORECASE)
    assert "3.162" in metric_values(page)  # fell back to the default bimodal target
    assert_clean(page)


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_its_charts(server, page, path):
    page.goto(f"{server}/{path}")
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)
    wait_for_app_idle(page)
    assert plotly_trace_count(page) > 0
    assert_clean(page)
    if path:
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{path}.png"), full_page=True)


def test_dragging_the_manual_q_updates_its_kl_values_and_the_link(server, page):
    open_app(page, server)
    live = '.st-key-manual_mu[data-stale="false"]'
    page.locator(live).first.scroll_into_view_if_needed()
    thumb = page.locator(f'{live} input[type="range"]').first
    thumb.wait_for(state="attached", timeout=30_000)
    marker = ("() => { const g = document.querySelector('.st-key-manual_chart .js-plotly-plot');"
              " const t = g && g._fullData.find(d => d.name === 'your q' && d._length === 1);"
              " return t ? Number(t.x[0]) : null; }")
    before = page.evaluate(marker)
    thumb.focus()
    for _ in range(5):
        thumb.press("ArrowRight")
    page.wait_for_function(f"() => ({marker})() > {before} + 0.4", timeout=30_000)
    page.wait_for_function("() => new URLSearchParams(location.search).has('q')",
                           timeout=30_000)
    wait_for_app_idle(page)
    mu = page.evaluate(marker)
    # the link now carries the manual q, and the page shows its KL values
    q = parse_qs(urlparse(page.url).query)["q"][0]
    assert float(q.split(":")[0]) == pytest.approx(mu)
    assert "KL(p‖q), your q" in body_text(page)
    assert_clean(page)


# --- readable at every width: phone (390 px) and desktop, light and dark ------------------------
CHART_KEYS = {"": "fits_chart", "penalty": "penalty_chart", "landscape": "landscape_chart",
              "entropy": "entropy_chart", "mle": "mle_chart", "discrete": "discrete_chart",
              "heavy-tails": "tails_chart", "rlhf": "rlhf_chart",
              "estimators": "estimators_chart", "distill": "distill_chart",
               "alpha": "alpha_chart", "sweep": "sweep_chart", "drift": "drift_chart",
               "vi-2d": "vi2d_reverse"}
# pages whose panels are separate charts in st.columns, which Streamlit stacks at ≤ 640 px: no
# hidden twin, every chart shown at every width
COLUMN_CHARTS = {"vi-2d": ("vi2d_forward", "vi2d_reverse")}
# Every text box Plotly draws outside the traces: subplot titles and notes, legends, colour bars,
# axis titles.  None may overlap another in a chart that is shown.
OVERLAPS_JS = """() => {
  const shown = [...document.querySelectorAll('.js-plotly-plot')]
    .filter(g => g.getBoundingClientRect().width > 0);
  const out = [];
  for (const g of shown) {
    const boxes = [...g.querySelectorAll(
        'g.annotation, g.legend, g.colorbar, g.g-xtitle, g.g-ytitle, g.g-x2title, g.g-y2title,'
        + ' g.g-y3title, g.g-y4title, g.g-x3title')]
      .map(e => ({name: (e.getAttribute('class') || '') + ' ' + (e.textContent || '')
                  .slice(0, 40), r: e.getBoundingClientRect()}))
      .filter(b => b.r.width > 0 && b.r.height > 0);
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i].r, b = boxes[j].r;
      const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (w > 2 && h > 2) out.push([boxes[i].name, boxes[j].name]);
    }
    const gr = g.getBoundingClientRect();
    for (const b of boxes) if (b.r.left < gr.left - 1 || b.r.right > gr.right + 1)
      out.push([b.name, 'outside the chart']);
  }
  return out;
}"""
CUT_JS = """() => [...document.querySelectorAll('[data-testid="stMetricValue"], '
    + '[data-testid="stMetricLabel"]')]
  .filter(e => e.getBoundingClientRect().width > 0)
  .filter(e => e.innerText.trim().endsWith('…') || e.scrollWidth > e.clientWidth + 1
          || [...e.querySelectorAll('*')].some(c => c.scrollWidth > c.clientWidth + 1))
  .map(e => e.innerText.trim())"""


@pytest.mark.parametrize("width, scheme", [(390, "light"), (390, "dark"), (1400, "dark")])
@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_readable_at_phone_and_desktop_width(server, browser, path, width,
                                                            scheme):
    context = browser.new_context(viewport={"width": width, "height": 2600 if width < 640
                                            else 1000}, color_scheme=scheme)
    pg = context.new_page()
    try:
        key = CHART_KEYS[path] + ("_stacked" if width < 640 and path not in COLUMN_CHARTS
                                  else "")
        pg.goto(f"{server}/{path}")
        pg.wait_for_selector(f".st-key-{key} .js-plotly-plot", timeout=60_000)
        wait_for_app_idle(pg)
        pg.wait_for_timeout(500)
        assert_clean(pg)
        if path in COLUMN_CHARTS:  # side by side on desktop, one above the other on phones
            a, b = (pg.locator(f".st-key-{k} .js-plotly-plot").first.bounding_box()
                    for k in COLUMN_CHARTS[path])
            assert (b["y"] >= a["y"] + a["height"] - 1 if width < 640
                    else b["x"] >= a["x"] + a["width"] - 1 and abs(b["y"] - a["y"]) < 1)
            assert max(a["x"] + a["width"], b["x"] + b["width"]) <= width
        else:  # exactly one of the two layouts is shown: stacked on phones, side by side else
            other = CHART_KEYS[path] + ("" if width < 640 else "_stacked")
            assert pg.locator(f".st-key-{key}").first.is_visible()
            assert not pg.locator(f".st-key-{other}").first.is_visible()
        assert pg.evaluate(OVERLAPS_JS) == []
        assert pg.evaluate(CUT_JS) == []
        SCREENSHOTS.mkdir(exist_ok=True)
        tag = "phone" if width < 640 else "desktop"
        pg.screenshot(path=str(SCREENSHOTS / f"{tag}-{scheme}-{path or 'fits'}.png"),
                      full_page=True)
    finally:
        context.close()


def test_long_kl_values_are_shown_in_full_at_desktop_width(server, page):
    # a target whose KLs print with 6-7 characters ("0.07453", "7.513")
    open_app(page, f"{server}/?c=n:0.5:-3:1,n:0.5:3:1.3&rs=c2")
    values = metric_values(page)
    assert all(not v.endswith("…") for v in values)
    assert any(len(v) >= 6 for v in values)
    assert page.evaluate(CUT_JS) == []


def test_a_zero_weight_component_does_not_set_the_range(server, page):
    open_app(page, f"{server}/?c=n:1:-3:1,n:0:1000:1")
    xr = page.evaluate("() => document.querySelector('.st-key-fits_chart .js-plotly-plot')"
                       "._fullLayout.xaxis.range")
    assert xr[1] < 50  # around N(−3, 1), not stretched to 1000
    assert_clean(page)


def test_drift_page_takes_an_uploaded_file(server, page, tmp_path):
    page.goto(f"{server}/drift?xs=data")
    page.wait_for_selector('[data-testid="stFileUploaderDropzoneInput"]', state="attached",
                           timeout=60_000)
    wait_for_app_idle(page)
    rng = np.random.default_rng(0)
    ref, live = tmp_path / "reference.csv", tmp_path / "live.csv"
    ref.write_text("id,latency\n" + "\n".join(f"{i},{v:.6f}" for i, v in
                                                enumerate(rng.normal(40, 8, 300))))
    live.write_text("id,latency\n" + "\n".join(f"{i},{v:.6f}" for i, v in
                                                 enumerate(rng.normal(46, 9, 250)))
                    + "\n251,oops\n")
    inputs = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
    inputs.nth(0).set_input_files(str(ref))
    wait_for_app_idle(page)
    inputs.nth(1).set_input_files(str(live))
    page.wait_for_selector(".st-key-drift_chart .js-plotly-plot", timeout=60_000)
    wait_for_app_idle(page)
    text = body_text(page).replace("\u2060", "")
    # 'id' counts rows, so the compared column is 'latency', where one row is dropped
    assert "live.csv, column 'latency': 1 row(s) dropped" in text
    assert "row 252: 'oops'" in text and "PSI = " in text
    names = page.evaluate("() => document.querySelector('.st-key-drift_estimates .js-plotly-plot')"
                          "._fullData.flatMap(t => Array.from(t.y || []))")
    assert "kNN KL(ref‖live)" in names and "PSI" in names  # every estimate, kNN included
    assert page.locator('[data-testid="stAlertContentWarning"]').count() == 0  # no kNN refusal
    assert chart_traces(page, "drift_chart")
    assert "xs=data" in page.url  # the link keeps the settings, never the data
    assert_clean(page)


def test_estimators_table_fits_a_phone(server, browser):
    """The k1/k2/k3 table at 390 px: one column per estimator, nothing scrolls sideways or
    sticks out of the page."""
    context = browser.new_context(viewport={"width": 390, "height": 2600})
    pg = context.new_page()
    try:
        pg.goto(f"{server}/estimators?kx=policy")  # the gradient tables too
        pg.wait_for_selector(".st-key-k_grad3 table", timeout=60_000)
        wait_for_app_idle(pg)
        for key in ("k_grad1", "k_grad3"):
            assert pg.evaluate("""(k) => {
                const c = document.querySelector('.st-key-' + k);
                return [c, ...c.querySelectorAll('*')]
                    .filter(e => e.scrollWidth > e.clientWidth + 1).length
                    + (c.querySelector('table').getBoundingClientRect().right
                       > window.innerWidth ? 1 : 0); }""", key) == 0, key
        fit = pg.evaluate("""() => {
            const c = document.querySelector('.st-key-k_table');
            const t = c.querySelector('table');
            const scrolls = [c, ...c.querySelectorAll('*')]
                .filter(e => e.scrollWidth > e.clientWidth + 1).length;
            return {right: t.getBoundingClientRect().right, page: window.innerWidth,
                    cols: t.querySelectorAll('thead th').length, scrolls};
        }""")
        assert fit["cols"] == 4
        assert fit["scrolls"] == 0 and fit["right"] <= fit["page"], fit
    finally:
        context.close()


def test_vi2d_page_draws_both_panels_with_ellipses_and_kl_values(server, page):
    open_app(page, f"{server}/vi-2d?vf=diag", chart_key="vi2d_reverse")
    assert_clean(page)
    forward = " ".join(t["name"] for t in chart_traces(page, "vi2d_forward"))
    reverse = " ".join(t["name"] for t in chart_traces(page, "vi2d_reverse"))
    assert "forward fit, mean-field q" in forward and "target p" in forward
    assert "forward, full-covariance q (dashed)" in forward
    assert "reverse fit, mean-field q" in reverse and "target p" in reverse
    assert "reverse, full-covariance q (dashed)" in reverse
    # two separated modes, mean-field: forward KL(p‖q) = 1.02, reverse KL(q‖p) = 0.7166
    values = metric_values(page)
    assert "1.02" in values and "0.7166" in values
    page.screenshot(path=str(SCREENSHOTS / "vi-2d-diagonal.png"), full_page=True)


# DOM changes inside each /vi-2d panel made after Plotly's first drawing of a newly mounted chart
# (the first MutationObserver callback that sees the chart drawn ends that drawing)
_AFTER_FIRST_DRAW = """() => {
  window.__panels = {};
  document.querySelectorAll('.js-plotly-plot').forEach(g => { g.__old = true; });
  new MutationObserver(ms => { for (const m of ms) {
    const el = m.target.nodeType === 1 ? m.target : m.target.parentElement;
    const host = el && el.closest('[class*="st-key-vi2d_"]');
    const g = host && host.querySelector('.js-plotly-plot');
    if (!g || g.__old) continue;
    const key = host.className.match(/st-key-(vi2d_[a-z]+)/)[1];
    const rec = window.__panels[key] = window.__panels[key] || {first: 0, after: 0};
    rec[rec.drawn ? 'after' : 'first'] += m.addedNodes.length + m.removedNodes.length + 1;
    if (g._fullLayout && !rec.seen) {
      rec.seen = true;
      queueMicrotask(() => { rec.drawn = true; });
    }
  }}).observe(document.body, {childList: true, subtree: true, attributes: true});
}"""


def test_vi2d_new_panels_are_drawn_once(server, page):
    """A new /vi-2d panel is drawn once: Streamlit's copy of a mounted chart's figure changes
    nothing that Plotly redraws (views.charts.plain_chart).  With Streamlit's theme, Plotly drew
    each new panel a second time: ~750 more DOM changes after a first drawing of ~1400."""
    open_app(page, f"{server}/vi-2d", chart_key="vi2d_reverse")
    page.evaluate(_AFTER_FIRST_DRAW)
    page.locator(".st-key-v2_family").get_by_text("Mean-field (diagonal)").click()
    page.wait_for_function("() => ['vi2d_forward', 'vi2d_reverse'].every(k => "
                           "(window.__panels[k] || {}).drawn)", timeout=60_000)
    wait_for_app_idle(page)
    panels = page.evaluate("() => window.__panels")
    assert set(panels) == {"vi2d_forward", "vi2d_reverse"}
    for rec in panels.values():
        assert rec["first"] > 500  # the first drawing: the trace layers, axes and legend
        assert rec["after"] <= 0.05 * rec["first"], panels
    assert "mean-field q" in " ".join(t["name"] for t in chart_traces(page, "vi2d_reverse"))


def _press_your_q(page) -> None:
    live = '.st-key-v2_q_0[data-stale="false"]'
    page.locator(live).first.scroll_into_view_if_needed()
    thumb = page.locator(f'{live} input[type="range"]').first
    thumb.wait_for(state="attached", timeout=30_000)
    thumb.focus()
    thumb.press("ArrowRight")


def test_vi2d_your_q_updates_the_elbo_and_the_link_and_clears_the_link_warning(server, page):
    """Moving "your q" reruns the ELBO section alone (a fragment): its numbers and the link
    follow it; and a broken link's warning goes once the view is no longer the link's, as it
    does after any other edit."""
    your_q = "() => (document.body.innerText.match(/your q: ELBO = [^\\n]*/) || [''])[0]"
    open_app(page, f"{server}/vi-2d?vz=2", chart_key="vi2d_reverse")
    before = page.evaluate(your_q)
    assert before.endswith("= 2 = log Z")
    _press_your_q(page)
    page.wait_for_function("() => new URLSearchParams(location.search).has('vq')",
                           timeout=30_000)
    wait_for_app_idle(page)
    query = parse_qs(urlparse(page.url).query)
    assert float(query["vq"][0].split(":")[0]) == pytest.approx(0.01)  # p's mean x is 0
    assert query["vz"] == ["2"]
    after = page.evaluate(your_q)
    assert after != before and after.endswith("= 2 = log Z")
    assert_clean(page)

    open_app(page, f"{server}/vi-2d?vz=1e999", chart_key="vi2d_reverse")
    alerts = '[data-testid="stAlert"]'
    assert "Ignored vz=" in " ".join(page.locator(alerts).all_inner_texts())
    _press_your_q(page)
    page.wait_for_function("() => ![...document.querySelectorAll('[data-testid=\"stAlert\"]')]"
                           ".some(e => e.innerText.includes('Ignored vz='))", timeout=30_000)
    assert page.evaluate(your_q).endswith("= 0 = log Z")  # the refused log Z: the default
    assert_clean(page)
