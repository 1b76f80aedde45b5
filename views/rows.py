"""The per-row editors of /discrete, /rlhf and /distill: a count input ("<prefix>_n", laid out by
the page) and one row of widgets per item, a name and one or two numbers, keyed
"<prefix><i>_label" and "<prefix><i>_<field>" (i = 1…n).  The widgets are seeded from the state;
the page's on_change callback reads every row back with :meth:`RowEditor.checked`, which
validates them (the page's own check) and records the error under the page's key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from views.common import errors, seed


@dataclass(frozen=True)
class Number:
    field: str  # key suffix: "p" -> d{i}_p
    label: str  # with {} for the row's name: "P({})" -> "P(outcome 3)"
    lo: float
    hi: float
    step: float
    new: float  # a newly added row's value


@dataclass(frozen=True)
class RowEditor:
    prefix: str  # "d" -> d_n, d{i}_label, d{i}_<field>
    name: str  # "outcome": new rows are "outcome 4", inputs "Outcome 4", "P(outcome 4)"
    numbers: tuple[Number, ...]
    max_chars: int
    widths: tuple[int, ...]  # of the name column and each number's

    @property
    def count_key(self) -> str:
        return f"{self.prefix}_n"

    def keys(self, i: int) -> tuple[str, ...]:
        return (f"{self.prefix}{i}_label",
                *(f"{self.prefix}{i}_{n.field}" for n in self.numbers))

    def new_row(self, i: int) -> tuple:
        return (f"{self.name} {i}", *(n.new for n in self.numbers))

    def read(self) -> list[tuple]:
        """Every row as the widgets hold it; a row just added by the count gets its defaults."""
        ss = st.session_state
        rows = []
        for i in range(1, int(ss[self.count_key]) + 1):
            keys = self.keys(i)
            if keys[0] not in ss:
                for key, value in zip(keys, self.new_row(i), strict=True):
                    ss[key] = value
            rows.append(tuple(ss[key] for key in keys))
        return rows

    def checked(self, check: Callable, error_key: str):
        """``check(rows)`` (the state's validator), or None with its message recorded under
        ``error_key`` (shown by the page; the state keeps its last good rows)."""
        try:
            return check(self.read())
        except ValueError as e:
            errors()[error_key] = str(e)
            return None

    def render(self, rows, on_change: Callable) -> None:
        """The rows' widgets, seeded from ``rows`` (the state), new rows from the defaults.
        Every input has its own label: on a phone the columns stack, and a header row would
        float away from the inputs it names."""
        for i in range(1, int(st.session_state[self.count_key]) + 1):
            keys = self.keys(i)
            for key, value in zip(keys, rows[i - 1] if i <= len(rows) else self.new_row(i),
                                  strict=True):
                seed(key, value)
            cols = st.columns(list(self.widths))
            cols[0].text_input(f"{self.name.capitalize()} {i}", key=keys[0], on_change=on_change,
                               max_chars=self.max_chars)
            for col, n, key in zip(cols[1:], self.numbers, keys[1:], strict=True):
                col.number_input(n.label.format(f"{self.name} {i}"), min_value=n.lo,
                                 max_value=n.hi, step=n.step, format="%g", key=key,
                                 on_change=on_change)
