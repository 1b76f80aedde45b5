"""KL between a target p and a Gaussian q = N(μ, σ²) as functions of θ = (μ, log σ), for many θ
at once, with exact gradients and Hessians: what the fitter minimises, the landscape draws and
:func:`explorer.divergences.kl_divergence` reports for a Gaussian q — one rule for all three, so a
reported optimum is an optimum of the reported KL.

* forward, KL(p‖q) = H(p, q) − H(p): H(p, q) is exact from p's mean and variance;
* reverse, KL(q‖p) = −H(q) − E_q[log p]: the expectation by composite Gauss–Legendre quadrature
  on q's panels (±12 sd: q < e^-72 beyond) merged with the edges that resolve log p within 8 sd
  of q's mean (:attr:`Mixture.log_breakpoints`), and its derivatives by reparameterisation
  x = μ + σz using p's closed-form score (kinks of log p, at Laplace components, add their point
  masses).

Callers pass p in centred coordinates (:attr:`Mixture.centred`) where positions matter.
"""

from __future__ import annotations

import numpy as np

from explorer.distributions import LOG_2PI, Mixture, Normal
from explorer.quadrature import ORDER

Q_REACH = 12.0
# p's edges are added within 8 sd of q's mean: beyond, q < 1.3e-14 of its peak, and q's own panels
# integrate what little is left (an unresolved bend of log p there costs < 1e-15 relative).
P_REACH = 8.0
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


def reverse_nodes(p: Mixture, mu: np.ndarray, sigma: np.ndarray, coarse: bool = False,
                  extra: np.ndarray | None = None, lo=None, hi=None):
    """Quadrature nodes and weights for K Gaussians q = N(μ, σ²) as one flat array, with the row
    (which q) of every node: q's panels and the edges of ``p.log_breakpoints`` within
    ``P_REACH`` sd of q's mean.  Ragged (no padding), so a q over many of p's edges costs no
    other q anything.  ``coarse``: p's coarse edges instead
    (:attr:`Mixture.coarse_log_breakpoints`), to steer a descent far from a minimum.
    ``extra`` (K, m): more edges per q (non-finite ones are dropped); ``lo``, ``hi`` (K,): the
    range in which p's edges are added instead of ``P_REACH`` sd."""
    k = len(mu)
    q_edges = mu[:, None] + sigma[:, None] * Q_OFFSETS
    if extra is not None:
        q_edges = np.concatenate([q_edges, extra], axis=1)
    b = p.coarse_log_breakpoints if coarse else p.log_breakpoints
    first = np.searchsorted(b, mu - P_REACH * sigma if lo is None else lo, side="right")
    count = np.searchsorted(b, mu + P_REACH * sigma if hi is None else hi, side="left") - first
    count = np.maximum(count, 0)
    rows = np.arange(k)
    p_rows = np.repeat(rows, count)
    p_idx = np.arange(p_rows.size) - np.repeat(np.cumsum(count) - count, count) + first[p_rows]
    q_rows = np.repeat(rows, q_edges.shape[1])
    q_edges = q_edges.ravel()
    keep = np.isfinite(q_edges)
    edges = np.concatenate([q_edges[keep], b[p_idx]])
    edge_rows = np.concatenate([q_rows[keep], p_rows])
    order = np.lexsort((edges, edge_rows))
    edges, edge_rows = edges[order], edge_rows[order]
    panel = edge_rows[:-1] == edge_rows[1:]
    lo, hi, panel_rows = edges[:-1][panel], edges[1:][panel], edge_rows[:-1][panel]
    half = 0.5 * (hi - lo)[:, None]
    mid = 0.5 * (hi + lo)[:, None]
    return ((mid + half * RULE_T).ravel(), (half * RULE_W).ravel(),
            np.repeat(panel_rows, RULE_T.size))


def reverse_node_count(p: Mixture, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """How many quadrature nodes :func:`reverse_nodes` gives each q (nothing is evaluated)."""
    b = p.log_breakpoints
    inside = (np.searchsorted(b, mu + P_REACH * sigma, side="left")
              - np.searchsorted(b, mu - P_REACH * sigma, side="right"))
    return (inside + Q_OFFSETS.size - 1) * RULE_T.size


def reverse_kl(p: Mixture, mu, log_sigma, chunk_points: int = 300_000) -> np.ndarray:
    """KL(N(μ, σ²)‖p) alone, for arrays μ and log σ of one shape (a grid, say), in chunks of
    about ``chunk_points`` quadrature nodes (so the working arrays stay a few MB whatever the
    number of p's edges inside each q)."""
    mu, s = np.broadcast_arrays(np.asarray(mu, dtype=float), np.asarray(log_sigma, dtype=float))
    theta = np.stack([mu.ravel(), s.ravel()], axis=1)
    ends = np.cumsum(reverse_node_count(p, theta[:, 0], np.exp(theta[:, 1])))
    out = np.empty(len(theta))
    k = 0
    while k < len(theta):
        base = ends[k - 1] if k else 0
        stop = max(k + 1, int(np.searchsorted(ends, base + chunk_points, side="right")))
        out[k:stop] = reverse_objective(p, theta[k:stop], derivatives=False)[0]
        k = stop
    return out.reshape(mu.shape)


def reverse_objective(p: Mixture, theta: np.ndarray, derivatives: bool = True,
                      coarse: bool = False):
    """KL(N(μ, σ²)‖p) with gradient (K, 2) and Hessian (K, 2, 2) in (μ, log σ) (None, None
    without ``derivatives``).

    With x = μ + σz:  ∂/∂μ = −E_q[(log p)'],  ∂/∂log σ = −1 − E_q[(x−μ)(log p)'], and the
    Hessian takes E_q of (log p)'' likewise; kinks of log p (Laplace) add their point masses.
    ``coarse``: on q's panels and p's coarse edges only (a few times cheaper, to steer).
    """
    k = len(theta)
    mu, s = theta[:, 0], theta[:, 1]
    sigma = np.exp(s)
    x, w, row = reverse_nodes(p, mu, sigma, coarse)
    u = x - mu[row]
    logq = -0.5 * (u / sigma[row]) ** 2 - s[row] - 0.5 * LOG_2PI
    wq = w * np.exp(logq)

    if not derivatives:
        return np.bincount(row, weights=wq * (logq - p.logpdf(x)), minlength=k), None, None
    lp, d1, d2 = p.log_derivs(x)
    wd1, wd2 = wq * d1, wq * d2
    # rows are contiguous: the six sums per q in one reduceat over the stacked integrands
    starts = np.searchsorted(row, np.arange(k))
    f, e_d1, e_ud1, e_d2, e_ud2, e_uud2 = np.add.reduceat(
        np.stack([wq * (logq - lp), wd1, u * wd1, wd2, u * wd2, u * u * wd2]), starts, axis=1)
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
