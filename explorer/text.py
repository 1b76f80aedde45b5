"""Untrusted text (from a link or a text box) shown as text: never as Markdown, never as HTML.

One function, :func:`as_text`, for both places text is rendered with markup:

* ``markup="markdown"`` — Streamlit's alerts, captions and markdown (CommonMark + GFM, plus
  Streamlit's ``:colour[...]``/``:material/...:`` directives and ``$…$`` math): every ASCII
  punctuation character gets a backslash (CommonMark lets any of them be escaped, and then shows it
  literally), which disarms links, images, raw HTML, emphasis, code, tables and math; line breaks
  and other control characters become spaces, so nothing can start a block (heading, list,
  quote, code block) of its own.  Some constructs are found later, in the parsed text, where the
  escapes are already gone — GFM autolinks (``www.x``, ``http://x``, ``a@x.y``) and Streamlit's
  ``:colour[…]``, ``:material/…:`` and ``:emoji:`` — so an invisible WORD JOINER (U+2060) also
  goes after every ':' and '@' and between "www" and ".", which breaks those patterns without
  changing what a reader sees.
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
_JOINER = "\u2060"
_LATE = re.compile(r"(?i)(www)(?=\.)|([:@])")
MARKUPS = ("markdown", "plotly")


def as_text(value, markup: str = "markdown") -> str:
    """``str(value)`` escaped so that ``markup`` shows it literally (see the module docstring)."""
    s = _CONTROL.sub(" ", str(value))
    if markup == "markdown":
        s = _LATE.sub(lambda m: (m.group(1) or m.group(2)) + _JOINER, s)
        return _PUNCT.sub(r"\\\1", s)
    if markup == "plotly":
        return "".join(_PLOTLY.get(ch, ch) for ch in s)
    raise ValueError(f"markup must be one of {', '.join(MARKUPS)}, got {markup!r}")


def unescape_markdown(text: str) -> str:
    """What a reader sees of :func:`as_text`'s Markdown output (backslash escapes and word
    joiners removed)."""
    text = text.replace(_JOINER, "")
    return re.sub(r"\\([" + re.escape(string.punctuation) + "])", r"\1", text)
