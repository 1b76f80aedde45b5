"""x-ranges and x-grids for drawing densities: wide enough that nothing is clipped, fine enough
that the narrowest component is drawn as a smooth spike, and small (≤ ``n`` points)."""

from __future__ import annotations

import numpy as np

from explorer.distributions import as_mixture

# A Normal has 99.99% of its mass within 3.9 sd; heavy tails are cut at the same multiple of scale.
RANGE_SCALES = 4.0
MAX_POINTS = 2000


def _drawn(dists) -> list:
    """The components that carry weight: a zero-weight component draws nothing and must not set
    the range (a weight-0 N(1000, 1) would squeeze the rest into a pixel)."""
    comps = []
    for d in dists:
        m = as_mixture(d)
        comps += [c for w, c in zip(m.weights, m.components, strict=True) if w > 0]
    return comps


def x_range(*dists, scales: float = RANGE_SCALES) -> tuple[float, float]:
    """The smallest interval holding every weighted component of every distribution to
    ±``scales`` scales."""
    comps = _drawn(dists)
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
    comps = _drawn(dists)
    uniform = np.linspace(lo, hi, n // 2)
    per = (n - n // 2) // len(comps)
    local = [np.linspace(c.loc - scales * c.scale, c.loc + scales * c.scale, per) for c in comps]
    return np.unique(np.concatenate([uniform, *local]))
