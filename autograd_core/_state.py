"""Per-thread recording modes (``no_grad``, ``detect_anomaly``) and the anomaly error.

The mode is a small int in a ``ContextVar``: bit 0 set means "record no
graph" (``no_grad``), bit 1 means "check for non-finite values"
(``detect_anomaly``).  A context variable is private to its thread (and to
its asyncio task), so one thread's ``no_grad`` never changes what another
records, and it is cheaper to read than a ``threading.local``.  The hot path
of every op reads only ``special[0]``, a plain global: while it is 0 no thread
is in a special mode and the context variable need not be consulted at all.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

__all__ = ["AnomalyError", "no_grad", "enable_grad", "is_grad_enabled", "detect_anomaly", "mode_code", "special"]

NO_GRAD = 1
ANOMALY = 2


class AnomalyError(FloatingPointError):
    """A forward value or a backward gradient that is not finite, under ``detect_anomaly()``."""


_mode: ContextVar[int] = ContextVar("autograd_core_mode", default=0)
#: The mode of the calling thread: 0 plain, else a combination of NO_GRAD and ANOMALY.
mode_code = _mode.get

#: How many `with` blocks, in all threads, have a special mode in force right now.
special = [0]
_lock = threading.Lock()


@contextmanager
def _set_mode(code: int) -> Iterator[None]:
    token = _mode.set(code)
    with _lock:
        special[0] += 1
    try:
        yield
    finally:
        with _lock:
            special[0] -= 1
        _mode.reset(token)


def no_grad() -> Any:
    """Within this block (in this thread) operations record no op and no parents.

    Usable as ``with no_grad():`` and as a decorator ``@no_grad()``; nests.
    """
    return _set_mode(_mode.get() | NO_GRAD)


def enable_grad() -> Any:
    """Undo an enclosing ``no_grad()`` for this block (in this thread)."""
    return _set_mode(_mode.get() & ~NO_GRAD)


def is_grad_enabled() -> bool:
    """Whether operations in this thread currently record the graph."""
    return not _mode.get() & NO_GRAD


def is_anomaly_enabled() -> bool:
    """Whether ``detect_anomaly()`` is in force in this thread."""
    return bool(_mode.get() & ANOMALY)


def detect_anomaly() -> Any:
    """Raise :class:`AnomalyError` at the first non-finite forward value or backward gradient.

    The error names the op, its inputs and the node's label.  The checks cost
    time, so they are off outside this block.
    """
    return _set_mode(_mode.get() | ANOMALY)
