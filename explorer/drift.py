"""Drift between two samples: KL, JS and PSI estimated from a reference and a live column.

Every KL elsewhere in the explorer is between known distributions.  Here only samples are known,
and the estimate depends on how it is made:

* binned (plug-in) estimates — histogram both samples on the same bins, smooth the bin
  frequencies additively by ε, and take KL, JS and PSI of the two probability vectors (the
  formulas of :mod:`explorer.discrete`).  An empty bin of one sample makes a KL infinite; the
  binning (equal-width, quantiles of the reference, Freedman–Diaconis) changes the answer, and
  binning can only lose information: a binned KL is at most the continuous one.
* the k-nearest-neighbour estimator of Wang, Kulkarni & Verdú (2009) for continuous data, free
  of bins: D̂(P‖Q) = mean_i log(ν_k(i)/ρ_k(i)) + log(m/(n−1)) for x_1..x_n ~ P, y_1..y_m ~ Q,
  with ρ_k(i) the distance from x_i to its k-th neighbour among the other x, ν_k(i) to its k-th
  neighbour among the y (``scipy.spatial.cKDTree``).  It assumes continuous data: a value that
  repeats more than k times makes a distance 0, and the estimator then says so.

PSI (population stability index) = Σ (p_b − q_b) log(p_b/q_b) = KL(p‖q) + KL(q‖p) on the bins.
Customary reading: below 0.1 no significant change, 0.1–0.25 a moderate shift, above 0.25 a
major shift.  Uncertainty (bootstrap, permutation null) is in :mod:`explorer.drift_noise`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from explorer.discrete import js_probs, kl_probs, smooth
from explorer.drift_options import BINNINGS, ESTIMATES, Options  # noqa: F401  (re-exported)

MAX_SAMPLE = 100_000  # values per sample: a request stays within seconds on one core
MIN_SAMPLE = 5
MAX_BINS = 200
PSI_THRESHOLDS = (0.1, 0.25)
MAX_K = 50


def check_sample(name: str, values) -> np.ndarray:
    """A 1-D array of finite floats with MIN_SAMPLE..MAX_SAMPLE values, else a ValueError naming
    ``name``.  (Cleaning a raw column — blanks, text, NaN — is :mod:`explorer.samples`.)"""
    try:
        x = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        raise ValueError(f"{name}: values must be numbers") from None
    if not MIN_SAMPLE <= x.size <= MAX_SAMPLE:
        raise ValueError(f"{name}: need {MIN_SAMPLE} to {MAX_SAMPLE:,} values, got {x.size:,}")
    bad = np.flatnonzero(~np.isfinite(x))
    if bad.size:
        raise ValueError(f"{name}: value {bad[0] + 1} is {x[bad[0]]}; values must be finite")
    return x


def psi_reading(psi: float) -> str:
    """The customary reading of a PSI value."""
    low, high = PSI_THRESHOLDS
    if psi < low:
        return f"below {low}: no significant change"
    if psi < high:
        return f"{low}–{high}: a moderate shift"
    return f"above {high}: a major shift"


def bin_edges(ref: np.ndarray, live: np.ndarray, binning: str = "quantile",
              bins: int = 10) -> np.ndarray:
    """Bin edges shared by both samples; the outer bins are open (edges −∞ and +∞), so every
    value of either sample falls in a bin.  ``bins`` is ignored by "fd", which sets the width
    2·IQR(ref)·n^(−1/3) (at most MAX_BINS bins).  Quantile edges that coincide (a reference with
    repeated values) are merged, so there may be fewer bins than asked."""
    if binning not in BINNINGS:
        raise ValueError(f"binning must be one of {sorted(BINNINGS)}, got {binning!r}")
    if binning != "fd" and not (isinstance(bins, int | np.integer) and 2 <= bins <= MAX_BINS):
        raise ValueError(f"bins must be a whole number in [2, {MAX_BINS}], got {bins!r}")
    lo = min(ref.min(), live.min())
    hi = max(ref.max(), live.max())
    if binning == "quantile":
        inner = np.quantile(ref, np.linspace(0.0, 1.0, bins + 1)[1:-1])
    else:
        if binning == "fd":
            q75, q25 = np.quantile(ref, [0.75, 0.25])
            if not q75 > q25:
                raise ValueError("Freedman–Diaconis binning: the reference's interquartile range "
                                 "is 0 (over half its values are equal); choose quantile or "
                                 "equal-width bins")
            width = 2.0 * (q75 - q25) * ref.size ** (-1.0 / 3.0)
            bins = int(min(max(math.ceil((hi - lo) / width), 2), MAX_BINS))
        inner = np.linspace(lo, hi, bins + 1)[1:-1] if hi > lo else np.array([lo])
    return np.concatenate([[-math.inf], np.unique(inner), [math.inf]])


def bin_counts(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts of ``x`` in the bins [e_b, e_{b+1}) of ``edges`` (outer edges ±∞)."""
    return np.bincount(np.searchsorted(edges[1:-1], x, side="right"), minlength=edges.size - 1)


@dataclass(frozen=True)
class Binned:
    """Binned divergences of two samples (or two distributions) on shared bins, in nats."""

    edges: np.ndarray
    ref_counts: np.ndarray  # float: expected counts when built from distributions
    live_counts: np.ndarray
    ref_probs: np.ndarray  # smoothed bin probabilities
    live_probs: np.ndarray
    eps: float

    @property
    def kl_ref_live(self) -> float:
        return kl_probs(self.ref_probs, self.live_probs)

    @property
    def kl_live_ref(self) -> float:
        return kl_probs(self.live_probs, self.ref_probs)

    @property
    def js(self) -> float:
        return js_probs(self.ref_probs, self.live_probs)

    @property
    def psi(self) -> float:
        return self.kl_ref_live + self.kl_live_ref

    def contributions(self) -> np.ndarray:
        """Per-bin PSI terms (p_b − q_b)·log(p_b/q_b) ≥ 0, ∞ where one sample's bin is empty."""
        p, q = self.ref_probs, self.live_probs
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(p == q, 0.0, (p - q) * (np.log(p) - np.log(q)))

    def why_infinite(self) -> str | None:
        """Which empty bins make a KL (and PSI) infinite, or None."""
        p, q = self.ref_probs, self.live_probs
        lines = []
        for name, a, b in (("live", p, q), ("reference", q, p)):
            empty = np.flatnonzero((b == 0) & (a > 0))
            if empty.size:
                shown = ", ".join(bin_label(self.edges, i) for i in empty[:3])
                more = f" and {empty.size - 3} more" if empty.size > 3 else ""
                lines.append(f"the {name} sample has no value in bin {shown}{more}, where the "
                             f"other has some")
        if not lines:
            return None
        return ("; ".join(lines) + ": log(p/0) = ∞. Additive smoothing ε > 0 makes every bin "
                "possible.")


def bin_label(edges: np.ndarray, b: int) -> str:
    lo, hi = edges[b], edges[b + 1]
    left = "(−∞" if math.isinf(lo) else f"[{lo:.4g}"
    right = "∞)" if math.isinf(hi) else f"{hi:.4g})"
    return f"{left}, {right}"


def check_eps(eps) -> float:
    if not (isinstance(eps, int | float) and math.isfinite(eps) and 0.0 <= eps <= 1.0):
        raise ValueError(f"smoothing ε must be a number in [0, 1], got {eps!r}")
    return float(eps)


def binned(ref: np.ndarray, live: np.ndarray, binning: str = "quantile", bins: int = 10,
           eps: float = 0.0, edges: np.ndarray | None = None) -> Binned:
    """Histogram both samples on shared bins (``edges``, else :func:`bin_edges`) and smooth."""
    eps = check_eps(eps)
    if edges is None:
        edges = bin_edges(ref, live, binning, bins)
    rc, lc = bin_counts(ref, edges), bin_counts(live, edges)
    return Binned(edges, rc, lc, smooth(rc / ref.size, eps), smooth(lc / live.size, eps), eps)


@dataclass(frozen=True)
class Knn:
    """The kNN estimate of KL(x‖y) and its per-point terms, or why it cannot be made."""

    value: float | None
    terms: np.ndarray  # log(ν_k(i)/ρ_k(i)) + log(m/(n−1)), one per x_i; their mean is value
    why_not: str | None = None


def knn_kl(x: np.ndarray, y: np.ndarray, k: int = 1) -> Knn:
    """Wang–Kulkarni–Verdú k-nearest-neighbour estimate of KL(P‖Q) from x ~ P, y ~ Q (1-D)."""
    if not (isinstance(k, int | np.integer) and 1 <= k <= MAX_K):
        raise ValueError(f"k must be a whole number in [1, {MAX_K}], got {k!r}")
    n, m = x.size, y.size
    if n <= k or m < k:
        return Knn(None, np.empty(0), f"needs more than k = {k} values in each sample")
    rho = cKDTree(x[:, None]).query(x[:, None], k=k + 1)[0][:, k]
    nu = cKDTree(y[:, None]).query(x[:, None], k=[k])[0][:, 0]
    for name, dist in (("the sample itself", rho), ("the other sample", nu)):
        ties = np.flatnonzero(dist == 0)
        if ties.size:
            return Knn(None, np.empty(0),
                       f"{ties.size:,} values have their {_ordinal(k)} nearest neighbour in "
                       f"{name} at distance 0 (e.g. {x[ties[0]]:.6g} repeats): the kNN "
                       "estimator assumes continuous data without repeated values; use the "
                       "binned estimates, or a larger k")
    terms = np.log(nu) - np.log(rho) + math.log(m / (n - 1))
    return Knn(float(np.mean(terms)), terms)


def _ordinal(k: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(int(k), f"{k}th")


def estimates(ref: np.ndarray, live: np.ndarray, opt: Options,
              knn: tuple[Knn, Knn] | None = None) -> dict[str, float | None]:
    """Every estimate of :data:`ESTIMATES` (nats; None where kNN cannot be made).  ``knn``: the
    two kNN results (ref‖live, live‖ref) when already made."""
    b = binned(ref, live, opt.binning, opt.bins, opt.eps)
    rl, lr = knn or (knn_kl(ref, live, opt.k), knn_kl(live, ref, opt.k))
    return {"KL(ref‖live)": b.kl_ref_live, "KL(live‖ref)": b.kl_live_ref, "JS": b.js,
            "PSI": b.psi, "kNN KL(ref‖live)": rl.value, "kNN KL(live‖ref)": lr.value}
