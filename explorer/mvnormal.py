"""Multivariate normal distributions and their mixtures (the 2-D targets of variational inference).

:class:`MvNormal` is N(μ, Σ) in d dimensions (the app uses d = 2; nothing here assumes it), and
:class:`MvMixture` a finite mixture of them with the interface the 2-D numerics need: ``logpdf``
and ``pdf`` over an (n, d) array, and ``log_derivs`` — log p, its score ∇log p and its Hessian
∇²log p, in log space (responsibilities by logsumexp, never a ratio of densities).

``Mixture([MvNormal(...), ...])`` builds an :class:`MvMixture` (see
:class:`explorer.distributions.Mixture`), so a 2-D mixture is written like a 1-D one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from explorer.distributions import LOG_2PI, MAX_ABS_LOCATION, MAX_SCALE, MIN_SCALE, check_real

MAX_CORRELATION = 0.999  # |ρ| beyond this (in the correlation matrix's eigenvalues) is refused
_BLOCK = 16384  # points per pass of the 2-D mixture's columns


def _entries(mean, cov) -> tuple[np.ndarray, np.ndarray]:
    """(mean (d,), cov (d, d)) as float arrays, each entry a finite number in range (the mean's
    in ±MAX_ABS_LOCATION, the variances in [MIN_SCALE², MAX_SCALE²]): checked on the arrays at
    once; only where that fails, entry by entry for the ValueError naming the field."""
    if isinstance(mean, list | tuple | np.ndarray) and isinstance(cov, list | tuple | np.ndarray):
        try:
            m, c = np.array(mean, dtype=float), np.array(cov, dtype=float)
        except (TypeError, ValueError, OverflowError):
            m = c = None
        if m is not None and m.ndim == 1 and len(m) >= 1 and c.shape == (len(m), len(m)):
            entries = c.tolist()  # comparisons are False for nan: it takes the checks below
            if (all(-MAX_ABS_LOCATION <= v <= MAX_ABS_LOCATION for v in m.tolist())
                    and all(MIN_SCALE**2 <= r[i] <= MAX_SCALE**2 for i, r in enumerate(entries))
                    and all(math.isfinite(v) for r in entries for v in r)):
                return m, c
    return _entries_one_by_one(mean, cov)


def _entries_one_by_one(mean, cov) -> tuple[np.ndarray, np.ndarray]:
    try:
        m = [check_real(f"MvNormal mean[{i}]", v, -MAX_ABS_LOCATION, MAX_ABS_LOCATION)
             for i, v in enumerate(mean)]
    except TypeError:
        raise ValueError(f"MvNormal mean must be a vector, got {mean!r}") from None
    d = len(m)
    if d < 1:
        raise ValueError("MvNormal mean must have at least one entry")
    try:
        rows = [list(r) for r in cov]
    except TypeError:
        raise ValueError(f"MvNormal cov must be a {d}×{d} matrix, got {cov!r}") from None
    if len(rows) != d or any(len(r) != d for r in rows):
        raise ValueError(f"MvNormal cov must be a {d}×{d} matrix (as long as the mean)")
    c = np.array([[check_real(f"MvNormal cov[{i}][{j}]", v) for j, v in enumerate(r)]
                  for i, r in enumerate(rows)])
    for i in range(d):
        check_real(f"MvNormal cov[{i}][{i}] (a variance)", c[i, i], MIN_SCALE**2, MAX_SCALE**2)
    return np.array(m), c


@dataclass(frozen=True, init=False)
class MvNormal:
    """N(mean, cov): ``mean`` a length-d vector, ``cov`` a symmetric positive-definite d×d matrix
    (each sd in [1e-6, 1e6], correlations |ρ| ≤ 0.999).  ValueError naming the field otherwise."""

    mean: tuple[float, ...]
    cov: tuple[tuple[float, ...], ...]

    def __init__(self, mean, cov):
        m, c = _entries(mean, cov)
        sd = np.sqrt(np.diag(c))
        scale = sd * sd[:, None]
        if (np.abs(c - c.T) > 1e-12 * scale).any():
            raise ValueError("MvNormal cov must be symmetric (cov[i][j] = cov[j][i])")
        sym = 0.5 * (c + c.T)
        lam = np.linalg.eigvalsh(sym / scale)
        if lam[0] <= 1.0 - MAX_CORRELATION:
            raise ValueError("MvNormal cov must be positive definite with correlations "
                             f"|ρ| ≤ {MAX_CORRELATION:g} (smallest eigenvalue of the "
                             f"correlation matrix {lam[0]:.3g})")
        object.__setattr__(self, "mean", tuple((m + 0.0).tolist()))
        object.__setattr__(self, "cov", tuple(map(tuple, sym.tolist())))

    @classmethod
    def from_sd(cls, mean, sd, rho: float = 0.0) -> MvNormal:
        """2-D N(mean, cov) from standard deviations (sx, sy) and correlation ρ."""
        r = check_real("correlation ρ", rho, -MAX_CORRELATION, MAX_CORRELATION)
        sx, sy = (check_real(f"sd {a}", s, MIN_SCALE, MAX_SCALE)
                  for a, s in zip("xy", sd, strict=True))
        return cls(mean, [[sx * sx, r * sx * sy], [r * sx * sy, sy * sy]])

    # --- derived arrays ------------------------------------------------------------------------
    @property
    def dim(self) -> int:
        return len(self.mean)

    @cached_property
    def mu(self) -> np.ndarray:
        return np.array(self.mean)

    @cached_property
    def sigma(self) -> np.ndarray:
        return np.array(self.cov)

    @cached_property
    def chol(self) -> np.ndarray:
        """Lower-triangular L with L Lᵀ = Σ."""
        return np.linalg.cholesky(self.sigma)

    @cached_property
    def precision(self) -> np.ndarray:
        li = np.linalg.inv(self.chol)
        return li.T @ li

    @cached_property
    def logdet(self) -> float:
        return 2.0 * float(np.sum(np.log(np.diag(self.chol))))

    @property
    def sds(self) -> np.ndarray:
        return np.sqrt(np.diag(self.sigma))

    @property
    def entropy(self) -> float:
        return 0.5 * self.dim * (1.0 + LOG_2PI) + 0.5 * self.logdet

    @property
    def variance(self) -> np.ndarray:
        return self.sigma

    def logpdf(self, x) -> np.ndarray:
        u = _points(x, self.dim) - self.mu
        z = np.linalg.solve(self.chol, u.reshape(-1, self.dim).T).T.reshape(u.shape)
        return -0.5 * (z * z).sum(axis=-1) - 0.5 * (self.dim * LOG_2PI + self.logdet)

    def pdf(self, x) -> np.ndarray:
        return np.exp(self.logpdf(x))

    def shifted(self, c: np.ndarray) -> MvNormal:
        new = object.__new__(MvNormal)
        object.__setattr__(new, "mean", tuple(float(v) for v in self.mu - c))
        object.__setattr__(new, "cov", self.cov)
        return new

    def label(self) -> str:
        m = ", ".join(f"{v:.3g}" for v in self.mean)
        s = ", ".join(f"{v:.3g}" for v in self.sds)
        if self.dim == 2:
            rho = self.cov[0][1] / (self.sds[0] * self.sds[1])
            return f"N(({m}), sd ({s}), ρ {rho:.3g})"
        return f"N(({m}), sd ({s}))"


def _points(x, d: int) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.shape[-1:] != (d,):
        raise ValueError(f"points must be an array of shape (..., {d}), got {a.shape}")
    return a


@dataclass(frozen=True, init=False)
class MvMixture:
    """Σ w_i N(μ_i, Σ_i) over MvNormal components of one dimension; weights relative."""

    components: tuple[MvNormal, ...]
    weights: tuple[float, ...]

    def __init__(self, components, weights=None):
        comps = tuple(components)
        for i, c in enumerate(comps):
            if not isinstance(c, MvNormal):
                raise ValueError(f"Mixture components[{i}] is a {type(c).__name__}; a mixture "
                                 "of MvNormal components cannot mix in 1-D components")
        if len({c.dim for c in comps}) > 1:
            dims = ", ".join(str(c.dim) for c in comps)
            raise ValueError(f"Mixture components must all have one dimension, got {dims}")
        ws = [1.0] * len(comps) if weights is None else list(weights)
        if len(ws) != len(comps):
            raise ValueError(f"Mixture weights: got {len(ws)} weights for {len(comps)} "
                             "components; the lengths must match")
        ws = [check_real(f"Mixture weights[{i}]", w, 0.0) for i, w in enumerate(ws)]
        if max(ws) <= 0:
            raise ValueError("Mixture weights: all weights are zero; at least one must be > 0")
        top = max(ws)
        total = math.fsum(w / top for w in ws)
        object.__setattr__(self, "components", comps)
        object.__setattr__(self, "weights", tuple(w / top / total for w in ws))

    @property
    def dim(self) -> int:
        return self.components[0].dim

    @cached_property
    def active(self) -> tuple[tuple[float, MvNormal], ...]:
        """(log weight, component) of the components that carry mass."""
        return tuple((math.log(w), c) for w, c in zip(self.weights, self.components, strict=True)
                     if w > 0)

    @cached_property
    def mean(self) -> np.ndarray:
        return sum(math.exp(lw) * c.mu for lw, c in self.active)

    @cached_property
    def cov(self) -> np.ndarray:
        m = self.mean
        return sum(math.exp(lw) * (c.sigma + np.outer(c.mu - m, c.mu - m))
                   for lw, c in self.active)

    @property
    def variance(self) -> np.ndarray:
        return self.cov

    def _stack(self):
        mu = np.array([c.mu for _, c in self.active])
        prec = np.array([c.precision for _, c in self.active])
        const = np.array([lw - 0.5 * (c.dim * LOG_2PI + c.logdet) for lw, c in self.active])
        return mu, prec, const

    def log_derivs(self, x: np.ndarray, derivatives: bool = True):
        """log p (n,), and unless not ``derivatives`` the score (n, d) and Hessian (n, d, d)."""
        x = _points(x, self.dim)
        if self.dim == 2 and x.ndim == 2:
            v = self.value_columns(x, derivatives)
            if not derivatives:
                return v, None, None
            hess = np.empty((len(x), 2, 2))
            hess[:, 0, 0], hess[:, 1, 1] = v[:, 3], v[:, 5]
            hess[:, 0, 1] = hess[:, 1, 0] = v[:, 4]
            return v[:, 0].copy(), np.ascontiguousarray(v[:, 1:3]), hess
        mu, prec, const = self._stack()
        u = x[..., None, :] - mu  # (..., K, d)
        pu = (prec * u[..., None, :]).sum(axis=-1)
        logs = const - 0.5 * (u * pu).sum(axis=-1)  # (..., K)
        top = logs.max(axis=-1, keepdims=True)
        top = np.where(np.isfinite(top), top, 0.0)
        e = np.exp(logs - top)
        s = e.sum(axis=-1, keepdims=True)
        lp = (top + np.log(s))[..., 0]
        if not derivatives:
            return lp, None, None
        r = e / s  # responsibilities
        sk = -pu
        score = (r[..., None] * sk).sum(axis=-2)
        rs = r[..., None] * sk
        hess = (rs[..., :, None] * sk[..., None, :]).sum(axis=-3) \
            - (r @ prec.reshape(len(prec), -1)).reshape(*r.shape[:-1], *prec.shape[1:]) \
            - score[..., :, None] * score[..., None, :]
        return lp, score, hess

    def value_columns(self, x: np.ndarray, derivatives: bool = True) -> np.ndarray:
        """log p (n,) — or, with ``derivatives``, (n, 1 + d + d(d+1)/2) columns: log p, the score,
        the Hessian's entries (i ≤ j, row by row); for d = 2 each column contiguous (the
        array is Fortran-ordered), as the rules' sums take them."""
        x = _points(x, self.dim)
        if self.dim == 2 and x.ndim == 2:
            # in blocks that stay in cache (the dozens of passes per component then cost ~¾),
            # written into one output
            out = np.empty((6, len(x)) if derivatives else len(x))
            for a in range(0, len(x), _BLOCK):
                self._columns_2(x[a:a + _BLOCK], derivatives, out[..., a:a + _BLOCK])
            return out.T if derivatives else out
        lp, s, h = self.log_derivs(x, derivatives)
        if not derivatives:
            return lp
        d = self.dim
        return np.column_stack([lp, s] + [h[:, i, j] for i in range(d) for j in range(i, d)])

    @cached_property
    def _columns(self):
        """Per active component (μ0, μ1, Λ00, Λ01, Λ11, log weight − ½ log|2πΣ|) as floats."""
        mu, prec, const = self._stack()
        return [tuple(float(v) for v in (m[0], m[1], p[0, 0], p[0, 1], p[1, 1], c))
                for m, p, c in zip(mu, prec, const, strict=True)]

    def _columns_2(self, x: np.ndarray, derivatives: bool, out: np.ndarray):
        """:meth:`value_columns` for d = 2 on columns, into ``out`` ((6, n), or (n,) for log p
        alone): a loop over the few components with a dozen in-place operations on the n points
        each (the general path's (n, K, d) reductions and temporaries cost ~5×)."""
        x0, x1 = np.ascontiguousarray(x[:, 0]), np.ascontiguousarray(x[:, 1])
        cols = self._columns
        tmp = np.empty_like(x0)
        parts = []
        for m0, m1, a, b, c, k in cols:
            u0, u1 = x0 - m0, x1 - m1
            p0 = np.multiply(u0, a)
            p0 += np.multiply(u1, b, out=tmp)
            p1 = np.multiply(u0, b)
            p1 += np.multiply(u1, c, out=tmp)
            u0 *= p0
            u0 += np.multiply(u1, p1, out=tmp)
            u0 *= -0.5
            u0 += k  # log w_k g_k
            parts.append((u0, p0, p1))
        if len(parts) == 1:
            lp, p0, p1 = parts[0]
            if not derivatives:
                out[:] = lp
                return
            _, _, a, b, c, _ = cols[0]
            out[0], out[1], out[2] = lp, p0, p1
            out[1:3] *= -1.0
            out[3], out[4], out[5] = -a, -b, -c
            return
        top = np.maximum(parts[0][0], parts[1][0])
        for lg, _, _ in parts[2:]:
            np.maximum(top, lg, out=top)
        if not np.isfinite(top).all():
            top[~np.isfinite(top)] = 0.0
        total = None
        for lg, _, _ in parts:  # each log w_k g_k becomes w_k g_k / e^top
            lg -= top
            # below e^-600 a component adds < 1e-260 of the total: clamped, so that exp never
            # returns a subnormal (10-20× slower on x86 where the far tails underflow)
            np.maximum(lg, -600.0, out=lg)
            np.exp(lg, out=lg)
            if total is None:
                total = lg.copy()
            else:
                total += lg
        if not derivatives:
            np.log(total, out=out)
            out += top
            return
        lp, s0, s1, h00, h01, h11 = out  # rows: log p, s0, s1, H00, H01, H11
        np.log(total, out=lp)
        lp += top
        inv = np.divide(1.0, total, out=total)
        for k, ((r, p0, p1), (_, _, a, b, c, _)) in enumerate(zip(parts, cols, strict=True)):
            r *= inv  # the responsibility of component k; H = Σ r (p pᵀ − Λ), s = −Σ r p
            for acc, u, v, lam in ((h00, p0, p0, a), (h01, p0, p1, b), (h11, p1, p1, c)):
                term = acc if k == 0 else tmp  # the first term is the sum so far
                np.multiply(u, v, out=term)
                term -= lam
                term *= r
                if k:
                    acc += tmp
            p0 *= r
            p1 *= r
            if k == 0:
                np.negative(p0, out=s0)
                np.negative(p1, out=s1)
            else:
                s0 -= p0
                s1 -= p1
        h00 -= np.multiply(s0, s0, out=tmp)
        h01 -= np.multiply(s0, s1, out=tmp)
        h11 -= np.multiply(s1, s1, out=tmp)

    def logpdf(self, x) -> np.ndarray:
        return self.log_derivs(x, derivatives=False)[0]

    def pdf(self, x) -> np.ndarray:
        return np.exp(self.logpdf(x))

    @cached_property
    def centred(self) -> tuple[np.ndarray, MvMixture]:
        """(c, p moved by −c), c the heaviest component's mean: integrals are taken there."""
        c = max(self.active, key=lambda a: a[0])[1].mu
        return c, self.shifted(c)

    def shifted(self, c) -> MvMixture:
        new = object.__new__(MvMixture)
        object.__setattr__(new, "components", tuple(k.shifted(c) for k in self.components))
        object.__setattr__(new, "weights", self.weights)
        return new

    @cached_property
    def _entropy(self) -> tuple[float, bool]:
        from explorer.vi2d import mixture_entropy_checked

        return mixture_entropy_checked(self)

    @property
    def entropy(self) -> float:
        """H(p) = −E_p[log p], nats (explorer.vi2d's rule under each component)."""
        return self._entropy[0]

    @property
    def entropy_certified(self) -> bool:
        """Whether :attr:`entropy`'s rule settled within its node budget (else an estimate)."""
        return self._entropy[1]

    def label(self) -> str:
        return " + ".join(f"{w:.3g}·{c.label()}" for w, c in zip(self.weights, self.components,
                                                                   strict=True) if w > 0)


def as_mv_mixture(d) -> MvMixture:
    if isinstance(d, MvMixture):
        return d
    if isinstance(d, MvNormal):
        return MvMixture([d])
    raise ValueError(f"expected an MvNormal or a mixture of them, got {type(d).__name__}")


def is_multivariate(*ds) -> bool:
    return any(isinstance(d, MvNormal | MvMixture) for d in ds)
