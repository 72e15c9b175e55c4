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
the same epochs with :func:`autograd_core.compile`: the model and the
per-sample loss (the :mod:`nn.losses` function itself) are traced once into
tapes (:mod:`nn.compiled`), and each batch is one batched replay instead of
one ``Value`` graph per sample.  The results equal the eager path's up to
float rounding (about 1e-15 relative per step).  It is safe for the models of
:mod:`nn.layers` (``MLP``, ``Layer``, ``Neuron``, ``Maxout``, ``Dropout``
with ``p = 0``) and :mod:`nn.sequential` (``Sequential``, ``Linear``, the
activation modules) and the losses ``mse l1 hinge bce_with_logits
cross_entropy``, and ``bce`` for a model whose output is a sigmoid;
everything else (and everything under ``detect_anomaly``, whose checks a
replay does not run) runs eagerly, and :attr:`History.compiled` /
:attr:`History.eager_reason` say which path ran and why (:mod:`nn.plan`).

A ``BatchNorm`` (in a ``Sequential``) normalizes over the batch, so it runs
eagerly and each batch goes through the model in one call.  After each epoch
fit updates the :mod:`tqdm.auto` progress bar (only in an interactive
session) and calls the ``callbacks`` (:mod:`nn.callbacks`), which may stop it.

The pieces live in modules of one job: :mod:`nn.checks` (argument checks),
:mod:`nn.plan` (which path, and its tapes), :mod:`nn.epochs` (one eager and one
compiled epoch), :mod:`nn.batch` (feeding a batch to the loss, scoring it),
:mod:`nn.history` (``History``, ``EarlyStopping``) and :mod:`nn.callbacks`
(progress bar, callbacks, ``StopTraining``).
"""

from __future__ import annotations

import contextlib
import gc
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograd_core import no_grad

from . import checks
from .batch import LossFn, correct, forward, n_outputs, outputs, preds, target_array, targets
from .callbacks import Callback, StopTraining, check_callbacks, progress_bar, run_callbacks
from .data import check_seed, train_test_split
from .epochs import Step, compiled_epoch, eager_epoch, evaluate_tapes
from .history import EarlyStopping, History
from .losses import LOSSES
from .module import Module
from .optim import Optimizer
from .plan import COMPILED_LOSSES, Paths, fit_paths, plan

__all__ = ["fit", "evaluate", "predict", "History", "EarlyStopping", "StopTraining", "LOSSES", "COMPILED_LOSSES"]


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


# --------------------------------------------------------------------------
# evaluate, predict
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
    name, fn = checks.loss_fn(loss)
    Xa, ya = checks.as_xy(X, y, "evaluate")
    tapes, _ = plan(model, name, Xa.shape[1], compile, training=False, need_loss=True, who="evaluate")
    if tapes is not None and tapes[0] is not None:
        cl, pred = tapes[0], tapes[1]
        if name == "cross_entropy":
            checks.check_class_labels(ya, pred.n_outputs, "evaluate")
        checks.check_targets(name, fn, ya, pred.n_outputs)
        return evaluate_tapes(cl, pred, name, Xa, target_array(name, ya))
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            outs = forward(model, Xa)
            if name == "cross_entropy":
                checks.check_class_labels(ya, len(outs[0]), "evaluate")
            value = checks.loss_value(fn(preds(name, outs), targets(name, ya)), loss, "evaluate").data
    finally:
        model.train(was_training)
    n_correct = correct(name, outs, ya)
    return {"loss": float(value), "accuracy": None if n_correct is None else n_correct / len(ya)}


def predict(model: Module, X: Any, *, compile: bool | None = None) -> np.ndarray:
    """Model outputs for every sample in evaluation mode: shape (n,) for one output, (n, k) for k.

    Args:
        model: a callable Module.
        X: samples, shape (n, features).
        compile: True to replay a traced tape over the whole batch, False for the
            eager engine, None (default) to compile where safe.

    Raises:
        TypeError: if X holds strings or other non-numbers (the rule of fit and evaluate).
        ValueError: if X is not a 2-d array or holds nan or inf (as fit and evaluate), or for
            ``compile=True`` with a model that cannot be compiled.
    """
    Xa = checks.as_x(X, "predict", allow_empty=True)
    tapes = None
    if len(Xa) and Xa.shape[1]:
        tapes, _ = plan(model, None, Xa.shape[1], compile, training=False, need_loss=False, who="predict")
    if tapes is not None:
        arr = np.stack(outputs(tapes[1], Xa, None), axis=1)
        return arr[:, 0] if arr.shape[1] == 1 else arr
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            outs = forward(model, Xa)
    finally:
        model.train(was_training)
    arr = np.array([[v.data for v in o] for o in outs], dtype=np.float64).reshape(len(Xa), -1)
    return arr[:, 0] if arr.shape[1] == 1 else arr


# --------------------------------------------------------------------------
# fit: its arguments, checked; the loop; its helpers
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Run:
    """fit's arguments, checked: what the training loop reads."""

    step: Step
    #: The loss as the caller gave it (a name or a callable), for the eager validation pass.
    loss: str | LossFn
    #: Training data (after ``val_split`` held some out) and validation data.
    X: np.ndarray
    y: np.ndarray
    val: tuple[np.ndarray, np.ndarray] | None
    #: The labels as given, before ``val_split`` reordered them: label errors name the caller's index.
    y_given: np.ndarray
    epochs: int
    early_stopping: EarlyStopping | None
    progress: bool
    seed: int
    stop_on_nonfinite: bool
    callbacks: tuple[Callback, ...]


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
    callbacks: Callback | list[Callback] | tuple[Callback, ...] | None = None,
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
        progress: show a :mod:`tqdm.auto` progress bar (a widget in Jupyter, text in a terminal),
            only when the session is interactive (an IPython kernel, or stderr a terminal);
            False for none.
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
        callbacks: a callable or a list of callables, each called as ``callback(history)``
            after every epoch (after its validation and early-stopping check) with the
            History so far; one stops training after that epoch by returning True or
            raising :class:`StopTraining` (``History.stopped_by_callback`` then says so),
            None or False goes on (see :mod:`nn.callbacks`).

    Every argument is checked (also the validation data against the training
    data, and the targets against the loss) before the first epoch, so a fit
    that raises for bad input leaves the weights as they were.

    Returns:
        A :class:`History`.

    Raises:
        TypeError, ValueError: for bad arguments, naming the argument;
            ValueError also for ``compile=True`` with a model or loss that
            cannot be compiled (a custom loss, ``bce`` without a sigmoid output,
            detect_anomaly on, active Dropout,
            BatchNorm, data-dependent branches), naming the reason; ValueError also
            when the optimizer holds none of the model's parameters, or when a model
            holding BatchNorm would get a batch of one sample.  TypeError also for a
            custom loss that returns no Value (on the first batch, before any step) and
            for a callback that returns something else than None or a bool.

    By default fit does not stop on a non-finite loss (neither does PyTorch): a
    diverged run shows as nan or inf in ``History.train_loss`` and as
    ``History.diverged_epoch``; ``stop_on_nonfinite=True`` ends it there.
    """
    run = _checked_run(
        model,
        X,
        y,
        loss=loss,
        optimizer=optimizer,
        epochs=epochs,
        batch_size=batch_size,
        val=val,
        val_split=val_split,
        l1=l1,
        l2=l2,
        early_stopping=early_stopping,
        progress=progress,
        seed=seed,
        stop_on_nonfinite=stop_on_nonfinite,
        callbacks=callbacks,
    )
    with _cyclic_gc_paused():
        paths, reason = fit_paths(model, run.step.name, run.X.shape[1], compile)
        _check_labels_up_front(run, paths)
        # Set before the first epoch: the callbacks see which path runs.
        history = History(compiled=paths is not None, eager_reason=reason)
        _train(run, paths, history)
    return history


def _train(run: _Run, paths: Paths | None, history: History) -> None:
    """The epochs of :func:`fit` into ``history``: train, record, validate, stop; compiled when ``paths`` is given."""
    model, optimizer = run.step.model, run.step.optimizer
    rng = np.random.default_rng(run.seed)
    best = _BestWeights(model, run.early_stopping)
    train_t = target_array(run.step.name, run.y) if paths is not None else run.y
    bar = progress_bar(run.epochs, run.progress)
    for epoch in range(run.epochs):
        model.train()
        if paths is None:
            total, seen, n_correct = eager_epoch(run.step, run.X, run.y, rng)
        else:
            total, seen, n_correct = compiled_epoch(run.step, paths.loss, run.X, train_t, rng)
        _record_train(history, epoch, total / seen, n_correct, seen, optimizer.lr)
        postfix = {"loss": f"{history.train_loss[-1]:.4g}"}
        stop = False
        if run.val is not None:
            vloss, vacc = _validate(run, paths)
            history.val_loss.append(vloss)
            history.val_accuracy.append(vacc)
            postfix["val_loss"] = f"{vloss:.4g}"
            if best.update(vloss, epoch):
                history.best_epoch = epoch
            elif best.patience_ran_out():
                history.stopped_early = stop = True
        bar.set_postfix(postfix, refresh=False)
        bar.update(1)
        # After this epoch's validation, so every list of History has one entry per epoch.
        if run.stop_on_nonfinite and history.diverged_epoch is not None:
            stop = True
        # Every epoch run reaches the callbacks, also the one early stopping ends on.
        if run_callbacks(run.callbacks, history):
            history.stopped_by_callback = stop = True
        if stop:
            break
    bar.close()
    if history.best_epoch is not None:
        best.restore()
    model.train()


def _record_train(history: History, epoch: int, loss: float, n_correct: int | None, seen: int, lr: float) -> None:
    """Append one epoch's training loss, accuracy and learning rate; note the first non-finite loss."""
    history.train_loss.append(loss)
    history.train_accuracy.append(None if n_correct is None else n_correct / seen)
    history.lr.append(lr)
    if history.diverged_epoch is None and not math.isfinite(loss):
        history.diverged_epoch = epoch


def _validate(run: _Run, paths: Paths | None) -> tuple[float, float | None]:
    """The validation loss and accuracy, on the evaluation-mode tapes or eagerly."""
    if run.val is None:  # not called without validation data; checked for the type checker
        raise ValueError("fit: no validation data")
    Xv, yv = run.val
    if paths is None:
        ev = evaluate(run.step.model, Xv, yv, loss=run.loss, compile=False)
    else:
        ev = evaluate_tapes(paths.eval_loss, paths.eval_pred, run.step.name, Xv, target_array(run.step.name, yv))
    return float(ev["loss"] or 0.0), ev["accuracy"]  # evaluate's loss is always a float


class _BestWeights:
    """Early stopping's memory: the best validation loss, its weights, and the epochs waited since."""

    def __init__(self, model: Module, stopping: EarlyStopping | None) -> None:
        self.params = model.parameters()
        self.stopping = stopping
        self.best_loss = math.inf
        self.weights = [p.data for p in self.params]
        self.waited = 0

    def update(self, vloss: float, epoch: int) -> bool:
        """Record this epoch's validation loss; True when it is a new best (weights kept)."""
        if self.stopping is None:
            return False
        if vloss < self.best_loss - self.stopping.min_delta:
            self.best_loss, self.weights, self.waited = vloss, [p.data for p in self.params], 0
            return True
        self.waited += 1
        return False

    def patience_ran_out(self) -> bool:
        """True when ``patience`` epochs in a row brought no improvement."""
        return self.stopping is not None and self.waited >= self.stopping.patience

    def restore(self) -> None:
        """Put the best epoch's weights back."""
        for p, w in zip(self.params, self.weights):
            p.data = w


def _checked_run(
    model: Any,
    X: Any,
    y: Any,
    *,
    loss: Any,
    optimizer: Any,
    epochs: Any,
    batch_size: Any,
    val: Any,
    val_split: Any,
    l1: Any,
    l2: Any,
    early_stopping: Any,
    progress: Any,
    seed: Any,
    stop_on_nonfinite: Any,
    callbacks: Any,
) -> _Run:
    """fit's arguments checked (in the order of the signature, first error wins) and gathered into a :class:`_Run`."""
    checks.check_model_and_optimizer(model, optimizer)
    name, fn = checks.loss_fn(loss)
    Xa, ya = checks.as_xy(X, y, "fit")
    y_given = ya
    epochs = checks.positive_int("epochs", epochs)
    l1, l2 = checks.non_negative("l1", l1), checks.non_negative("l2", l2)
    seed = check_seed(seed)
    if batch_size is not None:
        batch_size = checks.positive_int("batch_size", batch_size)
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be True or False, got {progress!r}")
    if not isinstance(stop_on_nonfinite, bool):
        raise TypeError(f"stop_on_nonfinite must be True or False, got {stop_on_nonfinite!r}")
    cbs = check_callbacks(callbacks)
    if val is not None and val_split is not None:
        raise ValueError("pass either val or val_split, not both")
    if val_split is not None:
        Xa, Xv, ya, yv = train_test_split(Xa, ya, checks.check_val_split(val_split, len(Xa)), seed)
        val = (Xv, yv)
    val_xy = checks.as_xy(val[0], val[1], "fit val") if val is not None else None
    checks.check_val_width(val_xy, Xa.shape[1])
    if isinstance(early_stopping, int) and not isinstance(early_stopping, bool):
        early_stopping = EarlyStopping(patience=early_stopping)
    if early_stopping is not None and not isinstance(early_stopping, EarlyStopping):
        raise TypeError(f"early_stopping must be an EarlyStopping or an int patience, got {early_stopping!r}")
    if early_stopping is not None and val_xy is None:
        raise ValueError("early_stopping needs validation data: pass val=(X_val, y_val) or val_split")
    size = len(Xa) if batch_size is None else batch_size
    checks.check_batch_sizes(model, len(Xa), size)
    step = Step(model, name, fn, optimizer, size, l1, l2)
    return _Run(step, loss, Xa, ya, val_xy, y_given, epochs, early_stopping, progress, seed, stop_on_nonfinite, cbs)


def _check_labels_up_front(run: _Run, paths: Paths | None) -> None:
    """The class labels and every target of a built-in loss, training and validation, checked before the first step.

    A replay runs no checks, and the losses do not check targets that are
    Values: the eager loss checks here.  On the eager path the validation
    targets would otherwise fail only after the first epoch changed the weights.
    """
    name, fn = run.step.name, run.step.fn
    n_out = paths.pred.n_outputs if paths is not None else None
    checks.check_labels(name, run.step.model, run.y_given, run.val, run.X, n_out)
    if name is None:
        return  # a custom loss: its checks are its own, run on the first batch
    if n_out is None:
        n_out = n_outputs(run.step.model, run.X[0])
    checks.check_targets(name, fn, run.y, n_out)
    if run.val is not None:
        checks.check_targets(name, fn, run.val[1], n_out)
