"""The components of a target: Normal, Student-t and Laplace distributions on the real line.

Every component offers the same small interface, evaluated on numpy arrays and in log space:
``logpdf``/``pdf``, the first and second derivatives of ``logpdf`` in x (for exact reparameterised
gradients and Hessians), ``mean``/``variance``, ``entropy`` (nats) and ``breakpoints`` — the edges
of the quadrature panels that resolve it (see :mod:`explorer.quadrature`).  Parameters are
validated: a ValueError names the field and the allowed range.

Two numbers describe the tails, which decide when a KL divergence is infinite:
``moment_order`` is the supremum of the r with E|X|^r < inf (inf for Normal and Laplace, nu for a
Student-t), and ``log_growth`` is the power r with -log pdf(x) ~ |x|^r in the tails (2, 1, and 0
meaning logarithmic). E_p[-log q] is finite iff every component of p has moment_order >
log_growth of q.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

LOG_2PI = math.log(2.0 * math.pi)

# Panel edges in units of a component's scale, one side (mirrored).  Fine near the centre, wider
# in the tails; Gaussian tails end where the density underflows (38.6 sd), Laplace ones likewise
# (745 scales), Student-t tails run out geometrically (doubling) until the mass left beyond,
# ~X^-ν, is below 2^-64: to 1e15 scales for ν ≥ 1.4, further for heavier tails (1e193 at ν = 0.1).
_INNER = np.array([0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0])
_NORMAL_SIDE = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 10.0, 12.0, 15.0, 19.0, 24.0, 30.0,
                         40.0])
_LAPLACE_SIDE = np.concatenate([_INNER, np.arange(12.0, 41.0, 2.0), [45, 50, 60, 70, 85, 100,
                                                                       120, 150, 200, 300, 450,
                                                                       750]])
_STUDENT_DOUBLINGS = 47


def _student_side(df: float) -> np.ndarray:
    """A t's density has poles at ±i·scale·√ν: for ν < 1 the peak is sharper than its scale, so
    the inner panels shrink with √ν too (else Gauss–Legendre loses ~1e-8 at ν = 0.1)."""
    doublings = max(_STUDENT_DOUBLINGS, math.ceil(64.0 / df))
    inner = _INNER if df >= 1 else np.union1d(_INNER * math.sqrt(df), _INNER)
    return np.concatenate([inner, 10.0 * 2.0 ** np.arange(1, doublings + 1)])


_STUDENT_SIDE = _student_side(2.0)


def _offsets(side: np.ndarray) -> np.ndarray:
    return np.concatenate([-side[::-1], [0.0], side])


_NORMAL_OFFSETS = _offsets(_NORMAL_SIDE)
_LAPLACE_OFFSETS = _offsets(_LAPLACE_SIDE)
_STUDENT_OFFSETS = _offsets(_STUDENT_SIDE)

# Each component may not be narrower or wider than this (relative to 1), nor further out: the
# quadrature and the optimisers stay well inside double precision.
MAX_ABS_LOCATION = 1e6
MIN_SCALE, MAX_SCALE = 1e-6, 1e6
MIN_DF, MAX_DF = 0.1, 1e6


def check_real(field: str, value, lo: float = -math.inf, hi: float = math.inf,
               lo_open: bool = False) -> float:
    """``value`` as a float, or ValueError naming ``field`` and the allowed range."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{field} must be a number, got {value!r}") from None
    bracket = "(" if lo_open else "["
    allowed = f"{bracket}{lo:g}, {hi:g}]"
    if not math.isfinite(v):
        raise ValueError(f"{field} must be a finite number in {allowed}, got {v}")
    if v < lo or v > hi or (lo_open and v == lo):
        raise ValueError(f"{field} must be in {allowed}, got {v:g}")
    return v


def _loc(field: str, value) -> float:
    return check_real(field, value, -MAX_ABS_LOCATION, MAX_ABS_LOCATION)


def _scale(field: str, value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = value
    if isinstance(v, float) and math.isfinite(v) and v <= 0:
        raise ValueError(f"{field} must be > 0 (allowed [{MIN_SCALE:g}, {MAX_SCALE:g}]), "
                         f"got {v:g}")
    return check_real(field, value, MIN_SCALE, MAX_SCALE)


class _Component:
    """Shared behaviour of the location-scale components (subclasses are frozen dataclasses)."""

    family: str
    _offsets: np.ndarray

    loc: float
    scale: float

    def pdf(self, x):
        return np.exp(self.logpdf(x))

    @property
    def breakpoints(self) -> np.ndarray:
        return self.loc + self.scale * self._offsets

    def d2_atoms(self) -> list[tuple[float, float]]:
        """Point masses of d²/dx² logpdf (x, mass): a kink in logpdf (Laplace) puts one there."""
        return []

    def shifted(self, c: float) -> _Component:
        """The same component moved by −c (exact where loc is near c).  Used to integrate in
        coordinates centred on a target; not validated, as the result may lie beyond the range."""
        new = copy.copy(self)
        object.__setattr__(new, self._loc_field, self.loc - c)
        return new

    @property
    def components(self) -> tuple[_Component, ...]:
        return (self,)

    @property
    def weights(self) -> tuple[float, ...]:
        return (1.0,)


@dataclass(frozen=True)
class Normal(_Component):
    """Gaussian N(mean, std²)."""

    mean: float
    std: float
    family = "normal"
    _loc_field = "mean"
    _offsets = _NORMAL_OFFSETS
    moment_order = math.inf
    log_growth = 2.0

    def __post_init__(self):
        object.__setattr__(self, "mean", _loc("Normal mean", self.mean))
        object.__setattr__(self, "std", _scale("Normal std", self.std))

    @property
    def loc(self) -> float:
        return self.mean

    @property
    def scale(self) -> float:
        return self.std

    @property
    def variance(self) -> float:
        return self.std**2

    @property
    def entropy(self) -> float:
        return 0.5 * (LOG_2PI + 1.0) + math.log(self.std)

    def logpdf(self, x):
        z = (np.asarray(x, dtype=float) - self.mean) / self.std
        with np.errstate(over="ignore"):  # -inf far out (on a heavy t's tail panels) is right
            return -0.5 * z * z - (math.log(self.std) + 0.5 * LOG_2PI)

    def dlogpdf(self, x):
        return -(np.asarray(x, dtype=float) - self.mean) / self.std**2

    def d2logpdf(self, x):
        return np.full(np.shape(x), -1.0 / self.std**2)

    def label(self) -> str:
        return f"N({self.mean:.4g}, {self.std:.4g}²)"


@dataclass(frozen=True)
class StudentT(_Component):
    """Student-t with ``df`` degrees of freedom, location ``loc`` and scale ``scale``."""

    loc: float
    scale: float
    df: float
    family = "student_t"
    _loc_field = "loc"
    log_growth = 0.0

    def __post_init__(self):
        object.__setattr__(self, "loc", _loc("Student-t loc", self.loc))
        object.__setattr__(self, "scale", _scale("Student-t scale", self.scale))
        object.__setattr__(self, "df", check_real("Student-t df (ν)", self.df, MIN_DF, MAX_DF))

    @property
    def moment_order(self) -> float:
        return self.df

    @cached_property
    def _offsets(self) -> np.ndarray:
        return _STUDENT_OFFSETS if self.df >= 64 / _STUDENT_DOUBLINGS else _offsets(
            _student_side(self.df))

    @property
    def mean(self) -> float:
        return self.loc if self.df > 1 else math.nan

    @property
    def variance(self) -> float:
        return self.scale**2 * self.df / (self.df - 2) if self.df > 2 else math.inf

    @property
    def entropy(self) -> float:
        from scipy.special import digamma, gammaln  # here: scipy.special is slow to import

        v = self.df
        return float((v + 1) / 2 * (digamma((v + 1) / 2) - digamma(v / 2))
                     + 0.5 * math.log(v) + gammaln(v / 2) + gammaln(0.5) - gammaln((v + 1) / 2)
                     + math.log(self.scale))

    @cached_property
    def _log_norm(self) -> float:
        from scipy.special import gammaln  # here: scipy.special is slow to import

        v = self.df
        return float(gammaln((v + 1) / 2) - gammaln(v / 2) - 0.5 * math.log(v * math.pi)
                     - math.log(self.scale))

    def logpdf(self, x):
        a = np.abs(np.asarray(x, dtype=float) - self.loc) / (self.scale * math.sqrt(self.df))
        # log(1 + a²), as 2 log a + log(1 + a⁻²) past a = 1 so that a² never overflows (the tail
        # panels of a heavy t reach 1e193 scales)
        big = np.maximum(a, 1.0)
        log1p_a2 = np.where(a > 1.0, 2.0 * np.log(big) + np.log1p((1.0 / big) ** 2),
                            np.log1p(np.minimum(a, 1.0) ** 2))
        return self._log_norm - (self.df + 1) / 2 * log1p_a2

    def dlogpdf(self, x):
        u = np.asarray(x, dtype=float) - self.loc
        return -(self.df + 1) * u / (self.df * self.scale**2 + u * u)

    def d2logpdf(self, x):
        u = np.asarray(x, dtype=float) - self.loc
        a = self.df * self.scale**2
        return -(self.df + 1) * (a - u * u) / (a + u * u) ** 2

    def label(self) -> str:
        return f"t{self.df:.3g}({self.loc:.4g}, {self.scale:.4g})"


@dataclass(frozen=True)
class Laplace(_Component):
    """Laplace (double exponential) with location ``loc`` and scale ``scale``; variance 2·scale²."""

    loc: float
    scale: float
    family = "laplace"
    _loc_field = "loc"
    _offsets = _LAPLACE_OFFSETS
    moment_order = math.inf
    log_growth = 1.0

    def __post_init__(self):
        object.__setattr__(self, "loc", _loc("Laplace loc", self.loc))
        object.__setattr__(self, "scale", _scale("Laplace scale", self.scale))

    @property
    def mean(self) -> float:
        return self.loc

    @property
    def variance(self) -> float:
        return 2.0 * self.scale**2

    @property
    def entropy(self) -> float:
        return 1.0 + math.log(2.0 * self.scale)

    def logpdf(self, x):
        return -np.abs(np.asarray(x, dtype=float) - self.loc) / self.scale - math.log(
            2.0 * self.scale)

    def dlogpdf(self, x):
        return -np.sign(np.asarray(x, dtype=float) - self.loc) / self.scale

    def d2logpdf(self, x):
        return np.zeros(np.shape(x))

    def d2_atoms(self) -> list[tuple[float, float]]:
        return [(self.loc, -2.0 / self.scale)]

    def label(self) -> str:
        return f"Laplace({self.loc:.4g}, {self.scale:.4g})"


Component = Normal | StudentT | Laplace
COMPONENT_TYPES = (Normal, StudentT, Laplace)


def normal_log_derivs(x: np.ndarray, const, mean, std):
    """log p, d/dx and d²/dx² log p of Normal mixtures at x, in a dozen passes over components ×
    points (the inner loop of every reverse fit): the scores first, the log-densities from
    them, and the responsibility-weighted sums as einsums divided by the total afterwards.
    ``const``, ``mean``, ``std``: (components, 1) for one mixture and points x (n,), or
    (components, K, 1) for K mixtures, one per row of x (K, n)."""
    ivar = 1.0 / (std * std)
    d1s = (mean - x) * ivar
    sq = d1s * d1s
    logs = sq * (-0.5 * std * std)
    logs += const
    top = logs.max(axis=0)
    logs -= top
    e = np.exp(logs, out=logs)
    total = e.sum(axis=0)
    d1 = np.einsum("k...,k...->...", e, d1s) / total
    sq -= ivar
    d2 = np.einsum("k...,k...->...", e, sq) / total - d1 * d1
    return top + np.log(total), d1, d2
