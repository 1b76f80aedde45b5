"""KL Explorer's computational core: distributions, divergences, Gaussian fits, figures.

>>> from explorer import Normal, Mixture, kl_divergence, fit_gaussian
>>> p = Mixture([Normal(-3, 1), Normal(3, 1)], weights=[0.5, 0.5])
>>> round(fit_gaussian(p, "forward").q.std, 6)
3.162278
"""

from explorer.discrete import Categorical
from explorer.distill import fit_student, soft_targets, t2_curve
from explorer.distributions import Laplace, Mixture, Normal, StudentT
from explorer.divergences import (
    cross_entropy,
    entropy,
    js_divergence,
    kl_divergence,
    to_unit,
    why_infinite,
)
from explorer.estimators import discrete_exact, gaussian_exact, gradient_check, k_values
from explorer.fitting import Fit, NoFiniteFitError, fit_gaussian
from explorer.mvnormal import MvNormal
from explorer.rlhf import frontier, tilt, tilted_policy
from explorer.vi2d import elbo

__all__ = [
    "Categorical",
    "Fit",
    "Laplace",
    "Mixture",
    "MvNormal",
    "NoFiniteFitError",
    "Normal",
    "StudentT",
    "cross_entropy",
    "elbo",
    "entropy",
    "fit_gaussian",
    "js_divergence",
    "kl_divergence",
    "to_unit",
    "why_infinite",
    # KL in modern ML (issue 9)
    "discrete_exact", "fit_student", "frontier", "gaussian_exact", "gradient_check", "k_values",
    "soft_targets", "t2_curve", "tilt", "tilted_policy",
]
