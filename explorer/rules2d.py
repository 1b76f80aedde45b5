"""Deterministic rules for expectations under d-dimensional Gaussians, E_q[φ] for q = N(μ, L Lᵀ),
with an error estimate: what :mod:`explorer.vi2d` integrates log densities of mixtures with.

* :func:`adaptive` — the trapezoid rule on the grid hℤᵈ in q's whitened coordinates x = μ + L t,
  cut to the ball |t| ≤ 9.5 (the Gaussian mass beyond is < e⁻⁴⁵).  For an integrand analytic in a
  strip its error falls like exp(−2πδ/h): halving h squares it.  Each q starts at the widest
  level whose coarser grid (2h, a subset of the nodes) is no wider than the narrowest target
  component that overlaps q, in q's coordinates (a narrow ridge, aligned with the grid or not,
  is then sampled finely enough by both grids that their agreement means convergence), and is
  refined until the sums on the grids h and 2h agree to ``TOL``; the finer sum is kept, its
  error then ~ the square of that difference.  A q that has not settled by h = 1/32 is taken by
  the partition rule below (good to ~1e-5 where a component is a ridge narrower than 1/16 of
  q's sd; the known gap).
* :func:`q_rule` — a *partition of unity over frames*: q and every component g_f of the target
  whose overlap with q is not negligible, each integrated by a tensor composite Gauss–Legendre
  rule in that frame's whitened coordinates, E_q[φ] = Σ_f ∫ q ψ_f φ, ψ_f = g_f / Σ_f' g_f'
  (log space).
* :func:`on_grid` — the trapezoid rule on one grid, without refinement: steers descents.
"""

from __future__ import annotations

import math

import numpy as np

from explorer.distributions import LOG_2PI
from explorer.mvnormal import MvMixture

RADIUS = 9.5
LEVELS = (0.5, 0.25, 0.125, 0.0625, 0.03125)
# Agreement of the grids h and 2h asked of the value (relative to max(|f|, 1e-3)) and of the
# gradient (to max(|g|, 1)): the finer sum's error is then ~ C·difference², C ≲ 1e3 seen.  The
# gradient needs less: it only has to place the minimum well within the certificate's 1e-6.
TOL = ((1e-7, 1e-3), (1e-5, 1.0))

# One axis of a frame's rule: panels to ±9 sd (the 2-D Gaussian mass beyond is < e^-40).
_SIDE = np.array([0.5, 1.1, 1.8, 2.6, 3.5, 4.6, 6.0, 7.5, 9.0])
_EDGES = np.concatenate([-_SIDE[::-1], [0.0], _SIDE])
_ORDER = 8
# Frames whose Bhattacharyya overlap with q is below e^-50 contribute < 1e-21 of E_q: skipped.
_MIN_OVERLAP = -50.0
KAPPA = 1.0  # the partition's frames are the components inflated ×κ: softer transitions


def _axis_rule(edges: np.ndarray, order: int):
    t, w = np.polynomial.legendre.leggauss(order)
    a, b = edges[:-1, None], edges[1:, None]
    return (0.5 * (a + b) + 0.5 * (b - a) * t).ravel(), (0.5 * (b - a) * w).ravel()


def _tensor(t: np.ndarray, w: np.ndarray, d: int):
    grids = np.meshgrid(*([t] * d), indexing="ij")
    weights = np.meshgrid(*([w] * d), indexing="ij")
    return (np.stack([g.ravel() for g in grids], axis=1),
            np.prod(np.stack([v.ravel() for v in weights]), axis=0))


_FINE = {}


def template(d: int):
    """(nodes (M, d), log weights (M,)) of the partition's rule in a frame's whitened
    coordinates: composite Gauss–Legendre, weights for ∫ dt."""
    if d not in _FINE:
        t, v = _tensor(*_axis_rule(_EDGES, _ORDER), d)
        _FINE[d] = (t, np.log(v))
    return _FINE[d]


def on_grid(mu: np.ndarray, chol: np.ndarray, h: float):
    """Nodes x, q-whitened z, weights and rows of the trapezoid rule on the one grid h under each
    q_k alone (no error estimate): the cheap rule that steers descents."""
    k, d = mu.shape
    t, w, _ = grid(h, d)
    x = mu[:, None, :] + np.einsum("kij,mj->kmi", chol, t)
    return (x.reshape(-1, d), np.tile(t, (k, 1)), np.tile(w, k), np.repeat(np.arange(k), len(t)))


def _whiten(x: np.ndarray, m: np.ndarray, chol: np.ndarray) -> np.ndarray:
    """L⁻¹(x − m) for batched x (P, M, d), m (P, d), chol (P, d, d) (forward substitution)."""
    u = x - m[:, None, :]
    z = np.empty_like(u)
    for i in range(u.shape[-1]):
        z[..., i] = (u[..., i] - np.einsum("pj,pmj->pm", chol[:, i, :i], z[..., :i])) \
            / chol[:, i, i][:, None]
    return z


def _log_gauss(z: np.ndarray, chol: np.ndarray) -> np.ndarray:
    d = z.shape[-1]
    logdet = np.log(np.diagonal(chol, axis1=-2, axis2=-1)).sum(axis=-1)
    return -0.5 * (z * z).sum(axis=-1) - 0.5 * d * LOG_2PI - logdet[:, None]


def _log_overlap(m1, s1, m2, s2) -> np.ndarray:
    """log of the Bhattacharyya coefficient ∫√(g1 g2) for batches of Gaussians."""
    sbar = 0.5 * (s1 + s2)
    diff = m1 - m2
    quad = np.einsum("...i,...i->...", diff, np.linalg.solve(sbar, diff[..., None])[..., 0])
    ld = np.linalg.slogdet(sbar)[1] - 0.25 * (np.linalg.slogdet(s1)[1] + np.linalg.slogdet(s2)[1])
    return -quad / 8.0 - 0.5 * ld


def q_rule(mu: np.ndarray, chol: np.ndarray, frames: MvMixture | None, skip=None):
    """Nodes x (N, d), q-whitened z (N, d), weights W (N,) with Σ W φ(x) ≈ E_q[φ], and the row
    (which q) of every node, for K Gaussians q_k = N(μ_k, L_k L_kᵀ) at once, rows contiguous.

    ``frames``' components are the other frames (None: q's alone); ``skip[k]`` (optional) is the
    index of a frame identical to q_k."""
    k, d = mu.shape
    if frames is None:
        t, logv = template(d)
        x = mu[:, None, :] + np.einsum("kij,mj->kmi", chol, t)
        # x = μ + L t: q(x)·|L| dt is the standard normal's density in t
        logw = np.broadcast_to(logv - 0.5 * (t * t).sum(axis=1) - 0.5 * d * LOG_2PI,
                               x.shape[:2])
        z = np.broadcast_to(t, x.shape)
        return (x.reshape(-1, d), z.reshape(-1, d), np.exp(logw).ravel(),
                np.repeat(np.arange(k), len(t)))
    fm = np.array([c.mu for c in frames.components])
    fs = np.array([c.sigma for c in frames.components])
    fl = np.array([c.chol for c in frames.components])
    sq = np.einsum("kij,klj->kil", chol, chol)
    use = _log_overlap(mu[:, None], sq[:, None], fm[None], fs[None]) > _MIN_OVERLAP  # (K, C)
    if skip is not None:
        use[np.arange(k), skip] = False
    # pairs (q k, frame f): f = −1 is q itself
    pk = np.concatenate([np.arange(k), np.nonzero(use)[0]])
    pf = np.concatenate([np.full(k, -1), np.nonzero(use)[1]])
    order = np.lexsort((pf, pk))
    pk, pf = pk[order], pf[order]
    own = pf < 0
    m = np.where(own[:, None], mu[pk], fm[np.maximum(pf, 0)])
    a = np.where(own[:, None, None], chol[pk], fl[np.maximum(pf, 0)])
    t, logv = template(d)
    a = np.where(own[:, None, None], a, KAPPA * a)
    x = m[:, None, :] + np.einsum("pij,mj->pmi", a, t)
    z = _whiten(x, mu[pk], chol[pk])
    logq = _log_gauss(z, chol[pk])
    wide = KAPPA * fl
    logg = np.stack([_log_gauss(_whiten(x, np.broadcast_to(fm[i], m.shape),
                                        np.broadcast_to(wide[i], a.shape)),
                                np.broadcast_to(wide[i], a.shape)) for i in range(len(fm))],
                    axis=-1)  # (P, M, C)
    logg = np.where(use[pk][:, None, :], logg, -np.inf)
    every = np.concatenate([logq[..., None], logg], axis=-1)
    top = every.max(axis=-1)
    log_total = top + np.log(np.exp(every - top[..., None]).sum(axis=-1))
    mine = np.where(own[:, None], logq, np.take_along_axis(
        logg, np.maximum(pf, 0)[:, None, None].repeat(len(t), 1), axis=-1)[..., 0])
    logdet_a = np.log(np.diagonal(a, axis1=-2, axis2=-1)).sum(axis=-1)
    logw = logv + logdet_a[:, None] + logq + mine - log_total
    return (x.reshape(-1, d), z.reshape(-1, d), np.exp(logw).ravel(),
            np.repeat(pk, len(t)))


# --- the adaptive trapezoid rule ------------------------------------------------------------
_GRIDS: dict[tuple[float, int], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}


def grid(h: float, d: int):
    """(nodes t (M, d), weights (M,) for E_N(0,I), and which nodes lie on the grid 2h)."""
    if (h, d) not in _GRIDS:
        n = int(RADIUS / h)
        axis = np.arange(-n, n + 1)
        t, _ = _tensor(axis.astype(float), np.ones(len(axis)), d)
        keep = (t * t).sum(axis=1) <= (RADIUS / h) ** 2
        even = (t[keep] % 2 == 0).all(axis=1)
        t = h * t[keep]
        w = np.exp(d * math.log(h) - 0.5 * (t * t).sum(axis=1) - 0.5 * d * LOG_2PI)
        _GRIDS[(h, d)] = (t, w, even)
    return _GRIDS[(h, d)]


def first_level(mu: np.ndarray, chol: np.ndarray, frames: MvMixture | None) -> np.ndarray:
    """Per q, the index into LEVELS to start at (len(LEVELS): go to the partition rule): the
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
             skip=None):
    """Results of ``reduce`` for the K Gaussians q_k = N(μ_k, L_k L_kᵀ) by the adaptive rule.

    ``values(x)`` gives per-node arrays at the nodes x (N, d); ``reduce(vals, z, w, row, rows)``
    the per-q results (a tuple of arrays, first axis len(rows)) of the rule with nodes z
    (q-whitened), weights w and q ``row`` (index into ``rows``, the q's taken).  The first two
    results (value, gradient) decide convergence: for the check on the grid 2h, ``vals`` (if a
    tuple) has its entries after the second set to None.  ``frames``/``skip``: as for
    :func:`q_rule`."""
    k, d = mu.shape
    level = first_level(mu, chol, frames)
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
        t, w, even = grid(h, d)
        x = mu[rows, None, :] + np.einsum("kij,mj->kmi", chol[rows], t)
        z = np.broadcast_to(t, x.shape).reshape(-1, d)
        row = np.repeat(np.arange(rows.size), len(t))
        vals = values(x.reshape(-1, d))
        fine = reduce(vals, z, np.tile(w, rows.size), row, rows)
        sub = np.tile(even, rows.size)  # the grid 2h: its weights are 2^d times h's
        # only the first two values are compared, so the third (a Hessian) is left out
        coarse = reduce(tuple(None if v is None or n > 1 else v[sub] for n, v in enumerate(vals))
                        if isinstance(vals, tuple) else vals[sub],
                        z[sub], np.tile(w[even] * 2.0**d, rows.size), row[sub], rows)
        ok = np.ones(rows.size, dtype=bool)
        for f, c, (tol, floor) in zip(fine[:2], coarse[:2], TOL, strict=False):
            f2, c2 = f.reshape(rows.size, -1), c.reshape(rows.size, -1)
            size = np.maximum(np.abs(f2).max(axis=1), floor)
            ok &= np.abs(f2 - c2).max(axis=1) <= tol * size
        store(rows[ok], [r[ok] for r in fine])
        level[rows[~ok]] = n + 1
    rows = np.flatnonzero(level >= len(LEVELS))
    if rows.size:
        x, z, w, row = q_rule(mu[rows], chol[rows], frames,
                              None if skip is None else skip[rows])
        store(rows, reduce(values(x), z, w, row, rows))
    return out
