"""KL between a target p and a Gaussian q = N(μ, σ²) as functions of θ = (μ, log σ), for many θ
at once, with exact gradients and Hessians: what the fitter minimises, the landscape draws and
:func:`explorer.divergences.kl_divergence` reports for a Gaussian q — one rule for all three, so a
reported optimum is an optimum of the reported KL.

* forward, KL(p‖q) = H(p, q) − H(p): H(p, q) is exact from p's mean and variance;
* reverse, KL(q‖p) = −H(q) − E_q[log p]: the expectation by composite Gauss–Legendre quadrature
  on q's panels (±12 sd: q < e^-72 beyond) merged with the edges that resolve log p inside them
  (:attr:`Mixture.log_breakpoints`), and its derivatives by reparameterisation x = μ + σz using
  p's closed-form score (kinks of log p, at Laplace components, add their point masses).

Callers pass p in centred coordinates (:attr:`Mixture.centred`) where positions matter.
"""

from __future__ import annotations

import numpy as np

from explorer.distributions import LOG_2PI, Mixture, Normal
from explorer.quadrature import ORDER

Q_REACH = 12.0
Q_OFFSETS = Normal(0.0, 1.0).breakpoints
Q_OFFSETS = Q_OFFSETS[np.abs(Q_OFFSETS) <= Q_REACH]
RULE_T, RULE_W = np.polynomial.legendre.leggauss(ORDER)


def gaussian_cross_entropy(p: Mixture, mu, log_sigma):
    """H(p, N(μ, σ²)) = −E_p[log q], exactly from p's mean and variance (finite), for arrays."""
    ivar = np.exp(-2.0 * np.asarray(log_sigma, dtype=float))
    return log_sigma + 0.5 * LOG_2PI + 0.5 * (p.variance + (p.mean - mu) ** 2) * ivar


def forward_objective(p: Mixture, theta: np.ndarray):
    """KL(p‖N(μ, σ²)) = H(p, q) − H(p) with gradient (K, 2) and Hessian (K, 2, 2) in (μ, log σ),
    exactly from p's mean and variance (which must be finite)."""
    mu, s = theta[:, 0], theta[:, 1]
    ivar = np.exp(-2.0 * s)
    d = p.mean - mu
    m2 = p.variance + d * d
    f = gaussian_cross_entropy(p, mu, s) - p.entropy
    g = np.empty((len(theta), 2))
    g[:, 0], g[:, 1] = -d * ivar, 1.0 - m2 * ivar
    h = np.empty((len(theta), 2, 2))
    h[:, 0, 0], h[:, 1, 1] = ivar, 2.0 * m2 * ivar
    h[:, 0, 1] = h[:, 1, 0] = 2.0 * d * ivar
    return f, g, h


def reverse_nodes(p: Mixture, mu: np.ndarray, sigma: np.ndarray):
    """Quadrature nodes and weights (K, n) for K Gaussians q = N(μ, σ²): q's panels and the edges
    of ``p.log_breakpoints`` inside each q's range, padded to one width with empty panels."""
    q_edges = mu[:, None] + sigma[:, None] * Q_OFFSETS
    b = p.log_breakpoints
    lo, hi = q_edges[:, 0], q_edges[:, -1]
    first = np.searchsorted(b, lo, side="right")
    count = np.searchsorted(b, hi, side="left") - first
    j = np.arange(int(count.max()) if b.size else 0)
    picked = b[np.minimum(first[:, None] + j, max(b.size - 1, 0))] if b.size else j[None, :]
    extra = np.where(j < count[:, None], picked, hi[:, None])
    edges = np.sort(np.concatenate([q_edges, extra], axis=1), axis=1)
    half = 0.5 * np.diff(edges, axis=1)[:, :, None]
    mid = 0.5 * (edges[:, 1:] + edges[:, :-1])[:, :, None]
    k = len(mu)
    return (mid + half * RULE_T).reshape(k, -1), (half * RULE_W).reshape(k, -1)


def reverse_kl(p: Mixture, mu, log_sigma, chunk: int = 256) -> np.ndarray:
    """KL(N(μ, σ²)‖p) alone, for arrays μ and log σ of one shape (a grid, say), in chunks of
    rows with similar numbers of p's edges inside (so that little padding is integrated)."""
    mu, s = np.broadcast_arrays(np.asarray(mu, dtype=float), np.asarray(log_sigma, dtype=float))
    theta = np.stack([mu.ravel(), s.ravel()], axis=1)
    b = p.log_breakpoints
    reach = Q_REACH * np.exp(theta[:, 1])
    count = (np.searchsorted(b, theta[:, 0] + reach) - np.searchsorted(b, theta[:, 0] - reach))
    out = np.empty(len(theta))
    order = np.argsort(count, kind="stable")
    for k in range(0, len(theta), chunk):
        rows = order[k:k + chunk]
        out[rows] = reverse_objective(p, theta[rows], derivatives=False)[0]
    return out.reshape(mu.shape)


def reverse_objective(p: Mixture, theta: np.ndarray, derivatives: bool = True):
    """KL(N(μ, σ²)‖p) with gradient (K, 2) and Hessian (K, 2, 2) in (μ, log σ) (None, None
    without ``derivatives``).

    With x = μ + σz:  ∂/∂μ = −E_q[(log p)'],  ∂/∂log σ = −1 − E_q[(x−μ)(log p)'], and the
    Hessian takes E_q of (log p)'' likewise; kinks of log p (Laplace) add their point masses.
    """
    mu, s = theta[:, 0], theta[:, 1]
    sigma = np.exp(s)
    x, w = reverse_nodes(p, mu, sigma)
    k = len(theta)
    u = x - mu[:, None]
    logq = -0.5 * (u / sigma[:, None]) ** 2 - s[:, None] - 0.5 * LOG_2PI
    wq = w * np.exp(logq)
    if not derivatives:
        return (wq * (logq - p.logpdf(x))).sum(axis=1), None, None
    lp, d1, d2 = (a.reshape(k, -1) for a in p.log_derivs(x.ravel()))
    f = (wq * (logq - lp)).sum(axis=1)
    wd1, wd2 = wq * d1, wq * d2
    e_d1, e_ud1 = wd1.sum(axis=1), (u * wd1).sum(axis=1)
    e_d2, e_ud2, e_uud2 = wd2.sum(axis=1), (u * wd2).sum(axis=1), (u * u * wd2).sum(axis=1)
    for x0, mass in p.d2_atoms():
        qx = np.exp(-0.5 * ((x0 - mu) / sigma) ** 2 - s - 0.5 * LOG_2PI) * mass
        e_d2 = e_d2 + qx
        e_ud2 = e_ud2 + qx * (x0 - mu)
        e_uud2 = e_uud2 + qx * (x0 - mu) ** 2
    g = np.empty((k, 2))
    g[:, 0], g[:, 1] = -e_d1, -1.0 - e_ud1
    h = np.empty((k, 2, 2))
    h[:, 0, 0], h[:, 1, 1] = -e_d2, -e_ud1 - e_uud2
    h[:, 0, 1] = h[:, 1, 0] = -e_ud2
    return f, g, h


OBJECTIVES = {"forward": forward_objective, "reverse": reverse_objective}
