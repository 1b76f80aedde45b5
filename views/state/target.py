"""The sidebar target's components: validation, the cost cap on narrow heavy-tailed ones, and
their ``c=`` link encoding."""

from __future__ import annotations

import math

from explorer.presets import MAX_COMPONENTS, ComponentSpec
from views.state.values import num, shown

# Cost caps (issue 13: one link must not cost a shared server more than ~2 CPU-s).
MAX_NARROW = 4  # components narrower than NARROW_FRACTION × the locations' spread, if one is t/l
NARROW_FRACTION = 0.01


def narrow_components(comps) -> tuple[int, bool]:
    """(how many components are narrower than NARROW_FRACTION × the spread of the locations,
    whether one of those is a Student-t or Laplace).  Many such spikes with a kink or a slow tail
    among them multiply the reverse fit's starts and quadrature edges: six narrow Laplace
    components cost 3.7 CPU-s on the main page and 13 CPU-s on the landscape page."""
    spread = max(c.loc for c in comps) - min(c.loc for c in comps)
    narrow = [c for c in comps if c.scale < NARROW_FRACTION * spread]
    return len(narrow), any(c.family in ("t", "l") for c in narrow)


def check_components(components) -> tuple[ComponentSpec, ...]:
    comps = tuple(c if isinstance(c, ComponentSpec) else ComponentSpec(*c) for c in components)
    if not 1 <= len(comps) <= MAX_COMPONENTS:
        raise ValueError(f"target needs 1 to {MAX_COMPONENTS} components, got {len(comps)}")
    if math.fsum(c.weight for c in comps) <= 0:
        raise ValueError("weights: all are 0; at least one component needs a weight > 0")
    narrow, heavy = narrow_components(comps)
    if narrow > MAX_NARROW and heavy:
        spread = max(c.loc for c in comps) - min(c.loc for c in comps)
        raise ValueError(f"at most {MAX_NARROW} components may be narrower than "
                         f"{NARROW_FRACTION:g} × the spread of the locations (here "
                         f"{NARROW_FRACTION * spread:g}) when one of them is Student-t or "
                         f"Laplace, got {narrow}: widen some or make them all Normal")
    return comps



def encode_components(components) -> str:
    parts = []
    for c in components:
        s = f"{c.family}:{num(c.weight)}:{num(c.loc)}:{num(c.scale)}"
        if c.family == "t":
            s += f":{num(c.df)}"
        parts.append(s)
    return ",".join(parts)


def decode_components(text: str) -> tuple[list[ComponentSpec], list[str]]:
    """Components from ``c``; each bad one is skipped with a message naming it and the field."""
    comps, problems = [], []
    parts = text.split(",")
    if len(parts) > MAX_COMPONENTS:
        problems.append(f"{len(parts)} components given, at most {MAX_COMPONENTS}: "
                        f"components {MAX_COMPONENTS + 1}–{len(parts)} ignored")
        parts = parts[:MAX_COMPONENTS]
    for i, part in enumerate(parts, start=1):
        bits = part.split(":")
        try:
            if not bits or bits[0] not in ("n", "l", "t"):
                raise ValueError("family must be n (Normal), t (Student-t) or l (Laplace)")
            need = 5 if bits[0] == "t" else 4
            if len(bits) != need:
                form = ("t:weight:loc:scale:nu" if bits[0] == "t"
                        else f"{bits[0]}:weight:mean:std")
                raise ValueError(f"expected {form}")
            comps.append(ComponentSpec(*bits) if need == 5 else ComponentSpec(*bits[:4]))
        except ValueError as e:
            problems.append(f"component {i} ({shown(part)}): {e}; ignored that component")
    return comps, problems



