"""Where a 1-D mixture's quadrature panels must go, beyond its components' own edges: every point
of the real line where the dominant component of log p switches (with a ladder of edges at the
width of that switch), and the edges of Normal components that bend log p without dominating.
:class:`explorer.mixture.Mixture` caches these per target (its ``breakpoints``,
``log_breakpoints`` and ``coarse_log_breakpoints``)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from explorer.components import Normal
from explorer.logspace import logsumexp0

if TYPE_CHECKING:
    from explorer.mixture import Mixture

# A component whose share of p is below e^-40 changes log p by less than 1e-17 relative.
_NEGLIGIBLE = 40.0
_MAX_RUNGS = 48  # a switch ladder's doublings at most (2^48 ≈ 3e14 from its first rung)

Spans = dict[int, list[tuple[float, float]]]  # component -> [(its switch, the ladder's reach)]


def switch_edges(p: Mixture) -> tuple[np.ndarray, np.ndarray, Spans]:
    """(the points of the real line where the dominant component of log p changes, those points
    with their ladders of edges, and for each component the switches it takes part in with their
    ladders' reach): found pair by pair over the whole line (exactly, from a quadratic, for two
    Normals), not only inside p's own panels, since a wide q reaches far beyond them."""
    active = p._active
    none = (np.empty(0), np.empty(0), {})
    if len(active) == 1:
        return none
    grid = None
    found = []
    for i in range(len(active)):
        for j in range(i + 1, len(active)):
            if grid is None and not (isinstance(active[i][1], Normal)
                                     and isinstance(active[j][1], Normal)):
                grid = _crossing_grid(p)
            found += [(x, i, j) for x in _pair_crossings(active[i], active[j], grid)]
    if not found:
        return none
    x = np.array([f[0] for f in found])
    with np.errstate(over="ignore"):  # a crossing ~1e200 out (near-twins): no density there
        logs = p._weighted_logs(x)
    top = logs.max(axis=0)
    pair = np.array([f[1:] for f in found]).T
    col = np.arange(x.size)
    # a crossing of the pair that dominates there (ties with a twin component allowed)
    keep = np.isfinite(top) & ~(np.minimum(logs[pair[0], col], logs[pair[1], col])
                                < top - 1e-6 * (1.0 + np.abs(top)))
    x, pair = x[keep], pair[:, keep]
    if not x.size:
        return none
    scores = np.array([c.dlogpdf(x) for _, c in active])
    slope = np.abs(scores[pair[0], np.arange(x.size)] - scores[pair[1], np.arange(x.size)])
    # log(e^a + e^b) is singular where a − b = iπ, i.e. π/slope off the real axis: edges at
    # 1, 2, 4, … 64 transition widths either side keep every panel's rule far from it; beyond
    # 64 widths the smaller term is below e^-64.  Where a − b is nearly tangent (a bump that
    # barely tops a wide component: two switches close together, a small slope) log p still
    # bends on the narrower component's scale: the ladder then starts from that scale and
    # doubles out to the same reach.  Below a slope of 1e-250 the two terms are one to
    # rounding: no transition, no ladder.
    sloped = slope > 1e-250
    ladders = [x]
    spans: Spans = {}
    if sloped.any():
        x0, (i, j), slope = x[sloped], pair[:, sloped], slope[sloped]
        scales = np.array([c.scale for _, c in active])
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
    return np.unique(x), np.unique(np.concatenate(ladders)), spans


def interacting_normal_edges(p: Mixture, spans: Spans) -> list[np.ndarray]:
    """The edges of every Normal component of p that log p needs: where another component is
    within e^-40 of it (a bump of a component that never dominates, an overlap) log p bends on
    its scale; where it takes part in a switch (``spans``), that switch's ladder already
    resolves log p."""
    if len(p._active) == 1:
        return []
    owners, edges = [], []
    for j, (_, c) in enumerate(p._active):
        if not isinstance(c, Normal):
            continue
        e = c.breakpoints
        for x0, span in spans.get(j, ()):
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
    logs = p._weighted_logs(points)
    total = logsumexp0(logs)
    own = logs[row, col]
    logs[row, col] = -np.inf
    both = np.minimum(own - total, logsumexp0(logs) - total) > -_NEGLIGIBLE
    kept = []
    for e, part in zip(edges, np.split(both, np.cumsum(sizes)[:-1]), strict=True):
        at_edge, at_mid = part[:e.size], part[e.size:]
        near = at_edge.copy()
        near[:-1] |= at_mid
        near[1:] |= at_mid
        kept.append(e[near])
    return kept


def _pair_crossings(first, second, grid) -> list[float]:
    """All x with w_i f_i(x) = w_j f_j(x), for (log w_i, f_i) ``first`` and ``second``; ``grid``
    (:func:`_crossing_grid`) brackets the crossings of a pair that is not two Normals."""
    (lwi, ci), (lwj, cj) = first, second
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


def _crossing_grid(p: Mixture) -> np.ndarray:
    """Where to look for crossings of non-Normal pairs: every component's edges and the
    midpoints between them, continued geometrically far beyond (to ±1e12 times p's span)."""
    own = np.unique(np.concatenate([c.breakpoints for _, c in p._active]))
    span = max(own[-1] - own[0], min(c.scale for _, c in p._active))
    out = span * 2.0 ** np.arange(1, 41)
    grid = np.unique(np.concatenate([own, 0.5 * (own[:-1] + own[1:]), own[0] - out,
                                     own[-1] + out]))
    return grid[np.isfinite(grid)]
