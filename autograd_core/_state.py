"""Recording modes per context (``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``detect_anomaly``).

The mode is a small int in a ``ContextVar``: bit 0 set means "record no
graph" (``no_grad``), bit 1 means "check for non-finite values"
(``detect_anomaly``).  A context variable is private to its thread and to
its asyncio task, so one thread's ``no_grad`` never changes what another
records.  An asyncio task copies its context when it is created: a task
created inside ``no_grad()`` records nothing even when it runs after the
block has closed, and ``is_grad_enabled()`` says so.

Every op node reads the context variable (``mode_code()``, about 20 ns).  No
global shortcut ("is any block open anywhere?") stands in front of it: a
context copied while a block was open keeps that block's mode after every
block has closed, so no global count can tell that a context is plain, and
a shortcut would make what a node records depend on other threads.

The mode blocks are classes, as in PyTorch: an instance can be entered again
(also from several threads or asyncio tasks), works as a decorator (of
generator functions too), and reads the enclosing mode when the block is
entered, not when the object was made.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from contextvars import ContextVar, Token
from typing import Any, TypeVar

__all__ = [
    "AnomalyError",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "detect_anomaly",
    "is_grad_enabled",
    "is_anomaly_enabled",
    "mode_code",
    "ModeBlock",
]

NO_GRAD = 1
ANOMALY = 2

F = TypeVar("F", bound=Callable[..., Any])


class AnomalyError(FloatingPointError):
    """A forward value or a backward gradient that is not finite, under ``detect_anomaly()``."""


_mode: ContextVar[int] = ContextVar("autograd_core_mode", default=0)
#: The mode of the calling context: 0 plain, else a combination of NO_GRAD and ANOMALY.
mode_code = _mode.get


#: The modes to restore, innermost last, of the blocks open in this context.
_saved: ContextVar[tuple[int, ...]] = ContextVar("autograd_core_saved_modes", default=())


class ModeBlock:
    """A ``with`` block (or decorator) that sets and clears mode bits for the calling context (thread or task).

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

    def __exit__(self, *exc: object) -> None:
        saved = _saved.get()
        _mode.set(saved[-1])
        _saved.set(saved[:-1])

    def _fresh(self) -> ModeBlock:
        """A new block with the same effect, entered by a decorated function at each call."""
        return type(self)()

    def __call__(self, fn: F) -> F:
        block = self._fresh
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
    """Within this block (in this thread or asyncio task) operations record no op and no parents.

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


class set_grad_enabled(ModeBlock):  # noqa: N801 - named like torch.set_grad_enabled
    """Turn graph recording on (``True``) or off (``False``) in this context, as ``torch.set_grad_enabled``.

    Three uses, as in PyTorch:

    * a function: ``set_grad_enabled(False)`` switches recording off from
      now on in the calling thread or asyncio task (``set_grad_enabled(True)``
      switches it back);
    * a block: ``with set_grad_enabled(is_training):`` sets the mode inside
      and restores the enclosing one on exit;
    * a decorator: ``@set_grad_enabled(False)`` runs each call with that mode
      (making the decorator does not change the caller's mode).

    Args:
        mode: True to record graphs, False to record none.

    Raises:
        TypeError: if ``mode`` is not a bool.
    """

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled(mode) needs True or False, got {type(mode).__name__}: {mode!r:.40}")
        self.mode = mode
        self._set, self._clear = (0, NO_GRAD) if mode else (NO_GRAD, 0)
        # The call itself switches the mode (the function form).  A block or a
        # decorator made from this call takes that switch back first, so that
        # the mode restored on exit is the one from before the call.
        applied = (_mode.get() | self._set) & ~self._clear
        self._applied = applied
        self._depth = len(_saved.get())
        self._token: Token[int] | None = _mode.set(applied)

    def _undo_call(self) -> None:
        token, self._token = self._token, None
        # Only right after the call, in the same context and with no block
        # opened or closed since; otherwise the call's effect stands, as a
        # plain function call's would.
        if token is None or _mode.get() != self._applied or len(_saved.get()) != self._depth:
            return
        try:
            _mode.reset(token)
        except ValueError:  # made in another context (thread or task): nothing to take back here
            pass

    def __enter__(self) -> None:
        self._undo_call()
        super().__enter__()

    def __call__(self, fn: F) -> F:
        self._undo_call()
        return super().__call__(fn)

    def _fresh(self) -> ModeBlock:
        block = ModeBlock()
        block._set, block._clear = self._set, self._clear
        return block

    def __repr__(self) -> str:
        return f"set_grad_enabled({self.mode!r})"


def is_grad_enabled() -> bool:
    """Whether operations in this context (thread or asyncio task) currently record the graph."""
    return not _mode.get() & NO_GRAD


def is_anomaly_enabled() -> bool:
    """Whether ``detect_anomaly()`` is in force in this context."""
    return bool(_mode.get() & ANOMALY)
