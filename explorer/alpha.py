"""Minka's α-divergence D_α(p‖q) = ∫[α p + (1−α) q − p^α q^{1−α}] / (α(1−α)), and its Gaussian fits.

D_α → KL(q‖p) as α → 0 and KL(p‖q) as α → 1; D_½ = 4·Hellinger², D_2 = ½χ²(p‖q).

* Pointwise, with t = log p − log q, the integrand is q·φ_α(t), φ_α(t) = [α·expm1(t) −
  expm1(αt)]/(α(1−α)) = Σ_{n≥2} (1 + α + … + α^{n−2}) tⁿ/n!: the series where |t| ≤ ½ (no
  cancellation at any α), the expm1 form elsewhere, with q·e^{αt} taken as e^{α log p + (1−α) log
  q} (never overflows).  For α > ½ the roles are swapped (D_α(p‖q) = D_{1−α}(q‖p)), so the
  expm1 form never divides by a small 1−α.
* Infinite integrals are decided in closed form from the tails (:mod:`explorer.alpha_tails`).
* For a Gaussian q the integral is taken on q's panels, p's log-breakpoints and edges where
  r = p^α q^{1−α} lives (per component, in closed form: r's mass moves off and widens near the
  boundary of the finite region), plus p's mass outside that range, which contributes P_out/(1−α)
  (q and r are negligible there).  The same rule (:func:`alpha_objective`) is what the fitter
  minimises, with gradient −(1/α)∫(r−q)∂log q and the Hessian of the module's notes.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from explorer.alpha_tails import (  # noqa: F401  (re-exported: explorer.alpha is the API)
    check_alpha,
    sigma_bounds,
    tail,
    why_infinite_alpha,
)
from explorer.distributions import LOG_2PI, Laplace, Mixture, Normal, StudentT, as_mixture
from explorer.objectives import Q_OFFSETS, forward_objective, reverse_nodes, reverse_objective
from explorer.quadrature import nodes

_R_SIDE = np.array([0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 13.0])
R_OFFSETS = np.concatenate([-_R_SIDE[::-1], [0.0], _R_SIDE])
_LADDER = np.arange(2.0, 46.0, 2.0)
_SERIES_T = 0.5
# --- the pointwise integrand ------------------------------------------------------------------
def _series(t: np.ndarray, a: float) -> np.ndarray:
    """Σ_{n≥2} (1 + a + … + a^{n−2}) tⁿ/n! for |t| ≤ ½, to below 1e-18 of its first term."""
    big = max(abs(a), 1.0) * _SERIES_T
    terms, bound = 2, 2.0
    while bound > 1e-19 and terms < 80:
        terms += 1
        bound *= big / terms
    power = t * t / 2.0
    coef = 1.0
    out = power.copy()
    for n in range(3, terms + 1):
        power = power * t / n
        coef = 1.0 + a * coef
        out += coef * power
    return out


_TINY_ALPHA = 1e-8  # below, pointwise takes the 1/α inside (its terms would be subnormal)


def pointwise(lp: np.ndarray, lq: np.ndarray, alpha: float,
              t: np.ndarray | None = None) -> np.ndarray:
    """[α p + (1−α) q − p^α q^{1−α}] / (α(1−α)) from log p and log q, stable at every α (α = 0
    and 1 give the KL integrands q·(expm1(t) − t) and p·(expm1(−t) + t)).  ``t``: log p − log q
    where the caller has it more accurately than the difference of the two logs."""
    a = alpha
    lw, lo = (lq, lp) if a <= 0.5 else (lp, lq)
    if t is None:
        t = lo - lw
    elif a > 0.5:
        t = -t
    if a > 0.5:
        a = 1.0 - a
    out = np.empty_like(t)
    small = np.abs(t) <= _SERIES_T
    out[small] = np.exp(lw[small]) * _series(t[small], a)
    big = ~small
    tb, lwb, lob = t[big], lw[big], lo[big]
    wb = np.exp(lwb)
    with np.errstate(over="ignore", invalid="ignore"):
        diff = np.where(tb <= 1.0, wb * np.expm1(np.minimum(tb, 1.0)), np.exp(lob) - wb)
        if a == 0.0:
            out[big] = diff - wb * tb
        elif abs(a) < _TINY_ALPHA:  # a·diff, w·expm1(a·t) would be subnormal (α = 5e-324):
            # the 1/α taken inside, w·expm1(a·t)/a = w·t·(1 + a·t/2 + …) (|a·t| < 1e-5 here)
            at = a * tb
            out[big] = (diff - wb * tb * (1.0 + at * (0.5 + at / 6.0))) / (1.0 - a)
        else:
            at = a * tb
            rdiff = np.where(at <= 1.0, wb * np.expm1(np.minimum(at, 1.0)),
                             np.exp(lwb + at) - wb)
            out[big] = (a * diff - rdiff) / (a * (1.0 - a))
    return out


# --- quadrature for a Gaussian q --------------------------------------------------------------
def _r_edges(p: Mixture, mu: np.ndarray, sigma: np.ndarray, a: float) -> np.ndarray:
    """(K, m) edges where r = p^α q^{1−α} has its mass, per component of p in closed form (a
    Normal's r is a Gaussian of precision α/s² + (1−α)/σ²; a Laplace's two shifted Gaussians; a
    t is taken as the Normal of its curvature at the centre), and for 0 < α < 1 where q^{1−α}
    (width σ/√(1−α)) ends; a Normal component's own edges too (where p ≫ q the integrand is
    ≈ p/(1−α)); for α outside [0, 1], where a Normal's piece is nearly flat, the ladder of its
    exponential decay (:func:`_decay_ladder`); NaN where there is none."""
    pairs = []  # (centre, sd) per Gaussian piece of r
    ladders = []
    iv = 1.0 / sigma**2
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for _, c in p._active:
            if isinstance(c, Laplace):
                if a < 1.0:
                    sd = sigma / math.sqrt(1.0 - a)
                    shift = a * sigma**2 / ((1.0 - a) * c.scale)
                    pairs += [(mu - shift, sd), (mu + shift, sd)]
                continue
            s2 = c.scale**2 * (c.df / (c.df + 1.0) if isinstance(c, StudentT) else 1.0)
            prec = a / s2 + (1.0 - a) * iv
            centre = (a * c.loc / s2 + (1.0 - a) * mu * iv) / prec
            pairs.append((centre, np.where(prec > 0, 1.0 / np.sqrt(np.abs(prec)), np.nan)))
            if isinstance(c, Normal):  # p's own mass (the α p term), where p ≫ q
                pairs.append((np.full_like(mu, c.loc), np.full_like(mu, c.scale)))
                if not 0.0 <= a <= 1.0:
                    ladders.append(_decay_ladder(c.loc, prec, (1.0 - a) * (mu - c.loc) * iv))
        if 0.5 < a < 1.0:
            pairs.append((mu, sigma / math.sqrt(1.0 - a)))
        out = np.concatenate([np.empty((len(mu), 0))] + [
            centre[:, None] + sd[:, None] * R_OFFSETS for centre, sd in pairs] + ladders, axis=1)
    out[~np.isfinite(out)] = np.nan
    return out


def _decay_ladder(m: float, prec: np.ndarray, slope: np.ndarray) -> np.ndarray:
    """(K, 22) edges every 2 decay lengths, up to 44, from a Normal component's location m into
    the side where its piece of r decays, for rows where that piece is nearly flat (α < 0 or
    α > 1 near the edge of the finite region: precision → 0): log r there is ≈ slope·(x − m)
    over more than 16 decay lengths 1/|slope| (slope²/prec > 16), where the Gaussian's own
    edges, 0.5–3 of its (huge) sds apart, are far too coarse (|prec|: at the exact edge it is
    0 up to rounding).  NaN elsewhere."""
    with np.errstate(divide="ignore", invalid="ignore"):
        step = -1.0 / slope
        flat = (slope * slope > 16.0 * np.abs(prec)) & np.isfinite(step)
    return np.where(flat[:, None], m + step[:, None] * _LADDER, np.nan)


def _mass_outside(p: Mixture, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """p's mass below lo plus above hi, per row, from the components' closed-form CDFs."""
    out = np.zeros(len(lo))
    for lw, c in p._active:
        zl, zh = (lo - c.loc) / c.scale, (hi - c.loc) / c.scale
        if isinstance(c, Normal):
            m = special.ndtr(zl) + special.ndtr(-zh)
        elif isinstance(c, Laplace):
            m = 0.5 * np.exp(-np.abs(zl)) * (zl < 0) + 0.5 * np.exp(-np.abs(zh)) * (zh > 0)
            m += (1.0 - 0.5 * np.exp(-np.abs(zl))) * (zl >= 0)
            m += (1.0 - 0.5 * np.exp(-np.abs(zh))) * (zh <= 0)
        else:
            m = special.stdtr(c.df, zl) + special.stdtr(c.df, -zh)
        out += math.exp(lw) * m
    return out


def alpha_objective(p: Mixture, theta: np.ndarray, alpha: float, derivatives: bool = True):
    """D_α(p‖N(μ, σ²)) with gradient (K, 2) and Hessian (K, 2, 2) in θ = (μ, log σ) (None, None
    without ``derivatives``).  α = 0 and 1 are the reverse and forward KL objectives."""
    a = check_alpha(alpha)
    if a == 0.0:
        return reverse_objective(p, theta, derivatives=derivatives)
    if a == 1.0:
        f, g, h = forward_objective(p, theta)
        return (f, g, h) if derivatives else (f, None, None)
    k = len(theta)
    mu, s = theta[:, 0], theta[:, 1]
    sigma = np.exp(s)
    extra = _r_edges(p, mu, sigma, a)
    with np.errstate(invalid="ignore"):
        lo = np.fmin(np.nanmin(extra, axis=1, initial=np.inf), mu + Q_OFFSETS[0] * sigma)
        hi = np.fmax(np.nanmax(extra, axis=1, initial=-np.inf), mu + Q_OFFSETS[-1] * sigma)
    x, w, row = reverse_nodes(p, mu, sigma, extra=extra, lo=lo, hi=hi)
    keep = w > 0  # not the rows' padding (empty panels, a quarter of the nodes): they add 0
    x, w, row = x[keep], w[keep], row[keep]
    z = (x - mu[row]) / sigma[row]
    lq = -0.5 * z * z - s[row] - 0.5 * LOG_2PI
    lp = p.logpdf(x)
    with np.errstate(invalid="ignore", over="ignore"):
        f = np.bincount(row, weights=w * pointwise(lp, lq, a), minlength=k)
        f += _mass_outside(p, lo, hi) / (1.0 - a)
    # beyond float range (r = p^α q^{1−α} ≫ e^709 somewhere: finite in principle, astronomically
    # large): +inf, which no descent accepts, with a Hessian that certifies nothing
    huge = ~np.isfinite(f)
    f[huge] = np.inf
    if not derivatives:
        return f, None, None
    t = lp - lq
    at = a * t
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.where(at <= 1.0, np.exp(lq) * np.expm1(np.minimum(at, 1.0)),
                     np.exp(lq + at) - np.exp(lq)) / a  # (r − q)/α
        we = w * e
        z2 = z * z
        starts = np.searchsorted(row, np.arange(k))
        e0, e1, e2, e3, e4 = np.add.reduceat(np.stack([we, we * z, we * z2, we * z2 * z,
                                                       we * z2 * z2]), starts, axis=1)
        g = np.empty((k, 2))
        g[:, 0], g[:, 1] = -e1 / sigma, -(e2 - e0)
        b = 1.0 - a
        h = np.empty((k, 2, 2))
        h[:, 0, 0] = (1.0 - b * e2 + e0) / sigma**2
        h[:, 0, 1] = h[:, 1, 0] = -(b * (e3 - e1) - 2.0 * e1) / sigma
        h[:, 1, 1] = 2.0 - b * (e4 - 2.0 * e2 + e0) + 2.0 * e2
    huge |= ~np.isfinite(g).all(axis=1) | ~np.isfinite(h).all(axis=(1, 2))
    f[huge], g[huge], h[huge] = np.inf, 0.0, -np.eye(2)
    return f, g, h


# --- the divergence ---------------------------------------------------------------------------
def alpha_divergence(p, q, alpha: float = 0.5, unit: str = "nats") -> float:
    """Minka's D_α(p‖q) (≥ 0, exactly 0 for p = q); ``math.inf`` where it is infinite (see
    :func:`why_infinite_alpha`).  α = 0 is KL(q‖p) and α = 1 is KL(p‖q), by
    :func:`explorer.divergences.kl_divergence`.  For a Gaussian q the value is the rule the
    α fit minimises."""
    from explorer.divergences import UNITS, kl_divergence

    a = check_alpha(alpha)
    factor = UNITS.get(unit)
    if factor is None:
        raise ValueError(f"unit must be one of {sorted(UNITS)}, got {unit!r}")
    if a == 0.0:
        return kl_divergence(q, p, unit)
    if a == 1.0:
        return kl_divergence(p, q, unit)
    if why_infinite_alpha(p, q, a):
        return math.inf
    pm, qm = as_mixture(p), as_mixture(q)
    if pm == qm:
        return 0.0
    c, pc = pm.centred
    (_, only), = pc._active if len(pc._active) == 1 else ((None, None),)
    if isinstance(q, Normal) and isinstance(only, Normal):
        value = _two_normals(only, Normal(q.mean - c, q.std), a)
    elif isinstance(q, Normal):
        theta = np.array([[q.mean - c, math.log(q.std)]])
        value = float(alpha_objective(pc, theta, a, derivatives=False)[0][0])
    else:
        qc = qm.shifted(c) if c else qm
        extra = [np.array([])]
        for _, comp in qc._active:
            if isinstance(comp, Normal):
                e = _r_edges(pc, np.array([comp.mean]), np.array([comp.std]), a)[0]
                extra.append(e[np.isfinite(e)])
        x, w = nodes(np.unique(np.concatenate([pc.breakpoints, qc.breakpoints, *extra])))
        value = float(np.dot(w, pointwise(pc.logpdf(x), qc.logpdf(x), a)))
    return max(value, 0.0) * factor


def _two_normals(p: Normal, q: Normal, a: float) -> float:
    """D_α(p‖q) for two Normals, on both one's panels and r's, with log p − log q formed
    without cancellation: −½(z_p − z_q)(z_p + z_q) − log(s_p/s_q), z_p − z_q from the
    differences of the parameters (exact when they are close).  Subtracting the two logs would
    leave an absolute error of ~1e-16 in a t of ~1e-12 where p and q nearly coincide."""
    e = _r_edges(as_mixture(p), np.array([q.mean]), np.array([q.std]), a)[0]
    x, w = nodes(np.unique(np.concatenate([p.breakpoints, q.breakpoints, e[np.isfinite(e)]])))
    zp, zq = (x - p.mean) / p.std, (x - q.mean) / q.std
    dz = ((x - p.mean) * (q.std - p.std) + p.std * (q.mean - p.mean)) / (p.std * q.std)
    t = -0.5 * dz * (zp + zq) - math.log1p((p.std - q.std) / q.std)
    lp, lq = p.logpdf(x), q.logpdf(x)
    return float(np.dot(w, pointwise(lp, lq, a, t)))


# --- the Gaussian fit -------------------------------------------------------------------------
def log_sigma_bounds(p: Mixture, alpha: float) -> tuple[float, float]:
    """Open bounds on log σ of a finite D_α (raises NoFiniteFitError where there are none)."""
    from explorer.fitting import NoFiniteFitError

    bounds = sigma_bounds(p, alpha)
    if bounds is None:
        reason = why_infinite_alpha(p, Normal(0.0, 1.0), alpha)
        raise NoFiniteFitError(f"D_α has no finite Gaussian fit: {reason}")
    with np.errstate(divide="ignore"):
        return float(np.log(bounds[0])), float(np.log(bounds[1]))


def alpha_descent(pc: Mixture, alpha: float, theta0: np.ndarray):
    """Descents on D_α(pc‖q) from θ0 (centred), starts moved into the finite region, steps
    outside it refused and minima outside it never certified."""
    from explorer.fitting import _allowed, _unit_lengths
    from explorer.newton import descend

    lo, hi = log_sigma_bounds(pc, alpha)
    margin = math.log(1.25)
    theta0 = np.array(theta0, dtype=float)
    theta0[:, 1] = np.clip(theta0[:, 1], lo + margin, hi - margin)

    def inside(theta):
        return _allowed(theta) & (theta[:, 1] > lo) & (theta[:, 1] < hi)

    run = descend(steered_objective(pc, alpha), theta0, _unit_lengths, inside)
    return unsteer(run, alpha)


def _steered(alpha: float) -> bool:
    return alpha < 0.0 or alpha > 1.0


def steered_objective(pc: Mixture, alpha: float):
    """What the descents minimise: D_α itself for 0 ≤ α ≤ 1, where it is at most 1/(α(1−α));
    log(1 + D_α) outside, where D_α grows like the exponential of a quadratic (e^127 at a
    mode of a bimodal target at α = 2) and Newton on D_α itself crawls (0.2 of a unit a step,
    200 steps from a mode to the optimum).  Same minima, same Newton step at a stationary
    point, and its Hessian there is D_α's over 1 + D_α: the same certificate.  :func:`unsteer`
    turns a Descent's values back into D_α."""
    if not _steered(alpha):
        return lambda th: alpha_objective(pc, th, alpha)

    def fn(theta):
        f, g, h = alpha_objective(pc, theta, alpha)
        s = 1.0 + f
        ok = np.isfinite(s)
        g2, h2 = g.copy(), h.copy()
        g2[ok] = g[ok] / s[ok, None]
        h2[ok] = h[ok] / s[ok, None, None] - g2[ok, :, None] * g2[ok, None, :]
        return np.log1p(f), g2, h2

    return fn


def unsteer(run, alpha: float):
    """A Descent of :func:`steered_objective` with its values as D_α again."""
    if _steered(alpha):
        run.f = np.expm1(run.f)
    return run


def finite_starts(pc: Mixture, alpha: float, theta0: np.ndarray) -> np.ndarray:
    """Which starts have a D_α within float range (a descent cannot start from +inf)."""
    return np.isfinite(alpha_objective(pc, theta0, alpha, derivatives=False)[0])


def fit_alpha(p, alpha: float, init: Normal | None = None):
    """See :func:`explorer.fitting.fit_gaussian` with direction "alpha": every distinct
    certified local minimum of D_α(p‖q) over Gaussians q, best first (the Fit's ``kl`` is D_α)."""
    from dataclasses import replace

    from explorer.fitting import _distinct, _fit, _theta, _with_path, reverse_starts

    a = check_alpha(alpha)
    pm = as_mixture(p)
    c, pc = pm.centred
    starts = [init] if init is not None else reverse_starts(pm)
    lo, hi = log_sigma_bounds(pm, a)
    margin = math.log(1.25)
    starts = [Normal(st.mean, math.exp(min(max(math.log(st.std), lo + margin), hi - margin)))
              for st in starts]
    keep = finite_starts(pc, a, _theta(starts, c))
    starts = [st for st, k in zip(starts, keep, strict=True) if k] or starts[:1]
    run = alpha_descent(pc, a, _theta(starts, c))
    fits = [replace(_fit("alpha", run, i, st, c, with_path=False), alpha=a)
            for i, st in enumerate(starts)]
    certified = [f for f in fits if f.is_minimum]
    optima = [_with_path(f, run, fits.index(f), c) for f in _distinct(certified)]
    if not optima:
        best = min(fits, key=lambda f: f.kl)
        return _with_path(best, run, fits.index(best), c)
    return replace(optima[0], local_optima=tuple(optima))
