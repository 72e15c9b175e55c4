"""What the command line prints about the user's input: names made safe for a terminal, lists and messages kept short.

* :func:`shown` a name or path as typed, or by ``repr`` when it holds anything
  unprintable (a newline, an escape sequence), so it cannot break the one-line
  error or drive the terminal;
* :func:`listing` a comma-separated list cut after a few items, saying how many were left out;
* :func:`bounded` a whole message cut to :data:`MAX_MESSAGE` characters, saying how many were left out.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

__all__ = ["MAX_MESSAGE", "MAX_LISTED", "shown", "listing", "bounded"]

#: Longest error message printed, in characters (longer ones end in "... (N more characters)").
MAX_MESSAGE = 300
#: Most items :func:`listing` names before "and N more".
MAX_LISTED = 8


def shown(name: str | os.PathLike[str]) -> str:
    """``name`` as typed when every character is printable, else its ``repr`` (``'a\\nb'``)."""
    text = os.fspath(name)
    return text if text.isprintable() else repr(text)


def listing(items: Sequence[str], limit: int = MAX_LISTED) -> str:
    """``"a, b, c"``; past ``limit`` items ``"a, b, ... and 99992 more"``; each item through :func:`shown`."""
    head = [shown(x) for x in items[:limit]]
    rest = len(items) - len(head)
    return ", ".join(head) + (f" and {rest} more" if rest > 0 else "")


def bounded(message: str, limit: int = MAX_MESSAGE) -> str:
    """``message`` on one line, unprintable characters escaped, at most about ``limit`` characters.

    This is the last line of defence: messages are written short, with names
    through :func:`shown`; whatever still slips through is escaped and cut here.
    """
    text = " ".join(message.split())
    if not text.isprintable():
        # repr without its quotes escapes exactly the unprintable characters.
        text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    if len(text) <= limit:
        return text
    # Keep the end short enough that the result, with its tail, stays within limit.
    tail = f"... ({len(text) - limit} more characters)"
    keep = max(limit - len(tail), 0)
    return text[:keep] + f"... ({len(text) - keep} more characters)"
