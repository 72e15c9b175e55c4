"""nn.callbacks through nn.fit: callbacks after each epoch (and how they stop training), the tqdm.auto progress bar."""

from __future__ import annotations

import sys
import types
from typing import Any

import numpy as np
import pytest
import tqdm.auto

import nn
from nn import callbacks, data, optim


def _fit(epochs: int = 5, **kw: Any) -> tuple[nn.MLP, nn.History]:
    X, y = data.make_moons(24, noise=0.1, seed=0)
    m = nn.MLP(2, [4, 1], rng=0)
    kw.setdefault("progress", False)
    hist = nn.fit(m, X, y, loss="bce_with_logits", optimizer=optim.SGD(m.parameters(), lr=0.1), epochs=epochs, **kw)
    return m, hist


class _FakeBar:
    """Stands for tqdm.auto.tqdm: records how fit drives it."""

    made: list[_FakeBar] = []

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs, self.updates, self.postfixes, self.closed = kwargs, 0, [], False
        _FakeBar.made.append(self)

    def update(self, n: float = 1) -> None:
        self.updates += int(n)

    def set_postfix(self, ordered_dict: Any = None, refresh: bool = True, **kwargs: Any) -> None:
        self.postfixes.append(dict(ordered_dict or {}))

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def fake_bar(monkeypatch: pytest.MonkeyPatch) -> type[_FakeBar]:
    _FakeBar.made = []
    monkeypatch.setattr(tqdm.auto, "tqdm", _FakeBar)
    return _FakeBar


def _jupyter(monkeypatch: pytest.MonkeyPatch, kernel: object | None) -> None:
    """Make the session look like an IPython kernel (``kernel`` set) or a plain IPython shell (None)."""
    shell = types.SimpleNamespace(kernel=kernel)
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    fake_ipython = types.ModuleType("IPython")
    fake_ipython.get_ipython = lambda: shell  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", fake_ipython)


def _stderr_tty(monkeypatch: pytest.MonkeyPatch, tty: bool) -> None:
    stream = types.SimpleNamespace(isatty=lambda: tty, write=lambda s: len(s), flush=lambda: None)
    monkeypatch.setattr(sys, "stderr", stream)


def test_fit_calls_each_callback_once_per_epoch_with_the_growing_history() -> None:
    seen: list[tuple[int, list[float]]] = []
    histories: list[nn.History] = []

    def record(h: nn.History) -> None:
        seen.append((h.epochs, list(h.train_loss)))
        histories.append(h)

    _, hist = _fit(4, callbacks=[record, record])
    assert [n for n, _ in seen] == [1, 1, 2, 2, 3, 3, 4, 4]
    assert [losses for _, losses in seen[::2]] == [hist.train_loss[:k] for k in (1, 2, 3, 4)]
    assert all(h is hist for h in histories) and not hist.stopped_by_callback


def test_fit_callback_sees_validation_and_the_path_of_the_epoch() -> None:
    seen: list[tuple[int, bool]] = []
    _fit(3, val_split=0.25, callbacks=lambda h: seen.append((len(h.val_loss), h.compiled)))
    assert seen == [(1, True), (2, True), (3, True)]


def _stop_by_return(h: nn.History) -> bool:
    return h.epochs == 2


def _stop_by_raise(h: nn.History) -> None:
    if h.epochs == 2:
        raise nn.StopTraining


@pytest.mark.parametrize("stopper", [_stop_by_return, _stop_by_raise])
@pytest.mark.parametrize("compile", [False, True])
def test_fit_callback_stops_training_after_epoch_2(stopper: Any, compile: bool) -> None:
    calls: list[int] = []
    m, hist = _fit(10, callbacks=[stopper, lambda h: calls.append(h.epochs)], compile=compile)
    assert hist.epochs == 2 and len(hist.lr) == 2 and hist.stopped_by_callback and not hist.stopped_early
    assert calls == [1, 2]  # every callback runs in the epoch that stops
    assert hist.as_dict()["stopped_by_callback"] is True
    _, two = _fit(2, compile=compile)
    assert hist.train_loss == two.train_loss  # the same two epochs as a run of 2


def test_fit_callback_stop_still_restores_the_best_weights() -> None:
    # Training pulls the slope towards 2, the validation data wants 0.5: the validation loss falls, then rises.
    rng = np.random.default_rng(0)
    X, Xv = rng.uniform(-1, 1, size=(40, 1)), rng.uniform(-1, 1, size=(20, 1))
    y, yv = 2 * X[:, 0] + 0.5, 0.5 * Xv[:, 0] + 0.5
    m = nn.Linear(1, 1, rng=0)
    hist = nn.fit(m, X, y, loss="mse", optimizer=optim.SGD(m.parameters(), lr=0.1), epochs=200, val=(Xv, yv),
                  early_stopping=100, progress=False, callbacks=lambda h: h.epochs == 40)  # fmt: skip
    assert hist.epochs == 40 and hist.stopped_by_callback and not hist.stopped_early
    assert hist.best_epoch is not None and hist.best_epoch < 39
    assert nn.evaluate(m, Xv, yv, loss="mse")["loss"] == pytest.approx(hist.val_loss[hist.best_epoch], rel=1e-12)


def test_fit_callback_returning_a_non_bool_is_a_type_error_naming_it() -> None:
    def returns_loss(h: nn.History) -> float:
        return h.train_loss[-1]

    with pytest.raises(TypeError, match=r"fit callback 'returns_loss' returned float .*None or False to go on"):
        _fit(3, callbacks=returns_loss)


@pytest.mark.parametrize(
    ("bad", "message"),
    [(3, "callbacks must be a callable taking the History, or a list of them, got int"),
     ([print, "x"], r"callbacks\[1\] must be a callable taking the History, got str")],
)  # fmt: skip
def test_fit_refuses_callbacks_that_are_not_callables_before_training(bad: Any, message: str) -> None:
    X, y = data.make_moons(24, noise=0.1, seed=0)
    m = nn.MLP(2, [4, 1], rng=0)
    before = [p.data for p in m.parameters()]
    with pytest.raises(TypeError, match=message):
        nn.fit(m, X, y, loss="mse", optimizer=optim.SGD(m.parameters(), lr=0.1), epochs=1, callbacks=bad)
    assert [p.data for p in m.parameters()] == before


def test_fit_other_exceptions_of_a_callback_propagate() -> None:
    def broken(h: nn.History) -> None:
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        _fit(3, callbacks=broken)


def test_fit_progress_is_off_when_not_interactive(fake_bar: type[_FakeBar], monkeypatch: pytest.MonkeyPatch) -> None:
    _stderr_tty(monkeypatch, False)
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    _fit(3, progress=True)
    assert fake_bar.made == []
    assert not callbacks.interactive()


def test_fit_progress_uses_tqdm_auto_on_a_terminal(fake_bar: type[_FakeBar], monkeypatch: pytest.MonkeyPatch) -> None:
    _stderr_tty(monkeypatch, True)
    _, hist = _fit(3, progress=True, val_split=0.25)
    (bar,) = fake_bar.made
    assert bar.kwargs["total"] == 3 and bar.updates == 3 and bar.closed
    assert bar.postfixes[-1] == {"loss": f"{hist.train_loss[-1]:.4g}", "val_loss": f"{hist.val_loss[-1]:.4g}"}


def test_fit_progress_uses_tqdm_auto_in_a_jupyter_kernel(
    fake_bar: type[_FakeBar], monkeypatch: pytest.MonkeyPatch
) -> None:
    _stderr_tty(monkeypatch, False)  # a kernel's stderr is a pipe
    _jupyter(monkeypatch, kernel=object())
    assert callbacks.in_jupyter()
    _fit(2, progress=True)
    assert len(fake_bar.made) == 1 and fake_bar.made[0].updates == 2


def test_in_jupyter_is_false_for_an_ipython_shell_without_a_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    _jupyter(monkeypatch, kernel=None)
    assert not callbacks.in_jupyter()
    monkeypatch.delitem(sys.modules, "ipykernel")
    _jupyter(monkeypatch, kernel=object())
    monkeypatch.delitem(sys.modules, "ipykernel")
    assert not callbacks.in_jupyter()  # IPython without ipykernel imported is a terminal shell


def test_fit_progress_false_shows_no_bar_even_when_interactive(
    fake_bar: type[_FakeBar], monkeypatch: pytest.MonkeyPatch
) -> None:
    _stderr_tty(monkeypatch, True)
    _fit(2, progress=False)
    assert fake_bar.made == []


def test_progress_bar_falls_back_to_the_text_bar_without_ipywidgets(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_widgets(**kwargs: Any) -> None:
        raise ImportError("IProgress not found. Please update jupyter and ipywidgets.")

    _stderr_tty(monkeypatch, True)
    monkeypatch.setattr(tqdm.auto, "tqdm", no_widgets)
    made: list[dict[str, Any]] = []

    def text_bar(**kwargs: Any) -> _FakeBar:
        made.append(kwargs)
        return _FakeBar(**kwargs)

    monkeypatch.setattr(callbacks.tqdm_std, "tqdm", text_bar)
    callbacks.progress_bar(4, True).update(1)
    assert made == [{"total": 4, "desc": "train", "leave": True}]


def test_fit_refuses_a_progress_that_is_not_a_bool() -> None:
    with pytest.raises(TypeError, match="progress must be True or False, got 'yes'"):
        _fit(1, progress="yes")


def test_run_callbacks_accepts_numpy_bools() -> None:
    h = nn.History(train_loss=[1.0])
    assert callbacks.run_callbacks([lambda h: np.bool_(True)], h)
    assert not callbacks.run_callbacks([lambda h: np.bool_(False), lambda h: None], h)


def test_importing_nn_does_not_import_tqdm_auto() -> None:
    # tqdm.auto chooses notebook or console when imported and warns in a kernel without ipywidgets.
    import subprocess

    code = "import sys, nn; print('tqdm.auto' in sys.modules, 'tqdm.autonotebook' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
