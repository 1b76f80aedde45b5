"""KL Explorer's computational core: distributions, divergences, Gaussian fits, figures.

>>> from explorer import Normal, Mixture, kl_divergence, fit_gaussian
>>> p = Mixture([Normal(-3, 1), Normal(3, 1)], weights=[0.5, 0.5])
>>> round(fit_gaussian(p, "forward").q.std, 6)
3.162278
"""

from explorer.lazy import lazy_attributes

# Names of the public API -> the module that defines them.  They are imported on first use
# (PEP 562), so `import explorer.presets` does not pull in scipy's optimisers and special
# functions for pages that never use them: the app's first page starts faster.
_WHERE = {
    "alpha_divergence": "alpha",
    "Categorical": "discrete",
    "fit_student": "distill", "soft_targets": "distill", "t2_curve": "distill",
    "Laplace": "distributions", "Mixture": "distributions", "Normal": "distributions",
    "StudentT": "distributions",
    "cross_entropy": "divergences", "entropy": "divergences", "js_divergence": "divergences",
    "kl_divergence": "divergences", "to_unit": "divergences", "why_infinite": "divergences",
    "discrete_exact": "estimators", "gaussian_exact": "estimators",
    "gradient_check": "estimators", "k_values": "estimators",
    "Fit": "fitting", "NoFiniteFitError": "fitting", "fit_gaussian": "fitting",
    "frontier": "rlhf", "tilt": "rlhf", "tilted_policy": "rlhf",
    "MvNormal": "mvnormal", "elbo": "vi2d",
    "sweep": "sweeps", "target_at": "sweeps",
}

__all__ = sorted(_WHERE)


__getattr__, __dir__ = lazy_attributes(__name__, _WHERE, globals())
