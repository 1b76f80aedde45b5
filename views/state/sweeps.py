"""The fields of the /alpha and /sweep pages, composed into :class:`views.state.AppState` as its
``sweeps`` field.  Same rules as there: construction validates (ValueError naming the field),
decoding a link never raises (a bad parameter gives a warning and that field falls back), only
non-defaults are written.

Query keys::

    al   α of the /alpha page, in [−2, 3], snapped to steps of 0.05        (default 0.5)
    sw   what /sweep varies: sep (separation of two components) | w (one
         component's weight) | s (one component's width)                 (default sep)
    sc   the components it varies, 1-based: i:j (separation: j − i apart;
         weight and width use i)                                         (default 1:2)
    sr   the swept range lo:hi (lo < hi; separation in [−2000, 2000],
         weight in [0.001, 0.999], width in [0.001, 1000])     (default: from the target)

The components named in ``sc`` may not exist in the target of the same link; the page then
varies the first ones and says so (the target is validated on its own, in AppState).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from explorer.presets import LOC_RANGE, MAX_COMPONENTS, SCALE_RANGE, _in, _int
from views.state.values import choice, num

ALPHA_RANGE = (-2.0, 3.0)
ALPHA_STEP = 0.05
PARAMETERS = {"sep": "separation", "w": "weight", "s": "width"}  # URL code → sweep parameter
RANGES = {"sep": (2 * LOC_RANGE[0], 2 * LOC_RANGE[1]), "w": (0.001, 0.999), "s": SCALE_RANGE}
KEYS = ("al", "sw", "sc", "sr")


def snap_alpha(value) -> float:
    """α in ALPHA_RANGE on the slider's grid of 0.05 (so 0 and 1, the two KLs, are exact)."""
    a = _in("α", value, *ALPHA_RANGE)
    return float(f"{round(a / ALPHA_STEP) * ALPHA_STEP:.2f}") + 0.0


def check_range(param: str, lo, hi) -> tuple[float, float]:
    """The swept range of ``param`` (a URL code of PARAMETERS): inside its bounds, lo < hi."""
    bounds = RANGES[param]
    what = PARAMETERS[param]
    lo, hi = _in(f"{what} from", lo, *bounds), _in(f"{what} to", hi, *bounds)
    if not lo < hi:
        raise ValueError(f"{what} range: 'from' ({lo:g}) must be below 'to' ({hi:g})")
    return lo, hi


@dataclass(frozen=True)
class SweepState:
    """/alpha: α; /sweep: the parameter, its components and its range (None: the page's
    default for the target)."""

    alpha: float = 0.5
    param: str = "sep"
    comps: tuple[int, int] = (1, 2)
    span: tuple[float, float] | None = None

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "alpha", snap_alpha(self.alpha))
        choice("sweep parameter", self.param, tuple(PARAMETERS))
        i, j = self.comps
        i = _int("sweep component", i, 1, MAX_COMPONENTS)
        j = _int("second sweep component", j, 1, MAX_COMPONENTS)
        if i == j:
            raise ValueError("sweep components: the two components must differ")
        set_(self, "comps", (i, j))
        if self.span is not None:
            set_(self, "span", check_range(self.param, *self.span))

    def with_(self, **changes) -> SweepState:
        return replace(self, **changes)

    def to_query(self) -> dict[str, str]:
        d, q = SweepState(), {}
        if self.alpha != d.alpha:
            q["al"] = num(self.alpha)
        if self.param != d.param:
            q["sw"] = self.param
        if self.comps != d.comps:
            q["sc"] = f"{self.comps[0]}:{self.comps[1]}"
        if self.span is not None:
            q["sr"] = f"{num(self.span[0])}:{num(self.span[1])}"
        return q

    @classmethod
    def from_query(cls, raw: dict, report, warnings: list[str]) -> SweepState:
        """The fields ``raw`` (key → stripped value) describes; ``report(key, parse, what)`` (of
        views.state) runs ``parse`` on a present key and turns its error into a warning."""
        values: dict = {}

        def attempt(key, parse, what):
            report(key, lambda v: values.update(parse(v)), what)

        def pair(v, sep=":"):
            bits = v.split(sep)
            if len(bits) != 2:
                raise ValueError("expected two numbers a:b")
            return bits

        attempt("al", lambda v: {"alpha": snap_alpha(v)}, "α = 0.5")
        attempt("sw", lambda v: {"param": choice("sw", v, tuple(PARAMETERS))}, "separation")
        param = values.get("param", cls.param)

        def comps(v):
            i, j = (_int("sweep component", x, 1, MAX_COMPONENTS) for x in pair(v))
            if i == j:
                raise ValueError("the two components must differ")
            return {"comps": (i, j)}

        attempt("sc", comps, "components 1:2")
        attempt("sr", lambda v: {"span": check_range(param, *pair(v))}, "range")
        return cls(**values)
