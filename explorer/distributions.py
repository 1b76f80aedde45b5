"""Distributions on the real line: Normal, Student-t and Laplace components, and their mixtures.

Every distribution offers the same small interface, evaluated on numpy arrays and in log space:
``logpdf``/``pdf``, the first and second derivatives of ``logpdf`` in x (for exact reparameterised
gradients and Hessians), ``mean``/``variance``, ``entropy`` (nats) and ``breakpoints`` — the edges
of the quadrature panels that resolve it (see :mod:`explorer.quadrature`).

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
from scipy.optimize import brentq
from scipy.special import digamma, gammaln

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
        v = self.df
        return float((v + 1) / 2 * (digamma((v + 1) / 2) - digamma(v / 2))
                     + 0.5 * math.log(v) + gammaln(v / 2) + gammaln(0.5) - gammaln((v + 1) / 2)
                     + math.log(self.scale))

    @cached_property
    def _log_norm(self) -> float:
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


@dataclass(frozen=True, init=False)
class Mixture:
    """Finite mixture sum_i w_i f_i.  ``weights`` are relative (normalised here), default equal."""

    components: tuple[Component, ...]
    weights: tuple[float, ...]

    def __new__(cls, components=None, weights=None):
        # Mixtures of MvNormal components are explorer.mvnormal.MvMixture (a dispatch hook).
        if components is not None and not isinstance(components, str):
            components = tuple(components)
            if any(type(c).__name__ == "MvNormal" for c in components):
                from explorer.mvnormal import MvMixture

                return MvMixture(components, weights)
        return super().__new__(cls)

    def __init__(self, components, weights=None):
        comps = tuple(components) if components is not None else ()
        if not comps:
            raise ValueError("Mixture components: need at least one component, got none")
        for i, c in enumerate(comps):
            if not isinstance(c, COMPONENT_TYPES):
                raise ValueError(f"Mixture components[{i}] must be a Normal, StudentT or Laplace, "
                                 f"got {type(c).__name__}")
        if weights is None:
            weights = [1.0] * len(comps)
        weights = list(weights)
        if len(weights) != len(comps):
            raise ValueError(f"Mixture weights: got {len(weights)} weights for {len(comps)} "
                             "components; the lengths must match")
        ws = [check_real(f"Mixture weights[{i}]", w, 0.0) for i, w in enumerate(weights)]
        top = max(ws)
        if top <= 0:
            raise ValueError("Mixture weights: all weights are zero; at least one must be > 0")
        ws = [w / top for w in ws]  # relative to the largest first: the sum cannot overflow
        total = math.fsum(ws)
        object.__setattr__(self, "components", comps)
        object.__setattr__(self, "weights", tuple(w / total for w in ws))

    # --- the parts that carry mass -------------------------------------------------------------
    @cached_property
    def _active(self) -> tuple[tuple[float, Component], ...]:
        return tuple((math.log(w), c) for w, c in zip(self.weights, self.components, strict=True)
                     if w > 0)

    @cached_property
    def moment_order(self) -> float:
        return min(c.moment_order for _, c in self._active)

    @property
    def log_growth(self) -> float:
        # p ≥ w_i f_i, so −log p grows no faster than its slowest component: the heaviest
        # tail decides (a t component makes −log p logarithmic whatever else is mixed in)
        return min(c.log_growth for _, c in self._active)

    @cached_property
    def mean(self) -> float:
        """Mean (nan where it does not exist: a Student-t component with ν ≤ 1)."""
        if self.moment_order <= 1:
            return math.nan
        return math.fsum(math.exp(lw) * c.mean for lw, c in self._active)

    @cached_property
    def variance(self) -> float:
        """Variance (inf where a Student-t component has ν ≤ 2)."""
        if self.moment_order <= 2:
            return math.inf
        m = self.mean
        return math.fsum(math.exp(lw) * (c.variance + (c.mean - m) ** 2) for lw, c in self._active)

    # --- densities -------------------------------------------------------------------------------
    @cached_property
    def _normal_params(self):
        """(log weight, mean, std) columns when every active component is Normal, else None."""
        if not all(isinstance(c, Normal) for _, c in self._active):
            return None
        cols = np.array([(lw, c.mean, c.std) for lw, c in self._active]).T[:, :, None]
        return cols[0] - np.log(cols[2]) - 0.5 * LOG_2PI, cols[1], cols[2]

    def _weighted_logs(self, x: np.ndarray) -> np.ndarray:
        if self._normal_params is not None:
            const, mean, std = self._normal_params
            z = (x - mean) / std
            return const - 0.5 * z * z
        return np.stack([lw + c.logpdf(x) for lw, c in self._active])

    def _score_terms(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each component's d/dx and d²/dx² logpdf at x, stacked (components × points)."""
        if self._normal_params is not None:
            _, mean, std = self._normal_params
            ivar = 1.0 / (std * std)
            return (mean - x) * ivar, np.broadcast_to(-ivar, (len(ivar), x.size))
        return (np.stack([c.dlogpdf(x) for _, c in self._active]),
                np.stack([c.d2logpdf(x) for _, c in self._active]))

    def logpdf(self, x):
        x = np.asarray(x, dtype=float)
        if len(self._active) == 1:
            lw, c = self._active[0]
            return c.logpdf(x)
        # components × points on the flattened input, reshaped back: any input shape, scalars too
        return _logsumexp0(self._weighted_logs(x.ravel())).reshape(x.shape)

    def pdf(self, x):
        return np.exp(self.logpdf(x))

    def log_derivs(self, x: np.ndarray):
        """logpdf, d/dx logpdf and d²/dx² logpdf at x, from the components' closed forms."""
        x = np.asarray(x, dtype=float)
        if len(self._active) == 1:
            c = self._active[0][1]
            return c.logpdf(x), c.dlogpdf(x), c.d2logpdf(x)
        shape, x = x.shape, x.ravel()
        if self._normal_params is not None:
            return tuple(a.reshape(shape) for a in self._normal_log_derivs(x))
        logs = self._weighted_logs(x)
        top = logs.max(axis=0)
        e = np.exp(logs - top)
        total = e.sum(axis=0)
        lp = top + np.log(total)
        resp = e / total  # responsibilities: ratios of bounded terms, never of densities
        d1s, d2s = self._score_terms(x)
        d1 = (resp * d1s).sum(axis=0)
        d2 = (resp * (d2s + d1s * d1s)).sum(axis=0) - d1 * d1
        return lp.reshape(shape), d1.reshape(shape), d2.reshape(shape)

    def _normal_log_derivs(self, x: np.ndarray):
        """log_derivs of a Normal mixture in a dozen passes over components × points (it is the
        inner loop of every reverse fit): the scores first, the log-densities from them, and the
        responsibility-weighted sums as einsums divided by the total afterwards."""
        const, mean, std = self._normal_params
        ivar = 1.0 / (std * std)
        d1s = (mean - x) * ivar
        sq = d1s * d1s
        logs = sq * (-0.5 * std * std)
        logs += const
        top = logs.max(axis=0)
        logs -= top
        e = np.exp(logs, out=logs)
        total = e.sum(axis=0)
        d1 = np.einsum("kn,kn->n", e, d1s) / total
        sq -= ivar
        d2 = np.einsum("kn,kn->n", e, sq) / total - d1 * d1
        return top + np.log(total), d1, d2

    def dlogpdf(self, x):
        return self.log_derivs(x)[1]

    def d2logpdf(self, x):
        return self.log_derivs(x)[2]

    def d2_atoms(self) -> list[tuple[float, float]]:
        """Point masses of d²/dx² logpdf: a component's kink, weighted by its responsibility."""
        atoms = []
        for lw, c in self._active:
            for x0, mass in c.d2_atoms():
                resp = math.exp(lw + float(c.logpdf(x0)) - float(self.logpdf(x0)))
                atoms.append((x0, mass * resp))
        return atoms

    # --- quadrature support ----------------------------------------------------------------------
    @cached_property
    def breakpoints(self) -> np.ndarray:
        """Panel edges that resolve p: every component's own, and where log p switches component."""
        own = np.concatenate([c.breakpoints for _, c in self._active])
        return np.unique(np.concatenate([own, self._switches]))

    @cached_property
    def log_breakpoints(self) -> np.ndarray:
        """Panel edges that resolve log p alone (enough for ∫ q log p when q is resolved by its own
        panels).  Student-t and Laplace components need their own edges; a Normal's log-density
        is a parabola and needs none where it is alone, but where another component is within
        e^-40 of it (a bump of a component that never dominates, an overlap) log p bends on the
        narrower one's scale, so there its edges are kept; every switch of the dominant
        component adds its ladder (see :meth:`_switch_ladders`)."""
        rough = [c.breakpoints for _, c in self._active if not isinstance(c, Normal)]
        return np.unique(np.concatenate([*rough, *self._interacting_normal_edges(),
                                         self._switches]))

    @cached_property
    def coarse_log_breakpoints(self) -> np.ndarray:
        """A few edges that roughly resolve log p, to steer a descent far from its minimum: every
        switch of the dominant component and every non-Normal component's centre ± 1, 2, 4
        scales (a Laplace kink, a t's peak)."""
        rough = [c.loc + c.scale * _COARSE_OFFSETS for _, c in self._active
                 if not isinstance(c, Normal)]
        return np.unique(np.concatenate([*rough, self._switch_edges[0]]))

    def _interacting_normal_edges(self) -> list[np.ndarray]:
        if len(self._active) == 1:
            return []
        kept = []
        for j, (_, c) in enumerate(self._active):
            if not isinstance(c, Normal):
                continue
            e = c.breakpoints
            mid = 0.5 * (e[:-1] + e[1:])
            logs = self._weighted_logs(np.concatenate([e, mid]))
            total = _logsumexp0(logs)
            others = _logsumexp0(np.delete(logs, j, axis=0))
            both = np.minimum(logs[j] - total, others - total) > -_NEGLIGIBLE
            at_edge, at_mid = both[:e.size], both[e.size:]
            near = at_edge.copy()
            near[:-1] |= at_mid
            near[1:] |= at_mid
            kept.append(e[near])
        return kept

    @property
    def _switches(self) -> np.ndarray:
        """Every switch of the dominant component of log p, with its ladder of edges."""
        return self._switch_edges[1]

    @cached_property
    def _switch_edges(self) -> tuple[np.ndarray, np.ndarray]:
        """(the points of the real line where the dominant component of log p changes, those
        points with their ladders of edges): found pair by pair over the whole line (exactly,
        from a quadratic, for two Normals), not only inside p's own panels, since a wide q
        reaches far beyond them."""
        if len(self._active) == 1:
            return np.empty(0), np.empty(0)
        found = [(x, i, j) for i in range(len(self._active))
                 for j in range(i + 1, len(self._active)) for x in self._pair_crossings(i, j)]
        if not found:
            return np.empty(0), np.empty(0)
        x = np.array([f[0] for f in found])
        logs = self._weighted_logs(x)
        top = logs.max(axis=0)
        ladders, centres = [], []
        for k, (x0, i, j) in enumerate(found):
            # a crossing of the pair that dominates there (ties with a twin component allowed)
            if min(logs[i, k], logs[j, k]) < top[k] - 1e-6 * (1.0 + abs(top[k])):
                continue
            ci, cj = self._active[i][1], self._active[j][1]
            slope = abs(float(ci.dlogpdf(x0) - cj.dlogpdf(x0)))
            centres.append(x0)
            ladders.append([x0])
            if slope > 0:
                # log(e^a + e^b) is singular where a − b = iπ, i.e. π/slope off the real axis:
                # edges at 1, 2, 4, … 64 transition widths either side keep every panel's rule far
                # from it; beyond 64 widths the smaller term is below e^-64
                widths = 2.0 ** np.arange(0, 7) / slope
                ladders.append(x0 + widths)
                ladders.append(x0 - widths)
        if not ladders:
            return np.empty(0), np.empty(0)
        return np.unique(centres), np.unique(np.concatenate(ladders))

    def _pair_crossings(self, i: int, j: int) -> list[float]:
        """All x with w_i f_i(x) = w_j f_j(x)."""
        (lwi, ci), (lwj, cj) = self._active[i], self._active[j]
        if isinstance(ci, Normal) and isinstance(cj, Normal):
            # in y = x − m_i: a y² + b y + c = 0, roots taken in the cancellation-free form
            dm = cj.mean - ci.mean
            a = 0.5 * (1.0 / cj.std**2 - 1.0 / ci.std**2)
            b = -dm / cj.std**2
            c = (lwi - math.log(ci.std)) - (lwj - math.log(cj.std)) + 0.5 * (dm / cj.std) ** 2
            if a == 0.0:
                return [] if b == 0.0 else [ci.mean - c / b]
            disc = b * b - 4.0 * a * c
            if disc < 0:
                return []
            qq = -0.5 * (b + math.copysign(math.sqrt(disc), b))
            roots = [qq / a] + ([c / qq] if qq != 0.0 else [])
            return [ci.mean + y for y in roots]

        def gap(x):
            return lwi + ci.logpdf(x) - lwj - cj.logpdf(x)

        grid = self._crossing_grid
        g = gap(grid)
        out = []
        for k in np.flatnonzero(np.sign(g[:-1]) * np.sign(g[1:]) < 0):
            out.append(brentq(lambda t: float(gap(t)), grid[k], grid[k + 1], xtol=1e-300,
                              rtol=1e-15))
        return out

    @cached_property
    def _crossing_grid(self) -> np.ndarray:
        """Where to look for crossings of non-Normal pairs: every component's edges and the
        midpoints between them, continued geometrically far beyond (to ±1e12 times p's span)."""
        own = np.unique(np.concatenate([c.breakpoints for _, c in self._active]))
        span = max(own[-1] - own[0], min(c.scale for _, c in self._active))
        out = span * 2.0 ** np.arange(1, 41)
        grid = np.unique(np.concatenate([own, 0.5 * (own[:-1] + own[1:]), own[0] - out,
                                         own[-1] + out]))
        return grid[np.isfinite(grid)]

    # --- coordinates centred on p ---------------------------------------------------------------
    @cached_property
    def centred(self) -> tuple[float, Mixture]:
        """(c, p moved by −c), c the location of the heaviest component.  Integrals are taken in
        these coordinates, so that their accuracy does not depend on where p sits (a component
        at 1e6 with scale 1e-6 would otherwise lose 4 digits to the positions' rounding)."""
        c = max(self._active, key=lambda lc: lc[0])[1].loc
        return (0.0, self) if c == 0.0 else (c, self.shifted(c))

    def shifted(self, c: float) -> Mixture:
        """p moved by −c (see :meth:`_Component.shifted`)."""
        new = object.__new__(Mixture)
        object.__setattr__(new, "components", tuple(comp.shifted(c) for comp in self.components))
        object.__setattr__(new, "weights", self.weights)
        return new

    # --- summaries ------------------------------------------------------------------------------
    @cached_property
    def entropy(self) -> float:
        """Differential entropy H(p) = -∫ p log p, in nats."""
        if len(self._active) == 1:
            return self._active[0][1].entropy
        from explorer.quadrature import integrate

        _, p = self.centred
        return -integrate(lambda x: _xlogx_from_log(p.logpdf(x)), p.breakpoints)

    def label(self) -> str:
        return " + ".join(f"{w:.3g}·{c.label()}" for w, c in zip(self.weights, self.components,
                                                                   strict=True) if w > 0)


# A component whose share of p is below e^-40 changes log p by less than 1e-17 relative.
_NEGLIGIBLE = 40.0
_COARSE_OFFSETS = np.array([-4.0, -2.0, -1.0, 0.0, 1.0, 2.0, 4.0])


def _logsumexp0(logs: np.ndarray) -> np.ndarray:
    """log Σ exp over axis 0, by hand (3× faster than scipy's on the landscape's arrays); where
    every term is −inf (x = ±inf) the shift is 0 and the result log 0 = −inf, never nan."""
    top = logs.max(axis=0)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return top + np.log(np.exp(logs - top).sum(axis=0))


def _xlogx_from_log(logp: np.ndarray) -> np.ndarray:
    """p·log p from log p, 0 where p underflows."""
    p = np.exp(logp)
    with np.errstate(invalid="ignore"):  # 0·(−inf) where p underflows: masked
        return np.where(p > 0, p * logp, 0.0)


Distribution = Normal | StudentT | Laplace | Mixture


def as_mixture(d) -> Mixture:
    """Any distribution as a Mixture (a single component becomes a one-component mixture)."""
    if isinstance(d, Mixture):
        return d
    if isinstance(d, COMPONENT_TYPES):
        return Mixture([d])
    raise ValueError(f"expected a Normal, StudentT, Laplace or Mixture, got {type(d).__name__}")
