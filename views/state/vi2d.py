"""The /vi-2d page's part of the app state: a 2-D target (1–4 Gaussian components), q's family,
the reverse start, the user's own q and log Z — validated, and its URL keys.

URL keys (every one optional; none collides with views.state's)::

    vt   target, 1–4 components, comma-separated, each w:mx:my:sx:sy:rho   (default: preset vp)
    vp   preset: corr | two | three                                          (default two)
    vf   q's family: full | diag                                             (default full)
    vs   reverse start: best | c<k>                                          (default best)
    vq   the user's q for the ELBO panel: mx:my:sx:sy:rho                    (default: p's moments)
    vz   log Z of the unnormalised target, in [-100, 100]                     (default 0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from explorer.presets import _in

MAX_COMPONENTS = 4
WEIGHT_RANGE = (0.0, 100.0)
MEAN_RANGE = (-10.0, 10.0)
SD_RANGE = (0.05, 10.0)
RHO_RANGE = (-0.99, 0.99)  # |ρ| ≥ 1 is no density
LOG_Z_RANGE = (-100.0, 100.0)
FAMILIES = ("full", "diagonal")
KEYS = ("vt", "vp", "vf", "vs", "vq", "vz")
FIELDS = ("weight", "mean x", "mean y", "sd x", "sd y", "correlation ρ")

Comp = tuple[float, float, float, float, float, float]  # w, mx, my, sx, sy, rho
PRESETS: dict[str, tuple[str, tuple[Comp, ...]]] = {
    "corr": ("Correlated Gaussian (ρ = 0.9)", ((1.0, 0.0, 0.0, 1.0, 1.0, 0.9),)),
    "two": ("Two separated correlated modes", ((0.5, -2.0, -2.0, 1.0, 1.0, 0.5),
                                               (0.5, 2.0, 2.0, 1.0, 1.0, -0.3))),
    "three": ("Three unequal modes", ((0.5, -2.5, 0.0, 1.0, 0.7, 0.4),
                                      (0.3, 2.0, 1.5, 0.7, 0.7, -0.6),
                                      (0.2, 1.0, -2.5, 0.5, 1.0, 0.2))),
}
DEFAULT_PRESET = "two"


def check_component(i: int, comp) -> Comp:
    """One component (w, mx, my, sx, sy, ρ), each value in range (ValueError naming it)."""
    vals = tuple(comp)
    if len(vals) != 6:
        raise ValueError(f"component {i} needs 6 values w:mx:my:sx:sy:rho, got {len(vals)}")
    ranges = (WEIGHT_RANGE, MEAN_RANGE, MEAN_RANGE, SD_RANGE, SD_RANGE, RHO_RANGE)
    return tuple(_in(f"component {i} {name}", v, *r)
                 for name, v, r in zip(FIELDS, vals, ranges, strict=True))


def check_q(q) -> tuple[float, float, float, float, float]:
    vals = tuple(q)
    if len(vals) != 5:
        raise ValueError(f"your q needs 5 values mx:my:sx:sy:rho, got {len(vals)}")
    ranges = (MEAN_RANGE, MEAN_RANGE, SD_RANGE, SD_RANGE, RHO_RANGE)
    return tuple(_in(f"your q {name}", v, *r)
                 for name, v, r in zip(FIELDS[1:], vals, ranges, strict=True))


@dataclass(frozen=True)
class Vi2dState:
    components: tuple[Comp, ...] = PRESETS[DEFAULT_PRESET][1]
    family: str = "full"
    start: int = 0  # 0: best of all starts; k: component k
    manual: tuple[float, float, float, float, float] | None = None
    log_z: float = 0.0

    def __post_init__(self):
        comps = tuple(self.components)
        if not 1 <= len(comps) <= MAX_COMPONENTS:
            raise ValueError(f"the 2-D target needs 1 to {MAX_COMPONENTS} components, "
                             f"got {len(comps)}")
        comps = tuple(check_component(i, c) for i, c in enumerate(comps, start=1))
        if math.fsum(c[0] for c in comps) <= 0:
            raise ValueError("weights: all are 0; at least one component needs a weight > 0")
        object.__setattr__(self, "components", comps)
        if self.family not in FAMILIES:
            raise ValueError(f"q's family must be full or diagonal, got {self.family!r}")
        if not isinstance(self.start, int) or not 0 <= self.start <= len(comps):
            raise ValueError(f"reverse start must be 0 (best) or a component 1–{len(comps)}")
        if self.manual is not None:
            object.__setattr__(self, "manual", check_q(self.manual))
        object.__setattr__(self, "log_z", _in("log Z", self.log_z, *LOG_Z_RANGE))

    @property
    def preset(self) -> str | None:
        return next((k for k, (_, c) in PRESETS.items() if c == self.components), None)

    def with_(self, **changes) -> Vi2dState:
        return replace(self, **changes)

    def to_query(self) -> dict[str, str]:
        from views.state import num

        q: dict[str, str] = {}
        preset = self.preset
        if preset is None:
            q["vt"] = ",".join(":".join(num(v) for v in c) for c in self.components)
        elif preset != DEFAULT_PRESET:
            q["vp"] = preset
        if self.family != "full":
            q["vf"] = "diag"
        if self.start:
            q["vs"] = f"c{self.start}"
        if self.manual is not None:
            q["vq"] = ":".join(num(v) for v in self.manual)
        if self.log_z:
            q["vz"] = num(self.log_z)
        return q

    @classmethod
    def from_query(cls, raw: dict[str, str], attempt) -> Vi2dState:
        """The page's state from the link's ``raw`` values; ``attempt(key, parse, what)`` (of
        views.state) reports a bad value and keeps the default."""
        values: dict = {}

        def parse_vp(v):
            if v not in PRESETS:
                raise ValueError(f"preset must be one of {', '.join(PRESETS)}")
            if "vt" not in raw:
                values["components"] = PRESETS[v][1]

        def parse_vt(v):
            parts = v.split(",")
            if len(parts) > MAX_COMPONENTS:
                raise ValueError(f"at most {MAX_COMPONENTS} components")
            comps = tuple(check_component(i, p.split(":")) for i, p in enumerate(parts, 1))
            values["components"] = cls(components=comps).components

        def parse_vs(v):
            if v == "best":
                return
            if not v.startswith("c") or not v[1:].isdigit():
                raise ValueError("reverse start must be best or c<k>")
            n = len(values.get("components", PRESETS[DEFAULT_PRESET][1]))
            if not 1 <= int(v[1:]) <= n:
                raise ValueError(f"start component must be in [1, {n}] for this target")
            values["start"] = int(v[1:])

        attempt("vp", parse_vp, "2-D target")
        attempt("vt", parse_vt, "2-D target")
        attempt("vf", lambda v: values.__setitem__(
            "family", {"full": "full", "diag": "diagonal"}[_choice_fam(v)]), "family (full)")
        attempt("vs", parse_vs, "start (best of all)")
        attempt("vq", lambda v: values.__setitem__("manual", check_q(v.split(":"))), "q")
        attempt("vz", lambda v: values.__setitem__("log_z", _in("log Z", v, *LOG_Z_RANGE)),
                "log Z (0)")
        try:
            return cls(**values)
        except ValueError:
            values.pop("start", None)
            return cls(**values)


def _choice_fam(v: str) -> str:
    if v not in ("full", "diag"):
        raise ValueError("family must be full or diag")
    return v
