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
  steps below 0.05 that lead to within 1 % of a unit of each other) continue as one;
* optionally a cheaper approximation of the objective steers the descents to its own minima
  (Newton step below 1e-6, at most 20 steps); from each distinct end point a descent on the
  objective itself follows (usually one or two evaluations), and it alone decides the
  certificate;
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

STEP_TOL = 1e-6
MAX_STEPS = 200
_POLISH, _DONE = 1e-6, 1e-8
_MAX_RADIUS = 8.0
_PINNED, _PINNED_NEWTON = 1e-2, 1.0
# a steering descent that has not reached the coarse rule's minimum in this many steps is
# crawling (a rule too rough for the target: spikes narrower than q's panels): the objective
# itself takes over from where it is
_STEER_STEPS = 20
_MERGE_DISTANCE, _MERGE_NEWTON = 0.01, 0.05
_SAME_END = 1e-5  # coarse end points this close (scaled) are one minimum of the coarse rule
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


def newton_steps(g: np.ndarray, h: np.ndarray, d: np.ndarray, radius: np.ndarray):
    """Trust-region steps for K points: gradient g (K, n) and Hessian h (K, n, n) in θ, unit
    lengths d (K, n).  Returns the step in θ, the length of the uncut scaled Newton step,
    positive-definiteness, the predicted change of the objective, the scaled step's length and
    whether the radius cut it."""
    if g.shape[1] == 2:
        return _newton_steps_2(g, h, d, radius)
    gs = g * d
    hs = h * d[:, :, None] * d[:, None, :]
    lam, vec = np.linalg.eigh(hs)
    gv = np.einsum("nji,nj->ni", vec, gs)
    big = np.maximum(np.abs(lam[:, -1]), 1e-300)
    positive = lam[:, 0] > 1e-12 * big
    sv = -gv / np.maximum(np.abs(lam), 1e-12 * big[:, None])
    newton = np.linalg.norm(sv, axis=1)
    flat = ~positive & (np.abs(sv[:, 0]) < 0.5 * radius)
    sv[:, 0] = np.where(flat, -np.copysign(0.5 * radius, gv[:, 0]), sv[:, 0])
    ss = np.einsum("nij,nj->ni", vec, sv)
    length = np.linalg.norm(ss, axis=1)
    cut = length > radius
    ss *= np.where(cut, radius / np.maximum(length, 1e-300), 1.0)[:, None]
    pred = (gs * ss).sum(axis=1) + 0.5 * np.einsum("ni,nij,nj->n", ss, hs, ss)
    return ss * d, newton, positive, pred, np.minimum(length, radius), cut


def _newton_steps_2(g, h, d, radius):
    """:func:`newton_steps` for two parameters: the 2 × 2 eigen-decomposition in closed form
    (the rotation by ½ atan2(2b, a − c)), on columns — a few dozen operations on K numbers,
    where the general path spends most of its time calling LAPACK for tiny matrices."""
    d0, d1 = d[:, 0], d[:, 1]
    gs0, gs1 = g[:, 0] * d0, g[:, 1] * d1
    a, b, c = h[:, 0, 0] * d0 * d0, h[:, 0, 1] * d0 * d1, h[:, 1, 1] * d1 * d1
    mid, rad = 0.5 * (a + c), np.hypot(0.5 * (a - c), b)
    lo, hi = mid - rad, mid + rad
    angle = 0.5 * np.arctan2(2.0 * b, a - c)
    cs, sn = np.cos(angle), np.sin(angle)  # (cs, sn) belongs to hi, (−sn, cs) to lo
    g_lo, g_hi = cs * gs1 - sn * gs0, cs * gs0 + sn * gs1
    floor = np.maximum(np.abs(hi), 1e-300)
    floor *= 1e-12
    positive = lo > floor
    s_lo = -g_lo / np.maximum(np.abs(lo), floor)
    s_hi = -g_hi / np.maximum(np.abs(hi), floor)
    newton = np.hypot(s_lo, s_hi)
    half = 0.5 * radius
    flat = ~positive & (np.abs(s_lo) < half)
    if flat.any():
        s_lo = np.where(flat, -np.copysign(half, g_lo), s_lo)
    ss0, ss1 = cs * s_hi - sn * s_lo, sn * s_hi + cs * s_lo
    length = np.hypot(ss0, ss1)
    cut = length > radius
    if cut.any():
        shrink = np.where(cut, radius / np.maximum(length, 1e-300), 1.0)
        ss0 *= shrink
        ss1 *= shrink
        length = np.minimum(length, radius)
    pred = gs0 * ss0 + gs1 * ss1 + 0.5 * (a * ss0 * ss0 + 2.0 * b * ss0 * ss1 + c * ss1 * ss1)
    step = np.empty_like(g)
    np.multiply(ss0, d0, out=step[:, 0])
    np.multiply(ss1, d1, out=step[:, 1])
    return step, newton, positive, pred, length, cut


def descend(objective, theta0: np.ndarray, scale, inside=None, max_steps: int = MAX_STEPS,
            merge: bool = True, coarse=None, exact: float = _EXACT, groups=None) -> Descent:
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
    """
    theta0 = np.array(theta0, dtype=float)
    if groups is not None:
        groups = np.asarray(groups)
    if coarse is None:
        return _descend(objective, theta0, scale, inside, max_steps, merge, exact=exact,
                        groups=groups)
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
             certify=True, groups=None) -> Descent:
    """The descents of :func:`descend` on one objective; a descent whose Newton step is below
    ``exact`` (positive-definite Hessian) ends where it is, without another evaluation.  Without
    ``certify`` only θ, f, g, h and the paths are filled in (a steering run)."""
    if groups is not None:  # the problems of the rows: the functions get each row's group
        objective, inside = _with_groups(objective, inside, groups)
    theta = theta0.copy()
    k = len(theta)
    f, g, h = objective(theta) if groups is None else objective(theta, np.arange(k))
    radius = np.ones(k)
    steps: list[tuple[np.ndarray, np.ndarray]] = []
    active = np.ones(k, dtype=bool)
    finished = np.zeros(k, dtype=bool)
    merged: dict[int, tuple[int, int]] = {}
    taken = np.zeros(k, dtype=int)  # accepted points per row (for joining merged paths)
    idx = np.arange(k)
    for _ in range(max_steps):
        if not idx.size:
            break
        th = theta[idx]
        d = scale(th)
        rad = radius[idx]
        step, newton, positive, pred, length, cut = newton_steps(g[idx], h[idx], d, rad)
        go = None  # which rows step on (None: all)
        if merge and (idx.size > 1 or finished.any()):
            ready = positive & (newton <= _MERGE_NEWTON) & ~cut
            if ready.any() and (ready.sum() > 1 or finished.any()):
                done = np.flatnonzero(finished)
                _merge(np.concatenate([theta[done] / scale(theta[done]),
                                       (th[ready] + step[ready]) / d[ready]]),
                       np.concatenate([done, idx[ready]]), done.size, active, merged, taken,
                       groups)
                go = active[idx]  # merged this step: ended, in its partner
        there = positive & (newton <= exact)
        if go is not None:
            there &= go
        if there.any():
            active[idx[there]] = False
            finished[idx[there]] = True
            go = ~there if go is None else go & ~there
        if go is not None and not go.all():
            idx, th, step, newton, positive, pred, length, cut, rad = (
                a[go] for a in (idx, th, step, newton, positive, pred, length, cut, rad))
            if not idx.size:
                continue
        polish = positive & (newton <= _POLISH)
        trial = th + step
        ft, gt, ht = objective(trial) if groups is None else objective(trial, idx)
        fi = f[idx]
        drop = ft - fi
        ok = np.isfinite(ft) & (polish | (drop <= 0.1 * pred))
        within = None
        if inside is not None:
            within = inside(trial) if groups is None else inside(trial, idx)
            ok &= within
        grow = ok & cut & (drop <= 0.75 * pred)
        if ok.all():  # the usual case, in fewer operations
            if grow.any():
                radius[idx] = np.where(grow, np.minimum(2.0 * rad, _MAX_RADIUS), rad)
            theta[idx], f[idx], g[idx], h[idx] = trial, ft, gt, ht
            steps.append((idx, trial))
            taken[idx] += 1
            ended = polish & (newton <= _DONE)
        else:
            radius[idx] = np.where(grow, np.minimum(2.0 * rad, _MAX_RADIUS),
                                   np.where(ok, rad, 0.25 * length))
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
        if ended.any():
            active[idx[ended]] = False
            finished[idx[ended & positive]] = True
            idx = idx[~ended]
    joins = []
    for j, (i, at) in sorted(merged.items()):  # a merged descent ends where its partner did
        for _ in range(k):  # follow the chain (it has no cycle: only active rows merge)
            if i not in merged:
                break
            i = merged[i][0]
        theta[j], f[j], g[j], h[j] = theta[i], f[i], g[i], h[i]
        joins.append((j, i, at))
    if not certify:
        return Descent(theta, f, g, h, None, None, None, None, _paths(theta0, steps, joins))
    d = scale(theta)
    _, newton, positive, _, _, _ = newton_steps(g, h, d, np.ones(k))
    certified = positive & (newton <= STEP_TOL)
    if inside is not None:
        certified &= inside(theta) if groups is None else inside(theta, np.arange(k))
    return Descent(theta, f, g, h, np.linalg.norm(g * d, axis=1), newton, positive, certified,
                   _paths(theta0, steps, joins))


def _with_groups(objective, inside, groups):
    """The objective and ``inside`` of grouped rows as functions of (θ, row indices)."""
    def fn(theta, rows):
        return objective(theta, groups[rows])

    def within(theta, rows):
        return inside(theta, groups[rows])

    return fn, None if inside is None else within


def _merge(points, rows, n_done, active, merged, taken, groups=None) -> None:
    """Stop a descent whose Newton step leads to within ``_MERGE_DISTANCE`` (scaled ``points``)
    of a minimum already reached (the first ``n_done`` rows) or of where an earlier descent's
    step leads, in its group: the same minimum."""
    if rows.size < 2:
        return
    mine = None if groups is None else groups[rows]
    if mine is None or (mine == mine[0]).all():  # one problem: every pair as one matrix
        near = np.tril(_gap(points[:, None, :], points[None, :, :]) <= _MERGE_DISTANCE, -1)
        pairs = zip(*(a.tolist() for a in np.nonzero(near)), strict=True)
    else:
        pairs = _group_pairs(points, mine)
    for b, a in sorted(pairs):  # each later row, its earlier ones first
        if b < n_done or not active[rows[b]]:
            continue  # a minimum already reached, or merged just now
        if a < n_done or active[rows[a]]:
            a = rows[a]
            active[rows[b]] = False
            merged[int(rows[b])] = (int(a), int(taken[a]))


def _gap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The largest coordinate difference of points a and b (broadcast; last axis: coordinates),
    for two coordinates without a reduction over a short axis."""
    if a.shape[-1] == 2:
        return np.maximum(np.abs(a[..., 0] - b[..., 0]), np.abs(a[..., 1] - b[..., 1]))
    return np.abs(a - b).max(axis=-1)


def _group_pairs(points: np.ndarray, key: np.ndarray) -> list[tuple[int, int]]:
    """(later row, earlier row) of the pairs of one group within ``_MERGE_DISTANCE``: each
    group's rows sorted together, compared at offsets 1, 2, … up to the largest group."""
    order = np.argsort(key, kind="stable")  # each group's rows together, in their order
    ks, ps = key[order], points[order]
    pairs: list[tuple[int, int]] = []
    for o in range(1, key.size):
        same = ks[o:] == ks[:-o]
        if not same.any():  # groups are contiguous: none is larger than o
            break
        i = np.flatnonzero(same & (_gap(ps[o:], ps[:-o]) <= _MERGE_DISTANCE))
        pairs += zip(order[i + o].tolist(), order[i].tolist(), strict=True)
    return pairs
