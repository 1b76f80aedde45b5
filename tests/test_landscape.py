"""The (μ, log σ) KL landscape, against kl_divergence, scipy quad and mpmath references."""

import math

import mpmath as mp
import numpy as np
import pytest
import reference

from explorer.distributions import Laplace, Mixture, Normal, StudentT
from explorer.divergences import kl_divergence
from explorer.fitting import fit_gaussian
from explorer.grid import x_range
from explorer.landscape import Landscape, default_axes, kl_landscape

BIMODAL = Mixture([Normal(-3, 1), Normal(3, 1)])
HEAVY = Mixture([StudentT(-2, 1, 1.5), StudentT(2, 0.5, 1.5)])
SPIKE = Mixture([Normal(0, 1), Normal(0, 0.01)])
LAPLACE_MIX = Mixture([Laplace(-2, 1), Normal(2, 0.5)], [0.4, 0.6])


@pytest.fixture(scope="module")
def bimodal():
    return kl_landscape(BIMODAL, size=61)


def _q(land: Landscape, i: int, j: int) -> Normal:
    return Normal(float(land.mu[j]), math.exp(float(land.log_sigma[i])))


def test_default_axes_follow_the_documented_ranges():
    mu, ls = default_axes(BIMODAL)
    assert mu.shape == ls.shape == (120,)
    assert (mu[0], mu[-1]) == pytest.approx(x_range(BIMODAL))  # (-7, 7)
    assert ls[0] == pytest.approx(math.log(0.5))
    assert ls[-1] == pytest.approx(math.log(7.0))  # max(2·√10, 14/2)
    _, ls = default_axes(SPIKE, size=10)
    assert ls[0] == pytest.approx(math.log(0.005))
    assert ls[-1] == pytest.approx(math.log(4.0))  # x-range (-4, 4) is wider than 2·std
    _, ls = default_axes(HEAVY)  # infinite variance: half the x-range (-6 .. 4)
    assert ls[-1] == pytest.approx(math.log(5.0))


def test_shapes_and_read_only(bimodal):
    assert bimodal.forward.shape == bimodal.reverse.shape == (61, 61)
    assert np.isfinite(bimodal.forward).all() and np.isfinite(bimodal.reverse).all()
    assert (bimodal.forward >= 0).all() and (bimodal.reverse >= 0).all()
    with pytest.raises(ValueError):
        bimodal.reverse[0, 0] = 1.0


@pytest.mark.parametrize("p", [BIMODAL, SPIKE, HEAVY, LAPLACE_MIX], ids=["bimodal", "spike",
                                                                         "heavy", "laplace"])
def test_grid_values_match_kl_divergence(p):
    land = kl_landscape(p, size=40)
    rng = np.random.default_rng(7)
    idx = [(0, 0), (39, 39), (0, 39), (39, 0)] + [tuple(rng.integers(0, 40, 2)) for _ in range(8)]
    for i, j in idx:
        q = _q(land, i, j)
        assert land.reverse[i, j] == pytest.approx(kl_divergence(q, p), rel=1e-9)
        fwd = kl_divergence(p, q)
        if math.isinf(fwd):
            assert land.forward[i, j] == math.inf
        else:
            assert land.forward[i, j] == pytest.approx(fwd, rel=1e-9)


def test_grid_values_match_scipy_quad(quad_reference):
    land = kl_landscape(LAPLACE_MIX, size=15)
    for i, j in [(3, 4), (12, 9), (7, 14)]:
        q = _q(land, i, j)
        assert land.reverse[i, j] == pytest.approx(quad_reference(q, LAPLACE_MIX), rel=1e-9)
        assert land.forward[i, j] == pytest.approx(quad_reference(LAPLACE_MIX, q), rel=1e-9)


def test_grid_values_match_mpmath_reference():
    """Three grid points (both directions where finite) against 40-digit mpmath quadrature."""
    cases = [(BIMODAL, np.array([-1.0, 3.2]), np.array([0.1, 1.0])),
             (HEAVY, np.array([-0.5, 1.5]), np.array([-0.3, 0.9]))]
    checked = 0
    for p, mu, ls in cases:
        land = kl_landscape(p, mu=mu, log_sigma=ls)
        q = _q(land, 1, 0) if p is BIMODAL else _q(land, 0, 1)
        i, j = (1, 0) if p is BIMODAL else (0, 1)
        ref = float(reference.kl(reference.spec(q), reference.spec(p)))
        assert land.reverse[i, j] == pytest.approx(ref, rel=1e-9)
        checked += 1
        if p is BIMODAL:
            ref = float(reference.kl(reference.spec(p), reference.spec(q)))
            assert land.forward[i, j] == pytest.approx(ref, rel=1e-9)
            checked += 1
    assert checked == 3


@pytest.mark.parametrize("p", [
    Mixture([Normal(-4, 0.6), Normal(0, 1), Normal(5, 2)], [3, 3, 4]),  # a far, steep switch
    Mixture([Normal(1000, 1), Normal(1004, 2)], [0.3, 0.7]),  # far from 0
    Mixture([Normal(-2, 0.7), Normal(2, 1.3)], [0.4, 0.6]),
], ids=["three", "at 1000", "unequal"])
def test_normal_mixture_grid_by_smoothing_matches_mpmath(p):
    # Normal mixtures on the default (evenly spaced) axes take the FFT smoothing of log p, not
    # the fitter's quadrature: both corners, the middle and two more cells against 30 digits
    land = kl_landscape(p, size=50)
    for i, j in [(0, 0), (49, 49), (25, 25), (5, 40), (44, 7)]:
        q = _q(land, i, j)
        with mp.workdps(30):
            want = float(reference.kl(reference.spec(q), reference.spec(p)))
        assert land.reverse[i, j] == pytest.approx(want, rel=1e-9), (i, j)


def test_heavy_tails_make_forward_infinite_everywhere():
    land = kl_landscape(HEAVY, size=20)
    assert not land.forward_finite
    assert (land.forward == math.inf).all()
    assert np.isfinite(land.reverse).all()


def _local_minima(z):
    """(i, j) of strict local minima among the 8 neighbours (interior points)."""
    out = []
    for i in range(1, z.shape[0] - 1):
        for j in range(1, z.shape[1] - 1):
            nb = z[i - 1:i + 2, j - 1:j + 2].copy()
            nb[1, 1] = np.inf
            if z[i, j] < nb.min():
                out.append((i, j))
    return out


def test_reverse_basins_match_the_fitted_local_optima(bimodal):
    """Every basin of the reverse grid holds one local optimum found by fit_gaussian (one per
    mode, and the wide one covering both), within a grid cell; forward has one bowl, at the
    moment-matched Gaussian N(0, √10²)."""
    rev = _local_minima(bimodal.reverse)
    optima = fit_gaussian(BIMODAL, "reverse").local_optima
    assert len(rev) == len(optima) == 3
    dmu, dls = np.diff(bimodal.mu[:2])[0], np.diff(bimodal.log_sigma[:2])[0]
    for opt in optima:
        assert any(abs(bimodal.mu[j] - opt.q.mean) <= dmu
                   and abs(bimodal.log_sigma[i] - math.log(opt.q.std)) <= dls for i, j in rev)
    fwd = _local_minima(bimodal.forward)
    assert len(fwd) == 1
    i, j = fwd[0]
    assert bimodal.mu[j] == pytest.approx(0, abs=dmu)
    assert bimodal.log_sigma[i] == pytest.approx(math.log(math.sqrt(10)), abs=dls)


def test_grid_minimum_is_not_below_the_fitted_optimum(bimodal):
    best = fit_gaussian(BIMODAL, "reverse").kl
    assert bimodal.reverse.min() >= best - 1e-12
    assert bimodal.reverse.min() <= best + 0.05  # and the grid comes close to it
    fwd = fit_gaussian(BIMODAL, "forward").kl
    assert fwd - 1e-12 <= bimodal.forward.min() <= fwd + 0.01


@pytest.mark.parametrize("kwargs, field", [
    ({"size": 1}, "size"), ({"size": 1000}, "size"), ({"size": 2.5}, "size"),
    ({"mu": [0.0, np.nan, 1.0]}, "mu"), ({"mu": [1.0, 0.0]}, "mu"),
    ({"log_sigma": [[0.0, 1.0]]}, "log_sigma"), ({"log_sigma": [0.0, 100.0]}, "log_sigma"),
])
def test_bad_input_names_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        kl_landscape(BIMODAL, **kwargs)


def test_the_cost_estimate_follows_the_rule_used():
    # a Normal mixture on the default axes is one FFT of log p (rows × FFT length), far below
    # the quadrature rule's node count that a Student-t component brings back
    from explorer.landscape import COST_BUDGET, affordable_size, grid_cost

    normal = Mixture([Normal(-3, 1), Normal(3, 1)])
    heavy = Mixture([Normal(-3, 1), StudentT(3, 1, 3)])
    assert grid_cost(normal, 160) <= 160 * (1 << 15) < grid_cost(heavy, 160)
    assert affordable_size(normal, 160) == 160 and grid_cost(normal, 160) < COST_BUDGET
