"""Finite mixtures of Normal, Student-t and Laplace components, and what integrals over them need.

Besides densities (log-sum-exp over components) and their x-derivatives, a :class:`Mixture` knows
where its quadrature panels must go: every component's own edges, every point of the real line
where the dominant component of log p switches (with a ladder of edges at the width of that
switch), the edges of components that bend log p without dominating, and a coarse subset to steer
optimisers (found by :mod:`explorer.panel_edges`).  :attr:`Mixture.centred` gives coordinates
centred on the heaviest component, in which integrals keep their digits wherever p sits.
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
from explorer.logspace import logsumexp0, xlogx_from_log
from explorer.panel_edges import interacting_normal_edges, switch_edges
from explorer.quadrature import integrate

_COARSE_OFFSETS = np.array([-4.0, -2.0, -1.0, 0.0, 1.0, 2.0, 4.0])


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
        return logsumexp0(self._weighted_logs(x.ravel()), overwrite=True).reshape(x.shape)

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
        component adds its ladder (:mod:`explorer.panel_edges`)."""
        rough = [c.breakpoints for _, c in self._active if not isinstance(c, Normal)]
        normal = interacting_normal_edges(self, self._switch_edges[2])
        return np.unique(np.concatenate([*rough, *normal, self._switches]))

    @cached_property
    def coarse_log_breakpoints(self) -> np.ndarray:
        """A few edges that roughly resolve log p, to steer a descent far from its minimum: every
        switch of the dominant component and every non-Normal component's centre ± 1, 2, 4
        scales (a Laplace kink, a t's peak)."""
        rough = [c.loc + c.scale * _COARSE_OFFSETS for _, c in self._active
                 if not isinstance(c, Normal)]
        return np.unique(np.concatenate([*rough, self._switch_edges[0]]))

    @property
    def _switches(self) -> np.ndarray:
        """Every switch of the dominant component of log p, with its ladder of edges."""
        return self._switch_edges[1]

    @cached_property
    def _switch_edges(self):
        """:func:`explorer.panel_edges.switch_edges` of p, once per target."""
        return switch_edges(self)

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
        return -integrate(lambda x: xlogx_from_log(p.logpdf(x)), p.breakpoints)

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
