"""x-ranges and x-grids for drawing densities: wide enough that nothing is clipped, fine enough
that the narrowest component is drawn as a smooth spike, and small (≤ ``n`` points)."""

from __future__ import annotations

import numpy as np

from explorer.distributions import as_mixture

# A Normal has 99.99% of its mass within 3.9 sd; heavy tails are cut at the same multiple of scale.
RANGE_SCALES = 4.0
MAX_POINTS = 2000


def x_range(*dists, scales: float = RANGE_SCALES) -> tuple[float, float]:
    """The smallest interval holding every component of every distribution to ±``scales`` scales."""
    comps = [c for d in dists for c in as_mixture(d).components]
    if not comps:
        raise ValueError("x_range: need at least one distribution")
    lo = min(c.loc - scales * c.scale for c in comps)
    hi = max(c.loc + scales * c.scale for c in comps)
    return float(lo), float(hi)


def x_grid(*dists, n: int = 1000, scales: float = RANGE_SCALES) -> np.ndarray:
    """Sorted grid over :func:`x_range`: half the points uniform, the rest spread over the
    components in proportion, each component's share uniform over its own ±``scales`` range,
    so a component 1000× narrower than the range still gets a smooth curve.  At most ``n``
    (≤ 2000) points."""
    if not 10 <= n <= MAX_POINTS:
        raise ValueError(f"x_grid n must be in [10, {MAX_POINTS}], got {n}")
    lo, hi = x_range(*dists, scales=scales)
    comps = [c for d in dists for c in as_mixture(d).components]
    uniform = np.linspace(lo, hi, n // 2)
    per = (n - n // 2) // len(comps)
    local = [np.linspace(c.loc - scales * c.scale, c.loc + scales * c.scale, per) for c in comps]
    return np.unique(np.concatenate([uniform, *local]))
