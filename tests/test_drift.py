"""Drift estimators (explorer.drift, drift_noise, samples) against known truths and hand sums."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from explorer import Mixture, Normal, StudentT
from explorer.drift import (
    Options,
    bin_edges,
    binned,
    check_sample,
    estimates,
    knn_kl,
    psi_reading,
)
from explorer.drift_noise import bias_curve, bootstrap, permutation_null
from explorer.mle import sample
from explorer.samples import drifted, numeric_column, pick_column, read_csv


def normal_kl(m1, s1, m2, s2):
    """KL(N(m1, s1²) ‖ N(m2, s2²)), the textbook closed form (written here, not imported)."""
    return math.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5


def test_binned_kl_js_psi_by_hand():
    # bins (−∞,1), [1,2), [2,∞): reference counts 2,1,1 and live counts 1,1,2
    ref = np.array([0.0, 0.5, 1.5, 2.5])
    live = np.array([0.2, 1.2, 2.2, 3.0])
    b = binned(ref, live, edges=np.array([-np.inf, 1.0, 2.0, np.inf]))
    p, q = np.array([0.5, 0.25, 0.25]), np.array([0.25, 0.25, 0.5])
    assert b.ref_counts.tolist() == [2, 1, 1] and b.live_counts.tolist() == [1, 1, 2]
    kl_pq = 0.5 * math.log(2) + 0.25 * math.log(0.5)
    assert b.kl_ref_live == pytest.approx(kl_pq, rel=1e-15)
    assert b.kl_live_ref == pytest.approx(0.25 * math.log(0.5) + 0.5 * math.log(2), rel=1e-15)
    assert b.psi == pytest.approx(sum((p - q) * np.log(p / q)), rel=1e-14)
    m = (p + q) / 2
    js = 0.5 * sum(p * np.log(p / m)) + 0.5 * sum(q * np.log(q / m))
    assert b.js == pytest.approx(js, rel=1e-14)
    assert b.contributions().sum() == pytest.approx(b.psi, rel=1e-14)


def test_empty_bin_is_infinite_with_the_bin_named_and_smoothing_makes_it_finite():
    ref = np.array([0.0, 0.5, 1.5, 2.5, 2.7])
    live = np.array([0.2, 0.3, 2.2, 3.0, 2.9])  # nothing in [1, 2)
    edges = np.array([-np.inf, 1.0, 2.0, np.inf])
    b = binned(ref, live, edges=edges)
    assert b.kl_ref_live == math.inf and b.psi == math.inf and b.kl_live_ref < math.inf
    assert "live sample has no value in bin [1, 2)" in b.why_infinite()
    assert np.isinf(b.contributions()[1]) and np.isfinite(b.contributions()[[0, 2]]).all()
    s = binned(ref, live, eps=0.01, edges=edges)
    assert math.isfinite(s.kl_ref_live) and s.why_infinite() is None
    # additive smoothing: (P + ε) / (1 + Kε)
    assert s.live_probs[1] == pytest.approx(0.01 / 1.03, rel=1e-15)


def test_binnings():
    rng = np.random.default_rng(0)
    ref, live = rng.normal(size=1000), rng.normal(0.5, 1, 800)
    q = bin_edges(ref, live, "quantile", 10)
    assert q.size == 11 and q[0] == -np.inf and q[-1] == np.inf
    counts = binned(ref, live, edges=q).ref_counts
    assert counts.tolist() == [100] * 10  # deciles of the reference
    w = bin_edges(ref, live, "equal-width", 8)
    assert np.allclose(np.diff(w[1:-1]), (max(ref.max(), live.max()) - min(ref.min(),
                                                                          live.min())) / 8)
    fd = bin_edges(ref, live, "fd")
    iqr = np.subtract(*np.quantile(ref, [0.75, 0.25]))
    assert np.diff(fd[1:-1])[0] <= 2 * iqr * 1000 ** (-1 / 3) + 1e-12
    with pytest.raises(ValueError, match="interquartile range"):
        bin_edges(np.r_[np.zeros(80), np.arange(20.0)], live, "fd")
    with pytest.raises(ValueError, match=r"bins must be a whole number in \[2, 200\]"):
        bin_edges(ref, live, "quantile", 1)
    tied = np.r_[np.zeros(500), rng.normal(size=500)]  # half the reference is one value
    assert bin_edges(tied, live, "quantile", 10).size < 11  # coinciding edges merged


def test_binned_kl_converges_below_the_true_kl():
    # fixed bins lose information: the binned KL of the exact bin probabilities is ≤ the true
    # KL, and the plug-in estimate at large n approaches the binned value, not the true one
    edges = np.array([-np.inf, *np.linspace(-2, 3, 9), np.inf])
    pb = np.diff(stats.norm(0, 1).cdf(edges))
    qb = np.diff(stats.norm(1, 1.5).cdf(edges))
    binned_truth = float(np.sum(pb * np.log(pb / qb)))
    assert binned_truth < normal_kl(0, 1, 1, 1.5)
    rng = np.random.default_rng(3)
    est = binned(rng.normal(0, 1, 100_000), rng.normal(1, 1.5, 100_000), edges=edges)
    assert est.kl_ref_live == pytest.approx(binned_truth, abs=0.01)


def test_knn_converges_at_n_10000():
    truth = normal_kl(0, 1, 1, 1.5)  # 0.3499
    errors = []
    for seed in range(5):
        rng = np.random.default_rng(seed)
        errors.append(knn_kl(rng.normal(0, 1, 10_000), rng.normal(1, 1.5, 10_000)).value - truth)
    assert abs(np.mean(errors)) < 0.02  # sd of one estimate ≈ 0.02 here
    rng = np.random.default_rng(9)
    x, y = rng.normal(0, 2, 10_000), rng.normal(0, 2, 10_000)
    assert abs(knn_kl(x, y, k=5).value) < 0.02  # no drift


def test_knn_on_a_mixture_against_quad():
    p = Mixture([Normal(-3, 1), Normal(3, 1)], [0.5, 0.5])
    q = Mixture([Normal(-2.5, 1), Normal(3.5, 1.2)], [0.6, 0.4])

    def integrand(x):
        lp, lq = p.logpdf(x), q.logpdf(x)
        return float(np.exp(lp) * (lp - lq))

    truth = integrate.quad(integrand, -30, 30, epsabs=1e-13, limit=200)[0]
    vals = [knn_kl(sample(p, 10_000, s), sample(q, 10_000, s + 100), k=3).value for s in range(4)]
    assert np.mean(vals) == pytest.approx(truth, abs=0.02)


def test_knn_refuses_repeated_values():
    x = np.r_[np.arange(50.0), 7.0]
    knn = knn_kl(x, np.arange(40.0) + 0.5)
    assert knn.value is None and "7 repeats" in knn.why_not
    assert knn_kl(x, np.arange(40.0) + 0.5, k=2).value is not None


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), shift=st.floats(-3, 3), scale=st.sampled_from([1e-3, 1, 1e3]),
       loc=st.sampled_from([-1e3, 0, 1e3]))
def test_invariances_and_signs(seed, shift, scale, loc):
    rng = np.random.default_rng(seed)
    ref = loc + scale * rng.normal(size=300)
    live = loc + scale * rng.normal(shift, 1, 200)
    opt = Options(eps=1e-3)
    a = estimates(ref, live, opt)
    b = estimates(rng.permutation(ref), rng.permutation(live), opt)
    for name, v in a.items():
        assert v == pytest.approx(b[name], rel=1e-12, abs=1e-15)  # order of rows is irrelevant
    for name in ("KL(ref‖live)", "KL(live‖ref)", "JS", "PSI"):
        assert 0 <= a[name] < math.inf
    assert a["JS"] <= math.log(2)
    assert a["PSI"] == pytest.approx(a["KL(ref‖live)"] + a["KL(live‖ref)"], rel=1e-12)
    # the binned estimates do not depend on the unit of measurement
    c = estimates((ref - loc) / scale, (live - loc) / scale, opt)
    for name in ("KL(ref‖live)", "KL(live‖ref)", "JS", "PSI"):
        assert c[name] == pytest.approx(a[name], rel=1e-9, abs=1e-12)


def test_bootstrap_and_permutation_null():
    rng = np.random.default_rng(5)
    ref, live = rng.normal(0, 1, 2000), rng.normal(0.3, 1, 2000)
    opt = Options()
    boot = bootstrap(ref, live, opt, resamples=200, seed=1)
    truth = normal_kl(0, 1, 0.3, 1)  # 0.045
    iv = boot["kNN KL(ref‖live)"]
    assert iv.lo < truth < iv.hi and iv.resamples == 200
    assert bootstrap(ref, live, opt, resamples=200, seed=1) == boot  # seeded
    null = permutation_null(ref, live, opt, resamples=100, seed=2)
    assert null["PSI"].p_value == pytest.approx(1 / 101)  # a real shift: no split looks as far
    same = permutation_null(ref, rng.normal(0, 1, 2000), opt, resamples=100, seed=2)
    assert same["PSI"].p_value > 0.05
    assert same["PSI"].q95 < null["PSI"].observed


def test_resamples_are_cost_bounded():
    rng = np.random.default_rng(0)
    big = rng.normal(size=100_000)
    boot = bootstrap(big, big + 0.1, Options(), resamples=1000, seed=0)
    assert boot["PSI"].resamples == 20  # 3e6 values / 2e5 per resample, at least 20


def test_bias_curve_shows_small_sample_bias():
    p = Mixture([Normal(-3, 1), Normal(3, 1)], [0.5, 0.5])
    q = drifted(p, shift=0.5)
    curve = bias_curve(p, q, [50, 5000], Options(eps=1e-3), repeats=10, seed=0)
    psi_truth = normal_kl(0, 1, 0.5, 1) * 2  # the components move together; J = 2·KL = 0.25
    assert curve.mean["PSI"][0] > curve.mean["PSI"][1]  # small samples look drifted
    assert curve.mean["PSI"][1] < psi_truth  # binned: below the continuous J-divergence
    assert curve.mean["PSI"][1] == pytest.approx(psi_truth, rel=0.25)


def test_drifted_copy():
    p = Mixture([Normal(-3, 1), StudentT(3, 1, 5)], [0.25, 0.75])
    q = drifted(p, shift=1, scale=2, extra_weight=0.2, extra_mean=100, extra_std=0.5)
    assert [c.loc for c in q.components] == pytest.approx(
        [p.mean + 2 * (-3 - p.mean) + 1, p.mean + 2 * (3 - p.mean) + 1, 100])
    assert q.weights == pytest.approx((0.2, 0.6, 0.2))
    x = sample(q, 100_000, 0)
    assert np.mean(x > 50) == pytest.approx(0.2, abs=0.005)


def test_read_csv_good_and_hostile():
    t = read_csv(b"id;value;note\n1;2.5;a\n2;;b\n3;nan;c\n4;x1;d\n5;7;e\n6;8;f\n7;9;g\n8;1e3;h\n",
                 "live.csv")
    assert t.delimiter == ";" and t.header and t.columns == ("id", "value", "note")
    col = numeric_column(t, "value")
    assert col.values.tolist() == [2.5, 7, 8, 9, 1000] and col.dropped == 3
    assert col.note("live.csv", "value") == ("live.csv, column 'value': 3 row(s) dropped (blank, "
                                             "not a number or not finite); the first is "
                                             "row 3: ''")
    assert pick_column(t) == "value"  # 'id' counts rows
    assert pick_column(read_csv(b"id,x\n1,5\n2,6\n3,7\n4,8\n5,9\n", "r.csv")) == "id"
    with pytest.raises(ValueError, match="r.csv: no column has enough numbers"):
        pick_column(read_csv(b"a,b\nx,y\n1,2\n", "r.csv"))
    headless = read_csv(b"1.5\n2\n3\n4\n5\n6\n", "ref.csv")
    assert not headless.header and numeric_column(headless, "column 1").values.size == 6
    cases = [(b"", "ref.csv: the file is empty"), (b"\xff\xfe\x00a", "not UTF-8"),
             (b"a\n1\n1\n1\n1\n1\n1\n", "every value is 1"),
             (b"a\nx\ny\n1\n", "1 numeric value(s); need at least 5; the first bad row is row 2"),
             (b"0" * (5 * 2**20 + 1), "over the 5 MB limit")]
    for data, message in cases:
        with pytest.raises(ValueError, match=re.escape(message)):
            numeric_column(read_csv(data, "ref.csv"), "a")
    with pytest.raises(ValueError, match="ref.csv: no column 'b'"):
        numeric_column(read_csv(b"a\n1\n2\n", "ref.csv"), "b")
    ragged = read_csv(b"a,b\n1,2\n3\n4,5\n6,7\n8,9\n10,11\n", "r.csv")
    assert ragged.ragged == 1 and numeric_column(ragged, "b").first_bad == "row 3: 'missing'"


def test_check_sample_and_readings():
    with pytest.raises(ValueError, match="reference: need 5 to 100,000 values, got 3"):
        check_sample("reference", [1, 2, 3])
    with pytest.raises(ValueError, match="live: value 2 is inf"):
        check_sample("live", [1, math.inf, 3, 4, 5])
    assert psi_reading(0.05).startswith("below 0.1") and psi_reading(0.3).startswith("above 0.25")


def test_upload_cap_matches_the_server_config():
    import tomllib
    from pathlib import Path

    from explorer.samples import MAX_UPLOAD_BYTES

    config = tomllib.loads((Path(__file__).parents[1] / ".streamlit/config.toml").read_text())
    assert config["server"]["maxUploadSize"] * 2**20 == MAX_UPLOAD_BYTES
