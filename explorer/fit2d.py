"""Fit a d-dimensional Gaussian q = N(μ, Σ) to a mixture of MvNormal components by minimising
KL(p‖q) or KL(q‖p), with a full or a diagonal (mean-field) covariance.

Both objectives (:mod:`explorer.vi2d`) are minimised by the trust-region Newton descents of
:mod:`explorer.newton` over θ = (μ, L's lower triangle with log-diagonal), in units of q's own
sds (the mean and L's off-diagonal entries) and 1 (log-sds):

* forward: the unique optimum is moment matching (full: p's mean and covariance; diagonal: p's
  mean and marginal variances): the descent starts there and certifies it at once (its KL
  is certified only if H(p)'s rule settled within its node budget);
* reverse: one descent from the moment-matched Gaussian of every subset of components (each
  alone, each pair, …, all — fewer misses optima that cover two of three modes), run to its end
  on the trapezoid rule on one grid (h = 1/2 while far, then 1/4: ~1k and ~4.5k nodes); the
  distinct ends are finished by plain Newton steps on the adaptive rule and certified there
  (usually at once: the grid's minimum is within the certificate's tolerance); every distinct
  certified minimum is returned, best first.  The panel rule's nodes per fit are bounded
  (``FIT_BUDGET``, ``LOOSE_FIT_BUDGET``: a hostile target costs ≲ 0.5 s, not seconds); a start
  left uncertified below the best certified minimum (cut by a budget, or unfinished) makes
  that start the answer, not certified, with the certified minima listed beside it.
"""

from __future__ import annotations

import math
from dataclasses import replace
from itertools import combinations

import numpy as np

from explorer.distributions import MAX_ABS_LOCATION, MAX_SCALE, MIN_SCALE
from explorer.fitting import DIRECTIONS, Fit
from explorer.mvnormal import MvMixture, MvNormal, as_mv_mixture
from explorer.newton import STEP_TOL, Descent, descend, newton_steps
from explorer.panels2d import NODE_BUDGET
from explorer.rules2d import LEVELS, TOL, first_level
from explorer.vi2d import (
    forward_objective,
    gaussian_of,
    layout,
    pack,
    reverse_objective,
    unpack,
)

COVARIANCES = ("full", "diagonal")
MERGE_TOL = 1e-4
STEER = (0.5, 0.25)  # the steering grids: far from a minimum, then to its end
_SAME_END = 1e-3  # steered ends this close (in q's units) are finished as one
# a steering descent leaves STEER[0] for STEER[1] where its Newton step there is below this (in
# q's units): their minima are ~1e-2 apart on a multimodal target (polishing beyond is waste)
_HANDOVER = 3e-2
_SHARP = 5e-3  # steering grids h and 2h this far apart at an end: it steers on (_sharpen)
# ... and h/2 and h this far apart there: its last step is on h/4.  Of 89 such ends of 100
# random 2-4 component targets, 31 were beyond; h/2's minimum left 25 of them (4 of the other
# 58) > 1e-6 from the adaptive rule's (a certifying evaluation more, ~72k nodes); h/4's, 1.
_SHARP2 = 7e-4
# The panel-rule nodes one reverse fit may spend finishing and certifying its descents (~0.3 s
# of one core at four components): beyond it every value is cut (not certified), no descent is
# steered on, and a start left uncertified below the best certified optimum is the answer,
# not certified (see fit_gaussian_mv).
FIT_BUDGET = 2_000_000
LOOSE_FIT_BUDGET = 750_000  # and steering far from a minimum on the loose panel rule


def _units(d: int, diagonal: bool):
    rows, _, is_log = layout(d, diagonal)
    off = np.flatnonzero(~is_log)  # L's off-diagonal entries: in units of their row's sd

    def scale(theta: np.ndarray) -> np.ndarray:
        _, chol = unpack(theta, d, diagonal)
        sds = np.sqrt((chol * chol).sum(axis=2))
        out = np.ones_like(theta)
        out[:, :d] = sds
        out[:, d + off] = sds[:, rows[off]]
        return out

    return scale


def _inside(d: int, diagonal: bool):
    logs = d + np.flatnonzero(layout(d, diagonal)[2])

    def inside(theta):
        ok = (np.abs(theta[:, :d]) <= 2 * MAX_ABS_LOCATION).all(axis=1)
        ok &= ((theta[:, logs] >= math.log(MIN_SCALE)) & (theta[:, logs] <= math.log(MAX_SCALE))
               ).all(axis=1)
        return ok

    return inside


def _descend(direction: str, p: MvMixture, theta0: np.ndarray, diagonal: bool,
             budget: int | None = None) -> Descent:
    d = p.dim
    scale, inside = _units(d, diagonal), _inside(d, diagonal)
    if direction == "forward":
        return descend(lambda t: forward_objective(p, t, diagonal), theta0, scale, inside)
    # 1. steer: every start descends to a minimum of the cheap rule (one trapezoid grid)
    steer = descend(lambda t: reverse_objective(p, t, diagonal, steer=STEER[-1]), theta0,
                    scale, inside, coarse=(lambda t: reverse_objective(p, t, diagonal,
                                                                       steer=STEER[0]))
                    if len(STEER) > 1 else None, exact=STEP_TOL / 10, handover=_HANDOVER,
                    mixed=lambda t, coarse: reverse_objective(
                        p, t, diagonal, steer=np.where(coarse, STEER[0], STEER[-1])))
    # 2. finish and certify on the full rule, once from each distinct end of the steering
    which, first = _distinct(steer.theta / scale(steer.theta))
    # 2a. an end where the steering grid is far from converged steers on, on a finer grid
    theta, level, sharp = _sharpen(p, steer.theta[first], steer.f[first], steer.g[first],
                                   diagonal, scale, inside)
    # 2b. ends that met on the finer grid are finished once
    again, second = _distinct(theta / scale(theta))
    ends, theta, level = again[which], theta[second], level[second]

    short: dict[bytes, bool] = {}  # θ → its value ran out of the node budget
    # the panel-rule nodes this fit may still spend certifying, and steering (loose); whether a
    # value was cut for want of them
    fine_budget = FIT_BUDGET if budget is None else budget
    left = {"fine": float(fine_budget),
            "loose": float(fine_budget * LOOSE_FIT_BUDGET / FIT_BUDGET), "starved": False}

    def budgeted(t, cut, kind="fine", **kw):
        used = np.zeros(1)
        budget = int(max(left[kind], 0.0))
        out = reverse_objective(p, t, diagonal, budget=budget, spent=used, cut=cut,
                                loose=kind == "loose", **kw)
        left[kind] -= used[0]
        if kind == "fine":
            left["starved"] |= budget < NODE_BUDGET and bool(cut.any())
        return out

    def fine(t, rows=None):
        cut = np.zeros(len(t), dtype=bool)
        if rows is None:
            out = budgeted(t, cut)
        else:
            settled = np.empty(len(rows), dtype=int)
            out = budgeted(t, cut, start=level[rows], settled=settled)
            level[rows] = settled
        short.update((row.tobytes(), bool(c)) for row, c in zip(t, cut, strict=True))
        return out

    def loose(t, rows=None):
        return budgeted(t, np.zeros(len(t), dtype=bool), "loose")

    run = _finish(fine, theta, scale, inside, far=loose, more=lambda: not left["starved"])
    run.certified &= ~np.array([short.get(t.tobytes(), True) for t in run.theta], dtype=bool)
    return Descent(run.theta[ends], run.f[ends], run.g[ends], run.h[ends],
                   run.grad_norm[ends], run.newton_step[ends], run.positive[ends],
                   run.certified[ends],
                   paths=lambda: [steer.visited[i] + sharp[which[i]] + run.visited[ends[i]][1:]
                                  for i in range(len(which))])


def _distinct(points: np.ndarray, tol: float = _SAME_END):
    """(for each point, the index of its group; the first point of each group): points within
    ``tol`` (max norm, in q's units) of an earlier group's first are that group."""
    first: list[int] = []
    which = np.empty(len(points), dtype=int)
    for i, e in enumerate(points):
        near = [n for n, j in enumerate(first) if np.abs(points[j] - e).max() <= tol]
        which[i] = near[0] if near else len(first)
        if not near:
            first.append(i)
    return which, np.array(first, dtype=int)


def _sharpen(p: MvMixture, theta, f, g, diagonal: bool, scale, inside):
    """Steered ends (θ, their KL f and gradient g on the steering grid h) whose gradient on 2h
    differs by more than ``_SHARP`` (in q's units: h's own error is then ≳ 1e-6, the fine
    rule's minimum too far for one Newton step to certify) descend on to the minimum of the
    grid h/2 — the last step on h/4 where h/2's gradient differs from h's by more than
    ``_SHARP2`` — and their adaptive rule starts a level finer than it would (its first level
    cannot settle where h has not).  Near the minimum (Newton steps < 0.05 in q's units) one
    step is evaluated and the next taken unevaluated: it lands ~step² from the finer grid's
    minimum, itself no nearer the adaptive rule's.  (θ, start levels, the points visited.)"""
    theta, level = theta.copy(), np.zeros(len(theta), dtype=int)
    sharp: list[list[np.ndarray]] = [[] for _ in theta]
    if len(p.active) < 2 or len(STEER) < 2:
        return theta, level, sharp
    d = scale(theta)
    f2, g2, _ = reverse_objective(p, theta, diagonal, steer=STEER[-2])
    # where h and 2h disagree by twice the adaptive rule's tolerance, its level h cannot settle
    (ft, fs), (gt, gs) = TOL
    level[(np.abs(f2 - f) > 2 * ft * np.maximum(np.abs(f), fs)) | (np.abs(g2 - g).max(axis=1)
          > 2 * gt * np.maximum(np.abs(g).max(axis=1), gs))] = LEVELS.index(STEER[-1]) + 1
    rows = np.flatnonzero(np.abs((g2 - g) * d).max(axis=1) > _SHARP)
    if not rows.size:
        return theta, level, sharp
    half = STEER[-1] / 2  # the grid h/2 (h/4 where its gradient is far from h's: deep)
    ends, paths = theta[rows], [[] for _ in rows]
    _, g1, h1 = reverse_objective(p, ends, diagonal, steer=half)
    # deep only where the certifying rule (a level finer than its first; 0: the panel rule)
    # is no coarser than h/4: a certifying evaluation more costs more than h/4's step there
    start = first_level(*unpack(ends, p.dim, diagonal), p) + 1
    deep = ((np.append(LEVELS, 0.0)[np.minimum(start, len(LEVELS))] <= half / 2)
            & (np.abs((g1 - g[rows]) * d[rows]).max(axis=1) > _SHARP2))
    step, newton, positive, _, _, _ = newton_steps(g1, h1, d[rows], np.ones(rows.size))
    near = positive & (newton <= 0.05) & inside(ends + step)
    ends[near] += step[near]
    if (at := np.flatnonzero(near)).size:
        _, g1, h1 = reverse_objective(p, ends[at], diagonal,
                                      steer=np.where(deep[at], half / 2, half))
        step, newton, positive, _, _, _ = newton_steps(g1, h1, scale(ends[at]),
                                                       np.ones(at.size))
        last = positive & (newton <= 0.05) & inside(ends[at] + step)
        for n, i in enumerate(at):
            paths[i] += [ends[i].copy()] + ([ends[i] + step[n]] if last[n] else [])
        ends[at[last]] += step[last]
        near[at[~last]] = False
    rest = np.flatnonzero(~near)  # the others descend on to the minimum of the grid h/2
    if rest.size:
        run = descend(lambda t: reverse_objective(p, t, diagonal, steer=half), ends[rest],
                      scale, inside, exact=STEP_TOL / 10)
        ends[rest] = run.theta
        for n, i in enumerate(rest):
            paths[i] += run.visited[n][1:]
    theta[rows] = ends
    level[rows] = np.maximum(level[rows], first_level(*unpack(ends, p.dim, diagonal), p) + 1)
    for i, r in enumerate(rows):
        sharp[r] = paths[i]
    return theta, level, sharp


def _finish(objective, theta: np.ndarray, scale, inside, steps: int = 3, far=None,
            descend_rest: bool = True, more=None) -> Descent:
    """Descents from points next to a minimum (steered there by a cheaper rule): plain Newton
    steps while the Hessian is positive definite and the step short (< 0.05 in q's units), each
    kept unless it raises the objective beyond rounding; a point still far after ``steps`` steps
    (or never convex) goes on by the trust-region descent.  ``objective(θ, rows)``: rows, the
    indices of θ's points among the starts (None in the trust-region descent), lets it carry
    what it learnt at a point to the steps from it.  ``far`` (optional, same signature): a
    cheaper rule for that trust-region descent (points far from a minimum need no full
    accuracy); its ends are then finished on ``objective`` as above, so every certificate is
    ``objective``'s.  (A generic helper for newton.descend: it spares the trust region's extra
    evaluations near the end.)  ``descend_rest`` False: no trust-region descent at all (a point not
    certified after the steps is returned as it is, uncertified).  ``more()`` (optional): False
    once no further work may be spent (the points left then stay as they are)."""
    theta = np.array(theta, dtype=float)
    f, g, h = objective(theta, np.arange(len(theta)))
    visited = [[row.copy()] for row in theta]
    todo = np.arange(len(theta))
    for _ in range(steps):
        d = scale(theta[todo])
        # radius 1: only steps below 0.05 are taken (an infinite one made inf·0 on a flat Hessian)
        step, newton, positive, _, _, _ = newton_steps(g[todo], h[todo], d, np.ones(todo.size))
        done = positive & (newton <= STEP_TOL)
        near = positive & (newton <= 0.05) & ~done & inside(theta[todo] + step)
        todo_near = todo[near]
        if todo_near.size:
            ft, gt, ht = objective(theta[todo_near] + step[near], todo_near)
            keep = np.isfinite(ft) & (ft <= f[todo_near] + 1e-12 * (1.0 + np.abs(f[todo_near])))
            rows = todo_near[keep]
            theta[rows] += step[near][keep]
            f[rows], g[rows], h[rows] = ft[keep], gt[keep], ht[keep]
            for i in rows:
                visited[i].append(theta[i].copy())
            near[near] = keep
        todo = todo[near]
        if not todo.size:
            break
    d = scale(theta)
    _, newton, positive, _, _, _ = newton_steps(g, h, d, np.ones(len(theta)))
    rest = np.flatnonzero(~(positive & (newton <= STEP_TOL))) if descend_rest else np.arange(0)
    if more is not None and not more():
        rest = rest[:0]
    if rest.size and far is not None:
        steered = descend(lambda t: far(t, None), theta[rest], scale, inside)
        # an end on a minimum already certified takes its result; the others are finished
        # once from each distinct end
        done = np.flatnonzero(positive & (newton <= STEP_TOL) & inside(theta))
        points = np.concatenate([theta[done], steered.theta])
        which, first = _distinct(points / scale(points))
        lead = first[which[done.size:]]  # each steered end's first, in points
        new = np.unique(lead[lead >= done.size]) - done.size
        if new.size:
            rows = rest[new]
            run = _finish(lambda t, r: objective(t, None if r is None else rows[r]),
                          steered.theta[new], scale, inside, steps, descend_rest=False)
        for n, i in enumerate(rest):
            if lead[n] < done.size:
                j = done[lead[n]]
                theta[i], f[i], g[i], h[i] = theta[j], f[j], g[j], h[j]
                visited[i] += steered.visited[n][1:] + [theta[j].copy()]
            else:
                k = int(np.searchsorted(new, lead[n] - done.size))
                theta[i], f[i], g[i], h[i] = run.theta[k], run.f[k], run.g[k], run.h[k]
                visited[i] += steered.visited[n][1:] + (
                    run.visited[k][1:] if new[k] == n else [run.theta[k].copy()])
    elif rest.size:
        run = descend(lambda t: objective(t, None), theta[rest], scale, inside)
        theta[rest], f[rest], g[rest], h[rest] = run.theta, run.f, run.g, run.h
        for n, i in enumerate(rest):
            visited[i] += run.visited[n][1:]
    if rest.size:
        _, newton, positive, _, _, _ = newton_steps(g, h, d := scale(theta), np.ones(len(theta)))
    return Descent(theta, f, g, h, np.linalg.norm(g * d, axis=1), newton, positive,
                   positive & (newton <= STEP_TOL) & inside(theta), paths=lambda: visited)


def _moment_match(comps, weights) -> MvNormal:
    w = np.array(weights) / math.fsum(weights)
    mean = sum(wi * c.mu for wi, c in zip(w, comps, strict=True))
    cov = sum(wi * (c.sigma + np.outer(c.mu - mean, c.mu - mean))
              for wi, c in zip(w, comps, strict=True))
    return MvNormal(mean, cov)


def reverse_starts(p: MvMixture) -> list[MvNormal]:
    """The moment-matched Gaussian of every subset of p's components (each alone first)."""
    parts = [(c, w) for c, w in zip(p.components, p.weights, strict=True) if w > 0]
    starts: list[MvNormal] = []
    for size in range(1, len(parts) + 1):
        for run in combinations(parts, size):
            start = _moment_match([c for c, _ in run], [w for _, w in run])
            if not any(_same(start, s, 0.05) for s in starts):
                starts.append(start)
    return starts


def _same(a: MvNormal, b: MvNormal, tol: float = MERGE_TOL) -> bool:
    s = np.sqrt(a.sds * b.sds)
    return bool(np.all(np.abs(a.mu - b.mu) <= tol * s)
                and np.all(np.abs(a.sigma - b.sigma) <= 2 * tol * np.outer(s, s)))


def _fit(direction, run: Descent, i, start: MvNormal, c, d, diagonal) -> Fit:
    moved = len(run.visited[i]) - 1  # the path: see _with_path
    q = gaussian_of(run.theta[i], d, diagonal, c) if moved else start
    return Fit(q=q, kl=max(float(run.f[i]), 0.0), direction=direction, path=[], start=start,
               iterations=moved, grad_norm=float(run.grad_norm[i]),
               is_minimum=bool(run.certified[i]), newton_step=float(run.newton_step[i]))


def _with_path(fit: Fit, run: Descent, i, c, d, diagonal) -> Fit:
    """Descent i's ``fit`` with its path: q of each accepted point (θ's end: fit.q, built)."""
    end, moved = run.theta[i], run.visited[i][1:]
    return replace(fit, path=[fit.start] + [fit.q if t is moved[-1] and np.array_equal(t, end)
                                            else gaussian_of(t, d, diagonal, c) for t in moved])


def _rank(fit: Fit):
    return float(f"{fit.kl:.12g}"), tuple(fit.q.mean)


def _restrict(q: MvNormal, diagonal: bool) -> MvNormal:
    return MvNormal(q.mean, np.diag(np.diag(q.sigma))) if diagonal else q


def fit_gaussian_mv(p, direction: str = "reverse", init: MvNormal | None = None,
                    covariance: str = "full", budget: int | None = None) -> Fit:
    """Fit N(μ, Σ) to a mixture of MvNormal components (see the module docstring).  Same
    :class:`explorer.fitting.Fit` as in 1-D, with MvNormal q, start and path.  ``budget``: the
    panel-rule nodes a reverse fit may spend certifying (default ``FIT_BUDGET``; steering gets
    the same share of it as ``LOOSE_FIT_BUDGET`` of ``FIT_BUDGET``) — a server's cost cap: a
    smaller one leaves more hard targets uncertified, never a wrong certificate."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    if covariance not in COVARIANCES:
        raise ValueError(f"covariance must be one of {COVARIANCES}, got {covariance!r}")
    if init is not None and not isinstance(init, MvNormal):
        raise ValueError(f"init must be an MvNormal, got {type(init).__name__}")
    if budget is not None and not (isinstance(budget, int) and budget >= 1):
        raise ValueError(f"budget must be a positive whole number of nodes, got {budget!r}")
    pm = as_mv_mixture(p)
    d = pm.dim
    if init is not None and init.dim != d:
        raise ValueError(f"init has dimension {init.dim}, the target {d}")
    diagonal = covariance == "diagonal"
    c, pc = pm.centred
    if direction == "forward" or init is not None:
        # forward: the optimum is moment matching (diagonal: its marginal variances), so the
        # descent starts there and certifies it in one evaluation
        first = MvNormal(pm.mean, pm.cov) if direction == "forward" else None
        start = _restrict(init or first, diagonal)
        theta = pack(start.shifted(c), diagonal)[None]
        run = _descend(direction, pc, theta, diagonal, budget)
        fit = _with_path(_fit(direction, run, 0, start, c, d, diagonal), run, 0, c, d, diagonal)
        if direction == "forward" and not pc.entropy_certified:  # its KL is an estimate
            fit = replace(fit, is_minimum=False)
        return replace(fit, local_optima=(fit,) if fit.is_minimum else ())
    starts = [_restrict(s, diagonal) for s in reverse_starts(pm)]
    theta = np.array([pack(s.shifted(c), diagonal) for s in starts])
    run = _descend("reverse", pc, theta, diagonal, budget)
    fits = [_fit("reverse", run, i, s, c, d, diagonal) for i, s in enumerate(starts)]
    kept: list[tuple[int, Fit]] = []
    for i, f in sorted(((i, f) for i, f in enumerate(fits) if f.is_minimum),
                       key=lambda a: _rank(a[1])):
        if not any(_same(f.q, k.q) for _, k in kept):
            kept.append((i, f))
    if not kept:
        i = int(np.argmin([f.kl for f in fits]))
        kept = [(i, fits[i])]
    optima = [_with_path(f, run, i, c, d, diagonal) for i, f in kept]
    if not optima[0].is_minimum:
        return optima[0]
    # a start left uncertified (its rule cut by a node budget, or its descent unfinished) below
    # the best certified optimum: the best is not known — that start is the answer, not
    # certified, and the certified optima are listed with it
    top = optima[0].kl
    lower = [(f.kl, i) for i, f in enumerate(fits)
             if not f.is_minimum and f.kl < top - 1e-9 * (1.0 + top)]
    if lower:
        i = min(lower)[1]
        return replace(_with_path(fits[i], run, i, c, d, diagonal), local_optima=tuple(optima))
    return replace(optima[0], local_optima=tuple(optima))
