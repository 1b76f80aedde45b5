"""Target presets, and the plain, hashable description of one mixture component.

A :class:`ComponentSpec` is what the app's state, its URL and its caches hold: five plain values
(family letter, relative weight, location, scale, ν), validated against the app's input bounds, so
it can be compared, hashed and turned into an :mod:`explorer.distributions` component at will.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from explorer.distributions import Laplace, Mixture, Normal, StudentT

# Families by their one-letter URL code.
FAMILIES = {"n": "Normal", "t": "Student-t", "l": "Laplace"}
# Input bounds of the target builder (a teaching range, inside explorer.distributions' own limits).
MAX_COMPONENTS = 6
WEIGHT_RANGE = (0.0, 100.0)
LOC_RANGE = (-1000.0, 1000.0)
SCALE_RANGE = (0.001, 1000.0)
DF_RANGE = (0.1, 1000.0)
DEFAULT_DF = 3.0


def _in(field: str, value, lo: float, hi: float) -> float:
    """``value`` as a finite float in [lo, hi], or ValueError naming ``field`` and the range."""
    if isinstance(value, bool):
        raise ValueError(f"{field} must be a number in [{lo:g}, {hi:g}], got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "...'"
        raise ValueError(f"{field} must be a number in [{lo:g}, {hi:g}], got {shown}") from None
    if not math.isfinite(v) or not lo <= v <= hi:
        raise ValueError(f"{field} must be a number in [{lo:g}, {hi:g}], got {v:g}")
    return v + 0.0  # -0.0 -> 0.0, so equal specs are equal in the URL too


def _int(name: str, value, lo: int, hi: int) -> int:
    """``value`` as a whole number in [lo, hi], or ValueError naming ``name`` and the range."""
    v = _in(name, value, lo, hi)
    if v != int(v):
        raise ValueError(f"{name} must be a whole number in [{lo}, {hi}], got {v:g}")
    return int(v)


@dataclass(frozen=True)
class ComponentSpec:
    """One component: ``family`` "n" (Normal), "t" (Student-t) or "l" (Laplace); relative
    ``weight``; location ``loc`` (the mean of a Normal); ``scale`` (a Normal's std); ``df`` = ν,
    used by Student-t only (the others keep DEFAULT_DF so equal components compare equal)."""

    family: str
    weight: float
    loc: float
    scale: float
    df: float = DEFAULT_DF

    def __post_init__(self):
        if self.family not in FAMILIES:
            raise ValueError(f"family must be one of {', '.join(FAMILIES)} "
                             f"(Normal, Student-t, Laplace), got {str(self.family)[:20]!r}")
        object.__setattr__(self, "weight", _in("weight", self.weight, *WEIGHT_RANGE))
        object.__setattr__(self, "loc", _in("mean/location", self.loc, *LOC_RANGE))
        object.__setattr__(self, "scale", _in("std/scale", self.scale, *SCALE_RANGE))
        df = _in("ν (df)", self.df, *DF_RANGE) if self.family == "t" else DEFAULT_DF
        object.__setattr__(self, "df", df)

    def component(self):
        """The explorer distribution of this component."""
        if self.family == "n":
            return Normal(self.loc, self.scale)
        if self.family == "t":
            return StudentT(self.loc, self.scale, self.df)
        return Laplace(self.loc, self.scale)

    def key(self) -> tuple:
        """Plain hashable tuple (cache keys)."""
        return (self.family, self.weight, self.loc, self.scale, self.df)

    def label(self) -> str:
        if self.family == "n":
            return f"N({self.loc:g}, {self.scale:g}²)"
        if self.family == "t":
            return f"t(ν={self.df:g}; {self.loc:g}, {self.scale:g})"
        return f"Laplace({self.loc:g}, {self.scale:g})"


def mixture(specs) -> Mixture:
    """The Mixture of a sequence of ComponentSpec (or of their ``key()`` tuples)."""
    specs = [s if isinstance(s, ComponentSpec) else ComponentSpec(*s) for s in specs]
    return Mixture([s.component() for s in specs], [s.weight for s in specs])


@dataclass(frozen=True)
class Preset:
    id: str
    label: str
    components: tuple[ComponentSpec, ...]
    blurb: str


def _n(w, m, s):
    return ComponentSpec("n", w, m, s)


PRESETS: dict[str, Preset] = {p.id: p for p in [
    Preset("bimodal", "Bimodal (N(−3,1) + N(3,1))", (_n(0.5, -3, 1), _n(0.5, 3, 1)),
           "Two equal, well-separated modes: forward KL covers both, reverse KL picks one."),
    Preset("asymmetric", "Asymmetric bimodal", (_n(0.7, -2, 1), _n(0.3, 3, 0.5)),
           "A heavy wide mode and a light narrow one: reverse KL can lock onto either, "
           "with different quality."),
    Preset("three", "Three modes", (_n(0.3, -7, 1), _n(0.4, 0, 1), _n(0.3, 7, 1)),
           "Three separated modes: reverse KL can lock onto any one, or bridge neighbours."),
    Preset("spike", "Narrow + wide (spike and slab)", (_n(0.5, 0, 0.2), _n(0.5, 0, 3)),
           "Same centre, very different widths: reverse KL can lock onto the spike, but its "
           "best fit is the wide slab."),
    Preset("single", "Single Gaussian", (_n(1, 0, 1),),
           "q can match p exactly: both KLs are 0 at the same fit."),
    Preset("heavy", "Heavy tail (Student-t ν=1.5)", (ComponentSpec("t", 1, 0, 1, 1.5),),
           "Infinite variance: no Gaussian has finite KL(p‖q); reverse KL still fits."),
]}
DEFAULT_PRESET = "bimodal"
CUSTOM = "custom"


def preset_of(components) -> str:
    """The id of the preset with exactly these components, else CUSTOM."""
    comps = tuple(components)
    for p in PRESETS.values():
        if p.components == comps:
            return p.id
    return CUSTOM
