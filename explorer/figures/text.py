"""Numbers as the app shows them: 4 significant digits, "∞", "−", ×10ⁿ; never "nan"."""

from __future__ import annotations

import math
import textwrap

from explorer.distributions import Normal
from explorer.divergences import kl_divergence, to_unit, why_infinite

INF = "∞"
UNIT_SHORT = {"nats": "nats", "bits": "bits"}
ZERO_BELOW = 1e-12  # |KL| below this is round-off of a zero divergence


def fmt_num(x: float, digits: int = 4) -> str:
    """``x`` to ``digits`` significant digits; ∞ as "∞", a minus sign as "−", never "nan"."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    x = float(x)
    if math.isinf(x):
        return INF if x > 0 else "−" + INF
    if x == 0 or abs(x) < 10 ** -(digits + 8):
        return "0"
    s = f"{x:.{digits}g}"
    if "e" in s:
        mant, exp = s.split("e")
        s = f"{mant}×10{str(int(exp)).translate(_SUPERSCRIPT)}"
    return s.replace("-", "−")


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def fmt_mu_sigma(q: Normal) -> tuple[str, str]:
    """μ and σ of a Gaussian as text; a μ within optimiser round-off of 0 (1e-7 σ) shows 0."""
    mu = 0.0 if abs(q.mean) < 1e-7 * q.std else q.mean
    return fmt_num(mu), fmt_num(q.std)


def fmt_kl(value_nats: float, unit: str = "nats", digits: int = 4) -> str:
    """A divergence given in nats, shown in ``unit``: "0.6888 nats", "∞", "0 bits"."""
    if value_nats is None or math.isnan(value_nats):
        return "—"
    if math.isinf(value_nats):
        return INF
    if abs(value_nats) < ZERO_BELOW:
        return f"0 {unit}"
    return f"{fmt_num(to_unit(value_nats, unit), digits)} {unit}"


def forward_infinite(p) -> bool:
    """Whether every Gaussian has KL(p‖q) = ∞ (else a missing forward fit is uncertified)."""
    return why_infinite(p, Normal(0.0, 1.0)) is not None


def safe_kl(p, q) -> float:
    """KL(p‖q) in nats, never NaN (∞ where infinite)."""
    v = kl_divergence(p, q)
    return math.inf if math.isnan(v) else v



def fmt(value, unit: str | None = None, digits: int = 4) -> str:
    """A value as shown on the figures: 4 significant digits, "∞" for inf, "n/a" for None/nan,
    followed by ``unit`` when given (e.g. ``fmt(0.4619946, "nats") == "0.462 nats"``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        text = "n/a"
    elif math.isinf(value):
        text = "∞" if value > 0 else "−∞"
    else:
        text = f"{float(value) + 0.0:.{digits}g}".replace("-", "−")
    return f"{text} {unit}" if unit else text


def _wrap(text: str, width: int = 48) -> str:
    return "<br>".join(textwrap.wrap(text, width))

