"""KL between a target p and a Gaussian q = N(μ, σ²) as functions of θ = (μ, log σ), for many θ
at once, with exact gradients and Hessians: what the fitter minimises, the landscape draws and
:func:`explorer.divergences.kl_divergence` reports for a Gaussian q — one rule for all three, so a
reported optimum is an optimum of the reported KL.

* forward, KL(p‖q) = H(p, q) − H(p): H(p, q) is exact from p's mean and variance;
* reverse, KL(q‖p) = −H(q) − E_q[log p]: the expectation by composite Gauss–Legendre quadrature
  on q's panels (±12 sd: q < e^-72 beyond) merged with the edges that resolve log p within 8 sd
  of q's mean (:attr:`Mixture.log_breakpoints`), and its derivatives by reparameterisation
  x = μ + σz using p's closed-form score (kinks of log p, at Laplace components, add their point
  masses).  The nodes of K Gaussians form one (K, n) array, rows padded with empty panels, so
  that every sum is a sum along a row.

Callers pass p in centred coordinates (:attr:`Mixture.centred`) where positions matter.
"""

from __future__ import annotations

import numpy as np

from explorer.components import normal_log_derivs
from explorer.distributions import LOG_2PI, Mixture, Normal
from explorer.quadrature import ORDER

Q_REACH = 12.0
# p's edges are added within 8 sd of q's mean: beyond, q < 1.3e-14 of its peak, and q's own panels
# integrate what little is left (an unresolved bend of log p there costs < 1e-15 relative).
P_REACH = 8.0
Q_OFFSETS = Normal(0.0, 1.0).breakpoints
Q_OFFSETS = Q_OFFSETS[np.abs(Q_OFFSETS) <= Q_REACH]
# the coarse rule's panels on q: as fine where q has its mass, twice as wide beyond 4 sd (a
# minimum of the coarse rule is where the fine one's is to ~1e-6 either way: p's edges decide)
Q_COARSE = Q_OFFSETS[(np.abs(Q_OFFSETS) <= 4) | (Q_OFFSETS % 2 == 0)]
_Q_COARSE_PADDED = np.concatenate([Q_COARSE, np.zeros(Q_OFFSETS.size - Q_COARSE.size)])
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


def reverse_panels(p: Mixture, mu: np.ndarray, sigma: np.ndarray, coarse: bool = False,
                   extra: np.ndarray | None = None, lo=None, hi=None):
    """Quadrature nodes and weights (K, n) for K Gaussians q = N(μ, σ²): q's panels and the edges
    of ``p.log_breakpoints`` within ``P_REACH`` sd of q's mean.  Rows are padded to one length
    with copies of μ (one of q's own edges), i.e. with panels of width 0 and weight 0, so every
    sum is along a row and no q's nodes depend on another's.  ``coarse``: p's coarse edges
    instead (:attr:`Mixture.coarse_log_breakpoints`), to steer a descent far from a minimum.
    ``extra`` (K, m): more edges per q (non-finite ones are dropped); ``lo``, ``hi`` (K,): the
    range in which p's edges are added instead of ``P_REACH`` sd."""
    k = len(mu)
    m_col = mu[:, None]
    parts = []
    lo = mu - P_REACH * sigma if lo is None else lo
    hi = mu + P_REACH * sigma if hi is None else hi
    if isinstance(coarse, np.ndarray):  # some rows coarse: both edge sets, one after the other
        fine, rough = p.log_breakpoints, p.coarse_log_breakpoints
        b = np.concatenate([fine, rough])
        first = np.where(coarse, np.searchsorted(rough, lo, side="right") + fine.size,
                         np.searchsorted(fine, lo, side="right"))
        count = np.where(coarse, np.searchsorted(rough, hi, side="left") + fine.size,
                         np.searchsorted(fine, hi, side="left")) - first
    else:
        b = p.coarse_log_breakpoints if coarse else p.log_breakpoints
        first = np.searchsorted(b, lo, side="right")
        count = np.searchsorted(b, hi, side="left") - first
    most = int(count.max()) if k else 0
    if most > 0:
        j = np.arange(most)
        take = np.minimum(first[:, None] + j, b.size - 1)
        parts.append(np.where(j < count[:, None], b[take], m_col))
    if extra is not None:
        parts.append(np.where(np.isfinite(extra), extra, m_col))
    return _panel_nodes(mu, sigma, coarse, parts)


def _panel_nodes(mu: np.ndarray, sigma: np.ndarray, coarse: bool, parts: list):
    """Nodes and weights (K, n) on q's panels merged with the edges ``parts`` (arrays (K, m),
    padded with μ)."""
    k = len(mu)
    if isinstance(coarse, np.ndarray):  # per row: coarse rows' offsets padded with 0 (μ)
        offsets = np.where(coarse[:, None], _Q_COARSE_PADDED, Q_OFFSETS)
    else:
        offsets = Q_COARSE if coarse else Q_OFFSETS
    parts = [mu[:, None] + sigma[:, None] * offsets] + parts
    edges = np.sort(np.concatenate(parts, axis=1), axis=1) if len(parts) > 1 else parts[0]
    half = (0.5 * (edges[:, 1:] - edges[:, :-1]))[:, :, None]
    mid = (0.5 * (edges[:, 1:] + edges[:, :-1]))[:, :, None]
    return (mid + half * RULE_T).reshape(k, -1), (half * RULE_W).reshape(k, -1)


def reverse_nodes(p: Mixture, mu: np.ndarray, sigma: np.ndarray, coarse: bool = False,
                  extra: np.ndarray | None = None, lo=None, hi=None):
    """:func:`reverse_panels` as flat arrays x, w with the row (which q) of every node."""
    x, w = reverse_panels(p, mu, sigma, coarse, extra, lo, hi)
    return x.ravel(), w.ravel(), np.repeat(np.arange(len(mu)), x.shape[1])


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
    ``coarse``: on q's panels and p's coarse edges only (a few times cheaper, to steer); a
    boolean array (K,): so for those rows only.
    """
    return reverse_rule(p)(theta, coarse, derivatives)


def reverse_rule(p: Mixture):
    """:func:`reverse_objective` of one target as a function ``(θ, coarse=False,
    derivatives=True)``, with what depends on p alone (the form of its log-derivatives, the
    point masses of its second one) looked up once: a fit calls it a few times per start."""
    params = p._normal_params if len(p._active) > 1 else None
    if params is not None:  # Normal components: their closed form on the (K, n) nodes directly
        params = tuple(a[:, :, None] for a in params)

        def log_derivs(x):
            return normal_log_derivs(x, *params)
        atoms = ()
    else:
        log_derivs, atoms = p.log_derivs, p.d2_atoms()

    def evaluate(theta, coarse=False, derivatives=True):
        sigma = np.exp(theta[:, 1])
        x, w = reverse_panels(p, theta[:, 0], sigma, coarse)
        if not derivatives:
            return _reverse_sums(theta, sigma, x, w, lambda x: (p.logpdf(x),), ())
        return _reverse_sums(theta, sigma, x, w, log_derivs, atoms)

    return evaluate


def _reverse_sums(theta, sigma, x, w, log_derivs, atoms):
    """KL(q‖p) (and its gradient and Hessian where ``log_derivs`` gives d/dx and d²/dx² log p
    too) from the nodes x, weights w (K, n) of the q's; ``atoms``: the point masses of
    d²/dx² log p."""
    mu, s = theta[:, 0], theta[:, 1]
    k = len(theta)
    u = x - mu[:, None]
    z = u / sigma[:, None]
    logq = z * z
    logq *= -0.5
    logq -= (s + 0.5 * LOG_2PI)[:, None]
    wq = np.exp(logq)
    wq *= w
    derivs = log_derivs(x)
    logq -= derivs[0]  # log q − log p
    if len(derivs) == 1:
        return np.einsum("kn,kn->k", wq, logq), None, None
    # the integrands of E_q[(log p)'], E_q[(log p)''], E_q[u (log p)'], E_q[u (log p)''],
    # E_q[u² (log p)''] (u = x − μ), summed along the rows at once
    terms = np.empty((5, k, x.shape[1]))
    np.multiply(wq, derivs[1], out=terms[0])
    np.multiply(wq, derivs[2], out=terms[1])
    np.multiply(u, terms[0], out=terms[2])
    np.multiply(u, terms[1], out=terms[3])
    np.multiply(u, terms[3], out=terms[4])
    e_d1, e_d2, e_ud1, e_ud2, e_uud2 = terms.sum(axis=2)
    f = np.einsum("kn,kn->k", wq, logq)
    for x0, mass in atoms:
        qx = np.exp(-0.5 * ((x0 - mu) / sigma) ** 2 - s - 0.5 * LOG_2PI) * mass
        e_d2 = e_d2 + qx
        e_ud2 = e_ud2 + qx * (x0 - mu)
        e_uud2 = e_uud2 + qx * (x0 - mu) ** 2
    g = np.empty((k, 2))
    np.negative(e_d1, out=g[:, 0])
    np.subtract(-1.0, e_ud1, out=g[:, 1])
    h = np.empty((k, 2, 2))
    np.negative(e_d2, out=h[:, 0, 0])
    np.negative(e_ud2, out=h[:, 0, 1])
    h[:, 1, 0] = h[:, 0, 1]
    np.add(e_ud1, e_uud2, out=h[:, 1, 1])
    np.negative(h[:, 1, 1], out=h[:, 1, 1])
    return f, g, h


def normal_family(mixtures: list[Mixture]):
    """What :func:`family_reverse_objective` needs of many Normal mixtures with one number of
    active components (None if they are not): their parameters (components, T, 1) and their
    fine and coarse log-breakpoints (T, m), padded with NaN."""
    params = [m._normal_params for m in mixtures]
    if any(pr is None for pr in params) or len({pr[0].shape for pr in params}) != 1:
        return None

    def padded(arrays):
        out = np.full((len(arrays), max(a.size for a in arrays)), np.nan)
        for row, a in zip(out, arrays, strict=True):
            row[:a.size] = a
        return out

    const, mean, std = (np.stack([pr[i][:, 0] for pr in params], axis=1)[:, :, None]
                        for i in range(3))
    return (const, mean, std, padded([m.log_breakpoints for m in mixtures]),
            padded([m.coarse_log_breakpoints for m in mixtures]))


def family_reverse_objective(family, theta: np.ndarray, groups: np.ndarray,
                             coarse: bool = False):
    """:func:`reverse_objective` for rows of many Normal mixtures at once (row i on mixture
    ``groups[i]`` of :func:`normal_family`), on the same rule: q's panels and the mixture's
    edges within ``P_REACH`` sd (fewer columns padded with μ, i.e. empty panels)."""
    const, mean, std, fine, rough = family
    mu, s = theta[:, 0], theta[:, 1]
    sigma = np.exp(s)
    edges = (rough if coarse else fine)[groups]
    with np.errstate(invalid="ignore"):  # NaN padding: never inside
        keep = ((edges > (mu - P_REACH * sigma)[:, None])
                & (edges < (mu + P_REACH * sigma)[:, None]))
    used = keep.any(axis=0)
    parts = [np.where(keep[:, used], edges[:, used], mu[:, None])] if used.any() else []
    x, w = _panel_nodes(mu, sigma, coarse, parts)
    params = const[:, groups], mean[:, groups], std[:, groups]
    return _reverse_sums(theta, sigma, x, w, lambda x: normal_log_derivs(x, *params), ())

