"""When Minka's D_α(p‖q) is infinite, decided in closed form from the tails of p and q (the
integral ∫ p^α q^{1−α} is always finite for 0 ≤ α ≤ 1), and the σ of a Gaussian q for which it
is finite.  Used by :mod:`explorer.alpha`, which re-exports these names."""

from __future__ import annotations

import math
import sys
from fractions import Fraction

from explorer.distributions import Laplace, Normal, StudentT, as_mixture

_RANK = {"Gaussian": 0, "Laplace": 1, "Student-t": 2}


def check_alpha(alpha) -> float:
    """α as a float, finite (any real α is allowed).  A subnormal α (|α| below the smallest
    normal float, ~2.2e-308) is taken as 0: it has lost mantissa bits, and so would every
    product with it, while D_α differs from its α → 0 limit KL(q‖p) by O(α), far below
    rounding (a subnormal α once gave 38.8 for a divergence of 47.2)."""
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        raise ValueError(f"alpha must be a real number, got {alpha!r}") from None
    if not math.isfinite(a):
        raise ValueError(f"alpha must be finite, got {alpha!r}")
    return 0.0 if abs(a) < sys.float_info.min else a


# --- when the integral diverges ---------------------------------------------------------------
def tail(d) -> tuple[str, float]:
    """The heaviest tail of a distribution: ("Student-t", smallest ν), else ("Laplace", largest
    scale), else ("Gaussian", largest sd)."""
    comps = [c for w, c in zip(as_mixture(d).weights, as_mixture(d).components, strict=True)
             if w > 0]
    ts = [c.df for c in comps if isinstance(c, StudentT)]
    if ts:
        return "Student-t", min(ts)
    ls = [c.scale for c in comps if isinstance(c, Laplace)]
    if ls:
        return "Laplace", max(ls)
    return "Gaussian", max(c.scale for c in comps)


def _widest_span(d, sd: float) -> tuple[float, float]:
    """Lowest and highest location of the components of sd ``sd`` (a Gaussian mixture's tails)."""
    locs = [c.loc for w, c in zip(d.weights, d.components, strict=True)
            if w > 0 and c.scale == sd]
    return min(locs), max(locs)


def _heavy_enough(a: float, tp: tuple[str, float], tq: tuple[str, float], p=None,
                  q=None) -> bool:
    """∫ p^a q^{1−a} < ∞ for a > 1, from p's and q's heaviest tails, in exact rational arithmetic
    on the given floats (a rate that equals the critical one to 1e-16 is still on one side).

    The log of the integrand's tail is a·log p + (1−a)·log q.  Different kinds: finite iff q's
    kind is heavier.  Student-t: ~ −[a(ν_p+1) − (a−1)(ν_q+1)] log|x|, finite iff that power
    exceeds 1.  Laplace: ~ −[a/b_p − (a−1)/b_q]|x|, finite iff positive (equal: a constant).
    Gaussian: −½[a/s_p² − (a−1)/s_q²]x² + O(x); where the two rates are equal the exponent is
    linear, κ(m_p − m_q)x with κ = a/s_p² and m the outermost location of each one's widest
    components on that side, so it is finite iff q's outermost widest components lie strictly
    beyond p's on both sides."""
    (kp, vp), (kq, vq) = tp, tq
    if _RANK[kq] != _RANK[kp]:
        return _RANK[kq] > _RANK[kp]
    fa, fp, fq = Fraction(a), Fraction(vp), Fraction(vq)
    if kp == "Gaussian":
        lhs, rhs = fa / fp**2, (fa - 1) / fq**2
        if lhs == rhs and p is not None:
            (pl, ph), (ql, qh) = _widest_span(as_mixture(p), vp), _widest_span(as_mixture(q), vq)
            return ql < pl and qh > ph
        return lhs > rhs
    if kp == "Laplace":
        return fa / fp > (fa - 1) / fq
    return fa * (fp + 1) - (fa - 1) * (fq + 1) > 1


def _describe(t: tuple[str, float]) -> str:
    kind, v = t
    return {"Gaussian": f"Gaussian (sd {v:.4g})", "Laplace": f"Laplace (scale {v:.4g})",
            "Student-t": f"Student-t (ν = {v:.4g})"}[kind]


def why_infinite_alpha(p, q, alpha: float) -> str | None:
    """Why D_α(p‖q) is infinite, in one sentence, or None where it is finite.

    ∫ p^α q^{1−α} is finite for 0 ≤ α ≤ 1; for α > 1 it needs q's tails heavy enough for p's;
    for α < 0 it is ∫ q^{1−α} p^α, which needs p's tails heavy enough for q's.
    """
    a = check_alpha(alpha)
    if 0.0 <= a <= 1.0:
        if a in (0.0, 1.0):
            from explorer.divergences import why_infinite

            return why_infinite(q, p) if a == 0.0 else why_infinite(p, q)
        return None
    tp, tq = tail(p), tail(q)
    if a > 1.0 and not _heavy_enough(a, tp, tq, p, q):
        return (f"for α = {a:g} > 1, ∫ p^α q^(1−α) diverges: q's tails, {_describe(tq)}, are too "
                f"light for p's, {_describe(tp)}: D_α(p‖q) = ∞.")
    if a < 0.0 and not _heavy_enough(1.0 - a, tq, tp, q, p):
        return (f"for α = {a:g} < 0, ∫ q^(1−α) p^α diverges: p's tails, {_describe(tp)}, are too "
                f"light for q's, {_describe(tq)}: D_α(p‖q) = ∞.")
    return None


def sigma_bounds(p, alpha: float) -> tuple[float, float] | None:
    """The open interval of σ in which D_α(p‖N(μ, σ²)) is finite (any μ), or None if none is."""
    a = check_alpha(alpha)
    kind, v = tail(p)
    if 0.0 <= a <= 1.0:
        return None if why_infinite_alpha(p, Normal(0.0, 1.0), a) else (0.0, math.inf)
    if a > 1.0:
        return None if kind != "Gaussian" else (v * math.sqrt((a - 1.0) / a), math.inf)
    return (0.0, math.inf) if kind != "Gaussian" else (0.0, v * math.sqrt((1.0 - a) / -a))
