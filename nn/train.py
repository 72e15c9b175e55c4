"""Training loop: ``fit`` (mini-batch descent with validation and early stopping), ``evaluate`` and ``predict``.

One epoch of :func:`fit` (the notes' mini-batch algorithm):

1. shuffle the training set and split it into batches (:func:`nn.data.batches`);
2. per batch: forward every sample, the mean loss plus ``l1`` / ``l2``
   penalties, ``zero_grad``, ``backward``, ``optimizer.step()``;
3. record the epoch's training loss and accuracy, then the validation loss
   and accuracy (evaluation mode, no graph recorded);
4. early stopping: stop after ``patience`` epochs without a better
   validation loss and put the best weights back.

``batch_size=None`` is full-batch descent, ``1`` is stochastic descent.
"""

from __future__ import annotations

import contextlib
import gc
import math
import numbers
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm import tqdm

from autograd_core import Value, no_grad

from . import losses
from .data import batches, train_test_split
from .module import Module
from .optim import Optimizer

__all__ = ["fit", "evaluate", "predict", "History", "EarlyStopping", "LOSSES"]

LossFn = Callable[[Any, Any], Value]

#: Loss names ``fit`` accepts, with their functions.
LOSSES: dict[str, LossFn] = {
    "mse": losses.mse,
    "l1": losses.l1,
    "bce": losses.bce,
    "bce_with_logits": losses.bce_with_logits,
    "hinge": losses.hinge,
    "cross_entropy": losses.cross_entropy,
}


@dataclass
class EarlyStopping:
    """Stop when the validation loss has not improved by more than ``min_delta`` for ``patience`` epochs.

    The weights of the best epoch are restored when training ends.

    Args:
        patience: epochs without improvement to wait (>= 1).
        min_delta: smallest decrease that counts as an improvement (>= 0).
    """

    patience: int = 5
    min_delta: float = 0.0

    def __post_init__(self) -> None:
        if isinstance(self.patience, bool) or not isinstance(self.patience, numbers.Integral) or self.patience < 1:
            raise ValueError(f"EarlyStopping patience must be a positive int, got {self.patience!r}")
        if not isinstance(self.min_delta, numbers.Real) or not self.min_delta >= 0:
            raise ValueError(f"EarlyStopping min_delta must be a number >= 0, got {self.min_delta!r}")


@dataclass
class History:
    """What :func:`fit` measured, one entry per epoch run.

    Accuracy entries are None for regression losses (``mse``, ``l1``) and custom
    losses; validation entries are empty without validation data.
    """

    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float | None] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float | None] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False

    @property
    def epochs(self) -> int:
        """Number of epochs run."""
        return len(self.train_loss)

    def as_dict(self) -> dict[str, Any]:
        """Every field as plain Python data (JSON-able)."""
        return {
            "train_loss": list(self.train_loss),
            "train_accuracy": list(self.train_accuracy),
            "val_loss": list(self.val_loss),
            "val_accuracy": list(self.val_accuracy),
            "lr": list(self.lr),
            "best_epoch": self.best_epoch,
            "stopped_early": self.stopped_early,
        }


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector, and restore its state afterwards.

    A training step allocates one Value per operation (tens of thousands per
    step) and every allocation counts towards the collector's thresholds, so
    it would keep re-scanning the live graph: about half of a step's time.
    The graph has no reference cycles (autograd_core keeps none), so reference
    counting frees it anyway; nothing piles up while the collector rests.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _loss_fn(loss: Any) -> tuple[str | None, LossFn]:
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)} or pass a callable")
        return loss, LOSSES[loss]
    if callable(loss):
        return None, loss
    raise TypeError(f"loss must be a loss name or a callable (preds, targets) -> Value, got {type(loss).__name__}")


def _targets(name: str | None, y: np.ndarray) -> list[Any]:
    if name == "hinge":
        # fit's labels are 0/1 like the data sets'; the hinge loss wants -1/+1.
        return [-1.0 if float(t) == 0.0 else float(t) for t in y]
    if name == "cross_entropy":
        return [int(t) for t in y]
    return [float(t) for t in y]


def _forward(model: Module, X: np.ndarray) -> list[list[Value]]:
    outs = []
    for row in X:
        out = model([float(v) for v in row])
        if isinstance(out, Value):
            out = [out]
        outs.append(list(out))
    return outs


def _preds(name: str | None, outs: list[list[Value]]) -> Any:
    if name == "cross_entropy" or len(outs[0]) != 1:
        return outs
    return [o[0] for o in outs]


def _correct(name: str | None, outs: list[list[Value]], y: np.ndarray) -> int | None:
    """Number of correct predictions, or None when the loss is not a classification loss."""
    if name == "cross_entropy":
        return sum(int(np.argmax([v.data for v in o]) == int(t)) for o, t in zip(outs, y))
    if name in ("bce_with_logits", "hinge", "bce"):
        cut = 0.5 if name == "bce" else 0.0
        return sum(int((o[0].data > cut) == (float(t) > 0)) for o, t in zip(outs, y))
    return None


def _as_xy(X: Any, y: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
    Xa, ya = np.asarray(X, dtype=np.float64), np.asarray(y)
    if Xa.ndim != 2 or ya.ndim != 1 or len(Xa) != len(ya) or len(Xa) == 0:
        raise ValueError(
            f"{what}: X must be (samples, features) and y (samples,) of the same non-zero length, "
            f"got shapes {Xa.shape} and {ya.shape}"
        )
    return Xa, ya


def evaluate(model: Module, X: Any, y: Any, *, loss: str | LossFn) -> dict[str, float | None]:
    """Mean loss and accuracy of ``model`` on ``(X, y)`` in evaluation mode, recording no graph.

    Args:
        model: a callable Module (one sample -> list of outputs).
        X: samples, shape (n, features).
        y: targets, shape (n,).
        loss: a name of :data:`LOSSES` or a callable ``(preds, targets) -> Value``.

    Returns:
        ``{"loss": float, "accuracy": float or None}``.

    Raises:
        TypeError, ValueError: for bad data or loss.
    """
    name, fn = _loss_fn(loss)
    Xa, ya = _as_xy(X, y, "evaluate")
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            outs = _forward(model, Xa)
            value = fn(_preds(name, outs), _targets(name, ya)).data
    finally:
        model.train(was_training)
    correct = _correct(name, outs, ya)
    return {"loss": float(value), "accuracy": None if correct is None else correct / len(ya)}


def predict(model: Module, X: Any) -> np.ndarray:
    """Model outputs for every sample in evaluation mode: shape (n,) for one output, (n, k) for k.

    Raises:
        ValueError: if X is not a 2-d array.
    """
    Xa = np.asarray(X, dtype=np.float64)
    if Xa.ndim != 2:
        raise ValueError(f"predict: X must be a 2-d array (samples, features), got shape {Xa.shape}")
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            outs = _forward(model, Xa)
    finally:
        model.train(was_training)
    arr = np.array([[v.data for v in o] for o in outs], dtype=np.float64).reshape(len(Xa), -1)
    return arr[:, 0] if arr.shape[1] == 1 else arr


def fit(
    model: Module,
    X: Any,
    y: Any,
    *,
    loss: str | LossFn,
    optimizer: Optimizer,
    epochs: int,
    batch_size: int | None = None,
    val: tuple[Any, Any] | None = None,
    val_split: float | None = None,
    l1: float = 0.0,
    l2: float = 0.0,
    early_stopping: EarlyStopping | int | None = None,
    progress: bool = True,
    seed: int = 0,
) -> History:
    """Train ``model`` by mini-batch gradient descent; see the module docstring for one epoch.

    Args:
        model: a Module mapping one sample (list of floats) to a list of outputs.
        X: training samples, shape (n, features).
        y: targets, shape (n,): 0/1 labels (``bce``, ``bce_with_logits``, ``hinge``), class indices
            (``cross_entropy``) or real numbers (``mse``, ``l1``).
        loss: a name of :data:`LOSSES` or a callable ``(preds, targets) -> Value``.
        optimizer: an :class:`nn.optim.Optimizer` over the model's parameters.
        epochs: number of passes over the training set.
        batch_size: samples per step; None for full-batch descent, 1 for stochastic descent.
        val: validation data ``(X_val, y_val)``.
        val_split: or a fraction of ``(X, y)`` held out as validation data.
        l1: coefficient of the L1 penalty (sum of |w|) added to each batch loss.
        l2: coefficient of the L2 penalty (sum of w**2) added to each batch loss.
        early_stopping: an :class:`EarlyStopping` or a patience (int); needs validation data.
        progress: show a tqdm progress bar (only when stderr is a terminal).
        seed: seed of the shuffles (and of the validation split).

    Returns:
        A :class:`History`.

    Raises:
        TypeError, ValueError: for bad arguments, naming the argument.
    """
    if not isinstance(model, Module):
        raise TypeError(f"fit needs an nn.Module, got {type(model).__name__}")
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be an nn.optim optimizer, got {type(optimizer).__name__}")
    name, fn = _loss_fn(loss)
    Xa, ya = _as_xy(X, y, "fit")
    if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    for arg, v in (("l1", l1), ("l2", l2)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not (math.isfinite(v) and v >= 0):
            raise ValueError(f"{arg} must be a finite number >= 0, got {v!r}")
    if val is not None and val_split is not None:
        raise ValueError("pass either val or val_split, not both")
    if val_split is not None:
        Xa, Xv, ya, yv = train_test_split(Xa, ya, val_split, seed)
        val = (Xv, yv)
    val_xy = _as_xy(val[0], val[1], "fit val") if val is not None else None
    if isinstance(early_stopping, int) and not isinstance(early_stopping, bool):
        early_stopping = EarlyStopping(patience=early_stopping)
    if early_stopping is not None and not isinstance(early_stopping, EarlyStopping):
        raise TypeError(f"early_stopping must be an EarlyStopping or an int patience, got {early_stopping!r}")
    if early_stopping is not None and val_xy is None:
        raise ValueError("early_stopping needs validation data: pass val=(X_val, y_val) or val_split")
    size = len(Xa) if batch_size is None else batch_size

    with _cyclic_gc_paused():
        return _fit_loop(
            model,
            Xa,
            ya,
            name,
            fn,
            loss,
            optimizer,
            int(epochs),
            size,
            val_xy,
            float(l1),
            float(l2),
            early_stopping,
            progress,
            seed,
        )


def _fit_loop(
    model: Module,
    Xa: np.ndarray,
    ya: np.ndarray,
    name: str | None,
    fn: LossFn,
    loss: str | LossFn,
    optimizer: Optimizer,
    epochs: int,
    size: int,
    val_xy: tuple[np.ndarray, np.ndarray] | None,
    l1: float,
    l2: float,
    early_stopping: EarlyStopping | None,
    progress: bool,
    seed: int,
) -> History:
    """The epochs of :func:`fit`, with every argument checked."""
    params = model.parameters()
    history = History()
    rng = np.random.default_rng(seed)
    best_loss, best_weights, waited = math.inf, [p.data for p in params], 0
    show = progress and sys.stderr.isatty()
    bar = tqdm(range(int(epochs)), desc="train", disable=not show, leave=True)
    for epoch in bar:
        model.train()
        total, seen = 0.0, 0
        correct: int | None = 0
        for xb, yb in batches(Xa, ya, size, shuffle=True, seed=rng):
            outs = _forward(model, xb)
            data_loss = fn(_preds(name, outs), _targets(name, yb))
            objective = data_loss
            if l1:
                objective = objective + l1 * losses.l1_penalty(params)
            if l2:
                objective = objective + l2 * losses.l2_penalty(params)
            optimizer.zero_grad()
            model.zero_grad()
            objective.backward()
            optimizer.step()
            total += data_loss.data * len(yb)
            c = _correct(name, outs, yb)
            correct = None if c is None or correct is None else correct + c
            seen += len(yb)
        history.train_loss.append(total / seen)
        history.train_accuracy.append(None if correct is None else correct / seen)
        history.lr.append(optimizer.lr)
        postfix = {"loss": f"{history.train_loss[-1]:.4g}"}
        if val_xy is not None:
            ev = evaluate(model, val_xy[0], val_xy[1], loss=loss)
            vloss = float(ev["loss"] or 0.0)  # evaluate's loss is always a float
            history.val_loss.append(vloss)
            history.val_accuracy.append(ev["accuracy"])
            postfix["val_loss"] = f"{vloss:.4g}"
            if early_stopping is not None:
                if vloss < best_loss - early_stopping.min_delta:
                    best_loss, best_weights, waited = vloss, [p.data for p in params], 0
                    history.best_epoch = epoch
                else:
                    waited += 1
                    if waited >= early_stopping.patience:
                        history.stopped_early = True
                        break
        bar.set_postfix(postfix)
    bar.close()
    if early_stopping is not None and history.best_epoch is not None:
        for p, w in zip(params, best_weights):
            p.data = w
    model.train()
    return history
