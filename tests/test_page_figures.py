"""Figures of the page figures: concrete contents checked against independent numbers
(scipy.stats densities, quad references, hand formulas), plus the invariants every figure keeps:
no NaN, ≤ 2000 points per trace, infinite values as labelled "∞" markers."""

import math
import re

import numpy as np
import plotly.graph_objects as go
import pytest
from scipy import integrate, stats

from explorer.discrete import Categorical
from explorer.distributions import Mixture, Normal, StudentT
from explorer.figures import (
    discrete_figure,
    entropy_figure,
    entropy_values,
    fmt,
    landscape_figure,
    mle_figure,
    penalty_figure,
)
from explorer.fitting import NoFiniteFitError, fit_gaussian
from explorer.landscape import kl_landscape
from explorer.mle import mle_convergence

BIMODAL = Mixture([Normal(-3, 1), Normal(3, 1)])
HEAVY = Mixture([StudentT(-2, 1, 1.5), StudentT(2, 0.5, 1.5)])
SPIKE = Mixture([Normal(0, 1), Normal(0, 0.01)])
PRESETS = {"bimodal": BIMODAL, "heavy": HEAVY, "spike": SPIKE}
LN2 = math.log(2.0)


def _fits(p):
    try:
        qf = fit_gaussian(p, "forward").q
    except NoFiniteFitError:
        qf = None
    return qf, fit_gaussian(p, "reverse")


@pytest.fixture(scope="module")
def fits():
    return {name: _fits(p) for name, p in PRESETS.items()}


def assert_clean(fig: go.Figure) -> None:
    """No NaN in any trace's x / y / z / base / customdata, and ≤ 2000 x/y points a trace."""
    for tr in fig.data:
        for attr in ("x", "y", "z", "base", "customdata"):
            v = getattr(tr, attr, None)
            if v is None:
                continue
            a = np.asarray(v, dtype=object).ravel()
            nums = np.array([float(e) for e in a if isinstance(e, int | float | np.number)])
            assert not np.isnan(nums).any(), f"NaN in {tr.name!r}.{attr}"
            if attr in ("x", "y"):
                assert a.size <= 2000, f"{tr.name!r}.{attr} has {a.size} points"
            if attr == "z":
                assert np.isfinite(nums).all(), f"non-finite z in {tr.name!r}"


def texts(fig):
    """Annotation texts, with the notes' line breaks turned back into spaces; a subplot title's
    smaller second part (``<br><span …>``: the area note) is a text of its own."""
    out = []
    for a in fig.layout.annotations:
        for part in re.split(r"<br><span[^>]*>", a.text):
            out.append(re.sub(r"<[^>]+>", "", part.replace("<br>", " ")))
    return out


def by_name(fig, name):
    return [t for t in fig.data if t.name == name]


# --- penalty ------------------------------------------------------------------------------------
def test_penalty_bimodal_shades_the_signed_integrand(quad_reference):
    qf, qr = Normal(0.0, math.sqrt(10.0)), Normal(3.0, 1.0)
    fig = penalty_figure(BIMODAL, qf, qr)
    assert_clean(fig)
    assert len(fig.data) == 8
    assert {t.name for t in fig.data} == {"p (target density)", "q (forward fit)",
                                          "q (reverse fit)", "integrand > 0 (adds to KL)",
                                          "integrand < 0 (reduces KL)"}
    pos = by_name(fig, "integrand > 0 (adds to KL)")
    neg = by_name(fig, "integrand < 0 (reduces KL)")
    assert len(pos) == len(neg) == 2
    # left panel: the parts add up to p·log(p/q) from scipy.stats densities
    x = np.asarray(pos[0].x)
    p = 0.5 * stats.norm.pdf(x, -3, 1) + 0.5 * stats.norm.pdf(x, 3, 1)
    expected = p * (np.log(p) - stats.norm.logpdf(x, 0, math.sqrt(10)))
    got = np.asarray(pos[0].y) + np.asarray(neg[0].y)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-300)
    assert (np.asarray(pos[0].y) >= 0).all() and (np.asarray(neg[0].y) <= 0).all()
    assert (np.asarray(neg[0].y) < 0).any()  # q > p between the modes: a visible negative part
    # the annotations quote area and KL, both equal to the quad reference at 4 digits
    kl_f, kl_r = quad_reference(BIMODAL, qf), quad_reference(qr, BIMODAL)
    notes = [t for t in texts(fig) if t.startswith("area")]
    assert notes == [f"area = {fmt(kl_f)} ≈ KL = {fmt(kl_f)} nats",
                     f"area = {fmt(kl_r)} ≈ KL = {fmt(kl_r)} nats"]
    assert fmt(kl_f) == "0.462"  # 0.46199…, the value a student can check by hand


def test_penalty_without_a_forward_fit_explains_why(fits):
    qf, rev = fits["heavy"]
    assert qf is None
    fig = penalty_figure(HEAVY, None, rev.q)
    assert_clean(fig)
    assert len(by_name(fig, "integrand > 0 (adds to KL)")) == 1  # reverse panel only
    assert any("ν = 1.5" in t and "∞" in t for t in texts(fig))
    custom = penalty_figure(HEAVY, None, rev.q, reason="No finite forward fit exists.")
    assert "No finite forward fit exists." in texts(custom)
    both = penalty_figure(HEAVY, None, None, reverse_reason="reverse not fitted yet")
    assert "reverse not fitted yet" in texts(both)
    assert not any(t.startswith("area") for t in texts(both))


def test_penalty_says_where_heavy_tail_mass_went():
    t3 = Mixture([StudentT(0, 1, 3)])
    fig = penalty_figure(t3, Normal(0, math.sqrt(3)), Normal(0, 1.26))
    assert_clean(fig)
    assert any("lies in the tails" in t for t in texts(fig) if t.startswith("area"))


def test_penalty_in_bits(quad_reference):
    qf = Normal(0.0, math.sqrt(10.0))
    fig = penalty_figure(BIMODAL, qf, Normal(3.0, 1.0), unit="bits")
    kl_bits = quad_reference(BIMODAL, qf) / LN2
    assert f"KL = {fmt(kl_bits)} bits" in texts(fig)[1]
    with pytest.raises(ValueError, match="unit"):
        penalty_figure(BIMODAL, qf, None, unit="hartleys")


def test_penalty_spike_and_slab_is_clean(fits):
    qf, rev = fits["spike"]
    assert_clean(penalty_figure(SPIKE, qf, rev.q))


# --- landscape ----------------------------------------------------------------------------------
def test_landscape_bimodal_marks_every_optimum_and_the_path(fits):
    qf, rev = fits["bimodal"]
    land = kl_landscape(BIMODAL, size=60)
    start = Normal(-2.5, 2.0)
    path = fit_gaussian(BIMODAL, "reverse", init=start).path
    fig = landscape_figure(land, [o.q for o in rev.local_optima], qf, path, start)
    assert_clean(fig)
    contours = [t for t in fig.data if isinstance(t, go.Contour)]
    assert len(contours) == 2
    np.testing.assert_allclose(contours[0].z, np.log10(land.forward + 1e-3))
    np.testing.assert_allclose(contours[1].customdata, land.reverse)
    assert contours[0].coloraxis != contours[1].coloraxis  # each direction its own scale
    (stars,) = by_name(fig, "reverse local optima")
    assert len(stars.x) == 3  # N(±2.98, 1.02²) and the wide N(0, 2.74²)
    assert sorted(round(m, 1) for m in stars.x) == [-3.0, 0.0, 3.0]
    (fwd,) = by_name(fig, "forward optimum")
    assert fwd.x[0] == pytest.approx(0, abs=1e-6)
    assert fwd.y[0] == pytest.approx(0.5 * math.log(10), abs=1e-6)
    (line,) = by_name(fig, "optimiser path")
    assert len(line.x) == len(path) >= 3
    assert line.y[-1] == pytest.approx(math.log(path[-1].std))
    (s,) = by_name(fig, "start")
    assert (s.x[0], s.y[0]) == (start.mean, pytest.approx(math.log(2.0)))


def test_landscape_heavy_tails_has_a_note_not_a_broken_heatmap(fits):
    _, rev = fits["heavy"]
    fig = landscape_figure(kl_landscape(HEAVY, size=40), [o.q for o in rev.local_optima])
    assert_clean(fig)
    contours = [t for t in fig.data if isinstance(t, go.Contour)]
    assert len(contours) == 1 and contours[0].name == "reverse KL"
    assert any("∞" in t and "infinite variance" in t for t in texts(fig))
    assert not by_name(fig, "forward optimum")


def test_landscape_spike_is_clean(fits):
    qf, rev = fits["spike"]
    fig = landscape_figure(kl_landscape(SPIKE, size=40), [o.q for o in rev.local_optima], qf)
    assert_clean(fig)
    (stars,) = by_name(fig, "reverse local optima")
    assert min(stars.y) < math.log(0.02)  # the optimum that locks onto the spike is shown


# --- entropy ------------------------------------------------------------------------------------
def test_entropy_bars_stack_correctly_with_negative_entropy():
    fig = entropy_figure(h_p=-1.2, h_pq_forward=0.3, h_pq_reverse=2.0, kl_forward=1.5,
                         kl_reverse=0.4, js_forward=0.2, js_reverse=0.3, unit="nats")
    assert_clean(fig)
    bars = {t.name: t for t in fig.data if isinstance(t, go.Bar)}
    h = bars["H(p): entropy of the target"]
    assert h.y[0] == -1.2 and h.base is None  # from 0 down to H(p)
    kf = bars["KL(p‖q) of the forward fit q_f"]
    assert kf.base[0] == -1.2 and kf.y[0] == pytest.approx(1.5)  # from H(p) up to H(p,q)
    assert bars["H(p,q) of the forward fit q_f"].y[0] == 0.3
    kr = bars["KL(p‖q) of the reverse fit q_r"]
    assert kr.base[0] + kr.y[0] == pytest.approx(2.0)
    div = bars["divergence of each fit"]
    assert list(div.x) == ["KL(p‖q_f)", "JS(p,q_f)", "KL(q_r‖p)", "JS(p,q_r)"]
    assert list(div.y) == [1.5, 0.2, 0.4, 0.3]
    (ln2,) = [t for t in fig.data if t.name and t.name.startswith("JS maximum")]
    assert ln2.y[0] == pytest.approx(LN2)


def test_entropy_infinite_and_missing_values_are_labelled():
    fig = entropy_figure(2.28, None, math.inf, None, 0.234, None, 0.058, unit="bits")
    assert_clean(fig)
    marks = [t for t in fig.data if isinstance(t, go.Scatter) and t.text is not None]
    labels = [s for t in marks for s in t.text]
    assert labels.count("∞") == 2 and labels.count("no fit") == 4
    (ln2,) = [t for t in fig.data if t.name and t.name.startswith("JS maximum")]
    assert ln2.y[0] == pytest.approx(1.0)  # 1 bit
    assert ln2.name == "JS maximum: 1 bit" and "bits" not in ln2.name  # not "1 bits"


def test_entropy_values_against_independent_numbers(fits):
    """Spike-and-slab: H(p) by quad of the scipy.stats density (negative: the spike is narrow),
    and H(p, q_f) of the moment-matched fit = ½ log(2πe σ²) exactly."""
    qf, rev = fits["spike"]
    vals = entropy_values(SPIKE, qf, rev.q)

    def plogp(x):
        p = 0.5 * stats.norm.pdf(x, 0, 1) + 0.5 * stats.norm.pdf(x, 0, 0.01)
        return -p * math.log(p) if p > 0 else 0.0

    pts = [-12, -0.1, -0.03, 0, 0.03, 0.1, 12]
    h = sum(integrate.quad(plogp, a, b, epsrel=1e-12, limit=200)[0]
            for a, b in zip(pts, pts[1:], strict=False))
    assert vals["h_p"] == pytest.approx(h, rel=1e-8)
    assert vals["h_p"] < 0.5 * math.log(2 * math.pi * math.e)  # below N(0,1)'s
    var = 0.5 + 0.5e-4
    assert vals["h_pq_forward"] == pytest.approx(0.5 * math.log(2 * math.pi * math.e * var),
                                                 rel=1e-9)
    assert 0 <= vals["js_forward"] <= LN2 and 0 <= vals["js_reverse"] <= LN2
    assert_clean(entropy_figure(**vals))
    heavy = entropy_values(HEAVY, None, fits["heavy"][1].q, unit="bits")
    assert heavy["h_pq_forward"] is None and heavy["h_pq_reverse"] == math.inf
    assert_clean(entropy_figure(**heavy, unit="bits"))


# --- MLE ----------------------------------------------------------------------------------------
def test_mle_figure_traces_and_reference_lines(fits):
    qf, _ = fits["bimodal"]
    res = mle_convergence(BIMODAL, [10, 100, 1000, 10_000], [0, 1, 2])
    ce = 0.5 * math.log(2 * math.pi * math.e * 10)  # H(p, q_f) of the moment-matched fit
    fig = mle_figure(res, qf, cross_entropy=ce)
    assert_clean(fig)
    for seed in (0, 1, 2):
        lines = by_name(fig, f"seed {seed}")
        assert len(lines) == 3
        assert list(lines[0].x) == [10, 100, 1000, 10_000]
        mine = sorted((r for r in res if r.seed == seed), key=lambda r: r.n)
        assert list(lines[1].y) == [r.q.std for r in mine]
    (mu_ref,) = by_name(fig, "forward-KL fit μ = 0")
    assert list(mu_ref.y) == [0.0, 0.0]
    (sd_ref,) = by_name(fig, f"forward-KL fit σ = {fmt(math.sqrt(10))}")
    assert sd_ref.y[0] == pytest.approx(math.sqrt(10), rel=1e-8)
    (ce_ref,) = [t for t in fig.data if t.name and t.name.startswith("H(p,q_f)")]
    assert ce_ref.y[0] == pytest.approx(ce)
    assert fig.layout.xaxis.type == "log" and fig.layout.xaxis2.type == "log"


def test_mle_figure_without_forward_fit():
    res = mle_convergence(HEAVY, [10, 1000, 100_000], [0, 1])
    fig = mle_figure(res, None)
    assert_clean(fig)
    assert len(fig.data) == 4  # two seeds × (μ̂, σ̂), no reference lines
    assert any("infinite variance" in t for t in texts(fig))


# --- discrete -----------------------------------------------------------------------------------
def test_discrete_contributions_and_infinite_markers():
    P = Categorical([0.5, 0.3, 0.2, 0.0], ["a", "b", "c", "d"])
    Q = Categorical([0.4, 0.4, 0.0, 0.2], ["a", "b", "c", "d"])
    fig = discrete_figure(P, Q)
    assert_clean(fig)
    probs = {t.name: list(t.y) for t in fig.data if t.name in ("P", "Q")}
    assert probs == {"P": [0.5, 0.3, 0.2, 0.0], "Q": [0.4, 0.4, 0.0, 0.2]}
    pq = [t for t in fig.data if isinstance(t, go.Bar) and "KL(P‖Q)" in t.name][0]
    assert list(pq.y[:2]) == pytest.approx([0.5 * math.log(0.5 / 0.4), 0.3 * math.log(0.3 / 0.4)])
    assert pq.y[3] == 0.0  # 0·log 0 = 0
    inf_pq = [t for t in fig.data if t.name.startswith("∞ in KL(P‖Q)")]
    inf_qp = [t for t in fig.data if t.name.startswith("∞ in KL(Q‖P)")]
    assert [list(t.x) for t in inf_pq] == [["c"]] and [list(t.x) for t in inf_qp] == [["d"]]
    assert list(inf_pq[0].text) == ["∞"]
    assert "KL(P‖Q) = ∞, KL(Q‖P) = ∞ nats" in texts(fig)[1]


def test_discrete_finite_title_in_bits():
    P, Q = Categorical([0.5, 0.5]), Categorical([0.25, 0.75])
    fig = discrete_figure(P, Q, unit="bits")
    assert_clean(fig)
    kl_pq = (0.5 * math.log(2) + 0.5 * math.log(0.5 / 0.75)) / LN2
    kl_qp = (0.25 * math.log(0.5) + 0.75 * math.log(1.5)) / LN2
    assert f"KL(P‖Q) = {fmt(kl_pq)}, KL(Q‖P) = {fmt(kl_qp)} bits" in texts(fig)[1]
    assert not [t for t in fig.data if t.name.startswith("∞")]


def test_fmt():
    assert fmt(0.46199461) == "0.462" and fmt(math.inf, "nats") == "∞ nats"
    assert fmt(None) == "n/a" and fmt(-0.0) == "0" and fmt(-1.23456) == "−1.235"


def test_landscape_accepts_fits_as_well_as_normals(fits):
    qf, rev = fits["bimodal"]
    land = kl_landscape(BIMODAL, size=20)
    a = landscape_figure(land, [o.q for o in rev.local_optima], qf)
    b = landscape_figure(land, list(rev.local_optima), fit_gaussian(BIMODAL, "forward"))
    assert [list(t.x) for t in a.data if t.name == "reverse local optima"] == \
        [list(t.x) for t in b.data if t.name == "reverse local optima"]
    assert len(by_name(b, "forward optimum")) == 1


def test_penalty_with_an_infinite_kl_does_not_claim_area_equals_kl():
    """A hand-set q against heavy tails (the manual mode): KL(p‖q) = ∞ while any finite grid
    has a finite area; the note must say so instead of "area ≈ KL"."""
    fig = penalty_figure(HEAVY, Normal(0, 2), Normal(0, 2))
    assert_clean(fig)
    left = [t for t in texts(fig) if t.startswith("area")][0]
    assert "KL = ∞ nats" in left and "≈" not in left
