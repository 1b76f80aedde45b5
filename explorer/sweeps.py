"""Sweeps: every local optimum of a Gaussian fit along a one-parameter family of targets, joined
into branches by continuation, with births, deaths and switches of the global optimum.

At each parameter value the descents start from the previous value's optima (warm: one per live
branch) and from the target's own multi-start (:func:`explorer.fitting.reverse_starts`, so a
branch born away from every live one is found).  A warm start that ends, certified, on the
optimum nearest to its branch's last point continues that branch; a branch whose warm start
ends uncertified, or on an optimum another branch continues, dies (its Hessian's smallest
eigenvalue heads to 0 there); an optimum no branch continues is a birth.  A switch is where the
global optimum passes from one branch to another.

The descents of all values run as batches (rows grouped by value, :func:`explorer.newton.descend`
with ``groups``): every value's multi-start at once, then every value's warm starts, in passes
until no optimum is new (a branch that only continuation finds takes one pass per value); the
branches are then joined value by value from those results.  Targets that are Normal mixtures
with one number of components are evaluated as one vectorised family
(:func:`explorer.objectives.family_reverse_objective`): one call per step for all values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from explorer.distributions import Mixture, Normal, as_mixture
from explorer.fitting import REVERSE_EXACT, _allowed, _theta, _unit_lengths, reverse_starts
from explorer.newton import descend
from explorer.objectives import family_reverse_objective, normal_family, reverse_objective

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
    """(centre, objective on centred θ, inside, coarse objective or None) of one target."""
    c, pc = pm.centred
    if objective == "reverse":
        return (c, lambda th: reverse_objective(pc, th), _allowed,
                lambda th: reverse_objective(pc, th, coarse=True))
    from explorer.alpha import log_sigma_bounds, steered_objective

    lo, hi = log_sigma_bounds(pc, alpha)

    def inside(th):
        return _allowed(th) & (th[:, 1] > lo) & (th[:, 1] < hi)

    return c, steered_objective(pc, alpha), inside, None


@dataclass
class _Point:
    """One parameter value: its target, centre, functions, α and the multi-start's results."""

    pm: Mixture
    c: float
    fn: object
    inside: object
    coarse: object
    alpha: float
    multi: tuple | None = None  # (θ, f, h, certified) of the multi-start's descents
    warm: list = field(default_factory=list)  # [(start θ, (θ, f, h, certified) of its end)]


def _split(groups: np.ndarray):
    """(group, its rows) for every group present."""
    order = np.argsort(groups, kind="stable")
    cuts = np.flatnonzero(np.diff(groups[order])) + 1
    return [(int(groups[rows[0]]), rows) for rows in np.split(order, cuts)]


def _grouped(funcs: dict):
    """The functions of many targets as one, on rows of any of them: (θ, groups) → the
    results of ``funcs[group](θ of its rows)``, row by row."""
    def fn(theta, groups):
        out = None
        for grp, rows in _split(groups):
            part = funcs[grp](theta[rows])
            single = not isinstance(part, tuple)
            part = (part,) if single else part
            if out is None:
                out = tuple(np.empty((len(theta),) + a.shape[1:], dtype=a.dtype) for a in part)
            for o, a in zip(out, part, strict=True):
                o[rows] = a
        return out[0] if single else out

    return fn


def _batch(points: list, objective: str, rows: list[tuple[int, np.ndarray]], family=None):
    """Descents from many starts on many targets as one batch: ``rows`` holds (point, θ0s);
    returns (θ, f, h, certified) of the descents of every entry with starts, in order.
    ``family``: the targets as one :func:`explorer.objectives.normal_family` (reverse KL of
    Normal mixtures: every evaluation is one vectorised call for all targets)."""
    rows = [(j, th) for j, th in rows if len(th)]
    if not rows:
        return []
    groups = np.concatenate([np.full(len(th), j) for j, th in rows])
    used = sorted({j for j, _ in rows})

    def pick(name):
        funcs = {j: getattr(points[j], name) for j in used}
        return None if any(fn is None for fn in funcs.values()) else _grouped(funcs)

    how = {"exact": REVERSE_EXACT} if objective == "reverse" else {}
    if family is not None:
        how["coarse"] = lambda th, grp: family_reverse_objective(family, th, grp, coarse=True)
        fn, inside = (lambda th, grp: family_reverse_objective(family, th, grp),
                      lambda th, grp: _allowed(th))
    else:
        how["coarse"] = pick("coarse")
        fn, inside = pick("fn"), pick("inside")
    run = descend(fn, np.concatenate([th for _, th in rows]), _unit_lengths, inside,
                  groups=groups, **how)
    f = run.f
    if objective == "alpha":  # values of log(1 + D_α) back to D_α where α was steered
        from explorer.alpha import _steered

        steered = np.isin(groups, [j for j in used if _steered(points[j].alpha)])
        f = np.where(steered, np.expm1(f), f)
    out, at = [], 0
    for _, th in rows:
        sl = slice(at, at + len(th))
        out.append((run.theta[sl], f[sl], run.h[sl], run.certified[sl]))
        at += len(th)
    return out


def _starts(pt: _Point, objective: str, warm: np.ndarray | None = None) -> np.ndarray:
    """θ0 of a point's multi-start (``warm`` None: moved into the finite region and only
    starts with a finite value) or of warm starts (moved into the finite region)."""
    theta0 = _theta(reverse_starts(pt.pm), pt.c) if warm is None else warm.copy()
    if objective == "alpha":
        from explorer.alpha import finite_starts, log_sigma_bounds

        lo, hi = log_sigma_bounds(pt.pm, pt.alpha)
        theta0[:, 1] = np.clip(theta0[:, 1], lo + 0.2, hi - 0.2)
        if warm is None:
            theta0 = theta0[finite_starts(pt.pm.centred[1], pt.alpha, theta0)]
    return theta0


def _optima(ends) -> list[int]:
    """Rows of the distinct certified minima among ends (θ, f, h, certified), first first."""
    theta, _, _, certified = ends
    optima: list[int] = []
    for i in np.flatnonzero(certified):
        if not any(_close(theta[i], theta[k], 1e-4) for k in optima):
            optima.append(int(i))
    return optima


def _recentred(ends, optima: list[int], c0: float, c1: float) -> np.ndarray:
    """θ of the optima (rows of ``ends``, centred on c0) as starts centred on c1, through the
    (μ, σ) a branch records."""
    return _theta([Normal(float(ends[0][k, 0] + c0), float(math.exp(ends[0][k, 1])))
                   for k in optima], c1) if optima else np.empty((0, 2))


def _warm(points: list, ends_at: list, j: int, objective: str) -> np.ndarray:
    """Point j's warm starts: the previous point's optima, recentred on point j (none at the
    first point or after a point with no finite fit)."""
    prev = points[j - 1] if j else None
    if prev is None:
        return np.empty((0, 2))
    back = ends_at[j - 1]
    return _starts(points[j], objective, _recentred(back, _optima(back), prev.c, points[j].c))


def _scan(points: list, objective: str):
    """One pass over the values: each point's ends (θ, f, h, certified; its warm starts' rows
    first, in the order of the previous point's optima they start from, then the multi-start's),
    from the descents done so far, and the warm starts not yet descended (left out of their
    point's ends until a later pass adds them)."""
    ends_at, need = [], []
    for j, pt in enumerate(points):
        if pt is None:
            ends_at.append(None)
            continue
        parts, missing = [], []
        for st in _warm(points, ends_at, j, objective):
            hit = next((e for s, e in pt.warm if _close(s, st, 1e-9)), None)
            if hit is None:
                missing.append(st)
            else:
                parts.append(hit)
        if missing:
            need.append((j, np.array(missing)))
        parts.append(pt.multi)
        ends_at.append(tuple(np.concatenate([e[n] for e in parts]) for n in range(4)))
    return ends_at, need


def sweep(p, parameter: str, values, objective: str = "reverse", alpha: float = 0.5,
          component: int = 0, other: int = 1) -> Sweep:
    """Every local optimum of ``objective`` ("reverse" KL or "alpha") at each of ``values`` of
    ``parameter`` (see :func:`target_at`; for "alpha" the values are α), joined into branches.

    The descents of all values run batched (:func:`explorer.newton.descend` with groups): the
    multi-start of every value at once, then, in passes until none is new, the warm starts of
    every value from the previous value's optima; the branches are joined from the results."""
    if objective not in ("reverse", "alpha"):
        raise ValueError(f"objective must be 'reverse' or 'alpha', got {objective!r}")
    if parameter == "alpha" and objective != "alpha":
        raise ValueError("an α sweep needs objective 'alpha'")
    values = np.asarray(values, dtype=float)
    points: list[_Point | None] = []
    for v in values:
        pm = target_at(p, parameter, v, component, other)
        a = v if parameter == "alpha" else alpha
        try:
            points.append(_Point(pm, *_problem(pm, objective, a), alpha=a))
        except ValueError:  # no finite fit at this value: every branch ends
            points.append(None)
    family = None
    if objective == "reverse" and all(pt is not None for pt in points):
        family = normal_family([pt.pm.centred[1] for pt in points])
    if family is None:  # target by target: warm and multi-start rows as one descent
        return _join(parameter, values, objective, points, _one_by_one(points, objective))
    todo = [(j, _starts(pt, objective)) for j, pt in enumerate(points) if pt is not None]
    done = iter(_batch(points, objective, todo, family))
    for j, th in todo:
        points[j].multi = next(done) if len(th) else _NONE
    for _ in range(2 * len(values) + 4):  # each pass descends the warm starts found new
        ends_at, need = _scan(points, objective)
        if not need:
            break
        for (j, th), res in zip(need, _batch(points, objective, need, family), strict=True):
            points[j].warm += [(st, tuple(a[i:i + 1] for a in res)) for i, st in enumerate(th)]
    else:  # every pass adds an optimum no earlier one had: this cannot go on
        raise RuntimeError("sweep: the continuation did not settle")
    return _join(parameter, values, objective, points, ends_at)


_NONE = (np.empty((0, 2)), np.empty(0), np.empty((0, 2, 2)), np.empty(0, dtype=bool))


def _one_by_one(points: list, objective: str) -> list:
    """The ends of :func:`_scan`, value after value: each value's warm starts (from the previous
    value's optima) and multi-start descend together (where evaluating many targets at once
    saves nothing: each is its own call)."""
    ends_at: list = []
    for j, pt in enumerate(points):
        if pt is None:
            ends_at.append(None)
            continue
        warm = _warm(points, ends_at, j, objective)
        done = _batch(points, objective, [(j, np.concatenate([warm, _starts(pt, objective)]))])
        ends_at.append(done[0] if done else _NONE)
    return ends_at


def _join(parameter, values, objective, points, ends_at) -> Sweep:
    """The branches, value by value: a warm start that ends, certified, on an optimum within
    ``_JUMP`` of its branch's last point continues that branch (nearest first); a branch
    without one dies; an optimum no branch continues is a birth."""
    branches: list[Branch] = []
    alive: list[int] = []
    births, deaths = [], []
    for j, v in enumerate(values):
        pt = points[j]
        if pt is None:
            deaths += [(b, v) for b in alive]
            alive = []
            continue
        c = pt.c
        theta, f, hess, certified = ends_at[j]
        run = _Run(theta, f, hess, certified)
        optima = _optima(ends_at[j])
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
            unit = _unit_lengths(run.theta[k:k + 1])[0]
            br = branches[b]
            br.index.append(j)
            br.mu.append(float(run.theta[k, 0] + c))
            br.sigma.append(float(math.exp(run.theta[k, 1])))
            br.value.append(max(float(run.f[k]), 0.0))
            br.min_eig.append(float(np.linalg.eigvalsh(run.h[k] * np.outer(unit, unit))[0]))
            new_alive.append(b)
        alive = new_alive
    best, switches = _global(branches, len(values), values)
    return Sweep(parameter, values, objective, tuple(branches), tuple(births), tuple(deaths),
                 tuple(switches), tuple(best))


@dataclass
class _Run:
    theta: np.ndarray
    f: np.ndarray
    h: np.ndarray
    certified: np.ndarray


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
