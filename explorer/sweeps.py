"""Sweeps: every local optimum of a Gaussian fit along a one-parameter family of targets, joined
into branches by continuation, with births, deaths and switches of the global optimum.

At each parameter value the descents start from the previous value's optima (warm: one per live
branch) and from the target's own multi-start (:func:`explorer.fitting.reverse_starts`, so a
branch born away from every live one is found).  A warm start that ends, certified, on the
optimum nearest to its branch's last point continues that branch; a branch whose warm start
ends uncertified, or on an optimum another branch continues, dies (its Hessian's smallest
eigenvalue heads to 0 there); an optimum no branch continues is a birth.  A switch is where the
global optimum passes from one branch to another.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from explorer.distributions import Mixture, Normal, as_mixture
from explorer.fitting import REVERSE_EXACT, _allowed, _theta, _unit_lengths, reverse_starts
from explorer.newton import descend
from explorer.objectives import reverse_objective

PARAMETERS = ("separation", "weight", "width", "alpha")
# a warm start that moved further than this (σ-units, log σ) has left its branch
_JUMP = 1.0


@dataclass
class Branch:
    """One continuous family of local optima: parameter indices, μ, σ, objective and the
    smallest eigenvalue of the scaled Hessian at each."""

    index: list[int] = field(default_factory=list)
    mu: list[float] = field(default_factory=list)
    sigma: list[float] = field(default_factory=list)
    value: list[float] = field(default_factory=list)
    min_eig: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class Sweep:
    parameter: str
    values: np.ndarray
    objective: str
    branches: tuple[Branch, ...]
    births: tuple[tuple[int, float], ...]  # (branch, parameter value)
    deaths: tuple[tuple[int, float], ...]
    switches: tuple[tuple[int, int, float], ...]  # (from branch, to branch, parameter value)
    best: tuple[int, ...]  # the global optimum's branch at each value (−1: none)


def target_at(p, parameter: str, value: float, component: int = 0, other: int = 1) -> Mixture:
    """The target with its one parameter set: the distance between components ``component``
    and ``other`` (about their midpoint), ``component``'s weight (the others keep their
    proportions) or its width; ``alpha`` leaves p as it is."""
    pm = as_mixture(p)
    comps, weights = list(pm.components), list(pm.weights)
    if parameter == "separation":
        a, b = comps[component], comps[other]
        mid = 0.5 * (a.loc + b.loc)
        comps[component] = replace(a, **{a._loc_field: mid - 0.5 * value})
        comps[other] = replace(b, **{b._loc_field: mid + 0.5 * value})
    elif parameter == "weight":
        rest = math.fsum(w for i, w in enumerate(weights) if i != component)
        weights = [value if i == component else (1 - value) * w / rest if rest > 0 else 0.0
                   for i, w in enumerate(weights)]
    elif parameter == "width":
        comps[component] = replace(comps[component], **{_scale_field(comps[component]): value})
    elif parameter != "alpha":
        raise ValueError(f"parameter must be one of {PARAMETERS}, got {parameter!r}")
    return Mixture(comps, weights)


def _scale_field(c) -> str:
    return "std" if isinstance(c, Normal) else "scale"


def _problem(pm: Mixture, objective: str, alpha: float):
    """(centre, objective on centred θ, inside, descend's keywords) of one target."""
    c, pc = pm.centred
    if objective == "reverse":
        return (c, lambda th: reverse_objective(pc, th), _allowed,
                {"coarse": lambda th: reverse_objective(pc, th, coarse=True),
                 "exact": REVERSE_EXACT})
    from explorer.alpha import log_sigma_bounds, steered_objective

    lo, hi = log_sigma_bounds(pc, alpha)

    def inside(th):
        return _allowed(th) & (th[:, 1] > lo) & (th[:, 1] < hi)

    return c, steered_objective(pc, alpha), inside, {}


def sweep(p, parameter: str, values, objective: str = "reverse", alpha: float = 0.5,
          component: int = 0, other: int = 1) -> Sweep:
    """Every local optimum of ``objective`` ("reverse" KL or "alpha") at each of ``values`` of
    ``parameter`` (see :func:`target_at`; for "alpha" the values are α), joined into branches."""
    if objective not in ("reverse", "alpha"):
        raise ValueError(f"objective must be 'reverse' or 'alpha', got {objective!r}")
    if parameter == "alpha" and objective != "alpha":
        raise ValueError("an α sweep needs objective 'alpha'")
    values = np.asarray(values, dtype=float)
    branches: list[Branch] = []
    alive: list[int] = []
    births, deaths = [], []
    for j, v in enumerate(values):
        pm = target_at(p, parameter, v, component, other)
        a = v if parameter == "alpha" else alpha
        try:
            c, fn, inside, how = _problem(pm, objective, a)
        except ValueError:  # no finite fit at this value: every branch ends
            deaths += [(b, v) for b in alive]
            alive = []
            continue
        warm = [Normal(branches[b].mu[-1], branches[b].sigma[-1]) for b in alive]
        starts = warm + reverse_starts(pm)
        theta0 = _theta(starts, c)
        if objective == "alpha":
            from explorer.alpha import finite_starts, log_sigma_bounds

            lo, hi = log_sigma_bounds(pm, a)
            theta0[:, 1] = np.clip(theta0[:, 1], lo + 0.2, hi - 0.2)
            ok = finite_starts(pm.centred[1], a, theta0)
            theta0 = theta0[ok | (np.arange(len(theta0)) < len(warm))]
        run = descend(fn, theta0, _unit_lengths, inside, **how)
        if objective == "alpha":  # values of log(1 + D_α) back to D_α
            from explorer.alpha import unsteer

            run = unsteer(run, a)
        optima: list[int] = []  # rows of distinct certified minima
        for i in np.flatnonzero(run.certified):
            if not any(_close(run.theta[i], run.theta[k], 1e-4) for k in optima):
                optima.append(int(i))
        owner = {}
        order = sorted(range(len(alive)), key=lambda n: _jump(run, n, branches[alive[n]], c))
        for n in order:
            b = alive[n]
            if not run.certified[n] or _jump(run, n, branches[b], c) > _JUMP:
                continue
            k = next(k for k in optima if _close(run.theta[n], run.theta[k], 1e-4))
            if k not in owner:
                owner[k] = b
        new_alive = []
        for b in alive:
            if b not in owner.values():
                deaths.append((b, float(values[j - 1])))
        for k in optima:
            b = owner.get(k)
            if b is None:
                b = len(branches)
                branches.append(Branch())
                births.append((b, float(v)))
            h = run.h[k] * np.outer(_unit_lengths(run.theta[k:k + 1])[0],
                                    _unit_lengths(run.theta[k:k + 1])[0])
            br = branches[b]
            br.index.append(j)
            br.mu.append(float(run.theta[k, 0] + c))
            br.sigma.append(float(math.exp(run.theta[k, 1])))
            br.value.append(max(float(run.f[k]), 0.0))
            br.min_eig.append(float(np.linalg.eigvalsh(h)[0]))
            new_alive.append(b)
        alive = new_alive
    best, switches = _global(branches, len(values), values)
    return Sweep(parameter, values, objective, tuple(branches), tuple(births), tuple(deaths),
                 tuple(switches), tuple(best))


def _close(a, b, tol: float) -> bool:
    s = math.sqrt(math.exp(a[1] + b[1]))
    return abs(a[0] - b[0]) <= tol * s and abs(a[1] - b[1]) <= tol


def _jump(run, n: int, br: Branch, c: float) -> float:
    """How far warm start n ended from its branch's last point (σ-units, log σ)."""
    mu, s = run.theta[n, 0] + c, run.theta[n, 1]
    return max(abs(mu - br.mu[-1]) / br.sigma[-1], abs(s - math.log(br.sigma[-1])))


def _global(branches, n: int, values):
    """The best branch at each index (ties to the lower value, then the lower μ) and switches,
    placed where the two branches' values cross (linear interpolation)."""
    table = [dict() for _ in range(n)]
    for b, br in enumerate(branches):
        for j, f, mu in zip(br.index, br.value, br.mu, strict=True):
            table[j][b] = (float(f"{f:.12g}"), mu)
    best = [min(t, key=t.get) if t else -1 for t in table]
    switches = []
    for j in range(1, n):
        a, b = best[j - 1], best[j]
        if a == b or a < 0 or b < 0:
            continue
        at = 0.5 * (values[j - 1] + values[j])
        if a in table[j] and b in table[j - 1]:
            d0 = table[j - 1][a][0] - table[j - 1][b][0]
            d1 = table[j][a][0] - table[j][b][0]
            if d0 != d1:
                at = values[j - 1] + (values[j] - values[j - 1]) * d0 / (d0 - d1)
        switches.append((a, b, float(at)))
    return best, switches
