"""Trust-region Newton descents for small smooth problems, from many starts at once.

The objectives of this package have a handful of parameters and exact gradients and Hessians, and
are cheapest evaluated for many points in one vectorised call.  :func:`descend` runs one descent
per start, each with its own trust radius, in coordinates scaled to the current point (``scale``:
σ for a location, 1 for a log-scale), evaluating all unfinished starts together:

* the step is Newton's, with the Hessian's eigenvalues taken in absolute value (negative
  curvature becomes descent; on a saddle, with no slope along the direction of negative
  curvature, half the radius is stepped along it), cut to the radius;
* a step is kept when it lowers the objective by a tenth of what the quadratic model predicts;
  Newton steps shorter than 1e-6 (next to a minimum, where the objective changes by ~step²,
  below its rounding) are kept as they are, and a descent ends after one shorter than 1e-8, or
  without another evaluation where the Newton step is already below ``exact`` (1e-13 unless
  the caller knows its objective's rounding to be larger);
* two descents that reach the same convex neighbourhood (both Hessians positive definite, Newton
  steps below 0.05 that lead to within 1 % of a unit of each other) continue as one — the one
  with the shorter Newton step, nearer the minimum (a straggler arriving late would otherwise
  lengthen the longest descent, which sets the number of evaluations);
* optionally a cheaper approximation of the objective steers the descents to its own minima
  (Newton step below 1e-6, at most 20 steps); from each distinct end point a descent on the
  objective itself follows (usually one or two evaluations), and it alone decides the
  certificate.  With ``handover`` each descent leaves the approximation on its own as soon as
  its Newton step there is below ``handover``, in the same loop (one call evaluates rows of
  both kinds where the caller gives ``mixed``): no descent waits for the slowest to steer;
* a descent whose step leaves the allowed region while its radius is already below 0.01 and its
  Newton step above 1 (pressed against the edge, far from any stationary point: D_α's finite
  region, say) ends there, uncertified, rather than creeping up to the edge geometrically;
* optionally the rows are of different problems (``groups``: a sweep's targets, one batch):
  the objective gets each row's group, and only descents of one group merge.

The work per step is a few dozen numpy operations on arrays of the unfinished starts (the 2 × 2
eigen-decomposition in closed form), so that a fit costs a handful of vectorised evaluations of
the objective rather than the calls of a general-purpose minimiser.

A point is certified a local minimum when its Newton step is below ``STEP_TOL`` — relative to the
objective's own curvature, so a KL of thousands of nats certifies as readily as one of 0.01 —
and its Hessian is positive definite.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from explorer.newton_parts import _MERGE_NEWTON, _merge, _norms, newton_steps

__all__ = ["STEP_TOL", "Descent", "descend", "newton_steps"]

STEP_TOL = 1e-6
MAX_STEPS = 200
_POLISH, _DONE = 1e-6, 1e-8
_MAX_RADIUS = 8.0
_PINNED, _PINNED_NEWTON = 1e-2, 1.0
# a steering descent that has not reached the coarse rule's minimum in this many steps is
# crawling (a rule too rough for the target: spikes narrower than q's panels): the objective
# itself takes over from where it is
_STEER_STEPS = 20
_SAME_END = 1e-5  # coarse end points this close (scaled) are one minimum of the coarse rule
# up to this many rows, rows of both rules are evaluated in one call (see _evaluate)
_MIXED_ROWS = 8
# a Newton step this short is the minimum to working precision: no further evaluation
_EXACT = 1e-13


@dataclass
class Descent:
    """Where K descents ended: θ (K, n), objective f, gradient g and Hessian h there, and the
    certificate: scaled gradient norm, scaled Newton step length, positive-definiteness, and
    ``certified`` (which also asks θ to be ``inside``).  ``visited[i]``: the points descent i
    accepted (θ0 first), built from the step history on first use."""

    theta: np.ndarray
    f: np.ndarray
    g: np.ndarray
    h: np.ndarray
    grad_norm: np.ndarray
    newton_step: np.ndarray
    positive: np.ndarray
    certified: np.ndarray
    paths: object = None  # () -> the visited lists (built on first use: most are never read)
    steered: np.ndarray | None = None  # (a handover run) rows that ended on the approximation

    @cached_property
    def visited(self) -> list[list[np.ndarray]]:
        return self.paths()


def _paths(theta0, steps, joins):
    """The points each descent accepted, θ0 first, from the steps taken ((rows, points) per
    iteration) and the joins (j, i, at) of a merged descent j with the one it ended in, i, from
    i's ``at``-th accepted point on."""
    def build():
        out = [[row.copy()] for row in theta0]
        for rows, points in steps:
            for i, point in zip(rows.tolist(), points, strict=True):
                out[i].append(point)
        for j, i, at in joins:
            out[j] = out[j] + out[i][1 + at:]
        return out
    return build


def descend(objective, theta0: np.ndarray, scale, inside=None, max_steps: int = MAX_STEPS,
            merge: bool = True, coarse=None, exact: float = _EXACT, groups=None,
            handover: float | None = None, mixed=None) -> Descent:
    """Descents from the K starts θ0 (K, n).

    ``objective(θ)`` returns f (K,), g (K, n), h (K, n, n) for a (K, n) array; ``scale(θ)`` the
    unit length of each parameter at θ, (K, n); ``inside(θ)`` (optional) which points are
    allowed: a step outside is refused, and a minimum outside is not certified.  ``coarse``
    (optional) is a cheaper approximation of ``objective``: the descents run on it to its
    minima first, then every distinct end point descends on ``objective`` itself (a step or two
    where the approximation is good), which alone decides every certificate.  A descent whose
    Newton step is below ``exact`` ends there (the objective's rounding decides how short a step
    still means anything: the default suits an objective exact to a few ulps).
    ``groups`` (optional, (K,) ints): the rows belong to different problems (a sweep's
    targets, one descent per start and target in one batch): ``objective(θ, groups)``,
    ``coarse`` and ``inside`` then get each row's group too, and only descents of one group
    merge.
    ``handover`` (optional, with ``coarse``): each descent leaves the approximation on its own,
    as soon as its Newton step there is below ``handover`` (Hessian positive definite): that
    step's end is evaluated on ``objective`` and kept (if finite and allowed), and the descent
    goes on there on ``objective`` — in the same loop as those still steering, rather than
    steering all to ``_POLISH`` first and then starting over; a descent still steering after
    ``_STEER_STEPS`` steps, or ended while steering, continues on ``objective`` from where it is.
    ``mixed(θ, steer)`` (optional, without ``groups``): ``coarse`` where ``steer``, else
    ``objective``, in one call (steps where some descents have handed over and some not).
    """
    theta0 = np.array(theta0, dtype=float)
    if groups is not None:
        groups = np.asarray(groups)
    if coarse is None:
        return _descend(objective, theta0, scale, inside, max_steps, merge, exact=exact,
                        groups=groups)
    if handover:
        run = _descend(objective, theta0, scale, inside, max_steps, merge, exact=exact,
                       groups=groups, coarse=coarse, handover=handover, mixed=mixed)
        if np.count_nonzero(run.steered):
            _continue(run, objective, scale, inside, max_steps, merge, exact, groups)
        return run
    steer = _descend(coarse, theta0, scale, inside, min(max_steps, _STEER_STEPS), merge,
                     exact=_POLISH, certify=False, groups=groups)
    back, ends, end_groups = _distinct_ends(steer.theta, scale, groups)
    fine = _descend(objective, ends, scale, inside, max_steps, merge, exact=exact,
                    groups=end_groups)

    def paths():
        before, after = steer.visited, fine.visited
        return [before[i] + after[back[i]][1:] for i in range(len(back))]

    return Descent(fine.theta[back], fine.f[back], fine.g[back], fine.h[back],
                   fine.grad_norm[back], fine.newton_step[back], fine.positive[back],
                   fine.certified[back], paths)


def _continue(run: Descent, objective, scale, inside, max_steps, merge, exact, groups):
    """Finish in place the rows of a handover run that ended on the approximation: a descent
    on the objective from each distinct end point, which alone decides their certificates."""
    rows = run.steered.nonzero()[0]
    back, ends, end_groups = _distinct_ends(run.theta[rows], scale,
                                            None if groups is None else groups[rows])
    fine = _descend(objective, ends, scale, inside, max_steps, merge, exact=exact,
                    groups=end_groups)
    for name in ("theta", "f", "g", "h", "grad_norm", "newton_step", "positive", "certified"):
        getattr(run, name)[rows] = getattr(fine, name)[back]
    paths = run.paths
    tail = dict(zip(rows.tolist(), back.tolist(), strict=True))

    def joined():
        before, after = paths(), fine.visited
        return [v + after[tail[i]][1:] if i in tail else v for i, v in enumerate(before)]

    run.paths = joined
    run.steered = np.zeros_like(run.steered)


def _distinct_ends(theta: np.ndarray, scale, groups=None):
    """(for each row, which distinct point; the distinct points; their groups): rows within
    ``_SAME_END`` (scaled) of an earlier one of their group are that one (descents that ended
    on one minimum, merged or not, go on as one)."""
    points = (theta / scale(theta)).tolist()
    keys = [0] * len(points) if groups is None else groups.tolist()
    firsts: dict = {}  # group -> [(row, its distinct index)]
    n_distinct: list[int] = []
    back = []
    for i, a in enumerate(points):
        mine = firsts.setdefault(keys[i], [])
        n = next((n for j, n in mine if max(abs(a[0] - points[j][0]),
                                            abs(a[1] - points[j][1])) <= _SAME_END),
                 None) if len(a) == 2 else None
        if n is None:
            n = len(n_distinct)
            n_distinct.append(i)
            mine.append((i, n))
        back.append(n)
    return (np.array(back), theta[n_distinct],
            None if groups is None else groups[n_distinct])


def _descend(objective, theta0, scale, inside, max_steps, merge, exact=_EXACT,
             certify=True, groups=None, coarse=None, handover=None, mixed=None) -> Descent:
    """The descents of :func:`descend` on one objective; a descent whose Newton step is below
    ``exact`` (positive-definite Hessian) ends where it is, without another evaluation.  Without
    ``certify`` only θ, f, g, h and the paths are filled in (a steering run).  With ``coarse``
    and ``handover``: every descent steers on ``coarse`` until it hands over (see
    :func:`descend`)."""
    if groups is not None:  # the problems of the rows: the functions get each row's group
        objective, inside = _with_groups(objective, inside, groups)
        if coarse is not None:
            coarse = _with_groups(coarse, None, groups)[0]
    theta = theta0.copy()
    k = len(theta)
    steering = np.full(k, coarse is not None)  # rows still on the approximation
    first = coarse if coarse is not None else objective
    f, g, h = first(theta) if groups is None else first(theta, np.arange(k))
    radius = np.ones(k)
    steps: list[tuple[np.ndarray, np.ndarray]] = []
    active = np.ones(k, dtype=bool)
    finished = np.zeros(k, dtype=bool)
    merged: dict[int, tuple[int, int]] = {}
    taken = np.zeros(k, dtype=int)  # accepted points per row (for joining merged paths)
    there_newton = np.full(k, np.nan)  # the Newton step of rows that ended where they stood
    idx = np.arange(k)
    for it in range(max_steps):
        if not idx.size:
            break
        if coarse is not None and it == _STEER_STEPS and np.count_nonzero(steering[idx]):
            active[idx[steering[idx]]] = False  # crawling on the approximation: continued
            idx = idx[~steering[idx]]  # afterwards
            if not idx.size:
                break
        th = theta.take(idx, axis=0)
        d = scale(th)
        rad = radius[idx]
        step, newton, positive, pred, length, cut = newton_steps(g.take(idx, axis=0),
                                                                h.take(idx, axis=0), d, rad)
        trial = th + step
        go = None  # which rows step on (None: all)
        steer = None if coarse is None else steering[idx]
        any_done = np.count_nonzero(finished)
        if merge and (idx.size > 1 or any_done):
            ready = positive & (newton <= _MERGE_NEWTON) & ~cut
            n_ready = np.count_nonzero(ready)
            if n_ready and (n_ready > 1 or any_done):
                points, rows = trial[ready] / d[ready], idx[ready]
                done = finished.nonzero()[0]
                if done.size:
                    points = np.concatenate([theta[done] / scale(theta[done]), points])
                    rows = np.concatenate([done, rows])
                _merge(points, rows, done.size, active, merged, taken, groups,
                       _lead(newton, ready, steer))
                go = active[idx]  # merged this step: ended, in its partner
        there = positive & (newton <= exact)
        if steer is not None:
            there &= ~steer
        if go is not None:
            there &= go
        if np.count_nonzero(there):
            active[idx[there]] = False
            finished[idx[there]] = True
            there_newton[idx[there]] = newton[there]
            go = ~there if go is None else go & ~there
        n_go = None if go is None else np.count_nonzero(go)
        if n_go is not None and n_go < len(go):
            if not n_go:  # every row ended or merged (the last step of most descents)
                idx = idx[:0]
                continue
            go = go.nonzero()[0]
            idx, trial, newton, positive, pred, length, cut, rad = (
                a.take(go, axis=0) for a in (idx, trial, newton, positive, pred, length, cut,
                                             rad))
            if steer is not None:
                steer = steer[go]
        polish = positive & (newton <= _POLISH)
        hand = None
        if steer is None or not np.count_nonzero(steer):
            ft, gt, ht = objective(trial) if groups is None else objective(trial, idx)
        else:
            hand = steer & positive & (newton <= handover)  # evaluated on the objective
            ft, gt, ht = _evaluate(objective, coarse, trial, idx, steer & ~hand, groups,
                                   mixed)
            if not np.count_nonzero(hand):
                hand = None
        fi = f[idx]
        drop = ft - fi
        ok = polish | (drop <= 0.1 * pred)
        if hand is not None:
            ok |= hand
        ok &= np.isfinite(ft)
        within = None
        if inside is not None:
            within = inside(trial) if groups is None else inside(trial, idx)
            ok &= within
        if hand is not None:
            steering[idx[hand & ok]] = False
        # a step cut by the radius that went as predicted: the radius doubles
        grow = ok & cut & (drop <= 0.75 * pred) if np.count_nonzero(cut) else None
        if np.count_nonzero(ok) == len(ok):  # the usual case, in fewer operations
            if grow is not None and np.count_nonzero(grow):
                radius[idx] = np.where(grow, np.minimum(2.0 * rad, _MAX_RADIUS), rad)
            theta[idx], f[idx], g[idx], h[idx] = trial, ft, gt, ht
            steps.append((idx, trial))
            taken[idx] += 1
            ended = polish & (newton <= _DONE)
        else:
            kept = np.where(ok, rad, 0.25 * length)
            radius[idx] = (kept if grow is None
                           else np.where(grow, np.minimum(2.0 * rad, _MAX_RADIUS), kept))
            take = idx[ok]
            if take.size:
                theta[take], f[take], g[take], h[take] = trial[ok], ft[ok], gt[ok], ht[ok]
                steps.append((take, trial[ok]))
                taken[take] += 1
            stuck = ~ok & (radius[idx] < 1e-13)
            if within is not None:  # pressed against the edge of the allowed region, far from
                # any stationary point: the descent would creep up to the edge geometrically
                stuck |= ~within & (radius[idx] < _PINNED) & (newton > _PINNED_NEWTON)
            flat = ~ok & ~positive & (np.abs(pred) <= 1e-15 * (1.0 + np.abs(fi)))
            ended = (ok & polish & (newton <= _DONE)) | stuck | flat
        if hand is not None:  # a handover step ends nothing: the objective's own steps follow
            ended &= ~(hand & ok)
        if np.count_nonzero(ended):
            active[idx[ended]] = False
            if steer is None:
                finished[idx[ended & positive]] = True
            else:  # rows ended on the approximation are continued afterwards, not minima
                finished[idx[ended & positive & ~steering[idx]]] = True
            idx = idx[~ended]
    owner = np.arange(k)  # whose end each row's is (itself, or the descent it merged into)
    joins = []
    for j, (i, at) in sorted(merged.items()):  # a merged descent ends where its partner did
        for _ in range(k):  # follow the chain (it has no cycle: only active rows merge)
            if i not in merged:
                break
            i = merged[i][0]
        theta[j], f[j], g[j], h[j] = theta[i], f[i], g[i], h[i]
        owner[j] = i
        joins.append((j, i, at))
    if not certify:
        return Descent(theta, f, g, h, None, None, None, None, _paths(theta0, steps, joins))
    d = scale(theta)
    newton = there_newton[owner]  # known where a descent ended without another step
    positive = ~np.isnan(newton)
    todo = (~positive).nonzero()[0]
    if todo.size:
        _, newton[todo], positive[todo], _, _, _ = newton_steps(g[todo], h[todo], d[todo],
                                                                np.ones(todo.size))
    certified = positive & (newton <= STEP_TOL)
    if inside is not None:
        certified &= inside(theta) if groups is None else inside(theta, np.arange(k))
    run = Descent(theta, f, g, h, _norms(g * d), newton, positive, certified,
                  _paths(theta0, steps, joins))
    if coarse is not None:
        run.steered = steering[owner]  # rows whose end is still one of the approximation
    return run


def _lead(newton, ready, steer):
    """How far each ready descent is from its minimum, for :func:`_merge` (the nearer goes on):
    its Newton step, and one more for a descent still steering (one on the objective itself has
    already paid for its evaluations there)."""
    lead = newton[ready]
    return lead if steer is None else lead + steer[ready]


def _evaluate(objective, coarse, theta, rows, steer, groups, mixed=None):
    """f, g, h at the points θ of ``rows``: on ``coarse`` where ``steer``, else on
    ``objective`` (functions of (θ, rows) where there are ``groups``); by ``mixed(θ, steer)``
    in one call where it is given, both kinds are asked for and the rows are few (one call
    pads every row to the widest rule: for many rows two calls are cheaper)."""
    if (mixed is not None and groups is None and len(theta) <= _MIXED_ROWS and steer.any()
            and not steer.all()):
        return mixed(theta, steer)
    parts = []
    for fn, sel in ((coarse, steer), (objective, ~steer)):
        if sel.any():
            parts.append((sel, fn(theta[sel]) if groups is None else fn(theta[sel], rows[sel])))
    if len(parts) == 1:
        return parts[0][1]
    n = len(theta)
    f, g, h = np.empty(n), np.empty(theta.shape), np.empty((n,) + theta.shape[1:] * 2)
    for sel, (fs, gs, hs) in parts:
        f[sel], g[sel], h[sel] = fs, gs, hs
    return f, g, h


def _with_groups(objective, inside, groups):
    """The objective and ``inside`` of grouped rows as functions of (θ, row indices)."""
    def fn(theta, rows):
        return objective(theta, groups[rows])

    def within(theta, rows):
        return inside(theta, groups[rows])

    return fn, None if inside is None else within
