"""The main page's results as plain data and strict JSON (the download)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

import numpy as np

from explorer.distributions import Normal, as_mixture
from explorer.divergences import to_unit
from explorer.figures.text import forward_infinite, safe_kl


def json_safe(value):
    """``value`` with every non-finite float replaced: ∞ as the string "inf" ("-inf"), NaN as
    None, so ``json.dumps(..., allow_nan=False)`` always succeeds."""
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return value
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.floating | np.integer):
        return json_safe(value.item())
    return value


def q_record(p, q: Normal, unit: str) -> dict:
    """μ, σ and both KLs (in ``unit``) of a Gaussian q against p."""
    return {"mu": q.mean, "sigma": q.std,
            "kl_p_q": to_unit(safe_kl(p, q), unit), "kl_q_p": to_unit(safe_kl(q, p), unit)}


def results_document(components, p, q_forward: Normal | None, forward_reason: str | None,
                     q_reverse: Normal, reverse_start: Normal | None, optima: Sequence[Normal],
                     q_manual: Normal, unit: str, query: dict | None = None) -> dict:
    """Everything the main page shows, as plain data: p's components (``ComponentSpec``), both
    fits, every reverse optimum and the manual q, each with μ, σ, KL(p‖q) and KL(q‖p) in ``unit``.
    A missing forward fit is ``{"exists": False, "reason": …, "kl_p_q": inf}`` (``None`` where
    the KL is finite but no fit was certified)."""
    from explorer.presets import FAMILIES

    pm = as_mixture(p)
    return {
        "app": "KL Explorer",
        "unit": unit,
        "link_query": dict(query or {}),
        "target": [{"family": FAMILIES[c.family], "weight": w, "raw_weight": c.weight,
                    "loc": c.loc, "scale": c.scale, **({"df": c.df} if c.family == "t" else {})}
                   for c, w in zip(components, pm.weights, strict=True)],
        "forward_fit": ({"exists": True, **q_record(p, q_forward, unit)} if q_forward is not None
                        else {"exists": False, "reason": forward_reason,
                              "kl_p_q": math.inf if forward_infinite(p) else None}),
        "reverse_fit": {**q_record(p, q_reverse, unit),
                        "start": (None if reverse_start is None
                                  else {"mu": reverse_start.mean, "sigma": reverse_start.std})},
        "reverse_optima": [q_record(p, q, unit) for q in optima],
        "manual_q": q_record(p, q_manual, unit),
    }


def results_json(document: dict) -> str:
    """Strict JSON (no NaN/Infinity tokens): ∞ is written as the string "inf"."""
    return json.dumps(json_safe(document), indent=2, allow_nan=False, ensure_ascii=False)

