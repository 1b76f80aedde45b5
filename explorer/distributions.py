"""Distributions on the real line: the components (:mod:`explorer.components`: Normal, Student-t,
Laplace) and their mixtures (:mod:`explorer.mixture`), under one name for callers."""

from explorer.components import (
    COMPONENT_TYPES,
    LOG_2PI,
    MAX_ABS_LOCATION,
    MAX_DF,
    MAX_SCALE,
    MIN_DF,
    MIN_SCALE,
    Component,
    Laplace,
    Normal,
    StudentT,
    check_real,
)
from explorer.mixture import Distribution, Mixture, as_mixture

__all__ = [
    "COMPONENT_TYPES",
    "LOG_2PI",
    "MAX_ABS_LOCATION",
    "MAX_DF",
    "MAX_SCALE",
    "MIN_DF",
    "MIN_SCALE",
    "Component",
    "Distribution",
    "Laplace",
    "Mixture",
    "Normal",
    "StudentT",
    "as_mixture",
    "check_real",
]
