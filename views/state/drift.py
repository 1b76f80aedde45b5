"""The fields of the /drift page, composed into :class:`views.state.AppState` as its ``drift``
field.  Same rules as there: construction validates (ValueError naming the field and range),
decoding a link never raises (a bad parameter gives a warning and that field falls back), only
non-defaults are written.  Uploaded or pasted data is never part of a link (``xs=data`` says a
link was copied from a page showing the visitor's own data).

Query keys::

    xs   source: gen (drawn from the sidebar target and a drifted copy) | data   (default gen)
    xh   drifted copy: shift in [−1000, 1000]                                   (default 0.5)
    xc   drifted copy: scale factor in [0.01, 100]                               (default 1)
    xw   extra mode weight in [0, 0.9]                                           (default 0)
    xm   extra mode mean in [−1000, 1000]                                        (default 0)
    xd   extra mode sd in [0.001, 1000]                                          (default 1)
    xn   reference sample size, one of SIZES                                     (default 2000)
    xl   live sample size, one of SIZES                                          (default 2000)
    xz   seed in [0, 999999]                                                     (default 0)
    xb   binning: quantile | equal-width | fd                                    (default quantile)
    xk   bins in [2, 50] (not used by fd)                                        (default 10)
    xe   smoothing ε, one of EPS_GRID                                            (default 1e-4)
    xj   kNN k in [1, 20]                                                        (default 1)
    xr   resamples (bootstrap and permutation), one of RESAMPLES                 (default 200)
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from explorer.drift_options import BINNINGS
from explorer.presets import _in, _int
from views.state.values import choice, num

SOURCES = ("gen", "data")
SIZES = (50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000)
EPS_GRID = (0.0, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2)
RESAMPLES = (50, 100, 200, 500)
SHIFT_RANGE = (-1000.0, 1000.0)
SCALE_RANGE = (0.01, 100.0)
WEIGHT_RANGE = (0.0, 0.9)
SD_RANGE = (0.001, 1000.0)
BINS_RANGE = (2, 50)
K_RANGE = (1, 20)
MAX_SEED = 999_999


def _grid_float(name, grid):
    return lambda v: choice(name, _in(name, v, min(grid), max(grid)), grid)


def _grid_int(name, grid):
    return lambda v: choice(name, _int(name, v, min(grid), max(grid)), grid)


# field → (URL key, what it is, the check that parses and validates a value)
CHECKS = {
    "source": ("xs", "data source", lambda v: choice("data source", v, SOURCES)),
    "shift": ("xh", "shift", lambda v: _in("shift", v, *SHIFT_RANGE)),
    "scale": ("xc", "scale factor", lambda v: _in("scale factor", v, *SCALE_RANGE)),
    "extra_weight": ("xw", "extra mode weight",
                     lambda v: _in("extra mode weight", v, *WEIGHT_RANGE)),
    "extra_mean": ("xm", "extra mode mean", lambda v: _in("extra mode mean", v, *SHIFT_RANGE)),
    "extra_sd": ("xd", "extra mode sd", lambda v: _in("extra mode sd", v, *SD_RANGE)),
    "n_ref": ("xn", "reference size", _grid_int("reference size", SIZES)),
    "n_live": ("xl", "live size", _grid_int("live size", SIZES)),
    "seed": ("xz", "seed", lambda v: _int("seed", v, 0, MAX_SEED)),
    "binning": ("xb", "binning", lambda v: choice("binning", v, tuple(BINNINGS))),
    "bins": ("xk", "bins", lambda v: _int("bins", v, *BINS_RANGE)),
    "eps": ("xe", "smoothing ε", _grid_float("smoothing ε", EPS_GRID)),
    "k": ("xj", "kNN k", lambda v: _int("kNN k", v, *K_RANGE)),
    "resamples": ("xr", "resamples", _grid_int("resamples", RESAMPLES)),
}
KEYS = tuple(key for key, _, _ in CHECKS.values())


def _text(x) -> str:
    return num(x) if isinstance(x, float) else str(x)


@dataclass(frozen=True)
class DriftState:
    """/drift: where the samples come from (the drifted copy and sizes when generated) and how
    the estimates are made."""

    source: str = "gen"
    shift: float = 0.5
    scale: float = 1.0
    extra_weight: float = 0.0
    extra_mean: float = 0.0
    extra_sd: float = 1.0
    n_ref: int = 2000
    n_live: int = 2000
    seed: int = 0
    binning: str = "quantile"
    bins: int = 10
    eps: float = 1e-4
    k: int = 1
    resamples: int = 200

    def __post_init__(self):
        for f in fields(self):
            object.__setattr__(self, f.name, CHECKS[f.name][2](getattr(self, f.name)))

    def with_(self, **changes) -> DriftState:
        return replace(self, **changes)

    def to_query(self) -> dict[str, str]:
        d = DriftState()
        return {CHECKS[f.name][0]: _text(getattr(self, f.name)) for f in fields(self)
                if getattr(self, f.name) != getattr(d, f.name)}

    @classmethod
    def from_query(cls, raw: dict, report) -> DriftState:
        """The fields ``raw`` (key → stripped value) describes; ``report(key, parse, what)`` (of
        views.state) runs ``parse`` on a present key and turns its error into a warning."""
        values: dict = {}
        for name, (key, what, check) in CHECKS.items():
            report(key, lambda v, name=name, check=check: values.__setitem__(name, check(v)),
                   what)
        return cls(**values)
