"""An independent reference for 2-D expectations: nested adaptive scipy.integrate.quad in x-space
with textbook densities (no explorer numerics), split at every Gaussian's centre (inner: at each
Gaussian's conditional mean given x) so narrow, correlated components are never stepped over.

The quad runs take seconds to a minute each, so :func:`reverse_kl` and :func:`forward_kl` keep
their results in ``reference2d_values.json`` beside this file, keyed by the exact inputs (floats
written with full precision): a case asked before is read back; a new one is computed and added.
Delete the file to recompute every value from scratch."""

from __future__ import annotations

import math

import numpy as np
from reference_cache import cached
from scipy import integrate
from scipy.special import logsumexp


def log_gauss(mean, cov):
    m = np.asarray(mean, float)
    c = np.asarray(cov, float)
    det = c[0, 0] * c[1, 1] - c[0, 1] ** 2
    inv = np.array([[c[1, 1], -c[0, 1]], [-c[0, 1], c[0, 0]]]) / det
    const = -math.log(2 * math.pi) - 0.5 * math.log(det)

    def f(x, y):
        u, v = x - m[0], y - m[1]
        return const - 0.5 * (inv[0, 0] * u * u + 2 * inv[0, 1] * u * v + inv[1, 1] * v * v)

    return f


def log_mix(parts):
    """parts: [(weight, mean, cov)] -> log density."""
    total = sum(w for w, _, _ in parts)
    fs = [(math.log(w / total), log_gauss(m, c)) for w, m, c in parts if w > 0]
    return lambda x, y: float(logsumexp([lw + f(x, y) for lw, f in fs]))


def _cond_mean(mean, cov, x):
    return mean[1] + cov[0][1] / cov[0][0] * (x - mean[0])


def expect(q, fn, gaussians, reach=12.0):
    """E_q[fn(x, y)] for q = (mean, cov), splitting at the centres of ``gaussians`` (and q)."""
    qm, qc = q
    lq = log_gauss(qm, qc)
    sx = math.sqrt(qc[0][0])
    sy_c = math.sqrt(qc[1][1] - qc[0][1] ** 2 / qc[0][0])
    gs = list(gaussians) + [q]

    def inner(x):
        c = _cond_mean(qm, qc, x)
        lo, hi = c - reach * sy_c, c + reach * sy_c
        pts = {lo, hi}
        for m, cv in gs:
            cm = _cond_mean(m, cv, x)
            s = math.sqrt(cv[1][1] - cv[0][1] ** 2 / cv[0][0])
            pts.update(cm + k * s for k in (-8, -4, -2, -1, 0, 1, 2, 4, 8))
        pts = sorted(v for v in pts if lo <= v <= hi)

        def g(y):
            a = lq(x, y)
            return math.exp(a) * fn(x, y) if a > -740 else 0.0

        return math.fsum(integrate.quad(g, a, b, epsabs=1e-16, epsrel=1e-12, limit=200)[0]
                         for a, b in zip(pts, pts[1:], strict=False))

    lo, hi = qm[0] - reach * sx, qm[0] + reach * sx
    pts = {lo, hi}
    for m, cv in gs:
        s = math.sqrt(cv[0][0])
        pts.update(m[0] + k * s for k in (-8, -4, -2, -1, 0, 1, 2, 4, 8))
    pts = sorted(v for v in pts if lo <= v <= hi)
    return math.fsum(integrate.quad(inner, a, b, epsabs=1e-15, epsrel=1e-12, limit=200)[0]
                     for a, b in zip(pts, pts[1:], strict=False))


@cached("reference2d_values.json")
def reverse_kl(q, parts):
    """KL(q‖p) for q = (mean, cov) and p = [(weight, mean, cov)]."""
    lq, lp = log_gauss(*q), log_mix(parts)
    return expect(q, lambda x, y: lq(x, y) - lp(x, y), [(m, c) for _, m, c in parts])


@cached("reference2d_values.json")
def forward_kl(parts, q):
    """KL(p‖q) = Σ_k w_k E_{g_k}[log p − log q]."""
    lq, lp = log_gauss(*q), log_mix(parts)
    total = sum(w for w, _, _ in parts)
    gs = [(m, c) for _, m, c in parts] + [q]
    return math.fsum(w / total * expect((m, c), lambda x, y: lp(x, y) - lq(x, y), gs)
                     for w, m, c in parts if w > 0)
