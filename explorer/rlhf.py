"""The KL-regularised RLHF objective in closed form, and what DPO makes of it.

For a reference policy π_ref over a few responses and a reward r(y), the policy maximising

    J(π) = E_π[r] − β KL(π‖π_ref)

is the tilted policy π*_β(y) = π_ref(y) exp(r(y)/β) / Z_β, and the optimum is J(π*) = β log Z_β
(Gibbs' variational principle).  Everything is computed in log space: log π* = log_softmax(
log π_ref + r/β), so β = 1e-3 with rewards of 1e3 is as safe as β = 1.

DPO (Rafailov et al. 2023) turns this around: the implicit reward β log(π*(y)/π_ref(y)) equals
r(y) − β log Z_β, the reward up to a constant, so a Bradley–Terry preference σ(r_w − r_l) and the
DPO loss −log σ(β log(π(y_w)/π_ref(y_w)) − β log(π(y_l)/π_ref(y_l))) need no reward model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import expit, log_expit, log_softmax, logsumexp

from explorer.discrete import Categorical
from explorer.distributions import check_real

BETA_RANGE = (1e-3, 1e3)  # what the API accepts (the page's slider: 0.01 … 100)
MAX_ABS_REWARD = 1e3


def _check(reference: Categorical, reward) -> np.ndarray:
    r = np.array([check_real(f"reward[{i}]", v, -MAX_ABS_REWARD, MAX_ABS_REWARD)
                  for i, v in enumerate(reward)], dtype=float)
    if len(r) != len(reference.probs):
        raise ValueError(f"reward: got {len(r)} rewards for {len(reference.probs)} responses")
    if min(reference.probs) <= 0:
        bad = reference.labels[int(np.argmin(reference.p))]
        raise ValueError(f"reference policy: π_ref('{bad}') = 0; every response needs "
                         "π_ref > 0")
    return r


def _beta(beta) -> float:
    return check_real("β", beta, *BETA_RANGE)


def tilted_log_policy(reference: Categorical, reward, beta: float) -> np.ndarray:
    """log π*_β = log_softmax(log π_ref + r/β), finite for every response."""
    r = _check(reference, reward)
    return log_softmax(np.log(reference.p) + r / _beta(beta))


def tilted_policy(reference: Categorical, reward, beta: float) -> Categorical:
    """π*_β ∝ π_ref · exp(r/β): the maximiser of E_π[r] − β KL(π‖π_ref), same labels."""
    return Categorical(np.exp(tilted_log_policy(reference, reward, beta)), reference.labels)


def log_partition(reference: Categorical, reward, beta: float) -> float:
    """log Z_β = log Σ π_ref(y) exp(r(y)/β); the optimal objective is β log Z_β."""
    r = _check(reference, reward)
    return float(logsumexp(np.log(reference.p) + r / _beta(beta)))


@dataclass(frozen=True)
class Tilt:
    """The optimum at one β: the policy, E_π*[r], KL(π*‖π_ref) (nats) and J = β log Z."""

    beta: float
    policy: Categorical
    expected_reward: float
    kl: float
    objective: float


def tilt(reference: Categorical, reward, beta: float) -> Tilt:
    r = _check(reference, reward)
    pol = tilted_policy(reference, r, beta)
    return Tilt(float(beta), pol, float(np.dot(pol.p, r)), pol.kl(reference),
                float(beta) * log_partition(reference, r, beta))


def objective(policy: Categorical, reference: Categorical, reward, beta: float) -> float:
    """J(π) = E_π[r] − β KL(π‖π_ref) of any policy (for checks against the optimum)."""
    r = _check(reference, reward)
    return float(np.dot(policy.p, r)) - _beta(beta) * policy.kl(reference)


def frontier(reference: Categorical, reward, betas=None) -> tuple[np.ndarray, ...]:
    """The reward–KL trade-off: (β, KL(π*_β‖π_ref), E_π*[r]) as arrays over ``betas`` (default
    200 log-spaced values over 1e-3 … 1e3).  KL falls and E[r] falls as β grows."""
    betas = np.geomspace(*BETA_RANGE, 200) if betas is None else np.asarray(betas, float)
    rows = [tilt(reference, reward, b) for b in betas]
    return (betas, np.array([t.kl for t in rows]), np.array([t.expected_reward for t in rows]))


def frontier_ends(reference: Categorical, reward) -> dict[str, float]:
    """The limits of the curve: β → 0 puts all mass on the best reward (ties shared in
    proportion to π_ref): KL = −log π_ref(best), E[r] = max r; β → ∞ gives π_ref back."""
    r = _check(reference, reward)
    best = r == r.max()
    return {"kl_hack": float(-math.log(math.fsum(reference.p[best]))),
            "reward_hack": float(r.max()), "kl_ref": 0.0,
            "reward_ref": float(np.dot(reference.p, r))}


def implicit_reward(log_policy, reference: Categorical, beta: float) -> np.ndarray:
    """β log(π(y)/π_ref(y)) per response, from log π (e.g. :func:`tilted_log_policy`, finite
    even where π(y) underflows to 0) or from a Categorical π (−∞ where π(y) = 0)."""
    if isinstance(log_policy, Categorical):
        with np.errstate(divide="ignore"):
            log_policy = np.log(log_policy.p)
    return _beta(beta) * (np.asarray(log_policy, float) - np.log(reference.p))


def bradley_terry(reward_chosen: float, reward_rejected: float) -> float:
    """P(chosen ≻ rejected) = σ(r_w − r_l)."""
    return float(expit(reward_chosen - reward_rejected))


def dpo_loss(log_policy, reference: Categorical, beta: float, chosen: int,
             rejected: int) -> float:
    """−log σ(β log(π(y_w)/π_ref(y_w)) − β log(π(y_l)/π_ref(y_l))) for responses ``chosen``
    and ``rejected`` (0-based); log 2 at π = π_ref, −log σ(r_w − r_l) at π = π*_β."""
    h = implicit_reward(log_policy, reference, beta)
    if chosen == rejected:
        return math.log(2.0)
    margin = h[chosen] - h[rejected]
    return math.inf if math.isnan(margin) else float(-log_expit(margin))
