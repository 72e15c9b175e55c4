"""Bounded, terminal-safe pieces of error messages, shared by every package.

An error message may quote what it was given: a file name, a field of a model
file, the output of a program.  Quoted raw, a 10 MB field floods the terminal
and a name holding a newline or an escape sequence rewrites it.  So:

* :func:`shorten` cuts any text to a bound, saying how much was cut;
* :func:`show_name` shows a file name (or any user-given name) by ``repr``,
  so control characters appear escaped (``'a\\nb'``), and bounded;
* :func:`show_value` is ``repr`` of any value, bounded.

``MAX_MESSAGE`` is the bound a whole message is kept within.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["MAX_MESSAGE", "MAX_QUOTE", "shorten", "show_name", "show_value"]

#: Longest message (in characters) that errors built with these helpers reach.
MAX_MESSAGE = 2000
#: Longest quotation of one user-given thing (a name, a value) inside a message.
MAX_QUOTE = 200


def shorten(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` itself if it has at most ``limit`` characters, else its head and tail around a cut marker.

    The result never exceeds ``limit`` characters (``limit`` must be at least 40,
    room for the marker).

    Raises:
        TypeError: if ``text`` is not a str or ``limit`` not an int.
        ValueError: if ``limit`` is below 40.
    """
    if not isinstance(text, str):
        raise TypeError(f"shorten() needs a str, got {type(text).__name__}")
    if not isinstance(limit, int) or isinstance(limit, bool):
        raise TypeError(f"shorten() limit must be an int, got {type(limit).__name__}")
    if limit < 40:
        raise ValueError(f"shorten() limit must be at least 40 characters, got {limit}")
    if len(text) <= limit:
        return text
    # The marker's length depends on the number cut, which depends on the marker: size it for the worst case.
    marker = f" ...[{len(text)} characters, cut]... "
    room = limit - len(marker)
    head = room - room // 3
    tail = room - head
    return text[:head] + marker + (text[-tail:] if tail else "")


def show_value(value: Any, limit: int = MAX_QUOTE) -> str:
    """``repr(value)``, shortened to ``limit`` characters (a huge value is never formatted whole)."""
    if isinstance(value, str) and len(value) > limit:
        # repr of a 10 MB string would build another 10 MB first: quote only the ends that can be shown.
        marker = f"...[a str of {len(value)} characters, cut]..."
        room = max(limit - len(marker) - 4, 8)
        head, tail = repr(value[: room // 2 + 1])[:-1], repr(value[-(room // 2) :])[1:]
        return shorten(head[: room // 2 + 1] + marker + tail[-(room // 2) - 1 :], limit)
    return shorten(repr(value), limit)


def show_name(name: str | bytes | os.PathLike[str] | os.PathLike[bytes], limit: int = MAX_QUOTE) -> str:
    """A file name as it can be shown on a terminal: its ``repr`` (control characters escaped), bounded.

    Accepts a str, bytes or path-like; a bytes name is decoded as the file
    system does (undecodable bytes appear escaped).
    """
    raw = os.fspath(name)
    text = os.fsdecode(raw) if isinstance(raw, bytes) else raw
    return show_value(text, limit)
