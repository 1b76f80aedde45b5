"""Minka's α-divergence and its Gaussian fits, against closed forms and the 40-digit reference."""

from __future__ import annotations

import math
import warnings

import mpmath as mp
import numpy as np
import pytest
import reference
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer import (
    Laplace,
    Mixture,
    NoFiniteFitError,
    Normal,
    StudentT,
    alpha_divergence,
    fit_gaussian,
    kl_divergence,
)
from explorer.alpha import alpha_objective, why_infinite_alpha


def closed_form(m1, s1, m2, s2, a):
    """(D_α(N(m1, s1²)‖N(m2, s2²)), divergent) by completing the square, at enough digits for
    α within 1e-80 of 0 or 1; the value is inf where divergent or beyond the floats.

    p^α q^(1−α) = (2π)^-½ s1^-α s2^(α−1) exp(−½[a1 (x−m1)² + a2 (x−m2)²]), a1 = α/s1²,
    a2 = (1−α)/s2², whose integral is s1^-α s2^(α−1) A^-½ exp(−a1 a2 (m1−m2)²/(2A)), A = a1 + a2
    (finite iff A > 0)."""
    # 70 digits: σ ratios 1 ulp from 1 leave log terms that cancel to ~1e-32; twice the digits
    # of α and 1 − α more, as the rounding of log I is divided by α(1 − α) (p = q at α = 1e-295
    # must come out 0, not 1e-70)
    digits = 70 + 2 * (int(abs(math.log10(abs(a)))) + int(abs(math.log10(abs(1 - a)))))
    with mp.workdps(digits):
        m1, s1, m2, s2, a = (mp.mpf(v) for v in (m1, s1, m2, s2, a))
        a1, a2 = a / s1**2, (1 - a) / s2**2
        big_a = a1 + a2
        if big_a <= 0:
            return math.inf, True
        # 1 − I as −expm1(log I): where p ≈ q (means 1e-147 σ apart) 1 − I is ~1e-293, far
        # below the working precision of a plain subtraction
        # with r = s2/s1 the log s1 terms cancel exactly (p = q gives log I = 0, not rounding
        # divided by α(1 − α)): log I = (α−1) log r − ½ log(α + (1−α)/r²) − a1 a2 Δ²/(2A)
        r = s2 / s1
        log_i = ((a - 1) * mp.log(r) - mp.log(a + (1 - a) / r**2) / 2
                 - a1 * a2 * (m1 - m2) ** 2 / (2 * big_a))
        value = -mp.expm1(log_i) / (a * (1 - a))
        return (float(value) if abs(value) < mp.mpf("1.7e308") else math.inf), False


ALPHAS = st.one_of(st.floats(-3.0, 5.0).filter(lambda a: a not in (0.0, 1.0)),
                   st.sampled_from([1e-6, -1e-6, 1 - 1e-6, 1 + 1e-6, 0.5, 2.0, -1.0]),
                   st.floats(-1e-6, 1e-6).filter(lambda a: a != 0),
                   st.floats(1 - 1e-6, 1 + 1e-6).filter(lambda a: a != 1))


@settings(max_examples=40, deadline=None)
@given(m1=st.floats(-1e4, 1e4), s1=st.floats(-3, 3).map(lambda e: 10**e),
       dm=st.floats(-30, 30), ratio=st.floats(-1.5, 1.5).map(lambda e: 10**e), a=ALPHAS)
def test_two_gaussians_match_the_closed_form(m1, s1, dm, ratio, a):
    m2, s2 = m1 + dm * s1, s1 * ratio
    want, divergent = closed_form(m1, s1, m2, s2, a)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = alpha_divergence(Normal(m1, s1), Normal(m2, s2), a)
    reason = why_infinite_alpha(Normal(m1, s1), Normal(m2, s2), a)
    assert bool(reason) == divergent
    if math.isinf(want):  # divergent, or finite beyond the largest float (e^768 at α = −2)
        assert got == math.inf
    else:
        assert got == pytest.approx(want, rel=1e-9, abs=1e-300)


def test_subnormal_alpha_is_the_reverse_kl_limit():
    # found by the property test above: α = 5e-324 (subnormal) gave 38.83 for a D_α of 47.197,
    # and the α fit at that α reported a component itself as the optimum
    p, q = Normal(0.0, 1.0), Normal(0.0, 10.0)
    want = 0.5 * (100 - 1 - math.log(100))  # KL(q‖p) in closed form
    for a in (5e-324, -5e-324, 1e-310):
        assert alpha_divergence(p, q, a) == pytest.approx(want, rel=1e-12)
    bimodal = Mixture([Normal(-3, 1), Normal(3, 1)])
    reverse = fit_gaussian(bimodal, "reverse")
    tiny = fit_gaussian(bimodal, "alpha", alpha=5e-324)
    assert len(tiny.local_optima) == len(reverse.local_optima) == 3
    for a, b in zip(tiny.local_optima, reverse.local_optima, strict=True):
        assert a.q.mean == pytest.approx(b.q.mean, abs=1e-9)
        assert a.q.std == pytest.approx(b.q.std, rel=1e-9)
        assert a.kl == pytest.approx(b.kl, rel=1e-12)


def test_named_members_of_the_family():
    p, q = Normal(0.3, 1.2), Normal(-0.5, 0.8)
    # α = ½ is 4·Hellinger² = 4(1 − BC), BC = √(2 s1 s2/(s1²+s2²)) exp(−Δ²/(4(s1²+s2²)))
    bc = math.sqrt(2 * 1.2 * 0.8 / (1.44 + 0.64)) * math.exp(-0.64 / (4 * 2.08))
    assert alpha_divergence(p, q, 0.5) == pytest.approx(4 * (1 - bc), rel=1e-12)
    assert alpha_divergence(p, q, 0.0) == kl_divergence(q, p)
    assert alpha_divergence(p, q, 1.0) == kl_divergence(p, q)
    assert alpha_divergence(p, p, 2.0) == 0.0
    assert alpha_divergence(p, q, 0.5, unit="bits") == pytest.approx(
        alpha_divergence(p, q, 0.5) / math.log(2), rel=1e-14)
    with pytest.raises(ValueError):
        alpha_divergence(p, q, math.nan)


TARGETS = {
    "bimodal": Mixture([Normal(-3, 1), Normal(3, 1)]),
    "narrow+wide": Mixture([Normal(0, 0.01), Normal(1, 5)], [0.3, 0.7]),
    "far apart": Mixture([Normal(-200, 0.5), Normal(200, 0.5)]),
    "student-t": Mixture([StudentT(0, 1, 3), Normal(2, 0.5)]),
    "laplace": Mixture([Laplace(0, 1), Normal(4, 1)], [0.6, 0.4]),
    "t nu=1": StudentT(1.0, 2.0, 1),
}
QS = [Normal(0.5, 2.0), Normal(3.0, 0.7), Normal(-1.0, 20.0)]


ALPHA_CASES = [-3.0, 1e-6, 0.5, 1 + 1e-6, 5.0]


@pytest.mark.parametrize("name", list(TARGETS))
@pytest.mark.parametrize("a", ALPHA_CASES)
def test_mixtures_match_the_mpmath_reference(name, a):
    # one of the two q per case, alternating (each reference integral costs seconds)
    p = TARGETS[name]
    for q in [QS[(list(TARGETS).index(name) + ALPHA_CASES.index(a)) % 2]]:
        got = alpha_divergence(p, q, a)
        if why_infinite_alpha(p, q, a):
            assert got == math.inf
            continue
        want = reference.alpha_divergence(reference.spec(p), reference.spec(q), a)
        assert got == pytest.approx(float(want), rel=1e-9), (q, float(want))


def test_mixture_q_against_the_reference():
    p = Normal(0.5, 1.5)
    q = Mixture([Normal(-1, 0.5), Normal(2, 1.0)], [0.4, 0.6])
    for a in (-0.5, 0.3, 0.9, 1.5):
        want = reference.alpha_divergence(reference.spec(p), reference.spec(q), a)
        assert alpha_divergence(p, q, a) == pytest.approx(float(want), rel=1e-9)


def test_near_zero_and_one_match_the_kl_limits():
    p, q = TARGETS["narrow+wide"], Normal(0.5, 2.0)
    for eps in (1e-9, 1e-12):
        assert alpha_divergence(p, q, eps) == pytest.approx(kl_divergence(q, p), rel=1e-7)
        assert alpha_divergence(p, q, 1 - eps) == pytest.approx(kl_divergence(p, q), rel=1e-7)


def test_infinite_from_the_tails_with_reasons():
    t = Mixture([StudentT(0, 1, 3), Normal(0, 1)])
    assert alpha_divergence(t, Normal(0, 100), 1.5) == math.inf  # Gaussian q too light for t p
    assert "too light" in why_infinite_alpha(t, Normal(0, 100), 1.5)
    assert alpha_divergence(Laplace(0, 1), Normal(0, 50), 2.0) == math.inf
    assert alpha_divergence(Laplace(0, 1), Laplace(0, 3), 2.0) < math.inf  # 2 > 1/3
    assert alpha_divergence(Laplace(0, 2), Laplace(0, 1), 2.0) == math.inf  # 2/2 = 1/1
    assert alpha_divergence(Laplace(0, 1), Laplace(0, 2), 2.0) < math.inf  # 2/1 > 1/2
    assert alpha_divergence(StudentT(0, 1, 3), StudentT(0, 1, 5), 1.5) < math.inf  # 6 − 3 > 1
    assert alpha_divergence(StudentT(0, 1, 3), StudentT(0, 1, 9), 1.5) == math.inf  # 6 − 5 = 1
    # α < 0: roles swap, so a Gaussian p narrower than q diverges
    assert alpha_divergence(Normal(0, 1), Normal(0, 1.5), -1.0) == math.inf
    assert alpha_divergence(Normal(0, 1), Normal(0, 1.4), -1.0) < math.inf
    # the equal-rate edge, decided exactly: at α = −1/8, b = 1 − α = 9/8, a Gaussian q of sd 3
    # against p's widest components of sd 1 has b/σ² = (b − 1)/s² (all exact in binary), so
    # log q^b p^(1−b) is linear in the tails, (b/σ²)(μ − m)x: finite iff q's mean lies strictly
    # between p's outermost widest components (on the edge the integrand tends to a constant)
    p = Mixture([Normal(-1.5, 1), Normal(1.5, 1)])
    assert why_infinite_alpha(p, Normal(0.0, 3.0), -0.125) is None
    assert why_infinite_alpha(p, Normal(1.5, 3.0), -0.125)
    assert why_infinite_alpha(p, Normal(-2.0, 3.0), -0.125)
    assert why_infinite_alpha(p, Normal(0.0, 3.0000000000000004), -0.125)  # one ulp wider
    # α > 1 mirrored (a = 9/8 and q's widest sd s_p/3): finite iff q's widest span holds p's
    wide = Mixture([Normal(-1, 1), Normal(1, 1)])
    assert why_infinite_alpha(Normal(0.0, 3.0), wide, 1.125) is None
    assert why_infinite_alpha(Normal(1.0, 3.0), wide, 1.125)
    # the float √2 is not √2: 2/fl(√2)² − 1 = −1.4e-16 exactly, so at α = −1 the integrand of
    # ½N(∓1.5, 1) against N(0, fl(√2)) grows like e^(7e-17 x²) in the far tails: infinite
    assert why_infinite_alpha(p, Normal(0.0, math.sqrt(2)), -1.0)
    assert why_infinite_alpha(p, Normal(0.0, 1.414), -1.0) is None


@pytest.mark.parametrize("p,q,a", [
    (Mixture([Normal(-1.5, 1), Normal(1.5, 1)]), Normal(0.0, 3.0), -0.125),
    (Normal(0.0, 3.0), Mixture([Normal(-1, 1), Normal(1, 1)]), 1.125)])
def test_equal_rate_edge_matches_the_reference(p, q, a):
    # the integrand decays only like e^(−|κΔ|·|x|) (rate 3/16 and 1/8 here): quadrature must
    # follow it out to hundreds of units, where q's and p's own edges stop at a few dozen
    want = reference.alpha_divergence(reference.spec(p), reference.spec(q), a)
    assert alpha_divergence(p, q, a) == pytest.approx(float(want), rel=1e-9)


def test_objective_gradient_and_hessian_are_the_derivatives_of_its_value():
    # α > 1 against a Student-t component is divergent for every Gaussian: 2.0 on Normals.
    # θ = (2.5, −0.3) on the bimodal target at α = 2 is just inside σ > s/√2, where D_α ≈ 1e57
    # grows like e^(K log σ) with K ≈ 3000: a fixed step's central difference is off by
    # (K·step)²/6, so each row's step is scaled to 1e-5 over that rate (|g|/|f|).
    for p, a in [(TARGETS["student-t"], -1.0), (TARGETS["student-t"], 0.3),
                 (TARGETS["student-t"], 0.7), (TARGETS["bimodal"], 2.0)]:
        c, pc = p.centred
        theta = np.array([[0.4, 0.2], [2.5, -0.3]])
        f, g, h = alpha_objective(pc, theta, a)
        assert np.isfinite(f).all() and np.isfinite(g).all() and np.isfinite(h).all()
        step = 1e-5 / np.maximum(1.0, np.abs(g).max(axis=1) / np.abs(f))
        for j in range(2):
            e = np.zeros((2, 2))
            e[:, j] = step
            fp, gp, _ = alpha_objective(pc, theta + e, a)
            fm, gm, _ = alpha_objective(pc, theta - e, a)
            np.testing.assert_allclose((fp - fm) / (2 * step), g[:, j], rtol=1e-6, atol=1e-9)
            np.testing.assert_allclose((gp - gm) / (2 * step[:, None]), h[:, :, j], rtol=1e-5,
                                       atol=1e-8)


def _reference_minimum(p, q, a, delta=1e-3):
    """q is a local minimum of the reference D_α: no point δ away (σ-units) is lower."""
    at = reference.alpha_divergence(reference.spec(p), reference.spec(q), a)
    for angle in np.arange(4) * np.pi / 2:  # ± along μ and along log σ
        moved = Normal(q.mean + delta * math.cos(angle) * q.std,
                       q.std * math.exp(delta * math.sin(angle)))
        near = reference.alpha_divergence(reference.spec(p), reference.spec(moved), a)
        assert near >= at - mp.mpf(1e-12) * (1 + at), (q, angle)
    return float(at)


@pytest.mark.parametrize("name,a", [("bimodal", -0.5), ("bimodal", 2.0), ("laplace", -1.0),
                                    ("narrow+wide", 0.8)])
def test_fit_optima_are_reference_minima(name, a):
    p = TARGETS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = fit_gaussian(p, "alpha", alpha=a)
    assert fit.local_optima and fit.alpha == a
    for o in fit.local_optima:
        assert o.is_minimum and o.newton_step <= 1e-6 and o.direction == "alpha"
        assert o.kl == pytest.approx(_reference_minimum(p, o.q, a), rel=1e-9)


def test_bimodal_goes_from_mode_seeking_to_mass_covering():
    p = TARGETS["bimodal"]
    seeking = fit_gaussian(p, "alpha", alpha=-1.0).local_optima
    covering = fit_gaussian(p, "alpha", alpha=2.0).local_optima
    assert len(seeking) == 2 and all(abs(abs(o.q.mean) - 3) < 0.1 for o in seeking)
    assert len(covering) == 1 and abs(covering[0].q.mean) < 1e-9 and covering[0].q.std > 3


@pytest.mark.parametrize("a", [1e-6, 0.1])
def test_bridging_optimum_of_far_modes_is_found_for_alpha(a):
    p = TARGETS["far apart"]
    optima = fit_gaussian(p, "alpha", alpha=a).local_optima
    assert len(optima) == 3
    bridge = optima[2]
    assert abs(bridge.q.mean) <= 1e-6 * bridge.q.std and bridge.kl > 10
    want = reference.alpha_divergence(reference.spec(p), reference.spec(bridge.q), a)
    assert bridge.kl == pytest.approx(float(want), rel=1e-9)


def test_fit_near_the_boundary_is_a_true_interior_minimum():
    # α = 3 against a Gaussian mixture: finite only for σ > s·√(2/3); the optimum must be a
    # minimum of the true divergence, not of a truncated rule
    p = Mixture([Normal(0, 1), Normal(0, 3)], [0.95, 0.05])
    fit = fit_gaussian(p, "alpha", alpha=3.0)
    assert fit.is_minimum and fit.q.std > 3 * math.sqrt(2 / 3)
    assert fit.kl == pytest.approx(_reference_minimum(p, fit.q, 3.0), rel=1e-9)


def test_no_finite_fit_is_an_error_with_the_reason():
    with pytest.raises(NoFiniteFitError, match="too light"):
        fit_gaussian(TARGETS["student-t"], "alpha", alpha=2.0)
    with pytest.raises(ValueError):
        fit_gaussian(TARGETS["bimodal"], "reverse", alpha=0.5)
    with pytest.raises(ValueError):
        fit_gaussian(TARGETS["bimodal"], "alpha")


def test_alpha_zero_and_one_fits_are_the_kl_fits():
    p = TARGETS["bimodal"]
    for a, direction in ((0.0, "reverse"), (1.0, "forward")):
        fit = fit_gaussian(p, "alpha", alpha=a)
        kl = fit_gaussian(p, direction)
        assert fit.q.mean == pytest.approx(kl.q.mean, abs=1e-9 * kl.q.std)
        assert fit.q.std == pytest.approx(kl.q.std, rel=1e-9)
        assert fit.kl == pytest.approx(kl.kl, rel=1e-12)


def test_subnormal_alpha_is_the_kl_limit_reproducer():
    # hypothesis found α = 5e-324: a·(e^t − 1) and e^{a·t} − 1 were subnormal, D_α off by 18 %
    want, divergent = closed_form(0.0, 1.0, 0.0, 10.0, 5e-324)
    assert not divergent
    assert alpha_divergence(Normal(0.0, 1.0), Normal(0.0, 10.0), 5e-324) == pytest.approx(
        want, rel=1e-9)
