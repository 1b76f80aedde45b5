"""How fast the app feels, measured in a real headless Chromium (Debian's, via Playwright).

Prints:
* cold start: `streamlit run app.py` until the server answers, then first navigation until both
  fits are drawn;
* interaction: from typing a new component mean (Enter) until the forward-fit curve in the chart
  has the new fit's peak — the target changes every time, so every fit is computed afresh (no
  cache hit) — median over N changes;
* dragging the manual q one slider step (arrow key) until its marker moves in the chart (a
  cheaper path: two KL values, no fit);
* baseline, measured in the same run: a rerun that recomputes nothing (toggling the unit back and
  forth re-renders from cache), i.e. Streamlit's own floor; the ratios say what our computation
  adds on top of it.

With ``--users N`` it measures instead what one server process does under N simultaneous visitors
(N pages of one Chromium, each changing the target at the same moment): the median and worst time
until each page shows its new fit, against one visitor alone.  One Streamlit process computes on
about one core, so latency grows roughly with N; README's deploy section says what to do about it.

Run: python benchmarks/bench_app.py [--changes 12] [--users 20]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from browser_support import launch_chromium, streamlit_server, wait_for_app_idle  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

PEAK_OF = """([name, peak]) => {
    const g = document.querySelector('.st-key-fits_chart .js-plotly-plot');
    if (!g || !g._fullData) return false;
    const t = g._fullData.find(d => d.name === name);
    if (!t) return false;
    const m = Math.max(...Array.from(t.y));
    return Math.abs(m - peak) <= 1e-3 * peak;
}"""


MANUAL_MU = """() => {
    const g = document.querySelector('.st-key-manual_chart .js-plotly-plot');
    const t = g && g._fullData && g._fullData.find(d => d.name === 'your q' && d._length === 1);
    return t ? Number(t.x[0]) : null;
}"""


def forward_peak(means: list[float]) -> float:
    """Peak of the forward fit of 0.5 N(m1, 1) + 0.5 N(m2, 1): moment matching, by hand."""
    m1, m2 = means
    sd = math.sqrt(1 + ((m1 - m2) / 2) ** 2)
    return 1 / (sd * math.sqrt(2 * math.pi))


def timed(action, wait) -> float:
    t0 = time.perf_counter()
    action()
    wait()
    return time.perf_counter() - t0


# In the page: from now on, poll every 10 ms until the forward fit has the given peak, and note
# the time (page clock) in window.__klDone; returns the start time.
WATCH = """([name, peak]) => {
    const start = performance.now();
    window.__klDone = null;
    const check = new Function('return (' + arguments[1] + ')')();
    const id = setInterval(() => {
        if (check([name, peak])) { window.__klDone = performance.now(); clearInterval(id); }
    }, 10);
    return start;
}"""


def concurrent(users: int, rounds: int) -> None:
    """Median and worst latency of a target change with ``users`` pages changing at once."""
    with streamlit_server() as url, sync_playwright() as pw:
        browser = launch_chromium(pw)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        pages = [context.new_page() for _ in range(users)]
        for page in pages:
            page.goto(url)
        for page in pages:
            page.wait_for_function(PEAK_OF, arg=["forward fit q", forward_peak([-3, 3])],
                                   timeout=300_000)
            wait_for_app_idle(page, 300_000)
        per_change = []
        for r in range(rounds):
            starts = []
            for k, page in enumerate(pages):  # a different target on every page, every round
                m2 = 3.5 + 0.25 * r + 0.01 * k
                watch = WATCH.replace("arguments[1]", repr(PEAK_OF))
                starts.append((page, page.evaluate(watch, ["forward fit q",
                                                           forward_peak([-3, m2])])))
                box = page.locator(".st-key-c2_loc input")
                box.fill(f"{m2:g}")
                box.press("Enter")
            for page, t0 in starts:
                page.wait_for_function("() => window.__klDone !== null", timeout=600_000)
                per_change.append(page.evaluate("() => window.__klDone") - t0)
                wait_for_app_idle(page, 300_000)
        browser.close()
    p95 = statistics.quantiles(per_change, n=20, method="inclusive")[-1]
    print(f"{users} simultaneous visitors, {rounds} rounds: target change until the new fit is "
          f"drawn: median {statistics.median(per_change):.0f} ms, p95 {p95:.0f} ms, "
          f"worst {max(per_change):.0f} ms")


HELLO = 'import streamlit as st\nst.title("Hello")\nst.write("world")\n'


def hello_world_cold_start() -> tuple[float, float]:
    """A one-line Streamlit app measured the same way, in the same run: the floor that
    Streamlit and a cold browser set for any app."""
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "hello.py"
        script.write_text(HELLO)
        t0 = time.perf_counter()
        with streamlit_server(script=script) as url, sync_playwright() as pw:
            t_server = time.perf_counter() - t0
            browser = launch_chromium(pw)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            t1 = time.perf_counter()
            page.goto(url)
            page.wait_for_function("() => document.body.innerText.includes('world')",
                                   timeout=120_000)
            t_first = time.perf_counter() - t1
            browser.close()
    return t_server, t_first


def app_cold_start() -> tuple[float, float]:
    """Our app from `streamlit run` until both fits are drawn (server start, first view)."""
    t0 = time.perf_counter()
    with streamlit_server() as url, sync_playwright() as pw:
        t_server = time.perf_counter() - t0
        browser = launch_chromium(pw)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        t1 = time.perf_counter()
        page.goto(url)
        page.wait_for_function(PEAK_OF, arg=["forward fit q", forward_peak([-3, 3])],
                               timeout=120_000)
        t_first = time.perf_counter() - t1
        browser.close()
    return t_server, t_first


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--changes", type=int, default=12, help="interactions to time (≥ 10)")
    ap.add_argument("--starts", type=int, default=3,
                    help="cold starts of each app, alternating (medians are shown)")
    ap.add_argument("--users", type=int, default=0,
                    help="measure N simultaneous visitors (and 1 alone) instead")
    args = ap.parse_args()
    if args.users:
        concurrent(1, 3)
        concurrent(args.users, 3)
        return

    hellos, colds = [], []
    for _ in range(args.starts):  # alternating, so that both see the same load
        hellos.append(hello_world_cold_start())
        colds.append(app_cold_start())
    hello_server, hello_first, t_server, t_first = (
        statistics.median(x[i] for x in xs) for xs in (hellos, colds) for i in (0, 1))
    with streamlit_server() as url, sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        page.wait_for_function(PEAK_OF, arg=["forward fit q", forward_peak([-3, 3])],
                               timeout=120_000)
        wait_for_app_idle(page)

        live = '.st-key-manual_mu[data-stale="false"]'
        page.locator(live).first.scroll_into_view_if_needed()
        thumb = page.locator(f'{live} input[type="range"]').first
        thumb.wait_for(state="attached", timeout=30_000)  # sliders load when scrolled to
        manual_times = []
        if thumb.count():
            thumb.focus()
            for _ in range(args.changes):
                old = page.evaluate(MANUAL_MU)
                manual_times.append(timed(lambda: thumb.press("ArrowRight"),
                                          lambda old=old: page.wait_for_function(
                                              f"() => ({MANUAL_MU})() !== {old!r}",
                                              timeout=60_000)))
                wait_for_app_idle(page)

        box = page.locator(".st-key-c2_loc input")
        fit_times = []
        for i in range(args.changes):
            m2 = 3.5 + 0.25 * i
            def change(m2=m2):
                box.fill(f"{m2:g}")
                box.press("Enter")
            fit_times.append(timed(change, lambda m2=m2: page.wait_for_function(
                PEAK_OF, arg=["forward fit q", forward_peak([-3, m2])], timeout=60_000)))
            wait_for_app_idle(page)

        unit = page.locator(".st-key-unit")
        floor_times = []
        for i in range(args.changes):
            label = "bits" if i % 2 == 0 else "nats"
            floor_times.append(timed(
                lambda label=label: unit.get_by_text(label, exact=True).click(),
                lambda label=label: page.wait_for_function(
                    "(u) => document.body.innerText.includes('KL(p‖q), ' + u)", arg=label,
                    timeout=60_000)))
            wait_for_app_idle(page)
        browser.close()

    def ms(xs):
        return statistics.median(xs) * 1e3

    floor = ms(floor_times)
    print(f"{'measure':52s} {'median':>10s} {'vs floor':>9s}")
    print(f"cold starts: median of {args.starts} each, alternating app and hello world")
    print(f"{'server start (until /_stcore/health answers)':52s} {t_server:9.2f}s")
    print(f"{'cold start: first navigation to both fits drawn':52s} {t_first:9.2f}s")
    print(f"{'baseline: hello-world app, server start':52s} {hello_server:9.2f}s")
    print(f"{'baseline: hello-world app, first navigation drawn':52s} {hello_first:9.2f}s")
    print(f"{'cold start minus hello world (server + first view)':52s} "
          f"{t_server + t_first - hello_server - hello_first:+9.2f}s")
    print(f"{f'change the target, new fits drawn (n={len(fit_times)})':52s} "
          f"{ms(fit_times):8.0f}ms {ms(fit_times) / floor:8.2f}x")
    if manual_times:
        print(f"{f'move the manual q, marker moved (n={len(manual_times)})':52s} "
              f"{ms(manual_times):8.0f}ms {ms(manual_times) / floor:8.2f}x")
    print(f"{f'baseline: cached rerun (unit toggle) (n={len(floor_times)})':52s} "
          f"{floor:8.0f}ms {1:8.2f}x")
    print("targets: <= 300 ms per interaction, <= 4 s cold start")


if __name__ == "__main__":
    main()
