"""MLE of a Gaussian from samples of p: exact formulas, the sampler's distribution, and
convergence to the forward-KL (moment-matched) fit."""

import math

import numpy as np
import pytest
from scipy import stats

from explorer.distributions import Laplace, Mixture, Normal, StudentT
from explorer.mle import MLEResult, mle_convergence, mle_fit, sample

BIMODAL = Mixture([Normal(-3, 1), Normal(3, 1)])
MIXED = Mixture([StudentT(-2, 1, 4), Laplace(1, 0.5), Normal(4, 0.3)], [0.3, 0.5, 0.2])


def mixed_cdf(x):
    return (0.3 * stats.t.cdf(x, 4, -2, 1) + 0.5 * stats.laplace.cdf(x, 1, 0.5)
            + 0.2 * stats.norm.cdf(x, 4, 0.3))


def test_mle_is_sample_mean_and_population_std():
    r = mle_fit(BIMODAL, 10, seed=5)
    x = sample(BIMODAL, 10, 5)
    mean = math.fsum(x) / 10
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in x) / 10)  # ddof = 0
    assert isinstance(r, MLEResult) and r.n == 10 and r.seed == 5 and not r.clipped
    assert r.q.mean == pytest.approx(mean, rel=1e-13, abs=1e-14)
    assert r.q.std == pytest.approx(std, rel=1e-13)
    nll = -math.fsum(stats.norm.logpdf(x, mean, std)) / 10
    assert r.avg_nll == pytest.approx(nll, rel=1e-13)
    # and for the MLE Gaussian that is log σ + ½ log 2π + ½ exactly
    assert r.avg_nll == pytest.approx(math.log(std) + 0.5 * math.log(2 * math.pi) + 0.5,
                                      rel=1e-13)


def test_sampler_matches_the_mixture_distribution():
    """Kolmogorov–Smirnov against the mixture CDF from scipy.stats (fixed seeds: deterministic;
    a wrong weight, scale or family drives the p-value far below 1e-3 at n = 20000)."""
    for p, cdf in [(MIXED, mixed_cdf),
                   (BIMODAL, lambda x: 0.5 * stats.norm.cdf(x, -3) + 0.5 * stats.norm.cdf(x, 3))]:
        x = sample(p, 20_000, seed=11)
        assert stats.kstest(x, cdf).pvalue > 1e-3
    wrong = lambda x: 0.5 * stats.t.cdf(x, 4, -2, 1) + 0.5 * stats.laplace.cdf(x, 1, 0.5)  # noqa: E731
    assert stats.kstest(sample(MIXED, 20_000, seed=11), wrong).pvalue < 1e-6


def test_samples_are_nested_and_seeded():
    a, b = sample(MIXED, 100, 3), sample(MIXED, 5000, 3)
    np.testing.assert_array_equal(a, b[:100])
    assert not np.array_equal(a, sample(MIXED, 100, 4)[:100])
    res = mle_convergence(MIXED, [10, 1000], [3, 4])
    assert [(r.n, r.seed) for r in res] == [(10, 3), (10, 4), (1000, 3), (1000, 4)]
    for r in res:
        assert r == mle_fit(MIXED, r.n, r.seed)


def test_converges_to_the_forward_kl_fit():
    """n = 100000 from the bimodal preset: the MLE is within 4 standard errors of the
    moment-matched fit N(0, √10²), whose cross-entropy H(p) + KL(p‖q) = ½ log(2π·10) + ½.
    SE(mean) = √(10/n) = 0.010; SE(std) = √((μ4 − σ⁴)/(4σ²n)) with μ4 = 81 + 6·9 + 3 = 138,
    i.e. 0.0031; the NLL's SE is √((μ4 − σ⁴)/(4σ⁴n)) = 0.00097."""
    n = 100_000
    r = mle_fit(BIMODAL, n, seed=2024)
    sd = math.sqrt(10)
    assert abs(r.q.mean - 0.0) <= 4 * math.sqrt(10 / n)
    assert abs(r.q.std - sd) <= 4 * math.sqrt((138 - 100) / (4 * 10 * n))
    cross_entropy = 0.5 * math.log(2 * math.pi * 10) + 0.5
    assert abs(r.avg_nll - cross_entropy) <= 4 * math.sqrt((138 - 100) / (4 * 100 * n))
    # not vacuous: the reverse fit N(±3, 1) and a 1 % wrong σ are far outside those bounds
    assert abs(r.q.std - 1.01 * sd) > 4 * math.sqrt((138 - 100) / (4 * 10 * n))


def test_spread_across_seeds_shrinks_like_one_over_root_n():
    """Across 200 seeds the sample means scatter with sd √(10/n) (within 15 %, a χ² bound
    at ~3 sd for 200 draws)."""
    res = mle_convergence(BIMODAL, [100, 10_000], range(200))
    for n in (100, 10_000):
        means = np.array([r.q.mean for r in res if r.n == n])
        assert np.std(means, ddof=1) == pytest.approx(math.sqrt(10 / n), rel=0.15)


def test_very_heavy_tails_are_clipped_not_nan():
    r = mle_fit(Mixture([StudentT(0, 1, 0.2)]), 1000, seed=0)
    assert r.clipped
    assert not math.isnan(r.avg_nll) and not math.isnan(r.q.mean)
    ok = mle_fit(Mixture([StudentT(0, 1, 1.5)]), 1000, seed=0)  # huge but representable
    assert not ok.clipped and math.isfinite(ok.avg_nll)


@pytest.mark.parametrize("n, seed, field", [
    (9, 0, "n"), (100_001, 0, "n"), (50.5, 0, "n"), (True, 0, "n"), ("100", 0, "n"),
    (100, -1, "seed"), (100, 1.0, "seed"),
])
def test_bad_input_names_the_field(n, seed, field):
    with pytest.raises(ValueError, match=f"^{field} "):
        mle_fit(BIMODAL, n, seed)
    with pytest.raises(ValueError, match=f"^{field} "):
        mle_convergence(BIMODAL, [n], [seed])
