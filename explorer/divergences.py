"""KL divergence, entropy, cross-entropy and Jensen–Shannon divergence of 1-D distributions.

All integrals are taken in log space on the composite Gauss–Legendre panels of
:mod:`explorer.quadrature`; a divergence that is infinite (tails that disagree) is ``math.inf``,
decided from the tails in closed form rather than from a huge number, and :func:`why_infinite`
says why in words.  Values are in nats unless ``unit="bits"``.
"""

from __future__ import annotations

import math
import sys

import numpy as np

from explorer.distributions import Mixture, Normal, as_mixture
from explorer.logspace import x_minus_log1p
from explorer.objectives import gaussian_cross_entropy, reverse_objective
from explorer.quadrature import merge_edges, nodes

UNITS = {"nats": 1.0, "bits": 1.0 / math.log(2.0)}


def to_unit(value_nats: float, unit: str = "nats") -> float:
    """Convert a value in nats to ``unit`` ("nats" or "bits")."""
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {sorted(UNITS)}, got {unit!r}")
    return value_nats * UNITS[unit]


def why_infinite(p, q) -> str | None:
    """Why KL(p‖q) is infinite, in one sentence, or None where it is finite.

    KL(p‖q) = ∫p log p − ∫p log q; the first term is finite for every component here, and
    E_p[−log q] is finite iff p has a finite moment of the order at which −log q grows in the
    tails (2 for Gaussian tails, 1 for Laplace tails, log for Student-t tails).
    """
    if _categorical(p, q):
        return p.why_infinite(q)
    pm, qm = as_mixture(p), as_mixture(q)
    need = qm.log_growth
    if need == 0 or pm.moment_order > need:
        return None
    heavy = min((c for _, c in pm._active), key=lambda c: c.moment_order)
    tail = {2.0: "Gaussian", 1.0: "exponential (Laplace)"}[need]
    moment = {2.0: "variance", 1.0: "mean"}[need]
    return (f"p has a Student-t component with ν = {heavy.df:g} ≤ {need:g}, so its {moment} is "
            f"infinite, and q's {tail} tails make E_p[−log q] diverge: KL(p‖q) = ∞.")


def cross_entropy(p, q, unit: str = "nats") -> float:
    """H(p, q) = −∫ p log q = H(p) + KL(p‖q); ∞ where the KL is infinite."""
    if _categorical(p, q):
        return to_unit(p.cross_entropy(q), unit)
    if why_infinite(p, q):
        return to_unit(math.inf, unit)
    c, pm, qm = _centred(p, q)
    if isinstance(q, Normal):
        return to_unit(float(gaussian_cross_entropy(pm, qm.components[0].mean,
                                                    math.log(q.std))), unit)
    x, w = nodes(merge_edges(pm.breakpoints, qm.breakpoints))
    lp = pm.logpdf(x)
    return to_unit(-float(np.dot(w, _times_p(lp, qm.logpdf(x)))), unit)


def entropy(p, unit: str = "nats") -> float:
    """Differential entropy H(p) (Shannon entropy for a Categorical)."""
    return to_unit(p.entropy, unit)


def kl_divergence(p, q, unit: str = "nats") -> float:
    """KL(p‖q) = ∫ p log(p/q), ≥ 0 (exactly 0 for p = q); ``math.inf`` where it is infinite (see
    :func:`why_infinite`).

    Integrals are taken in coordinates centred on the first distribution's heaviest component.
    For a Gaussian p the value is the rule :mod:`explorer.fitting` minimises
    (:func:`explorer.objectives.reverse_objective`); for a Gaussian q it is exact from p's mean
    and variance; otherwise the composite rule on both distributions' panels.
    """
    factor = UNITS.get(unit)
    if factor is None:
        raise ValueError(f"unit must be one of {sorted(UNITS)}, got {unit!r}")
    from explorer.mvnormal import is_multivariate

    if is_multivariate(p, q):  # MvNormal and its mixtures: explorer.vi2d
        from explorer.vi2d import kl_mv

        return kl_mv(p, q) * factor
    if _categorical(p, q):
        return p.kl(q) * factor
    if why_infinite(p, q):
        return math.inf
    if isinstance(p, Normal) and isinstance(q, Normal):
        return gaussian_kl(p.mean, p.std, q.mean, q.std) * factor
    if as_mixture(p) == as_mixture(q):
        return 0.0
    if isinstance(p, Normal):
        c, qm = as_mixture(q).centred
        theta = np.array([[p.mean - c, math.log(p.std)]])
        return max(float(reverse_objective(qm, theta, derivatives=False)[0][0]), 0.0) * factor
    c, pm, qm = _centred(p, q)
    if isinstance(q, Normal):
        kl = float(gaussian_cross_entropy(pm, qm.components[0].mean, math.log(q.std))) - pm.entropy
    else:
        x, w = nodes(merge_edges(pm.breakpoints, qm.breakpoints))
        lp = pm.logpdf(x)
        kl = float(np.dot(w, _times_p(lp, lp - qm.logpdf(x))))
    return max(kl, 0.0) * factor


def js_divergence(p, q, unit: str = "nats") -> float:
    """Jensen–Shannon divergence ½KL(p‖m) + ½KL(q‖m), m = (p+q)/2: symmetric, ≤ ln 2 nats, and
    exactly 0 for p = q."""
    if _categorical(p, q):
        return to_unit(p.js(q), unit)
    if as_mixture(p) == as_mixture(q):
        return 0.0
    _, pm, qm = _centred(p, q)
    both = Mixture(pm.components + qm.components,
                   [w / 2 for w in pm.weights] + [w / 2 for w in qm.weights])
    x, w = nodes(both.breakpoints)
    lp, lq = pm.logpdf(x), qm.logpdf(x)
    lm = np.logaddexp(lp, lq) - math.log(2.0)
    js = 0.5 * float(np.dot(w, _times_p(lp, lp - lm) + _times_p(lq, lq - lm)))
    return to_unit(min(max(js, 0.0), math.log(2.0)), unit)


def gaussian_kl(m1: float, s1: float, m2: float, s2: float) -> float:
    """KL(N(m1, s1²) ‖ N(m2, s2²)) in closed form, in nats: ½(x − log(1 + x) + z²) with
    x = r² − 1, r = s1/s2, z = (m1 − m2)/s2.  Where s1 ≈ s2, x is formed from s1 − s2 (exact
    there) and its shape term by the series of :func:`x_minus_log1p`, so a KL of 1e-16 keeps
    its digits (r² − 1 − 2 log r keeps none); elsewhere log(1 + x) is 2 log r."""
    eps = (s1 - s2) / s2
    x = eps * (2.0 + eps)
    z = (m1 - m2) / s2
    shape = float(x_minus_log1p(x)) if abs(x) <= 0.5 else x - 2.0 * math.log(s1 / s2)
    return 0.5 * (shape + z * z)


def _centred(p, q) -> tuple[float, Mixture, Mixture]:
    """(c, p and q as mixtures moved by −c), c from p (see :attr:`Mixture.centred`)."""
    c, pm = as_mixture(p).centred
    return c, pm, as_mixture(q).shifted(c) if c else as_mixture(q)


def _times_p(logp: np.ndarray, values: np.ndarray) -> np.ndarray:
    """p·values, with 0 where p underflows (never 0·inf = nan)."""
    p = np.exp(logp)
    with np.errstate(invalid="ignore"):  # 0·(−inf) where both densities underflow: masked
        return np.where(p > 0, p * values, 0.0)


def _categorical(p, q) -> bool:
    discrete = sys.modules.get("explorer.discrete")
    if discrete is None:  # no Categorical exists yet: don't import it (and scipy) to ask
        return False
    Categorical = discrete.Categorical
    if isinstance(p, Categorical) and isinstance(q, Categorical):
        return True
    if isinstance(p, Categorical) or isinstance(q, Categorical):
        raise ValueError("a Categorical can only be compared with another Categorical")
    return False
