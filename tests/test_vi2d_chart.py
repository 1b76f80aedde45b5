"""How /vi-2d sends its two panels (views.charts.plain_chart, drawn with theme=None so that Plotly
draws a newly mounted chart once): arrays as short JSON lists that keep every value to 6
significant digits, no template or meta, a constant datarevision, the look stated in the figure
(explorer.style.plain_theme), and p's contour levels stated (explorer.figures.vi2d)."""

from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from explorer import Mixture, MvNormal, fit_gaussian, style
from explorer.figures.vi2d import LEVELS, contour_levels, density_grid, vi2d_figure
from views.charts import _short_list, plain_chart
from views.state.vi2d import PRESETS


def _target(name: str) -> Mixture:
    comps = PRESETS[name][1]
    return Mixture([MvNormal.from_sd(c[1:3], c[3:5], c[5]) for c in comps],
                   weights=[c[0] for c in comps])


@pytest.mark.parametrize("peak", [3.7e-9, 0.0918, 11.56, 4.2e5])
def test_contour_levels_are_nine_tenths_of_the_peak_at_any_scale(peak):
    dens = np.array([[0.0, 0.25 * peak], [peak, 0.5 * peak]])
    got = contour_levels(dens)
    assert got["autocontour"] is False
    c = got["contours"]
    levels = np.arange(c["start"], c["end"] + 0.5 * c["size"], c["size"])
    np.testing.assert_allclose(levels, peak * np.arange(1, LEVELS) / LEVELS, rtol=1e-12)
    assert c["end"] < peak  # no level at the peak itself (it would enclose a single point)


@pytest.mark.parametrize("dens", [np.zeros((3, 3)), np.empty((0, 0))])
def test_a_grid_without_density_leaves_the_levels_to_plotly(dens):
    assert contour_levels(dens) == {"ncontours": LEVELS}


def test_short_list_keeps_six_digits_tiny_values_and_a_strictly_increasing_grid():
    rng = np.random.default_rng(0)
    z = rng.random((7, 9)) * 10.0 ** rng.integers(-320, 5, (7, 9))
    z[0, 0], z[0, 1] = 0.0, 5e-324  # zero and the least subnormal stay as they are
    out = np.array(_short_list(z, 6))
    assert out.shape == z.shape
    np.testing.assert_allclose(out, z, rtol=5e-6, atol=0)
    assert out[0, 0] == 0.0 and out[0, 1] == 5e-324
    assert json.dumps(_short_list(np.array([0.123456789123]), 6)) == "[0.123457]"
    grid = np.array([0.0, 1.0, 1.0 + 1e-9, 2.0])  # 6 digits would merge two points
    assert _short_list(grid, 6) == grid.tolist()


@pytest.mark.parametrize("side", ["forward", "reverse"])
def test_plain_chart_sends_lists_no_template_and_every_value(side):
    p = _target("two")
    fits = {f: fit_gaussian(p, "forward", covariance=f).q for f in ("full", "diagonal")}
    grid = density_grid(p)
    spec = json.loads(pio.to_json(plain_chart(vi2d_figure(p, side, fits, "full", grid=grid)),
                                  validate=False))
    assert "bdata" not in json.dumps(spec)
    layout = spec["layout"]
    assert layout["template"] is None and layout.get("meta") is None
    assert layout["datarevision"] == 1
    assert layout["font"]["family"] == style.FONT_FAMILY
    assert layout["font"]["color"] == layout["legend"]["font"]["color"] == style.TEXT
    assert layout["paper_bgcolor"] == layout["plot_bgcolor"] == "rgba(0,0,0,0)"
    contour = spec["data"][0]
    for got, want in zip((contour["x"], contour["y"], contour["z"]), grid, strict=True):
        np.testing.assert_allclose(np.array(got), want, rtol=5e-6, atol=0)
    assert contour["autocontour"] is False
    assert contour["contours"]["size"] == pytest.approx(np.max(grid[2]) / LEVELS, rel=1e-12)
    go.Figure(spec)  # a valid figure, by Plotly's own validators
