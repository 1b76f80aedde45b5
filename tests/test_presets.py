"""Presets: the labels the course material refers to, valid components, and the behaviour each
preset exists to show (checked against closed forms and explorer's fits)."""

from __future__ import annotations

import math

import pytest

from explorer.distributions import Laplace, Normal, StudentT
from explorer.fitting import NoFiniteFitError, fit_gaussian
from explorer.presets import CUSTOM, PRESETS, ComponentSpec, mixture, preset_of

REQUIRED = {
    "bimodal": "Bimodal (N(−3,1) + N(3,1))",
    "asymmetric": "Asymmetric bimodal",
    "three": "Three modes",
    "spike": "Narrow + wide (spike and slab)",
    "single": "Single Gaussian",
    "heavy": "Heavy tail (Student-t ν=1.5)",
}


def test_required_presets_exist_with_their_labels():
    assert {pid: p.label for pid, p in PRESETS.items()} == REQUIRED


def test_bimodal_is_exactly_the_textbook_target():
    assert PRESETS["bimodal"].components == (ComponentSpec("n", 0.5, -3, 1),
                                             ComponentSpec("n", 0.5, 3, 1))


@pytest.mark.parametrize("pid", list(PRESETS))
def test_every_preset_is_recognised_from_its_components(pid):
    assert preset_of(PRESETS[pid].components) == pid
    assert PRESETS[pid].blurb


def test_edited_components_are_custom():
    comps = list(PRESETS["bimodal"].components)
    comps[0] = ComponentSpec("n", 0.5, -3, 1.5)
    assert preset_of(comps) == CUSTOM


def test_component_spec_builds_each_family():
    assert ComponentSpec("n", 1, 2, 3).component() == Normal(2, 3)
    assert ComponentSpec("t", 1, 2, 3, 4).component() == StudentT(2, 3, 4)
    assert ComponentSpec("l", 1, 2, 3).component() == Laplace(2, 3)
    # ν only matters for Student-t: other families compare equal whatever df was passed
    assert ComponentSpec("n", 1, 0, 1, 7) == ComponentSpec("n", 1, 0, 1)
    assert mixture([ComponentSpec("n", 3, 0, 1), ComponentSpec("n", 1, 5, 1)]).weights == (
        0.75, 0.25)


def test_bimodal_forward_fit_is_moment_matching():
    fit = fit_gaussian(mixture(PRESETS["bimodal"].components), "forward")
    assert fit.q.mean == pytest.approx(0, abs=1e-7)
    assert fit.q.std == pytest.approx(math.sqrt(10), rel=1e-8)  # 1 + 3²


def _optima(pid):
    return fit_gaussian(mixture(PRESETS[pid].components), "reverse").local_optima


def test_asymmetric_bimodal_has_one_reverse_optimum_per_mode_of_different_quality():
    optima = _optima("asymmetric")
    assert len(optima) == 2
    (a, b) = optima
    assert a.q.mean == pytest.approx(-2, abs=0.05) and b.q.mean == pytest.approx(3, abs=0.05)
    assert b.kl - a.kl > 0.5


def test_three_modes_has_a_reverse_optimum_at_each_mode():
    means = sorted(o.q.mean for o in _optima("three") if o.q.std < 1.5)
    assert means == pytest.approx([-7, 0, 7], abs=0.05)


def test_spike_and_slab_reverse_can_lock_onto_the_spike():
    stds = sorted(o.q.std for o in _optima("spike"))
    assert len(stds) == 2 and stds[0] < 0.3 < 2 < stds[1]


def test_single_gaussian_both_fits_are_p_itself():
    p = mixture(PRESETS["single"].components)
    for direction in ("forward", "reverse"):
        fit = fit_gaussian(p, direction)
        assert (fit.q.mean, fit.q.std) == pytest.approx((0, 1), abs=1e-6)
        assert fit.kl == pytest.approx(0, abs=1e-10)


def test_heavy_tail_has_no_forward_fit_but_a_reverse_one():
    p = mixture(PRESETS["heavy"].components)
    with pytest.raises(NoFiniteFitError, match="ν = 1.5"):
        fit_gaussian(p, "forward")
    rev = fit_gaussian(p, "reverse")
    assert math.isfinite(rev.kl) and rev.q.mean == pytest.approx(0, abs=1e-6)
