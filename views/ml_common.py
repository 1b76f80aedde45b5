"""What the /rlhf, /estimators and /distill pages share: their part of the state
(``AppState.mlkl``), committed with validation, and user text shown as plain text."""

from __future__ import annotations

from views.common import as_text, commit_part, field_callback, get_state

__all__ = ["as_text", "commit_ml", "ml", "ml_callback"]


def ml():
    return get_state().mlkl


def commit_ml(key: str, **changes) -> bool:
    """Apply ``changes`` to the ML pages' state (:func:`views.common.commit_part`)."""
    return commit_part("mlkl", key, **changes)


def ml_callback(key: str, field: str, convert=None):
    """on_change callback writing widget ``key``'s value into the ML pages' ``field``."""
    return field_callback(key, field, convert, apply=commit_ml)
