"""How ``nn.fit`` feeds a batch to a loss and scores it, on Values (eager) and on arrays (compiled).

- :func:`forward`, :func:`preds`, :func:`n_outputs`: the model's outputs for
  each sample, shaped as the loss functions of :mod:`nn.losses` take them
  (a model holding BatchNorm gets the whole batch at once);
- :func:`targets`, :func:`target_array`: labels mapped to loss targets
  (``hinge`` wants -1/+1 where the data sets give 0/1; class indices as ints);
- :func:`correct`, :func:`correct_arrays`, :func:`correct_from_target_grads`:
  the number of right predictions of a classification loss.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autograd_core import Compiled, Value, no_grad

from .module import Module

__all__ = [
    "CLASSIFICATION",
    "LossFn",
    "correct",
    "correct_arrays",
    "correct_from_target_grads",
    "forward",
    "n_outputs",
    "outputs",
    "preds",
    "target_array",
    "targets",
]

#: A loss function: ``(predictions, targets) -> Value``.
LossFn = Callable[[Any, Any], Value]

#: Losses with an accuracy (classification losses).
CLASSIFICATION = ("cross_entropy", "bce_with_logits", "hinge", "bce")


def targets(name: str | None, y: np.ndarray) -> list[Any]:
    """The loss targets of labels ``y``: hinge 0 -> -1, class indices as ints, floats otherwise."""
    if name == "hinge":
        # fit's labels are 0/1 like the data sets'; the hinge loss wants -1/+1.
        return [-1.0 if float(t) == 0.0 else float(t) for t in y]
    if name == "cross_entropy":
        return [int(t) for t in y]
    return [float(t) for t in y]


def target_array(name: str | None, y: np.ndarray) -> np.ndarray:
    """:func:`targets` as a float array, for a tape (class indices checked whole before)."""
    return np.asarray(targets(name, y), dtype=np.float64)


def n_outputs(model: Module, x: np.ndarray) -> int:
    """Number of outputs of ``model`` for one sample, in evaluation mode, recording no graph."""
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            sample = [float(v) for v in x]
            # A batch module (a bare BatchNorm) takes a batch even for one sample.
            out = model([sample])[0] if model.takes_batch else model(sample)
    finally:
        model.train(was_training)
    return 1 if isinstance(out, Value) else len(out)


def forward(model: Module, X: np.ndarray) -> list[list[Value]]:
    """The model's outputs for every row of ``X``, always a list per sample.

    A model that needs the whole batch (``takes_batch``: a BatchNorm, or a
    Sequential holding one at any depth) gets it in one call: BatchNorm in
    training mode normalizes over the batch.
    """
    if model.takes_batch:
        rows = model([[float(v) for v in row] for row in X])
        return [[r] if isinstance(r, Value) else list(r) for r in rows]
    outs = []
    for row in X:
        out = model([float(v) for v in row])
        if isinstance(out, Value):
            out = [out]
        outs.append(list(out))
    return outs


def preds(name: str | None, outs: list[list[Value]]) -> Any:
    """The outputs as the loss takes them: a list per sample, or one Value per sample for one output."""
    if name == "cross_entropy" or len(outs[0]) != 1:
        return outs
    return [o[0] for o in outs]


def correct(name: str | None, outs: list[list[Value]], y: np.ndarray) -> int | None:
    """Number of correct predictions, or None when the loss is not a classification loss."""
    if name == "cross_entropy":
        return sum(int(np.argmax([v.data for v in o]) == int(t)) for o, t in zip(outs, y))
    if name in ("bce_with_logits", "hinge", "bce"):
        cut = 0.5 if name == "bce" else 0.0
        return sum(int((o[0].data > cut) == (float(t) > 0)) for o, t in zip(outs, y))
    return None


def _check_finite_logits(logits: np.ndarray) -> None:
    m = np.max(logits, axis=1)
    if not np.all(np.isfinite(m)):
        # As the eager loss, which cannot shift non-finite logits.
        raise ValueError(f"cross_entropy: logits must be finite, got {m[~np.isfinite(m)][0]}")


def outputs(pred: Compiled, X: np.ndarray, name: str | None) -> list[np.ndarray]:
    """The compiled model's outputs for every row of X, one array per output."""
    outs: list[np.ndarray] = pred(*X.T)
    if name == "cross_entropy":
        _check_finite_logits(np.stack(outs, axis=1))
    return outs


def correct_arrays(name: str | None, outs: list[np.ndarray], t: np.ndarray) -> int | None:
    """:func:`correct` for compiled outputs and mapped targets (hinge -1/+1, class indices)."""
    if name == "cross_entropy":
        return int(np.sum(np.argmax(np.stack(outs, axis=1), axis=1) == t))
    if name in ("bce_with_logits", "hinge", "bce"):
        cut = 0.5 if name == "bce" else 0.0
        return int(np.sum((outs[0] > cut) == (t > 0.0)))
    return None


def correct_from_target_grads(
    name: str | None, per_sample: np.ndarray, t_grads: list[np.ndarray], t: np.ndarray
) -> int | None:
    """:func:`correct_arrays` from one loss pass: the per-sample losses and their gradients w.r.t. the targets.

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
        _check_finite_logits(logits)
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
