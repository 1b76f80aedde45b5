"""Categorical distributions: the weather example by hand, the support condition (Q(x) = 0 < P(x)
gives an infinite KL naming the outcome), smoothing, JS, entropy, bad input."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer import Categorical, cross_entropy, entropy, js_divergence, kl_divergence, why_infinite

P = Categorical([0.7, 0.3], labels=["sun", "rain"])
Q = Categorical([0.5, 0.5], labels=["sun", "rain"])


def test_weather_example_by_hand():
    kl_pq = 0.7 * math.log(0.7 / 0.5) + 0.3 * math.log(0.3 / 0.5)
    kl_qp = 0.5 * math.log(0.5 / 0.7) + 0.5 * math.log(0.5 / 0.3)
    assert kl_divergence(P, Q) == pytest.approx(kl_pq, rel=1e-14)
    assert kl_divergence(Q, P) == pytest.approx(kl_qp, rel=1e-14)
    assert round(kl_divergence(P, Q), 4) == 0.0823
    assert round(kl_divergence(Q, P), 4) == 0.0872
    assert kl_divergence(P, Q, unit="bits") == pytest.approx(kl_pq / math.log(2), rel=1e-14)
    # per-outcome contributions sum to the KL; the 'rain' term is negative
    terms = P.contributions(Q)
    assert terms[0] == pytest.approx(0.7 * math.log(1.4)) and terms[1] < 0
    assert math.fsum(terms) == pytest.approx(kl_pq, rel=1e-14)


def test_entropy_cross_entropy_and_js_by_hand():
    h = -(0.7 * math.log(0.7) + 0.3 * math.log(0.3))
    assert entropy(P) == pytest.approx(h, rel=1e-14)
    assert entropy(Q, unit="bits") == pytest.approx(1.0, rel=1e-14)
    assert cross_entropy(P, Q) == pytest.approx(math.log(2), rel=1e-14)  # −Σ P log ½
    m = (0.6, 0.4)
    js = 0.5 * sum(a * math.log(a / b) for a, b in zip(P.probs, m, strict=True)) + 0.5 * sum(
        a * math.log(a / b) for a, b in zip(Q.probs, m, strict=True))
    assert js_divergence(P, Q) == pytest.approx(js, rel=1e-13)
    assert js_divergence(Q, P) == pytest.approx(js, rel=1e-13)
    # disjoint supports: JS is exactly ln 2 (1 bit) while both KLs are infinite
    a, b = Categorical([1, 0]), Categorical([0, 1])
    assert js_divergence(a, b) == pytest.approx(math.log(2), rel=1e-15)
    assert js_divergence(a, b, unit="bits") == pytest.approx(1.0, rel=1e-15)
    assert kl_divergence(a, b) == math.inf and kl_divergence(b, a) == math.inf


def test_q_zero_where_p_positive_is_infinite_and_named():
    p = Categorical([0.5, 0.3, 0.2], labels=["sun", "rain", "snow"])
    q = Categorical([0.6, 0.4, 0.0], labels=["sun", "rain", "snow"])
    assert kl_divergence(p, q) == math.inf
    assert kl_divergence(p, q, unit="bits") == math.inf
    assert cross_entropy(p, q) == math.inf
    text = why_infinite(p, q)
    assert "'snow'" in text and "'sun'" not in text and "'rain'" not in text
    assert "Q gives probability 0" in text
    # the other way round P(x) = 0 < Q(x) is fine: 0·log 0 = 0
    back = kl_divergence(q, p)
    assert back == pytest.approx(0.6 * math.log(0.6 / 0.5) + 0.4 * math.log(0.4 / 0.3), rel=1e-14)
    assert why_infinite(q, p) is None
    # several impossible outcomes are all named
    r = Categorical([0.0, 0.0, 1.0], labels=["sun", "rain", "snow"])
    assert "'sun', 'rain'" in why_infinite(p, r)


def test_smoothing_makes_kl_finite():
    q = Categorical([0.6, 0.4, 0.0])
    s = q.smoothed(0.01)
    assert s.probs == pytest.approx(((0.61) / 1.03, 0.41 / 1.03, 0.01 / 1.03), rel=1e-14)
    assert math.fsum(s.probs) == pytest.approx(1.0, abs=1e-15)
    p = Categorical([0.5, 0.3, 0.2])
    want = math.fsum(a * math.log(a / b) for a, b in zip(p.probs, s.probs, strict=True))
    assert kl_divergence(p, s) == pytest.approx(want, rel=1e-13)
    assert q.smoothed(0.0) == q
    with pytest.raises(ValueError, match="smoothing ε must be in"):
        q.smoothed(-0.1)
    with pytest.raises(ValueError, match="smoothing ε must be a finite number"):
        q.smoothed(math.nan)


def test_probs_are_relative_and_labels_default():
    c = Categorical([2, 6])
    assert c.probs == (0.25, 0.75)
    assert c.labels == ("x1", "x2")
    assert kl_divergence(c, c) == 0.0


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 10).flatmap(lambda n: st.tuples(
    st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n).filter(lambda v: sum(v) > 1e-3),
    st.lists(st.floats(1e-3, 1.0), min_size=n, max_size=n))))
def test_random_categoricals_against_the_sum(pq):
    p, q = Categorical(pq[0]), Categorical(pq[1])
    want = math.fsum(a * math.log(a / b) for a, b in zip(p.probs, q.probs, strict=True) if a > 0)
    got = kl_divergence(p, q)
    assert got >= 0
    assert got == pytest.approx(max(want, 0.0), rel=1e-12, abs=1e-15)
    assert 0 <= js_divergence(p, q) <= math.log(2)
    assert js_divergence(p, q) == pytest.approx(js_divergence(q, p), rel=1e-12, abs=1e-16)
    assert kl_divergence(p, p) == 0.0


@pytest.mark.parametrize(("make", "match"), [
    (lambda: Categorical([]), r"Categorical probs: need 1 to 12 outcomes, got 0"),
    (lambda: Categorical([0.1] * 13), r"Categorical probs: need 1 to 12 outcomes, got 13"),
    (lambda: Categorical([0.5, -0.1]), r"Categorical probs\[1\] must be in"),
    (lambda: Categorical([0.5, math.nan]), r"Categorical probs\[1\] must be a finite number"),
    (lambda: Categorical([math.inf, 1]), r"Categorical probs\[0\] must be a finite number"),
    (lambda: Categorical([0, 0, 0]), r"Categorical probs: all are zero"),
    (lambda: Categorical([0.5, 0.5], labels=["a"]), r"Categorical labels: got 1 labels for 2"),
    (lambda: kl_divergence(Categorical([0.5, 0.5]), Categorical([0.2, 0.3, 0.5])),
     r"Categorical: P has 2 outcomes and Q has 3"),
    (lambda: js_divergence(Categorical([0.5, 0.5]), Categorical([1.0])),
     r"Categorical: P has 2 outcomes and Q has 1"),
    (lambda: kl_divergence(P, Q, unit="bytes"), r"unit must be one of"),
])
def test_bad_input_raises_value_error_naming_the_field(make, match):
    with pytest.raises(ValueError, match=match):
        make()
