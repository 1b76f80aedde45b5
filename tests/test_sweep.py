"""Sweeps: branches of local optima along a one-parameter family, births, deaths and switches."""

from __future__ import annotations

import numpy as np
import pytest

from explorer import Mixture, Normal, fit_gaussian, sweep
from explorer.fitting import _same
from explorer.sweeps import target_at


def test_the_issue_api_imports_the_function():
    import explorer.sweeps

    assert sweep is explorer.sweeps.sweep and callable(sweep)


def test_symmetric_bimodal_separation_sweep_is_the_classic_picture():
    p = Mixture([Normal(-1, 1), Normal(1, 1)])
    d = np.linspace(0.5, 6.0, 120)
    s = sweep(p, "separation", d)
    central = [b for b in s.branches if abs(b.mu[0]) < 1e-9]
    assert len(central) == 1 and central[0].index[0] == 0  # exists from the start
    off = [b for b in s.branches if b is not central[0]]
    assert len(off) == 2 and {round(np.sign(b.mu[0])) for b in off} == {-1, 1}
    born = [v for b, v in s.births if b != 0]
    assert len(born) == 2 and born[0] == born[1] and 3.0 < born[0] < 6.0
    # the central fit stays global a little beyond the birth of the off-centre ones
    (frm, to, at), = s.switches
    assert frm == 0 and to in (1, 2) and born[0] < at < 6.0
    # the off-centre minima are born with a small smallest eigenvalue (a fold), then it grows
    for b in off:
        assert b.min_eig[0] < b.min_eig[-1]


@pytest.mark.parametrize("j", [0, 40, 79])
def test_every_sweep_point_lists_exactly_the_fitters_optima(j):
    p = Mixture([Normal(-2, 0.7), Normal(2, 1.3)], [0.4, 0.6])
    w = np.linspace(0.05, 0.95, 80)
    s = sweep(p, "weight", w)
    at = [(b.mu[b.index.index(j)], b.sigma[b.index.index(j)]) for b in s.branches
          if j in b.index]
    fit = fit_gaussian(target_at(p, "weight", w[j]), "reverse")
    assert len(at) == len(fit.local_optima)
    for o in fit.local_optima:
        assert any(_same(o.q, Normal(m, sd), 1e-5) for m, sd in at)


def test_alpha_sweep_turns_mode_seeking_into_mass_covering():
    p = Mixture([Normal(-3, 1), Normal(3, 1)])
    s = sweep(p, "alpha", np.linspace(-1.0, 2.0, 61), objective="alpha")
    first = [b for b in s.branches if 0 in b.index]
    last = [b for b in s.branches if 60 in b.index]
    assert len(first) == 2 and all(abs(abs(b.mu[0]) - 3) < 0.1 for b in first)
    assert len(last) == 1 and abs(last[0].mu[-1]) < 1e-9 and last[0].sigma[-1] > 3
    assert s.switches and s.deaths


def test_width_sweep_and_bad_arguments():
    p = Mixture([Normal(0, 1), Normal(4, 1)])
    s = sweep(p, "width", np.linspace(0.5, 3.0, 30), component=1)
    assert all(best >= 0 for best in s.best)
    with pytest.raises(ValueError):
        sweep(p, "colour", [1.0])
    with pytest.raises(ValueError):
        sweep(p, "alpha", [0.5])
