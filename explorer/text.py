"""Untrusted text (from a link or a text box) shown as text: never as Markdown, never as HTML.

One function, :func:`as_text`, for both places text is rendered with markup:

* ``markup="markdown"`` — Streamlit's alerts, captions and markdown (CommonMark + GFM, plus
  Streamlit's ``:colour[...]``/``:material/...:`` directives and ``$…$`` math): every ASCII
  punctuation character gets a backslash (CommonMark lets any of them be escaped, and then shows it
  literally), which disarms links, images, raw HTML, emphasis, code, tables, math, directives and
  GFM autolinks (``www.``, ``http:``, ``a@b``) alike; line breaks and other control characters
  become spaces, so nothing can start a block (heading, list, quote, code block) of its own.
* ``markup="plotly"`` — Plotly titles, tick labels, legend names and hover text, which render a
  subset of HTML (``<a href>``, ``<b>``, ``<br>``, …): ``&``, ``<`` and ``>`` become entities
  (Plotly shows the character itself), control characters become spaces.

Text passed through it reads exactly as typed; :func:`unescape_markdown` gives back what a reader
sees (used by the tests).
"""

from __future__ import annotations

import re
import string

_PUNCT = re.compile("([" + re.escape(string.punctuation) + "])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_PLOTLY = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
MARKUPS = ("markdown", "plotly")


def as_text(value, markup: str = "markdown") -> str:
    """``str(value)`` escaped so that ``markup`` shows it literally (see the module docstring)."""
    s = _CONTROL.sub(" ", str(value))
    if markup == "markdown":
        return _PUNCT.sub(r"\\\1", s)
    if markup == "plotly":
        return "".join(_PLOTLY.get(ch, ch) for ch in s)
    raise ValueError(f"markup must be one of {', '.join(MARKUPS)}, got {markup!r}")


def unescape_markdown(text: str) -> str:
    """What a reader sees of :func:`as_text`'s Markdown output (backslash escapes removed)."""
    return re.sub(r"\\([" + re.escape(string.punctuation) + "])", r"\1", text)
