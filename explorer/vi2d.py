"""KL divergences, entropy and the ELBO of 2-D (d-dimensional) Gaussian mixtures, and the two
objectives a variational fit minimises, with exact gradients and Hessians.

q = N(μ, L Lᵀ) is parameterised by θ = (μ, then L's lower triangle row by row, each diagonal
entry as its log): 5 parameters in 2-D, 4 for a diagonal (mean-field) q, whose off-diagonal
entries are fixed at 0.

Expectations under a Gaussian q, E_q[φ], are taken by :mod:`explorer.rules2d`: the trapezoid
rule in q's whitened coordinates, refined until two nested grids agree (its error then ~ the square
of their difference), with adaptive Gauss–Legendre panels where that does not settle.

* reverse, KL(q‖p) = −H(q) − E_q[log p]: derivatives by reparameterisation x = μ + L z with p's
  score and Hessian (∂x/∂θ is linear in z);
* forward, KL(p‖q) = H(p, q) − H(p): H(p, q) exact from p's mean and covariance; its Hessian by
  complex-step differentiation of the closed-form gradient (exact to rounding).
"""

from __future__ import annotations

import math
from functools import cache, lru_cache

import numpy as np

from explorer.distributions import LOG_2PI
from explorer.logspace import x_minus_log1p
from explorer.mvnormal import MvMixture, MvNormal, as_mv_mixture
from explorer.rules2d import VALUE_TOL, adaptive, on_grid


# --- parameters -----------------------------------------------------------------------------
@cache
def lower_index(d: int, diagonal: bool) -> tuple[tuple[int, int], ...]:
    return tuple((i, i) for i in range(d)) if diagonal else tuple(
        (i, j) for i in range(d) for j in range(i + 1))


@cache
def layout(d: int, diagonal: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, column) in L of each of θ's L parameters, and which of them are log-diagonal."""
    idx = lower_index(d, diagonal)
    out = (np.array([i for i, _ in idx], dtype=int), np.array([j for _, j in idx], dtype=int),
           np.array([i == j for i, j in idx]))
    for a in out:
        a.flags.writeable = False
    return out


def unpack(theta: np.ndarray, d: int, diagonal: bool):
    """(μ (K, d), L (K, d, d)) of θ (K, n)."""
    theta = np.asarray(theta)
    rows, cols, is_log = layout(d, diagonal)
    entries = theta[:, d:].copy()
    entries[:, is_log] = np.exp(entries[:, is_log])
    chol = np.zeros((len(theta), d, d), dtype=theta.dtype)
    chol[:, rows, cols] = entries
    return theta[:, :d], chol


def pack(q: MvNormal, diagonal: bool) -> np.ndarray:
    chol = np.diag(q.sds) if diagonal else q.chol
    return np.concatenate([q.mu, [math.log(chol[i, i]) if i == j else chol[i, j]
                                  for i, j in lower_index(q.dim, diagonal)]])


def gaussian_of(theta: np.ndarray, d: int, diagonal: bool, shift=0.0) -> MvNormal:
    mu, chol = unpack(np.asarray(theta, dtype=float)[None], d, diagonal)
    return MvNormal(mu[0] + shift, chol[0] @ chol[0].T)


def _jacobian(theta: np.ndarray, d: int, diagonal: bool):
    """∂(raw entries of L)/∂θ for the L part (1 off the diagonal, L_jj on it), and the mask of
    log-diagonal parameters."""
    is_log = _log_mask(d, diagonal)
    jac = np.ones(theta.shape)
    jac[:, is_log] = np.exp(theta[:, is_log])
    return jac, is_log


@cache
def _log_mask(d: int, diagonal: bool) -> np.ndarray:
    mask = np.concatenate([np.zeros(d, bool), layout(d, diagonal)[2]])
    mask.flags.writeable = False
    return mask


# --- the objectives -------------------------------------------------------------------------
def reverse_objective(p: MvMixture, theta: np.ndarray, diagonal: bool = False,
                      derivatives: bool = True, steer=0.0, start=None, settled=None,
                      cut=None, loose: bool = False, budget=None, spent=None):
    """KL(q‖p) for the K q's of θ (K, n), with gradient (K, n) and Hessian (K, n, n) in θ, by the
    adaptive rule — or, for ``steer`` = h > 0, by the trapezoid rule on the one grid h (cheap,
    no error estimate: to steer descents; an array: each q's own h, the nodes of all evaluated in
    one call).  ``start``/``settled``/``cut``/``loose``/``budget``/
    ``spent``: as for :func:`explorer.rules2d.adaptive` (``cut``: the q's whose value ran out of
    the node budget).

    With x = μ + L z:  ∂E[log p]/∂μ_i = E[s_i],  ∂/∂L_jk = E[s_j z_k],  and the Hessian
    E[u_aᵀ ∇²log p u_b] with u = ∂x/∂(μ, L) (x is linear in both; each u is a coefficient
    times a unit vector)."""
    theta = np.asarray(theta, dtype=float)
    d = p.dim
    mu, chol = unpack(theta, d, diagonal)
    frames = p if len(p.active) > 1 else None  # one component: log p is quadratic

    def values(x):
        return p.value_columns(x, derivatives)

    def reduce(vals, z, w, row, rows):
        return _reverse_sums(vals, z, w, row, theta[rows], chol[rows], diagonal)

    if np.ndim(steer):  # a grid per q: the nodes of all in one call of ``values``
        f, g, h = _on_grids(np.asarray(steer, dtype=float), mu, chol, values, reduce)
    elif steer:
        x, z, w, row = on_grid(mu, chol, steer)
        f, g, h = reduce(values(x), z, w, row, np.arange(len(theta)))
    elif derivatives:
        f, g, h = adaptive(mu, chol, frames, values, reduce, start, settled, cut, loose, budget,
                           spent)
    else:
        (f,) = adaptive(mu, chol, frames, values, lambda *a: reduce(*a)[:1], cut=cut,
                        budget=budget, value_tol=VALUE_TOL)
        g = h = None
    return f, g, h


def _on_grids(steps: np.ndarray, mu, chol, values, reduce):
    """The one-grid rule of :func:`reverse_objective` with each q's own grid step."""
    parts = []
    for h in np.unique(steps):
        rows = np.flatnonzero(steps == h)
        x, z, w, _ = on_grid(mu[rows], chol[rows], h)
        parts.append((rows, x, z, w))
    vals = values(np.concatenate([x.T for _, x, _, _ in parts], axis=1).T)
    out, at = None, 0
    for rows, x, z, w in parts:
        res = reduce(vals[at:at + len(x)], z, w, None, rows)
        at += len(x)
        if out is None:
            out = [np.empty((len(steps), *r.shape[1:])) for r in res]
        for o, r in zip(out, res, strict=True):
            o[rows] = r
    return out


@cache
def _sum_maps(d: int, diagonal: bool):
    """Index maps of :func:`_reverse_sums`: the monomials of degree ≤ 2 in z ((u, v): the
    product of columns u and v of (1, z)); for each parameter a, the column of (1, z) of its
    coefficient (∂x/∂μ_i = e_i, ∂x/∂L_ij = z_j e_i) and the axis it moves; and, for the gradient
    and the Hessian, which (monomial, value column) each entry takes."""
    idx = lower_index(d, diagonal)
    axis = [*range(d), *(i for i, _ in idx)]
    col = [0] * d + [1 + j for _, j in idx]
    monos = [(u, v) for u in range(d + 1) for v in range(u, d + 1)]
    entries = [(i, j) for i in range(d) for j in range(i, d)]
    n = len(axis)
    grad = (np.array([monos.index((0, col[a])) for a in range(n)]), 1 + np.array(axis))
    mi = np.array([[monos.index(tuple(sorted((col[a], col[b])))) for b in range(n)]
                   for a in range(n)])
    hi = np.array([[1 + d + entries.index(tuple(sorted((axis[a], axis[b])))) for b in range(n)]
                   for a in range(n)])
    return monos, entries, grad, (mi, hi)


def weighted_sums(v: np.ndarray, w: np.ndarray, row, k: int) -> np.ndarray:
    """Σ w v per q: ``row`` the q of each node, or None: one template of weights w for each of
    the k q's in turn."""
    if row is None:
        return v.reshape(k, -1) @ w
    return np.bincount(row, weights=w * v, minlength=k)


_TEMPLATES: dict[tuple[int, int, int], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}


def _monomial_weights(z, w, monos, cache: bool) -> np.ndarray:
    """w·m(z) for each monomial (u, v) of (1, z): (M, len(monos)).  A template rule's (the
    grids' cached z and w, ``cache``) is kept, keyed by their identity (they are held, so the
    key stays theirs)."""
    key = (id(z), id(w), len(monos))
    if cache and key in _TEMPLATES:
        return _TEMPLATES[key][2]
    rows = np.empty((len(monos), len(z)))  # one contiguous row per monomial, then viewed (M, n)
    at = {mono: n for n, mono in enumerate(monos)}
    for n, (u, v) in enumerate(monos):
        if not v:
            rows[n] = w
        else:  # w·z_u·z_v from w·z_u (or w)
            np.multiply(rows[at[(0, u)]], z[:, v - 1], out=rows[n])
    wm = rows.T
    if cache:
        _TEMPLATES[key] = (z, w, wm)
    return wm


def _reverse_sums(vals, z, w, row, theta, chol, diagonal):
    """KL(q‖p) (and if vals has more than log p's column, its gradient; and if it has the
    Hessian's, the Hessian in θ) by the rule (z, w, row; rows contiguous; row None: z and w one
    template for every q).  ``vals``: log p (N,) or the columns of
    :meth:`explorer.mvnormal.MvMixture.value_columns` (N, 1 + d [+ d(d+1)/2]).

    With x = μ + L z every derivative of E_q[log p] is a weighted sum E[m(z) v(x)] of a
    monomial m of degree ≤ 2 in z and a value v (log p, a score or a Hessian entry): all of
    them, for q_r, are one small product (monomials × nodes) @ (nodes × values)."""
    k, d = chol.shape[:2]
    logdet = np.log(np.diagonal(chol, axis1=-2, axis2=-1)).sum(axis=-1)
    neg_hq = -(0.5 * d * (1.0 + LOG_2PI) + logdet)
    if vals.ndim == 1:
        return neg_hq - weighted_sums(vals, w, row, k), None, None
    hessian = vals.shape[1] > 1 + d
    monos, _, (gm, gv), (mi, hi) = _sum_maps(d, diagonal)
    if not hessian:
        monos = monos[:d + 1]  # (0, v): 1 and z_j
    wm = _monomial_weights(z, w, monos, cache=row is None)
    if row is None:  # one template rule for every q: (values × nodes) @ (nodes × monomials)
        rows_first = np.ascontiguousarray(vals.T).reshape(vals.shape[1], k, -1)
        sums = np.matmul(rows_first.transpose(1, 0, 2), wm).transpose(0, 2, 1)
    else:
        bounds = np.searchsorted(row, np.arange(k + 1))
        sums = np.stack([wm[a:b].T @ vals[a:b]
                         for a, b in zip(bounds[:-1], bounds[1:], strict=True)])
    f = neg_hq - sums[:, 0, 0]
    es = sums[:, gm, gv]
    jac, is_log = _jacobian(theta, d, diagonal)
    g = -jac * es - is_log
    if not hessian:
        return f, g, None
    eh = sums[:, mi, hi]
    hh = -(jac[:, :, None] * jac[:, None, :] * eh)
    hh[:, is_log, is_log] -= (jac * es)[:, is_log]
    return f, g, hh


def _forward_grad(p_mean, p_cov, theta, d, diagonal):
    """Gradient of H(p, q) in θ from p's mean and covariance (complex-safe, for the
    complex-step Hessian)."""
    mu, chol = unpack(theta, d, diagonal)
    c = np.linalg.inv(chol)
    prec = np.einsum("kji,kjl->kil", c, c)
    delta = p_mean - mu
    m2 = p_cov + delta[:, :, None] * delta[:, None, :]
    gl = -np.einsum("kij,kjl,kml->kim", prec, m2, c)
    g = [np.einsum("kij,kj->ki", -prec, delta)]
    g.append(np.stack([chol[:, i, i] * gl[:, i, i] + 1.0 if i == j else gl[:, i, j]
                       for i, j in lower_index(d, diagonal)], axis=1))
    return np.concatenate(g, axis=1)


def cross_entropy_gaussian(p_mean, p_cov, mu, chol) -> np.ndarray:
    """H(p, q) = −E_p[log q] exactly from p's mean and covariance, for K q's."""
    d = mu.shape[1]
    c = np.linalg.inv(chol)
    delta = p_mean - mu
    m2 = p_cov + delta[:, :, None] * delta[:, None, :]
    tr = np.einsum("kji,kjl,kil->k", c, c, m2)
    logdet = np.log(np.diagonal(chol, axis1=-2, axis2=-1)).sum(axis=-1)
    return 0.5 * d * LOG_2PI + logdet + 0.5 * tr


def forward_objective(p: MvMixture, theta: np.ndarray, diagonal: bool = False):
    """KL(p‖q) = H(p, q) − H(p) with gradient and Hessian in θ (complex step, h = 1e-30)."""
    theta = np.asarray(theta, dtype=float)
    d = p.dim
    mu, chol = unpack(theta, d, diagonal)
    f = cross_entropy_gaussian(p.mean, p.cov, mu, chol) - p.entropy
    g = _forward_grad(p.mean, p.cov, theta, d, diagonal)
    n = theta.shape[1]
    h = np.empty((len(theta), n, n))
    for j in range(n):
        shifted = theta.astype(complex)
        shifted[:, j] += 1e-30j
        h[:, :, j] = _forward_grad(p.mean, p.cov, shifted, d, diagonal).imag / 1e-30
    return f, g, 0.5 * (h + h.transpose(0, 2, 1))


def expect(mu, chol, frames: MvMixture, fn, cut=None) -> np.ndarray:
    """E_q[fn] for the K Gaussians N(μ_k, L_k L_kᵀ) by the adaptive rule (frames: the target's
    components; ``cut``: as for :func:`explorer.rules2d.adaptive`)."""
    def reduce(vals, z, w, row, rows):
        return (weighted_sums(vals, w, row, len(rows)),)

    return adaptive(mu, chol, frames, fn, reduce, cut=cut, value_tol=VALUE_TOL)[0]


# --- values ---------------------------------------------------------------------------------
def mixture_entropy_checked(p: MvMixture) -> tuple[float, bool]:
    """(H(p) = −Σ_k w_k E_{g_k}[log p], whether the rule settled within its node budget).
    Kept per target (a page builds its mixture anew for each value it shows: the entropy of a
    target whose rule runs to its budget costs ~0.2 s each time)."""
    return _centred_entropy(p.centred[1])


@lru_cache(maxsize=64)
def _centred_entropy(pc: MvMixture) -> tuple[float, bool]:
    if len(pc.active) == 1:
        return pc.active[0][1].entropy, True
    comps = pc.components
    keep = [i for i, w in enumerate(pc.weights) if w > 0]
    mu = np.array([comps[i].mu for i in keep])
    chol = np.array([comps[i].chol for i in keep])
    cut = np.zeros(len(keep), dtype=bool)
    e = expect(mu, chol, pc, pc.logpdf, cut)
    return -math.fsum(pc.weights[i] * e[n] for n, i in enumerate(keep)), not cut.any()


def mixture_entropy(p: MvMixture) -> float:
    """H(p) = −Σ_k w_k E_{g_k}[log p]."""
    return mixture_entropy_checked(p)[0]


def gaussian_kl(p: MvNormal, q: MvNormal) -> float:
    """KL(N_p‖N_q) in closed form: ½(Σᵢ eᵢ − log(1 + eᵢ) + |z|²), eᵢ the eigenvalues of
    Σ_q⁻¹Σ_p less one (of L⁻¹(Σ_p − Σ_q)L⁻ᵀ, Σ_q = L Lᵀ: exact where Σ_p ≈ Σ_q), z = L⁻¹(μ_p − μ_q).
    Where every |eᵢ| ≤ ½ the shape term is :func:`x_minus_log1p`'s series, so a KL of 1e-16
    keeps its digits (the trace and log-determinants keep none); elsewhere it is
    tr − d − (log|Σ_p| − log|Σ_q|), from the Cholesky factors."""
    c = np.linalg.inv(q.chol)
    z = c @ (p.mu - q.mu)
    e = np.linalg.eigvalsh(c @ (p.sigma - q.sigma) @ c.T)
    if np.abs(e).max() <= 0.5:
        shape = float(x_minus_log1p(e).sum())
    else:
        shape = float(e.sum()) - (p.logdet - q.logdet)
    return 0.5 * (shape + float(z @ z))


def kl_mv(p, q) -> float:
    """KL(p‖q) in nats for MvNormal / mixture-of-MvNormal p and q of one dimension."""
    return kl_mv_checked(p, q)[0]


def kl_mv_checked(p, q, budget: int | None = None) -> tuple[float, bool]:
    """(KL(p‖q) as :func:`kl_mv`, whether its rule settled within its node budget: if not, the
    value is an estimate and must not be shown as exact).  ``budget``: for KL(N‖mixture), a
    smaller node budget for the panel rule than its own (a page's cost cap)."""
    pm, qm = as_mv_mixture(p), as_mv_mixture(q)
    if pm.dim != qm.dim:
        raise ValueError(f"p and q must have one dimension, got {pm.dim} and {qm.dim}")
    if pm == qm:
        return 0.0, True
    if isinstance(p, MvNormal) and isinstance(q, MvNormal):
        return max(gaussian_kl(p, q), 0.0), True
    c, pc = pm.centred
    qc = qm.shifted(c)
    if isinstance(q, MvNormal):
        q0 = qc.components[0]
        h = cross_entropy_gaussian(pc.mean, pc.cov, q0.mu[None], q0.chol[None])[0]
        return max(float(h) - pc.entropy, 0.0), pc.entropy_certified
    cut = np.zeros(1 if isinstance(p, MvNormal) else len(pc.active), dtype=bool)
    if isinstance(p, MvNormal):
        p0 = pc.components[0]
        theta = pack(p0, diagonal=False)[None]
        f = reverse_objective(qc, theta, derivatives=False, cut=cut, budget=budget)[0][0]
        return max(float(f), 0.0), not cut.any()
    both = MvMixture(pc.components + qc.components)
    keep = [i for i, w in enumerate(pc.weights) if w > 0]
    mu = np.array([pc.components[i].mu for i in keep])
    chol = np.array([pc.components[i].chol for i in keep])
    e = expect(mu, chol, both, lambda x: pc.logpdf(x) - qc.logpdf(x), cut)
    return max(math.fsum(pc.weights[i] * e[n] for n, i in enumerate(keep)), 0.0), not cut.any()


def elbo(q: MvNormal, p, log_z: float) -> float:
    """ELBO(q) = E_q[log p̃ − log q] for the unnormalised target p̃ = Z·p (``log_z`` = log Z):
    log Z − KL(q‖p), so log Z = ELBO(q) + KL(q‖p) by construction."""
    return float(log_z) - kl_mv(q, p)
