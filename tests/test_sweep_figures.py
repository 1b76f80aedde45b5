"""The /alpha and /sweep figure builders: what they mark is what the sweep found (births,
deaths, switches, the current value), no NaN, stacked for phones, and the no-fit explanation."""

from __future__ import annotations

import numpy as np
import pytest

from explorer import Mixture, Normal, StudentT, fit_gaussian
from explorer.figures.alpha import alpha_figure, no_fit_ranges
from explorer.figures.sweep import events_text, mu_range, sweep_figure
from explorer.sweeps import sweep

BIMODAL = Mixture([Normal(-1, 1), Normal(1, 1)])


@pytest.fixture(scope="module")
def separation():
    return sweep(BIMODAL, "separation", np.linspace(0.5, 8.0, 76))


def _numbers(fig):
    for t in fig.data:
        for k in ("x", "y"):
            v = getattr(t, k)
            if v is not None:
                yield np.array([np.nan if a is None else a for a in v], dtype=float), t.name


@pytest.mark.parametrize("stacked", [False, True])
def test_sweep_figure_marks_births_switches_and_the_current_value(separation, stacked):
    sw = separation
    fig = sweep_figure(sw, 2.0, x_title="d", stacked=stacked)
    born = sorted(v for b, v in sw.births if sw.branches[b].index[0] > 0)
    assert len(born) == 2
    births = [t for t in fig.data if t.name == "birth"]
    assert len(births) == 3  # one marker trace per panel
    for t in births:
        assert sorted(t.x) == pytest.approx(born)
    switches = [s for s in fig.layout.shapes if s.line.dash == "dot"]
    assert [s.x0 for s in switches[:1]] == pytest.approx([sw.switches[0][2]])
    assert len(switches) == 3 * len(sw.switches)
    assert sum(1 for s in fig.layout.shapes if s.x0 == 2.0) == 3  # current value, each panel
    for arr, name in _numbers(fig):
        assert name == "current target" or not np.isnan(arr).any()
        assert arr.size <= 2000
    assert ("yaxis3" in fig.layout) and (fig.layout.xaxis3.domain == (0.0, 1.0)) == stacked


def test_events_text_and_mu_axis(separation):
    text = events_text(separation, "d")
    assert text.startswith("3 branches of local optima; 2 births, 0 deaths;")
    assert "switches branch at d = 5.6" in text
    one = sweep(Normal(0, 1), "width", np.linspace(0.5, 2, 5), component=0)
    assert "stays on one branch" in events_text(one)
    lo, hi = mu_range(one)  # μ = 0 up to round-off: a span of σ/2, not of 1e-17
    assert hi - lo == pytest.approx(0.5 * 0.5)


def test_alpha_figure_explains_an_alpha_without_finite_fit():
    p = StudentT(0, 1, 1.5)
    alphas = np.round(np.arange(-2, 3.01, 0.5), 2)
    sw = sweep(p, "alpha", alphas, objective="alpha")
    finite = [b >= 0 for b in sw.best]
    ranges = no_fit_ranges(alphas, finite)
    assert ranges == [(1.0, 3.0)]  # α ≥ 1: forward KL and beyond are infinite for ν = 1.5
    fig = alpha_figure(p, None, [], None, sw, 2.0, ranges, "q's tails are too light " * 4)
    notes = [a.text for a in fig.layout.annotations if "No Gaussian" in a.text]
    assert len(notes) == 1 and notes[0].count("<br>") >= 2  # wrapped
    assert sum(1 for s in fig.layout.shapes if s.type == "rect") == 2  # μ and σ panels
    fit = fit_gaussian(BIMODAL, "alpha", alpha=0.5)
    fig = alpha_figure(BIMODAL, fit.q, [], "μ = 0", sweep(BIMODAL, "alpha", alphas,
                                                          objective="alpha"), 0.5)
    assert any(t.name == "D<sub>α</sub> fit q" for t in fig.data)
    assert not any(s.type == "rect" for s in fig.layout.shapes)


def test_no_branch_wears_the_global_or_the_current_value_colour(separation):
    from explorer import style

    fig = sweep_figure(separation, 2.0, x_title="d")
    branches = [t for t in fig.data if t.name == "local optima (a line per branch)"]
    assert len(branches) == 3 * len(separation.branches) >= 9  # each in σ, μ and KL panels
    assert {t.line.color for t in branches}.isdisjoint({style.ACCENT, style.MANUAL})
