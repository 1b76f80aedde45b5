"""Categorical distributions over named outcomes, and their KL / JS divergences.

The discrete case shows the support condition most plainly: KL(P‖Q) is infinite as soon as Q
gives probability 0 to an outcome P can produce, and additive smoothing (what drift dashboards
do) makes it finite again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import entr, rel_entr

from explorer.distributions import check_real

MAX_OUTCOMES = 12  # the distillation page has up to 12 tokens


def smooth(probs: np.ndarray, eps: float) -> np.ndarray:
    """Additive smoothing of a probability vector: (P + ε) / (1 + nε)."""
    return (np.asarray(probs, dtype=float) + eps) / (1.0 + len(probs) * eps)


def kl_probs(p: np.ndarray, q: np.ndarray) -> float:
    """KL(P‖Q) of two probability vectors, nats: ∞ where Q(x) = 0 < P(x); never below 0."""
    terms = rel_entr(p, q)
    return math.inf if np.isinf(terms).any() else max(math.fsum(terms), 0.0)


def js_probs(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen–Shannon divergence of two probability vectors, nats, in [0, ln 2]."""
    m = 0.5 * (p + q)
    value = 0.5 * math.fsum(rel_entr(p, m)) + 0.5 * math.fsum(rel_entr(q, m))
    return min(max(value, 0.0), math.log(2.0))


@dataclass(frozen=True, init=False)
class Categorical:
    """Probabilities over named outcomes; ``probs`` are relative (normalised here)."""

    probs: tuple[float, ...]
    labels: tuple[str, ...]

    def __init__(self, probs, labels=None):
        probs = list(probs)
        if not 1 <= len(probs) <= MAX_OUTCOMES:
            raise ValueError(f"Categorical probs: need 1 to {MAX_OUTCOMES} outcomes, "
                             f"got {len(probs)}")
        ps = [check_real(f"Categorical probs[{i}]", v, 0.0) for i, v in enumerate(probs)]
        total = math.fsum(ps)
        if total <= 0:
            raise ValueError("Categorical probs: all are zero; at least one must be > 0")
        if labels is None:
            labels = [f"x{i + 1}" for i in range(len(ps))]
        labels = tuple(str(label) for label in labels)
        if len(labels) != len(ps):
            raise ValueError(f"Categorical labels: got {len(labels)} labels for {len(ps)} "
                             "probabilities; the lengths must match")
        object.__setattr__(self, "probs", tuple(v / total for v in ps))
        object.__setattr__(self, "labels", labels)

    @property
    def p(self) -> np.ndarray:
        return np.asarray(self.probs)

    def _check_same(self, other: Categorical) -> None:
        if len(other.probs) != len(self.probs):
            raise ValueError(f"Categorical: P has {len(self.probs)} outcomes and Q has "
                             f"{len(other.probs)}; they must be over the same outcomes")

    @property
    def entropy(self) -> float:
        return float(entr(self.p).sum())

    def contributions(self, other: Categorical) -> np.ndarray:
        """Per-outcome terms P(x)·log(P(x)/Q(x)) of KL(P‖Q), in nats (inf where Q(x)=0<P(x))."""
        self._check_same(other)
        return rel_entr(self.p, other.p)

    def kl(self, other: Categorical) -> float:
        self._check_same(other)
        return kl_probs(self.p, other.p)

    def cross_entropy(self, other: Categorical) -> float:
        return self.entropy + self.kl(other)

    def js(self, other: Categorical) -> float:
        self._check_same(other)
        return js_probs(self.p, other.p)

    def why_infinite(self, other: Categorical) -> str | None:
        terms = self.contributions(other)
        bad = [self.labels[i] for i in np.flatnonzero(np.isinf(terms))]
        if not bad:
            return None
        names = ", ".join(f"'{b}'" for b in bad)
        return (f"Q gives probability 0 to {names}, which P can produce: P(x)·log(P(x)/0) = ∞, "
                "so KL(P‖Q) = ∞.")

    def smoothed(self, eps: float) -> Categorical:
        """Additive smoothing: (P + ε) / (1 + nε), which makes every outcome possible."""
        eps = check_real("smoothing ε", eps, 0.0, 1.0)
        return Categorical(smooth(self.p, eps), self.labels)
