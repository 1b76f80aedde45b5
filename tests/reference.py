"""Independent high-precision references (mpmath, 40 digits) for densities and divergences.

The divergences' values are kept in ``reference_values.json`` (see :mod:`reference_cache`): a case
computed once is read back on later runs; delete the file to recompute them all.

Nothing here imports the code under test's numerics: densities are written out again from their
textbook formulas in mpmath, integrals are mpmath tanh-sinh quadrature split at each component's
centre and scale multiples and at every point where the log-density switches component (found here
by bisection in 40-digit arithmetic).
"""

from __future__ import annotations

import mpmath as mp
from reference_cache import cached

mp.mp.dps = 40

# A distribution is a list of (weight, family, loc, scale, df) tuples; df only for "t".


_store = cached("reference_values.json", encode=lambda v: mp.nstr(v, 45), decode=mp.mpf)


def spec(dist) -> list[tuple]:
    """The plain-tuple description of an explorer distribution (only reads its parameters)."""
    comps = getattr(dist, "components", None)
    if comps is None or not isinstance(comps, tuple) or comps == (dist,):
        comps, weights = (dist,), (1.0,)
    else:
        weights = dist.weights
    out = []
    for w, c in zip(weights, comps, strict=True):
        name = type(c).__name__
        if name == "Normal":
            out.append((w, "normal", c.mean, c.std, None))
        elif name == "StudentT":
            out.append((w, "t", c.loc, c.scale, c.df))
        elif name == "Laplace":
            out.append((w, "laplace", c.loc, c.scale, None))
    return [o for o in out if o[0] > 0]


def _comp_log(family, loc, scale, df, x):
    z = (x - mp.mpf(loc)) / mp.mpf(scale)
    if family == "normal":
        return -z * z / 2 - mp.log(scale) - mp.log(2 * mp.pi) / 2
    if family == "laplace":
        return -abs(z) - mp.log(2 * mp.mpf(scale))
    v = mp.mpf(df)
    return (mp.loggamma((v + 1) / 2) - mp.loggamma(v / 2) - mp.log(v * mp.pi) / 2
            - mp.log(scale) - (v + 1) / 2 * mp.log(1 + z * z / v))


def _weighted_logs(d, x):
    return [mp.log(mp.mpf(w)) + _comp_log(f, m, s, df, x) for (w, f, m, s, df) in d]


def logpdf(d, x):
    logs = _weighted_logs(d, mp.mpf(x))
    top = max(logs)
    return top + mp.log(mp.fsum(mp.exp(v - top) for v in logs))


def _reach(family):
    if family == "normal":
        return [0, 0.25, 0.5, 1, 1.5, 2, 3, 4, 5, 6, 8, 10, 13, 16, 20, 25, 30, 40]
    if family == "laplace":
        return [0, 0.5, 1, 2, 3, 5, 8, 12, 16, 24, 32, 48, 64, 100, 150, 250, 400, 760]
    return [0, 0.5, 1, 2, 4] + [8 * 2**k for k in range(0, 50)]


def _switches(d, lo, hi, n=4000):
    """Points in [lo, hi] where the dominant component of a mixture changes (bisection)."""
    if len(d) < 2:
        return []
    xs = [lo + (hi - lo) * mp.mpf(i) / n for i in range(n + 1)]
    pts = []

    def top(x):
        logs = _weighted_logs(d, x)
        return max(range(len(logs)), key=lambda i: logs[i])

    prev = top(xs[0])
    for a, b in zip(xs, xs[1:], strict=False):
        cur = top(b)
        if cur != prev:
            i, j = prev, cur
            left, right = a, b
            for _ in range(200):
                mid = (left + right) / 2
                li = _weighted_logs([d[i]], mid)[0]
                lj = _weighted_logs([d[j]], mid)[0]
                if li > lj:
                    left = mid
                else:
                    right = mid
            pts.append((left + right) / 2)
        prev = cur
    return pts


def _points(*dists):
    pts = set()
    for d in dists:
        for (_, f, m, s, _df) in d:
            for k in _reach(f):
                pts.add(mp.mpf(m) + k * mp.mpf(s))
                pts.add(mp.mpf(m) - k * mp.mpf(s))
    lo, hi = min(pts), max(pts)
    # a mixture's dominant component may switch far outside its own range, where another
    # distribution still has mass: search the span of every distribution involved
    everything = [c for d in dists for c in d]
    clo = min(mp.mpf(m) - 60 * mp.mpf(s) for (_, _f, m, s, _df) in everything)
    chi = max(mp.mpf(m) + 60 * mp.mpf(s) for (_, _f, m, s, _df) in everything)
    for d in dists:
        for x in _switches(d, clo, chi):
            for k in [0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1]:
                pts.add(x + k)
                pts.add(x - k)
    return sorted(p for p in pts if lo <= p <= hi)


def integrate(f, points):
    return mp.fsum(mp.quad(f, [a, b]) for a, b in zip(points, points[1:], strict=False))


@_store
def kl(p, q):
    """KL(p‖q) in nats as an mpf, integrated over p's range (p and q are tuple specs)."""
    pts = _points(p, q)
    p_lo = min(mp.mpf(m) - 40 * mp.mpf(s) * (1 if f == "normal" else 1e14)
               for (_, f, m, s, _df) in p)
    p_hi = max(mp.mpf(m) + 40 * mp.mpf(s) * (1 if f == "normal" else 1e14)
               for (_, f, m, s, _df) in p)
    pts = [x for x in pts if p_lo <= x <= p_hi]

    def integrand(x):
        lp = logpdf(p, x)
        return mp.exp(lp) * (lp - logpdf(q, x))

    return integrate(integrand, pts)


@_store
def entropy(p):
    pts = _points(p)

    def integrand(x):
        lp = logpdf(p, x)
        return -mp.exp(lp) * lp

    return integrate(integrand, pts)


@_store
def js(p, q):
    pts = _points(p, q, p + q)

    def integrand(x):
        lp, lq = logpdf(p, x), logpdf(q, x)
        lm = mp.log((mp.exp(lp) + mp.exp(lq)) / 2)
        return (mp.exp(lp) * (lp - lm) + mp.exp(lq) * (lq - lm)) / 2

    return integrate(integrand, pts)


@_store
def alpha_divergence(p, q, alpha):
    """Minka's D_α(p‖q) = ∫[α p + (1−α) q − p^α q^(1−α)] / (α(1−α)) as an mpf, for 0 < α ≠ 1 < …
    (finite cases only).  Besides p's and q's own points, the integral is split around where
    p^α q^(1−α) lives for each pair of Normal components: a Gaussian of precision
    α/s² + (1−α)/σ² (completing the square), ±40 of its sds."""
    a = mp.mpf(alpha)
    pts = set(_points(p, q))
    for (_, fp, mp_, sp, _d) in p:
        for (_, fq, mq, sq, _e) in q:
            if fp == fq == "normal":
                prec = a / mp.mpf(sp) ** 2 + (1 - a) / mp.mpf(sq) ** 2
                if prec > 0:
                    centre = (a * mp_ / mp.mpf(sp) ** 2 + (1 - a) * mq / mp.mpf(sq) ** 2) / prec
                    for k in _reach("normal"):
                        pts.add(centre + k / mp.sqrt(prec))
                        pts.add(centre - k / mp.sqrt(prec))
    pts = sorted(pts)

    def integrand(x):
        lp, lq = logpdf(p, x), logpdf(q, x)
        mixed = mp.exp(a * lp + (1 - a) * lq)
        return (a * mp.exp(lp) + (1 - a) * mp.exp(lq) - mixed) / (a * (1 - a))

    # beyond the last point: where two Gaussian tails have equal rates the integrand decays only
    # exponentially (α < 0 with q wider than p, or α > 1 with q narrower), so the tails go to ±∞
    return (integrate(integrand, pts) + mp.quad(integrand, [-mp.inf, pts[0]])
            + mp.quad(integrand, [pts[-1], mp.inf]))
