"""Fit a Gaussian q = N(μ, σ²) to a target p by minimising KL(p‖q) or KL(q‖p) numerically.

Both objectives (:mod:`explorer.objectives`) are minimised over θ = (μ, log σ) by the
trust-region Newton descents of :mod:`explorer.newton`, many starts at once, in coordinates scaled
to the current q (μ/σ, log σ).  (scipy's general-purpose minimisers spent most of their time in
call overhead around this tiny problem, and one trust radius for all starts slowed every start to
the slowest.)

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
from explorer.newton import Descent, descend
from explorer.objectives import forward_objective, reverse_rule

DIRECTIONS = ("forward", "reverse")
# Certified minima (explorer.newton.STEP_TOL) closer than MERGE_TOL (σ-units, log σ) are one.
MERGE_TOL = 1e-4
# A reverse descent ends where its Newton step is below this (σ-units): the quadrature's rounding
# puts the step's noise at up to ~1e-11 for a KL of thousands of nats; a step of 1e-10 moves the
# KL by ~1e-20 and the optimum by 1e-10 σ.
REVERSE_EXACT = 1e-10
# A reverse descent leaves the coarse rule for the full one where its Newton step on the coarse
# rule is below this (σ-units): two Newton steps on the full rule then reach REVERSE_EXACT (the
# coarse rule's minimum is within ~1e-6 of the full one's).
HANDOVER = 1e-3


_STANDARD = Mixture([Normal(0.0, 1.0)])  # any Gaussian q: its tails decide a forward KL


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
    alpha: float | None = None  # a direction "alpha" fit: ``kl`` holds D_α (explorer.alpha)


# --- the descent ---------------------------------------------------------------------------
def _unit_lengths(theta: np.ndarray) -> np.ndarray:
    """One unit in (μ, log σ) at θ: σ for the mean, 1 for log σ."""
    out = np.ones_like(theta)
    np.exp(theta[:, 1], out=out[:, 0])
    return out


# the allowed (μ, log σ) of a centred Gaussian, with room for the centring shift
_LOWEST = np.array([-2 * MAX_ABS_LOCATION, math.log(MIN_SCALE)])
_HIGHEST = np.array([2 * MAX_ABS_LOCATION, math.log(MAX_SCALE)])


def _allowed(theta: np.ndarray) -> np.ndarray:
    """θ (centred) of a Gaussian inside the allowed ranges, with room for the centring shift."""
    return ((theta >= _LOWEST) & (theta <= _HIGHEST)).all(axis=1)


def _descend(direction: str, p: Mixture, theta0: np.ndarray) -> Descent:
    """Descents on the direction's objective; reverse ones steered by its coarse rule until
    their Newton step there is below ``HANDOVER``, each on its own, then finished (a step or
    two) and certified on the full rule."""
    if direction == "forward":  # closed form: its Newton steps are exact to a few ulps
        return descend(lambda theta: forward_objective(p, theta), theta0, _unit_lengths,
                       _allowed)
    rule = reverse_rule(p)  # what depends on p alone, once per fit
    return descend(rule, theta0, _unit_lengths, _allowed,
                   coarse=lambda theta: rule(theta, coarse=True), exact=REVERSE_EXACT,
                   handover=HANDOVER, mixed=lambda theta, steer: rule(theta, coarse=steer))


# --- from descents to fits ------------------------------------------------------------------
def _normal(theta, c: float) -> Normal:
    """N(μ + c, e^s) for a point in centred coordinates, clipped to the allowed ranges (possible
    only on the way to a failed fit, which is then not certified)."""
    mu = min(max(float(theta[0]) + c, -MAX_ABS_LOCATION), MAX_ABS_LOCATION)
    sd = min(max(math.exp(min(float(theta[1]), 700.0)), MIN_SCALE), MAX_SCALE)
    if not (math.isfinite(mu) and math.isfinite(sd)):
        return Normal(mu, sd)  # raises, naming the field
    return _valid_normal(mu, sd)


def _valid_normal(mu: float, sd: float) -> Normal:
    """N(μ, sd²) for a μ and sd known to be inside the allowed ranges (clipped into them, or a
    validated component's), built without Normal's checks: a fit builds a few dozen of these
    (its starts, its path), and the checks were a tenth of a reverse fit's time."""
    q = object.__new__(Normal)
    object.__setattr__(q, "mean", mu)
    object.__setattr__(q, "std", sd)
    return q


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


def _forward_start(p: Mixture) -> Normal:
    """p's moment-matched Gaussian (the forward optimum in closed form; p's variance is finite
    wherever a forward fit exists): the descent only certifies it, with one evaluation."""
    sd = min(max(math.sqrt(p.variance), MIN_SCALE), MAX_SCALE)
    return Normal(min(max(p.mean, -MAX_ABS_LOCATION), MAX_ABS_LOCATION), sd)


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
            start = (_valid_normal(run[0][0].loc, run[0][0].scale) if size == 1
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
    if not (math.isfinite(mean) and math.isfinite(sd)):
        return Normal(mean, sd)  # raises, naming the field
    return _valid_normal(min(max(mean, -MAX_ABS_LOCATION), MAX_ABS_LOCATION), sd)


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


def fit_gaussian(p, direction: str = "reverse", init: Normal | None = None,
                 alpha: float | None = None, covariance: str | None = None,
                 budget: int | None = None) -> Fit:
    """Fit N(μ, σ²) to ``p`` by minimising KL(p‖q) ("forward") or KL(q‖p) ("reverse").

    Forward: a descent from ``init`` to the unique optimum, moment matching; without ``init``
    the start is p's moment-matched Gaussian itself, certified where it stands (no step).
    Reverse without ``init``: the best of all distinct certified local optima, with
    ``local_optima`` listing them best first.  Reverse with ``init``: the local optimum
    reached from that start.  Raises :class:`NoFiniteFitError` when every Gaussian has infinite
    KL (forward, ν ≤ 2).  Check ``is_minimum`` before presenting ``q`` as an optimum.
    "alpha": Minka's D_α(p‖q) (``alpha=`` required; :mod:`explorer.alpha`), every local optimum
    as for reverse; the Fit's ``kl`` is then D_α.
    For an MvNormal target or a mixture of them, ``covariance`` ("full" or "diagonal") picks
    q's family (:func:`explorer.fit2d.fit_gaussian_mv`); ``budget`` caps a 2-D reverse fit's
    integration work (its nodes; beyond it the fit is not certified).
    """
    from explorer.mvnormal import is_multivariate

    if covariance is not None or is_multivariate(p):  # 2-D targets: explorer.fit2d
        from explorer.fit2d import fit_gaussian_mv

        return fit_gaussian_mv(p, direction, init, covariance or "full", budget)
    if budget is not None:
        raise ValueError("budget applies to 2-D targets only (a 1-D fit's work is bounded)")
    if direction not in DIRECTIONS and direction != "alpha":
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    if init is not None and not isinstance(init, Normal):
        raise ValueError(f"init must be a Normal, got {type(init).__name__}")
    if (alpha is None) != (direction != "alpha"):
        raise ValueError("alpha= goes with direction 'alpha' (and only with it)")
    if direction == "alpha":
        from explorer.alpha import fit_alpha

        return fit_alpha(p, alpha, init)
    pm = as_mixture(p)
    if direction == "forward":
        reason = why_infinite(pm, _STANDARD)
        if reason:
            raise NoFiniteFitError(f"forward KL has no finite Gaussian fit: {reason}")
    c, pc = pm.centred
    if direction == "forward" or init is not None:
        start = init or _forward_start(pm)
        fit = _fit(direction, _descend(direction, pc, _theta([start], c)), 0, start, c)
        return replace(fit, local_optima=(fit,) if fit.is_minimum else ())
    starts = reverse_starts(pm)
    run = _descend("reverse", pc, _theta(starts, c))
    rows = np.flatnonzero(run.certified).tolist()
    if not rows:  # no start certified a minimum: the best point reached, marked as such
        fits = [_fit("reverse", run, i, st, c, with_path=False) for i, st in enumerate(starts)]
        best = min(range(len(fits)), key=lambda i: fits[i].kl)
        return _fit("reverse", run, best, starts[best], c)
    certified = [_fit("reverse", run, i, starts[i], c, with_path=False) for i in rows]
    row = {id(f): i for f, i in zip(certified, rows, strict=True)}
    optima = [_fit("reverse", run, row[id(f)], starts[row[id(f)]], c)
              for f in _distinct(certified)]  # each kept optimum again, with its path
    return replace(optima[0], local_optima=tuple(optima))


def _with_path(fit: Fit, run: Descent, i: int, c: float) -> Fit:
    """``fit`` (start ``i`` of ``run``, built without its path) with its path (D_α's fits)."""
    return replace(fit, path=[fit.start] + [_normal(t, c) for t in run.visited[i][1:]])
