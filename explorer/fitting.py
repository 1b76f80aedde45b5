"""Fit a Gaussian q = N(μ, σ²) to a target p by minimising KL(p‖q) or KL(q‖p) numerically.

Both objectives (:mod:`explorer.objectives`) are minimised over θ = (μ, log σ) by a trust-region
Newton method written for this 2-parameter problem and vectorised over many starts at once: each
start takes its own step, from the exact gradient and Hessian in coordinates scaled to the current
q (μ/σ, log σ), with negative curvature turned into descent (so saddles are escaped) and a step
length bounded by its own trust radius.  Every start costs one vectorised evaluation per step
(scipy's general-purpose minimisers spent most of their time in call overhead around this tiny
problem, and one trust radius for all starts slowed every start to the slowest).

* forward: the optimum is moment matching; the descent finds it from any start and ends with
  Newton steps to full precision;
* reverse: one local optimum per mode or run of modes it can lock onto.  :func:`fit_gaussian`
  starts from every run of neighbouring components and keeps only certified minima: the Newton
  step there is below 1e-6 (in σ units: relative to the objective's own curvature, so a KL of
  thousands of nats is certified as readily as one of 0.01) and the Hessian is positive definite.

Fits are computed in coordinates centred on p (:attr:`Mixture.centred`) and moved back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from explorer.distributions import (
    MAX_ABS_LOCATION,
    MAX_SCALE,
    MIN_SCALE,
    Mixture,
    Normal,
    as_mixture,
)
from explorer.divergences import why_infinite
from explorer.objectives import OBJECTIVES

DIRECTIONS = ("forward", "reverse")
# A point is a certified minimum when its Newton step (scaled: σ-units in μ, log σ) is below
# STEP_TOL and the scaled Hessian is positive definite; minima closer than MERGE_TOL are one.
STEP_TOL = 1e-6
MERGE_TOL = 1e-4
MAX_STEPS = 200
# Newton steps this short are taken as they are (no decrease test: next to a minimum the KL
# changes by ~step², below its rounding); the descent ends after one below 1e-8.
_POLISH, _DONE = 1e-6, 1e-8
_MAX_RADIUS = 8.0
# θ beyond these is outside every allowed q (centred coordinates): a trial there is rejected.
_MU_LIMIT = 4.0 * MAX_ABS_LOCATION
_S_LIMITS = (math.log(MIN_SCALE) - 2.0, math.log(MAX_SCALE) + 2.0)


class NoFiniteFitError(ValueError):
    """No Gaussian has a finite KL to this target in this direction (heavy tails)."""


@dataclass(frozen=True)
class Fit:
    """A fitted Gaussian: ``q``, its KL in the fitted direction (nats), and the optimiser's path.

    ``local_optima`` lists every distinct certified local optimum found, best first (one for a
    forward fit).  ``grad_norm`` is the scaled gradient at ``q``, ``newton_step`` the length of
    the scaled Newton step there; ``is_minimum`` certifies q: a Newton step below 1e-6 and a
    positive-definite Hessian.  A fit with ``is_minimum`` False is not an optimum and must not
    be shown as one.
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
    newton_step: float = math.nan


# --- the descent ---------------------------------------------------------------------------
@dataclass
class Descent:
    """Where K descents ended: θ (K, 2), f, g, h there, the accepted points of each, and the
    certificate (scaled gradient norm, Newton step length, Hessian positive definite)."""

    theta: np.ndarray
    f: np.ndarray
    g: np.ndarray
    h: np.ndarray
    visited: list[list[np.ndarray]]
    grad_norm: np.ndarray
    newton_step: np.ndarray
    positive: np.ndarray

    @property
    def certified(self) -> np.ndarray:
        inside = ((np.abs(self.theta[:, 0]) <= 2 * MAX_ABS_LOCATION)
                  & (self.theta[:, 1] >= math.log(MIN_SCALE))
                  & (self.theta[:, 1] <= math.log(MAX_SCALE)))
        return self.positive & (self.newton_step <= STEP_TOL) & inside


def newton_steps(theta: np.ndarray, g: np.ndarray, h: np.ndarray, radius: np.ndarray):
    """Trust-region Newton steps for K points at once, in coordinates scaled to each point.

    The scaled Hessian's eigenvalues are taken in absolute value (negative curvature becomes
    descent; along a direction of negative curvature with no slope, as on a saddle, half the
    radius is stepped), and the step is cut to the radius.  Returns the step in θ, the length of
    the uncut step, positive-definiteness, the predicted change of the objective, the step's
    length and whether the radius cut it.
    """
    d = np.stack([np.exp(theta[:, 1]), np.ones(len(theta))], axis=1)
    gs = g * d
    hs = h * d[:, :, None] * d[:, None, :]
    lam, vec = np.linalg.eigh(hs)
    gv = np.einsum("nji,nj->ni", vec, gs)
    big = np.maximum(np.abs(lam[:, 1]), 1e-300)
    positive = lam[:, 0] > 1e-12 * big
    sv = -gv / np.maximum(np.abs(lam), 1e-12 * big[:, None])
    newton = np.hypot(sv[:, 0], sv[:, 1])
    flat = ~positive & (np.abs(sv[:, 0]) < 0.5 * radius)
    sv[:, 0] = np.where(flat, -np.copysign(0.5 * radius, gv[:, 0]), sv[:, 0])
    ss = np.einsum("nij,nj->ni", vec, sv)
    length = np.hypot(ss[:, 0], ss[:, 1])
    cut = length > radius
    ss *= np.where(cut, radius / np.maximum(length, 1e-300), 1.0)[:, None]
    pred = (gs * ss).sum(axis=1) + 0.5 * np.einsum("ni,nij,nj->n", ss, hs, ss)
    return ss * d, newton, positive, pred, np.minimum(length, radius), cut


def descend(objective, p: Mixture, theta0: np.ndarray, max_steps: int = MAX_STEPS) -> Descent:
    """Trust-region Newton descents from the K points θ0 (K, 2), each with its own radius, all
    evaluated together; a start leaves the batch when it has converged."""
    theta = np.array(theta0, dtype=float)
    k = len(theta)
    f, g, h = objective(p, theta)
    radius = np.ones(k)
    visited = [[row.copy()] for row in theta]
    active = np.ones(k, dtype=bool)
    for _ in range(max_steps):
        idx = np.flatnonzero(active)
        if not idx.size:
            break
        step, newton, positive, pred, length, cut = newton_steps(theta[idx], g[idx], h[idx],
                                                                 radius[idx])
        polish = positive & (newton <= _POLISH)
        trial = theta[idx] + step
        inside = ((np.abs(trial[:, 0]) <= _MU_LIMIT) & (trial[:, 1] >= _S_LIMITS[0])
                  & (trial[:, 1] <= _S_LIMITS[1]))
        ft, gt, ht = objective(p, trial)
        ok = inside & np.isfinite(ft) & (polish | (ft - f[idx] <= 0.1 * pred))
        grow = ok & cut & (ft - f[idx] <= 0.75 * pred)
        radius[idx] = np.where(grow, np.minimum(2.0 * radius[idx], _MAX_RADIUS),
                               np.where(ok, radius[idx], 0.25 * length))
        take = idx[ok]
        theta[take], f[take], g[take], h[take] = trial[ok], ft[ok], gt[ok], ht[ok]
        for i in take:
            visited[i].append(theta[i].copy())
        stuck = ~ok & (radius[idx] < 1e-13)
        flat = ~ok & ~positive & (np.abs(pred) <= 1e-15 * (1.0 + np.abs(f[idx])))
        active[idx[(ok & polish & (newton <= _DONE)) | stuck | flat]] = False
    d = np.stack([np.exp(theta[:, 1]), np.ones(k)], axis=1)
    gs = g * d
    _, newton, positive, _, _, _ = newton_steps(theta, g, h, np.ones(k))
    return Descent(theta, f, g, h, visited, np.hypot(gs[:, 0], gs[:, 1]), newton, positive)


# --- from descents to fits ------------------------------------------------------------------
def _normal(theta, c: float) -> Normal:
    """N(μ + c, e^s) for a point in centred coordinates, clipped to the allowed ranges (possible
    only on the way to a failed fit, which is then not certified)."""
    mu = min(max(float(theta[0]) + c, -MAX_ABS_LOCATION), MAX_ABS_LOCATION)
    sd = min(max(math.exp(min(float(theta[1]), 700.0)), MIN_SCALE), MAX_SCALE)
    return Normal(mu, sd)


def _fit(direction: str, run: Descent, i: int, start: Normal, c: float,
         with_path: bool = True) -> Fit:
    """The Fit of start ``i``: ``path[0]`` is exactly the start, then every accepted point."""
    moved = run.visited[i][1:]
    q = _normal(run.theta[i], c) if moved else start
    return Fit(q=q, kl=max(float(run.f[i]), 0.0), direction=direction,
               path=[start] + [_normal(t, c) for t in moved] if with_path else [],
               start=start, iterations=len(moved), grad_norm=float(run.grad_norm[i]),
               is_minimum=bool(run.certified[i]), newton_step=float(run.newton_step[i]))


def _theta(starts: list[Normal], c: float) -> np.ndarray:
    return np.array([[st.mean - c, math.log(st.std)] for st in starts])


def _default_start(p: Mixture) -> Normal:
    """The heaviest component's location and scale (where a user would start by hand)."""
    i = int(np.argmax(p.weights))
    comp = p.components[i]
    return Normal(comp.loc, comp.scale)


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
    sd = min(max(math.sqrt(var), MIN_SCALE), MAX_SCALE)
    return Normal(min(max(mean, -MAX_ABS_LOCATION), MAX_ABS_LOCATION), sd)


def _same(a: Normal, b: Normal, tol: float = MERGE_TOL) -> bool:
    scale = math.sqrt(a.std * b.std)
    return abs(a.mean - b.mean) <= tol * scale and abs(math.log(a.std / b.std)) <= tol


def _rank(fit: Fit) -> tuple[float, float]:
    """Best first; optima whose KL agree to 12 digits (mirror images of a symmetric target) are
    ties, ordered by mean, so the order never depends on rounding noise."""
    return float(f"{fit.kl:.12g}"), fit.q.mean


def _distinct(fits: list[Fit]) -> list[Fit]:
    kept: list[Fit] = []
    for fit in sorted(fits, key=_rank):
        if not any(_same(fit.q, k.q) for k in kept):
            kept.append(fit)
    return kept


def fit_gaussian(p, direction: str = "reverse", init: Normal | None = None) -> Fit:
    """Fit N(μ, σ²) to ``p`` by minimising KL(p‖q) ("forward") or KL(q‖p) ("reverse").

    Forward: a descent from ``init`` (default: the heaviest component) to the unique optimum,
    moment matching.  Reverse without ``init``: the best of all distinct certified local optima,
    with ``local_optima`` listing them best first.  Reverse with ``init``: the local optimum
    reached from that start.  Raises :class:`NoFiniteFitError` when every Gaussian has infinite
    KL (forward, ν ≤ 2).  Check ``is_minimum`` before presenting ``q`` as an optimum.
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
    c, pc = pm.centred
    objective = OBJECTIVES[direction]
    if direction == "forward" or init is not None:
        start = init or _default_start(pm)
        fit = _fit(direction, descend(objective, pc, _theta([start], c)), 0, start, c)
        return replace(fit, local_optima=(fit,) if fit.is_minimum else ())
    starts = reverse_starts(pm)
    run = descend(objective, pc, _theta(starts, c))
    fits = [_fit("reverse", run, i, st, c, with_path=False) for i, st in enumerate(starts)]
    certified = [f for f in fits if f.is_minimum]
    optima = [_with_path(f, run, fits.index(f), c) for f in _distinct(certified)]
    if not optima:  # no start certified a minimum: the best point reached, marked as such
        best = min(fits, key=lambda f: f.kl)
        return _with_path(best, run, fits.index(best), c)
    return replace(optima[0], local_optima=tuple(optima))


def _with_path(fit: Fit, run: Descent, i: int, c: float) -> Fit:
    return replace(fit, path=[fit.start] + [_normal(t, c) for t in run.visited[i][1:]])
