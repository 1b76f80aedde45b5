"""Fit a Gaussian q = N(μ, σ²) to a target p by minimising KL(p‖q) or KL(q‖p) numerically.

Both objectives are minimised over θ = (μ, log σ) by ``scipy.optimize.minimize`` with exact
gradients and Hessians (trust-region Newton, which also escapes saddles):

* forward, KL(p‖q) = H(p, q) − H(p): H(p, q) is exact from p's mean and variance, so the optimum
  is moment matching — the optimiser finds it, the tests check it against the closed form;
* reverse, KL(q‖p) = −H(q) − E_q[log p]: the expectation is taken by quadrature on panels around
  q and p, and its derivatives by reparameterisation x = μ + σz, using p's closed-form score.

Reverse KL has one local optimum per mode it can lock onto; :func:`fit_gaussian` starts from every
component, the moment-matched Gaussian and the gaps between components, keeps the points that are
true local minima (gradient ~0, Hessian positive definite), merges duplicates and sorts by KL.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize

from explorer.distributions import (
    LOG_2PI,
    MAX_ABS_LOCATION,
    MAX_SCALE,
    MIN_SCALE,
    Mixture,
    Normal,
    as_mixture,
)
from explorer.divergences import kl_divergence, why_infinite

DIRECTIONS = ("forward", "reverse")
# q's panels for the reverse objective stop at 12 sd: q < e^-72 beyond, which leaves far less than
# 1e-16 of even q·log p with log p quadratic.  (Reported KL values use the full rule.)
# explorer.landscape evaluates reverse KL on grids with the same panels and rule.
Q_OFFSETS = Normal(0.0, 1.0).breakpoints
Q_OFFSETS = Q_OFFSETS[np.abs(Q_OFFSETS) <= 12.0]
# The objective only steers the optimiser (to ~1e-12 relative with 6 points a panel); the KL a Fit
# reports is recomputed with the full rule of explorer.divergences.
LEAN_T, LEAN_W = np.polynomial.legendre.leggauss(6)
# A point is a local minimum when the scaled gradient (σ·∂/∂μ, ∂/∂log σ) is below GRAD_TOL and the
# scaled Hessian is positive definite; two minima closer than MERGE_TOL (in μ/σ and log σ) are one.
GRAD_TOL = 1e-6
MERGE_TOL = 1e-4


class NoFiniteFitError(ValueError):
    """No Gaussian has a finite KL to this target in this direction (heavy tails)."""


@dataclass(frozen=True)
class Fit:
    """A fitted Gaussian: ``q``, its KL in the fitted direction (nats), and the optimiser's path.

    ``local_optima`` (reverse fits) lists every distinct local optimum found, best first.
    ``grad_norm`` is the scaled gradient at ``q``; ``is_minimum`` says the Hessian there is
    positive definite.
    """

    q: Normal
    kl: float
    direction: str
    path: list[Normal] = field(default_factory=list)
    start: Normal | None = None
    iterations: int = 0
    grad_norm: float = math.nan
    is_minimum: bool = False
    local_optima: tuple[Fit, ...] = ()


# --- objectives over θ = (μ, log σ), for K points at once: θ has shape (K, 2) -----------------
def forward_objective(p: Mixture, theta: np.ndarray):
    """KL(p‖N(μ, σ²)) with gradient (K, 2) and Hessian (K, 2, 2) in (μ, log σ), exactly from
    p's mean and variance (which must be finite)."""
    mu, s = theta[:, 0], theta[:, 1]
    ivar = np.exp(-2.0 * s)
    d = p.mean - mu
    m2 = p.variance + d * d
    f = s + 0.5 * LOG_2PI + 0.5 * m2 * ivar - p.entropy
    g = np.empty((len(theta), 2))
    g[:, 0], g[:, 1] = -d * ivar, 1.0 - m2 * ivar
    h = np.empty((len(theta), 2, 2))
    h[:, 0, 0], h[:, 1, 1] = ivar, 2.0 * m2 * ivar
    h[:, 0, 1] = h[:, 1, 0] = 2.0 * d * ivar
    return f, g, h


def reverse_objective(p: Mixture, theta: np.ndarray):
    """KL(N(μ, σ²)‖p) with gradient (K, 2) and Hessian (K, 2, 2) in (μ, log σ).

    With x = μ + σz:  ∂/∂μ = −E_q[(log p)'],  ∂/∂log σ = −1 − E_q[(x−μ)(log p)'], and the
    Hessian takes E_q of (log p)'' likewise; kinks of log p (Laplace) add their point masses.
    The K points' quadrature nodes are evaluated in one vectorised pass.
    """
    mu, s = theta[:, :1], theta[:, 1:]  # (K, 1) columns
    sigma = np.exp(s)
    q_edges = mu + sigma * Q_OFFSETS
    # p's edges inside each q's range, padded to a fixed-size row with q's right end (empty panels
    # of zero weight), so all K rows are sorted and used as one array.  Only the edges inside are
    # taken: p's full list (a t or Laplace ladder runs far beyond q) would be mostly empty panels.
    b = p.log_breakpoints
    lo, hi = q_edges[:, 0], q_edges[:, -1]
    first = np.searchsorted(b, lo, side="right")
    count = np.searchsorted(b, hi, side="left") - first
    j = np.arange(int(count.max()) if b.size else 0)
    picked = b[np.minimum(first[:, None] + j, max(b.size - 1, 0))] if b.size else j[None, :]
    extra = np.where(j < count[:, None], picked, hi[:, None])
    edges = np.sort(np.concatenate([q_edges, extra], axis=1), axis=1)
    half = 0.5 * np.diff(edges, axis=1)[:, :, None]
    mid = 0.5 * (edges[:, 1:] + edges[:, :-1])[:, :, None]
    k = len(theta)
    x = (mid + half * LEAN_T).reshape(k, -1)
    w = (half * LEAN_W).reshape(k, -1)
    u = x - mu
    logq = -0.5 * (u / sigma) ** 2 - s - 0.5 * LOG_2PI
    wq = w * np.exp(logq)
    lp, d1, d2 = (a.reshape(k, -1) for a in p.log_derivs(x.ravel()))
    f = (wq * (logq - lp)).sum(axis=1)
    wd1, wd2 = wq * d1, wq * d2
    e_d1, e_ud1 = wd1.sum(axis=1), (u * wd1).sum(axis=1)
    e_d2, e_ud2, e_uud2 = wd2.sum(axis=1), (u * wd2).sum(axis=1), (u * u * wd2).sum(axis=1)
    mu, s, sigma = mu[:, 0], s[:, 0], sigma[:, 0]
    for x0, mass in p.d2_atoms():
        qx = np.exp(-0.5 * ((x0 - mu) / sigma) ** 2 - s - 0.5 * LOG_2PI) * mass
        e_d2 = e_d2 + qx
        e_ud2 = e_ud2 + qx * (x0 - mu)
        e_uud2 = e_uud2 + qx * (x0 - mu) ** 2
    g = np.empty((k, 2))
    g[:, 0], g[:, 1] = -e_d1, -1.0 - e_ud1
    h = np.empty((k, 2, 2))
    h[:, 0, 0], h[:, 1, 1] = -e_d2, -e_ud1 - e_uud2
    h[:, 0, 1] = h[:, 1, 0] = -e_ud2
    return f, g, h


_OBJECTIVES = {"forward": forward_objective, "reverse": reverse_objective}


class _Memo:
    """Evaluates an objective once per point for scipy's separate fun / jac / hess calls."""

    def __init__(self, objective):
        self.objective = objective
        self.key, self.value = None, None

    def __call__(self, v):
        key = np.asarray(v, dtype=float).tobytes()
        if key != self.key:
            self.key, self.value = key, self.objective(np.array(v, dtype=float))
        return self.value

    def fun(self, v):
        return self(v)[0]

    def jac(self, v):
        return self(v)[1]

    def hess(self, v):
        return self(v)[2]


def _certify(theta: np.ndarray, g: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scaled gradient norms and positive-definiteness, per point, in (μ/σ, log σ)."""
    d = np.stack([np.exp(theta[:, 1]), np.ones(len(theta))], axis=1)
    gs = g * d
    hs = h * d[:, :, None] * d[:, None, :]
    eig = np.linalg.eigvalsh(hs)
    return np.hypot(gs[:, 0], gs[:, 1]), eig[:, 0] > 1e-9 * np.maximum(1.0, np.abs(eig[:, 1]))


def _run(p: Mixture, direction: str, theta0: np.ndarray, gtol: float, maxiter: int = 200):
    """Newton trust-region descent from K points θ0 (K, 2) at once.

    The K independent problems are one problem in 2K variables (the sum of their objectives,
    block-diagonal Hessian), so one ``scipy.optimize.minimize`` call and one vectorised
    evaluation per step serve all starts.  Each point has coordinates scaled to it,
    t = (μ − μ0)/σ0 and r = log(σ/σ0), so one unit is one start-sd whatever the target's scale;
    ``gtol`` bounds each point's gradient in those units.  Returns the end points, the visited
    points (a list of (K, 2) arrays, θ0 itself first) and the objective there (f, g, h).
    """
    objective = _OBJECTIVES[direction]
    k = len(theta0)
    scale = np.stack([np.exp(theta0[:, 1]), np.ones(k)], axis=1)

    last = {}  # the unscaled values at the last point evaluated, reused at the end point

    def joint(v):
        theta = theta0 + scale * v.reshape(k, 2)
        f, g, h = objective(p, theta)
        last.update(theta=theta, fgh=(f, g, h))
        return float(f.sum()), (g * scale).ravel(), h * scale[:, :, None] * scale[:, None, :]

    memo = _Memo(joint)
    visited = [theta0]

    rows = np.arange(2 * k)
    block = rows[:, None] // 2 == rows[None, :] // 2

    def hess(v):  # the block-diagonal Hessian as a dense (2K, 2K) matrix (cheaper than a hessp)
        full = np.zeros((2 * k, 2 * k))
        full[block] = memo.hess(v).ravel()
        return full

    def record(vk):
        visited.append(theta0 + scale * np.asarray(vk, dtype=float).reshape(k, 2))

    res = minimize(memo.fun, np.zeros(2 * k), jac=memo.jac, hess=hess, method="trust-ncg",
                   callback=record, options={"gtol": gtol * math.sqrt(k), "maxiter": maxiter,
                                             "initial_trust_radius": math.sqrt(k)})
    theta = theta0 + scale * np.asarray(res.x, dtype=float).reshape(k, 2)
    if "theta" in last and np.array_equal(last["theta"], theta):
        return theta, visited, last["fgh"]
    return theta, visited, objective(p, theta)


def _make_fit(direction: str, start: Normal, thetas: np.ndarray, f: float, grad_norm: float,
              positive: bool, with_path: bool = True) -> Fit:
    """A Fit from the points one start visited, (n, 2): θ of the start first, the end point
    last (repeats, where the optimiser rejected a step, are dropped).  ``path[0]`` is exactly the
    start.  Without ``with_path`` the path is left empty, for :func:`_with_path` to fill in."""
    moved = np.any(thetas[1:] != thetas[:-1], axis=1)
    theta = thetas[-1]
    return Fit(q=_normal(theta) if moved.any() else start, kl=max(float(f), 0.0),
               direction=direction, path=_path(start, thetas) if with_path else [], start=start,
               iterations=int(moved.sum()), grad_norm=float(grad_norm),
               is_minimum=bool(positive and grad_norm < GRAD_TOL and _in_range(theta)))


def _path(start: Normal, thetas: np.ndarray) -> list[Normal]:
    moved = np.any(thetas[1:] != thetas[:-1], axis=1)
    return [start] + [_normal(t) for t in thetas[1:][moved]]


def _with_path(fit: Fit, thetas: np.ndarray) -> Fit:
    return Fit(**{**fit.__dict__, "path": _path(fit.start, thetas)})


def _theta(starts: list[Normal]) -> np.ndarray:
    return np.array([[st.mean, math.log(st.std)] for st in starts])


def _descend(p: Mixture, direction: str, starts: list[Normal],
             with_paths: bool = True) -> tuple[list[Fit], list[np.ndarray]]:
    """Newton trust-region descent from every start at once, to full precision: the Fits and,
    per start, the points it visited (for :func:`_with_path` when ``with_paths`` is off)."""
    theta, visited, (f, g, h) = _run(p, direction, _theta(starts), 1e-8)
    grad_norm, positive = _certify(theta, g, h)
    stacks = np.concatenate([np.stack(visited, axis=1), theta[:, None, :]], axis=1)
    return [_make_fit(direction, start, stacks[i], f[i], grad_norm[i], positive[i], with_paths)
            for i, start in enumerate(starts)], list(stacks)


def _forward(p: Mixture, start: Normal) -> Fit:
    """Forward descent from ``start``, finished by exact Newton steps on the closed-form objective.

    trust-ncg stops at a gradient small in the start's units, which for a start much narrower
    than the fit leaves the mean ~1e-7 σ off; Newton steps (kept only while they lower the
    objective) then converge quadratically to ~1e-15, and are appended to the path.
    """
    theta, visited, (f, g, h) = _run(p, "forward", _theta([start]), 1e-4)
    thetas = [v[0] for v in visited] + [theta[0]]
    for _ in range(_FORWARD_NEWTON_STEPS):
        try:
            step = np.linalg.solve(h[0], g[0])
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)) or np.linalg.eigvalsh(h[0])[0] <= 0:
            break
        trial = theta - step
        ft, gt, ht = forward_objective(p, trial)
        if np.array_equal(trial, theta):
            break
        # next to the optimum KL changes by ~step², below its rounding: a smaller gradient decides
        small = abs(step[0]) < 1e-3 * math.exp(theta[0, 1]) and abs(step[1]) < 1e-3
        lower = ft[0] < f[0] or (small and ft[0] <= f[0] + 1e-13 * (1.0 + abs(f[0]))
                                 and _certify(trial, gt, ht)[0][0] < _certify(theta, g, h)[0][0])
        if not lower:
            break
        theta, f, g, h = trial, ft, gt, ht
        thetas.append(theta[0])
    grad_norm, positive = _certify(theta, g, h)
    return _make_fit("forward", start, np.array(thetas), f[0], grad_norm[0], positive[0])


_FORWARD_NEWTON_STEPS = 4


def _in_range(theta) -> bool:
    return (abs(theta[0]) <= MAX_ABS_LOCATION
            and math.log(MIN_SCALE) <= theta[1] <= math.log(MAX_SCALE))


def _normal(theta) -> Normal:
    """N(μ, e^s) for a point the optimiser visited; outside the allowed ranges (possible only on
    the way to a failed fit, which is then not reported as a minimum) it is clipped to them."""
    mu = min(max(float(theta[0]), -MAX_ABS_LOCATION), MAX_ABS_LOCATION)
    sd = min(max(math.exp(min(float(theta[1]), 700.0)), MIN_SCALE), MAX_SCALE)
    return Normal(mu, sd)


def _default_start(p: Mixture) -> Normal:
    """The heaviest component's location and scale (where a user would start by hand)."""
    i = int(np.argmax(p.weights))
    c = p.components[i]
    return Normal(c.loc, c.scale)


def reverse_starts(p: Mixture) -> list[Normal]:
    """Starting points of the reverse multi-start: the moment-matched Gaussian of every run of
    neighbouring components (sorted by location) — each component alone, each adjacent pair, …,
    all of them — so a start sits near every optimum that covers one or several modes."""
    parts = sorted(((c, w) for w, c in zip(p.weights, p.components, strict=True) if w > 0),
                   key=lambda cw: cw[0].loc)
    starts: list[Normal] = []
    for size in range(1, len(parts) + 1):
        for i in range(len(parts) - size + 1):
            run = parts[i:i + size]
            start = (Normal(run[0][0].loc, run[0][0].scale) if size == 1
                     else _moment_match([c for c, _ in run], [w for _, w in run]))
            if not any(_same(start, s, 0.05) for s in starts):
                starts.append(start)
    return starts


def _moment_match(comps, weights) -> Normal:
    """The Gaussian with the run's mean and variance (scale² standing in for an infinite one)."""
    total = math.fsum(weights)
    w = [x / total for x in weights]
    mean = math.fsum(wi * c.loc for wi, c in zip(w, comps, strict=True))
    var = math.fsum(wi * ((c.variance if math.isfinite(c.variance) else c.scale**2)
                          + (c.loc - mean) ** 2) for wi, c in zip(w, comps, strict=True))
    return Normal(mean, math.sqrt(var))


def _same(a: Normal, b: Normal, tol: float = MERGE_TOL) -> bool:
    scale = math.sqrt(a.std * b.std)
    return abs(a.mean - b.mean) <= tol * scale and abs(math.log(a.std / b.std)) <= tol


def _distinct_optima(fits: list[Fit]) -> list[Fit]:
    kept: list[Fit] = []
    for fit in sorted((f for f in fits if f.is_minimum), key=lambda f: f.kl):
        if not any(_same(fit.q, k.q) for k in kept):
            kept.append(fit)
    return kept


def fit_gaussian(p, direction: str = "reverse", init: Normal | None = None) -> Fit:
    """Fit N(μ, σ²) to ``p`` by minimising KL(p‖q) ("forward") or KL(q‖p) ("reverse").

    Forward: a descent from ``init`` (default: the heaviest component) to the unique optimum.
    Reverse without ``init``: the best of all distinct local optima, with ``local_optima`` listing
    them best first.  Reverse with ``init``: the local optimum reached from that start.
    Raises :class:`NoFiniteFitError` when every Gaussian has infinite KL (forward, ν ≤ 2).
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    if init is not None and not isinstance(init, Normal):
        raise ValueError(f"init must be a Normal, got {type(init).__name__}")
    pm = as_mixture(p)
    if direction == "forward":
        reason = why_infinite(pm, Normal(0.0, 1.0))
        if reason:
            raise NoFiniteFitError(f"forward KL has no finite Gaussian fit: {reason}")
        fit = _forward(pm, init or _default_start(pm))
        return _with_optima(fit, (fit,))
    if init is not None:
        fit = _escape_saddle(pm, _descend(pm, "reverse", [init])[0][0])
        fit = _exact_kl(pm, fit)
        return _with_optima(fit, (fit,) if fit.is_minimum else ())
    fits, visited = _descend(pm, "reverse", reverse_starts(pm), with_paths=False)
    index = {id(f): i for i, f in enumerate(fits)}  # paths are built only for the fits reported
    optima = [_exact_kl(pm, _with_path(f, visited[index[id(f)]])) for f in _distinct_optima(fits)]
    if not optima:  # no start certified a minimum: report the best point reached, honestly
        best = min(fits, key=lambda f: f.kl)
        return _exact_kl(pm, _with_path(best, visited[index[id(best)]]))
    optima.sort(key=_rank)
    return _with_optima(optima[0], tuple(optima))


def _rank(fit: Fit) -> tuple[float, float]:
    """Best first; optima whose KL agree to 12 digits (mirror images of a symmetric target) are
    ties, ordered by mean, so the order never depends on rounding noise."""
    return float(f"{fit.kl:.12g}"), fit.q.mean


def _escape_saddle(p: Mixture, fit: Fit) -> Fit:
    """A descent that stopped on a saddle (a symmetric start has exactly zero gradient across the
    symmetry) is restarted a little way down the direction of negative curvature."""
    if fit.is_minimum or fit.grad_norm >= GRAD_TOL:
        return fit
    theta = np.array([[fit.q.mean, math.log(fit.q.std)]])
    _, _, h = reverse_objective(p, theta)
    d = np.array([fit.q.std, 1.0])
    vals, vecs = np.linalg.eigh(h[0] * np.outer(d, d))
    if vals[0] >= 0:
        return fit
    step = 0.05 * vecs[:, 0] * d
    (after,), _ = _descend(p, "reverse", [_normal(theta[0] + step)])
    return Fit(**{**after.__dict__, "path": fit.path + after.path, "start": fit.start,
                  "iterations": fit.iterations + after.iterations})


def _exact_kl(p: Mixture, fit: Fit) -> Fit:
    """The fit with its KL recomputed by the full quadrature rule of explorer.divergences."""
    return Fit(**{**fit.__dict__, "kl": kl_divergence(fit.q, p)})


def _with_optima(fit: Fit, optima: tuple[Fit, ...]) -> Fit:
    return Fit(**{**fit.__dict__, "local_optima": optima})
