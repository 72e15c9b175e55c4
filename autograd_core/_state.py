"""Per-thread recording modes (``no_grad``, ``detect_anomaly``) and the anomaly error.

The modes live in a ``threading.local`` so that one thread's ``no_grad`` never
changes what another thread records.  ``plain`` caches "recording, no anomaly
checks": the one attribute the hot path of every op reads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class AnomalyError(FloatingPointError):
    """A forward value or a backward gradient that is not finite, under ``detect_anomaly()``."""


#: How many threads are inside a non-default mode right now.  The hot path of
#: every op reads only ``special[0]``, a plain global: while it is 0 no thread
#: can be in ``no_grad`` or ``detect_anomaly``, and the per-thread ``mode``
#: (slower to read) need not be consulted.
special = [0]
_lock = threading.Lock()


class _Mode(threading.local):
    # Class attributes are every thread's defaults; assignments are per thread.
    grad_enabled: bool = True
    anomaly: bool = False
    plain: bool = True

    def refresh(self) -> None:
        plain = self.grad_enabled and not self.anomaly
        if plain != self.plain:
            with _lock:
                special[0] += -1 if plain else 1
        self.plain = plain


mode = _Mode()


@contextmanager
def no_grad() -> Iterator[None]:
    """Within this block (in this thread) operations record no op and no parents.

    Usable as ``with no_grad():`` and as a decorator ``@no_grad()``; nests.
    """
    prev = mode.grad_enabled
    mode.grad_enabled = False
    mode.refresh()
    try:
        yield
    finally:
        mode.grad_enabled = prev
        mode.refresh()


@contextmanager
def enable_grad() -> Iterator[None]:
    """Undo an enclosing ``no_grad()`` for this block (in this thread)."""
    prev = mode.grad_enabled
    mode.grad_enabled = True
    mode.refresh()
    try:
        yield
    finally:
        mode.grad_enabled = prev
        mode.refresh()


def is_grad_enabled() -> bool:
    """Whether operations in this thread currently record the graph."""
    return mode.grad_enabled


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise :class:`AnomalyError` at the first non-finite forward value or backward gradient.

    The error names the op, its inputs and the node's label.  The checks cost
    time, so they are off outside this block.
    """
    prev = mode.anomaly
    mode.anomaly = True
    mode.refresh()
    try:
        yield
    finally:
        mode.anomaly = prev
        mode.refresh()
