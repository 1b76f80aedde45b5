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


def test_family_objective_is_each_targets_own_rule():
    # the batched sweep evaluates all Normal-mixture targets in one call: the same rule, to
    # rounding, as each target's own reverse objective (what fit_gaussian certifies on)
    from explorer.objectives import family_reverse_objective, normal_family, reverse_objective

    p = Mixture([Normal(-1, 0.5), Normal(1, 2)], [0.3, 0.7])
    targets = [target_at(p, "separation", v).centred[1] for v in (0.0, 1.5, 4.0, 9.0)]
    family = normal_family(targets)
    rng = np.random.default_rng(5)
    theta = np.c_[rng.normal(0, 3, 24), rng.normal(0, 0.8, 24)]
    groups = rng.integers(0, len(targets), 24)
    for coarse in (False, True):
        got = family_reverse_objective(family, theta, groups, coarse=coarse)
        for i, grp in enumerate(groups):
            want = reverse_objective(targets[grp], theta[i:i + 1], coarse=coarse)
            assert got[0][i] == pytest.approx(want[0][0], rel=1e-14, abs=1e-15)
            assert np.allclose(got[1][i], want[1][0], rtol=1e-12, atol=1e-13)
            assert np.allclose(got[2][i], want[2][0], rtol=1e-12, atol=1e-13)
    # not a family: a Laplace component, or another number of active components
    from explorer import Laplace

    assert normal_family([targets[0], Mixture([Laplace(0, 1), Normal(1, 1)])]) is None
    assert normal_family([targets[0], Mixture([Normal(0, 1)])]) is None


def test_grouped_descents_never_merge_across_targets():
    # two targets whose minima sit at the same θ to within the merge distance: a batched
    # descent must end each on its own target's minimum (same as descending each alone)
    from explorer.fitting import _allowed, _unit_lengths
    from explorer.newton import descend
    from explorer.objectives import reverse_objective

    targets = [Mixture([Normal(0.0, 1.0)]), Mixture([Normal(0.004, 1.0)])]
    fns = [lambda th, t=t: reverse_objective(t, th) for t in targets]

    def fn(theta, groups):
        out = [np.empty(len(theta)), np.empty((len(theta), 2)), np.empty((len(theta), 2, 2))]
        for g in set(groups.tolist()):
            rows = groups == g
            for o, a in zip(out, fns[g](theta[rows]), strict=True):
                o[rows] = a
        return tuple(out)

    theta0 = np.array([[0.3, 0.2], [0.3, 0.2], [-0.2, -0.1], [-0.2, -0.1]])
    run = descend(fn, theta0, _unit_lengths, lambda th, g: _allowed(th), groups=[0, 1, 0, 1])
    assert run.certified.all()
    for i, g in enumerate([0, 1, 0, 1]):
        assert run.theta[i, 0] == pytest.approx(targets[g].mean, abs=1e-9)
        assert run.theta[i, 1] == pytest.approx(0.0, abs=1e-9)


def test_sweep_of_non_normal_targets_runs_per_target():
    # a Student-t component: no vectorised family, the batch evaluates target by target;
    # every point's optima are the fitter's own
    from explorer import StudentT

    p = Mixture([StudentT(-2, 1, 4), Normal(2, 1)])
    d = np.linspace(1.0, 8.0, 15)
    s = sweep(p, "separation", d)
    for j in (0, 7, 14):
        fit = fit_gaussian(target_at(p, "separation", d[j]), "reverse")
        at = [(b.mu[b.index.index(j)], b.sigma[b.index.index(j)]) for b in s.branches
              if j in b.index]
        assert len(at) == len(fit.local_optima)
        for o in fit.local_optima:
            assert any(_same(o.q, Normal(m, sd), 1e-6) for m, sd in at)
