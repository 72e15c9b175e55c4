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

The compiled path (``compile=True``, or automatically where it is safe) does
the same epochs with :mod:`autograd_core.compile`: the model and the
per-sample loss are traced once into tapes, and each batch is one batched
replay (``value_and_grad``) instead of one ``Value`` graph per sample.  The
results equal the eager path's up to float rounding (about 1e-15 relative
per step).  It is safe for the models of :mod:`nn.layers` (``MLP``,
``Layer``, ``Neuron``, ``Maxout``, ``Dropout`` with ``p = 0``) and the losses
``mse l1 hinge bce_with_logits cross_entropy``, and ``bce`` for a model whose
output is a sigmoid; everything else (and everything under ``detect_anomaly``,
whose checks a replay does not run) runs eagerly,
and :attr:`History.compiled` / :attr:`History.eager_reason` say which path ran
and why.
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

from autograd_core import TraceError, Value, no_grad
from autograd_core._state import is_anomaly_enabled
from autograd_core.compile import Compiled, CompiledLoss, compile_loss, compile_model

from . import losses
from .data import batches, check_seed, train_test_split
from .layers import MLP, BatchNorm, Dropout, Layer, Maxout, Neuron
from .module import Module
from .optim import Optimizer

__all__ = ["fit", "evaluate", "predict", "History", "EarlyStopping", "LOSSES", "COMPILED_LOSSES"]

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


def _positive_int(name: str, v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise TypeError(f"{name} must be a positive int, got {type(v).__name__}: {v!r}")
    if int(v) < 1:
        raise ValueError(f"{name} must be a positive int, got {v!r}")
    return int(v)


def _non_negative(name: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{name} must be a finite number >= 0, got {type(v).__name__}: {v!r}")
    f = float(v)
    if not (math.isfinite(f) and f >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
    return f


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
        self.patience = _positive_int("EarlyStopping patience", self.patience)
        self.min_delta = _non_negative("EarlyStopping min_delta", self.min_delta)


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
    #: The first epoch (0-based, as best_epoch) whose training loss was nan or inf, or None.
    diverged_epoch: int | None = None
    #: True when the compiled (traced, batched) path ran, False for the eager one.
    compiled: bool = False
    #: Why the eager path ran (None when compiled), e.g. "the model contains Dropout(p=0.5) ...".
    eager_reason: str | None = None

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
            "diverged_epoch": self.diverged_epoch,
            "compiled": self.compiled,
            "eager_reason": self.eager_reason,
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


def _check_class_labels(y: np.ndarray, n_classes: int, who: str) -> None:
    """Refuse cross_entropy labels that are not whole numbers in [0, n_classes), naming the first bad one.

    ``int(t)`` would truncate 0.5 or 1.99 to a class silently; a label past the
    last output would only fail inside the loss, without saying which sample.
    """
    t = np.asarray(y, dtype=np.float64)
    bad = (t != np.floor(t)) | (t < 0)
    if n_classes >= 2:  # fewer outputs: the loss itself says it needs at least 2 class logits
        bad |= t >= n_classes
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"{who}: y[{i}] = {y[i].item()!r} is not a class index; cross_entropy needs whole numbers "
            f"in [0, {n_classes}) (one class per model output): fix or drop that label"
        )


def _check_labels(
    name: str | None,
    model: Module,
    ya: np.ndarray,
    val_xy: tuple[np.ndarray, np.ndarray] | None,
    Xa: np.ndarray,
    n_outputs: int | None,
) -> None:
    """fit's check of the cross_entropy class labels (training and validation), before any step."""
    if name != "cross_entropy":
        return
    n = n_outputs if n_outputs is not None else _n_outputs(model, Xa[0])
    _check_class_labels(ya, n, "fit")
    if val_xy is not None:
        _check_class_labels(val_xy[1], n, "fit val")


def _n_outputs(model: Module, x: np.ndarray) -> int:
    """Number of outputs of ``model`` for one sample, in evaluation mode, recording no graph."""
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            out = model([float(v) for v in x])
    finally:
        model.train(was_training)
    return 1 if isinstance(out, Value) else len(out)


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
    try:
        Xa = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{what}: X must be an array of real numbers ({e})") from None
    ya = np.asarray(y)
    if ya.dtype.kind not in "biuf":
        raise TypeError(
            f"{what}: y must be an array of numbers (labels, class indices or targets), got dtype {ya.dtype}"
        )
    if Xa.ndim != 2 or ya.ndim != 1 or len(Xa) != len(ya) or len(Xa) == 0:
        raise ValueError(
            f"{what}: X must be (samples, features) and y (samples,) of the same non-zero length, "
            f"got shapes {Xa.shape} and {ya.shape}"
        )
    # nan or inf would train (or score) silently to nan: refuse them up front.
    for name, arr in (("X", Xa), ("y", ya)):
        bad = ~np.isfinite(arr)
        if bad.any():
            at = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(
                f"{what}: {name} holds {int(bad.sum())} non-finite values (nan or inf), the first at index "
                f"{at[0] if len(at) == 1 else at}; drop or impute them before training"
            )
    return Xa, ya


# --------------------------------------------------------------------------
# The compiled path: when it is safe, and the tapes it runs
# --------------------------------------------------------------------------

#: Losses whose compiled per-sample form equals the eager loss.  ``bce`` needs a
#: model whose output is a sigmoid (see :func:`_outputs_are_probabilities`).
COMPILED_LOSSES = ("mse", "l1", "hinge", "bce", "bce_with_logits", "cross_entropy")

#: Module types known to build the same graph for every sample, with no
#: randomness and no state besides their parameters (Dropout only with p = 0 in
#: training mode; in evaluation mode it is the identity).
_TRACEABLE: tuple[type[Module], ...] = (MLP, Layer, Neuron, Maxout, Dropout)

_Tapes = tuple[CompiledLoss | None, Compiled]


def _outputs_are_probabilities(model: Module) -> bool:
    """True when every output of ``model`` is a sigmoid (an nn.layers model ending in one)."""
    if isinstance(model, MLP):
        return model.output_activation == "sigmoid"
    if isinstance(model, (Layer, Neuron)):
        return model.activation == "sigmoid"
    return False


def _loss_obstacle(name: str | None, model: Module) -> str | None:
    """Why the loss cannot run compiled, or None."""
    if name is None:
        return (
            "the loss is a custom callable, which fit cannot trace per sample; "
            f"only the built-in losses {', '.join(COMPILED_LOSSES)} compile"
        )
    if name not in COMPILED_LOSSES:
        return f"loss {name!r} has no compiled form"
    if name == "bce" and not _outputs_are_probabilities(model):
        return (
            "loss 'bce' compiles only for a model whose output is a sigmoid (an MLP with "
            "output_activation='sigmoid', or a Layer or Neuron with activation='sigmoid'): the eager loss "
            "checks every probability is in [0, 1], a replay cannot; for raw scores use 'bce_with_logits'"
        )
    return None


def _model_obstacle(model: Module, *, training: bool) -> tuple[str | None, bool]:
    """Why the model cannot run compiled: ``(reason, hard)``, or ``(None, False)``.

    A hard reason makes ``compile=True`` fail; a soft one (a module type fit does
    not know) only keeps the automatic mode eager, and ``compile=True`` tries.
    """
    for m in model.modules():
        if isinstance(m, Dropout) and training and m.p > 0.0:
            return (
                f"the model contains Dropout(p={m.p}), active in training mode: its random masks would be "
                "frozen into the tape and replayed for every sample and step",
                True,
            )
        if isinstance(m, BatchNorm):
            return (
                "the model contains BatchNorm, which normalizes over the whole batch (and updates running "
                "statistics) in training mode; a per-sample tape cannot express that",
                True,
            )
    for m in model.modules():
        if type(m) not in _TRACEABLE:
            return (
                f"the model contains a {type(m).__name__}, not one of the nn.layers modules known to build the "
                "same graph for every sample; pass compile=True to compile it anyway "
                "(data-dependent branches are detected)",
                False,
            )
    return None, False


def _trace(model: Module, name: str | None, n_inputs: int, *, training: bool) -> _Tapes:
    """The model's (and, with a loss name, the per-sample loss's) tapes, traced in the given mode."""
    was_training = model.training
    model.train(training)
    try:
        pred = compile_model(model, n_inputs)
        if name is None:
            return None, pred
        if name != "cross_entropy" and pred.n_outputs != 1:
            raise ValueError(f"loss {name!r} needs a model with one output, this one has {pred.n_outputs}")
        # No l1/l2 here: fit adds the penalties' gradients itself, so the tape's
        # value is the data loss that History records.
        return compile_loss(model, name, n_inputs, n_outputs=pred.n_outputs), pred
    finally:
        model.train(was_training)


def _plan(
    model: Module, name: str | None, n_inputs: int, compile: bool | None, *, training: bool, need_loss: bool, who: str
) -> tuple[_Tapes | None, str | None]:
    """The tapes of the compiled path, or None and the reason the eager path runs.

    Raises:
        ValueError: with ``compile=True`` when the model or the loss cannot be compiled.
        TypeError: if ``compile`` is not True, False or None.
    """
    if compile is not None and not isinstance(compile, bool):
        raise TypeError(f"{who}: compile must be True, False or None (automatic), got {compile!r}")
    if compile is False:
        return None, "compile=False"
    if is_anomaly_enabled():
        # A replay runs no finiteness checks: compiling would quietly switch detect_anomaly off.
        if compile:
            raise ValueError(
                f"{who}(compile=True): detect_anomaly is on, and a compiled replay does not check values and "
                "gradients for nan or inf; pass compile=None (eager while detect_anomaly is on) or compile=False, "
                "or leave the detect_anomaly() block to compile"
            )
        return None, "detect_anomaly is on"
    reason = _loss_obstacle(name, model) if need_loss else None
    hard = reason is not None
    if reason is None:
        reason, hard = _model_obstacle(model, training=training)
    fix = "pass compile=None to fall back to the eager path automatically, or compile=False"
    if reason is not None and (hard or compile is None):
        if compile:
            raise ValueError(f"{who}(compile=True): cannot compile: {reason}; {fix}")
        return None, reason
    try:
        return _trace(model, name if need_loss else None, n_inputs, training=training), None
    except (TraceError, ValueError) as e:
        # The eager path then raises the model's own error, if it has one.
        if compile:
            raise ValueError(f"{who}(compile=True): cannot compile the model or loss: {e}; {fix}") from e
        return None, f"tracing failed: {e}"


def _check_targets(name: str | None, fn: LossFn, y: np.ndarray, n_outputs: int) -> None:
    """Raise the eager loss's own error for invalid targets (hinge labels, class indices ...), up front."""
    dummy: list[Any] = [[0.0] * n_outputs for _ in y] if name == "cross_entropy" else [0.0] * len(y)
    with no_grad():
        fn(dummy, _targets(name, y))


def _target_array(name: str | None, y: np.ndarray) -> np.ndarray:
    # The eager mapping (hinge 0 -> -1, class indices as ints, checked whole before), as floats for the tape.
    return np.asarray(_targets(name, y), dtype=np.float64)


def _outputs(pred: Compiled, X: np.ndarray, name: str | None) -> list[np.ndarray]:
    """The model's outputs for every row of X, one array per output."""
    outs: list[np.ndarray] = pred(*X.T)
    if name == "cross_entropy":
        m = np.max(np.stack(outs, axis=1), axis=1)
        if not np.all(np.isfinite(m)):
            # As the eager loss, which cannot shift non-finite logits.
            raise ValueError(f"cross_entropy: logits must be finite, got {m[~np.isfinite(m)][0]}")
    return outs


def _correct_arrays(name: str | None, outs: list[np.ndarray], t: np.ndarray) -> int | None:
    """:func:`_correct` for compiled outputs and mapped targets (hinge -1/+1, class indices)."""
    if name == "cross_entropy":
        return int(np.sum(np.argmax(np.stack(outs, axis=1), axis=1) == t))
    if name in ("bce_with_logits", "hinge", "bce"):
        cut = 0.5 if name == "bce" else 0.0
        return int(np.sum((outs[0] > cut) == (t > 0.0)))
    return None


#: Losses with an accuracy (classification losses).
_CLASSIFICATION = ("cross_entropy", "bce_with_logits", "hinge", "bce")


def _correct_from_target_grads(
    name: str | None, per_sample: np.ndarray, t_grads: list[np.ndarray], t: np.ndarray
) -> int | None:
    """:func:`_correct_arrays` from one loss pass: the per-sample losses and their gradients w.r.t. the targets.

    Each loss is linear in its target argument(s), so that gradient gives the
    model's output back without a second replay of the model:
    ``bce_with_logits`` softplus(z) - t z and ``cross_entropy`` logsumexp(z) -
    sum_k t_k z_k have d/dt_k = -z_k exactly; ``hinge`` relu(1 - t z) has
    d/dt = -z where the loss is positive, and where it is 0 the margin t z >= 1
    holds, so the prediction is right; ``bce`` has d/dt = log(1 - p) - log(p)
    (clamped logs), below 0 exactly when p > 1 - p, i.e. p > 0.5.
    """
    if name == "cross_entropy":
        logits = -np.stack(t_grads, axis=1)
        m = np.max(logits, axis=1)
        if not np.all(np.isfinite(m)):
            # As the eager loss, which cannot shift non-finite logits.
            raise ValueError(f"cross_entropy: logits must be finite, got {m[~np.isfinite(m)][0]}")
        return int(np.sum(np.argmax(logits, axis=1) == t))
    g = t_grads[0]
    if name == "bce_with_logits":
        return int(np.sum((-g > 0.0) == (t > 0.0)))
    if name == "hinge":
        positive = np.where(per_sample > 0.0, -g > 0.0, t > 0.0)
        return int(np.sum(positive == (t > 0.0)))
    if name == "bce":
        return int(np.sum((g < 0.0) == (t > 0.0)))
    return None


def _evaluate_tapes(
    cl: CompiledLoss, pred: Compiled, name: str | None, X: np.ndarray, t: np.ndarray
) -> dict[str, float | None]:
    """Mean loss and accuracy from the tapes (``t``: targets mapped by :func:`_target_array`)."""
    correct = None
    if name in _CLASSIFICATION:
        correct = _correct_arrays(name, _outputs(pred, X, name), t)
    per_sample = cl.compiled(*cl.args(X, t))
    value = float(np.sum(per_sample)) / len(t)  # as value_and_grad's batch mean
    return {"loss": value, "accuracy": None if correct is None else correct / len(t)}


def _add_penalty_grads(params: list[Value], l1: float, l2: float) -> None:
    """Add the gradients of ``l1 * sum|w| + l2 * sum w**2`` into each ``.grad``.

    Plain floats, as the eager penalties' rules give them (|w|' is 0 at 0): a
    Value graph per step would cost as much as the batched replay itself.
    """
    for p in params:
        w = p.data
        g = 0.0
        if l1:
            g += l1 * (1.0 if w > 0.0 else -1.0 if w < 0.0 else 0.0)
        if l2:
            g += 2.0 * l2 * w
        p.grad += g


# --------------------------------------------------------------------------
# evaluate, predict, fit
# --------------------------------------------------------------------------


def evaluate(
    model: Module, X: Any, y: Any, *, loss: str | LossFn, compile: bool | None = None
) -> dict[str, float | None]:
    """Mean loss and accuracy of ``model`` on ``(X, y)`` in evaluation mode, recording no graph.

    Args:
        model: a callable Module (one sample -> list of outputs).
        X: samples, shape (n, features).
        y: targets, shape (n,).
        loss: a name of :data:`LOSSES` or a callable ``(preds, targets) -> Value``.
        compile: True to replay a traced tape over the whole batch, False for the
            eager engine, None (default) to compile where safe (see the module docstring).

    Returns:
        ``{"loss": float, "accuracy": float or None}``.

    Raises:
        TypeError, ValueError: for bad data or loss; ValueError also for
            ``compile=True`` with a model or loss that cannot be compiled.
    """
    name, fn = _loss_fn(loss)
    Xa, ya = _as_xy(X, y, "evaluate")
    tapes, _ = _plan(model, name, Xa.shape[1], compile, training=False, need_loss=True, who="evaluate")
    cl = tapes[0] if tapes is not None else None
    if tapes is not None and cl is not None:
        pred = tapes[1]
        if name == "cross_entropy":
            _check_class_labels(ya, pred.n_outputs, "evaluate")
        _check_targets(name, fn, ya, pred.n_outputs)
        return _evaluate_tapes(cl, pred, name, Xa, _target_array(name, ya))
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            outs = _forward(model, Xa)
            if name == "cross_entropy":
                _check_class_labels(ya, len(outs[0]), "evaluate")
            value = fn(_preds(name, outs), _targets(name, ya)).data
    finally:
        model.train(was_training)
    correct = _correct(name, outs, ya)
    return {"loss": float(value), "accuracy": None if correct is None else correct / len(ya)}


def predict(model: Module, X: Any, *, compile: bool | None = None) -> np.ndarray:
    """Model outputs for every sample in evaluation mode: shape (n,) for one output, (n, k) for k.

    Args:
        model: a callable Module.
        X: samples, shape (n, features).
        compile: True to replay a traced tape over the whole batch, False for the
            eager engine, None (default) to compile where safe.

    Raises:
        ValueError: if X is not a 2-d array, or for ``compile=True`` with a model that cannot be compiled.
    """
    Xa = np.asarray(X, dtype=np.float64)
    if Xa.ndim != 2:
        raise ValueError(f"predict: X must be a 2-d array (samples, features), got shape {Xa.shape}")
    tapes = None
    if len(Xa) and Xa.shape[1]:
        tapes, _ = _plan(model, None, Xa.shape[1], compile, training=False, need_loss=False, who="predict")
    if tapes is not None:
        arr = np.stack(_outputs(tapes[1], Xa, None), axis=1)
        return arr[:, 0] if arr.shape[1] == 1 else arr
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
    compile: bool | None = None,
    stop_on_nonfinite: bool = False,
) -> History:
    """Train ``model`` by mini-batch gradient descent; see the module docstring for one epoch.

    Python's cyclic garbage collector is paused while ``fit`` runs and restored
    afterwards: the graphs it builds hold no reference cycles, so reference
    counting frees them, and the collector would otherwise re-scan every live
    node many times per step.

    Args:
        model: a Module mapping one sample (list of floats) to a list of outputs.
        X: training samples, shape (n, features).
        y: targets, shape (n,): 0/1 labels (``bce``, ``bce_with_logits``, ``hinge``), class indices
            (``cross_entropy``) or real numbers (``mse``, ``l1``).
        loss: a name of :data:`LOSSES` or a callable ``(preds, targets) -> Value``.
        optimizer: an :class:`nn.optim.Optimizer` over the model's parameters
            (``SGD(model.parameters(), lr)``); one holding none of them is refused.
        epochs: number of passes over the training set.
        batch_size: samples per step; None for full-batch descent, 1 for stochastic descent.
        val: validation data ``(X_val, y_val)``.
        val_split: or a fraction of ``(X, y)`` held out as validation data.
        l1: coefficient of the L1 penalty (sum of |w|) added to each batch loss.
        l2: coefficient of the L2 penalty (sum of w**2) added to each batch loss.
        early_stopping: an :class:`EarlyStopping` or a patience (int); needs validation data.
        progress: show a tqdm progress bar (only when stderr is a terminal).
        seed: seed of the shuffles (and of the validation split), an int >= 0.
        compile: True to train on the compiled path (model and per-sample loss
            traced once, each batch one batched replay), False for the eager
            engine, None (default) to compile where that is safe and run
            eagerly otherwise; ``History.compiled`` and ``History.eager_reason``
            say which ran.  Both give the same history and weights up to float
            rounding.
        stop_on_nonfinite: stop after the first epoch whose training loss is nan
            or inf (Keras's ``TerminateOnNaN``); by default fit runs every epoch,
            as PyTorch's loops do.  Either way ``History.diverged_epoch`` names
            that epoch.

    Returns:
        A :class:`History`.

    Raises:
        TypeError, ValueError: for bad arguments, naming the argument;
            ValueError also for ``compile=True`` with a model or loss that
            cannot be compiled (a custom loss, ``bce`` without a sigmoid output,
            detect_anomaly on, active Dropout,
            BatchNorm, data-dependent branches), naming the reason; ValueError also
            when the optimizer holds none of the model's parameters.

    By default fit does not stop on a non-finite loss (neither does PyTorch): a
    diverged run shows as nan or inf in ``History.train_loss`` and as
    ``History.diverged_epoch``; ``stop_on_nonfinite=True`` ends it there.
    """
    if not isinstance(model, Module):
        raise TypeError(f"fit needs an nn.Module, got {type(model).__name__}")
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be an nn.optim optimizer, got {type(optimizer).__name__}")
    own = {id(p) for p in model.parameters()}
    if own and not any(id(p) in own for p in optimizer.params):
        raise ValueError(
            f"the optimizer holds none of the model's {len(own)} parameters (it was built on another model's, "
            f"or on copies), so fit would train nothing; build it on this model: "
            f"optimizer={type(optimizer).__name__}(model.parameters(), ...)"
        )
    name, fn = _loss_fn(loss)
    Xa, ya = _as_xy(X, y, "fit")
    y_given = ya  # before val_split reorders it, so label errors name the caller's index
    epochs = _positive_int("epochs", epochs)
    l1, l2 = _non_negative("l1", l1), _non_negative("l2", l2)
    seed = check_seed(seed)
    if batch_size is not None:
        batch_size = _positive_int("batch_size", batch_size)
    if not isinstance(stop_on_nonfinite, bool):
        raise TypeError(f"stop_on_nonfinite must be True or False, got {stop_on_nonfinite!r}")
    if val is not None and val_split is not None:
        raise ValueError("pass either val or val_split, not both")
    if val_split is not None:
        if isinstance(val_split, bool) or not isinstance(val_split, numbers.Real):
            raise TypeError(f"val_split must be a fraction in (0, 1), got {type(val_split).__name__}: {val_split!r}")
        if not 0.0 < val_split < 1.0:
            raise ValueError(f"val_split must be a fraction in (0, 1) of the training data, got {val_split!r}")
        n_val = math.ceil(float(val_split) * len(Xa))
        if not 1 <= n_val <= len(Xa) - 1:
            raise ValueError(
                f"val_split={val_split} holds out {n_val} of {len(Xa)} samples; "
                "both training and validation need at least one"
            )
        Xa, Xv, ya, yv = train_test_split(Xa, ya, float(val_split), seed)
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
        train_tapes, reason = _plan(model, name, Xa.shape[1], compile, training=True, need_loss=True, who="fit")
        paths: _Paths | None = None
        if train_tapes is not None and train_tapes[0] is not None:
            cl, pred = train_tapes
            assert cl is not None  # checked above
            eval_cl, eval_pred = cl, pred
            if _model_obstacle(model, training=False)[0] is not None:
                # A module fit does not know may act differently in evaluation mode.
                eval_loss, eval_pred = _trace(model, name, Xa.shape[1], training=False)
                assert eval_loss is not None  # traced with a loss name
                eval_cl = eval_loss
            _check_labels(name, model, y_given, val_xy, Xa, pred.n_outputs)
            _check_targets(name, fn, ya, pred.n_outputs)
            if val_xy is not None:
                _check_targets(name, fn, val_xy[1], pred.n_outputs)
            paths = _Paths(cl, pred, eval_cl, eval_pred)
        else:
            _check_labels(name, model, y_given, val_xy, Xa, None)
        history = _fit_loop(
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
            paths,
            stop_on_nonfinite,
        )
    history.compiled, history.eager_reason = paths is not None, reason
    return history


@dataclass
class _Paths:
    """The tapes of fit's compiled path: training (training mode) and validation (evaluation mode)."""

    loss: CompiledLoss
    pred: Compiled
    eval_loss: CompiledLoss
    eval_pred: Compiled


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
    paths: _Paths | None,
    stop_on_nonfinite: bool = False,
) -> History:
    """The epochs of :func:`fit`, with every argument checked; compiled when ``paths`` is given."""
    params = model.parameters()
    history = History()
    rng = np.random.default_rng(seed)
    best_loss, best_weights, waited = math.inf, [p.data for p in params], 0
    ta = _target_array(name, ya) if paths is not None else ya
    val_t = _target_array(name, val_xy[1]) if paths is not None and val_xy is not None else None
    show = progress and sys.stderr.isatty()
    bar = tqdm(range(int(epochs)), desc="train", disable=not show, leave=True)
    for epoch in bar:
        model.train()
        if paths is None:
            total, seen, correct = _eager_epoch(model, params, Xa, ya, name, fn, optimizer, size, l1, l2, rng)
        else:
            total, seen, correct = _compiled_epoch(model, params, paths, Xa, ta, name, optimizer, size, l1, l2, rng)
        history.train_loss.append(total / seen)
        history.train_accuracy.append(None if correct is None else correct / seen)
        history.lr.append(optimizer.lr)
        if history.diverged_epoch is None and not math.isfinite(history.train_loss[-1]):
            history.diverged_epoch = epoch
        postfix = {"loss": f"{history.train_loss[-1]:.4g}"}
        if val_xy is not None:
            if paths is None or val_t is None:
                ev = evaluate(model, val_xy[0], val_xy[1], loss=loss, compile=False)
            else:
                ev = _evaluate_tapes(paths.eval_loss, paths.eval_pred, name, val_xy[0], val_t)
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
        if stop_on_nonfinite and history.diverged_epoch is not None:
            break  # after this epoch's validation, so every list of History has one entry per epoch
    bar.close()
    if early_stopping is not None and history.best_epoch is not None:
        for p, w in zip(params, best_weights):
            p.data = w
    model.train()
    return history


def _eager_epoch(
    model: Module,
    params: list[Value],
    Xa: np.ndarray,
    ya: np.ndarray,
    name: str | None,
    fn: LossFn,
    optimizer: Optimizer,
    size: int,
    l1: float,
    l2: float,
    rng: np.random.Generator,
) -> tuple[float, int, int | None]:
    """One epoch on the eager engine: (sum of batch loss * batch size, samples seen, correct or None)."""
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
    return total, seen, correct


def _compiled_epoch(
    model: Module,
    params: list[Value],
    paths: _Paths,
    Xa: np.ndarray,
    ta: np.ndarray,
    name: str | None,
    optimizer: Optimizer,
    size: int,
    l1: float,
    l2: float,
    rng: np.random.Generator,
) -> tuple[float, int, int | None]:
    """One epoch on the compiled path, the same steps as :func:`_eager_epoch` (targets already mapped)."""
    total, seen = 0.0, 0
    correct: int | None = 0
    # Same shuffles as the eager epoch: batches draws its permutation from rng alone.
    cl = paths.loss
    n_in = cl.n_inputs
    for xb, tb in batches(Xa, ta, size, shuffle=True, seed=rng):
        optimizer.zero_grad()
        model.zero_grad()
        # One forward and backward pass gives the loss, the parameter gradients and,
        # through the gradients w.r.t. the targets, the accuracy of the weights
        # before this step (as the eager forward measures it).  The reduction is
        # value_and_grad(reduce="mean")'s: sum / n, and each gradient / n added into .grad.
        per_sample, arg_grads, par_grads = cl.compiled.forward_backward(*cl.args(xb, tb))
        n = len(tb)
        c = _correct_from_target_grads(name, per_sample, arg_grads[n_in:], tb) if name in _CLASSIFICATION else None
        value = float(np.sum(per_sample)) / n
        for p, g in zip(cl.params, par_grads):
            p.grad += g / n
        if l1 or l2:
            _add_penalty_grads(params, l1, l2)
        optimizer.step()
        total += value * n
        correct = None if c is None or correct is None else correct + c
        seen += n
    return total, seen, correct
