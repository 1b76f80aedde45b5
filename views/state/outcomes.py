"""The /discrete page's outcomes: (name, P, Q) rows, validated."""

from __future__ import annotations

import math
import unicodedata

from explorer.presets import _in
from views.state.values import shown

DISC_MIN, DISC_MAX = 2, 10
DISC_LABEL_MAX = 24
DISC_PROB_RANGE = (0.0, 1000.0)
WEATHER = (("sunny", 0.7, 0.5), ("rainy", 0.3, 0.5))


def check_label(i: int, label) -> str:
    """A discrete outcome's name: 1–24 characters, none of ',' ':' (the URL separators)."""
    s = str(label).strip()
    if not s:
        raise ValueError(f"outcome {i} name must not be empty")
    if len(s) > DISC_LABEL_MAX:
        raise ValueError(f"outcome {i} name must be at most {DISC_LABEL_MAX} characters, "
                         f"got {len(s)}")
    if "," in s or ":" in s:
        raise ValueError(f"outcome {i} name must not contain ',' or ':', got {shown(s)}")
    if any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in s):
        raise ValueError(f"outcome {i} name must not contain control characters or line "
                         f"breaks, got {shown(s)}")
    return s


def check_discrete(rows) -> tuple[tuple[str, float, float], ...]:
    """(label, P, Q) rows validated: 2–10 of them, unique names, P and Q in [0, 1000] with
    positive totals (they are normalised to probabilities where used)."""
    rows = tuple(rows)
    if not DISC_MIN <= len(rows) <= DISC_MAX:
        raise ValueError(f"need {DISC_MIN} to {DISC_MAX} outcomes, got {len(rows)}")
    out = []
    for i, (label, p, q) in enumerate(rows, start=1):
        out.append((check_label(i, label), _in(f"P({i})", p, *DISC_PROB_RANGE),
                    _in(f"Q({i})", q, *DISC_PROB_RANGE)))
    labels = [r[0] for r in out]
    dup = sorted({x for x in labels if labels.count(x) > 1})
    if dup:
        raise ValueError(f"outcome names must be unique; {', '.join(map(repr, dup))} repeats")
    if math.fsum(r[1] for r in out) <= 0:
        raise ValueError("P: all probabilities are 0; at least one must be > 0")
    if math.fsum(r[2] for r in out) <= 0:
        raise ValueError("Q: all probabilities are 0; at least one must be > 0")
    return tuple(out)



