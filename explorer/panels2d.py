"""The adaptive panel rule for expectations under 2-D Gaussians, E_q[φ] for q = N(μ, L Lᵀ): what
:mod:`explorer.rules2d` hands a q to where its trapezoid rule does not settle (a ridge narrower
than the grid, a sharp turn of log p between components in q's tail).

:func:`panel_rule` — adaptive tensor Gauss–Legendre panels in q's whitened coordinates, each
split in four until it agrees with its halves; panels near a narrow component are split down
to a few of its sds first, so that no component falls between nodes, and a panel across a turn
of p that its halves cannot resolve is split regardless.  Sharp transitions of log p between
components (width ~ σ²/distance, far narrower than q's sd where q is wide or a component a
ridge) are resolved where they are, not over the whole grid as the trapezoid rule must."""

from __future__ import annotations

import math

import numpy as np

from explorer.distributions import LOG_2PI
from explorer.mvnormal import MvMixture

# The region both 2-D rules cover in q's whitened coordinates: the panel rule the square
# |t|∞ ≤ RADIUS, the trapezoid rule the ball |t| ≤ RADIUS (the Gaussian mass beyond is < e⁻⁴⁵).
RADIUS = 9.5
# The panel rule: Gauss–Legendre order per axis; agreement asked of a panel and its four halves
# (relative to E_q[|φ|], at least 1; at 1e-11 a panel straddling where p's dominant component
# changes passed with KL(q‖p) 1.3e-9 off in one frame, right in a rotated one); the narrowest
# half-width it splits to.
PANEL_ORDER = 8
PANEL_TOL = 1e-12
# The panel rule's agreement while steering a descent far from any minimum (kinks of log p
# between narrow modes then no longer split panels down to MIN_HALF_WIDTH along whole lines).
LOOSE_TOL = 1e-6
LOOSE_MIN_HALF_WIDTH = 2.0**-5
LOOSE_BUDGET = 100_000
MIN_HALF_WIDTH = 2.0**-12
# Bounds on one evaluation: the panel rule evaluates at most NODE_BUDGET nodes per call (~1 s of
# one core for four components with derivatives; beyond it the q's still unsettled are returned
# as cut, not certified), in blocks of at most BLOCK nodes (memory ~ BLOCK × a few hundred bytes).
NODE_BUDGET = 2_000_000
BLOCK = 65_536


def tensor_rule(t: np.ndarray, w: np.ndarray, d: int):
    """The d-fold tensor product of a 1-D rule (nodes t, weights w): nodes (len(t)ᵈ, d) and their
    weights."""
    grids = np.meshgrid(*([t] * d), indexing="ij")
    weights = np.meshgrid(*([w] * d), indexing="ij")
    return (np.stack([g.ravel() for g in grids], axis=1),
            np.prod(np.stack([v.ravel() for v in weights]), axis=0))


_GL = {}


def _gl_square(order: int):
    """Tensor Gauss–Legendre nodes (M, 2) on [−1, 1]² and their weights (M,)."""
    if order not in _GL:
        _GL[order] = tensor_rule(*np.polynomial.legendre.leggauss(order), 2)
    return _GL[order]


def _nearest_sq(c: np.ndarray, hw: np.ndarray) -> np.ndarray:
    """|t|² of each square's point nearest q's centre (centres c (P, 2), half-widths hw (P,)):
    q's density on the square is at most e^(−|t|²/2) of its peak."""
    nearest = np.maximum(np.abs(c) - hw[:, None], 0.0)
    return (nearest * nearest).sum(axis=1)


def _box_distance(c: np.ndarray, hw: np.ndarray, m: np.ndarray, prec: np.ndarray) -> np.ndarray:
    """min over each square (centre c (P, 2), half-width hw (P,)) of (t − m)ᵀ Λ (t − m), for the
    Gaussians (m (P, C, 2), Λ (P, C, 2, 2)): (P, C).  A convex quadratic whose minimum m lies
    outside the square is least on its edges: each edge's minimum in closed form."""
    u = m - c[:, None, :]  # the Gaussian's centre from the square's
    h = hw[:, None]
    best = np.where((np.abs(u) <= h[..., None]).all(axis=-1), 0.0, np.inf)
    for i in (0, 1):
        j = 1 - i
        lii, lij, ljj = prec[..., i, i], prec[..., i, j], prec[..., j, j]
        for side in (-1.0, 1.0):
            a = side * h - u[..., i]  # (t − m)_i on this edge
            v = np.clip(-lij * a / ljj, -h - u[..., j], h - u[..., j])  # (t − m)_j, on the edge
            best = np.minimum(best, lii * a * a + 2.0 * lij * a * v + ljj * v * v)
    return best


# points across a panel, in units of its half-width (a 5 × 5 grid)
_SAMPLES = np.stack(np.meshgrid(*[np.linspace(-1.0, 1.0, 5)] * 2, indexing="ij"),
                    axis=-1).reshape(-1, 2)


def _unresolved_turn(c: np.ndarray, hw: np.ndarray, m: np.ndarray, lam: np.ndarray,
                     level: np.ndarray, tol: np.ndarray) -> np.ndarray:
    """Panels (centres ``c``, half-widths ``hw``, in q's whitened coordinates) across which p
    turns from one component to another — the leading log density and another (means ``m``,
    precisions ``lam``, constants ``level``) within a nat of each other near one of 5 × 5 points
    of the panel — more sharply than its halves resolve: the error of Gauss–Legendre on a half,
    predicted from the turn's steepest slope at those points and the q-mass of its band, above
    ``tol``.  Such a panel is split regardless of how it agrees with its halves: both can
    miss a turn alike (a panel in q's tail agreed with its halves to 7e-12 while both were
    2.2e-9 off; one beside a narrow component to 3e-12, both 4.7e-7 off, where the slope at its
    centre was 12 and near the turn 21–43).  The prediction is an upper bound: 7e-5 there."""
    if m.shape[1] < 2:
        return np.zeros(len(c), dtype=bool)
    # at points across the panel, the gap from the leading component's ℓ to each other's and
    # its slope (a narrow component's grows fast, so the slope at the centre can miss where the
    # turn is; the leading component can change across the panel; a component parallel to the
    # leading one, its gap constant, hides no turn behind it)
    s = c[:, None, :] + hw[:, None, None] * _SAMPLES  # (P, S, 2)
    u0 = s[:, :, None, 0] - m[:, None, :, 0]  # (P, S, C), coordinate by coordinate
    u1 = s[:, :, None, 1] - m[:, None, :, 1]
    a, b, d = (lam[:, None, :, i, j] for i, j in ((0, 0), (0, 1), (1, 1)))
    g0, g1 = -(a * u0 + b * u1), -(b * u0 + d * u1)  # the gradients of ℓ_c
    logd = level[:, None, :] + 0.5 * (u0 * g0 + u1 * g1)
    lead = np.argmax(logd, axis=2)[..., None]  # (P, S, 1)
    gap = np.take_along_axis(logd, lead, axis=2) - logd
    slope = np.hypot(np.take_along_axis(g0, lead, axis=2) - g0,
                     np.take_along_axis(g1, lead, axis=2) - g1)  # (P, S, C)
    # the turn (the gap within a nat) passes through a sample's share of the panel (every point of
    # the panel is within hw·√2/4 of a sample; the gap changes by about slope × that there)
    near = ((gap <= slope * hw[:, None, None] * (math.sqrt(2.0) / 4.0) + 1.0)
            & (np.arange(logd.shape[2]) != lead))
    steepest = np.where(near, slope, 0.0).max(axis=(1, 2))
    steepest = np.maximum(steepest, 1e-300)
    # the turn's singularities (log of a sum of two exponentials: where it is 0) lie π/slope off
    # the real plane: x in units of the halves' half-width.  Gauss–Legendre's error on a half
    # falls like ρ^(−2·order), ρ = x + √(1 + x²) = e^asinh(x); times the q-mass of the turn's
    # band (its width ~1/slope across the panel), an upper bound.  In logs: no overflow where
    # the slope is ~0 (a flat turn is resolved at any width)
    with np.errstate(over="ignore"):
        x = math.pi / (steepest * hw / 2.0)
    log_err = (np.log(4.0 * hw / steepest) - 0.5 * _nearest_sq(c, hw) - LOG_2PI
               - 2.0 * PANEL_ORDER * np.arcsinh(x))
    return near.any(axis=(1, 2)) & (log_err > np.log(tol))


def panel_rule(mu: np.ndarray, chol: np.ndarray, frames: MvMixture | None, values, reduce,
               budget: int | None = None, tol: float = PANEL_TOL,
               min_half_width: float = MIN_HALF_WIDTH, spent=None):
    """``reduce``'s per-q results of the adaptive panel rule for the K 2-D Gaussians
    q_k = N(μ_k, L_k L_kᵀ), and which q's the node budget cut short: tensor Gauss–Legendre
    panels over the square |t|∞ ≤ RADIUS in q's whitened coordinates, each split in four until
    the sums of ``values`` (its first column, if it has several) on it and on its four halves
    agree to ``tol`` (``PANEL_TOL``; ``LOOSE_TOL`` and ``LOOSE_MIN_HALF_WIDTH`` to steer
    descents far from a minimum) or reach ``min_half_width``; a
    panel within 8 sd of a component of ``frames`` is split regardless
    while its half-width exceeds 8 of that component's smallest sds (so that no narrow
    component falls between nodes).  Panels whose q-mass is below e⁻⁵⁰ are dropped.  The
    halves' nodes are kept.

    ``reduce(vals, z, w, row)`` (nodes z q-whitened, weights w, q ``row``, rows contiguous)
    must be affine in the node sums (as every rule's sums are): the nodes are taken in blocks
    of ≤ ``BLOCK`` and their results added, so memory stays bounded whatever the split.  At most
    ``budget`` nodes (default ``NODE_BUDGET``) are evaluated: where a round would exceed it, only
    the q's with the fewest unsettled panels that fit go on; the others' unsettled panels are
    taken as they are and those q's returned as cut (their result is not certified).
    ``spent`` (optional, a 1-element array): the nodes evaluated are added to it."""
    k, d = mu.shape
    budget = NODE_BUDGET if budget is None else budget
    tau, omega = _gl_square(PANEL_ORDER)
    m = len(tau)
    n0 = 4
    h0 = RADIUS / n0
    axis = -RADIUS + h0 * (2 * np.arange(n0) + 1)
    c0, _ = tensor_rule(axis, np.ones(n0), 2)
    c = np.tile(c0, (k, 1))
    hw = np.full(len(c), h0)
    own = np.repeat(np.arange(k), len(c0))
    if frames is not None and len(frames.active) > 0:
        inv = np.linalg.inv(chol)
        fm = np.array([g.mu for _, g in frames.active])
        fs = np.array([g.sigma for _, g in frames.active])
        mt = np.einsum("kij,kcj->kci", inv, fm[None] - mu[:, None])  # (K, C, 2)
        st = np.einsum("kij,cjl,kml->kcim", inv, fs, inv)
        lam = np.linalg.inv(st)
        narrow = np.sqrt(np.linalg.eigvalsh(st)[..., 0])  # (K, C)
        # each component's log weight and density, up to a constant common to all, in q's units
        level = (np.array([lw for lw, _ in frames.active])[None]
                 - 0.5 * np.log(np.linalg.det(st)))  # (K, C)
    else:
        mt = None

    def evaluate(c, hw, own):
        t = [c[:, None, i] + hw[:, None] * tau[:, i] for i in range(d)]  # each (P, M)
        w = np.exp(-0.5 * (t[0] * t[0] + t[1] * t[1]) - LOG_2PI)
        w *= (hw * hw)[:, None] * omega
        x = np.empty((d, *w.shape))
        for i in range(d):  # x = μ + L t, coordinate by coordinate
            x[i] = mu[own, i, None]
            for j in range(i + 1):
                x[i] += chol[own, i, j, None] * t[j]
        vals = values(x.reshape(d, -1).T)
        v = vals if vals.ndim == 1 else vals[:, 0]
        return (np.stack([a.ravel() for a in t], axis=1), w.ravel(), vals,
                (w * v.reshape(w.shape)).sum(axis=1))

    out: list | None = None
    base: list | None = None

    def take(z, w, vals, rows):  # add the accepted nodes' results (rows sorted)
        nonlocal out, base
        if not len(w):
            return
        if (rows[1:] >= rows[:-1]).all():  # the usual case: panels stay in their q's order
            res = reduce(vals, z, w, rows)
        else:
            order = np.argsort(rows, kind="stable")
            res = reduce(vals[order], z[order], w[order], rows[order])
        if base is None:
            base = reduce(vals[:0], z[:0], w[:0], rows[:0])  # the constant part
            out = [None if r is None else np.array(r, dtype=float) for r in res]
            return
        for o, r, b in zip(out, res, base, strict=True):
            if o is not None:
                o += r - b

    def blocks(n):  # panels per block: ≤ BLOCK nodes for their kids
        step = max(BLOCK // (4 * m), 1)
        return [slice(a, a + step) for a in range(0, n, step)]

    def heavy(c, hw):  # q-mass of the square above e^-50
        return _nearest_sq(c, hw) <= 100.0

    keep = heavy(c, hw)
    c, hw, own = c[keep], hw[keep], own[keep]
    total = evaluate(c, hw, own)[3]
    used = len(c) * m
    tol = tol * np.maximum(np.bincount(own, weights=np.abs(total), minlength=k), 1.0)
    cut = np.zeros(k, dtype=bool)
    while c.size:
        if used + 4 * m * len(c) > budget:  # out of budget: the q's with the fewest unsettled
            # panels that still fit go on (a q cheap to settle is not cut for a costly one
            # evaluated with it); the others' unsettled panels are taken as they are
            pending = np.bincount(own, minlength=k)
            order = np.argsort(pending, kind="stable")
            fits = np.cumsum(4 * m * pending[order]) <= budget - used
            go_on = np.zeros(k, dtype=bool)
            go_on[order[fits]] = True
            stop = ~go_on[own]
            cut[np.unique(own[stop])] = True
            used += m * int(stop.sum())
            for b in blocks(int(stop.sum())):
                cs, hs, os_ = c[stop][b], hw[stop][b], own[stop][b]
                z, w, vals, _ = evaluate(cs, hs, os_)
                take(z, w, vals, np.repeat(os_, m))
            c, hw, own, total = c[~stop], hw[~stop], own[~stop], total[~stop]
            if not c.size:
                break
        used += 4 * m * len(c)
        nxt = []
        for b in blocks(len(c)):
            cb, hb, ob = c[b], hw[b], own[b]
            kids = np.repeat(cb, 4, axis=0) + np.tile(
                np.array([[-1, -1], [-1, 1], [1, -1], [1, 1]]), (len(cb), 1)
            ) * np.repeat(hb, 4)[:, None] / 2
            kid_hw, kid_own = np.repeat(hb, 4) / 2, np.repeat(ob, 4)
            keep = heavy(kids, kid_hw)
            kids, kid_hw, kid_own = kids[keep], kid_hw[keep], kid_own[keep]
            parent = np.repeat(np.arange(len(cb)), 4)[keep]
            t, w, vals, sums = evaluate(kids, kid_hw, kid_own)
            split = np.abs(total[b] - np.bincount(parent, weights=sums, minlength=len(cb))) \
                > tol[ob]
            if mt is not None:
                far = _box_distance(cb, hb, mt[ob], lam[ob])
                split |= ((far <= 64.0) & (hb[:, None] > 8.0 * narrow[ob])).any(axis=1)
                split |= _unresolved_turn(cb, hb, mt[ob], lam[ob], level[ob], tol[ob])
            split &= hb > min_half_width
            accept = np.repeat(~split[parent], m)
            take(t[accept], w[accept], vals[accept], np.repeat(kid_own, m)[accept])
            more = split[parent]
            nxt.append((kids[more], kid_hw[more], kid_own[more], sums[more]))
        c = np.concatenate([a[0] for a in nxt])
        hw = np.concatenate([a[1] for a in nxt])
        own = np.concatenate([a[2] for a in nxt])
        total = np.concatenate([a[3] for a in nxt])
    if out is None:  # nothing accepted (cannot happen: every q has panels of mass)
        raise RuntimeError("panel_rule: no nodes")
    if spent is not None:
        spent[0] += used
    return out, cut
