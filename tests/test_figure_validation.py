"""The figure builders assemble plain dicts and build their go.Figure unvalidated (fast); here
every such builder's output passes Plotly's full validation, on varied targets and layouts, and
round-trips unchanged.  Also: what the pages do with a figure (views.charts.compact, to_json)
still works on it."""

from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from explorer import Mixture, MvNormal
from explorer.distributions import Normal
from explorer.figures.fits import fits_figure, manual_figure
from explorer.figures.landscape import landscape_figure
from explorer.figures.vi2d import (
    FINE_N,
    GRID_N,
    density_grid,
    elbo_figure,
    ellipse,
    vi2d_figure,
)
from explorer.fitting import NoFiniteFitError, fit_gaussian
from explorer.landscape import kl_landscape
from explorer.presets import PRESETS, mixture
from views.charts import compact

TARGETS_1D = ("bimodal", "three", "spike", "heavy")
TARGETS_2D = {
    "corr": ((1.0, 0.0, 0.0, 1.0, 1.0, 0.9),),
    "three": ((0.5, -2.5, 0.0, 1.0, 0.7, 0.4), (0.3, 2.0, 1.5, 0.7, 0.7, -0.6),
              (0.2, 1.0, -2.5, 0.5, 1.0, 0.2)),
}


@pytest.fixture(scope="module")
def fits1d():
    out = {}
    for name in TARGETS_1D:
        p = mixture(PRESETS[name].components)
        try:
            qf = fit_gaussian(p, "forward").q
        except NoFiniteFitError:
            qf = None
        out[name] = (p, qf, fit_gaussian(p, "reverse"))
    return out


def _valid(fig) -> go.Figure:
    """``fig`` rebuilt with full validation (raises on any invalid property), and its JSON
    unchanged by the rebuild."""
    assert isinstance(fig, go.Figure)
    checked = go.Figure(fig.to_dict())
    assert json.loads(pio.to_json(checked, validate=False)) == json.loads(
        pio.to_json(fig, validate=False))
    assert "null" not in pio.to_json(fig.layout, validate=False)
    return checked


@pytest.mark.parametrize("name", TARGETS_1D)
@pytest.mark.parametrize("stacked", [False, True])
@pytest.mark.parametrize("log_density", [False, True])
def test_fits_and_manual_figures_validate(fits1d, name, stacked, log_density):
    p, qf, rev = fits1d[name]
    others = tuple(o.q for o in rev.local_optima if o.q != rev.q)
    _valid(fits_figure(p, qf, rev.q, others, stacked=stacked, log_density=log_density,
                       forward_reason=None if qf else "infinite variance"))
    _valid(manual_figure(p, Normal(0.5, 2.0), qf, rev.q, others, stacked=stacked,
                         log_density=log_density))


@pytest.mark.parametrize("name", TARGETS_1D)
@pytest.mark.parametrize("stacked", [False, True])
@pytest.mark.parametrize("log_density", [False, True])
def test_the_apps_fixed_margins_change_only_the_left_margin(fits1d, name, stacked, log_density):
    """fixed_margins (the main page's charts): valid, and the same figure as the default but for
    a left margin of 82 px (84 px on a log axis), wide enough for the density axis's labels and
    title, so that Plotly need not widen it and draw the chart twice."""
    p, qf, rev = fits1d[name]
    others = tuple(o.q for o in rev.local_optima if o.q != rev.q)
    for build, args in ((fits_figure, (p, qf, rev.q, others)),
                        (manual_figure, (p, Normal(0.5, 2.0), qf, rev.q, others))):
        default = build(*args, stacked=stacked, log_density=log_density).to_dict()
        fixed = _valid(build(*args, stacked=stacked, log_density=log_density,
                             fixed_margins=True)).to_dict()
        assert fixed["layout"]["margin"].pop("l") == (84 if log_density else 82)
        assert default["layout"]["margin"].pop("l") == 60
        assert json.loads(pio.to_json(fixed)) == json.loads(pio.to_json(default))


@pytest.mark.parametrize("name", ("bimodal", "heavy"))
@pytest.mark.parametrize("stacked", [False, True])
def test_landscape_figure_validates(fits1d, name, stacked):
    p, qf, rev = fits1d[name]
    start = Normal(-2.5, 2.0)
    path = fit_gaussian(p, "reverse", init=start).path
    _valid(landscape_figure(kl_landscape(p, size=30), [o.q for o in rev.local_optima], qf,
                            path, start, unit="bits", stacked=stacked))


@pytest.mark.parametrize("name", TARGETS_2D)
@pytest.mark.parametrize("family", ["full", "diagonal"])
def test_vi2d_and_elbo_figures_validate(name, family):
    comps = TARGETS_2D[name]
    p = Mixture([MvNormal.from_sd(c[1:3], c[3:5], c[5]) for c in comps],
                weights=[c[0] for c in comps])
    fwd = {f: fit_gaussian(p, "forward", covariance=f).q for f in ("full", "diagonal")}
    rev = fit_gaussian(p, "reverse", covariance="full")
    rq = {"full": rev.q, "diagonal": fit_gaussian(p, "reverse", covariance="diagonal").q}
    _valid(vi2d_figure(p, "forward", fwd, family))
    _valid(vi2d_figure(p, "reverse", rq, family, [o.q for o in rev.local_optima]))
    _valid(elbo_figure([("reverse fit", -0.5, 0.5), ("your q", -1.0, 1.0)], 0.0, "bits"))


def test_compact_works_on_an_unvalidated_figure_as_on_a_validated_one(fits1d):
    p, qf, rev = fits1d["bimodal"]
    fig = fits_figure(p, qf, rev.q)
    before = [np.asarray(t.y) for t in fig.data]
    # the same figure built with validation, from its numpy arrays
    reference = compact(go.Figure({"data": [t.to_plotly_json() for t in fig.data],
                                   "layout": fig.layout.to_plotly_json()}))
    small = compact(fig)
    dtypes = [np.asarray(t.y).dtype for t in small.data]
    assert dtypes == [np.asarray(t.y).dtype for t in reference.data]
    assert np.dtype(np.float32) in dtypes
    for t, y in zip(small.data, before, strict=True):
        np.testing.assert_allclose(np.asarray(t.y, dtype=float), y, rtol=1e-6, atol=0)
    assert (json.loads(pio.to_json(small, validate=False))
            == json.loads(pio.to_json(reference, validate=False)))
    _valid(small)


@pytest.mark.parametrize("stacked", [False, True])
@pytest.mark.parametrize("args, kwargs", [
    ((2, ("a", "b")), {"h_spacing": 0.05, "shared_xaxes": True, "shared_yaxes": True}),
    ((2, ("a", "b")), {"widths": [0.68, 0.32]}),
    ((3, ["a", "b<br>c", "d"]), {"h_spacing": 0.07, "title_lines": 2, "panel_px": 260}),
    ((2, ("a", "b")), {"h_spacing": 0.17, "specs": [[{"secondary_y": True},
                                                    {"secondary_y": True}]]}),
    ((1, ["a"]), {"panel_px": 300}),
])
def test_panel_grid_copies_what_make_subplots_makes(args, kwargs, stacked):
    from explorer.figures.base import _make_grid, panel_grid

    for _ in range(2):  # the first call fills the cache, the second reads it
        want = _make_grid(args[0], stacked, args[1], **kwargs)
        got = panel_grid(args[0], stacked, args[1], **kwargs)
        assert got.to_dict() == want.to_dict()
        assert got._grid_ref == want._grid_ref and got._grid_str == want._grid_str
        n = args[0]
        secondary = "specs" in kwargs
        for i in range(1, n + 1):  # traces land on the same axes
            where = {"row": i, "col": 1} if stacked else {"row": 1, "col": i}
            extra = {"secondary_y": True} if secondary else {}
            got.add_scatter(x=[0], y=[1], **where, **extra)
            want.add_scatter(x=[0], y=[1], **where, **extra)
        assert got.to_dict() == want.to_dict()


def test_vi2d_panel_draws_few_traces_and_every_optimum():
    """One panel per chart: p's contours, one trace per Gaussian (its 1σ and 2σ ellipses, a gap
    between them), one for all the means — the page mounts and draws both panels anew on every
    change of the target, so traces are kept few; every other reverse optimum is drawn."""
    comps = TARGETS_2D["three"]
    p = Mixture([MvNormal.from_sd(c[1:3], c[3:5], c[5]) for c in comps],
                weights=[c[0] for c in comps])
    qs = {"full": MvNormal.from_sd((0, 0), (1, 2), 0.3), "diagonal": MvNormal.from_sd((1, 0),
                                                                                      (1, 1), 0)}
    optima = [MvNormal.from_sd(c[1:3], c[3:5], c[5]) for c in comps]
    fig = vi2d_figure(p, "reverse", qs, "full", optima)
    kinds = [(t.type, t.name) for t in fig.data]
    assert kinds == [("contour", "target p"), ("scatter", "other reverse optima"),
                     ("scatter", "other reverse optima"),
                     ("scatter", "reverse, mean-field q (dashed)"),
                     ("scatter", "reverse fit, full-covariance q"), ("scatter", "means")]
    x = list(fig.data[4].x)
    assert len(x) == 2 * 121 + 1 and x.index(None) == 121  # 1σ, a gap, 2σ
    one_sigma = np.array(x[:121])
    np.testing.assert_allclose(one_sigma, ellipse(qs["full"], 1.0)[0], atol=1e-4)
    np.testing.assert_allclose(fig.data[-1].x, [o.mean[0] for o in optima[1:]]
                               + [qs["diagonal"].mean[0], qs["full"].mean[0]])
    assert fig.data[0].showlegend  # p has its legend entry (a contour's default: none)
    assert [t.showlegend for t in fig.data[1:3]] == [True, False]  # one for all other optima
    forward = vi2d_figure(p, "forward", qs, "diagonal", optima)
    assert [t.name for t in forward.data][1:] == ["forward, full-covariance q (dashed)",
                                                 "forward fit, mean-field q", "means"]
    with pytest.raises(ValueError):
        vi2d_figure(p, "sideways", qs, "full")


def test_vi2d_density_grid_resolves_a_narrow_component():
    """A component far narrower than the uniform grid's step gets grid lines across it, so its
    contours show: the grid's highest density is that of its peak (within 2 %); wide ones get
    the uniform grid only."""
    wide = Mixture([MvNormal.from_sd((0, 0), (1, 1), 0.5)], weights=[1.0])
    xs, ys, dens = density_grid(wide)
    assert len(xs) == len(ys) == GRID_N and dens.shape == (GRID_N, GRID_N)
    spike = MvNormal.from_sd((1.234, -2.345), (0.05, 0.05), 0.0)
    p = Mixture([MvNormal.from_sd((0, 0), (4, 4), 0.0), spike], weights=[0.5, 0.5])
    xs, ys, dens = density_grid(p)
    assert np.all(np.diff(xs) > 0) and np.all(np.diff(ys) > 0)
    assert len(xs) == len(ys) == GRID_N + FINE_N
    peak = float(p.pdf(np.array(spike.mean)))
    assert dens.max() == pytest.approx(peak, rel=0.02)
