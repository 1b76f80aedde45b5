"""The fields of the three "KL in modern ML" pages (/rlhf, /estimators, /distill), composed into
:class:`views.state.AppState` as its ``mlkl`` field.  Same rules as there: construction
validates (ValueError naming the field), decoding a link never raises (a bad parameter gives a
warning and that field falls back), only non-defaults are written.

Query keys::

    rl   RLHF responses: name:π_ref:reward,…  2–10 of them              (default: 5 responses)
    b    β on the log grid 0.01 … 100 (snapped to it)                    (default 1)
    dp   DPO pair chosen:rejected, 1-based response numbers              (default 1:2)
    kx   estimators setting: gauss | policy                              (default gauss)
    km   estimators μ in [−4, 4]                                         (default 1)
    kn   sample size n, one of K_SIZES                                   (default 10)
    kr   repeats R, one of K_REPEATS                                     (default 1000)
    ks   estimators seed in [0, 999999]                                  (default 0)
    dt   distillation teacher: name:logit,…  2–12 tokens               (default: digit "2")
    tt   temperature T on the log grid 0.1 … 20 (snapped to it)           (default 2)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from explorer.presets import _in, _int
from views.state.values import choice, num

RLHF_MIN, RLHF_MAX = 2, 10
TOKENS_MIN, TOKENS_MAX = 2, 12
LABEL_MAX = 24
REF_RANGE = (0.0, 1000.0)
REWARD_RANGE = (-1000.0, 1000.0)
LOGIT_RANGE = (-1000.0, 1000.0)
_DECADE = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)
BETA_GRID = tuple(float(f"{m * 10.0 ** e:.3g}") for e in range(-2, 2) for m in _DECADE) + (100.0,)
T_GRID = tuple(t for t in (float(f"{m * 10.0 ** e:.3g}") for e in range(-1, 2) for m in _DECADE)
               if t <= 20.0)
K_SETTINGS = ("gauss", "policy")
K_MU_RANGE = (-4.0, 4.0)
K_SIZES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 10000)
K_REPEATS = (100, 200, 500, 1000, 2000, 5000)
MAX_NR = 1_000_000  # = explorer.estimators.MAX_SAMPLES
MAX_SEED = 999_999

RESPONSES = (("helpful", 0.35, 1.0), ("verbose", 0.25, 1.4), ("terse", 0.2, 0.2),
             ("flattering", 0.05, 2.5), ("refusal", 0.15, -1.0))
DIGITS = tuple((str(i), z) for i, z in enumerate((1.0, 2.0, 10.0, 6.0, 1.0, 0.0, 1.0, 5.5,
                                                   2.0, 1.0)))
KEYS = ("rl", "b", "dp", "kx", "km", "kn", "kr", "ks", "dt", "tt")


def snap(value: float, grid) -> float:
    """The grid value nearest ``value`` on a log scale."""
    return min(grid, key=lambda g: abs(math.log(g / value)))


def _label(what: str, i: int, label) -> str:
    s = str(label).strip()
    if not s:
        raise ValueError(f"{what} {i} name must not be empty")
    if len(s) > LABEL_MAX:
        raise ValueError(f"{what} {i} name must be at most {LABEL_MAX} characters, got {len(s)}")
    if "," in s or ":" in s:
        raise ValueError(f"{what} {i} name must not contain ',' or ':'")
    return s


def _unique(what: str, labels) -> None:
    dup = sorted({x for x in labels if labels.count(x) > 1})
    if dup:
        raise ValueError(f"{what} names must be unique; {', '.join(map(repr, dup))} repeats")


def check_responses(rows) -> tuple[tuple[str, float, float], ...]:
    """(name, π_ref, reward) rows: 2–10, π_ref in (0, 1000] (normalised where used), rewards
    finite in [−1000, 1000]."""
    rows = tuple(rows)
    if not RLHF_MIN <= len(rows) <= RLHF_MAX:
        raise ValueError(f"need {RLHF_MIN} to {RLHF_MAX} responses, got {len(rows)}")
    out = []
    for i, (label, ref, reward) in enumerate(rows, start=1):
        r = _in(f"π_ref({i})", ref, *REF_RANGE)
        if r <= 0:
            raise ValueError(f"π_ref({i}) must be > 0: the tilted policy π_ref·e^(r/β) can "
                             "never reach a response the reference rules out")
        out.append((_label("response", i, label), r, _in(f"reward({i})", reward, *REWARD_RANGE)))
    _unique("response", [r[0] for r in out])
    return tuple(out)


def check_tokens(rows) -> tuple[tuple[str, float], ...]:
    rows = tuple(rows)
    if not TOKENS_MIN <= len(rows) <= TOKENS_MAX:
        raise ValueError(f"need {TOKENS_MIN} to {TOKENS_MAX} tokens, got {len(rows)}")
    out = tuple((_label("token", i, label), _in(f"logit({i})", z, *LOGIT_RANGE))
                for i, (label, z) in enumerate(rows, start=1))
    _unique("token", [r[0] for r in out])
    return out


@dataclass(frozen=True)
class MlklState:
    """/rlhf: responses, β, the DPO pair; /estimators: setting, μ, n, R, seed; /distill:
    teacher logits and T."""

    responses: tuple[tuple[str, float, float], ...] = RESPONSES
    beta: float = 1.0
    pair: tuple[int, int] = (1, 2)
    k_setting: str = "gauss"
    k_mu: float = 1.0
    k_n: int = 10
    k_repeats: int = 1000
    k_seed: int = 0
    teacher: tuple[tuple[str, float], ...] = DIGITS
    temperature: float = 2.0

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "responses", check_responses(self.responses))
        set_(self, "beta", snap(_in("β", self.beta, BETA_GRID[0], BETA_GRID[-1]), BETA_GRID))
        m = len(self.responses)
        a, b = self.pair
        set_(self, "pair", (_int("DPO chosen response", a, 1, m),
                            _int("DPO rejected response", b, 1, m)))
        if self.pair[0] == self.pair[1]:
            raise ValueError("DPO pair: the chosen and the rejected response must differ")
        choice("estimators setting", self.k_setting, K_SETTINGS)
        set_(self, "k_mu", _in("μ", self.k_mu, *K_MU_RANGE))
        choice("sample size n", self.k_n, K_SIZES)
        choice("repeats R", self.k_repeats, K_REPEATS)
        if self.k_n * self.k_repeats > MAX_NR:
            raise ValueError(f"n·R = {self.k_n * self.k_repeats:,} is over the cap of "
                             f"{MAX_NR:,} samples; lower n or R")
        set_(self, "k_seed", _int("seed", self.k_seed, 0, MAX_SEED))
        set_(self, "teacher", check_tokens(self.teacher))
        set_(self, "temperature", snap(_in("temperature T", self.temperature, T_GRID[0],
                                           T_GRID[-1]), T_GRID))

    def with_(self, **changes) -> MlklState:
        return replace(self, **changes)

    def to_query(self) -> dict[str, str]:
        d, q = MlklState(), {}
        if self.responses != d.responses:
            q["rl"] = ",".join(f"{n}:{num(r)}:{num(w)}" for n, r, w in self.responses)
        if self.pair != d.pair:
            q["dp"] = f"{self.pair[0]}:{self.pair[1]}"
        if self.teacher != d.teacher:
            q["dt"] = ",".join(f"{n}:{num(z)}" for n, z in self.teacher)
        for name, key in (("beta", "b"), ("k_setting", "kx"), ("k_mu", "km"), ("k_n", "kn"),
                          ("k_repeats", "kr"), ("k_seed", "ks"), ("temperature", "tt")):
            v = getattr(self, name)
            if v != getattr(d, name):
                q[key] = num(v) if isinstance(v, float) else str(v)
        return q

    @classmethod
    def from_query(cls, raw: dict, report, warnings: list[str]) -> MlklState:
        """The fields ``raw`` (key → stripped value) describes; ``report(key, parse, what)`` (of
        views.state) runs ``parse`` on a present key and turns its error into a warning."""
        values: dict = {}

        def attempt(key, parse, what):
            report(key, lambda v: values.update(parse(v)), what)

        def rows(v, width, what):
            out = []
            for i, part in enumerate(v.split(","), start=1):
                bits = part.split(":")
                if len(bits) != width:
                    raise ValueError(f"{what} {i} must be " + ("name:π_ref:reward" if width == 3
                                                                 else "name:logit"))
                out.append(tuple(bits))
            return out

        attempt("rl", lambda v: {"responses": check_responses(rows(v, 3, "response"))},
                "responses")
        m = len(values.get("responses", cls.responses))
        attempt("b", lambda v: {"beta": _in("β", v, BETA_GRID[0], BETA_GRID[-1])}, "β = 1")

        def pair(v):
            bits = v.split(":")
            if len(bits) != 2:
                raise ValueError("DPO pair must be chosen:rejected")
            a, b = (_int("DPO response", x, 1, m) for x in bits)
            if a == b:
                raise ValueError("DPO pair: the chosen and the rejected response must differ")
            return {"pair": (a, b)}

        attempt("dp", pair, "pair 1:2")
        attempt("kx", lambda v: {"k_setting": choice("kx", v, K_SETTINGS)}, "Gaussian setting")
        attempt("km", lambda v: {"k_mu": _in("μ", v, *K_MU_RANGE)}, "μ = 1")
        attempt("kn", lambda v: {"k_n": choice("n", _int("n", v, 1, 10**6), K_SIZES)}, "n")
        attempt("kr", lambda v: {"k_repeats": choice("R", _int("R", v, 1, 10**6), K_REPEATS)},
                "R")
        attempt("ks", lambda v: {"k_seed": _int("seed", v, 0, MAX_SEED)}, "seed 0")
        attempt("dt", lambda v: {"teacher": check_tokens(rows(v, 2, "token"))}, "teacher")
        attempt("tt", lambda v: {"temperature": _in("T", v, T_GRID[0], T_GRID[-1])}, "T = 2")
        try:
            return cls(**values)
        except ValueError as e:  # e.g. n·R over the cap: drop the sizes, keep the rest
            warnings.append(f"Ignored kn/kr: {e}; using the default sizes.")
            values.pop("k_n", None)
            values.pop("k_repeats", None)
            try:
                return cls(**values)
            except ValueError as e2:
                warnings.append(f"Ignored the ML pages' link parameters: {e2}.")
                return cls()
