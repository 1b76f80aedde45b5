"""The app's whole state as one validated, frozen value, and its URL query-string encoding.

Every control of every page is a field of :class:`AppState`; the app writes ``state.to_query()``
to the address bar after every change, and ``AppState.from_query(params)`` rebuilds the same view
from a shared link.  Decoding never raises: a parameter that is not understood (not a number, NaN,
∞, out of range, too long, unknown key) is reported in a warning and that field alone falls back
to its default.  Only fields that differ from their defaults are written, so links stay short.

Query-string schema (every key optional)::

    p    preset id: bimodal | asymmetric | three | spike | single | heavy    (default bimodal)
    c    custom target, 1–6 components, comma-separated, each
         n:weight:mean:std | l:weight:loc:scale | t:weight:loc:scale:nu
         e.g. c=n:0.5:-3:1,t:0.5:3:1:2
         (at most MAX_NARROW components narrower than 1 % of the locations' spread when
         one of them is t or l: the cost cap of issue 13)
         (c wins over p; a c equal to a preset is written as p)
    u    unit: nats | bits                                                   (default nats)
    rs   reverse-KL start: best | c<k> (component k, 1-based) | m:<mean>     (default best)
    q    manual q: <mu>:<sigma>                                  (default: derived from p's range)
    pq   penalty page q: fits | manual                                       (default fits)
    lg   landscape grid size: one of LAND_SIZES                              (default 120)
    eq   entropy page q: forward | reverse | manual                         (default forward)
    n    MLE sample size: one of MLE_SIZES (10 … 100000)                     (default 1000)
    seed MLE seed: integer in [0, 999999]                                     (default 0)
    d    discrete P and Q: label:P:Q,label:P:Q,…  2–10 outcomes              (default weather)
    de   discrete smoothing ε in [0, 1]                                       (default 0)
    tv   heavy-tails page ν in [0.5, 30]                                      (default 1.5)
    ly   fits charts' density axis: 1 = log scale, 0 = linear                 (default 0)
    rl b dp kx km kn kr ks dt tt   the /rlhf, /estimators and /distill pages (views.state.mlkl)
    al sw sc sr                    the /alpha and /sweep pages (views.state.sweeps)
    xs xh xc xw xm xd xn xl xz xb xk xe xj xr   the /drift page (views.state.drift)
    vt vp vf vs vq vz   the /vi-2d page (views.state.vi2d)
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from explorer.presets import (
    CUSTOM,
    DEFAULT_PRESET,
    MAX_COMPONENTS,
    PRESETS,
    ComponentSpec,
    _in,
    _int,
    preset_of,
)
from views.state.drift import KEYS as DRIFT_KEYS
from views.state.drift import DriftState
from views.state.mlkl import KEYS as MLKL_KEYS
from views.state.mlkl import MlklState
from views.state.outcomes import (  # noqa: F401  (re-exported: the pages import them from here)
    DISC_LABEL_MAX,
    DISC_MAX,
    DISC_MIN,
    DISC_PROB_RANGE,
    WEATHER,
    check_discrete,
    check_label,
)
from views.state.sweeps import KEYS as SWEEP_KEYS
from views.state.sweeps import SweepState
from views.state.target import (  # noqa: F401
    MAX_NARROW,
    NARROW_FRACTION,
    check_components,
    decode_components,
    encode_components,
    narrow_components,
)
from views.state.values import MAX_SHOWN_CHARS, choice, num, shown  # noqa: F401
from views.state.vi2d import KEYS as VI2D_KEYS
from views.state.vi2d import Vi2dState

UNITS = ("nats", "bits")
START_KINDS = ("best", "component", "mean")
PEN_QS = ("fits", "manual")
ENT_QS = ("forward", "reverse", "manual")
LAND_SIZES = (60, 90, 120, 160)
MLE_SIZES = (10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000)
MAX_SEED = 999_999
MANUAL_MU_RANGE = (-10_000.0, 10_000.0)
MANUAL_SIGMA_RANGE = (1e-4, 20_000.0)
START_MEAN_RANGE = MANUAL_MU_RANGE
EPS_RANGE = (0.0, 1.0)
TAIL_DF_RANGE = (0.5, 30.0)

MAX_VALUE_CHARS = 1000  # longer values are ignored whole
KEYS = ("p", "c", "u", "rs", "q", "pq", "lg", "eq", "n", "seed", "d", "de", "tv", "ly",
        *MLKL_KEYS, *SWEEP_KEYS, *DRIFT_KEYS, *VI2D_KEYS)
# Streamlit's own parameters, never ours to judge.
RESERVED = ("embed", "embed_options")




@dataclass(frozen=True)
class AppState:
    """Everything a link must reproduce.  Construction validates (ValueError naming the field)."""

    components: tuple[ComponentSpec, ...] = PRESETS[DEFAULT_PRESET].components
    unit: str = "nats"
    start: str = "best"  # reverse-KL start: best of all / a component / a mean
    start_component: int = 1  # 1-based, used when start == "component"
    start_mean: float = 0.0  # used when start == "mean"
    manual: tuple[float, float] | None = None  # the user's own q (μ, σ); None: derived from p
    pen_q: str = "fits"
    land_size: int = 120
    ent_q: str = "forward"
    mle_n: int = 1000
    mle_seed: int = 0
    disc: tuple[tuple[str, float, float], ...] = WEATHER
    disc_eps: float = 0.0
    tail_df: float = 1.5
    log_density: bool = False  # the fits charts' density axis on a log scale
    mlkl: MlklState = MlklState()  # the /rlhf, /estimators and /distill pages
    sweeps: SweepState = SweepState()  # the /alpha and /sweep pages
    drift: DriftState = DriftState()  # the /drift page
    vi2d: Vi2dState = Vi2dState()  # the /vi-2d page

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "components", check_components(self.components))
        choice("unit", self.unit, UNITS)
        choice("reverse start", self.start, START_KINDS)
        comp = _int("reverse start component", self.start_component, 1, len(self.components))
        mean = _in("reverse start mean", self.start_mean, *START_MEAN_RANGE)
        # Only the active start option is part of the view (and of the link).
        set_(self, "start_component", comp if self.start == "component" else 1)
        set_(self, "start_mean", mean if self.start == "mean" else 0.0)
        if self.manual is not None:
            mu, sigma = self.manual
            set_(self, "manual", (_in("manual μ", mu, *MANUAL_MU_RANGE),
                                  _in("manual σ", sigma, *MANUAL_SIGMA_RANGE)))
        choice("penalty page q", self.pen_q, PEN_QS)
        choice("landscape grid size", self.land_size, LAND_SIZES)
        choice("entropy page q", self.ent_q, ENT_QS)
        choice("MLE sample size n", self.mle_n, MLE_SIZES)
        set_(self, "mle_seed", _int("MLE seed", self.mle_seed, 0, MAX_SEED))
        set_(self, "disc", check_discrete(self.disc))
        set_(self, "disc_eps", _in("smoothing ε", self.disc_eps, *EPS_RANGE))
        set_(self, "tail_df", _in("heavy-tails ν", self.tail_df, *TAIL_DF_RANGE))
        if not isinstance(self.log_density, bool):
            raise ValueError(f"log density must be True or False, got {shown(self.log_density)}")
        if not (isinstance(self.mlkl, MlklState) and isinstance(self.sweeps, SweepState)
                and isinstance(self.drift, DriftState) and isinstance(self.vi2d, Vi2dState)):
            raise ValueError("mlkl, sweeps, drift and vi2d must be an MlklState, a SweepState, "
                             "a DriftState and a Vi2dState")

    # --- derived -------------------------------------------------------------------------------
    @property
    def preset(self) -> str:
        """The preset these components are, or "custom"."""
        return preset_of(self.components)

    def key(self) -> tuple:
        """The target as plain hashable tuples (cache key)."""
        return tuple(c.key() for c in self.components)

    def with_(self, **changes) -> AppState:
        return replace(self, **changes)

    # --- URL -----------------------------------------------------------------------------------
    def to_query(self) -> dict[str, str]:
        """The query parameters of this state: only the fields that differ from the defaults."""
        d = AppState()
        q: dict[str, str] = {}
        preset = self.preset
        if preset == CUSTOM:
            q["c"] = encode_components(self.components)
        elif preset != DEFAULT_PRESET:
            q["p"] = preset
        if self.unit != d.unit:
            q["u"] = self.unit
        if self.start == "component":
            q["rs"] = f"c{self.start_component}"
        elif self.start == "mean":
            q["rs"] = f"m:{num(self.start_mean)}"
        if self.manual is not None:
            q["q"] = f"{num(self.manual[0])}:{num(self.manual[1])}"
        for name, key in (("pen_q", "pq"), ("land_size", "lg"), ("ent_q", "eq"),
                          ("mle_n", "n"), ("mle_seed", "seed"), ("disc_eps", "de"),
                          ("tail_df", "tv")):
            value = getattr(self, name)
            if value != getattr(d, name):
                q[key] = num(value) if isinstance(value, float) else str(value)
        if self.log_density:
            q["ly"] = "1"
        q.update(self.vi2d.to_query())
        if self.disc != d.disc:
            q["d"] = ",".join(f"{lab}:{num(p)}:{num(qq)}" for lab, p, qq in self.disc)
        q.update(self.mlkl.to_query())
        q.update(self.sweeps.to_query())
        q.update(self.drift.to_query())
        return q

    @classmethod
    def from_query(cls, params) -> tuple[AppState, list[str]]:
        """The state a link describes, and a warning for every parameter that was ignored."""
        warnings: list[str] = []
        raw = {}
        unknown = []
        for k, v in dict(params or {}).items():
            k = str(k)
            if isinstance(v, list | tuple):  # a repeated key: the last one counts, as in Streamlit
                v = v[-1] if v else ""
            v = str(v)
            if k in RESERVED:
                continue
            if k not in KEYS:
                unknown.append(k)
                continue
            if len(v) > MAX_VALUE_CHARS:
                warnings.append(f"Ignored {k}: the value is {len(v):,} characters long "
                                f"(at most {MAX_VALUE_CHARS:,}); using the default.")
                continue
            raw[k] = v.strip()
        if unknown:
            names = ", ".join(shown(k) for k in unknown[:5])
            more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
            warnings.append(f"Ignored unknown link parameter(s) {names}{more}.")

        values: dict = {}

        def attempt(key, parse, what):
            if key not in raw:
                return
            try:
                parse(raw[key])
            except (ValueError, TypeError, OverflowError) as e:
                warnings.append(f"Ignored {key}={shown(raw[key])}: {e}; using the default "
                                f"{what}.")

        # target: c wins over p
        def parse_p(v):
            if v not in PRESETS:
                raise ValueError(f"preset must be one of {', '.join(PRESETS)}")
            if "c" not in raw:
                values["components"] = PRESETS[v].components

        def parse_c(v):
            comps, problems = decode_components(v)
            warnings.extend(f"In 'c': {msg}." for msg in problems)
            values["components"] = check_components(comps)

        attempt("p", parse_p, "target")
        attempt("c", parse_c, "target")
        comps = values.get("components", cls.components)

        attempt("u", lambda v: values.__setitem__("unit", choice("unit", v, UNITS)), "unit")

        def parse_rs(v):
            if v == "best":
                values["start"] = "best"
            elif v.startswith("c"):
                k = _int("start component", v[1:], 1, MAX_COMPONENTS)
                if k > len(comps):
                    raise ValueError(f"start component must be in [1, {len(comps)}] for this "
                                     f"target, got {k}")
                values.update(start="component", start_component=k)
            elif v.startswith("m:"):
                values.update(start="mean",
                              start_mean=_in("start mean", v[2:], *START_MEAN_RANGE))
            else:
                raise ValueError("reverse start must be best, c<k> or m:<mean>")

        attempt("rs", parse_rs, "start (best of all starts)")

        def parse_q(v):
            parts = v.split(":")
            if len(parts) != 2:
                raise ValueError("manual q must be <mu>:<sigma>")
            values["manual"] = (_in("manual μ", parts[0], *MANUAL_MU_RANGE),
                                _in("manual σ", parts[1], *MANUAL_SIGMA_RANGE))

        attempt("q", parse_q, "manual q")
        attempt("pq", lambda v: values.__setitem__("pen_q", choice("pq", v, PEN_QS)), "q")
        attempt("lg", lambda v: values.__setitem__(
            "land_size", choice("landscape grid size", _int("lg", v, 1, 10**6), LAND_SIZES)),
            "grid size")
        attempt("eq", lambda v: values.__setitem__("ent_q", choice("eq", v, ENT_QS)), "q")
        attempt("n", lambda v: values.__setitem__(
            "mle_n", choice("n", _int("n", v, MLE_SIZES[0], MLE_SIZES[-1]), MLE_SIZES)),
            "sample size")
        attempt("seed", lambda v: values.__setitem__("mle_seed", _int("seed", v, 0, MAX_SEED)),
                "seed")

        def parse_d(v):
            rows = []
            for i, part in enumerate(v.split(","), start=1):
                bits = part.split(":")
                if len(bits) != 3:
                    raise ValueError(f"outcome {i} must be name:P:Q")
                rows.append((bits[0], bits[1], bits[2]))
            values["disc"] = check_discrete(rows)

        attempt("d", parse_d, "weather example")
        attempt("de", lambda v: values.__setitem__("disc_eps", _in("ε", v, *EPS_RANGE)), "ε")
        attempt("tv", lambda v: values.__setitem__("tail_df", _in("ν", v, *TAIL_DF_RANGE)),
                "ν")
        attempt("ly", lambda v: values.__setitem__(
            "log_density", {"0": False, "1": True}[choice("ly", v, ("0", "1"))]), "linear axis")
        values["mlkl"] = MlklState.from_query(raw, attempt, warnings)
        values["sweeps"] = SweepState.from_query(raw, attempt, warnings)
        values["drift"] = DriftState.from_query(raw, attempt)
        values["vi2d"] = Vi2dState.from_query(raw, attempt)
        try:
            state = cls(**values)
        except ValueError as e:  # a combination no single check caught: drop to defaults
            warnings.append(f"Ignored the link: {e}.")
            state = cls()
        return state, warnings


STATE_FIELDS = tuple(f.name for f in fields(AppState) if not f.name.startswith("_"))
