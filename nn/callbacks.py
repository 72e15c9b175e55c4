"""What ``nn.fit`` does after each epoch besides training: the progress bar and the caller's callbacks.

Callbacks follow the Keras / PyTorch Lightning convention of an end-of-epoch
hook, reduced to a function: ``fit(..., callbacks=[cb])`` calls ``cb(history)``
once after every epoch (after that epoch's validation and early-stopping
check), with the :class:`~nn.history.History` of the epochs so far (the same
object every time, growing; read it, do not change it).  A callback stops
training after the current epoch by returning True (as XGBoost's callbacks
do) or by raising :class:`StopTraining` (as Keras's ``model.stop_training =
True``); fit then ends normally, restores the best weights if early stopping
found some, and sets ``History.stopped_by_callback``.  None or False means
go on; any other return value is a TypeError (a callback that returns, say, a
loss by mistake must not stop or continue by accident).  Every callback is
called every epoch, also after another one asked to stop.  Any other
exception propagates out of fit.

The progress bar is :mod:`tqdm.auto`'s: a widget in Jupyter, text in a
terminal; none when the session is not interactive (no IPython kernel and
stderr not a terminal, as in CI logs and pipes) or with ``progress=False``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
from tqdm import std as tqdm_std

from .history import History

__all__ = [
    "Bar",
    "Callback",
    "StopTraining",
    "check_callbacks",
    "in_jupyter",
    "interactive",
    "progress_bar",
    "run_callbacks",
]

#: A fit callback: ``callback(history)`` -> None / False to go on, True to stop.
Callback = Callable[[History], Any]


class StopTraining(Exception):
    """Raised by a fit callback to end training after the current epoch (fit catches it and returns the History)."""


def check_callbacks(callbacks: Any) -> tuple[Callback, ...]:
    """``callbacks`` (None, one callable, or a list or tuple of callables) as a tuple, or a TypeError naming it."""
    if callbacks is None:
        return ()
    if callable(callbacks):
        return (callbacks,)
    if isinstance(callbacks, (list, tuple)):
        for i, cb in enumerate(callbacks):
            if not callable(cb):
                raise TypeError(
                    f"callbacks[{i}] must be a callable taking the History, got {type(cb).__name__}: {cb!r:.60}"
                )
        return tuple(callbacks)
    raise TypeError(
        f"callbacks must be a callable taking the History, or a list of them, got {type(callbacks).__name__}"
    )


def run_callbacks(callbacks: Sequence[Callback], history: History) -> bool:
    """Call every callback with ``history``; True when one asked to stop (returned True or raised StopTraining)."""
    stop = False
    for cb in callbacks:
        try:
            out = cb(history)
        except StopTraining:
            stop = True
            continue
        if out is None or isinstance(out, (bool, np.bool_)):
            stop = stop or bool(out)
            continue
        name = getattr(cb, "__name__", type(cb).__name__)
        raise TypeError(
            f"fit callback {name!r} returned {type(out).__name__} {out!r:.60}; a callback returns None or False "
            "to go on and True to stop (or raises nn.StopTraining)"
        )
    return stop


class Bar(Protocol):
    """The part of a tqdm bar fit uses."""

    def update(self, n: float = 1) -> Any: ...

    def set_postfix(self, ordered_dict: Any = None, refresh: bool = True, **kwargs: Any) -> Any: ...

    def close(self) -> Any: ...


class _NoBar:
    """A bar that shows nothing: fit calls it the same way whether or not a bar is shown."""

    def update(self, n: float = 1) -> None:
        return None

    def set_postfix(self, ordered_dict: Any = None, refresh: bool = True, **kwargs: Any) -> None:
        return None

    def close(self) -> None:
        return None


def in_jupyter() -> bool:
    """True inside a Jupyter (IPython kernel) session: ipykernel imported and the running shell has a kernel."""
    if "ipykernel" not in sys.modules:
        return False
    get = getattr(sys.modules.get("IPython"), "get_ipython", None)
    shell = get() if callable(get) else None
    return getattr(shell, "kernel", None) is not None


def interactive() -> bool:
    """True when someone watches: a Jupyter kernel, or stderr (where tqdm writes) a terminal."""
    if in_jupyter():
        return True
    isatty = getattr(sys.stderr, "isatty", None)  # sys.stderr may be None (pythonw) or a stand-in
    return bool(callable(isatty) and isatty())


def progress_bar(total: int, enabled: bool) -> Bar:
    """A ``tqdm.auto`` bar over ``total`` epochs if ``enabled`` and :func:`interactive`, else one showing nothing."""
    if not (enabled and interactive()):
        return _NoBar()
    # Imported here, not with nn: tqdm.auto picks notebook or console when imported, and in a
    # kernel without ipywidgets it warns on stderr, which only a session that shows a bar should see.
    from tqdm import auto as tqdm_auto

    try:
        bar: Bar = tqdm_auto.tqdm(total=total, desc="train", leave=True)
    except ImportError:
        # tqdm's notebook widget needs ipywidgets; without it the text bar still shows in the notebook.
        bar = tqdm_std.tqdm(total=total, desc="train", leave=True)
    return bar
