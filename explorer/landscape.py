"""The objective landscape: KL(p‖q) and KL(q‖p) over a grid of Gaussians q = N(μ, σ²).

Forward KL is a single bowl (its minimum is moment matching); reverse KL can have several
basins — around single modes, bridges over neighbouring ones, for a spike and slab the wide
slab — so where a descent starts decides where it ends.  Both are evaluated on the whole
(μ, log σ) grid at once:

* forward in closed form from p's mean, variance and entropy,
  KL(p‖q) = log σ + ½ log 2π + (Var p + (E p − μ)²)/(2σ²) − H(p), and ``math.inf`` everywhere
  when p's variance is infinite (a Student-t component with ν ≤ 2);
* reverse, KL(q‖p) = ∫ q (log q − log p): for a mixture of Normals on evenly spaced μ (the
  default axes) −H(q) in closed form minus E_q[log p], each row of the grid one Gaussian
  smoothing of log p, all rows by one FFT (:func:`smoothed_log_p`: agrees with the rule below to
  ~1e-12); otherwise by the very rule the fitter minimises and
  :func:`explorer.divergences.kl_divergence` reports (:func:`explorer.objectives.reverse_kl`),
  value only.  The optima drawn on the grid are the fitter's certified ones either way.

``python -m explorer.landscape`` prints how long a 120 × 120 grid takes for the presets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from explorer.distributions import (
    MAX_ABS_LOCATION,
    MAX_SCALE,
    MIN_SCALE,
    Normal,
    as_mixture,
)
from explorer.grid import x_range
from explorer.objectives import gaussian_cross_entropy, reverse_kl, reverse_node_count

DEFAULT_SIZE = 120
MAX_SIZE = 400
# What a grid may cost (see grid_cost): about 1 CPU-s at the slowest rate measured (~42 ns per
# quadrature point per component with the 8-point rule of explorer.objectives: narrow Laplace
# spikes, two Normals); three Normals run at ~23, Student-t ν = 0.1 at ~34.
COST_BUDGET = 24_000_000
MIN_AFFORDABLE = 20


@dataclass(frozen=True, eq=False)
class Landscape:
    """KL over a grid of Gaussians N(μ, e^{2·log σ}), in nats.

    ``forward[i, j]`` = KL(p‖N(mu[j], exp(log_sigma[i])²)) (``math.inf`` everywhere when p has
    infinite variance) and ``reverse[i, j]`` = KL(N(mu[j], exp(log_sigma[i])²)‖p): rows follow
    log σ, columns follow μ, as a heatmap's z expects.  Arrays are read-only.
    """

    mu: np.ndarray
    log_sigma: np.ndarray
    forward: np.ndarray
    reverse: np.ndarray

    @property
    def forward_finite(self) -> bool:
        """Whether forward KL is finite on the grid (False for heavy-tailed p)."""
        return bool(np.isfinite(self.forward).all())


def default_axes(p, size: int = DEFAULT_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """The grid's μ and log σ axes: μ over the components' x-range (±4 scales), log σ from half
    the narrowest component's scale to the larger of twice p's standard deviation (when finite)
    and half the x-range."""
    size = _check_size(size)
    pm = as_mixture(p)
    lo, hi = x_range(pm)
    scales = [c.scale for _, c in pm._active]
    top = (hi - lo) / 2.0
    if math.isfinite(pm.variance):
        top = max(top, 2.0 * math.sqrt(pm.variance))
    bottom = 0.5 * min(scales)
    return np.linspace(lo, hi, size), np.linspace(math.log(bottom), math.log(top), size)


def kl_landscape(p, mu=None, log_sigma=None, size: int = DEFAULT_SIZE) -> Landscape:
    """Forward and reverse KL (nats) on the grid ``log_sigma`` × ``mu`` (defaults:
    :func:`default_axes` with ``size`` points each)."""
    pm = as_mixture(p)
    if mu is None or log_sigma is None:
        d_mu, d_ls = default_axes(pm, size)
        mu = d_mu if mu is None else mu
        log_sigma = d_ls if log_sigma is None else log_sigma
    mu = _check_axis("mu", mu, -MAX_ABS_LOCATION, MAX_ABS_LOCATION)
    log_sigma = _check_axis("log_sigma", log_sigma, math.log(MIN_SCALE), math.log(MAX_SCALE))
    ls, m = np.meshgrid(log_sigma, mu, indexing="ij")
    forward = forward_kl_grid(pm, m.ravel(), ls.ravel()).reshape(ls.shape)
    reverse = _reverse_on_axes(pm, mu, log_sigma)
    for a in (mu, log_sigma, forward, reverse):
        a.setflags(write=False)
    return Landscape(mu=mu, log_sigma=log_sigma, forward=forward, reverse=reverse)


def forward_kl_grid(p, mu: np.ndarray, log_sigma: np.ndarray) -> np.ndarray:
    """KL(p‖N(μ, σ²)) for arrays of μ and log σ, in closed form; inf where Var p is infinite."""
    pm = as_mixture(p)
    mu, log_sigma = np.broadcast_arrays(np.asarray(mu, float), np.asarray(log_sigma, float))
    if not math.isfinite(pm.variance):
        return np.full(mu.shape, math.inf)
    return np.maximum(gaussian_cross_entropy(pm, mu, log_sigma) - pm.entropy, 0.0)


def reverse_kl_grid(p, mu: np.ndarray, log_sigma: np.ndarray) -> np.ndarray:
    """KL(N(μ, σ²)‖p) for arrays of μ and log σ (same shape): the rule the fitter minimises
    (:func:`explorer.objectives.reverse_kl`), in coordinates centred on p."""
    c, pc = as_mixture(p).centred
    mu, log_sigma = np.broadcast_arrays(np.asarray(mu, float), np.asarray(log_sigma, float))
    return np.maximum(reverse_kl(pc, mu - c, log_sigma), 0.0)


def _reverse_on_axes(pm, mu: np.ndarray, log_sigma: np.ndarray) -> np.ndarray:
    """KL(N(μ, σ²)‖p) on the grid log σ × μ: by :func:`smoothed_log_p` where it applies (a
    mixture of Normals, evenly spaced μ), else by :func:`reverse_kl_grid`."""
    c, pc = pm.centred
    inner = smoothed_log_p(pc, mu - c, np.exp(log_sigma))
    if inner is None:
        ls, m = np.meshgrid(log_sigma, mu, indexing="ij")
        return reverse_kl_grid(pm, m.ravel(), ls.ravel()).reshape(ls.shape)
    neg_entropy = -(0.5 + 0.5 * math.log(2 * math.pi) + log_sigma)  # ∫ q log q, exactly
    return np.maximum(neg_entropy[:, None] - inner, 0.0)


def smoothed_log_p(p, mu: np.ndarray, sigma: np.ndarray, max_points: int = 1 << 15):
    """E_q[log p] for q = N(μ, σ²) on the grid sigma × mu, for a mixture of at least two
    Normals and evenly spaced μ — else None (as also when the rule below would need more than
    ``max_points`` nodes).

    Each row is the convolution of log p with a Gaussian of width σ, by the trapezoid rule on
    an even grid through every μ, taken for all rows at once with one FFT of log p: the kernel's
    transform is exp(−σ²ω²/2) (its aliases are below e^-300 at the spacing chosen).  log p is
    analytic in a strip about the real line — as wide as its narrowest component's scale and,
    at a switch of the dominant component, π/slope — so the trapezoid rule converges
    geometrically: with a spacing of a quarter of the narrowest of σ, the components' scales
    and π/slope, its error is ~e^-8π ≈ 1e-11 of log p's size.  The widest component's
    log-density (whose Gaussian average is exact) is taken out first so that the
    transformed values stay small."""
    plan = _fft_plan(p, mu, sigma, max_points)
    if plan is None:
        return None
    per, h, reach, n, size = plan
    x = mu[0] + h * (np.arange(n) - reach)
    lw, wide = max(p._active, key=lambda lc: (lc[1].std, lc[0]))
    r = p.logpdf(x) - (lw + wide.logpdf(x))
    omega = 2.0 * math.pi * np.fft.rfftfreq(size, d=h)
    smooth = np.fft.irfft(np.fft.rfft(r, size) * np.exp(-0.5 * np.outer(sigma**2, omega**2)),
                          size)
    at = reach + per * np.arange(mu.size)
    quadratic = (lw - 0.5 * math.log(2 * math.pi) - math.log(wide.std)
                 - 0.5 * ((mu[None, :] - wide.mean) ** 2 + sigma[:, None] ** 2) / wide.std**2)
    return smooth[:, at] + quadratic


def _fft_plan(p, mu: np.ndarray, sigma: np.ndarray, max_points: int = 1 << 15):
    """(nodes per μ step, spacing h, reach in nodes, nodes n, FFT length) of
    :func:`smoothed_log_p`, or None where it does not apply."""
    comps = [c for _, c in p._active]
    if len(comps) < 2 or not all(isinstance(c, Normal) for c in comps) or mu.size < 2:
        return None
    gaps = np.diff(mu)
    if not np.allclose(gaps, gaps[0], rtol=1e-12, atol=0.0) or gaps[0] <= 0:
        return None
    ladder = np.diff(p._switches)
    finest = min(float(sigma.min()), min(c.std for c in comps),
                 math.pi * float(ladder.min()) if ladder.size else math.inf)
    per = max(1, math.ceil(gaps[0] / (finest / 4.0)))
    h = gaps[0] / per
    reach = math.ceil(12.0 * float(sigma.max()) / h)
    n = (mu.size - 1) * per + 1 + 2 * reach
    size = 1 << (n + reach).bit_length()
    return None if size > max_points else (per, h, reach, n, size)


def grid_cost(p, size: int = DEFAULT_SIZE) -> int:
    """What :func:`kl_landscape` ``(p, size=size)`` costs, in quadrature points × components
    (the reverse grid dominates; CPU time is ~20-80 ns per unit) — or, where the FFT of
    :func:`smoothed_log_p` applies, its rows × FFT length.  Cheap: no density is evaluated."""
    c, pc = as_mixture(p).centred
    mu, ls = default_axes(pc, size)
    plan = _fft_plan(pc, mu - c, np.exp(ls))
    if plan is not None:
        return ls.size * plan[4]
    m, s = np.meshgrid(mu - c, ls)
    return int(reverse_node_count(pc, m.ravel(), np.exp(s.ravel())).sum()) * len(pc._active)


def affordable_size(p, size: int = DEFAULT_SIZE, budget: int = COST_BUDGET) -> int:
    """The largest grid size ≤ ``size`` (a multiple of 10 when reduced, at least
    MIN_AFFORDABLE) whose :func:`grid_cost` is within ``budget``."""
    size = _check_size(size)
    cost = grid_cost(p, size)
    if cost <= budget:
        return size
    n = max(MIN_AFFORDABLE, int(size * math.sqrt(budget / cost)) // 10 * 10)
    while n > MIN_AFFORDABLE and grid_cost(p, n) > budget:
        n -= 10
    return n


def _check_size(size) -> int:
    if isinstance(size, bool) or not isinstance(size, int | np.integer) or not (
            2 <= size <= MAX_SIZE):
        raise ValueError(f"landscape size must be an integer in [2, {MAX_SIZE}], got {size!r}")
    return int(size)


def _check_axis(field: str, values, lo: float, hi: float) -> np.ndarray:
    a = np.array(values, dtype=float)
    if a.ndim != 1 or not 2 <= a.size <= MAX_SIZE:
        raise ValueError(f"landscape {field} must be a 1-D array of 2 to {MAX_SIZE} values, "
                         f"got shape {a.shape}")
    if not np.isfinite(a).all() or a.min() < lo or a.max() > hi:
        raise ValueError(f"landscape {field} values must be finite and in [{lo:g}, {hi:g}]")
    if not (np.diff(a) > 0).all():
        raise ValueError(f"landscape {field} must be strictly increasing")
    return a


def timing(size: int = DEFAULT_SIZE, repeat: int = 3) -> dict[str, float]:
    """Best-of-``repeat`` wall time (s) of :func:`kl_landscape`, size × size, per preset."""
    import time

    from explorer.distributions import Laplace, Mixture, StudentT

    presets = {
        "bimodal": Mixture([Normal(-3, 1), Normal(3, 1)]),
        "student-t ν=1.5": Mixture([StudentT(-2, 1, 1.5), StudentT(2, 0.5, 1.5)]),
        "spike-and-slab": Mixture([Normal(0, 1), Normal(0, 0.01)]),
        "laplace+normal": Mixture([Laplace(-2, 1), Normal(2, 0.5)]),
    }
    best = {}
    for name, p in presets.items():
        times = []
        for _ in range(repeat):
            fresh = Mixture(p.components, p.weights)  # no cached breakpoints/entropy
            t0 = time.perf_counter()
            kl_landscape(fresh, size=size)
            times.append(time.perf_counter() - t0)
        best[name] = min(times)
    return best


if __name__ == "__main__":
    for name, seconds in timing().items():
        print(f"{name:>18}: {seconds * 1e3:7.1f} ms for a {DEFAULT_SIZE}×{DEFAULT_SIZE} grid "
              "(forward + reverse)")
