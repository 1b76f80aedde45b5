"""Is a drift estimate more than noise?  Seeded bootstrap intervals, the permutation null (what the
estimates look like when nothing drifted, at these sample sizes), and each estimator's bias
against sample size on data drawn from known distributions.

Cost is bounded: the number of resamples is cut so that resamples × (n + m) stays within a budget
of about a second on one core, and the result says how many were used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from explorer.drift import ESTIMATES, Binned, Knn, Options, binned, estimates, knn_kl
from explorer.mle import MAX_SEED, sample

VALUE_BUDGET = 3_000_000  # resampled values per request, summed over resamples
KNN_BUDGET = 600_000  # resampled values through kNN trees, weighted by (1 + k/16): ~0.6 CPU-s
MAX_RESAMPLES = 1000
MIN_RESAMPLES = 20
MAX_BIAS_SIZES = 8


def affordable(requested: int, n: int, m: int, budget: int = VALUE_BUDGET,
               minimum: int = MIN_RESAMPLES) -> int:
    """How many resamples of an (n, m) pair fit the budget (at least ``minimum``)."""
    if not (isinstance(requested, int | np.integer) and 1 <= requested <= MAX_RESAMPLES):
        raise ValueError(f"resamples must be a whole number in [1, {MAX_RESAMPLES}], got "
                         f"{requested!r}")
    return int(min(requested, max(budget // (n + m), minimum)))


@dataclass(frozen=True)
class Interval:
    lo: float
    hi: float
    level: float
    resamples: int


def _interval(values: np.ndarray, level: float, resamples: int) -> Interval:
    a = (1.0 - level) / 2.0
    lo, hi = np.quantile(values, [a, 1.0 - a], method="inverted_cdf")  # no ∞ − ∞ interpolation
    return Interval(float(lo), float(hi), level, resamples)


def bootstrap(ref: np.ndarray, live: np.ndarray, opt: Options, resamples: int = 200,
              seed: int = 0, level: float = 0.9,
              knn: tuple[Knn, Knn] | None = None) -> dict[str, Interval | None]:
    """Percentile bootstrap intervals for every estimate (each sample resampled on its own, the
    binning redone on each resample).  The kNN intervals resample the per-point terms (neighbour
    distances from the full samples: a resample's repeated values would put neighbours at 0)."""
    if not 0.5 <= level < 1.0:
        raise ValueError(f"level must be in [0.5, 1), got {level!r}")
    n, m = ref.size, live.size
    b_count = affordable(resamples, n, m)
    rng = np.random.default_rng(seed)
    binned_vals = np.empty((b_count, 4))
    for b in range(b_count):
        h = binned(ref[rng.integers(0, n, n)], live[rng.integers(0, m, m)], opt.binning,
                   opt.bins, opt.eps)
        binned_vals[b] = h.kl_ref_live, h.kl_live_ref, h.js, h.psi
    out: dict[str, Interval | None] = {
        name: _interval(binned_vals[:, j], level, b_count) for j, name in enumerate(ESTIMATES[:4])}
    knn = knn or (knn_kl(ref, live, opt.k), knn_kl(live, ref, opt.k))
    for name, result in zip(ESTIMATES[4:], knn, strict=True):
        if result.value is None:
            out[name] = None
            continue
        size = result.terms.size
        idx = rng.integers(0, size, (b_count, size))
        out[name] = _interval(result.terms[idx].mean(axis=1), level, b_count)
    return out


@dataclass(frozen=True)
class Null:
    """Estimates on random re-splits of the pooled samples (no drift, same sizes)."""

    values: np.ndarray  # sorted; may hold ∞
    observed: float | None
    resamples: int

    @property
    def p_value(self) -> float | None:
        """(1 + #null ≥ observed) / (1 + resamples): how often no drift looks this far apart."""
        if self.observed is None or not self.values.size:
            return None
        return float((1 + np.count_nonzero(self.values >= self.observed)) / (1 + self.values.size))

    @property
    def q95(self) -> float | None:
        if not self.values.size:
            return None
        return float(np.quantile(self.values, 0.95, method="inverted_cdf"))


def permutation_null(ref: np.ndarray, live: np.ndarray, opt: Options, resamples: int = 200,
                     seed: int = 0, observed: dict | None = None) -> dict[str, Null]:
    """The permutation null of every estimate: pool both samples, split them at random into
    sizes n and m, estimate; repeat.  kNN uses fewer splits (its own, smaller budget), and none
    (``resamples`` 0) when fewer than MIN_RESAMPLES fit it."""
    n, m = ref.size, live.size
    observed = observed or estimates(ref, live, opt)
    b_count = affordable(resamples, n, m)
    b_knn = min(b_count, int(KNN_BUDGET / ((n + m) * (1 + opt.k / 16))))
    if b_knn < MIN_RESAMPLES:  # too few splits to say anything: no kNN null at this size
        b_knn = 0
    rng = np.random.default_rng(seed)
    pooled = np.concatenate([ref, live])
    rows: dict[str, list[float]] = {name: [] for name in ESTIMATES}
    for b in range(b_count):
        perm = rng.permutation(n + m)
        r, w = pooled[perm[:n]], pooled[perm[n:]]
        h = binned(r, w, opt.binning, opt.bins, opt.eps)
        for name, v in zip(ESTIMATES[:4], (h.kl_ref_live, h.kl_live_ref, h.js, h.psi),
                           strict=True):
            rows[name].append(v)
        if b < b_knn:
            for name, (x, y) in zip(ESTIMATES[4:], ((r, w), (w, r)), strict=True):
                v = knn_kl(x, y, opt.k).value
                if v is not None:
                    rows[name].append(v)
    return {name: Null(np.sort(np.asarray(rows[name], dtype=float)), observed[name],
                       len(rows[name])) for name in ESTIMATES}


def analyse(ref: np.ndarray, live: np.ndarray, opt: Options, resamples: int = 200,
            seed: int = 0) -> tuple[dict, Binned, dict, dict]:
    """Everything the drift page shows for two samples, each kNN estimate made once: the
    estimates, the binned table, bootstrap intervals (``seed``) and the null (``seed`` + 1)."""
    knn = (knn_kl(ref, live, opt.k), knn_kl(live, ref, opt.k))
    est = estimates(ref, live, opt, knn)
    return (est, binned(ref, live, opt.binning, opt.bins, opt.eps),
            bootstrap(ref, live, opt, resamples, seed, knn=knn),
            permutation_null(ref, live, opt, resamples, seed + 1, observed=est))


@dataclass(frozen=True)
class BiasCurve:
    """Mean and sd of each estimate over seeded repeats at each sample size (n = m)."""

    sizes: tuple[int, ...]
    mean: dict[str, np.ndarray]
    sd: dict[str, np.ndarray]
    infinite: dict[str, np.ndarray]  # how many repeats gave ∞ (left out of mean and sd)
    repeats: int


def bias_curve(p, q, sizes, opt: Options, repeats: int = 20, seed: int = 0) -> BiasCurve:
    """Each estimator on samples of p (reference) and q (live) of equal size n, for n in
    ``sizes``: its mean and sd over ``repeats`` seeded draws (cost-bounded like the resamples)."""
    sizes = tuple(int(s) for s in sizes)
    if not 1 <= len(sizes) <= MAX_BIAS_SIZES:
        raise ValueError(f"sizes: give 1 to {MAX_BIAS_SIZES} sample sizes, got {len(sizes)}")
    repeats = affordable(repeats, max(sizes), max(sizes), KNN_BUDGET // len(sizes))
    mean = {name: np.full(len(sizes), math.nan) for name in ESTIMATES}
    sd = {name: np.full(len(sizes), math.nan) for name in ESTIMATES}
    infinite = {name: np.zeros(len(sizes), dtype=int) for name in ESTIMATES}
    for i, n in enumerate(sizes):
        vals: dict[str, list[float]] = {name: [] for name in ESTIMATES}
        for r in range(repeats):  # seeds shared across sizes: each repeat's samples grow
            s = (seed + 2 * r) % (MAX_SEED + 1)
            est = estimates(sample(p, n, s), sample(q, n, (s + 1) % (MAX_SEED + 1)), opt)
            for name, v in est.items():
                if v is None or math.isinf(v):
                    infinite[name][i] += 1
                else:
                    vals[name].append(v)
        for name, v in vals.items():
            if v:
                mean[name][i] = float(np.mean(v))
                sd[name][i] = float(np.std(v))
    return BiasCurve(sizes, mean, sd, infinite, repeats)
