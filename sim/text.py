r"""Text that users wrote, shown back to them safely: bounded, visible, and literal in plots.

Names of channels, groups and variants, cells of data files and values from scenario files
reach terminals, error messages and figures. Shown raw, an escape sequence in a name could
rewrite the terminal, a 4 MB header could fill the screen, and a `$` in a name would be read
by matplotlib as the start of a formula (and crash the report). Three helpers:

- `visible`: control characters (escape, carriage return, bell, ...) shown as `\\x1b`-style
  escapes, so what is printed is exactly what is in the file.
- `excerpt`: `visible` and cut to a bounded length, with an ellipsis.
- `mathtext_literal`: a `$` escaped so that matplotlib draws it as a dollar sign.
"""

from __future__ import annotations

import unicodedata

EXCERPT_CHARS = 60
"""The longest excerpt of a user's text that a message quotes."""


def visible(text: str) -> str:
    r"""`text` with control and other non-printing characters shown as escapes (`\\x1b`, `\\n`)."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch.isprintable() or ch == " ":
            out.append(ch)
        elif unicodedata.category(ch) in ("Zs",):
            out.append(" ")
        else:
            out.append(repr(ch)[1:-1] if len(repr(ch)) > 3 else f"\\x{ord(ch):02x}")
    return "".join(out)


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """At most `limit` characters of `text`, made `visible`, with `...` when cut."""
    shown = visible(text[: limit * 2])
    if len(shown) > limit or len(text) > limit * 2:
        return shown[:limit] + "..."
    return shown


def mathtext_literal(text: str) -> str:
    """`text` as matplotlib draws it literally: every `$` escaped (no formula is started)."""
    return visible(text).replace("$", r"\$")


__all__ = ["EXCERPT_CHARS", "excerpt", "mathtext_literal", "visible"]
