"""Distributions: densities against scipy.stats / mpmath, moments against quadrature, scores against
mpmath derivatives, and every bad input rejected with a message naming the field."""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
import reference
from scipy import integrate, stats

from explorer import Laplace, Mixture, Normal, StudentT

BIMODAL = Mixture([Normal(-3, 1), Normal(3, 1)], weights=[0.5, 0.5])
MIXED = Mixture([Normal(-2, 0.5), Laplace(1, 0.7), StudentT(4, 1.5, 3.5)], weights=[2, 1, 1])
X = np.array([-1e3, -60.0, -7.3, -3.0, -0.2, 0.0, 0.4, 2.9, 5.5, 45.0, 1e3])


# --- components against scipy.stats -------------------------------------------------------------
@pytest.mark.parametrize(("dist", "ref"), [
    (Normal(0.7, 2.5), stats.norm(0.7, 2.5)),
    (Normal(-4, 1e-3), stats.norm(-4, 1e-3)),
    (StudentT(1.0, 0.8, 3.0), stats.t(3.0, 1.0, 0.8)),
    (StudentT(0.0, 2.0, 0.5), stats.t(0.5, 0.0, 2.0)),
    (Laplace(-1.0, 0.3), stats.laplace(-1.0, 0.3)),
])
def test_component_logpdf_pdf_match_scipy(dist, ref):
    got = dist.logpdf(X)
    want = ref.logpdf(X)
    finite = np.isfinite(want)
    np.testing.assert_allclose(got[finite], want[finite], rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(dist.pdf(X), ref.pdf(X), rtol=1e-12, atol=0)
    assert dist.entropy == pytest.approx(float(ref.entropy()), rel=1e-12, abs=1e-13)
    if math.isfinite(ref.var()):
        assert dist.variance == pytest.approx(float(ref.var()), rel=1e-13)
        assert dist.mean == pytest.approx(float(ref.mean()), rel=1e-13, abs=1e-15)


def test_logpdf_is_vectorised_and_keeps_shape():
    x = np.linspace(-5, 5, 12).reshape(3, 4)
    for d in (Normal(0, 1), StudentT(0, 1, 3), Laplace(0, 1), BIMODAL, MIXED):
        assert d.logpdf(x).shape == (3, 4)
        assert d.pdf(x).shape == (3, 4)
        np.testing.assert_allclose(d.logpdf(x)[1], d.logpdf(x[1]), rtol=0, atol=0)
        assert float(d.logpdf(1.5)) == pytest.approx(float(d.logpdf(np.array([1.5]))[0]))


def test_student_t_moments_exist_only_when_they_should():
    assert math.isnan(StudentT(0, 1, 1.0).mean)
    assert StudentT(2, 1, 1.5).mean == 2
    assert StudentT(0, 1, 2.0).variance == math.inf
    assert StudentT(0, 2, 4.0).variance == pytest.approx(4 * 4 / 2)
    assert math.isnan(Mixture([Normal(0, 1), StudentT(0, 1, 0.9)]).mean)
    assert Mixture([Normal(0, 1), StudentT(0, 1, 1.9)]).variance == math.inf
    # a zero-weight heavy component carries no mass and does not spoil the moments
    assert Mixture([Normal(0, 1), StudentT(0, 1, 0.9)], [1, 0]).variance == pytest.approx(1.0)


# --- mixtures -------------------------------------------------------------------------------------
def test_mixture_weights_are_relative_and_default_equal():
    assert Mixture([Normal(0, 1), Normal(1, 1)], weights=[1, 3]).weights == (0.25, 0.75)
    three = Mixture([Normal(0, 1), Normal(1, 1), Normal(2, 1)])
    assert three.weights == pytest.approx((1 / 3,) * 3)
    assert BIMODAL.weights == (0.5, 0.5)
    assert BIMODAL.components == (Normal(-3, 1), Normal(3, 1))


@pytest.mark.parametrize("dist", [BIMODAL, MIXED,
                                  Mixture([Normal(-20, 0.1), Normal(20, 0.1)]),
                                  Mixture([Normal(0, 1), Normal(0.5, 1e-3)], [0.7, 0.3])])
def test_mixture_logpdf_matches_mpmath(dist):
    spec = reference.spec(dist)
    got = dist.logpdf(X)
    want = np.array([float(reference.logpdf(spec, x)) for x in X])
    # log space: finite far in the tails where the density itself underflows to 0
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(dist.pdf(X), np.exp(want), rtol=1e-12, atol=0)


@pytest.mark.parametrize("dist", [BIMODAL, MIXED, Mixture([Normal(-20, 0.1), Normal(20, 0.1)])])
def test_mixture_scores_match_mpmath_derivatives(dist):
    spec = reference.spec(dist)
    xs = [-21.0, -3.3, -0.31, 0.27, 1.4, 3.0, 4.6, 19.95] if dist is not MIXED else [
        -3.3, -1.2, 0.2, 1.4, 2.6, 4.6, 9.0]
    lp, d1, d2 = dist.log_derivs(np.array(xs))
    for i, x in enumerate(xs):
        want1 = float(mp.diff(lambda t: reference.logpdf(spec, t), x, 1))
        want2 = float(mp.diff(lambda t: reference.logpdf(spec, t), x, 2))
        scale = max(1.0, abs(want1))
        assert d1[i] == pytest.approx(want1, rel=1e-11, abs=1e-11 * scale)
        assert d2[i] == pytest.approx(want2, rel=1e-9, abs=1e-9 * max(1.0, abs(want2)))
    np.testing.assert_allclose(dist.dlogpdf(np.array(xs)), d1)
    np.testing.assert_allclose(dist.d2logpdf(np.array(xs)), d2)


def test_component_scores_match_mpmath():
    for c in (Normal(0.5, 0.3), StudentT(-1, 2, 2.5)):
        spec = reference.spec(c)
        for x in (-4.0, -0.7, 0.1, 2.2, 30.0):
            assert float(c.dlogpdf(x)) == pytest.approx(
                float(mp.diff(lambda t, s=spec: reference.logpdf(s, t), x, 1)), rel=1e-12,
                abs=1e-14)
            assert float(c.d2logpdf(x)) == pytest.approx(
                float(mp.diff(lambda t, s=spec: reference.logpdf(s, t), x, 2)), rel=1e-10,
                abs=1e-14)


def test_laplace_kink_is_a_point_mass_of_the_second_derivative():
    c = Laplace(1.0, 0.5)
    assert c.d2_atoms() == [(1.0, -4.0)]  # the score drops by 2/scale at the peak
    assert float(c.dlogpdf(0.9)) - float(c.dlogpdf(1.1)) == pytest.approx(4.0)
    m = Mixture([c, Normal(10, 1)])
    ((x0, mass),) = m.d2_atoms()
    resp = 0.5 * c.pdf(1.0) / m.pdf(1.0)
    assert x0 == 1.0
    assert mass == pytest.approx(-4.0 * resp, rel=1e-14)


@pytest.mark.parametrize("dist", [BIMODAL, MIXED])
def test_mixture_mean_and_variance_match_quadrature(dist):
    pts = sorted({float(c.loc + k * c.scale) for c in dist.components for k in range(-40, 41, 4)})
    f = dist.pdf

    def moment(r):
        return math.fsum(integrate.quad(lambda x: x**r * f(x), a, b, epsabs=1e-14, epsrel=1e-13,
                                        limit=200)[0] for a, b in zip(pts, pts[1:], strict=False))

    tail = [integrate.quad(lambda x, r=r: x**r * f(x), b, s * math.inf, epsabs=1e-14,
                           epsrel=1e-12)[0]
            for r in (0, 1, 2) for b, s in ((pts[-1], 1), (pts[0], -1))]
    m0 = moment(0) + tail[0] - tail[1]
    m1 = moment(1) + tail[2] - tail[3]
    m2 = moment(2) + tail[4] - tail[5]
    assert m0 == pytest.approx(1.0, abs=1e-12)
    assert dist.mean == pytest.approx(m1, rel=1e-11, abs=1e-12)
    assert dist.variance == pytest.approx(m2 - m1 * m1, rel=1e-11)


def test_mixture_entropy_matches_mpmath_for_far_narrow_modes():
    p = Mixture([Normal(-20, 0.1), Normal(20, 0.1)])
    # closed form check too: two disjoint halves -> H = H(N(0, 0.1²)) + ln 2
    want = float(reference.entropy(reference.spec(p)))
    assert p.entropy == pytest.approx(want, rel=1e-12)
    assert want == pytest.approx(Normal(0, 0.1).entropy + math.log(2), rel=1e-13)


def test_single_component_mixture_behaves_like_the_component():
    c = StudentT(1, 2, 3)
    m = Mixture([c])
    np.testing.assert_array_equal(m.logpdf(X), c.logpdf(X))
    assert m.entropy == c.entropy
    assert m.mean == c.mean and m.variance == c.variance


def test_breakpoints_cover_each_component_and_the_switch():
    p = Mixture([Normal(-20, 0.1), Normal(20, 0.1)])
    bp = p.breakpoints
    assert np.all(np.diff(bp) > 0)
    assert bp[0] <= -20 - 38 * 0.1 and bp[-1] >= 20 + 38 * 0.1
    assert np.min(np.abs(bp)) < 1e-12  # log p switches component at exactly 0 by symmetry


# --- bad input --------------------------------------------------------------------------------
@pytest.mark.parametrize(("make", "match"), [
    (lambda: Normal(0, -1), r"Normal std must be > 0"),
    (lambda: Normal(0, 0), r"Normal std must be > 0"),
    (lambda: Normal(0, math.nan), r"Normal std must be a finite number"),
    (lambda: Normal(0, math.inf), r"Normal std must be a finite number"),
    (lambda: Normal(0, 1e-9), r"Normal std must be in"),
    (lambda: Normal(math.nan, 1), r"Normal mean must be a finite number"),
    (lambda: Normal(-math.inf, 1), r"Normal mean must be a finite number"),
    (lambda: Normal("a", 1), r"Normal mean must be a number"),
    (lambda: StudentT(0, 1, 0), r"Student-t df \(ν\) must be in"),
    (lambda: StudentT(0, 1, math.nan), r"Student-t df \(ν\) must be a finite number"),
    (lambda: StudentT(0, -2, 3), r"Student-t scale must be > 0"),
    (lambda: StudentT(math.nan, 1, 3), r"Student-t loc must be a finite number"),
    (lambda: Laplace(0, 0), r"Laplace scale must be > 0"),
    (lambda: Laplace(math.inf, 1), r"Laplace loc must be a finite number"),
    (lambda: Mixture([]), r"Mixture components: need at least one component"),
    (lambda: Mixture(None), r"Mixture components: need at least one component"),
    (lambda: Mixture([Normal(0, 1), "N(0,1)"]), r"Mixture components\[1\] must be a Normal"),
    (lambda: Mixture([Normal(0, 1), Normal(1, 1)], [1.0]), r"Mixture weights: got 1 weights for 2"),
    (lambda: Mixture([Normal(0, 1)], [1.0, 2.0]), r"Mixture weights: got 2 weights for 1"),
    (lambda: Mixture([Normal(0, 1), Normal(1, 1)], [1, -0.5]), r"Mixture weights\[1\] must be in"),
    (lambda: Mixture([Normal(0, 1), Normal(1, 1)], [0, 0]),
     r"Mixture weights: all weights are zero"),
    (lambda: Mixture([Normal(0, 1), Normal(1, 1)], [math.nan, 1]),
     r"Mixture weights\[0\] must be a finite number"),
    (lambda: Mixture([Normal(0, 1), Normal(1, 1)], [math.inf, 1]),
     r"Mixture weights\[0\] must be a finite number"),
])
def test_bad_input_raises_value_error_naming_the_field(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_mixture_logpdf_at_infinity_is_minus_inf_not_nan():
    import warnings

    p = Mixture([Normal(0, 1), StudentT(1, 2, 3), Laplace(-1, 0.5)], [0.2, 0.5, 0.3])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = p.logpdf(np.array([-np.inf, np.inf]))
    assert np.all(values == -np.inf)
