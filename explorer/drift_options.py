"""The vocabulary of :mod:`explorer.drift`: the binnings, the estimates and the options that make
them.  Kept apart (no scipy) so that the app's state can name them without importing the
numerics."""

from __future__ import annotations

from dataclasses import dataclass

BINNINGS = {"quantile": "quantiles of the reference", "equal-width": "equal width",
            "fd": "Freedman–Diaconis width"}

ESTIMATES = ("KL(ref‖live)", "KL(live‖ref)", "JS", "PSI", "kNN KL(ref‖live)",
             "kNN KL(live‖ref)")


@dataclass(frozen=True)
class Options:
    """How the estimates are made."""

    binning: str = "quantile"
    bins: int = 10
    eps: float = 1e-4
    k: int = 1
