"""One epoch of ``nn.fit``: on the eager engine, or on the compiled tapes; and one validation pass on the tapes.

Both epochs run the same steps on the same shuffles (:func:`nn.data.batches`
draws its permutation from the generator alone): forward the batch, the mean
loss plus the ``l1`` / ``l2`` penalties, ``zero_grad``, the gradients,
``optimizer.step()``.  Each returns ``(sum of batch loss * batch size,
samples seen, correct predictions or None)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from autograd_core import Compiled, Value
from autograd_core.engine import add_grad

from . import losses
from .batch import (
    CLASSIFICATION,
    LossFn,
    correct,
    correct_arrays,
    correct_from_target_grads,
    forward,
    outputs,
    preds,
    targets,
)
from .checks import loss_value
from .compiled import CompiledLoss
from .data import batches
from .module import Module
from .optim import Optimizer

__all__ = ["EpochResult", "Step", "compiled_epoch", "eager_epoch", "evaluate_tapes"]

#: ``(sum of batch loss * batch size, samples seen, correct predictions or None)``.
EpochResult = tuple[float, int, int | None]


@dataclass(frozen=True)
class Step:
    """What a training step needs: the model, the loss (name or None, and function), the optimizer, and so on."""

    model: Module
    name: str | None
    fn: LossFn
    optimizer: Optimizer
    #: Samples per step.
    batch_size: int
    #: Coefficients of the L1 and L2 penalties.
    l1: float
    l2: float


def eager_epoch(step: Step, X: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> EpochResult:
    """One epoch on the eager engine: a Value graph per batch, ``backward``, ``optimizer.step()``."""
    params = step.model.parameters()
    total, seen = 0.0, 0
    n_correct: int | None = 0
    for xb, yb in batches(X, y, step.batch_size, shuffle=True, seed=rng):
        outs = forward(step.model, xb)
        # Checked before backward, so a custom loss returning a float fails on the first batch, before any step.
        data_loss = loss_value(step.fn(preds(step.name, outs), targets(step.name, yb)), step.fn, "fit")
        objective = data_loss
        if step.l1:
            objective = objective + step.l1 * losses.l1_penalty(params)
        if step.l2:
            objective = objective + step.l2 * losses.l2_penalty(params)
        step.optimizer.zero_grad()
        step.model.zero_grad()
        objective.backward()
        step.optimizer.step()
        total += data_loss.data * len(yb)
        c = correct(step.name, outs, yb)
        n_correct = None if c is None or n_correct is None else n_correct + c
        seen += len(yb)
    return total, seen, n_correct


def compiled_epoch(step: Step, cl: CompiledLoss, X: np.ndarray, t: np.ndarray, rng: np.random.Generator) -> EpochResult:
    """One epoch on the compiled loss ``cl``, the same steps as :func:`eager_epoch` (targets ``t`` already mapped)."""
    params = step.model.parameters()
    total, seen = 0.0, 0
    n_correct: int | None = 0
    n_in = cl.n_inputs
    for xb, tb in batches(X, t, step.batch_size, shuffle=True, seed=rng):
        step.optimizer.zero_grad()
        step.model.zero_grad()
        # One forward and backward pass gives the loss, the parameter gradients and,
        # through the gradients w.r.t. the targets, the accuracy of the weights
        # before this step (as the eager forward measures it).  The reduction is
        # value_and_grad(reduce="mean")'s: sum / n, and each gradient / n added into .grad.
        per_sample, arg_grads, par_grads = cl.compiled.forward_backward(*cl.args(xb, tb))
        n = len(tb)
        c = None
        if step.name in CLASSIFICATION:
            c = correct_from_target_grads(step.name, per_sample, arg_grads[n_in:], tb)
        value = float(np.sum(per_sample)) / n
        for p, g in zip(cl.params, par_grads):
            p.grad = add_grad(p.grad, g / n)
        if step.l1 or step.l2:
            _add_penalty_grads(params, step.l1, step.l2)
        step.optimizer.step()
        total += value * n
        n_correct = None if c is None or n_correct is None else n_correct + c
        seen += n
    return total, seen, n_correct


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
        p.grad = add_grad(p.grad, g)


def evaluate_tapes(
    cl: CompiledLoss, pred: Compiled, name: str | None, X: np.ndarray, t: np.ndarray
) -> dict[str, float | None]:
    """Mean loss and accuracy from the tapes (``t``: targets mapped by :func:`nn.batch.target_array`)."""
    n_correct = None
    if name in CLASSIFICATION:
        n_correct = correct_arrays(name, outputs(pred, X, name), t)
    per_sample = cl.compiled(*cl.args(X, t))
    value = float(np.sum(per_sample)) / len(t)  # as value_and_grad's batch mean
    return {"loss": value, "accuracy": None if n_correct is None else n_correct / len(t)}
