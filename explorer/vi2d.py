"""KL divergences, entropy and the ELBO of 2-D (d-dimensional) Gaussian mixtures, and the two
objectives a variational fit minimises, with exact gradients and Hessians.

q = N(μ, L Lᵀ) is parameterised by θ = (μ, then L's lower triangle row by row, each diagonal
entry as its log): 5 parameters in 2-D, 4 for a diagonal (mean-field) q, whose off-diagonal
entries are fixed at 0.

Expectations under a Gaussian q, E_q[φ], are taken by a deterministic rule that resolves every
component: a *partition of unity over frames* — q itself and every component of the target g_i
whose overlap with q is not negligible — each integrated by a tensor composite Gauss–Legendre
rule in that frame's whitened coordinates (x = m_f + A_f t):

    E_q[φ] = Σ_f ∫ q(x) ψ_f(x) φ(x) dx,   ψ_f = g_f / Σ_f' g_f'   (log space).

q·ψ_f ≤ min(q, g_f), so each piece is as localised as its frame and smooth on its scale; a narrow,
strongly correlated component far out in q's tail is integrated in its own coordinates.

* reverse, KL(q‖p) = −H(q) − E_q[log p]: derivatives by reparameterisation x = μ + L z with p's
  score and Hessian (∂x/∂θ is linear in z);
* forward, KL(p‖q) = H(p, q) − H(p): H(p, q) exact from p's mean and covariance; its Hessian by
  complex-step differentiation of the closed-form gradient (exact to rounding).
"""

from __future__ import annotations

import math

import numpy as np

from explorer.distributions import LOG_2PI
from explorer.mvnormal import MvMixture, MvNormal, as_mv_mixture

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
_COARSE = {}


def template(d: int, coarse: bool = False):
    """(nodes (M, d), log weights (M,)) of the standard rule in whitened coordinates: composite
    Gauss–Legendre (weights for ∫ dt), or for ``coarse`` Gauss–Hermite (weights for E_N(0,I))."""
    cache = _COARSE if coarse else _FINE
    if d not in cache:
        if coarse:
            x, w = np.polynomial.hermite_e.hermegauss(10)
            t, v = _tensor(x, w / math.sqrt(2 * math.pi), d)
        else:
            t, v = _tensor(*_axis_rule(_EDGES, _ORDER), d)
        cache[d] = (t, np.log(v))
    return cache[d]


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


def q_rule(mu: np.ndarray, chol: np.ndarray, frames: MvMixture | None, skip=None,
           coarse: bool = False):
    """Nodes x (N, d), q-whitened z (N, d), weights W (N,) with Σ W φ(x) ≈ E_q[φ], and the row
    (which q) of every node, for K Gaussians q_k = N(μ_k, L_k L_kᵀ) at once, rows contiguous.

    ``frames``' components are the other frames (None: q's alone); ``skip[k]`` (optional) is the
    index of a frame identical to q_k.  ``coarse``: a 10×10 Gauss–Hermite rule under q alone, to
    steer descents."""
    k, d = mu.shape
    if coarse or frames is None:
        t, logv = template(d, coarse=True) if coarse else template(d)
        x = mu[:, None, :] + np.einsum("kij,mj->kmi", chol, t)
        # x = μ + L t: q(x)·|L| dt is the standard normal's density in t
        logw = np.broadcast_to(logv if coarse else logv - 0.5 * (t * t).sum(axis=1)
                               - 0.5 * d * LOG_2PI, x.shape[:2])
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


# --- parameters -----------------------------------------------------------------------------
def lower_index(d: int, diagonal: bool) -> list[tuple[int, int]]:
    return [(i, i) for i in range(d)] if diagonal else [(i, j) for i in range(d)
                                                        for j in range(i + 1)]


def unpack(theta: np.ndarray, d: int, diagonal: bool):
    """(μ (K, d), L (K, d, d)) of θ (K, n)."""
    theta = np.asarray(theta)
    mu = theta[:, :d]
    chol = np.zeros((len(theta), d, d), dtype=theta.dtype)
    for n, (i, j) in enumerate(lower_index(d, diagonal)):
        chol[:, i, j] = np.exp(theta[:, d + n]) if i == j else theta[:, d + n]
    return mu, chol


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
    idx = lower_index(d, diagonal)
    is_log = np.array([i == j for i, j in idx])
    jac = np.where(is_log, np.exp(np.where(is_log, theta[:, d:], 0.0)), 1.0)
    return np.concatenate([np.ones((len(theta), d)), jac], axis=1), \
        np.concatenate([np.zeros(d, bool), is_log])


# --- the objectives -------------------------------------------------------------------------
def reverse_objective(p: MvMixture, theta: np.ndarray, diagonal: bool = False,
                      derivatives: bool = True, coarse: bool = False):
    """KL(q‖p) for the K q's of θ (K, n), with gradient (K, n) and Hessian (K, n, n) in θ.

    With x = μ + L z:  ∂E[log p]/∂μ_i = E[s_i],  ∂/∂L_jk = E[s_j z_k],  and the Hessian
    E[u_aᵀ ∇²log p u_b] with u = ∂x/∂(μ, L) (x is linear in both; each u is a coefficient
    times a unit vector)."""
    theta = np.asarray(theta, dtype=float)
    d = p.dim
    k = len(theta)
    mu, chol = unpack(theta, d, diagonal)
    # one component: log p is quadratic, q's own rule is exact; else frames resolve p's parts
    x, z, w, row = q_rule(mu, chol, p if len(p.active) > 1 else None, coarse=coarse)
    lp, s, h = p.log_derivs(x, derivatives)
    logdet = np.log(np.diagonal(chol, axis1=-2, axis2=-1)).sum(axis=-1)
    neg_hq = -(0.5 * d * (1.0 + LOG_2PI) + logdet)
    f = neg_hq - np.bincount(row, weights=w * lp, minlength=k)
    if not derivatives:
        return f, None, None
    idx = lower_index(d, diagonal)
    # ∂x/∂(μ_i) = e_i, ∂x/∂L_ij = z_j e_i: each is coef·e_axis
    axis = np.array(list(range(d)) + [i for i, _ in idx])
    coef = np.concatenate([np.ones((len(x), d)), z[:, [j for _, j in idx]]], axis=1)
    starts = np.searchsorted(row, np.arange(k))
    wc = w[:, None] * coef
    es = np.add.reduceat(wc * s[:, axis], starts, axis=0)
    eh = np.add.reduceat(wc[:, :, None] * coef[:, None, :] * h[:, axis[:, None], axis[None, :]],
                         starts, axis=0)
    jac, is_log = _jacobian(theta, d, diagonal)
    g = -jac * es - is_log
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


# --- values ---------------------------------------------------------------------------------
def mixture_entropy(p: MvMixture) -> float:
    """H(p) = −Σ_k w_k E_{g_k}[log p]."""
    _, pc = p.centred
    if len(pc.active) == 1:
        return pc.active[0][1].entropy
    comps = pc.components
    keep = [i for i, w in enumerate(pc.weights) if w > 0]
    mu = np.array([comps[i].mu for i in keep])
    chol = np.array([comps[i].chol for i in keep])
    x, _, w, row = q_rule(mu, chol, pc, skip=np.array(keep))
    e = np.bincount(row, weights=w * pc.logpdf(x), minlength=len(keep))
    return -math.fsum(pc.weights[i] * e[n] for n, i in enumerate(keep))


def gaussian_kl(p: MvNormal, q: MvNormal) -> float:
    """KL(N_p‖N_q) in closed form."""
    c = np.linalg.inv(q.chol)
    delta = q.mu - p.mu
    tr = float(np.trace(c @ p.sigma @ c.T))
    return 0.5 * (tr + float(delta @ q.precision @ delta) - p.dim + q.logdet - p.logdet)


def kl_mv(p, q) -> float:
    """KL(p‖q) in nats for MvNormal / mixture-of-MvNormal p and q of one dimension."""
    pm, qm = as_mv_mixture(p), as_mv_mixture(q)
    if pm.dim != qm.dim:
        raise ValueError(f"p and q must have one dimension, got {pm.dim} and {qm.dim}")
    if pm == qm:
        return 0.0
    if isinstance(p, MvNormal) and isinstance(q, MvNormal):
        return max(gaussian_kl(p, q), 0.0)
    c, pc = pm.centred
    qc = qm.shifted(c)
    if isinstance(q, MvNormal):
        q0 = qc.components[0]
        h = cross_entropy_gaussian(pc.mean, pc.cov, q0.mu[None], q0.chol[None])[0]
        return max(float(h) - pc.entropy, 0.0)
    if isinstance(p, MvNormal):
        p0 = pc.components[0]
        theta = pack(p0, diagonal=False)[None]
        return max(float(reverse_objective(qc, theta, derivatives=False)[0][0]), 0.0)
    both = MvMixture(pc.components + qc.components)
    keep = [i for i, w in enumerate(pc.weights) if w > 0]
    mu = np.array([pc.components[i].mu for i in keep])
    chol = np.array([pc.components[i].chol for i in keep])
    x, _, w, row = q_rule(mu, chol, both, skip=np.array(keep))
    e = np.bincount(row, weights=w * (pc.logpdf(x) - qc.logpdf(x)), minlength=len(keep))
    return max(math.fsum(pc.weights[i] * e[n] for n, i in enumerate(keep)), 0.0)


def elbo(q: MvNormal, p, log_z: float) -> float:
    """ELBO(q) = E_q[log p̃ − log q] for the unnormalised target p̃ = Z·p (``log_z`` = log Z):
    log Z − KL(q‖p), so log Z = ELBO(q) + KL(q‖p) by construction."""
    return float(log_z) - kl_mv(q, p)
