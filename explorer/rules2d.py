"""Deterministic rules for expectations under d-dimensional Gaussians, E_q[φ] for q = N(μ, L Lᵀ),
with an error estimate: what :mod:`explorer.vi2d` integrates log densities of mixtures with.

* :func:`adaptive` — the trapezoid rule on the grid hℤᵈ in q's whitened coordinates x = μ + L t,
  cut to the ball |t| ≤ 9.5 (the Gaussian mass beyond is < e⁻⁴⁵).  For an integrand analytic in a
  strip its error falls like exp(−2πδ/h): halving h squares it.  Each q starts at the widest
  level whose coarser grid (2h, a subset of the nodes) is no wider than the narrowest target
  component that overlaps q, in q's coordinates (a narrow ridge, aligned with the grid or not,
  is then sampled finely enough by both grids that their agreement means convergence), and is
  refined until the sums on the grids h and 2h agree to ``TOL``; the finer sum is kept, its
  error then mostly ~ the square of that difference — but only at most the difference where
  the error's prefactor is small, so a value computed for itself (a KL shown, not a descent's
  step) is asked to agree to ``VALUE_TOL``.  A q that has not settled by h = 1/16 (or
  whose narrowest component is below 1/8 of its sd) is taken by the panel rule below
  (cheaper there than the grid 1/32's 290k nodes, which rarely settles either).
* :func:`panel_rule` — adaptive tensor Gauss–Legendre panels in q's whitened coordinates, each
  split in four until it agrees with its halves; panels near a narrow component are split down
  to a few of its sds first, so that no component falls between nodes.  Sharp transitions of
  log p between components (width ~ σ²/distance, far narrower than q's sd where q is wide or
  a component a ridge) are resolved where they are, not over the whole grid as the trapezoid
  rule must: ~1e-13 relative against the nested-quad reference where the trapezoid rule's
  old fallback (a partition of unity over frames) lost ~1e-5.
* :func:`on_grid` — the trapezoid rule on one grid, without refinement: steers descents.
"""

from __future__ import annotations

import math

import numpy as np

from explorer.distributions import LOG_2PI
from explorer.mvnormal import MvMixture

RADIUS = 9.5
# The steering grids stop at |t| = 7.5: the mass beyond (e^-28) moves a steered end by ~1e-10,
# far inside the certificate's 1e-6, for 0.6 of the nodes.
STEER_RADIUS = 7.5
LEVELS = (0.5, 0.25, 0.125, 0.0625)
# Agreement of the grids h and 2h asked of the value (relative to max(|f|, 1e-3)) and of the
# gradient (to max(|g|, 1)): the finer sum's error is then ~ C·difference², C ≲ 1e3 seen.  The
# gradient needs less: it only has to place the minimum well within the certificate's 1e-6.
TOL = ((1e-7, 1e-3), (1e-5, 1.0))
# A value computed alone (a KL or entropy shown: explorer.vi2d.kl_mv, expect) is asked for an
# agreement of h and 2h of VALUE_TOL, as the finer sum's error is at most their difference, and
# near it where a transition between p's components lies in q's tail: there the error's
# prefactor is small and it falls slower than the square of the difference (differences of 8e-8
# and 5e-8 left errors of 1.4e-9 on the grid 1/4 and 1.9e-9 on 1/16, where the next rule has
# 1e-15).  A value that does not settle so by 1/16 goes to the panel rule: on 40 random 2–4
# component targets that cost the KL values shown 7% more time.  The descents' own evaluations
# keep TOL: asking it of them doubled a three-mode fit's time, for errors of 1e-11–1e-15 on the
# presets' optima.
VALUE_TOL = 1e-10

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
# A panel across a turn of p between components is split while the turn is narrower than
# 1/TURN_NODES of its halves' half-width (_unresolved_turn): then the halves resolve it, and
# their agreement with the panel means what it says (at 4: 80k nodes where 55k missed one).
TURN_NODES = 4.0
# Components whose Bhattacharyya overlap with q is below e^-50 do not set its first level.
_MIN_OVERLAP = -50.0
# Bounds on one evaluation: the panel rule evaluates at most NODE_BUDGET nodes per call (~1 s of
# one core for four components with derivatives; beyond it the q's still unsettled are returned
# as cut, not certified), in blocks of at most BLOCK nodes (memory ~ BLOCK × a few hundred bytes).
NODE_BUDGET = 2_000_000
BLOCK = 65_536


def _tensor(t: np.ndarray, w: np.ndarray, d: int):
    grids = np.meshgrid(*([t] * d), indexing="ij")
    weights = np.meshgrid(*([w] * d), indexing="ij")
    return (np.stack([g.ravel() for g in grids], axis=1),
            np.prod(np.stack([v.ravel() for v in weights]), axis=0))


def on_grid(mu: np.ndarray, chol: np.ndarray, h: float):
    """Nodes x, q-whitened z, weights and rows of the trapezoid rule on the one grid h under each
    q_k alone (no error estimate): the cheap rule that steers descents."""
    k, d = mu.shape
    t, w, _ = grid(h, d, STEER_RADIUS)
    return nodes(mu, chol, t), t, w, None  # row None: (t, w) is every q's rule in turn


def nodes(mu: np.ndarray, chol: np.ndarray, t: np.ndarray) -> np.ndarray:
    """x = μ_k + L_k t for every q_k and every template node t (M, d), q by q: (K·M, d),
    Fortran-ordered (each coordinate contiguous, as the mixtures' columns take them)."""
    k, d = mu.shape
    x = np.empty((d, k, len(t)))
    for i in range(d):
        x[i] = mu[:, i, None]
        for j in range(i + 1):
            x[i] += chol[:, i, j, None] * t[:, j]
    return x.reshape(d, -1).T


def _log_overlap(m1, s1, m2, s2) -> np.ndarray:
    """log of the Bhattacharyya coefficient ∫√(g1 g2) for batches of Gaussians."""
    sbar = 0.5 * (s1 + s2)
    diff = m1 - m2
    quad = np.einsum("...i,...i->...", diff, np.linalg.solve(sbar, diff[..., None])[..., 0])
    ld = np.linalg.slogdet(sbar)[1] - 0.25 * (np.linalg.slogdet(s1)[1] + np.linalg.slogdet(s2)[1])
    return -quad / 8.0 - 0.5 * ld


# --- the adaptive panel rule ----------------------------------------------------------------
_GL = {}


def _gl_square(order: int):
    """Tensor Gauss–Legendre nodes (M, 2) on [−1, 1]² and their weights (M,)."""
    if order not in _GL:
        _GL[order] = _tensor(*np.polynomial.legendre.leggauss(order), 2)
    return _GL[order]


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


def _unresolved_turn(c: np.ndarray, hw: np.ndarray, m: np.ndarray, lam: np.ndarray,
                     level: np.ndarray, tol: np.ndarray) -> np.ndarray:
    """Panels (centres ``c``, half-widths ``hw``, in q's whitened coordinates) across which p
    turns from its dominant component to the next — their log densities (means ``m``,
    precisions ``lam``, constants ``level``) within a nat of each other somewhere in the panel,
    to first order — more sharply than the panel's halves resolve (the turn's width, 1/slope,
    below 1/``TURN_NODES`` of their half-width), where the turn's band could carry more than
    ``tol``: a panel and its halves that both miss a turn can agree by chance (one in q's tail
    agreed to 7e-12 while both were 2.2e-9 off)."""
    if m.shape[1] < 2:
        return np.zeros(len(c), dtype=bool)
    u = c[:, None, :] - m  # (P, C, 2)
    grad = -np.einsum("pcij,pcj->pci", lam, u)
    logd = level + 0.5 * np.einsum("pci,pci->pc", u, grad)
    top = np.argsort(-logd, axis=1)[:, :2]
    rows = np.arange(len(c))
    gap = logd[rows, top[:, 0]] - logd[rows, top[:, 1]]
    slope = np.linalg.norm(grad[rows, top[:, 0]] - grad[rows, top[:, 1]], axis=1)
    nearest = np.maximum(np.abs(c) - hw[:, None], 0.0)
    band = np.exp(-0.5 * (nearest * nearest).sum(axis=1)) * 4.0 * hw / np.maximum(slope, 1e-300)
    return ((gap <= slope * hw * math.sqrt(2.0) + 1.0) & (slope * hw / 2.0 > TURN_NODES)
            & (band > tol))


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
    c0, _ = _tensor(axis, np.ones(n0), 2)
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
        nearest = np.maximum(np.abs(c) - hw[:, None], 0.0)
        return (nearest * nearest).sum(axis=1) <= 100.0

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


# --- the adaptive trapezoid rule ------------------------------------------------------------
_GRIDS: dict[tuple[float, int, float], tuple[np.ndarray, np.ndarray, int]] = {}


def grid(h: float, d: int, radius: float = RADIUS):
    """(nodes t (M, d), weights (M,) for E_N(0,I), and how many of the nodes lie on the grid 2h),
    cut to the ball |t| ≤ radius.  The grid 2h's nodes come first, in its own order (for h < 1):
    its sums take the first values of the grid h's, with no copy of the others."""
    if (h, d, radius) not in _GRIDS:
        n = int(radius / h)
        axis = np.arange(-n, n + 1)
        k, _ = _tensor(axis.astype(float), np.ones(len(axis)), d)
        k = k[(k * k).sum(axis=1) <= (radius / h) ** 2]
        even = (k % 2 == 0).all(axis=1)
        if h < 1.0:  # h·2k is (2h)·k exactly: the grid 2h's nodes
            t = np.concatenate([grid(2.0 * h, d, radius)[0], h * k[~even]])
        else:
            t = h * np.concatenate([k[even], k[~even]])
        w = np.exp(d * math.log(h) - 0.5 * (t * t).sum(axis=1) - 0.5 * d * LOG_2PI)
        _GRIDS[(h, d, radius)] = (t, w, int(even.sum()))
    return _GRIDS[(h, d, radius)]


def _by_q(vals: np.ndarray, k: int) -> np.ndarray:
    """Values (N, ...) of k q's, q by q, as (..., k, M): the node axis last (a view for the
    mixtures' column-ordered values)."""
    a = vals.T
    return a.reshape(*a.shape[:-1], k, -1)


def first_level(mu: np.ndarray, chol: np.ndarray, frames: MvMixture | None) -> np.ndarray:
    """Per q, the index into LEVELS to start at (len(LEVELS): go to the panel rule): the
    widest h with 2h ≤ the smallest sd, in q's whitened coordinates, of any component of
    ``frames`` that overlaps q."""
    k, d = mu.shape
    if frames is None:
        return np.zeros(k, dtype=int)
    fs = np.array([c.sigma for c in frames.components])
    fm = np.array([c.mu for c in frames.components])
    sq = np.einsum("kij,klj->kil", chol, chol)
    use = _log_overlap(mu[:, None], sq[:, None], fm[None], fs[None]) > _MIN_OVERLAP  # (K, C)
    inv = np.linalg.inv(chol)
    local = np.einsum("kij,cjl,kml->kcim", inv, fs, inv)  # components in q's coordinates
    smallest = np.sqrt(np.linalg.eigvalsh(local)[..., 0])
    smallest = np.where(use, smallest, np.inf).min(axis=1)
    fits = np.array(LEVELS)[None, :] * 2 <= smallest[:, None]
    return np.where(fits.any(axis=1), np.argmax(fits, axis=1), len(LEVELS))


def adaptive(mu: np.ndarray, chol: np.ndarray, frames: MvMixture | None, values, reduce,
             start=None, settled=None, cut=None, loose=False, budget=None, spent=None,
             value_tol: float = TOL[0][0]):
    """Results of ``reduce`` for the K Gaussians q_k = N(μ_k, L_k L_kᵀ) by the adaptive rule.

    ``values(x)`` gives per-node arrays at the nodes x (N, d); ``reduce(vals, z, w, row, rows)``
    the per-q results (a tuple of arrays, first axis len(rows)) of the rule with nodes z
    (q-whitened), weights w and q ``row`` (index into ``rows``, the q's taken) — or row None:
    (z, w) is one template, the rule of every q in turn.  The first two
    results (value, gradient) decide convergence (on the grids h and 2h).  ``frames``: the target's
    components (None: a single Gaussian, log p quadratic).  ``start`` (optional, per q): a level
    known to be needed (where a q close by settled), skipping the coarser ones; ``settled``
    (optional array) receives the level each q settled at; ``cut`` (optional bool array) is set
    True for the q's whose panel rule ran out of its node budget (their results uncertified);
    ``loose``: the panel rule to ``LOOSE_TOL`` within ``LOOSE_BUDGET`` nodes (to steer, never
    to certify); ``budget`` (optional): a smaller node budget for the panel rule than its own;
    ``spent`` (optional, a 1-element array): the panel rule's nodes are added to it;
    ``value_tol``: the agreement asked of the value (``TOL``'s; :data:`VALUE_TOL` for a value
    computed for itself)."""
    k, d = mu.shape
    level = first_level(mu, chol, frames)
    if start is not None:
        level = np.maximum(level, start)
    out: list[np.ndarray] | None = None

    def store(rows, res):
        nonlocal out
        if out is None:
            out = [np.empty((k, *r.shape[1:]), dtype=r.dtype) for r in res]
        for o, r in zip(out, res, strict=True):
            o[rows] = r

    for n, h in enumerate(LEVELS):
        rows = np.flatnonzero(level == n)
        if not rows.size:
            continue
        t, w, m_coarse = grid(h, d)
        vals = values(nodes(mu[rows], chol[rows], t))
        fine = reduce(vals, t, w, None, rows)  # one template (t, w) for every q
        on_coarse = _by_q(vals, rows.size)[..., :m_coarse]  # the grid 2h: t's first nodes
        t2, w2, _ = grid(2.0 * h, d)
        coarse = reduce(on_coarse.reshape(*on_coarse.shape[:-2], -1).T, t2, w2, None, rows)
        ok = np.ones(rows.size, dtype=bool)
        tols = ((value_tol, TOL[0][1]), TOL[1])
        for f, c, (tol, floor) in zip(fine[:2], coarse[:2], tols, strict=False):
            f2, c2 = f.reshape(rows.size, -1), c.reshape(rows.size, -1)
            size = np.maximum(np.abs(f2).max(axis=1), floor)
            ok &= np.abs(f2 - c2).max(axis=1) <= tol * size
        store(rows[ok], [r[ok] for r in fine])
        level[rows[~ok]] = n + 1
    if settled is not None:
        settled[:] = level
    if cut is not None:
        cut[:] = False
    rows = np.flatnonzero(level >= len(LEVELS))
    if rows.size:
        own = LOOSE_BUDGET if loose else NODE_BUDGET
        res, short = panel_rule(mu[rows], chol[rows], frames, values,
                                lambda v, z, w, row: reduce(v, z, w, row, rows),
                                budget=own if budget is None else min(own, budget),
                                tol=LOOSE_TOL if loose else PANEL_TOL,
                                min_half_width=LOOSE_MIN_HALF_WIDTH if loose else MIN_HALF_WIDTH,
                                spent=spent)
        store(rows, res)
        if cut is not None:
            cut[rows] = short
    return out
