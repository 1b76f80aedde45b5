"""Main-page figures and number display: what is drawn, on which range, with which numbers."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from explorer.distributions import Mixture, Normal, StudentT
from explorer.divergences import gaussian_kl, kl_divergence, why_infinite
from explorer.figures import (
    FORWARD_TITLE,
    REVERSE_TITLE,
    fits_figure,
    fmt_kl,
    fmt_mu_sigma,
    fmt_num,
    json_safe,
    manual_figure,
    results_document,
    results_json,
)
from explorer.fitting import fit_gaussian
from explorer.presets import PRESETS, mixture
from explorer.style import FORWARD, MANUAL, REVERSE

BIMODAL = mixture(PRESETS["bimodal"].components)


# --- formatting -------------------------------------------------------------------------------
@pytest.mark.parametrize("x, text", [
    (0.688768995854964, "0.6888"), (7.86, "7.86"), (-2.984306, "−2.984"), (3.1622776, "3.162"),
    (math.inf, "∞"), (-math.inf, "−∞"), (math.nan, "—"), (0.0, "0"), (1234567.0, "1.235×10⁶"),
    (2.5e-9, "2.5×10⁻⁹"),
])
def test_fmt_num(x, text):
    assert fmt_num(x) == text


def test_fmt_kl_units_infinity_and_round_off_zero():
    assert fmt_kl(math.log(2), "bits") == "1 bits"
    assert fmt_kl(math.log(2), "nats") == "0.6931 nats"
    assert fmt_kl(math.inf, "bits") == "∞"
    assert fmt_kl(3e-16, "nats") == "0 nats"
    assert fmt_kl(math.nan) == "—"


def test_fmt_mu_sigma_hides_optimiser_round_off_only():
    assert fmt_mu_sigma(Normal(2.6e-9, 3.16)) == ("0", "3.16")
    assert fmt_mu_sigma(Normal(1e-3, 3.16)) == ("0.001", "3.16")


# --- the two-panel fits figure ------------------------------------------------------------------
def _traces(fig, name):
    return [t for t in fig.data if t.name == name]


def test_fits_figure_panels_traces_and_range():
    fwd = fit_gaussian(BIMODAL, "forward").q
    rev = fit_gaussian(BIMODAL, "reverse")
    others = [o.q for o in rev.local_optima[1:]]
    fig = fits_figure(BIMODAL, fwd, rev.q, others)
    titles = [a.text for a in fig.layout.annotations]
    assert FORWARD_TITLE in titles and REVERSE_TITLE in titles
    p_traces = _traces(fig, "target p")
    assert len(p_traces) == 2 and all(t.fill == "tozeroy" for t in p_traces)
    x = np.asarray(p_traces[0].x)
    assert np.allclose(p_traces[0].y, BIMODAL.pdf(x))
    # the shared range holds ±4 scales of every component and of every q drawn
    for d in (Normal(-3, 1), Normal(3, 1), fwd, rev.q, *others):
        assert x[0] <= d.mean - 4 * d.std and x[-1] >= d.mean + 4 * d.std
    (f,) = _traces(fig, "forward fit q")
    (r,) = _traces(fig, "reverse fit q")
    assert (f.line.color, r.line.color, f.xaxis, r.xaxis) == (FORWARD, REVERSE, "x", "x2")
    assert np.allclose(r.y, rev.q.pdf(x))
    assert len(_traces(fig, "other reverse optima")) == len(others) == 2
    assert len(_traces(fig, "components of p")) == 4  # two components, two panels
    for t in fig.data:
        assert len(t.x) <= 2000 and np.all(np.isfinite(np.asarray(t.y, dtype=float)))


def test_fits_figure_states_mu_sigma_and_both_kls_matching_closed_form():
    p = Normal(0.0, 1.0)
    q = Normal(1.0, 2.0)
    fig = fits_figure(Mixture([p]), q, q, unit="nats")
    notes = [a.text for a in fig.layout.annotations if "μ =" in (a.text or "")]
    assert len(notes) == 2
    assert "μ = 1, σ = 2" in notes[0]
    assert f"KL(p‖q) = {fmt_kl(gaussian_kl(0, 1, 1, 2))}" in notes[0]
    assert f"KL(q‖p) = {fmt_kl(gaussian_kl(1, 2, 0, 1))}" in notes[0]
    assert fmt_kl(gaussian_kl(0, 1, 1, 2)) == "0.4431 nats"  # ln 2 + 2/8 - 1/2


def test_fits_figure_without_forward_fit_says_so():
    p = Mixture([StudentT(0, 1, 1.5)])
    rev = fit_gaussian(p, "reverse").q
    fig = fits_figure(p, None, rev, forward_reason=why_infinite(p, Normal(0, 1)))
    assert not _traces(fig, "forward fit q")
    texts = " ".join(a.text for a in fig.layout.annotations)
    assert "No forward fit" in texts and "KL(p‖q) = ∞" in texts
    assert "nan" not in texts.lower()


def test_manual_figure_marks_the_optima_in_the_parameter_plane():
    fwd = fit_gaussian(BIMODAL, "forward").q
    rev = fit_gaussian(BIMODAL, "reverse")
    mine = Normal(1.0, 2.0)
    fig = manual_figure(BIMODAL, mine, fwd, rev.q, [o.q for o in rev.local_optima])
    markers = {t.name: t for t in fig.data if t.mode == "markers"}
    assert markers["your q"].x == (1.0,) and markers["your q"].y == (2.0,)
    assert markers["your q"].marker.color == MANUAL
    assert markers["forward optimum"].y[0] == pytest.approx(math.sqrt(10))
    assert len(markers["reverse optima"].x) == len(rev.local_optima)
    assert fig.layout.yaxis2.type == "log"


# --- export -----------------------------------------------------------------------------------
def test_json_safe_never_emits_nan_or_infinity_tokens():
    doc = {"a": math.inf, "b": [-math.inf, math.nan, np.float64(1.5)], "c": {"d": (1, 2.0)}}
    text = json.dumps(json_safe(doc), allow_nan=False)
    assert json.loads(text) == {"a": "inf", "b": ["-inf", None, 1.5], "c": {"d": [1, 2.0]}}


def test_results_document_for_heavy_tails_is_valid_json_with_inf_as_string():
    comps = PRESETS["heavy"].components
    p = mixture(comps)
    rev = fit_gaussian(p, "reverse")
    doc = results_document(comps, p, None, "no fit", rev.q, None, [rev.q], Normal(0, 1), "bits",
                           {"p": "heavy"})
    text = results_json(doc)
    for token in ("NaN", "Infinity"):
        assert token not in text
    data = json.loads(text)
    assert data["forward_fit"] == {"exists": False, "reason": "no fit", "kl_p_q": "inf"}
    assert data["reverse_fit"]["kl_p_q"] == "inf"
    assert data["reverse_fit"]["kl_q_p"] == pytest.approx(rev.kl / math.log(2))
    assert data["manual_q"]["kl_p_q"] == "inf"
    assert data["target"] == [{"family": "Student-t", "weight": 1.0, "raw_weight": 1.0,
                               "loc": 0.0, "scale": 1.0, "df": 1.5}]
    assert data["link_query"] == {"p": "heavy"} and data["unit"] == "bits"


def test_results_document_values_match_explorer():
    fwd = fit_gaussian(BIMODAL, "forward").q
    rev = fit_gaussian(BIMODAL, "reverse")
    doc = json.loads(results_json(results_document(
        PRESETS["bimodal"].components, BIMODAL, fwd, None, rev.q, Normal(3, 1),
        [o.q for o in rev.local_optima], Normal(0, 2), "nats")))
    assert doc["forward_fit"]["kl_p_q"] == pytest.approx(kl_divergence(BIMODAL, fwd))
    assert doc["forward_fit"]["sigma"] == pytest.approx(math.sqrt(10))
    assert doc["reverse_fit"]["start"] == {"mu": 3.0, "sigma": 1.0}
    assert [o["kl_q_p"] for o in doc["reverse_optima"]] == pytest.approx(
        [o.kl for o in rev.local_optima])
    assert doc["manual_q"]["kl_q_p"] == pytest.approx(kl_divergence(Normal(0, 2), BIMODAL))
    assert [c["weight"] for c in doc["target"]] == [0.5, 0.5]


# --- heavy tails --------------------------------------------------------------------------------
def test_tail_kl_curves_forward_is_infinite_up_to_nu_2_and_closed_form_beyond():
    from explorer.distributions import StudentT
    from explorer.figures import tail_kl_curves

    curves = tail_kl_curves([1.0, 2.0, 3.0, 10.0])
    assert curves["forward"][:2] == [math.inf, math.inf]
    for nu, kl in zip([3.0, 10.0], curves["forward"][2:], strict=True):
        p = StudentT(0, 1, nu)
        # forward fit = moment matching: KL = ½ log(2πe·ν/(ν−2)) − H(p)
        assert kl == pytest.approx(0.5 * math.log(2 * math.pi * math.e * nu / (nu - 2))
                                   - p.entropy, rel=1e-8)
    assert all(0 < r < 0.5 for r in curves["reverse"])
    assert curves["reverse"] == sorted(curves["reverse"], reverse=True)  # lighter tails: closer


def test_tails_figure_log_axes_and_current_nu():
    from explorer.distributions import StudentT
    from explorer.figures import tails_figure

    curves = {"nu": [0.5, 1.0, 2.0, 3.0, 10.0], "forward": [math.inf, math.inf, math.inf, 0.2,
                                                           0.02],
              "reverse": [0.4, 0.2, 0.1, 0.05, 0.01]}
    fig = tails_figure(StudentT(0, 1, 3), Normal(0, math.sqrt(3)), Normal(0, 1.26), curves, 3.0,
                       unit="bits")
    assert fig.layout.yaxis.type == "log" and fig.layout.xaxis2.type == "log"
    fwd = [t for t in fig.data if t.name.startswith("KL(p‖q_f)")][0]
    assert list(fwd.x) == [3.0, 10.0]  # ∞ is not drawn as a number
    assert list(fwd.y) == pytest.approx([0.2 / math.log(2), 0.02 / math.log(2)])
    nu_note = [a for a in fig.layout.annotations if a.text == "ν = 3"][0]
    assert nu_note.x == pytest.approx(math.log10(3))  # log-axis annotations take log10 x
    assert any(t.name == "forward fit q" for t in fig.data)
    # the band's label is placed in domain coordinates, inside the panel whatever the range
    band = [a for a in fig.layout.annotations if "ν ≤ 2" in a.text][0]
    assert band.xref == "x2 domain" and 0 <= band.x <= 1 and 0 <= band.y <= 1
    assert fig.layout.xaxis2.range == pytest.approx((math.log10(0.5), 1.0))


def test_tails_figure_keeps_the_forward_curves_legend_entry_below_nu_2():
    from explorer.distributions import StudentT
    from explorer.figures import tails_figure

    curves = {"nu": [0.5, 1.0, 2.0, 3.0], "forward": [math.inf, math.inf, math.inf, 0.2],
              "reverse": [0.4, 0.2, 0.1, 0.05]}
    fig = tails_figure(StudentT(0, 1, 1.5), None, Normal(0, 1.26), curves, 1.5)
    shown = [t.name for t in fig.data if t.showlegend is not False]
    assert any(n.startswith("KL(p‖q_f)") for n in shown)
    assert any(n.startswith("KL(q_r‖p)") for n in shown)
