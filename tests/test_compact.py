"""views.charts.compact: figure arrays go to the browser as float32 only where nothing visible
changes (the spec's bytes roughly halve for the main page's charts)."""

from __future__ import annotations

import numpy as np

from explorer.distributions import Mixture, Normal
from explorer.figures import fits_figure
from explorer.fitting import fit_gaussian
from views.charts import _float32_or_same, compact


def test_a_smooth_grid_and_density_become_float32_within_1e_6():
    x = np.linspace(-12.6, 12.6, 500)
    y = np.exp(-0.5 * x**2) / np.sqrt(2 * np.pi)
    for a in (x, y):
        b = _float32_or_same(a)
        assert b.dtype == np.float32
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=0)


def test_a_narrow_spike_far_from_zero_keeps_float64():
    # float32 steps are 0.06 near 1e6: a spike of width 1e-3 there would be lost when zoomed
    x = np.concatenate([np.linspace(-5, 5, 100), 1e6 + np.linspace(-5e-3, 5e-3, 101)])
    assert _float32_or_same(x) is x


def test_a_density_that_would_underflow_keeps_float64():
    # 1e-300 would become 0 in float32, a point a log axis drops
    y = np.array([1e-300] * 10 + [0.1] * 10)
    assert _float32_or_same(y) is y


def test_compact_fits_figure_keeps_every_curve_to_1e_6_and_shrinks_the_spec():
    p = Mixture([Normal(-3, 1), Normal(3, 1)], weights=[0.5, 0.5])
    rev = fit_gaussian(p, "reverse")
    others = [o.q for o in rev.local_optima if o.q != rev.q]  # as the page draws it
    fig = fits_figure(p, fit_gaussian(p, "forward").q, rev.q, others)
    before = [(np.asarray(t.x), np.asarray(t.y)) for t in fig.data]
    size = len(fig.to_json())
    compact(fig)
    assert len(fig.to_json()) < 0.8 * size
    assert any(np.asarray(t.x).dtype == np.float32 for t in fig.data)
    for t, (x, y) in zip(fig.data, before, strict=True):
        np.testing.assert_allclose(np.asarray(t.x, dtype=float), x, rtol=1e-6, atol=0)
        np.testing.assert_allclose(np.asarray(t.y, dtype=float), y, rtol=1e-6, atol=0)
    assert compact(fig) is fig  # idempotent
