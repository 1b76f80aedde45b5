"""Sums of densities kept in log space: log Σ exp over components, and p·log p from log p; and
x − log(1 + x), the shape term of a Gaussian KL, without cancellation near 0."""

from __future__ import annotations

import numpy as np


def logsumexp0(logs: np.ndarray, overwrite: bool = False) -> np.ndarray:
    """log Σ exp over axis 0, by hand (3× faster than scipy's on the landscape's arrays); where
    every term is −inf (x = ±inf) the shift is 0 and the result log 0 = −inf, never nan.
    ``overwrite``: ``logs`` is a scratch array the work may be done in."""
    top = logs.max(axis=0)
    top[~np.isfinite(top)] = 0.0
    shifted = np.subtract(logs, top, out=logs if overwrite else None)
    with np.errstate(divide="ignore"):
        return top + np.log(np.exp(shifted, out=shifted).sum(axis=0))


def xlogx_from_log(logp: np.ndarray) -> np.ndarray:
    """p·log p from log p, 0 where p underflows."""
    p = np.exp(logp)
    with np.errstate(invalid="ignore"):  # 0·(−inf) where p underflows: masked
        return np.where(p > 0, p * logp, 0.0)


# 2 Σ_{k≥1} u^(2k+1)/(2k+1) = 2u³ Σ_{k≥0} u^(2k)/(2k+3): coefficients of the sum in u², highest
# first (|u| ≤ 1/3 below: 18 terms leave < 1e-18 relative)
_ATANH_TAIL = 2.0 / (2.0 * np.arange(17, -1, -1) + 3.0)


def x_minus_log1p(x):
    """x − log(1 + x) (≥ 0) for x > −1, elementwise.  Where |x| ≤ 1/2 by the series in
    u = x/(2 + x):  x − log1p(x) = x·u − 2 Σ_{k≥1} u^(2k+1)/(2k+1)  (both terms of one sign for
    x < 0, the second under x/6 of the first for x > 0), to full relative precision: the plain
    difference keeps no digit at x = 1e-8, where the value is 5e-17."""
    x = np.asarray(x, dtype=float)
    u = x / (2.0 + x)
    near = x * u - u**3 * np.polyval(_ATANH_TAIL, u * u)
    with np.errstate(divide="ignore", invalid="ignore"):  # x ≤ −1 is outside the domain
        far = x - np.log1p(x)
    return np.where(np.abs(x) <= 0.5, near, far)
