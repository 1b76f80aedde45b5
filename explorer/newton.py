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
  below its rounding) are kept as they are, and a descent ends after one shorter than 1e-8;
* two descents that reach the same convex neighbourhood (both Hessians positive definite, Newton
  steps below 0.05 that lead to within 1 % of a unit of each other) continue as one;
* optionally a cheaper approximation of the objective steers each descent until its Newton step
  falls below 0.05; from there on, and for the certificate, the objective itself decides.

A point is certified a local minimum when its Newton step is below ``STEP_TOL`` — relative to the
objective's own curvature, so a KL of thousands of nats certifies as readily as one of 0.01 —
and its Hessian is positive definite.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STEP_TOL = 1e-6
MAX_STEPS = 200
_POLISH, _DONE = 1e-6, 1e-8
_MAX_RADIUS = 8.0
_MERGE_DISTANCE, _MERGE_NEWTON = 0.01, 0.05
_COARSE_UNTIL = 0.05


@dataclass
class Descent:
    """Where K descents ended: θ (K, n), objective f, gradient g and Hessian h there, the points
    each accepted (θ0 first), and the certificate: scaled gradient norm, scaled Newton step
    length, positive-definiteness, and ``certified`` (which also asks θ to be ``inside``)."""

    theta: np.ndarray
    f: np.ndarray
    g: np.ndarray
    h: np.ndarray
    visited: list[list[np.ndarray]]
    grad_norm: np.ndarray
    newton_step: np.ndarray
    positive: np.ndarray
    certified: np.ndarray


def newton_steps(g: np.ndarray, h: np.ndarray, d: np.ndarray, radius: np.ndarray):
    """Trust-region steps for K points: gradient g (K, n) and Hessian h (K, n, n) in θ, unit
    lengths d (K, n).  Returns the step in θ, the length of the uncut scaled Newton step,
    positive-definiteness, the predicted change of the objective, the scaled step's length and
    whether the radius cut it."""
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


def descend(objective, theta0: np.ndarray, scale, inside=None, max_steps: int = MAX_STEPS,
            merge: bool = True, coarse=None) -> Descent:
    """Descents from the K starts θ0 (K, n).

    ``objective(θ)`` returns f (K,), g (K, n), h (K, n, n) for a (K, n) array; ``scale(θ)`` the
    unit length of each parameter at θ, (K, n); ``inside(θ)`` (optional) which points are
    allowed: a step outside is refused, and a minimum outside is not certified.  ``coarse``
    (optional) is a cheaper approximation of ``objective`` that steers each descent while it is
    far from a minimum (Newton step above 0.05); every descent ends, and is certified, on
    ``objective`` itself.
    """
    theta = np.array(theta0, dtype=float)
    k = len(theta)
    fine = np.full(k, coarse is None)
    f, g, h = (objective if coarse is None else coarse)(theta)
    radius = np.ones(k)
    visited = [[row.copy()] for row in theta]
    active = np.ones(k, dtype=bool)
    finished = np.zeros(k, dtype=bool)
    merged: dict[int, tuple[int, int]] = {}
    for _ in range(max_steps):
        idx = np.flatnonzero(active)
        if not idx.size:
            break
        d = scale(theta[idx])
        step, newton, positive, pred, length, cut = newton_steps(g[idx], h[idx], d, radius[idx])
        switch = ~fine[idx] & (newton <= _COARSE_UNTIL)
        if switch.any():  # close enough: from here on the objective itself
            rows = idx[switch]
            fine[rows] = True
            f[rows], g[rows], h[rows] = objective(theta[rows])
            radius[rows] = 1.0
            step, newton, positive, pred, length, cut = newton_steps(g[idx], h[idx], d,
                                                                     radius[idx])
        if merge:  # within a phase: coarse minima differ from fine ones
            ready = positive & (newton <= _MERGE_NEWTON) & ~cut
            aim = (theta[idx] + step) / d
            done = np.flatnonzero(finished)
            for phase, known in ((fine[idx], done), (~fine[idx], done[:0])):
                both = ready & phase
                _merge(np.concatenate([theta[known] / scale(theta[known]), aim[both]]),
                       np.concatenate([known, idx[both]]), known.size, active, merged, visited)
        polish = positive & (newton <= _POLISH) & fine[idx]
        trial = theta[idx] + step
        allowed = inside(trial) if inside is not None else np.ones(len(idx), dtype=bool)
        ft, gt, ht = _evaluate(objective, coarse, trial, fine[idx])
        ok = allowed & np.isfinite(ft) & (polish | (ft - f[idx] <= 0.1 * pred))
        ok &= active[idx]
        grow = ok & cut & (ft - f[idx] <= 0.75 * pred)
        radius[idx] = np.where(grow, np.minimum(2.0 * radius[idx], _MAX_RADIUS),
                               np.where(ok, radius[idx], 0.25 * length))
        take = idx[ok]
        theta[take], f[take], g[take], h[take] = trial[ok], ft[ok], gt[ok], ht[ok]
        for i in take:
            visited[i].append(theta[i].copy())
        stuck = ~ok & (radius[idx] < 1e-13)
        flat = ~ok & ~positive & (np.abs(pred) <= 1e-15 * (1.0 + np.abs(f[idx])))
        ended = ((ok & polish & (newton <= _DONE)) | stuck | flat) & active[idx]  # not merged
        if coarse is not None:  # a coarse descent that stalls goes on with the objective
            stalled = idx[ended & ~fine[idx]]
            if stalled.size:
                fine[stalled] = True
                f[stalled], g[stalled], h[stalled] = objective(theta[stalled])
                radius[stalled] = 1.0
            ended &= fine[idx] & ~np.isin(idx, stalled)
        ended &= active[idx]  # merged this step: already ended, into its partner (no cycle)
        active[idx[ended]] = False
        finished[idx[ended & positive & fine[idx]]] = True
    if not fine.all():  # out of steps while coarse: certify on the objective all the same
        rows = np.flatnonzero(~fine)
        f[rows], g[rows], h[rows] = objective(theta[rows])
    for j, (i, at) in sorted(merged.items()):  # a merged descent ends where its partner did
        for _ in range(k):  # follow the chain (it has no cycle: only active rows merge)
            if i not in merged:
                break
            i = merged[i][0]
        theta[j], f[j], g[j], h[j] = theta[i], f[i], g[i], h[i]
        visited[j] = visited[j] + visited[i][at:]
    d = scale(theta)
    _, newton, positive, _, _, _ = newton_steps(g, h, d, np.ones(k))
    certified = positive & (newton <= STEP_TOL)
    if inside is not None:
        certified &= inside(theta)
    return Descent(theta, f, g, h, visited, np.linalg.norm(g * d, axis=1), newton, positive,
                   certified)


def _evaluate(objective, coarse, theta: np.ndarray, fine: np.ndarray):
    """The objective at θ, by ``objective`` where ``fine`` and by ``coarse`` elsewhere."""
    if coarse is None or fine.all():
        return objective(theta)
    if not fine.any():
        return coarse(theta)
    f = np.empty(len(theta))
    g = np.empty(theta.shape)
    h = np.empty((*theta.shape, theta.shape[1]))
    for rows, fn in ((fine, objective), (~fine, coarse)):
        f[rows], g[rows], h[rows] = fn(theta[rows])
    return f, g, h


def _merge(points, rows, n_done, active, merged, visited) -> None:
    """Stop a descent whose Newton step leads to within ``_MERGE_DISTANCE`` (scaled ``points``)
    of a minimum already reached (the first ``n_done`` rows) or of where an earlier descent's
    step leads: the same minimum."""
    if rows.size < 2:
        return
    gap = np.abs(points[:, None, :] - points[None, :, :]).max(axis=2)
    for b in range(max(n_done, 1), rows.size):
        close = [a for a in np.flatnonzero(gap[b, :b] <= _MERGE_DISTANCE)
                 if a < n_done or active[rows[a]]]
        if close:
            a = rows[close[0]]
            active[rows[b]] = False
            merged[int(rows[b])] = (int(a), len(visited[a]))
