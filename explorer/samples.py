"""Samples for the drift page: a drifted copy of a known target (so the true divergences are known;
samples are drawn by :func:`explorer.mle.sample`), or a CSV file a user uploads.

Reading is strict about what it keeps and honest about what it drops: a cell that is blank, not a
number, NaN or infinite drops its row, the dropped rows are counted, and the first one is named
(file, column, row number as a spreadsheet shows it).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass

import numpy as np

from explorer.components import Laplace, Normal, StudentT
from explorer.drift import MAX_SAMPLE, MIN_SAMPLE
from explorer.mixture import Mixture

MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # also .streamlit/config.toml's server.maxUploadSize (MB)
MAX_COLUMNS = 200
DELIMITERS = ",;\t|"


def drifted(p: Mixture, shift: float = 0.0, scale: float = 1.0, extra_weight: float = 0.0,
            extra_mean: float = 0.0, extra_std: float = 1.0) -> Mixture:
    """A drifted copy of ``p``: every component moved by ``shift`` and spread ``scale``× about
    p's mean (Student-t about its location if p has no mean), plus an extra Normal mode of
    weight ``extra_weight`` (the rest keeps p's relative weights)."""
    if not 0.0 <= extra_weight < 1.0:
        raise ValueError(f"extra mode weight must be in [0, 1), got {extra_weight!r}")
    centre = p.mean if math.isfinite(p.mean) else p.components[0].loc
    comps = []
    for c in p.components:
        loc = centre + scale * (c.loc - centre) + shift
        if isinstance(c, Normal):
            comps.append(Normal(loc, c.std * scale))
        elif isinstance(c, StudentT):
            comps.append(StudentT(loc, c.scale * scale, c.df))
        else:
            comps.append(Laplace(loc, c.scale * scale))
    weights = [w * (1.0 - extra_weight) for w in p.weights]
    if extra_weight > 0:
        comps.append(Normal(extra_mean, extra_std))
        weights.append(extra_weight)
    return Mixture(comps, weights)


@dataclass(frozen=True)
class Table:
    """A parsed CSV: column names and the raw cells (rows padded with None where short)."""

    file: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str | None, ...], ...]
    header: bool  # whether row 1 named the columns
    delimiter: str
    ragged: int  # rows whose number of cells differs from the header's


def read_csv(data: bytes, file: str) -> Table:
    """Parse CSV bytes (delimiter sniffed among , ; tab |; header detected).  Raises ValueError
    naming the file for an empty, oversized, non-text or table-less file."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValueError(f"{file}: {len(data) / 2**20:.1f} MB is over the "
                         f"{MAX_UPLOAD_BYTES // 2**20} MB limit")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ValueError(f"{file}: not UTF-8 text (byte {e.start + 1}); save it as CSV "
                         "(UTF-8)") from None
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise ValueError(f"{file}: the file is empty")
    try:
        delimiter = csv.Sniffer().sniff("\n".join(lines[:50]), delimiters=DELIMITERS).delimiter
    except csv.Error:
        delimiter = ","
    rows = list(csv.reader(lines, delimiter=delimiter))
    first = [c.strip() for c in rows[0]]
    header = any(_number(c) is None and c for c in first)
    width = len(first)
    if width > MAX_COLUMNS:
        raise ValueError(f"{file}: {width} columns; at most {MAX_COLUMNS}")
    names = [c or f"column {i + 1}" for i, c in enumerate(first)] if header else [
        f"column {i + 1}" for i in range(width)]
    body = rows[1:] if header else rows
    if len(body) > MAX_SAMPLE:
        raise ValueError(f"{file}: {len(body):,} rows; at most {MAX_SAMPLE:,} (take a sample)")
    ragged = sum(len(r) != width for r in body)
    cells = tuple(tuple(r[i].strip() if i < len(r) else None for i in range(width))
                  for r in body)
    return Table(file, tuple(names), cells, header, delimiter, ragged)


def _number(cell: str | None) -> float | None:
    if cell is None:
        return None
    try:
        v = float(cell)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


@dataclass(frozen=True)
class Column:
    """A numeric column: the values kept, and what was dropped."""

    values: np.ndarray
    dropped: int
    first_bad: str | None  # e.g. "row 7: 'n/a'"

    def note(self, file: str, column: str) -> str | None:
        if not self.dropped:
            return None
        return (f"{file}, column '{column}': {self.dropped:,} row(s) dropped (blank, not a "
                f"number or not finite); the first is {self.first_bad}")


def numeric_column(table: Table, column: str) -> Column:
    """The finite numbers of ``column``; raises ValueError (naming file, column and the first bad
    row) when fewer than MIN_SAMPLE remain or all are equal."""
    if column not in table.columns:
        raise ValueError(f"{table.file}: no column '{column}'; it has "
                         f"{', '.join(repr(c) for c in table.columns[:10])}")
    j = table.columns.index(column)
    offset = 2 if table.header else 1  # the row number a spreadsheet shows
    values, first_bad, dropped = [], None, 0
    for i, row in enumerate(table.rows):
        v = _number(row[j])
        if v is None:
            dropped += 1
            if first_bad is None:
                first_bad = f"row {i + offset}: {row[j] if row[j] is not None else 'missing'!r}"
        else:
            values.append(v)
    if len(values) < MIN_SAMPLE:
        bad = f"; the first bad row is {first_bad}" if first_bad else ""
        raise ValueError(f"{table.file}, column '{column}': {len(values)} numeric value(s); "
                         f"need at least {MIN_SAMPLE}{bad}")
    x = np.asarray(values)
    if np.all(x == x[0]):
        raise ValueError(f"{table.file}, column '{column}': every value is {x[0]:.6g}; a sample "
                         "with one distinct value has no distribution to compare")
    return Column(x, dropped, first_bad)


def pick_column(table: Table) -> str:
    """The column to compare first: the first numeric one that is not a row number (whole
    numbers, strictly increasing), else the first numeric one; ValueError naming the file and the
    first column's problem when none is numeric."""
    usable, problems = [], []
    for column in table.columns:
        try:
            usable.append((column, numeric_column(table, column).values))
        except ValueError as e:
            problems.append(str(e))
    if not usable:
        raise ValueError(problems[0] if len(problems) == 1 else
                         f"{table.file}: no column has enough numbers ({problems[0]})")
    for column, x in usable:
        if not (np.all(x == np.round(x)) and np.all(np.diff(x) > 0)):
            return column
    return usable[0][0]
