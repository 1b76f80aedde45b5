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
  whose narrowest component is below 1/8 of its sd) is taken by the panel rule
  (:mod:`explorer.panels2d`; cheaper there than the grid 1/32's 290k nodes, which rarely settles
  either): ~1e-13 relative against the nested-quad reference where the trapezoid rule's old
  fallback (a partition of unity over frames) lost ~1e-5.
* :func:`on_grid` — the trapezoid rule on one grid, without refinement: steers descents.
"""

from __future__ import annotations

import math

import numpy as np

from explorer.distributions import LOG_2PI
from explorer.mvnormal import MvMixture
from explorer.panels2d import (
    LOOSE_BUDGET,
    LOOSE_MIN_HALF_WIDTH,
    LOOSE_TOL,
    MIN_HALF_WIDTH,
    NODE_BUDGET,
    PANEL_TOL,
    RADIUS,
    panel_rule,
    tensor_rule,
)

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

# Components whose Bhattacharyya overlap with q is below e^-50 do not set its first level.
_MIN_OVERLAP = -50.0
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


# --- the adaptive trapezoid rule ------------------------------------------------------------
_GRIDS: dict[tuple[float, int, float], tuple[np.ndarray, np.ndarray, int]] = {}


def grid(h: float, d: int, radius: float = RADIUS):
    """(nodes t (M, d), weights (M,) for E_N(0,I), and how many of the nodes lie on the grid 2h),
    cut to the ball |t| ≤ radius.  The grid 2h's nodes come first, in its own order (for h < 1):
    its sums take the first values of the grid h's, with no copy of the others."""
    if (h, d, radius) not in _GRIDS:
        n = int(radius / h)
        axis = np.arange(-n, n + 1)
        k, _ = tensor_rule(axis.astype(float), np.ones(len(axis)), d)
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

    tols = ((value_tol, TOL[0][1]), TOL[1])  # (agreement, floor) of the value and gradient
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
