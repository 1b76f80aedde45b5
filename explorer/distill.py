"""Knowledge distillation with temperature: soft targets, a student too small to copy them, and
the T² rule.

Teacher: logits z over K ordered tokens; soft targets t_T = softmax(z/T).  Student: a discretised
Gaussian over the token positions i = 0 … K−1 with θ = (μ, log σ),

    s_θ(i) = softmax_i(a_i),   a_i = −(i − μ)² / (2σ²),

which cannot copy a teacher with a runner-up far from its winner.  Fitting it by forward KL(t‖s)
(classic distillation) spreads it over both; reverse KL(s‖t) (on-policy distillation, MiniLLM)
picks one — possibly one of several local optima.  Both objectives have exact gradients and
Hessians in θ (below) and are minimised by :func:`explorer.newton.descend` from a grid of starts;
only certified minima are returned.

T² rule (Hinton, Vinyals & Dean 2015): the gradient of the soft loss KL(t_T‖softmax(v/T)) with
respect to the student's logits v is (softmax(v/T) − t_T)/T, which shrinks like 1/T² for large T
(≈ (v − z)/(K T²) for zero-mean logits), so the soft loss is multiplied by T².
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import log_softmax, softmax

from explorer.discrete import Categorical
from explorer.distributions import check_real
from explorer.newton import descend

MAX_ABS_LOGIT = 1e3
TEMPERATURE_RANGE = (0.05, 50.0)  # what the API accepts (the page: 0.1 … 20)
SIGMA_RANGE = (0.05, 1e4)
MU_REACH = 100  # μ within ±100 K of the tokens  # the student's σ, in token positions
MERGE_TOL = 1e-3  # certified minima closer than this (in σ units, log σ) are one


def _logits(z) -> np.ndarray:
    z = np.array([check_real(f"logit[{i}]", v, -MAX_ABS_LOGIT, MAX_ABS_LOGIT)
                  for i, v in enumerate(z)], dtype=float)
    if not 2 <= len(z) <= 12:
        raise ValueError(f"logits: need 2 to 12 tokens, got {len(z)}")
    return z


def _temperature(t) -> float:
    return check_real("temperature T", t, *TEMPERATURE_RANGE)


def soft_log_targets(logits, temperature: float) -> np.ndarray:
    """log softmax(z/T), finite for every token."""
    return log_softmax(_logits(logits) / _temperature(temperature))


def soft_targets(logits, temperature: float, labels=None) -> Categorical:
    """The teacher's soft targets softmax(z/T) as a Categorical."""
    return Categorical(softmax(_logits(logits) / _temperature(temperature)), labels)


def entropy_curve(logits, temperatures) -> np.ndarray:
    """H(softmax(z/T)) in nats for each T: 0 … log K as T runs from 0 to ∞."""
    return np.array([soft_targets(logits, t).entropy for t in temperatures])


# --- the student ---------------------------------------------------------------------------------
def student_log_probs(theta, k: int) -> np.ndarray:
    """log s_θ(i) for θ (…, 2) = (μ, log σ): (…, k)."""
    theta = np.asarray(theta, dtype=float)
    u = np.arange(k) - theta[..., :1]
    a = -0.5 * u * u * np.exp(-2 * theta[..., 1:2])
    return log_softmax(a, axis=-1)


def student(mu: float, sigma: float, labels) -> Categorical:
    return Categorical(np.exp(student_log_probs([mu, math.log(sigma)], len(labels))), labels)


def _parts(theta: np.ndarray, k: int):
    """Per-token log s (K, k), its weights s, and the first and second derivatives of the
    logits a: J (K, k, 2), H (K, k, 2, 2)."""
    u = np.arange(k)[None, :] - theta[:, :1]
    w = np.exp(-2 * theta[:, 1:2])
    a = -0.5 * u * u * w
    ls = log_softmax(a, axis=1)
    s = np.exp(ls)
    jac = np.stack([u * w, u * u * w], axis=-1)
    hes = np.empty((*u.shape, 2, 2))
    hes[..., 0, 0] = -w
    hes[..., 0, 1] = hes[..., 1, 0] = -2 * u * w
    hes[..., 1, 1] = -2 * u * u * w
    return ls, s, jac, hes


def _ev(s, x):
    """E_s[x] over tokens (axis 1) for x of shape (K, k, …)."""
    return np.einsum("nk,nk...->n...", s, x)


def forward_objective(log_t: np.ndarray, theta: np.ndarray):
    """KL(t‖s_θ), its gradient and Hessian in θ, for θ (K, 2): with A = logsumexp(a),
    KL = Σ t log t − E_t[a] + A, ∇A = E_s[J], ∇²A = E_s[H] + Cov_s(J)."""
    ls, s, jac, hes = _parts(theta, len(log_t))
    t = np.exp(log_t)
    f = (t * (log_t - ls)).sum(axis=1)
    mj = _ev(s, jac)
    d = jac - mj[:, None, :]
    cov = _ev(s, d[..., :, None] * d[..., None, :])
    g = _ev(s - t, jac)  # E_s[J] − E_t[J] as one sum: no cancellation near the optimum
    h = _ev(s - t, hes) + cov
    return np.maximum(f, 0.0), g, h


def reverse_objective(log_t: np.ndarray, theta: np.ndarray):
    """KL(s_θ‖t) = E_s[g], g = log s − log t: gradient E_s[g D] with D = J − E_s[J], Hessian
    E_s[g (D Dᵀ + H)] − E_s[g] ∇²A + Cov_s(J)."""
    ls, s, jac, hes = _parts(theta, len(log_t))
    gi = ls - log_t[None, :]
    f = (s * gi).sum(axis=1)
    mj = _ev(s, jac)
    d = jac - mj[:, None, :]
    ddt = d[..., :, None] * d[..., None, :]
    cov = _ev(s, ddt)
    hess_a = _ev(s, hes) + cov
    g = _ev(s * gi, d)
    h = _ev(s * gi, ddt + hes) - f[:, None, None] * hess_a + cov
    return np.maximum(f, 0.0), g, h


OBJECTIVES = {"forward": forward_objective, "reverse": reverse_objective}


@dataclass(frozen=True)
class StudentFit:
    """A certified local minimum: μ, σ, the fitted direction's KL and both KLs (nats)."""

    direction: str
    mu: float
    sigma: float
    kl_forward: float  # KL(t‖s)
    kl_reverse: float  # KL(s‖t)

    @property
    def kl(self) -> float:
        return self.kl_forward if self.direction == "forward" else self.kl_reverse


def _inside(k: int):
    lo, hi = math.log(SIGMA_RANGE[0]), math.log(SIGMA_RANGE[1])

    def inside(theta):
        return ((theta[:, 0] >= -MU_REACH * k) & (theta[:, 0] <= MU_REACH * k)
                & (theta[:, 1] >= lo) & (theta[:, 1] <= hi))

    return inside


def _scale(theta: np.ndarray) -> np.ndarray:
    return np.stack([np.exp(theta[:, 1]), np.ones(len(theta))], axis=1)


def student_starts(k: int) -> np.ndarray:
    """A start at every token position, narrow, middling and wide (3k starts)."""
    return np.array([[i, math.log(s)] for i in range(k) for s in (0.4, 1.0, 3.0)])


def fit_student(logits, temperature: float, direction: str) -> list[StudentFit]:
    """Every distinct certified local minimum of KL(t‖s) ("forward") or KL(s‖t) ("reverse")
    over the discretised Gaussians, best first.  Empty when no start certified a minimum
    inside |μ| ≤ 100 K, σ ∈ SIGMA_RANGE (e.g. an optimum running off to σ → ∞)."""
    if direction not in OBJECTIVES:
        raise ValueError(f"direction must be forward or reverse, got {direction!r}")
    log_t = soft_log_targets(logits, temperature)
    k = len(log_t)
    run = descend(lambda th: OBJECTIVES[direction](log_t, th), student_starts(k), _scale,
                  _inside(k))
    kept: list[np.ndarray] = []
    for i in np.argsort(run.f, kind="stable"):
        if not run.certified[i]:
            continue
        th = run.theta[i]
        if not any(abs(th[0] - o[0]) <= MERGE_TOL * math.exp(th[1])
                   and abs(th[1] - o[1]) <= MERGE_TOL for o in kept):
            kept.append(th)
    if not kept:
        return []
    theta = np.array(kept)
    fwd, rev = forward_objective(log_t, theta)[0], reverse_objective(log_t, theta)[0]
    return [StudentFit(direction, float(th[0]), float(math.exp(th[1])), float(f), float(r))
            for th, f, r in zip(theta, fwd, rev, strict=True)]


# --- the T² rule -----------------------------------------------------------------------------
def soft_loss_gradient(teacher_logits, student_logits, temperature: float) -> np.ndarray:
    """∂/∂v KL(softmax(z/T) ‖ softmax(v/T)) = (softmax(v/T) − softmax(z/T)) / T."""
    t = _temperature(temperature)
    z, v = _logits(teacher_logits), _logits(student_logits)
    return (softmax(v / t) - softmax(z / t)) / t


def t2_curve(teacher_logits, student_logits, temperatures) -> tuple[np.ndarray, np.ndarray]:
    """The soft-loss gradient's size ‖∂L/∂v‖ against T, without and with the T² factor."""
    ts = np.asarray(temperatures, dtype=float)
    plain = np.array([np.linalg.norm(soft_loss_gradient(teacher_logits, student_logits, t))
                      for t in ts])
    return plain, plain * ts * ts
