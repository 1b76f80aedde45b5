"""How every state module writes a number into a link and quotes a bad value back to the user."""

from __future__ import annotations

MAX_SHOWN_CHARS = 30  # how much of a bad value a warning quotes


def num(x: float) -> str:
    """Shortest text that reads back as exactly ``x`` (no '+' signs: they mean space in URLs)."""
    s = repr(float(x) + 0.0)
    if s.endswith(".0"):
        s = s[:-2]
    return s.replace("e+", "e")


def shown(value) -> str:
    """``value`` quoted for a message, cut to MAX_SHOWN_CHARS (a link's value may be long)."""
    v = str(value)
    return repr(v) if len(v) <= MAX_SHOWN_CHARS else repr(v[:MAX_SHOWN_CHARS]) + "…"


def choice(name: str, value, allowed):
    """``value`` if it is one of ``allowed``, else a ValueError naming the field and the choices."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(str, allowed))}, got "
                         f"{shown(value)}")
    return value
