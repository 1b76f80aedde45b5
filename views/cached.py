"""The cached numerics of /landscape, /alpha, /sweep and /vi-2d (those the main page shares with
them are in views.common).  They live in an imported module, not in the page scripts: Streamlit
executes a page's file afresh on every run, so a cache defined there would be a new, empty one
each time."""

from __future__ import annotations

import numpy as np

from explorer.fitting import NoFiniteFitError, fit_gaussian
from explorer.landscape import affordable_size, kl_landscape
from explorer.presets import mixture
from explorer.sweeps import sweep
from views.charts import plain_chart
from views.common import shared_cache
from views.state.sweeps import ALPHA_RANGE, ALPHA_STEP, PARAMETERS

GRID = tuple(float(f"{ALPHA_RANGE[0] + k * ALPHA_STEP:.2f}") + 0.0
             for k in range(round((ALPHA_RANGE[1] - ALPHA_RANGE[0]) / ALPHA_STEP) + 1))


@shared_cache(16)
def landscape(key: tuple, size: int):
    return kl_landscape(mixture(key), size=size)


@shared_cache(256)
def landscape_size(key: tuple, size: int) -> int:
    """The grid size the landscape of this target can afford, at most ``size``."""
    return affordable_size(mixture(key), size)


@shared_cache(256)
def sweep_thinning(key: tuple) -> int:
    """1, 2 or 5: how much coarser than their full grids the sweeps of /alpha and /sweep are
    for this target.  Each sweep point runs a descent from every run of neighbouring components
    (n(n+1)/2 of them for n separated modes): over 51 α three modes cost 2 CPU-s and six 11,
    where two cost 1, and one view should cost a shared server at most ~2 CPU-s (issue 13)."""
    from explorer.fitting import reverse_starts

    starts = len(reverse_starts(mixture(key)))
    return 1 if starts <= 3 else 2 if starts <= 10 else 5


@shared_cache(256)
def alpha_fit(key: tuple, alpha: float):
    """(every certified local optimum, best first, as Normals with D_α in nats; reason) —
    reason is why no Gaussian has a finite D_α (then no optima), or why none was certified."""
    try:
        fit = fit_gaussian(mixture(key), "alpha", alpha=alpha)
    except NoFiniteFitError as e:
        return (), str(e)
    if not fit.local_optima:
        return (), "the optimiser certified no minimum at this α (none is shown)."
    return tuple((o.q, o.kl) for o in fit.local_optima), None


@shared_cache(32)
def alpha_sweep(key: tuple, stride: int):
    """Every optimum of D_α at every ``stride``-th α of the /alpha slider's grid, joined into
    branches."""
    return sweep(mixture(key), "alpha", np.array(GRID[::stride]), objective="alpha")


@shared_cache(32)
def param_sweep(key: tuple, param: str, i: int, j: int, values: tuple):
    """Every reverse-KL optimum along ``values`` of ``param`` (a URL code) of components i, j
    (0-based), joined into branches."""
    return sweep(mixture(key), PARAMETERS[param], np.array(values), component=i, other=j)


# --- /vi-2d: keys are the validated target (a tuple of (w, mx, my, sx, sy, ρ) tuples) and
# plain values (MvNormals are frozen and hashable), so that a rerun which changes only the
# user's q reuses the four fits, their KL values, p's contour grid and both figures.  The 2-D
# modules are imported where used: the other pages importing this module do not load them.
def mixture2d(key: tuple):
    """The 2-D target of cache key ``key``."""
    from explorer.distributions import Mixture
    from explorer.mvnormal import MvNormal

    return Mixture([MvNormal.from_sd(c[1:3], c[3:5], c[5]) for c in key],
                   weights=[c[0] for c in key])


# The nodes one reverse fit on the page may spend (the library's default is 2M): the page runs
# two, and a hostile link must cost ≤ 2 CPU-s (bench_cost.py).  Of 60 random 2–4 component
# targets (sd 0.05–4.5, |ρ| ≤ 0.97) 9 are left uncertified at 1M, 4 at 2M.
PAGE_FIT_BUDGET = 1_000_000


@shared_cache(32)
def vi2d_fits(key: tuple, start: int):
    """{"forward": {family: Fit}, "reverse": {family: (Fit, every local optimum found from all
    starts)}} for the target ``key``, the reverse fit from ``start`` (0: the best of all
    starts; k: component k)."""
    from explorer.mvnormal import MvNormal

    p = mixture2d(key)
    out = {"forward": {}, "reverse": {}}
    for family in ("full", "diagonal"):
        out["forward"][family] = fit_gaussian(p, "forward", covariance=family)
        best = fit_gaussian(p, "reverse", covariance=family, budget=PAGE_FIT_BUDGET)
        fit = best
        if start:
            c = p.components[start - 1]
            init = c if family == "full" else MvNormal(c.mean, np.diag(np.diag(c.sigma)))
            fit = fit_gaussian(p, "reverse", init=init, covariance=family,
                               budget=PAGE_FIT_BUDGET)
        out["reverse"][family] = (fit, best.local_optima)
    return out


# The node budget of one KL(q‖p) shown on /vi-2d: a q on the page's presets settles within
# ~0.15M nodes; a wide q over far-apart ridges ran to the rule's own 2M (~0.13 CPU-s each, two
# a view) and is shown as an estimate either way.
SHOWN_KL_BUDGET = 500_000


@shared_cache(512)
def vi2d_kl(key: tuple, q, reverse: bool) -> tuple[float, bool]:
    """(KL(q‖p) if ``reverse`` else KL(p‖q), in nats; whether its rule settled within its work
    budget, else it is an estimate) for the target ``key`` and the MvNormal ``q``."""
    from explorer.vi2d import kl_mv_checked

    p = mixture2d(key)
    return kl_mv_checked(q, p, SHOWN_KL_BUDGET) if reverse else kl_mv_checked(p, q)


@shared_cache(16)
def vi2d_grid(key: tuple):
    """p's contour grid (xs, ys, density; read-only) for the target ``key``: ~30–80 KB each."""
    from explorer.figures.vi2d import density_grid

    grid = density_grid(mixture2d(key))
    for a in grid:
        a.setflags(write=False)
    return grid


@shared_cache(16)
def vi2d_chart(key: tuple, side: str, fits: tuple, family: str, optima: tuple):
    """One panel of /vi-2d (explorer.figures.vi2d_figure: the forward or reverse ``side``) as
    a :func:`views.charts.plain_chart`, to be drawn with ``theme=None``; the fits as ((family,
    MvNormal), …) pairs.  Each holds p's contour grid as lists (~40 KB of JSON)."""
    from explorer.figures.vi2d import vi2d_figure

    return plain_chart(vi2d_figure(mixture2d(key), side, dict(fits), family, list(optima),
                                   grid=vi2d_grid(key)))
