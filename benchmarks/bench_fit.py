"""Benchmark: explorer's Gaussian fits against a competent quad + Nelder–Mead baseline, one core.

    python benchmarks/bench_fit.py            # 40 runs of ours, 5 of the baseline, per target
    python benchmarks/bench_fit.py --quick    # 8 runs of ours, 2 of the baseline
    python benchmarks/bench_fit.py --k-table  # also: reverse multi-start for K = 1…6 components
    python benchmarks/bench_fit.py --sweep --landscape   # also: a 200-point sweep, a 120² grid

The K table times ``fit_gaussian(p, "reverse")`` (every local optimum) on seeded random targets
with K components, overlapping (locations within ±K, scales 0.5–2) and separated (6 apart), and
checks that no optimum is lost: a brute-force multi-start (single descents from a 9 × 5 grid of
starts over p's range and scales) must find no certified minimum that the fit does not list.

Ours: ``fit_gaussian(p, "forward")`` + ``fit_gaussian(p, "reverse")`` (every local optimum), on a
freshly built target each run (no cached breakpoints or entropy).  Baseline: KL by
``scipy.integrate.quad`` (breakpoints at every component, tight tolerances) inside
``scipy.optimize.minimize(method="Nelder-Mead")`` over (μ, log σ), one start per direction at the
heaviest component (ours starts its forward fit at p's moment-matched Gaussian, the optimum in
closed form, and certifies it there; the baseline still has to converge from its start, as
ours did before: "(fwd)" shows ours alone).  Medians in milliseconds of CPU time
(``time.process_time``: the machine is shared) with wall time beside; speedup = baseline median /
ours.  The baseline's reverse fit from the moment-matched start is shown too: on the
symmetric bimodal target it stays between the modes (it finds one local optimum, not all).
This prints figures; it is not a timed test.

``--sweep``: ``sweep(½N(−d/2, 1) + ½N(d/2, 1), "separation", 200 values of d in [0, 5])``, every
reverse optimum joined into branches, against the peer fitting each point from every component
and the moment-matched start (timed on a few points, scaled to 200: marked "extrapolated").
``--landscape``: the 120 × 120 forward + reverse grid of the bimodal target, against the same grid
by explorer's own quadrature rule (:func:`explorer.landscape.reverse_kl_grid`, what the grid used
before) and by the peer's quad (timed on a 12 × 12 grid, scaled: "extrapolated").
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import math  # noqa: E402
import pathlib  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from scipy import integrate, optimize  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from explorer import Mixture, Normal, fit_gaussian  # noqa: E402

TARGETS = {
    "bimodal ±3": ([(-3.0, 1.0), (3.0, 1.0)], [0.5, 0.5]),
    "three modes": ([(-4.0, 0.6), (0.0, 1.0), (5.0, 2.0)], [0.3, 0.3, 0.4]),
    "separated ×3": ([(-5.0, 1.0), (0.0, 1.0), (5.0, 1.0)], [1 / 3, 1 / 3, 1 / 3]),
}
LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def make(name: str) -> Mixture:
    comps, weights = TARGETS[name]
    return Mixture([Normal(m, s) for m, s in comps], weights)


# --- baseline: quad inside Nelder–Mead ---------------------------------------------------------
class Baseline:
    """KL by adaptive quad with breakpoints; Nelder–Mead over (μ, log σ)."""

    def __init__(self, comps, weights):
        self.m = np.array([m for m, _ in comps])
        self.s = np.array([s for _, s in comps])
        self.lw = np.log(np.array(weights) / sum(weights)) - np.log(self.s) - LOG_SQRT_2PI
        self.pts = sorted({m + k * s for m, s in comps for k in (-2, -1, 0, 1, 2)})
        self.lo = min(m - 12 * s for m, s in comps)
        self.hi = max(m + 12 * s for m, s in comps)
        self.h_p = -self._quad(lambda x: math.exp(self.logp(x)) * self.logp(x), self.lo, self.hi)
        self.evals = 0

    def logp(self, x: float) -> float:
        z = (x - self.m) / self.s
        v = self.lw - 0.5 * z * z
        top = v.max()
        return float(top + math.log(np.exp(v - top).sum()))

    def _quad(self, f, lo, hi):
        pts = [x for x in self.pts if lo < x < hi]
        return integrate.quad(f, lo, hi, points=pts or None, epsabs=1e-12, epsrel=1e-10,
                              limit=200)[0]

    def forward(self, t):  # KL(p‖q) = −H(p) − ∫ p log q
        self.evals += 1
        mu, s = t
        sd = math.exp(s)

        def f(x):
            return math.exp(self.logp(x)) * (0.5 * ((x - mu) / sd) ** 2 + s + LOG_SQRT_2PI)

        return self._quad(f, self.lo, self.hi) - self.h_p

    def reverse(self, t):  # KL(q‖p) = −H(q) − ∫ q log p
        self.evals += 1
        mu, s = t
        sd = math.exp(s)

        def f(x):
            z = (x - mu) / sd
            return math.exp(-0.5 * z * z - s - LOG_SQRT_2PI) * self.logp(x)

        h_q = 0.5 + s + LOG_SQRT_2PI
        return -h_q - self._quad(f, mu - 12 * sd, mu + 12 * sd)

    def fit(self, direction: str, start: Normal):
        res = optimize.minimize(getattr(self, direction), [start.mean, math.log(start.std)],
                                method="Nelder-Mead",
                                options={"xatol": 1e-7, "fatol": 1e-12, "maxiter": 2000})
        return Normal(float(res.x[0]), math.exp(float(res.x[1]))), float(res.fun)


def heaviest(name: str) -> Normal:
    comps, weights = TARGETS[name]
    m, s = comps[int(np.argmax(weights))]
    return Normal(m, s)


def moment_matched(name: str) -> Normal:
    p = make(name)
    return Normal(p.mean, math.sqrt(p.variance))


def median_ms(fn, runs: int) -> tuple[float, object]:
    """Median CPU milliseconds of ``fn`` and its last result (see :func:`timed`)."""
    cpu, _wall, out = timed(fn, runs)
    return cpu, out


def timed(fn, runs: int) -> tuple[float, float, object]:
    """Median CPU and wall milliseconds of ``fn`` over ``runs`` runs, and its last result."""
    cpu, wall, out = [], [], None
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return 1e3 * statistics.median(cpu), 1e3 * statistics.median(wall), out


def ours(name: str):
    p = make(name)  # fresh: its breakpoints and entropy are computed inside the timed run
    return fit_gaussian(p, "forward"), fit_gaussian(p, "reverse")


def baseline(name: str):
    b = Baseline(*TARGETS[name])  # includes H(p) by quad, as ours computes its entropy
    start = heaviest(name)
    return b.fit("forward", start), b.fit("reverse", start), b.evals


def fmt(q: Normal) -> str:
    return f"N({q.mean:+.4f}, {q.std:.4f}²)"


def k_targets(k: int, kind: str, seed: int) -> Mixture:
    rng = np.random.default_rng(seed)
    if kind == "overlapping":
        locs = rng.uniform(-k, k, k)
    else:
        locs = 6.0 * np.arange(k) + rng.uniform(-0.5, 0.5, k)
    scales = rng.uniform(0.5, 2.0, k)
    return Mixture([Normal(m, s) for m, s in zip(locs, scales, strict=True)],
                   rng.uniform(0.2, 1.0, k))


def lost_optima(p: Mixture, optima) -> int:
    """Certified minima reached by single descents from a grid of starts but not listed."""
    from explorer.fitting import _same

    lo = min(c.loc - 2 * c.scale for c in p.components)
    hi = max(c.loc + 2 * c.scale for c in p.components)
    sds = [min(c.scale for c in p.components) / 2, 1.0, 3.0, (hi - lo) / 4, (hi - lo)]
    lost = []
    for mu in np.linspace(lo, hi, 9):
        for sd in sds:
            local = fit_gaussian(p, "reverse", init=Normal(float(mu), float(sd)))
            known = [o.q for o in optima] + lost
            if local.is_minimum and not any(_same(local.q, q, 1e-4) for q in known):
                lost.append(local.q)
    return len(lost)


def k_table(runs: int, seeds: int = 5) -> None:
    print(f"\nreverse multi-start, K components, median ms over {seeds} seeded targets × "
          f"{runs} runs; optima: min–max; lost: optima a 45-start brute force finds that the "
          "fit does not list")
    print(f"{'K':>2}  {'overlapping':>12} {'optima':>7} {'lost':>5}   {'separated':>10} "
          f"{'optima':>7} {'lost':>5}")
    for k in range(1, 7):
        cells = []
        for kind in ("overlapping", "separated"):
            times, counts, lost = [], [], 0
            for seed in range(seeds):
                t, fit = median_ms(lambda k=k, kind=kind, seed=seed: fit_gaussian(
                    k_targets(k, kind, seed), "reverse"), runs)
                times.append(t)
                counts.append(len(fit.local_optima))
                lost += lost_optima(k_targets(k, kind, seed), fit.local_optima)
            cells.append(f"{statistics.median(times):>10.2f}ms {min(counts)}–{max(counts):<4}"
                         f" {lost:>5}")
        print(f"{k:>2}  {cells[0]}   {cells[1]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a short run (8 / 2 repetitions)")
    ap.add_argument("--runs", type=int, default=None, help="repetitions of ours (default 40)")
    ap.add_argument("--k-table", action="store_true",
                    help="also time the reverse multi-start for K = 1…6 components")
    ap.add_argument("--sweep", action="store_true", help="also time a 200-point sweep")
    ap.add_argument("--landscape", action="store_true", help="also time a 120 × 120 landscape")
    ap.add_argument("--breakdown", action="store_true",
                    help="also: where a fit's time goes (target set-up, forward, reverse parts)")
    args = ap.parse_args()
    runs = args.runs or (8 if args.quick else 40)
    base_runs = 2 if args.quick else 5
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    for name in TARGETS:  # warm-up (imports, caches of numpy/scipy)
        ours(name)

    rows = []
    for name in TARGETS:
        t_ours, w_ours, (fwd, rev) = timed(lambda name=name: ours(name), runs)
        t_fwd, _ = median_ms(lambda name=name: fit_gaussian(make(name), "forward"), runs)
        t_base, w_base, ((bq_f, bk_f), (bq_r, bk_r), evals) = timed(
            lambda name=name: baseline(name), base_runs)
        b = Baseline(*TARGETS[name])
        mm_q, mm_kl = b.fit("reverse", moment_matched(name))
        rows.append((name, t_ours, t_fwd, t_base, fwd, rev, bq_f, bk_f, bq_r, bk_r, evals,
                     mm_q, mm_kl, w_ours, w_base))

    print(f"one core, median of {runs} runs (ours) / {base_runs} runs (baseline); CPU ms "
          "(process_time), wall ms in brackets\n")
    print(f"{'target':<14} {'ours fwd+rev':>18} {'(fwd)':>7} {'baseline':>18} {'speedup':>8}"
          f"  {'optima':>6}  {'baseline KL evals':>17}")
    for (name, t_ours, t_fwd, t_base, _, rev, *_rest, evals, _mq, _mk, w_ours, w_base) in rows:
        print(f"{name:<14} {t_ours:>8.2f} ({w_ours:>7.2f}) {t_fwd:>7.2f} {t_base:>8.1f} "
              f"({w_base:>7.1f}) {t_base / t_ours:>7.0f}×  {len(rev.local_optima):>6}  "
              f"{evals:>17}")
    print("\nanswers (KL in nats)")
    for (name, _t, _tf, _tb, fwd, rev, bq_f, bk_f, bq_r, bk_r, _e, mm_q, mm_kl, *_w) in rows:
        print(f"  {name}")
        print(f"    forward  ours {fmt(fwd.q)} KL {fwd.kl:.10f}   baseline {fmt(bq_f)} "
              f"KL {bk_f:.10f}")
        for i, o in enumerate(rev.local_optima):
            label = "reverse  ours" if i == 0 else "         ours"
            print(f"    {label} {fmt(o.q)} KL {o.kl:.10f}" + (
                f"   baseline {fmt(bq_r)} KL {bk_r:.10f}  (from the heaviest component)"
                if i == 0 else ""))
        print(f"    reverse  baseline from the moment-matched start {fmt(mm_q)} KL {mm_kl:.10f}")
    if args.breakdown:
        breakdown_lines(max(50, runs * 10))
    if args.k_table:
        k_table(max(3, runs // 4))
    if args.sweep:
        sweep_lines(max(3, runs // 8))
    if args.landscape:
        landscape_lines(max(3, runs // 4))


def breakdown_lines(runs: int) -> None:
    """Where ours spends its time, per target: p's set-up (entropy, panel edges: what the first
    fit on a fresh target computes), the forward fit on a set-up target, and the reverse fit's
    parts — evaluations of the quadrature rule, Newton steps (2 × 2 eigen-decompositions), the
    rest of the descent loop, and turning descents into Fits.  CPU µs per fit, totals over
    ``runs`` fresh targets (the parts are timed by wrapping them: a few % of overhead)."""
    from explorer import fitting, newton

    spent = dict.fromkeys(("rule", "newton", "descend"), 0.0)

    def timing(name, fn):
        def wrapped(*args, **kwargs):
            t0 = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] += time.process_time() - t0
        return wrapped

    originals = fitting.reverse_rule, newton.newton_steps, fitting._descend
    fitting.reverse_rule = lambda p: timing("rule", originals[0](p))
    newton.newton_steps = timing("newton", originals[1])
    fitting._descend = timing("descend", originals[2])
    print(f"\nbreakdown, CPU µs per fit over {runs} fresh targets: set-up of p | forward fit | "
          "reverse fit = rule evaluations + Newton steps + rest of the loop + starts and Fits")
    try:
        for name in TARGETS:
            ps = [make(name) for _ in range(runs)]
            t0 = time.process_time()
            for p in ps:
                _, pc = p.centred
                _ = p.entropy, pc.log_breakpoints, pc.coarse_log_breakpoints
            t1 = time.process_time()
            for p in ps:
                fit_gaussian(p, "forward")
            t2 = time.process_time()
            for key in spent:
                spent[key] = 0.0
            for p in ps:
                fit_gaussian(p, "reverse")
            t3 = time.process_time()
            us = {k: 1e6 * v / runs for k, v in spent.items()}
            prep, fwd, rev = (1e6 * (b - a) / runs for a, b in ((t0, t1), (t1, t2), (t2, t3)))
            loop = us["descend"] - us["rule"] - us["newton"]
            print(f"  {name:<14} set-up {prep:6.0f} | forward {fwd:5.0f} | reverse {rev:6.0f} = "
                  f"rule {us['rule']:5.0f} + Newton {us['newton']:4.0f} + loop {loop:5.0f} + "
                  f"starts/Fits {rev - us['descend']:4.0f}")
    finally:
        fitting.reverse_rule, newton.newton_steps, fitting._descend = originals


SWEEP_TARGET = ([(-0.5, 1.0), (0.5, 1.0)], [0.5, 0.5])


def sweep_lines(runs: int, points: int = 200, peer_points: int = 3) -> None:
    from explorer.sweeps import sweep, target_at

    p = Mixture([Normal(m, s) for m, s in SWEEP_TARGET[0]], SWEEP_TARGET[1])
    d = np.linspace(0.0, 5.0, points)
    sweep(p, "separation", d)  # warm-up
    cpu, wall, s = timed(lambda: sweep(p, "separation", d), runs)
    optima = sum(len(b.index) for b in s.branches)

    def peer(v: float) -> None:  # every component and the moment-matched Gaussian as starts
        t = target_at(p, "separation", float(v))
        comps = [(c.mean, c.std) for c in t.components]
        b = Baseline(comps, list(t.weights))
        for st in [Normal(m, sd) for m, sd in comps] + [Normal(t.mean, math.sqrt(t.variance))]:
            b.fit("reverse", st)

    picks = d[np.linspace(0, points - 1, peer_points).astype(int)]
    p_cpu, p_wall, _ = timed(lambda: [peer(v) for v in picks], 1)
    scale = points / peer_points
    print(f"\nsweep: separation of ½N(−d/2, 1) + ½N(d/2, 1), {points} values of d in [0, 5], "
          f"median of {runs}; CPU ms (wall)")
    births = ", ".join(f"{v:.3f}" for _, v in s.births[1:]) or "none"
    switches = ", ".join(f"{at:.3f}" for *_, at in s.switches) or "none in this range"
    print(f"  ours   {cpu:9.1f} ({wall:9.1f})   {len(s.branches)} branches, {optima} optima, "
          f"births at d = {births}, switches at d = {switches}")
    print(f"  peer   {p_cpu * scale:9.0f} ({p_wall * scale:9.0f})   quad + Nelder–Mead from 3 "
          f"starts per point (extrapolated from {peer_points} points)   ratio "
          f"{p_cpu * scale / cpu:.0f}×")


def landscape_lines(runs: int, size: int = 120) -> None:
    from explorer.landscape import default_axes, kl_landscape, reverse_kl_grid

    p = make("bimodal ±3")
    kl_landscape(p, size=size)  # warm-up
    cpu, wall, land = timed(lambda: kl_landscape(make("bimodal ±3"), size=size), runs)
    ls, m = np.meshgrid(land.log_sigma, land.mu, indexing="ij")
    q_cpu, q_wall, ref = timed(lambda: reverse_kl_grid(make("bimodal ±3"), m.ravel(),
                                                       ls.ravel()), max(1, runs // 3))
    rel = np.max(np.abs(land.reverse.ravel() - ref) / np.abs(ref))
    b = Baseline(*TARGETS["bimodal ±3"])
    mu, lsig = default_axes(p, 12)
    b_cpu, b_wall, _ = timed(lambda: [b.reverse((u, s)) for s in lsig for u in mu], 1)
    scale = (size / 12) ** 2
    print(f"\nlandscape: bimodal ±3, {size} × {size} grid, forward + reverse, median of {runs}; "
          "CPU ms (wall)")
    print(f"  ours                     {cpu:9.1f} ({wall:9.1f})")
    print(f"  explorer quadrature rule {q_cpu:9.1f} ({q_wall:9.1f})   reverse only; ratio "
          f"{q_cpu / cpu:.1f}×; largest relative difference {rel:.1e}")
    print(f"  peer quad                {b_cpu * scale:9.0f} ({b_wall * scale:9.0f})   reverse only "
          f"(extrapolated from 12 × 12); ratio {b_cpu * scale / cpu:.0f}×")


if __name__ == "__main__":
    main()
