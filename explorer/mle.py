"""MLE is forward KL: the maximum-likelihood Gaussian of a sample from p converges to the
forward-KL fit argmin_q KL(p‖q).

The average negative log-likelihood of n draws under q estimates the cross-entropy
H(p, q) = H(p) + KL(p‖q); H(p) does not depend on q, so maximising likelihood minimises KL(p‖q).
For a Gaussian q the MLE is the sample mean and the population (ddof = 0) standard deviation —
the sample version of moment matching, the forward-KL optimum.

Samples are nested: ``sample(p, n, seed)`` is the first n points of ``sample(p, N, seed)`` for
every N ≥ n (the component choices and each component's draws come from separate streams spawned
from ``np.random.default_rng(seed)``), so a convergence plot shows one growing sample per seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import product

import numpy as np

from explorer.distributions import (
    LOG_2PI,
    MAX_ABS_LOCATION,
    MAX_SCALE,
    MIN_SCALE,
    Laplace,
    Normal,
    StudentT,
    as_mixture,
)

MIN_N, MAX_N = 10, 100_000
MAX_SEED = 2**63 - 1


@dataclass(frozen=True)
class MLEResult:
    """The maximum-likelihood Gaussian ``q`` of ``n`` draws from p (seed ``seed``) and the
    average negative log-likelihood of those draws under it, in nats.

    ``clipped`` is True when the sample's mean or standard deviation fell outside the range a
    Normal may take here (only possible for very heavy tails, e.g. Student-t with ν < 1) and q
    was clipped into it; ``avg_nll`` is then that of the clipped q.
    """

    n: int
    seed: int
    q: Normal
    avg_nll: float
    clipped: bool = False


def sample(p, n: int, seed: int) -> np.ndarray:
    """``n`` iid draws from ``p`` (a Mixture or a single Normal/StudentT/Laplace).

    Each draw picks a component by weight, then draws from it.  Component choices come from one
    stream and each component's draws from its own, all spawned from
    ``np.random.default_rng(seed)``, so samples for the same seed are nested (see module doc).
    """
    n = _check_int("n", n, 1, MAX_N)
    seed = _check_int("seed", seed, 0, MAX_SEED)
    pm = as_mixture(p)
    comps, weights = pm.components, np.asarray(pm.weights)
    streams = np.random.default_rng(seed).spawn(1 + len(comps))
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    which = np.searchsorted(cdf, streams[0].random(n), side="right")
    which = np.minimum(which, len(comps) - 1)  # guard against u == 1 after rounding
    out = np.empty(n)
    for k, comp in enumerate(comps):
        mask = which == k
        m = int(mask.sum())
        if m:
            out[mask] = _draw(comp, streams[1 + k], m)
    return out


def mle_fit(p, n: int, seed: int) -> MLEResult:
    """The Gaussian MLE of ``n`` draws from ``p`` (``n`` in [10, 100000]): sample mean,
    population (ddof = 0) standard deviation, and the average NLL of the draws under it."""
    n = _check_int("n", n, MIN_N, MAX_N)
    return _fit(sample(p, n, seed), seed)


def mle_convergence(p, ns, seeds) -> list[MLEResult]:
    """:func:`mle_fit` for every (n, seed), n-major (all seeds for ns[0], then ns[1], …).
    Each seed is sampled once at the largest n and the smaller fits use its prefixes, which is
    exactly what :func:`mle_fit` would draw."""
    ns = [_check_int("n", n, MIN_N, MAX_N) for n in ns]
    seeds = [_check_int("seed", s, 0, MAX_SEED) for s in seeds]
    if not ns or not seeds:
        return []
    draws = {s: sample(p, max(ns), s) for s in seeds}
    return [_fit(draws[s][:n], s) for n, s in product(ns, seeds)]


def _fit(x: np.ndarray, seed: int) -> MLEResult:
    with np.errstate(over="ignore", invalid="ignore"):
        mean = float(np.mean(x))
        std = float(np.std(x))  # ddof = 0: the maximum-likelihood estimate
    clipped = not (math.isfinite(mean) and abs(mean) <= MAX_ABS_LOCATION
                   and math.isfinite(std) and MIN_SCALE <= std <= MAX_SCALE)
    if clipped:
        mean = min(max(mean, -MAX_ABS_LOCATION), MAX_ABS_LOCATION) if math.isfinite(mean) else 0.0
        std = min(max(std, MIN_SCALE), MAX_SCALE) if math.isfinite(std) else MAX_SCALE
    q = Normal(mean, std)
    with np.errstate(over="ignore"):
        z = (x - q.mean) / q.std
        avg_nll = float(math.log(q.std) + 0.5 * LOG_2PI + 0.5 * np.mean(z * z))
    if math.isnan(avg_nll):
        avg_nll = math.inf
    return MLEResult(n=int(x.size), seed=seed, q=q, avg_nll=avg_nll, clipped=clipped)


def _draw(comp, rng: np.random.Generator, m: int) -> np.ndarray:
    if isinstance(comp, Normal):
        return comp.mean + comp.std * rng.standard_normal(m)
    if isinstance(comp, StudentT):
        return comp.loc + comp.scale * rng.standard_t(comp.df, m)
    if isinstance(comp, Laplace):
        return rng.laplace(comp.loc, comp.scale, m)
    raise ValueError(f"cannot sample a {type(comp).__name__} component")


def _check_int(field: str, value, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{field} must be an integer in [{lo}, {hi}], got {value!r}")
    if not lo <= value <= hi:
        raise ValueError(f"{field} must be in [{lo}, {hi}], got {value}")
    return int(value)
