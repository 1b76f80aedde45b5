"""Stored results of the slow independent references (mpmath at 40 digits, nested scipy quad).

A reference integral takes seconds to a minute; the test suite asks for the same ones on every
run.  :func:`cached` keeps each result in a JSON file beside the tests, keyed by the function's
name and its exact inputs (floats written with full precision, so a key matches only the very
same inputs): a case asked before is read back, a new one is computed by the reference itself
and added.  The values stay the reference's own — delete the file to recompute all of them."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np


def _plain(v):
    """The JSON form of a reference's arguments: sequences as lists, numbers as floats (exact in
    JSON), strings and None as they are, anything else (an mpf) as its full-precision text."""
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_plain(x) for x in v]
    if v is None or isinstance(v, str | bool):
        return v
    if isinstance(v, int | float | np.integer | np.floating):
        return float(v)
    return str(v)


def cached(name: str, encode=float, decode=float):
    """Keep the results of the decorated reference in ``tests/<name>`` (``encode`` a result into
    JSON, ``decode`` it back)."""
    path = Path(__file__).with_name(name)

    def wrap(fn):
        @functools.wraps(fn)
        def wrapper(*args):
            key = f"{fn.__name__}{json.dumps(_plain(args))}"
            table = json.loads(path.read_text()) if path.exists() else {}
            if key not in table:
                table[key] = encode(fn(*args))
                path.write_text(json.dumps(table, indent=0, sort_keys=True) + "\n")
            return decode(table[key])

        return wrapper

    return wrap
