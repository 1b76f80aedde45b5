"""KL, cross-entropy, entropy and JS against independent references: the mpmath 40-digit reference
(tests/reference.py), scipy quad, closed forms; properties over random mixtures (hypothesis); the
infinite cases and their explanations; bad input."""

from __future__ import annotations

import functools
import math

import mpmath as mp
import numpy as np
import pytest
import reference
from conftest import quad_logpdf
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate

from explorer import (
    Categorical,
    Laplace,
    Mixture,
    Normal,
    StudentT,
    cross_entropy,
    entropy,
    js_divergence,
    kl_divergence,
    to_unit,
    why_infinite,
)
from explorer.divergences import gaussian_kl

LN2 = math.log(2.0)
BIMODAL = Mixture([Normal(-3, 1), Normal(3, 1)], weights=[0.5, 0.5])
FAR = Mixture([Normal(-20, 0.1), Normal(20, 0.1)])  # components 40 apart, std 0.1
SPIKE = Mixture([Normal(0, 1), Normal(0.5, 1e-3)], [0.7, 0.3])  # one 1000× narrower


def close(got: float, want, rel: float = 1e-9, abs_: float = 1e-12) -> None:
    want = float(want)
    assert math.isfinite(got), got
    assert abs(got - want) <= max(rel * abs(want), abs_), (got, want, got - want)


@functools.cache
def ref_kl(p, q):
    """The mpmath reference KL(p‖q) (cached: a few tests share cases, each costs seconds)."""
    with mp.workdps(30):  # 30 digits are plenty against a 1e-9 tolerance, and faster
        return reference.kl(reference.spec(p), reference.spec(q))


def quad_js(p, q):
    """JS(p‖q) by scipy quad from textbook densities, split at every component's scale multiples."""
    lp, lq = quad_logpdf(p), quad_logpdf(q)
    comps = [(getattr(c, "mean", None) if isinstance(c, Normal) else c.loc, c.scale)
             for d in (p, q) for c in getattr(d, "components", (d,))]
    pts = sorted({m + k * s for m, s in comps for k in (-40, -16, -8, -4, -2, -1, 0, 1, 2, 4, 8,
                                                          16, 40)})

    def f(x):
        a, b = lp(x), lq(x)
        m = np.logaddexp(a, b) - LN2
        return 0.5 * (math.exp(a) * (a - m) + math.exp(b) * (b - m))

    return math.fsum(integrate.quad(f, a, b, epsabs=1e-15, epsrel=1e-13, limit=500)[0]
                     for a, b in zip(pts, pts[1:], strict=False))


# --- closed forms ------------------------------------------------------------------------------
def test_gaussian_kl_closed_form_by_hand():
    # KL(N(m1,s1²)‖N(m2,s2²)) = log(s2/s1) + (s1² + (m1−m2)²)/(2 s2²) − 1/2
    for m1, s1, m2, s2 in [(0, 1, 0, 2), (1.5, 0.3, -2, 4), (0, 1e-3, 0, 1e3), (5, 2, 5, 2)]:
        want = math.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5
        assert gaussian_kl(m1, s1, m2, s2) == pytest.approx(want, rel=1e-14, abs=1e-15)
        assert kl_divergence(Normal(m1, s1), Normal(m2, s2)) == pytest.approx(want, rel=1e-14,
                                                                              abs=1e-15)
    # a one-component mixture goes through the quadrature path and must agree too
    assert kl_divergence(Mixture([Normal(1.5, 0.3)]), Mixture([Normal(-2, 4)])) == pytest.approx(
        gaussian_kl(1.5, 0.3, -2, 4), rel=1e-12)


def _mp_gaussian_kl(m1, s1, m2, s2) -> float:
    """The 1-D closed form at 700 digits from the floats as given (its terms cancel to the KL,
    which can be as small as 1e-300)."""
    with mp.workdps(700):
        m1, s1, m2, s2 = (mp.mpf(v) for v in (m1, s1, m2, s2))
        return float(mp.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - mp.mpf(1) / 2)


@settings(max_examples=300, deadline=None)
@given(m=st.floats(-1e3, 1e3), log_s=st.floats(math.log(1e-3), math.log(1e3)),
       dm=st.one_of(st.just(0.0), st.floats(-1e-6, 1e-6)),
       ds=st.one_of(st.just(0.0), st.floats(-1e-6, 1e-6), st.floats(-0.9, 5.0)))
def test_gaussian_kl_keeps_its_digits_where_p_and_q_nearly_agree(m, log_s, dm, ds):
    """KL(N(m, s²)‖N(m + dm·s, (s(1 + ds))²)) against the closed form at 700 digits, over
    locations ±1e3 and scales 1e-3–1e3: relative 1e-12 down to KLs of 1e-30 (the trace and log
    terms of the plain formula cancel: a KL of 5e-17 came out 0 or 1e-16)."""
    s = math.exp(log_s)
    m2, s2 = m + dm * s, s * (1.0 + ds)
    want = _mp_gaussian_kl(m, s, m2, s2)
    got = gaussian_kl(m, s, m2, s2)
    assert got >= 0.0
    assert got == pytest.approx(want, rel=1e-12, abs=1e-300)
    if want > 1e-290:  # KL > 0 for p ≠ q, wherever it is a float at all (not an underflow)
        assert got > 0.0
    if (m, s) == (m2, s2):
        assert got == 0.0


def test_gaussian_kl_of_nearly_equal_normals_by_hand():
    # s2 = 1 + 1e-9: KL ≈ (s2 − 1)² = 1e-18, which the plain formula put at 5.0e-19; a mean shift
    # of 1e-12 at 1e3 (1.023e-12 in floats) under s = 1e-3: KL = ½(shift/s)² = 5.2e-19
    for args in [(0.0, 1.0, 0.0, 1.0 + 1e-9), (1e3, 1e-3, 1e3 + 1e-12, 1e-3)]:
        assert gaussian_kl(*args) == pytest.approx(_mp_gaussian_kl(*args), rel=1e-12, abs=0.0)
    assert gaussian_kl(0.0, 1.0, 0.0, 1.0 + 1e-9) == pytest.approx(1e-18, rel=1e-6, abs=0.0)
    assert kl_divergence(Normal(0, 1), Normal(0, 1 + 1e-9)) > 0.0


def test_kl_is_asymmetric_with_known_values():
    # N(0,1) vs N(0,2): ln 2 + 1/8 − 1/2 and −ln 2 + 2 − 1/2
    assert kl_divergence(Normal(0, 1), Normal(0, 2)) == pytest.approx(LN2 - 0.375, rel=1e-14)
    assert kl_divergence(Normal(0, 2), Normal(0, 1)) == pytest.approx(1.5 - LN2, rel=1e-14)


def test_units_bits_are_nats_over_ln2():
    nats = kl_divergence(BIMODAL, Normal(0, 3))
    assert kl_divergence(BIMODAL, Normal(0, 3), unit="bits") == pytest.approx(nats / LN2, rel=1e-15)
    assert kl_divergence(Normal(0, 3), BIMODAL, unit="bits") == pytest.approx(
        kl_divergence(Normal(0, 3), BIMODAL) / LN2, rel=1e-15)
    assert to_unit(1.0, "bits") == pytest.approx(1 / LN2)
    assert to_unit(2.5) == 2.5
    assert entropy(Normal(0, 1), unit="bits") == pytest.approx(
        0.5 * math.log2(2 * math.pi * math.e), rel=1e-14)
    assert js_divergence(Normal(-50, 1), Normal(50, 1), unit="bits") == pytest.approx(1.0,
                                                                                      rel=1e-12)


# --- accuracy against the mpmath reference, hard cases included --------------------------------
HARD = {
    "bimodal‖N(0,3)": (BIMODAL, Normal(0.0, 3.0)),
    "N(0,3)‖bimodal": (Normal(0.0, 3.0), BIMODAL),
    "40 apart sd 0.1 ‖ N(0,20)": (FAR, Normal(0, 20)),
    "N(0,20) ‖ 40 apart sd 0.1": (Normal(0, 20), FAR),
    "1000x narrower component ‖ N": (SPIKE, Normal(0, 1)),
    "N ‖ 1000x narrower component": (Normal(0, 1), SPIKE),
    "q much wider": (Mixture([Normal(-1, 1), Normal(2, 0.5)]), Normal(0, 1000)),
    "q much narrower": (Normal(0.3, 1e-3), Mixture([Normal(-1, 1), Normal(2, 0.5)])),
    "t5 ‖ N": (StudentT(0, 1, 5), Normal(0.5, 1.2)),
    "t3 ‖ Laplace": (StudentT(0, 1, 3), Laplace(0.2, 1.1)),
    "Laplace mixture ‖ N": (Mixture([Laplace(-2, 1), Normal(2, 0.5)]), Normal(0, 2)),
}


@pytest.mark.parametrize("case", list(HARD))
def test_kl_matches_mpmath_reference(case):
    p, q = HARD[case]
    close(kl_divergence(p, q), ref_kl(p, q))


def test_far_mixture_vs_far_mixture_matches_quad(quad_reference):
    q = Mixture([Normal(-19.9, 0.12), Normal(20.05, 0.09)], [0.4, 0.6])
    close(kl_divergence(FAR, q), quad_reference(FAR, q))
    close(kl_divergence(q, FAR), quad_reference(q, FAR))


def test_mixtures_sharing_a_component_up_to_rounding():
    # weights equal up to one ulp once normalised: log p's dominant component "switches" back and
    # forth between the twin components by rounding alone (this used to crash brentq)
    p = Mixture([Normal(0.0, 1.0), Normal(0.0, 3.0)], [0.125, 1.0])
    same = Mixture([Normal(0.0, 1.0), Normal(0.0, 3.0)], [0.125 * (1 + 2**-52), 1.0])
    assert p.weights != same.weights
    assert js_divergence(p, same) <= 1e-15
    twins = Mixture([Normal(0, 3), Normal(0, 1), Normal(0, 3)], [4, 1, 4])
    assert twins.entropy == pytest.approx(p.entropy, rel=1e-13)


def test_single_component_target_kl_is_zero():
    for p, q in [(Mixture([Normal(1, 2)]), Normal(1, 2)),
                 (Normal(1, 2), Mixture([Normal(1, 2)])),
                 (Mixture([Normal(-3, 1), Normal(-3, 1)], [0.2, 0.8]), Normal(-3, 1)),
                 (Mixture([Laplace(1, 0.5)]), Laplace(1, 0.5)),
                 (StudentT(0, 1, 0.5), Mixture([StudentT(0, 1, 0.5)]))]:
        got = kl_divergence(p, q)
        assert 0.0 <= got <= 1e-12, (p, q, got)
    assert float(ref_kl(Mixture([Normal(1, 2)]), Normal(1, 2))) == pytest.approx(0, abs=1e-30)


def test_entropy_and_cross_entropy_match_mpmath():
    p, q = BIMODAL, Normal(0.0, 3.0)
    h = reference.entropy(reference.spec(p))
    close(entropy(p), h, rel=1e-12)
    close(cross_entropy(p, q), h + ref_kl(p, q), rel=1e-12)
    # cross entropy to a non-Gaussian q goes through the quadrature path
    h_q = 0.5 * math.log(2 * math.pi * math.e * 9.0)
    close(cross_entropy(q, p), h_q + ref_kl(q, p), rel=1e-12)
    close(cross_entropy(q, p, unit="bits"), (h_q + ref_kl(q, p)) / mp.log(2), rel=1e-12)


def test_js_matches_mpmath_and_quad():
    p, q = Normal(0, 1), Laplace(1.5, 0.5)
    want = reference.js(reference.spec(p), reference.spec(q))
    close(js_divergence(p, q), want, rel=1e-10)
    close(js_divergence(q, p, unit="bits"), want / mp.log(2), rel=1e-10)
    close(js_divergence(BIMODAL, Normal(0, 3)), quad_js(BIMODAL, Normal(0, 3)), rel=1e-10)
    close(js_divergence(FAR, Normal(0, 20)), quad_js(FAR, Normal(0, 20)), rel=1e-10)


def test_entropy_of_components_closed_forms():
    assert entropy(Normal(0, 0.1)) == pytest.approx(0.5 * math.log(2 * math.pi * math.e * 0.01))
    assert entropy(Laplace(3, 2)) == pytest.approx(1 + math.log(4))
    # Cauchy: log(4π·scale)
    assert entropy(StudentT(0, 2, 1)) == pytest.approx(math.log(8 * math.pi), rel=1e-14)


# --- heavy tails: t against t has no closed form; integrate to ±∞ in log-space tails --------------
def _full_line_kl(p, q, dps=30, decay=None):
    """KL(p‖q) over the whole line in mpmath: a central part split at both components' centres and
    scale multiples, and the tails |x| > A as ∫ over u = log|x| to ∞, where a power-law density
    decays exponentially (so nothing is cut off, however heavy the tail)."""
    sp, sq = reference.spec(p), reference.spec(q)
    with mp.workdps(dps):
        def f(x):
            lp = reference.logpdf(sp, x)
            return mp.exp(lp) * (lp - reference.logpdf(sq, x))

        comps = [(c[2], c[3]) for c in sp + sq]
        a = 64 * max(s for _, s in comps) + max(abs(m) for m, _ in comps)
        pts = sorted({mp.mpf(m) + k * mp.mpf(s) for m, s in comps
                      for k in (-16, -4, -1, -0.25, 0, 0.25, 1, 4, 16)} | {-a, a})
        mid = mp.fsum(mp.quad(f, [lo, hi]) for lo, hi in zip(pts, pts[1:], strict=False))
        # the tail integrand decays like e^(-decay·u) (decay = ν, or ν − 2 against Gaussian
        # tails of q): beyond u = log a + 50/decay it is below e^-50 (every p here has a t part)
        la = mp.log(a)
        rate = decay or min(c[4] for c in sp if c[1] == "t")
        ends = [la + k for k in (0, 2, 5, 10, 20, 40, 80, 160, 320, 640) if k < 50 / rate]
        tail = mp.quad(lambda u: (f(mp.exp(u)) + f(-mp.exp(u))) * mp.exp(u),
                       [*ends, la + 50 / rate])
        return mid + tail


@pytest.mark.parametrize(("p", "q"), [
    (StudentT(0, 1, 1.5), StudentT(1, 2, 3)),
    (StudentT(0, 1, 3), StudentT(0, 1, 1)),
    (StudentT(0, 1, 0.5), StudentT(0, 2, 0.5)),
    (StudentT(0, 1, 0.1), StudentT(0.5, 2, 0.1)),
    (StudentT(-1, 0.5, 0.7), Mixture([StudentT(1, 1, 0.7), Normal(0, 1)], [0.9, 0.1])),
    # q's t component sets its tails: −log q grows like log|x| though q is mostly Gaussian
    (StudentT(0, 1, 1.5), Mixture([Normal(0, 1), StudentT(0, 1, 5)], [0.99, 0.01])),
])
def test_student_t_vs_student_t_is_finite_and_accurate(p, q):
    got = kl_divergence(p, q)
    assert why_infinite(p, q) is None
    close(got, _full_line_kl(p, q))


# --- infinite divergences -----------------------------------------------------------------------
@pytest.mark.parametrize("df", [0.5, 1.0, 1.5, 2.0])
def test_student_t_nu_le_2_against_any_gaussian_is_infinite(df):
    p = StudentT(0, 1, df)
    for q in (Normal(0, 1), Normal(3, 100), Mixture([Normal(-1, 1), Normal(1, 5)])):
        assert kl_divergence(p, q) == math.inf
        assert kl_divergence(p, q, unit="bits") == math.inf
        assert cross_entropy(p, q) == math.inf
        text = why_infinite(p, q)
        assert f"ν = {df:g} ≤ 2" in text
        assert "variance is infinite" in text and "Gaussian tails" in text
    # a heavy component with any weight is enough
    mix = Mixture([Normal(0, 1), StudentT(5, 1, df)], [0.999, 0.001])
    assert kl_divergence(mix, Normal(0, 1)) == math.inf
    # ... but the other direction is finite: a Gaussian q has every moment
    rev = kl_divergence(Normal(0, 1), p)
    assert math.isfinite(rev) and rev > 0
    assert why_infinite(Normal(0, 1), p) is None


def test_student_t_just_above_2_is_finite():
    # E_p[x²] converges slowly (tail ~ X^-0.5): integrate the tails to where they are e^-50
    p, q = StudentT(0, 1, 2.5), Normal(0, 2)
    assert why_infinite(p, q) is None
    close(kl_divergence(p, q), _full_line_kl(p, q, decay=0.5))


@pytest.mark.parametrize("df", [0.3, 1.0])
def test_student_t_nu_le_1_against_laplace_is_infinite(df):
    p, q = StudentT(0, 1, df), Laplace(0, 1)
    assert kl_divergence(p, q) == math.inf
    text = why_infinite(p, q)
    assert f"ν = {df:g} ≤ 1" in text and "mean is infinite" in text and "Laplace" in text
    # with 1 < ν ≤ 2 the Laplace q is fine (only a mean is needed) while a Gaussian q is not
    p2 = StudentT(0, 1, 1.5)
    assert math.isfinite(kl_divergence(p2, q)) and why_infinite(p2, q) is None
    assert kl_divergence(p2, Normal(0, 1)) == math.inf


def test_zero_weight_heavy_component_does_not_make_kl_infinite():
    p = Mixture([Normal(0, 1), StudentT(0, 1, 1.0)], [1.0, 0.0])
    assert kl_divergence(p, Normal(0, 1)) == pytest.approx(0, abs=1e-15)


def test_finite_cases_have_no_explanation():
    assert why_infinite(BIMODAL, Normal(0, 3)) is None
    assert why_infinite(StudentT(0, 1, 1), StudentT(0, 1, 30)) is None


# --- properties over random mixtures (hypothesis, checked against scipy quad) -----------------
def _normal_mixtures(max_k=3):
    comp = st.builds(Normal, st.floats(-8, 8), st.floats(0.05, 4.0))
    return st.lists(st.tuples(comp, st.floats(0.05, 1.0)), min_size=1, max_size=max_k).map(
        lambda cw: Mixture([c for c, _ in cw], [w for _, w in cw]))


def _mixtures(max_k=3):
    comp = st.one_of(
        st.builds(Normal, st.floats(-8, 8), st.floats(0.05, 4.0)),
        st.builds(Laplace, st.floats(-8, 8), st.floats(0.05, 4.0)),
        st.builds(StudentT, st.floats(-8, 8), st.floats(0.05, 4.0), st.floats(3.0, 30.0)),
    )
    return st.lists(st.tuples(comp, st.floats(0.05, 1.0)), min_size=1, max_size=max_k).map(
        lambda cw: Mixture([c for c, _ in cw], [w for _, w in cw]))


@settings(max_examples=40, deadline=None)
@given(p=_normal_mixtures(), q=_normal_mixtures())
def test_kl_of_random_mixtures_matches_quad(p, q, quad_reference):
    got = kl_divergence(p, q)
    assert got >= 0.0
    close(got, quad_reference(p, q), rel=1e-9, abs_=1e-11)


@settings(max_examples=40, deadline=None)
@given(p=_mixtures(), q=_mixtures())
def test_kl_is_nonnegative_and_cross_entropy_is_entropy_plus_kl(p, q):
    kl = kl_divergence(p, q)
    assert math.isfinite(kl) and kl >= 0.0
    ce = cross_entropy(p, q)
    assert ce == pytest.approx(entropy(p) + kl, rel=1e-11, abs=1e-11)
    js = js_divergence(p, q)
    assert 0.0 <= js <= LN2
    assert js == pytest.approx(js_divergence(q, p), rel=1e-12, abs=1e-14)
    # JS ≤ ½KL(p‖m)+½KL(q‖m) ≤ ¼(KL(p‖q)+KL(q‖p)) (convexity of KL in its second argument)
    assert js <= 0.25 * (kl + kl_divergence(q, p)) + 1e-12


@settings(max_examples=40, deadline=None)
@given(p=_mixtures(), perm_seed=st.integers(0, 2**31 - 1), scale=st.floats(0.1, 10.0))
def test_kl_is_zero_for_equal_distributions(p, perm_seed, scale):
    order = np.random.default_rng(perm_seed).permutation(len(p.components))
    same = Mixture([p.components[i] for i in order], [scale * p.weights[i] for i in order])
    assert kl_divergence(p, p) <= 1e-12
    assert kl_divergence(p, same) <= 1e-12
    assert kl_divergence(same, p) <= 1e-12
    assert js_divergence(p, same) <= 1e-12


@settings(max_examples=40, deadline=None)
@given(p=_normal_mixtures(), i=st.integers(0, 2), dm=st.floats(0.05, 2.0),
       ds=st.floats(1.1, 2.0))
def test_kl_is_positive_for_different_distributions(p, i, dm, ds):
    comps = list(p.components)
    c = comps[i % len(comps)]
    comps[i % len(comps)] = Normal(c.mean + dm * c.std, c.std * ds)
    q = Mixture(comps, p.weights)
    assert kl_divergence(p, q) > 0 and kl_divergence(q, p) > 0
    assert js_divergence(p, q) > 0


def test_js_bounds():
    far = js_divergence(Normal(-1000, 1), Normal(1000, 1))
    assert far == pytest.approx(LN2, abs=1e-12)
    assert js_divergence(BIMODAL, BIMODAL) == pytest.approx(0, abs=1e-15)


# --- bad input ---------------------------------------------------------------------------------
def test_unknown_unit_is_rejected():
    for fn in (kl_divergence, cross_entropy, js_divergence):
        with pytest.raises(ValueError, match=r"unit must be one of \['bits', 'nats'\], got 'bans'"):
            fn(Normal(0, 1), Normal(0, 2), unit="bans")
    with pytest.raises(ValueError, match="unit must be one of"):
        entropy(Normal(0, 1), unit="nat")
    with pytest.raises(ValueError, match="unit must be one of"):
        to_unit(1.0, "BITS")


def test_comparing_a_categorical_with_a_density_is_rejected():
    with pytest.raises(ValueError, match="a Categorical can only be compared with another"):
        kl_divergence(Categorical([0.5, 0.5]), Normal(0, 1))
    with pytest.raises(ValueError, match="expected a Normal, StudentT, Laplace or Mixture"):
        kl_divergence(Normal(0, 1), "N(0, 1)")
