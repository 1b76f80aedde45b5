"""Benchmark: explorer's 2-D reverse fits against Monte Carlo reparameterised-gradient VI, one core.

    python benchmarks/bench_vi2d.py            # 5 runs of ours, 1 of the peer, per case
    python benchmarks/bench_vi2d.py --runs 9
    python benchmarks/bench_vi2d.py --page     # the /vi-2d page in headless Chromium instead

CPU time (time.process_time; ours the median of the runs). Ours: ``fit_gaussian(p, "reverse",
covariance=...)`` — every certified local optimum from all starts — on the page's three presets,
full and mean-field q. Peer: the textbook VI loop in numpy, 256 samples a step, 2000 Adam steps (lr
0.02) on the same parameters (μ, Cholesky with log-diagonal), from the start that led to our best
optimum; its KL is its own Monte Carlo estimate at the end (256 fresh samples). |KL error| is
against the optimum's true KL: the closed form on the Gaussian target (−½ log(1 − ρ²) mean-field, 0
full), else KL(q*‖p) at our certified optimum by the independent nested-quad reference of
tests/reference2d.py. Prints figures; not a test.

``--page``: wall time in a real browser, from a key press, median of N: dragging "your q" one
slider step (new ELBO and KL, no fit), changing a component's mean (all four fits afresh), and — the
baseline, in the same run — toggling the unit (a rerun that computes nothing new: Streamlit's own
floor; the drag reruns only the page's ELBO section, a fragment, so it may come in under it).  Two
end points: "shown", when the new numbers are on screen (polled every frame), and "settled", when
the page has also drawn the new charts (a mean change mounts both panels anew) and nothing is
left queued (requestIdleCallback) — Plotly may still be drawing when the numbers show.  Then the
split of a settled mean change: the page's server-side parts (fits, KL values, figures) replayed
in-process for the same targets, and the rest.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import reference2d  # noqa: E402

from explorer import Mixture, MvNormal, fit_gaussian  # noqa: E402
from explorer.vi2d import lower_index, pack, unpack  # noqa: E402
from views.state.vi2d import PRESETS  # noqa: E402


def target(comps):
    return Mixture([MvNormal.from_sd(c[1:3], c[3:5], c[5]) for c in comps],
                   weights=[c[0] for c in comps])


def peer(p, start: MvNormal, diagonal: bool, steps=2000, n=256, lr=0.02, seed=0):
    """Reparameterised-gradient VI with Adam; returns (q, its Monte Carlo KL estimate)."""
    rng = np.random.default_rng(seed)
    d = p.dim
    idx = lower_index(d, diagonal)
    theta = pack(start, diagonal)
    m, v = np.zeros_like(theta), np.zeros_like(theta)
    b1, b2 = 0.9, 0.999
    for t in range(1, steps + 1):
        mu, chol = unpack(theta[None], d, diagonal)
        z = rng.standard_normal((n, d))
        x = mu[0] + z @ chol[0].T
        _, s, _ = p.log_derivs(x)
        g = np.empty_like(theta)  # gradient of KL(q‖p) = −H(q) − E[log p]
        g[:d] = -s.mean(axis=0)
        for k, (i, j) in enumerate(idx):
            e = -(s[:, i] * z[:, j]).mean()
            g[d + k] = e * chol[0, i, i] - 1.0 if i == j else e
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        theta = theta - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + 1e-8)
    mu, chol = unpack(theta[None], d, diagonal)
    q = MvNormal(mu[0], chol[0] @ chol[0].T)
    z = rng.standard_normal((n, d))
    x = mu[0] + z @ chol[0].T
    return q, float(np.mean(q.logpdf(x) - p.logpdf(x)))


def true_kl(name, comps, fit, diagonal):
    if name == "corr":
        return -0.5 * math.log(1 - comps[0][5] ** 2) if diagonal else 0.0
    parts = [(c[0], list(c[1:3]), MvNormal.from_sd(c[1:3], c[3:5], c[5]).cov) for c in comps]
    return reference2d.reverse_kl((list(fit.q.mean), fit.q.cov), parts)


def page_redraw(changes: int) -> None:
    """The /vi-2d page's redraw times against Streamlit's floor (see the module docstring)."""
    from browser_support import launch_chromium, streamlit_server, wait_for_app_idle
    from playwright.sync_api import sync_playwright

    # the fits' charts (keys vi2d_*) now: Streamlit mounts a new plot element for a new figure;
    # whether it has mounted new ones since and Plotly has drawn them
    charts = "[...document.querySelectorAll('[class*=\"st-key-vi2d_\"] .js-plotly-plot')]"
    mark = f"() => {charts}.forEach(g => {{ g.__old = true; }})"
    drawn = f"() => {charts}.length > 0 && {charts}.every(g => !g.__old && g._fullLayout)"
    idle = "() => new Promise(r => requestIdleCallback(() => r(performance.now())))"

    def timed(page, action, done, new_charts: bool) -> tuple[float, float]:
        """(shown, settled): until ``done`` holds (polled every frame), and until the charts
        are drawn and the page is idle (nothing left queued: Plotly's drawing included)."""
        page.evaluate(mark)
        t0 = page.evaluate("() => performance.now()")
        w0 = time.perf_counter()
        action()
        done()
        shown = time.perf_counter() - w0
        if new_charts:
            page.wait_for_function(drawn, timeout=60_000)
        return shown, (page.evaluate(idle) - t0) / 1e3

    your_q = "() => (document.body.innerText.match(/your q: ELBO = [^,]*/) || [''])[0]"
    metrics = ("() => [...document.querySelectorAll('[data-testid=\"stMetricValue\"]')]"
               ".map(e => e.innerText).join(' ')")
    with streamlit_server() as url, sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/vi-2d")
        page.wait_for_function(f"() => ({your_q})() !== ''", timeout=180_000)
        wait_for_app_idle(page)
        out = {"drag your q one step (no fit)": [], "change a component's mean (4 fits)": [],
               "baseline: unit toggle (Streamlit's floor)": []}
        live = '.st-key-v2_q_0[data-stale="false"]'
        page.locator(live).first.scroll_into_view_if_needed()
        thumb = page.locator(f'{live} input[type="range"]').first
        thumb.wait_for(state="attached", timeout=30_000)  # sliders load when scrolled to
        thumb.focus()
        for _ in range(changes):
            old = page.evaluate(your_q)
            out["drag your q one step (no fit)"].append(timed(
                page, lambda: thumb.press("ArrowRight"), lambda old=old: page.wait_for_function(
                    f"() => ({your_q})() !== {old!r}", timeout=60_000), False))
            wait_for_app_idle(page)
        page.locator("summary").filter(has_text="2-D target p").first.click()
        box = page.locator(".st-key-v2_c0_1 input")
        for i in range(changes):
            old = page.evaluate(metrics)

            def change(i=i):
                box.fill(f"{-2.0 + 0.05 * (i + 1):g}")
                box.press("Enter")
            out["change a component's mean (4 fits)"].append(timed(
                page, change, lambda old=old: page.wait_for_function(
                    f"() => ({metrics})() !== {old!r}", timeout=120_000), True))
            wait_for_app_idle(page)
        unit = page.locator(".st-key-unit")
        for i in range(changes):
            label = "bits" if i % 2 == 0 else "nats"
            out["baseline: unit toggle (Streamlit's floor)"].append(timed(
                page, lambda label=label: unit.get_by_text(label, exact=True).click(),
                lambda label=label: page.wait_for_function(
                    "(u) => document.body.innerText.includes('KL(p‖q), ' + u)", arg=label,
                    timeout=60_000), False))
            wait_for_app_idle(page)
        browser.close()
    floors = [statistics.median(x[k] for x in out["baseline: unit toggle (Streamlit's floor)"])
              for k in (0, 1)]
    print(f"{'':45} {'shown':>8} {'':17} {'settled':>8}")
    for name, xs in out.items():
        m = [statistics.median(x[k] for x in xs) for k in (0, 1)]
        print(f"{name:45} " + "   ".join(f"{1e3 * v:5.0f} ms (floor + {1e3 * (v - f):4.0f})"
                                          for v, f in zip(m, floors, strict=True)))
    mean_change_split(changes, statistics.median(
        x[1] for x in out["change a component's mean (4 fits)"]))


def mean_change_split(changes: int, wall: float) -> None:
    """Where a mean change's time goes: the page's server-side work for the same targets,
    replayed here uncached (CPU time, median) — the four fits, the KL values shown (both
    directions of the two fits of the chosen family, and KL(q‖p) of your q for the ELBO), p's
    contour grid and both panels' figures with their JSON (what st.plotly_chart sends) — and
    the rest of the browser's wall time until the page settles: Streamlit's rerun, transport,
    drawing."""
    import plotly.io as pio

    from views.cached import vi2d_chart, vi2d_fits, vi2d_grid, vi2d_kl

    comps = [list(c) for c in PRESETS["two"][1]]
    parts: dict[str, list[float]] = {"fits": [], "KL values": [], "figures": []}
    for i in range(changes):
        comps[0][1] = -2.0 + 0.05 * (i + 1)
        key = tuple(tuple(float(v) for v in c) for c in comps)
        p = target(key)
        m = p.mean
        sd = np.sqrt(np.diag(p.cov))
        your_q = MvNormal.from_sd((round(m[0], 2), round(m[1], 2)),
                                  (round(sd[0], 2), round(sd[1], 2)),
                                  round(p.cov[0, 1] / (sd[0] * sd[1]), 2))
        t0 = time.process_time()
        fits = vi2d_fits.__wrapped__(key, 0)
        t1 = time.process_time()
        fwd, (rev, optima) = fits["forward"]["full"], fits["reverse"]["full"]
        for q in (fwd.q, rev.q):
            vi2d_kl.__wrapped__(key, q, False)
            vi2d_kl.__wrapped__(key, q, True)
        vi2d_kl.__wrapped__(key, your_q, True)
        t2 = time.process_time()
        vi2d_grid.cache_clear()
        fq = tuple((f, fit.q) for f, fit in fits["forward"].items())
        rq = tuple((f, fit.q) for f, (fit, _) in fits["reverse"].items())
        for fig in (vi2d_chart.__wrapped__(key, "forward", fq, "full", ()),
                    vi2d_chart.__wrapped__(key, "reverse", rq, "full",
                                           tuple(o.q for o in optima))):
            pio.to_json(fig, validate=False)
        t3 = time.process_time()
        for name, dt in zip(parts, (t1 - t0, t2 - t1, t3 - t2), strict=True):
            parts[name].append(dt)
    med = {name: statistics.median(xs) for name, xs in parts.items()}
    rest = wall - sum(med.values())
    print("  split of a mean change, settled (server parts replayed in-process, CPU median): "
          + ", ".join(f"{name} {1e3 * v:.0f} ms" for name, v in med.items())
          + f"; Streamlit + transport + browser (the rest of the wall time) {1e3 * rest:.0f} ms")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--page", action="store_true", help="time the /vi-2d page in Chromium")
    ap.add_argument("--changes", type=int, default=10, help="interactions per measure (--page)")
    args = ap.parse_args()
    if args.page:
        page_redraw(args.changes)
        return
    print(f"{'target':8} {'q':9} {'optima':>6} {'ours ms':>9} {'peer ms':>9} {'speedup':>8} "
          f"{'ours |err|':>11} {'peer |err|':>11} {'accuracy×':>10}")
    for name, (_, comps) in PRESETS.items():
        for family in ("full", "diagonal"):
            times, fit = [], None
            for _ in range(args.runs):
                p = target(comps)  # fresh: no cached entropy or arrays
                t0 = time.process_time()
                fit = fit_gaussian(p, "reverse", covariance=family)
                times.append(time.process_time() - t0)
            ours = statistics.median(times)
            diagonal = family == "diagonal"
            t0 = time.process_time()
            _, peer_kl = peer(target(comps), fit.start, diagonal)
            peer_t = time.process_time() - t0
            ref = true_kl(name, comps, fit, diagonal)
            e_ours, e_peer = abs(fit.kl - ref), abs(peer_kl - ref)
            acc = e_peer / max(e_ours, 1e-16)
            print(f"{name:8} {family:9} {len(fit.local_optima):6d} {1e3 * ours:9.1f} "
                  f"{1e3 * peer_t:9.1f} {peer_t / ours:8.1f} {e_ours:11.2e} {e_peer:11.2e} "
                  f"{acc:10.3g}", flush=True)


if __name__ == "__main__":
    main()
