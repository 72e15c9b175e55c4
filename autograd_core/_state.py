"""Per-thread recording modes (``no_grad``, ``enable_grad``, ``detect_anomaly``) and the anomaly error.

The mode is a small int in a ``ContextVar``: bit 0 set means "record no
graph" (``no_grad``), bit 1 means "check for non-finite values"
(``detect_anomaly``).  A context variable is private to its thread (and to
its asyncio task), so one thread's ``no_grad`` never changes what another
records, and it is cheaper to read than a ``threading.local``.  The hot path
of every op reads only ``modes_open[0]``, a plain global: while it is 0 no
thread is inside a mode block and the context variable need not be consulted.

The mode blocks are classes, as in PyTorch: an instance can be entered again
(also from several threads or asyncio tasks), works as a decorator (of
generator functions too), and reads the enclosing mode when the block is
entered, not when the object was made.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar

__all__ = [
    "AnomalyError",
    "no_grad",
    "enable_grad",
    "detect_anomaly",
    "is_grad_enabled",
    "is_anomaly_enabled",
    "mode_code",
    "modes_open",
    "ModeBlock",
]

NO_GRAD = 1
ANOMALY = 2

F = TypeVar("F", bound=Callable[..., Any])


class AnomalyError(FloatingPointError):
    """A forward value or a backward gradient that is not finite, under ``detect_anomaly()``."""


_mode: ContextVar[int] = ContextVar("autograd_core_mode", default=0)
#: The mode of the calling thread: 0 plain, else a combination of NO_GRAD and ANOMALY.
mode_code = _mode.get

#: How many mode blocks, in all threads, are open right now.
modes_open = [0]
_lock = threading.Lock()


#: The modes to restore, innermost last, of the blocks open in this context.
_saved: ContextVar[tuple[int, ...]] = ContextVar("autograd_core_saved_modes", default=())


class ModeBlock:
    """A ``with`` block (or decorator) that sets and clears mode bits for the calling thread.

    What to restore on exit is kept in a context variable, not on the
    instance: one instance may be entered by several threads or asyncio tasks
    at once, and each gets its own mode back.
    """

    _set = 0
    _clear = 0

    def __enter__(self) -> None:
        prev = _mode.get()
        _saved.set((*_saved.get(), prev))
        _mode.set((prev | self._set) & ~self._clear)
        with _lock:
            modes_open[0] += 1

    def __exit__(self, *exc: object) -> None:
        with _lock:
            modes_open[0] -= 1
        saved = _saved.get()
        _mode.set(saved[-1])
        _saved.set(saved[:-1])

    def __call__(self, fn: F) -> F:
        block = type(self)
        if inspect.isgeneratorfunction(fn):
            # The block is open while the generator runs, not while it is paused at a yield.
            @functools.wraps(fn)
            def gen_wrapper(*args: Any, **kwargs: Any) -> Any:
                gen = fn(*args, **kwargs)
                try:
                    with block():
                        item = next(gen)
                    while True:
                        try:
                            sent = yield item
                        except GeneratorExit:
                            with block():
                                gen.close()
                            raise
                        except BaseException as e:
                            with block():
                                item = gen.throw(e)
                        else:
                            with block():
                                item = gen.send(sent)
                except StopIteration as stop:
                    return stop.value

            return gen_wrapper  # type: ignore[return-value]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with block():
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(ModeBlock):  # noqa: N801 - named like torch.no_grad
    """Within this block (in this thread) operations record no op and no parents.

    ``with no_grad():`` or ``@no_grad()``; nests; ``enable_grad()`` undoes it.
    """

    _set = NO_GRAD


class enable_grad(ModeBlock):  # noqa: N801
    """Record the graph within this block even inside an enclosing ``no_grad()``."""

    _clear = NO_GRAD


class detect_anomaly(ModeBlock):  # noqa: N801
    """Raise :class:`AnomalyError` at the first non-finite forward value or backward gradient.

    The error names the op, its inputs and the node's label.  The checks cost
    time, so they are off outside this block.
    """

    _set = ANOMALY


def is_grad_enabled() -> bool:
    """Whether operations in this thread currently record the graph."""
    return not _mode.get() & NO_GRAD


def is_anomaly_enabled() -> bool:
    """Whether ``detect_anomaly()`` is in force in this thread."""
    return bool(_mode.get() & ANOMALY)
