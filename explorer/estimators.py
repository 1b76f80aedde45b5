"""Monte Carlo estimators of KL(q‖p) from samples x ~ q (Schulman, "Approximating KL Divergence",
2020): with log r = log p(x) − log q(x),

    k1 = −log r             unbiased, high variance, negative for about half the samples
    k2 = ½ (log r)²         biased (low bias when p ≈ q), low variance, never negative
    k3 = (r − 1) − log r    unbiased, low variance when p ≈ q, never negative

Two settings: q = N(0, 1) and p = N(μ, 1), where log r = μx − μ²/2 ~ N(−μ²/2, μ²) and every mean
and variance has a closed form (:func:`gaussian_exact`); and a discrete policy q against a
reference p (exact sums, :func:`discrete_exact`).  Everything starts from log r; k3 is computed as
expm1(log r) − log r (a series where |log r| is small), and is +∞ — never NaN — where e^{log r}
exceeds the float range.

Used as a *loss* on samples from q = π_θ (the sampling not differentiated), ∇k1 = ∇log π_θ(x)
has expectation 0, and ∇k3 = (1 − r)∇log π_θ(x) has expectation ∇ KL(p‖π_θ) — the gradient of
the *forward* KL, not of the reverse KL(π_θ‖p) that k3 estimates (:func:`gradient_check`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import log_softmax, ndtr

ESTIMATORS = ("k1", "k2", "k3")
MAX_SAMPLES = 1_000_000  # n · R
LOG_MAX = math.log(np.finfo(float).max)  # ≈ 709.78: e^{log r} beyond this is not a float


def k_values(log_r) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(k1, k2, k3) for an array of log r = log p(x) − log q(x)."""
    lr = np.asarray(log_r, dtype=float)
    k1 = -lr
    k2 = 0.5 * lr * lr
    small = np.abs(lr) < 1e-3  # expm1(L) − L cancels: L²/2 + L³/6 + L⁴/24 + L⁵/120
    with np.errstate(over="ignore", invalid="ignore"):
        k3 = np.where(lr > LOG_MAX, math.inf, np.expm1(np.minimum(lr, LOG_MAX)) - lr)
    s = lr[small] if lr.ndim else lr
    series = s * s * (0.5 + s * (1 / 6 + s * (1 / 24 + s / 120)))
    if lr.ndim:
        k3[small] = series
    elif small:
        k3 = series
    return k1, k2, np.asarray(k3, dtype=float)


def why_k3_infinite(log_r) -> str | None:
    top = float(np.max(log_r))
    if top > LOG_MAX:
        return (f"k3 = ∞: a sample has log r = {top:.4g} > {LOG_MAX:.2f}, so r = p(x)/q(x) "
                "exceeds the largest float (p and q disagree wildly there)")
    return None


# --- exact moments ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Moments:
    """Exact KL(q‖p), and each estimator's exact mean, standard deviation (one sample) and
    probability of a negative value (one sample; ``neg_n`` gives it for an n-sample mean
    where known, else None)."""

    kl: float
    mean: dict[str, float]
    sd: dict[str, float]
    negative: dict[str, float]
    mu: float | None = None  # the Gaussian setting's μ

    def neg_n(self, n: int) -> dict[str, float | None]:
        if self.mu is not None:  # the mean of k1 over n samples is −(μ x̄ − μ²/2), x̄ ~ N(0, 1/n)
            k1 = float(ndtr(-abs(self.mu) * math.sqrt(n) / 2)) if self.mu else 0.0
            return {"k1": k1, "k2": 0.0, "k3": 0.0}
        return {"k1": self.negative["k1"] if n == 1 else None, "k2": 0.0, "k3": 0.0}


def gaussian_exact(mu: float) -> Moments:
    """q = N(0,1), p = N(μ,1): log r ~ N(−μ²/2, μ²), KL = μ²/2; Var k1 = μ², Var k2 = μ⁴/2 +
    μ⁶/4, Var k3 = e^{μ²} − 1 − μ²; P(k1 < 0) = Φ(−|μ|/2)."""
    m2 = mu * mu
    kl = m2 / 2
    mean = {"k1": kl, "k2": m2 * m2 / 8 + m2 / 2, "k3": kl}
    var3 = math.expm1(m2) - m2 if m2 > 1e-4 else m2 * m2 / 2 + m2 ** 3 / 6
    sd = {"k1": abs(mu), "k2": math.sqrt(m2 * m2 / 2 + m2 ** 3 / 4), "k3": math.sqrt(var3)}
    neg = {"k1": float(ndtr(-abs(mu) / 2)) if mu else 0.0, "k2": 0.0, "k3": 0.0}
    return Moments(kl, mean, sd, neg, mu=float(mu))


def _log_probs(name: str, logp) -> np.ndarray:
    a = np.asarray(logp, dtype=float)
    if a.ndim != 1 or not np.isfinite(a).all():
        raise ValueError(f"{name}: log probabilities must be finite (every outcome possible)")
    return log_softmax(a)


def discrete_exact(log_q, log_p) -> Moments:
    """Exact sums for x ~ q over finitely many outcomes (log probabilities, finite).  Where q(x)
    underflows but p(x) does not, E_q[r²] = Σ p²/q overflows and a standard deviation is ∞."""
    lq, lp = _log_probs("q", log_q), _log_probs("p", log_p)
    q, p, lr = np.exp(lq), np.exp(lp), lp - lq
    k1, k2, k3 = k_values(lr)
    kl = max(math.fsum(q * k1), 0.0)
    with np.errstate(over="ignore"):
        p_r = np.exp(2 * lp - lq)  # q·r², computed without r
    # E[k3] = Σ (p − q) − Σ q log r; E[k3²] = Σ p r − 2 p (1 + L) + q (1 + L)²
    e3 = max(math.fsum(p) - math.fsum(q) + kl, 0.0)
    e3sq = math.fsum(p_r) + math.fsum(-2 * p * (1 + lr) + q * (1 + lr) ** 2)
    mean = {"k1": kl, "k2": math.fsum(q * k2), "k3": e3}
    var = {"k1": math.fsum(q * k1 * k1) - kl * kl, "k2": math.fsum(q * k2 * k2) - mean["k2"] ** 2,
           "k3": e3sq - e3 * e3 if math.isfinite(e3sq) else math.inf}
    sd = {k: math.sqrt(max(v, 0.0)) for k, v in var.items()}
    neg = {"k1": math.fsum(q[lr > 0]), "k2": 0.0, "k3": 0.0}
    return Moments(kl, mean, sd, neg)


# --- sampling ----------------------------------------------------------------------------------
def check_sizes(n: int, repeats: int) -> None:
    if n < 1 or repeats < 1:
        raise ValueError(f"sample size n and repeats R must be ≥ 1, got n = {n}, R = {repeats}")
    if n * repeats > MAX_SAMPLES:
        raise ValueError(f"n·R = {n * repeats:,} samples is over the cap of {MAX_SAMPLES:,}")


def gaussian_log_ratios(mu: float, n: int, repeats: int, seed: int) -> np.ndarray:
    """(R, n) log r = μx − μ²/2 for x ~ N(0, 1), seeded."""
    check_sizes(n, repeats)
    x = np.random.default_rng(seed).standard_normal((repeats, n))
    return mu * x - mu * mu / 2


def discrete_samples(log_q, n: int, repeats: int, seed: int) -> np.ndarray:
    """(R, n) outcome indices drawn from q, seeded."""
    check_sizes(n, repeats)
    q = np.exp(_log_probs("q", log_q))
    return np.random.default_rng(seed).choice(len(q), size=(repeats, n), p=q / q.sum())


def discrete_log_ratios(log_q, log_p, idx: np.ndarray) -> np.ndarray:
    lr = _log_probs("p", log_p) - _log_probs("q", log_q)
    return lr[idx]


@dataclass(frozen=True)
class Sampled:
    """R repeats of n-sample averages of each estimator, and their summary."""

    n: int
    repeats: int
    averages: dict[str, np.ndarray]  # (R,) per estimator
    mean: dict[str, float]
    sd: dict[str, float]
    negative: dict[str, float]  # fraction of the R averages below 0
    infinite: str | None  # why k3 is ∞, if it is


def summarise(log_r: np.ndarray) -> Sampled:
    """Average each estimator over the n samples of each of the R repeats (rows of ``log_r``)."""
    repeats, n = log_r.shape
    ks = dict(zip(ESTIMATORS, k_values(log_r), strict=True))
    avg = {k: v.mean(axis=1) for k, v in ks.items()}
    mean = {k: float(v.mean()) for k, v in avg.items()}
    sd = {k: float(v.std(ddof=1)) if repeats > 1 and np.isfinite(v).all() else
          (0.0 if repeats == 1 else math.inf) for k, v in avg.items()}
    neg = {k: float((v < 0).mean()) for k, v in avg.items()}
    return Sampled(n, repeats, avg, mean, sd, neg, why_k3_infinite(log_r))


# --- the gradient trap -------------------------------------------------------------------------
def gradient_check(log_q, log_p, idx: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Gradients with respect to the logits θ of q = softmax(θ), samples x ~ q not
    differentiated (∇log q(x) = e_x − q):

    * ``k1``: E[∇k1] = Σ q(x)(e_x − q) = 0, exactly;
    * ``k3``: E[∇k3] = Σ q(x)(1 − r(x))(e_x − q) = q − p;
    * ``forward``: ∇ KL(p‖q) = q − p (what k3's gradient estimates);
    * ``reverse``: ∇ KL(q‖p) = q ⊙ (log q − log p − KL(q‖p)) (what one wanted).

    ``k1`` and ``k3`` are the exact expectations (sums over outcomes); with sample indices
    ``idx`` also ``k1_sampled`` and ``k3_sampled``, their averages over those samples."""
    lq, lp = _log_probs("q", log_q), _log_probs("p", log_p)
    q, p, lr = np.exp(lq), np.exp(lp), lp - lq
    eye = np.eye(len(q))
    score = eye - q  # row x: ∇ log q(x)
    # q(x)·(1 − r(x)) = q(x) − p(x): no ratio needed
    out = {"k1": q @ score, "k3": (q - p) @ score, "forward": q - p,
           "reverse": q * (lr * -1 - math.fsum(q * -lr))}
    if idx is not None:
        flat = np.asarray(idx).ravel()
        with np.errstate(over="ignore"):
            w = -np.expm1(np.minimum(lr, LOG_MAX))  # 1 − r
        out["k1_sampled"] = score[flat].mean(axis=0)
        out["k3_sampled"] = (w[flat][:, None] * score[flat]).mean(axis=0)
    return out
