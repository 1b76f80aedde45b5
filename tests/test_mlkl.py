"""Numerics of /rlhf, /estimators and /distill against independent references: hand formulas,
brute force over the simplex (scipy.optimize), the closed forms for N(0,1) vs N(μ,1), Schulman's
published table, finite differences, and hypothesis properties over wide ranges."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, stats

from explorer.discrete import Categorical
from explorer.distill import (
    OBJECTIVES,
    fit_student,
    soft_log_targets,
    soft_loss_gradient,
    student,
    t2_curve,
)
from explorer.estimators import (
    discrete_exact,
    gaussian_exact,
    gaussian_log_ratios,
    gradient_check,
    k_values,
    summarise,
    why_k3_infinite,
)
from explorer.rlhf import (
    bradley_terry,
    dpo_loss,
    frontier,
    frontier_ends,
    implicit_reward,
    objective,
    tilt,
    tilted_log_policy,
    tilted_policy,
)

REF = Categorical([0.35, 0.25, 0.2, 0.05, 0.15], ["a", "b", "c", "d", "e"])
R = [1.0, 1.4, 0.2, 2.5, -1.0]


# --- RLHF ----------------------------------------------------------------------------------------
def test_tilted_policy_by_hand():
    w = [p * math.exp(r / 0.5) for p, r in zip(REF.probs, R, strict=True)]
    z = math.fsum(w)
    pol = tilted_policy(REF, R, 0.5)
    assert pol.probs == pytest.approx([x / z for x in w], rel=1e-12)
    t = tilt(REF, R, 0.5)
    assert t.objective == pytest.approx(0.5 * math.log(z), rel=1e-12)
    # Gibbs: J(π*) = E[r] − β KL = β log Z
    assert t.expected_reward - 0.5 * t.kl == pytest.approx(t.objective, rel=1e-12)


@pytest.mark.parametrize("beta", [0.05, 0.3, 1.0, 7.0])
def test_tilted_policy_beats_brute_force_over_the_simplex(beta):
    def neg(x):  # softmax parameterisation of the simplex
        p = np.exp(x - x.max())
        return -objective(Categorical(p / p.sum()), REF, R, beta)

    best = min((optimize.minimize(neg, x0, method="Nelder-Mead",
                                  options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000})
                for x0 in np.random.default_rng(1).normal(size=(4, 5))), key=lambda r: r.fun)
    t = tilt(REF, R, beta)
    assert -best.fun <= t.objective + 1e-9
    assert -best.fun == pytest.approx(t.objective, abs=1e-6)


def test_frontier_ends_and_monotonicity():
    betas, kls, rewards = frontier(REF, R)
    ends = frontier_ends(REF, R)
    assert np.all(np.diff(kls) <= 1e-12) and np.all(np.diff(rewards) <= 1e-12)
    assert kls[0] == pytest.approx(-math.log(0.05), rel=1e-9)  # β = 1e-3: all on "d"
    assert ends["kl_hack"] == pytest.approx(-math.log(0.05))
    assert rewards[0] == pytest.approx(2.5) and rewards[-1] == pytest.approx(ends["reward_ref"],
                                                                             abs=1e-3)
    assert ends["reward_ref"] == pytest.approx(0.35 + 0.35 + 0.04 + 0.125 - 0.15)


def test_dpo_implicit_reward_is_the_reward_up_to_a_constant():
    beta = 0.01  # π* underflows for most responses; log space keeps the identity exact
    lp = tilted_log_policy(REF, R, beta)
    h = implicit_reward(lp, REF, beta)
    assert np.ptp(np.asarray(R) - h) < 1e-9
    assert dpo_loss(lp, REF, beta, 3, 0) == pytest.approx(-math.log(1 / (1 + math.exp(-1.5))))
    assert dpo_loss(np.log(REF.p), REF, beta, 0, 1) == pytest.approx(math.log(2))
    assert bradley_terry(1.0, 1.4) == pytest.approx(1 / (1 + math.exp(0.4)))


@settings(max_examples=60, deadline=None)
@given(st.floats(1e-3, 1e3), st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=10),
       st.data())
def test_tilt_is_finite_and_normalised_for_any_beta_and_reward(beta, rewards, data):
    refs = data.draw(st.lists(st.floats(1e-6, 1e3), min_size=len(rewards),
                              max_size=len(rewards)))
    ref = Categorical(refs)
    t = tilt(ref, rewards, beta)
    assert math.isfinite(t.kl) and t.kl >= 0 and math.isfinite(t.objective)
    assert math.fsum(t.policy.probs) == pytest.approx(1.0)
    assert t.expected_reward <= max(rewards) + 1e-9
    assert t.objective >= float(np.dot(ref.p, rewards)) - 1e-9 * (1 + max(map(abs, rewards)))


def test_rlhf_rejects_bad_input_naming_the_field():
    with pytest.raises(ValueError, match=r"reward\[1\]"):
        tilt(REF, [1, math.nan, 0, 0, 0], 1.0)
    with pytest.raises(ValueError, match="π_ref"):
        tilt(Categorical([1, 0]), [1, 2], 1.0)
    with pytest.raises(ValueError, match="β"):
        tilt(REF, R, 0.0)


# --- estimators ----------------------------------------------------------------------------------
def test_gaussian_closed_forms_match_schulmans_table():
    # his table: μ = 0.1 (KL 0.005): k1 sd/KL 20, k2 bias 0.002/0.005, sd 1.42; k3 sd 1.42
    m = gaussian_exact(0.1)
    assert m.kl == pytest.approx(0.005)
    assert m.sd["k1"] / m.kl == pytest.approx(20)
    assert (m.mean["k2"] - m.kl) / m.kl == pytest.approx(0.0025 / 1, rel=1e-9)
    assert m.sd["k2"] / m.kl == pytest.approx(1.42, abs=0.005)
    assert m.sd["k3"] / m.kl == pytest.approx(1.42, abs=0.005)
    m = gaussian_exact(1.0)  # μ = 1: k1 2, k2 bias 0.25 sd 1.73, k3 sd 1.7
    assert (m.sd["k1"] / m.kl, (m.mean["k2"] - m.kl) / m.kl) == pytest.approx((2.0, 0.25))
    assert (m.sd["k2"] / m.kl, m.sd["k3"] / m.kl) == pytest.approx((1.73, 1.70), abs=0.006)


@pytest.mark.parametrize("mu", [0.3, 1.0, 2.0])
def test_gaussian_moments_by_quadrature(mu):
    x = np.linspace(-12, 12, 200001)
    w = stats.norm.pdf(x) * (x[1] - x[0])
    ks = k_values(mu * x - mu * mu / 2)
    m = gaussian_exact(mu)
    for k, v in zip(("k1", "k2", "k3"), ks, strict=True):
        mean = float((w * v).sum())
        assert mean == pytest.approx(m.mean[k], rel=1e-7)
        assert math.sqrt(float((w * (v - mean) ** 2).sum())) == pytest.approx(m.sd[k], rel=1e-6)
    assert m.negative["k1"] == pytest.approx(float(w[ks[0] < 0].sum()), abs=1e-4)


def test_sampled_estimates_agree_with_the_exact_ones_and_are_reproducible():
    lr = gaussian_log_ratios(1.0, 100, 2000, seed=3)
    s, m = summarise(lr), gaussian_exact(1.0)
    for k in ("k1", "k2", "k3"):  # 2000 repeats: mean within 5 standard errors
        assert abs(s.mean[k] - m.mean[k]) < 5 * m.sd[k] / math.sqrt(100 * 2000)
        assert s.sd[k] == pytest.approx(m.sd[k] / 10, rel=0.1)
    assert s.negative["k1"] == pytest.approx(m.neg_n(100)["k1"], abs=0.01)
    assert s.negative["k2"] == s.negative["k3"] == 0.0
    assert np.array_equal(lr, gaussian_log_ratios(1.0, 100, 2000, seed=3))


def test_discrete_exact_by_hand_sums():
    q, p = np.array([0.5, 0.3, 0.2]), np.array([0.2, 0.3, 0.5])
    m = discrete_exact(np.log(q), np.log(p))
    r = p / q
    k3 = r - 1 - np.log(r)
    assert m.kl == pytest.approx(float(np.sum(q * np.log(q / p))))
    assert m.mean["k3"] == pytest.approx(m.kl)
    assert m.sd["k3"] == pytest.approx(math.sqrt(np.sum(q * k3**2) - np.sum(q * k3) ** 2))
    assert m.negative["k1"] == pytest.approx(0.2)  # p > q only at the third outcome


def test_k3_is_infinite_not_nan_when_r_overflows_and_accurate_when_r_is_near_1():
    k1, k2, k3 = k_values(np.array([1000.0, -1000.0, 1e-9, -1e-6]))
    assert k3[0] == math.inf and k3[1] == pytest.approx(999.0)
    assert k3[2] == pytest.approx(0.5e-18, rel=1e-9) and k3[3] == pytest.approx(0.5e-12, rel=1e-5)
    assert not np.isnan(k3).any()
    assert "exceeds the largest float" in why_k3_infinite(np.array([1000.0]))
    assert why_k3_infinite(np.array([3.0])) is None


@settings(max_examples=80, deadline=None)
@given(st.floats(-1e3, 1e3))
def test_k3_never_negative_and_never_nan(lr):
    k1, k2, k3 = k_values(np.array([lr]))
    assert k3[0] >= 0 and not math.isnan(k3[0]) and k2[0] >= 0


def test_gradient_trap_k1_zero_k3_forward():
    q, p = np.array([0.5, 0.3, 0.2]), np.array([0.2, 0.3, 0.5])
    g = gradient_check(np.log(q), np.log(p))

    def kl(a, b):
        return float(np.sum(a * np.log(a / b)))

    def soft(th):
        e = np.exp(th - th.max())
        return e / e.sum()

    th, eps = np.log(q), 1e-6
    fwd = [(kl(p, soft(th + eps * e)) - kl(p, soft(th - eps * e))) / (2 * eps) for e in np.eye(3)]
    rev = [(kl(soft(th + eps * e), p) - kl(soft(th - eps * e), p)) / (2 * eps) for e in np.eye(3)]
    assert np.abs(g["k1"]).max() < 1e-15
    assert g["k3"] == pytest.approx(fwd, abs=1e-8)
    assert g["reverse"] == pytest.approx(rev, abs=1e-8)
    assert np.abs(g["k3"] - g["reverse"]).max() > 0.05


# --- distillation --------------------------------------------------------------------------------
Z = [1.0, 2.0, 10.0, 6.0, 1.0, 0.0, 1.0, 5.5, 2.0, 1.0]


@pytest.mark.parametrize("direction", ["forward", "reverse"])
def test_student_objectives_match_finite_differences_and_direct_sums(direction):
    lt = soft_log_targets(Z, 2.0)
    theta = np.array([[3.3, 0.2], [7.1, -0.5], [-2.0, 1.5]])
    f, g, h = OBJECTIVES[direction](lt, theta)
    t = np.exp(lt)
    for i, (mu, ls) in enumerate(theta):
        s = np.array(student(mu, math.exp(ls), [str(k) for k in range(10)]).probs)
        direct = np.sum(t * np.log(t / s)) if direction == "forward" else np.sum(
            s * np.log(s / t))
        assert f[i] == pytest.approx(direct, rel=1e-9)
    eps = 1e-5
    for j in range(2):
        d = np.zeros(2)
        d[j] = eps
        fp, gp, _ = OBJECTIVES[direction](lt, theta + d)
        fm, gm, _ = OBJECTIVES[direction](lt, theta - d)
        assert g[:, j] == pytest.approx((fp - fm) / (2 * eps), rel=1e-6, abs=1e-9)
        assert h[:, :, j] == pytest.approx((gp - gm) / (2 * eps), rel=1e-5, abs=1e-8)


def test_fits_are_certified_minima_checked_by_brute_force():
    fwd, rev = fit_student(Z, 2.0, "forward"), fit_student(Z, 2.0, "reverse")
    assert len(fwd) == 1 and len(rev) >= 2
    assert [f.kl for f in rev] == sorted(f.kl for f in rev)
    lt = soft_log_targets(Z, 2.0)
    # a fine grid over (μ, log σ) finds no lower forward KL than the fit
    mus, lss = np.linspace(-3, 12, 301), np.linspace(-2.5, 2.5, 201)
    grid = np.array([[m, s] for m in mus for s in lss])
    assert OBJECTIVES["forward"](lt, grid)[0].min() >= fwd[0].kl - 1e-9
    assert OBJECTIVES["reverse"](lt, grid)[0].min() >= rev[0].kl - 1e-9
    # mass-covering vs mode-seeking: the forward student is the wider one
    assert fwd[0].sigma > rev[0].sigma
    assert round(rev[0].mu) == 2 and round(rev[1].mu) == 7  # one optimum per mode
    for f in rev:  # each reverse optimum is a local minimum: every neighbour is worse
        th = np.array([[f.mu, math.log(f.sigma)]]) + 1e-3 * np.array(
            [[1, 0], [-1, 0], [0, 1], [0, -1]])
        assert (OBJECTIVES["reverse"](lt, th)[0] > f.kl_reverse).all()


def test_t2_rule_high_temperature_asymptote():
    z = (np.array(Z) - np.mean(Z)) / 10  # small logits: z/T ≪ 1, where the limit holds
    v = z / 2
    for t, tol in ((50.0, 0.02), (20.0, 0.05)):  # first-order error ~ max|z|/T
        g = soft_loss_gradient(z, v, t)
        asym = (v - z) / (len(z) * t * t)
        assert np.abs(g - asym).max() <= tol * np.abs(asym).max()
    ts = np.array([5.0, 10.0, 20.0, 40.0])
    plain, scaled = t2_curve(z, v, ts)
    assert plain[-1] / plain[-2] == pytest.approx(0.25, rel=0.05)  # 1/T²
    assert scaled[-1] / scaled[-2] == pytest.approx(1.0, rel=0.05)


def test_soft_loss_gradient_by_finite_differences():
    z, v, t = np.array(Z), np.array(Z) / 3, 1.7

    def loss(v):
        a, b = soft_log_targets(z, t), soft_log_targets(v, t)
        return float(np.sum(np.exp(a) * (a - b)))

    num = [(loss(v + 1e-6 * e) - loss(v - 1e-6 * e)) / 2e-6 for e in np.eye(len(z))]
    assert soft_loss_gradient(z, v, t) == pytest.approx(num, abs=1e-8)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=12), st.floats(0.1, 20))
def test_student_fits_never_nan_for_wide_logits(z, t):
    for direction in ("forward", "reverse"):
        for f in fit_student(z, t, direction):
            assert all(math.isfinite(x) for x in (f.mu, f.sigma, f.kl_forward, f.kl_reverse))
            assert f.kl >= 0
