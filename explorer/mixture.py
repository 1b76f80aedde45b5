"""Finite mixtures of Normal, Student-t and Laplace components, and what integrals over them need.

Besides densities (log-sum-exp over components) and their x-derivatives, a :class:`Mixture` knows
where its quadrature panels must go: every component's own edges, every point of the real line
where the dominant component of log p switches (with a ladder of edges at the width of that
switch), the edges of components that bend log p without dominating, and a coarse subset to steer
optimisers.  :attr:`Mixture.centred` gives coordinates centred on the heaviest component, in which
integrals keep their digits wherever p sits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from explorer.components import (
    COMPONENT_TYPES,
    LOG_2PI,
    Component,
    Laplace,
    Normal,
    StudentT,
    check_real,
    normal_log_derivs,
)
from explorer.quadrature import integrate

# A component whose share of p is below e^-40 changes log p by less than 1e-17 relative.
_NEGLIGIBLE = 40.0
_COARSE_OFFSETS = np.array([-4.0, -2.0, -1.0, 0.0, 1.0, 2.0, 4.0])


def _logsumexp0(logs: np.ndarray, overwrite: bool = False) -> np.ndarray:
    """log Σ exp over axis 0, by hand (3× faster than scipy's on the landscape's arrays); where
    every term is −inf (x = ±inf) the shift is 0 and the result log 0 = −inf, never nan.
    ``overwrite``: ``logs`` is a scratch array the work may be done in."""
    top = logs.max(axis=0)
    top[~np.isfinite(top)] = 0.0
    shifted = np.subtract(logs, top, out=logs if overwrite else None)
    with np.errstate(divide="ignore"):
        return top + np.log(np.exp(shifted, out=shifted).sum(axis=0))


def _xlogx_from_log(logp: np.ndarray) -> np.ndarray:
    """p·log p from log p, 0 where p underflows."""
    p = np.exp(logp)
    with np.errstate(invalid="ignore"):  # 0·(−inf) where p underflows: masked
        return np.where(p > 0, p * logp, 0.0)


_MAX_RUNGS = 48  # a switch ladder's doublings at most (2^48 ≈ 3e14 from its first rung)


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
            z = np.subtract(x, mean)  # in place from here: one array of components × points
            z /= std
            z *= z
            z *= -0.5
            z += const
            return z
        out = np.empty((len(self._active), x.size))
        for row, (lw, c) in zip(out, self._active, strict=True):
            row[:] = c.logpdf(x)
            row += lw
        return out

    def _score_terms(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each component's d/dx and d²/dx² logpdf at x, stacked (components × points)."""
        if self._normal_params is not None:
            _, mean, std = self._normal_params
            ivar = 1.0 / (std * std)
            return (mean - x) * ivar, np.broadcast_to(-ivar, (len(ivar), x.size))
        d1s, d2s = np.empty((2, len(self._active), x.size))
        for a, b, (_, c) in zip(d1s, d2s, self._active, strict=True):
            a[:], b[:] = c.dlogpdf(x), c.d2logpdf(x)
        return d1s, d2s

    def logpdf(self, x):
        x = np.asarray(x, dtype=float)
        if len(self._active) == 1:
            lw, c = self._active[0]
            return c.logpdf(x)
        # components × points on the flattened input, reshaped back: any input shape, scalars too
        return _logsumexp0(self._weighted_logs(x.ravel()), overwrite=True).reshape(x.shape)

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
        logs -= top
        e = np.exp(logs, out=logs)  # the terms over the largest: bounded, never densities
        total = e.sum(axis=0)
        lp = top + np.log(total)
        d1s, d2s = self._score_terms(x)  # fresh arrays: worked on in place
        d1 = np.einsum("kn,kn->n", e, d1s) / total  # responsibility-weighted sums
        d1s *= d1s
        d2s += d1s
        d2 = np.einsum("kn,kn->n", e, d2s) / total - d1 * d1
        return lp.reshape(shape), d1.reshape(shape), d2.reshape(shape)

    def _normal_log_derivs(self, x: np.ndarray):
        return normal_log_derivs(x, *self._normal_params)

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
        _ = self._switch_edges  # computes _switch_spans: {component: [(switch, ladder reach)]}
        owners, edges = [], []
        for j, (_, c) in enumerate(self._active):
            if not isinstance(c, Normal):
                continue
            e = c.breakpoints
            # where j takes part in a switch, that switch's ladder already resolves log p
            for x0, span in self._switch_spans.get(j, ()):
                e = e[np.abs(e - x0) > span]
            if e.size >= 2:
                owners.append(j)
                edges.append(e)
        if not edges:
            return []
        # every component's edges and their midpoints in one pass over all components
        points = np.concatenate([np.concatenate([e, 0.5 * (e[:-1] + e[1:])]) for e in edges])
        sizes = [2 * e.size - 1 for e in edges]
        row = np.repeat(owners, sizes)
        col = np.arange(points.size)
        logs = self._weighted_logs(points)
        total = _logsumexp0(logs)
        own = logs[row, col]
        logs[row, col] = -np.inf
        both = np.minimum(own - total, _logsumexp0(logs) - total) > -_NEGLIGIBLE
        kept = []
        for e, part in zip(edges, np.split(both, np.cumsum(sizes)[:-1]), strict=True):
            at_edge, at_mid = part[:e.size], part[e.size:]
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
        object.__setattr__(self, "_switch_spans", {})
        if len(self._active) == 1:
            return np.empty(0), np.empty(0)
        found = [(x, i, j) for i in range(len(self._active))
                 for j in range(i + 1, len(self._active)) for x in self._pair_crossings(i, j)]
        if not found:
            return np.empty(0), np.empty(0)
        x = np.array([f[0] for f in found])
        with np.errstate(over="ignore"):  # a crossing ~1e200 out (near-twins): no density there
            logs = self._weighted_logs(x)
        top = logs.max(axis=0)
        pair = np.array([f[1:] for f in found]).T
        col = np.arange(x.size)
        # a crossing of the pair that dominates there (ties with a twin component allowed)
        keep = np.isfinite(top) & ~(np.minimum(logs[pair[0], col], logs[pair[1], col])
                                    < top - 1e-6 * (1.0 + np.abs(top)))
        x, pair = x[keep], pair[:, keep]
        scores = np.array([c.dlogpdf(x) for _, c in self._active])
        slope = np.abs(scores[pair[0], np.arange(x.size)] - scores[pair[1], np.arange(x.size)])
        # log(e^a + e^b) is singular where a − b = iπ, i.e. π/slope off the real axis: edges at
        # 1, 2, 4, … 64 transition widths either side keep every panel's rule far from it;
        # beyond 64 widths the smaller term is below e^-64.  Where a − b is nearly tangent (a
        # bump that barely tops a wide component: two switches close together, a small slope)
        # log p still bends on the narrower component's scale: the ladder then starts from that
        # scale and doubles out to the same reach.  Below a slope of 1e-250 the two terms are
        # one to rounding: no transition, no ladder.
        sloped = slope > 1e-250
        ladders = [x]
        spans: dict[int, list[tuple[float, float]]] = {}
        if sloped.any():
            x0, (i, j), slope = x[sloped], pair[:, sloped], slope[sloped]
            scales = np.array([c.scale for _, c in self._active])
            reach = 64.0 / slope
            base = np.minimum(np.minimum(1.0 / slope, scales[i]), scales[j])
            rungs = np.minimum(np.ceil(np.log2(reach / base)), _MAX_RUNGS).astype(int)
            widths = np.minimum(base[:, None] * 2.0 ** np.arange(0, rungs.max() + 1),
                                reach[:, None])
            on = np.arange(widths.shape[1]) <= rungs[:, None]
            ladders += [(x0[:, None] + widths)[on], (x0[:, None] - widths)[on]]
            last = widths[np.arange(x0.size), rungs]
            for xk, ik, jk, wk in zip(x0.tolist(), i.tolist(), j.tolist(), last.tolist(),
                                      strict=True):
                for member in (ik, jk):
                    spans.setdefault(member, []).append((xk, wk))
        centres = x
        object.__setattr__(self, "_switch_spans", spans)
        if not x.size:
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
            with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
                if a == 0.0:
                    roots = [] if b == 0.0 else [-c / b]
                else:
                    disc = b * b - 4.0 * a * c
                    if disc < 0:
                        return []
                    qq = -0.5 * (b + math.copysign(math.sqrt(disc), b))
                    roots = [qq / a] + ([c / qq] if qq != 0.0 else [])
            # a root beyond the floats (near-identical components) is no switch anywhere
            return [ci.mean + y for y in roots if math.isfinite(ci.mean + y)]

        from scipy.optimize import brentq  # here: only non-Normal pairs need it (slow import)

        def gap(x):
            return lwi + ci.logpdf(x) - lwj - cj.logpdf(x)

        grid = self._crossing_grid
        g = gap(grid)
        out = []
        for k in np.flatnonzero(np.sign(g[:-1]) * np.sign(g[1:]) < 0):
            lo, hi = grid[k], grid[k + 1]
            g_lo, g_hi = float(gap(lo)), float(gap(hi))
            if g_lo * g_hi > 0 or g_lo == 0.0 or g_hi == 0.0:  # a root at an end, to rounding
                out.append(lo if abs(g_lo) <= abs(g_hi) else hi)
                continue
            out.append(brentq(lambda t: float(gap(t)), lo, hi, xtol=1e-300, rtol=1e-15))
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
        _, p = self.centred
        return -integrate(lambda x: _xlogx_from_log(p.logpdf(x)), p.breakpoints)

    def label(self) -> str:
        return " + ".join(f"{w:.3g}·{c.label()}" for w, c in zip(self.weights, self.components,
                                                                   strict=True) if w > 0)


Distribution = Normal | StudentT | Laplace | Mixture


def as_mixture(d) -> Mixture:
    """Any distribution as a Mixture (a single component becomes a one-component mixture)."""
    if isinstance(d, Mixture):
        return d
    if isinstance(d, COMPONENT_TYPES):
        return Mixture([d])
    raise ValueError(f"expected a Normal, StudentT, Laplace or Mixture, got {type(d).__name__}")
