"""The pieces of one step of :func:`explorer.newton.descend`: trust-region Newton steps for K
points at once (the 2 × 2 case in closed form), and the merging of descents that reach one
minimum."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

_MERGE_DISTANCE, _MERGE_NEWTON = 0.01, 0.05


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
    newton = _norms(sv)
    if np.count_nonzero(positive) < len(positive):
        flat = ~positive & (np.abs(sv[:, 0]) < 0.5 * radius)
        sv[:, 0] = np.where(flat, -np.copysign(0.5 * radius, gv[:, 0]), sv[:, 0])
    ss = np.einsum("nij,nj->ni", vec, sv)
    length = _norms(ss)
    cut = length > radius
    if np.count_nonzero(cut):
        ss *= np.where(cut, radius / np.maximum(length, 1e-300), 1.0)[:, None]
        length = np.minimum(length, radius)
    pred = (gs * ss).sum(axis=1) + 0.5 * np.einsum("ni,nij,nj->n", ss, hs, ss)
    return ss * d, newton, positive, pred, length, cut


def _norms(x: np.ndarray) -> np.ndarray:
    """The Euclidean length of each row of x (K, n): np.linalg.norm(x, axis=1), without the
    wrapper's checks."""
    return np.sqrt(np.add.reduce(x * x, axis=1))


_SIGNS = np.array([[-1.0], [1.0]])  # rows (lo, hi) of a 2 × 2 eigen-pair


def _newton_steps_2(g, h, d, radius):
    """:func:`newton_steps` for two parameters: the 2 × 2 eigen-decomposition in closed form
    (the rotation by ½ atan2(2b, a − c)), on (2, K) arrays of eigen-coordinates (row 0 for the
    smaller eigenvalue, row 1 for the larger) — three dozen operations on K numbers, where the
    general path spends most of its time calling LAPACK for tiny matrices."""
    gs = g * d
    hs = h * (d[:, :, None] * d[:, None, :])
    a, b, c = hs[:, 0, 0], hs[:, 0, 1], hs[:, 1, 1]
    half_gap = 0.5 * (a - c)
    lam = np.hypot(half_gap, b) * _SIGNS
    lam += 0.5 * (a + c)  # (lo, hi)
    angle = np.arctan2(b, half_gap)
    angle *= 0.5
    cs, sn = np.cos(angle), np.sin(angle)  # (cs, sn) belongs to hi, (−sn, cs) to lo
    gt = gs.T
    gv = cs * gt[::-1]  # g in eigen-coordinates: (cs·g1 − sn·g0, cs·g0 + sn·g1)
    gv += sn * (gt * _SIGNS)
    floor = np.abs(lam[1])
    np.maximum(floor, 1e-300, out=floor)
    floor *= 1e-12
    positive = lam[0] > floor
    sv = gv / np.maximum(np.abs(lam), floor)
    np.negative(sv, out=sv)
    newton = np.hypot(sv[0], sv[1])
    half = 0.5 * radius
    flat = ~positive & (np.abs(sv[0]) < half)
    if np.count_nonzero(flat):
        sv[0] = np.where(flat, -np.copysign(half, gv[0]), sv[0])
    ss = cs * sv[::-1]  # back to scaled coordinates: (cs·s_hi − sn·s_lo, sn·s_hi + cs·s_lo)
    ss += sn * (sv * _SIGNS)
    length = np.hypot(ss[0], ss[1])
    cut = length > radius
    if np.count_nonzero(cut):
        shrink = np.where(cut, radius / np.maximum(length, 1e-300), 1.0)
        ss *= shrink
        sv *= shrink
        length = np.minimum(length, radius)
    pred = 0.5 * lam  # the quadratic model's change, in eigen-coordinates
    pred *= sv
    pred += gv
    pred *= sv
    ss *= d.T
    return ss.T, newton, positive, pred.sum(axis=0), length, cut


def _merge(points, rows, n_done, active, merged, taken, groups=None, lead=None) -> None:
    """Stop a descent whose Newton step leads to within ``_MERGE_DISTANCE`` (scaled ``points``)
    of a minimum already reached (the first ``n_done`` rows) or of where another descent's
    step leads, in its group: the same minimum.  Of two descents the one with the longer
    Newton step (``lead``, for the rows after the first ``n_done``; without it, the later
    row) stops, and the one nearer the minimum goes on."""
    if rows.size < 2:
        return
    mine = None if groups is None else groups[rows]
    if mine is None or (mine == mine[0]).all():  # one problem: every pair (later, earlier)
        later, earlier = _lower_pairs(rows.size)
        hit = np.flatnonzero(_gap(points[later], points[earlier]) <= _MERGE_DISTANCE)
        if not hit.size:
            return
        pairs = zip(later[hit].tolist(), earlier[hit].tolist(), strict=True)
    else:
        pairs = _group_pairs(points, mine)
    for b, a in sorted(pairs):  # each later row, its earlier ones first
        if b < n_done:
            continue  # two minima already reached
        if lead is not None and a >= n_done and lead[a - n_done] > lead[b - n_done]:
            a, b = b, a  # the earlier row is farther from the minimum: it stops
        if not active[rows[b]]:
            continue  # merged just now
        if a < n_done or active[rows[a]]:
            a = rows[a]
            active[rows[b]] = False
            merged[int(rows[b])] = (int(a), int(taken[a]))


@lru_cache(maxsize=64)
def _lower_pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(later, earlier) row indices of every pair of n rows: each later row in order, with its
    earlier ones in order (the order in which :func:`_merge` settles pairs)."""
    return np.tril_indices(n, -1)


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
