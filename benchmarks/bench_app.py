"""How fast the app feels, measured in a real headless Chromium (Debian's, via Playwright).

Prints:
* cold start: `streamlit run app.py` until the server answers, then first navigation until both
  fits are drawn — against, in the same run (alternating, medians), a hello-world app (title and
  text) and a hello world with one Plotly chart (what any app that shows a Plotly chart first
  pays: Streamlit loads its 4.7 MB Plotly chunk only then), with the phases of the first view
  (page clock): Streamlit's page until its websocket opens, the server's run, the Plotly chunk's
  request and download, the first chart element, the chart drawn;
* interaction: from typing a new component mean (Enter) until the forward-fit curve in the chart
  has the new fit's peak — the target changes every time, so every fit is computed afresh (no
  cache hit) — median over N changes;
* dragging the manual q one slider step (arrow key) until its marker moves in the chart (a
  cheaper path: two KL values, no fit);
* baseline, measured in the same run: a rerun that recomputes nothing (toggling the unit back and
  forth re-renders from cache), i.e. Streamlit's own floor; the ratios say what our computation
  adds on top of it.

With ``--users N`` it measures instead what one server process does under N simultaneous visitors
(N pages of one Chromium, each changing the target at the same moment): the median, p95 and worst
time until each page shows its new fit, against one visitor alone — for our app and, in the same
run, for a trivial app (same number input, one Plotly curve, no numerics: Streamlit's and the
browser's own floor).  Then one light visitor's target change alone and while another visitor's
heavy link (the costliest of benchmarks/bench_cost.py outside /alpha) is being computed.  One
Streamlit process computes on about one core (the GIL), so latency grows roughly with N; README's
deploy section says what to do about it.

With ``--compare DIR`` the cold starts also alternate with another checkout's app (DIR/app.py,
e.g. a `git worktree` of main): before and after a change, measured in the same run.

Run: python benchmarks/bench_app.py [--changes 12] [--starts 3] [--cold-only] [--users 20]
                                    [--compare DIR]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_cost's links

from browser_support import launch_chromium, streamlit_server, wait_for_app_idle  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

PEAK_OF = """([name, peak]) => {
    const g = document.querySelector('.st-key-fits_chart .js-plotly-plot, '
                                      + '.st-key-fits_chart_stacked .js-plotly-plot');
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


def concurrent(users: int, rounds: int, script: Path | None = None, name: str = "app") -> None:
    """Median, p95 and worst latency of a target change with ``users`` pages changing at once
    (``script``: another app with the same c2_loc input and 'forward fit q' curve)."""
    with streamlit_server(script=script) as url, sync_playwright() as pw:
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
                starts.append((page, page.evaluate(WATCH.replace("arguments[1]", repr(PEAK_OF)),
                                                   ["forward fit q", forward_peak([-3, m2])])))
                box = page.locator(".st-key-c2_loc input")
                box.fill(f"{m2:g}")
                box.press("Enter")
            for page, t0 in starts:
                page.wait_for_function("() => window.__klDone !== null", timeout=600_000)
                per_change.append(page.evaluate("() => window.__klDone") - t0)
                wait_for_app_idle(page, 300_000)
        browser.close()
    p95 = statistics.quantiles(per_change, n=20, method="inclusive")[-1] if users > 1 else max(
        per_change)
    label = f"{name}, {users} simultaneous visitor{'s' if users > 1 else ''}"
    print(f"{label:44s} {statistics.median(per_change):6.0f}ms {p95:6.0f}ms "
          f"{max(per_change):6.0f}ms", flush=True)


def heavy_link(r: int) -> str:
    """The most expensive link of benchmarks/bench_cost.py outside /alpha (HEAVY), its last
    component's weight changed by a millionth per round ``r`` so that no cache holds it."""
    from bench_cost import CASES

    _, path, params = next(c for c in CASES if c[0] == HEAVY)
    comps = params["c"].split(",")
    last = comps[-1].split(":")
    last[1] = repr(float(last[1]) * (1 + 1e-6 * (r + 1)))
    query = urlencode({**params, "c": ",".join([*comps[:-1], ":".join(last)])})
    return f"{path}?{query}"


HEAVY = "sweep, 4 narrow Laplace + 2 Normal, width 0.001…1000"


def heavy_neighbour(rounds: int) -> None:
    """A light visitor's target change alone, and while another visitor's heavy link (HEAVY)
    is being computed by the same server: how much one heavy session stalls the others."""
    with streamlit_server() as url, sync_playwright() as pw:
        browser = launch_chromium(pw)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        light, heavy = context.new_page(), context.new_page()
        light.goto(url)
        light.wait_for_function(PEAK_OF, arg=["forward fit q", forward_peak([-3, 3])],
                                timeout=120_000)
        wait_for_app_idle(light)
        box = light.locator(".st-key-c2_loc input")

        def change(m2: float) -> float:
            t0 = light.evaluate(WATCH.replace("arguments[1]", repr(PEAK_OF)),
                                ["forward fit q", forward_peak([-3, m2])])
            box.fill(f"{m2:g}")
            box.press("Enter")
            light.wait_for_function("() => window.__klDone !== null", timeout=600_000)
            ms = light.evaluate("() => window.__klDone") - t0
            wait_for_app_idle(light)
            return ms

        alone, beside, heavy_s = [], [], []
        for r in range(rounds):
            alone.append(change(3.5 + 0.5 * r))
            t0 = time.perf_counter()
            heavy.goto(f"{url}/{heavy_link(r)}", wait_until="commit")
            heavy.wait_for_selector("h1", timeout=120_000)  # its run has started
            beside.append(change(3.75 + 0.5 * r))
            heavy.wait_for_selector(".js-plotly-plot", timeout=600_000)
            wait_for_app_idle(heavy, 600_000)
            heavy_s.append(time.perf_counter() - t0)
        browser.close()
    print(f"one light visitor's target change (median of {rounds}), heavy link: {HEAVY} "
          f"(median {statistics.median(heavy_s):.1f} s until drawn)")
    print(f"{'  alone':44s} {statistics.median(alone):6.0f}ms")
    print(f"{'  while the heavy link is being computed':44s} {statistics.median(beside):6.0f}ms")


HELLO = 'import streamlit as st\nst.title("Hello")\nst.write("world")\n'

# Hello world with one Plotly chart: the floor any Streamlit app that draws a Plotly chart first
# pays (Streamlit's 4.7 MB Plotly chunk is loaded and evaluated only when a chart arrives).  It
# also stands in for "a trivial Streamlit app" under concurrent load: the same sidebar number
# input (key c2_loc) redraws the same 'forward fit q' curve (moment matching by hand, 2000
# points), with no numerics of ours.
TRIVIAL = """import math
import numpy as np
import plotly.graph_objects as go
import streamlit as st
st.sidebar.number_input("mean", value=3.0, step=0.5, format="%g", key="c2_loc")
m1, m2 = -3.0, float(st.session_state["c2_loc"])
sd = math.sqrt(1 + ((m1 - m2) / 2) ** 2)
x = np.linspace((m1 + m2) / 2 - 6 * sd, (m1 + m2) / 2 + 6 * sd, 2001)
y = np.exp(-0.5 * ((x - (m1 + m2) / 2) / sd) ** 2) / (sd * math.sqrt(2 * math.pi))
st.title("Hello")
st.plotly_chart(go.Figure(go.Scatter(x=x, y=y, name="forward fit q")), key="fits_chart")
"""

FITS_DRAWN = "() => ({PEAK_OF})(['forward fit q', {peak}])"

# Page clock marks (performance.now(), ms since navigation start), set from the first script of
# the document: the websocket's open, first and last message, and when each element first shows.
MARKS = """(() => {
    const marks = window.__klMarks = {};
    const mark = (k) => { if (!(k in marks)) marks[k] = performance.now(); };
    const W = window.WebSocket;
    window.WebSocket = class extends W {
        constructor(...a) {
            super(...a);
            this.addEventListener('open', () => mark('ws_open'));
            this.addEventListener('message', () => {
                mark('ws_first');
                marks.ws_last = performance.now();
            });
        }
    };
    const check = () => {
        if (document.querySelector('h1')) mark('title');
        if (document.querySelector('[data-testid="stSidebar"] input')) mark('sidebar');
        if (document.querySelector('.js-plotly-plot')) mark('chart_element');
    };
    new MutationObserver(check).observe(document, {subtree: true, childList: true});
})()"""

THROTTLE: tuple[float, float] | None = None  # (Mbit/s, round trip ms), set by --network
PHONE: str | None = None  # a Playwright device name (--phone): its user agent, screen and touch

PHASES = [  # (label, start mark, end mark); marks are page-clock ms
    ("browser loads Streamlit's page until websocket open", "nav", "ws_open"),
    ("websocket open until first message", "ws_open", "ws_first"),
    ("  ... until the title is shown", "ws_open", "title"),
    ("  ... until the server's last message (its run)", "ws_open", "ws_last"),
    ("Plotly chunk: requested (after websocket open)", "ws_open", "plotly_req"),
    ("Plotly chunk: downloaded (after websocket open)", "ws_open", "plotly_loaded"),
    ("first chart element in the page", "ws_open", "chart_element"),
    ("the chart(s) drawn (= first view done)", "ws_open", "done"),
]


def cold_start(script: Path | None, done: str, tmp: Path) -> dict:
    """One cold start of ``script`` (None: app.py): `streamlit run` until /_stcore/health answers
    (server), then a fresh Chromium's first navigation until ``done`` holds (first view), with
    the page-clock marks of MARKS and of Chromium's resource timing for the Plotly chunk."""
    t0 = time.perf_counter()
    with streamlit_server(script=script) as url, sync_playwright() as pw:
        out = {"server": time.perf_counter() - t0}
        browser = launch_chromium(pw)
        page = (browser.new_context(**pw.devices[PHONE]).new_page() if PHONE
                else browser.new_page(viewport={"width": 1400, "height": 1000}))
        page.add_init_script(MARKS)
        if THROTTLE:  # a visitor's network instead of localhost (Chromium's own emulation)
            cdp = page.context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.emulateNetworkConditions", {
                "offline": False, "latency": THROTTLE[1],
                "downloadThroughput": THROTTLE[0] * 1e6 / 8,
                "uploadThroughput": THROTTLE[0] * 1e6 / 8})
        t1 = time.perf_counter()
        page.goto(url)
        page.wait_for_function(done, timeout=120_000)
        out["first"] = time.perf_counter() - t1
        marks = page.evaluate("() => Object.assign({done: performance.now()}, window.__klMarks)")
        plotly = page.evaluate("() => performance.getEntriesByType('resource')"
                               ".filter(r => r.name.includes('/PlotlyChart.'))"
                               ".map(r => [r.startTime, r.responseEnd])[0] || null")
        browser.close()
    marks["nav"] = 0.0
    if plotly:
        marks["plotly_req"], marks["plotly_loaded"] = plotly
    out["marks"] = marks
    return out


def hello_world_cold_start(tmp: Path, source: str, done: str) -> dict:
    script = tmp / f"hello_{abs(hash(source))}.py"
    script.write_text(source)
    return cold_start(script, done, tmp)


def print_cold_starts(runs: dict[str, list[dict]], n: int) -> None:
    names = list(runs)

    def med(name, f):
        xs = [v for v in (f(r) for r in runs[name]) if v is not None]
        return statistics.median(xs) if xs else None

    def cell(v, unit="s"):
        return f"{'—':>9s}" if v is None else f"{v:8.2f}{unit}"

    def phase(a, b):
        def f(r):
            m = r["marks"]
            return (m[b] - m[a]) / 1e3 if a in m and b in m else None
        return f

    where = (f"{PHONE}, " if PHONE else "") + (
        f"{THROTTLE[0]:g} Mbit/s, {THROTTLE[1]:g} ms round trip" if THROTTLE else "localhost")
    print(f"cold start ({where}), median of {n} alternating runs of each (wall s; page-clock "
          "phases)")
    print(f"{'':52s}" + "".join(f" {k:>10s}" for k in names))
    rows = [("server start (until /_stcore/health answers)", lambda r: r["server"]),
            ("first navigation until drawn (first view)", lambda r: r["first"]),
            ("cold start = server start + first view", lambda r: r["server"] + r["first"])]
    rows += [(label, phase(a, b)) for label, a, b in PHASES]
    for label, f in rows:
        print(f"{label:52s}" + "".join(f"  {cell(med(k, f))}" for k in names))
    total = {k: med(k, lambda r: r["server"] + r["first"]) for k in names}
    apps = [k for k in names if k in ("compared", "app")]
    for a in apps:
        for k in names:
            if k != a and (k not in apps or a == "app"):
                print(f"{f'cold start, {a} minus {k}':52s} {total[a] - total[k]:+8.2f}s")


def app_cold_start(tmp: Path, script: Path | None = None) -> dict:
    """Our app (or another checkout's, ``script``) from `streamlit run` until both fits are drawn
    (server start, first view)."""
    return cold_start(script, FITS_DRAWN.format(PEAK_OF=PEAK_OF, peak=forward_peak([-3, 3])),
                      tmp)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--changes", type=int, default=12, help="interactions to time (≥ 10)")
    ap.add_argument("--starts", type=int, default=3,
                    help="cold starts of each app, alternating (medians are shown)")
    ap.add_argument("--users", type=int, default=0,
                    help="measure N simultaneous visitors (and 1 alone) instead, against a "
                         "trivial app, and one light visitor next to a heavy link")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of the --users measures")
    ap.add_argument("--cold-only", action="store_true", help="only the cold starts")
    ap.add_argument("--network", metavar="MBIT,RTT_MS", default=None,
                    help="cold starts over an emulated network, e.g. 20,40 (default: localhost)")
    ap.add_argument("--phone", action="store_true",
                    help="cold starts in an emulated phone (Pixel 7: its user agent, 412 px)")
    ap.add_argument("--compare", metavar="DIR", type=Path, default=None,
                    help="also cold-start DIR/app.py (another checkout), alternating")
    args = ap.parse_args()
    global PHONE, THROTTLE
    if args.phone:
        PHONE = "Pixel 7"
    if args.network:
        mbit, rtt = (float(v) for v in args.network.split(","))
        THROTTLE = (mbit, rtt)
    if args.users:
        with tempfile.TemporaryDirectory() as tmp:
            trivial = Path(tmp) / "trivial.py"
            trivial.write_text(TRIVIAL)
            print(f"target change until the new fit is drawn, {args.rounds} rounds; 'trivial' is "
                  "a Streamlit app with one number input and one Plotly chart")
            print(f"{'':44s} {'median':>8s} {'p95':>8s} {'worst':>8s}")
            for users in (1, args.users):  # the floor and ours, in the same run
                for name, script in (("trivial", trivial), ("app", None)):
                    concurrent(users, args.rounds, script, name)
        heavy_neighbour(args.rounds)
        return

    runs: dict[str, list[dict]] = {"hello": [], "hello+plot": []}
    if args.compare:
        runs["compared"] = []
    runs["app"] = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for _ in range(args.starts):  # alternating, so that all see the same load
            runs["hello"].append(hello_world_cold_start(
                tmp, HELLO, "() => document.body.innerText.includes('world')"))
            runs["hello+plot"].append(hello_world_cold_start(
                tmp, TRIVIAL, FITS_DRAWN.format(PEAK_OF=PEAK_OF, peak=forward_peak([-3, 3]))))
            if args.compare:
                runs["compared"].append(app_cold_start(tmp, args.compare.resolve() / "app.py"))
            runs["app"].append(app_cold_start(tmp))
    if args.compare:
        print(f"compared: {args.compare}/app.py")
    print_cold_starts(runs, args.starts)
    if args.cold_only:
        return
    print()
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
    print(f"{f'change the target, new fits drawn (n={len(fit_times)})':52s} "
          f"{ms(fit_times):8.0f}ms {ms(fit_times) / floor:8.2f}x")
    if manual_times:
        print(f"{f'move the manual q, marker moved (n={len(manual_times)})':52s} "
              f"{ms(manual_times):8.0f}ms {ms(manual_times) / floor:8.2f}x")
    print(f"{f'baseline: cached rerun (unit toggle) (n={len(floor_times)})':52s} "
          f"{floor:8.0f}ms {1:8.2f}x")
    print("targets: <= 300 ms per interaction; cold start within 0.5 s of hello world")


if __name__ == "__main__":
    main()
