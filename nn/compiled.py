"""Compiled forms of a model and of its per-sample loss, for batched training and prediction.

:func:`compile_model` traces a model (anything with ``parameters()`` and
``__call__(list_of_Values) -> Value or list of Values``) as a function of its
inputs.  :func:`compile_loss` traces one sample's ``loss(model(x), target)``
with the function of :mod:`nn.losses` itself (the losses are written so a
tape can trace them, with the targets as arguments of the tape), and returns
a :class:`CompiledLoss` whose batch mean is one batched replay.  Both use the
public :func:`autograd_core.compile`; nothing here re-implements a loss.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd_core import Compiled, Value, compile

from . import losses

__all__ = ["LOSS_KINDS", "CompiledLoss", "compile_loss", "compile_model"]

#: Per-sample losses :func:`compile_loss` knows, by name (the names of ``nn.losses.LOSSES``).
LOSS_KINDS = tuple(losses.LOSSES)


def _model_outputs(model: Any, xs: list[Any]) -> list[Any]:
    out = model(xs)
    if type(out) is Value:
        return [out]
    if not isinstance(out, (list, tuple)):
        raise TypeError(f"model(inputs) must return a Value or a list of Values, got {type(out).__name__}")
    return list(out)


def _count(n: Any, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{what} must be an int, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"{what} must be at least 1, got {n}")
    return int(n)


def compile_model(model: Any, n_inputs: int, *, example: Sequence[float] | None = None) -> Compiled:
    """Compile ``model`` as a function of its ``n_inputs`` inputs (for batched prediction).

    Args:
        model: anything with ``parameters()`` and ``__call__(list_of_Values)``
            returning a Value or a list of Values.
        n_inputs: number of model inputs.
        example: inputs to trace with (default: 0.1, 0.2, ...).

    Returns:
        A :class:`autograd_core.Compiled` ``(*inputs) -> list of outputs``, params = ``model.parameters()``.

    Raises:
        TypeError, ValueError, TraceError: as :func:`autograd_core.compile`.
    """
    n_inputs = _count(n_inputs, "n_inputs")
    ex = list(example) if example is not None else [0.1 * (i + 1) for i in range(n_inputs)]
    return compile(lambda *x: _model_outputs(model, list(x)), ex, params=list(model.parameters()))


class CompiledLoss:
    """A model's per-sample loss, compiled; the batch mean is one :meth:`value_and_grad` call.

    Made by :func:`compile_loss`.  Arguments of the tape: the model inputs,
    then the targets (one per model output; for ``cross_entropy`` the one-hot
    encoding of the class index).

    Attributes:
        compiled: the :class:`autograd_core.Compiled` per-sample loss.
        kind: the loss name.
        n_inputs, n_outputs: the model's input and output counts.
        params: the model's parameters, in ``model.parameters()`` order.
    """

    def __init__(self, compiled: Compiled, kind: str, n_inputs: int, n_outputs: int) -> None:
        self.compiled = compiled
        self.kind = kind
        self.n_inputs = n_inputs
        self.n_outputs = n_outputs
        self.params = compiled.params

    def __repr__(self) -> str:
        return f"CompiledLoss(kind={self.kind!r}, n_inputs={self.n_inputs}, n_outputs={self.n_outputs})"

    def args(self, X: Any, y: Any) -> list[np.ndarray]:
        """The tape's argument arrays for inputs ``X`` (n, n_inputs) and targets ``y``.

        ``y`` is (n,) or (n, n_outputs) of targets, or (n,) of class indices for
        ``cross_entropy``.

        Raises:
            ValueError: for shapes that do not match, or a class index out of range.
        """
        Xa = np.asarray(X, dtype=np.float64)
        if Xa.ndim == 1 and self.n_inputs == 1:
            Xa = Xa[:, None]
        if Xa.ndim != 2 or Xa.shape[1] != self.n_inputs:
            raise ValueError(f"X must have shape (n, {self.n_inputs}), got {Xa.shape}")
        ya = np.asarray(y, dtype=np.float64)
        if ya.shape[:1] != Xa.shape[:1]:
            raise ValueError(f"X has {Xa.shape[0]} samples but y has shape {ya.shape}; give one target per sample")
        if self.kind == "cross_entropy":
            if (
                ya.ndim != 1
                or not np.all(ya == np.round(ya))
                or ya.size
                and (ya.min() < 0 or ya.max() >= self.n_outputs)
            ):
                raise ValueError(
                    f"cross_entropy targets must be class indices 0..{self.n_outputs - 1} of shape (n,), got {ya!r:.80}"
                )
            T = np.zeros((ya.shape[0], self.n_outputs))
            T[np.arange(ya.shape[0]), ya.astype(np.int64)] = 1.0
        else:
            T = ya[:, None] if ya.ndim == 1 else ya
            if T.ndim != 2 or T.shape[1] != self.n_outputs:
                raise ValueError(f"y must have shape (n,) or (n, {self.n_outputs}) for {self.kind}, got {ya.shape}")
        return [np.ascontiguousarray(Xa[:, j]) for j in range(self.n_inputs)] + [
            np.ascontiguousarray(T[:, j]) for j in range(self.n_outputs)
        ]

    def value_and_grad(self, X: Any, y: Any, *, reduce: str = "mean") -> tuple[float, list[float]]:
        """The loss over the batch ``(X, y)`` and its gradients, also added into each parameter's ``.grad``.

        Args:
            X: inputs, shape (n, n_inputs).
            y: targets, see :meth:`args`.
            reduce: ``"mean"`` (as the ``nn.losses`` functions) or ``"sum"``.

        Returns:
            ``(loss, grads)``, grads in ``params`` order.

        Raises:
            ValueError: for bad shapes or an empty batch.
        """
        return self.compiled.value_and_grad(self.args(X, y), reduce=reduce)


def _loss_kind(loss: Any) -> str:
    kind = loss if isinstance(loss, str) else getattr(loss, "__name__", None)
    if kind not in LOSS_KINDS:
        raise ValueError(f"unknown loss {loss!r}; compile_loss knows {', '.join(LOSS_KINDS)}")
    return str(kind)


def _coefficient(what: str, coef: Any) -> float:
    if isinstance(coef, bool) or not isinstance(coef, numbers.Real) or not math.isfinite(coef):
        raise TypeError(f"{what} must be a finite real number, got {coef!r}")
    return float(coef)


def compile_loss(
    model: Any,
    loss: Any,
    n_inputs: int,
    *,
    n_outputs: int | None = None,
    l1: float = 0.0,
    l2: float = 0.0,
) -> CompiledLoss:
    """Compile ``loss(model(x), target)`` for one sample, to train ``model`` on batches.

    The per-sample loss is the :mod:`nn.losses` function of that name, called
    on one sample's outputs and targets (Values, arguments of the tape): for a
    model with several outputs the mean over the outputs, for
    ``cross_entropy`` the one-hot row of the class index as class
    probabilities.  So the batch mean of the compiled loss is the
    ``nn.losses`` function over the batch, up to the order of summation.

    Args:
        model: anything with ``parameters()`` and ``__call__(list_of_Values)``
            returning a Value or a list of Values.
        loss: one of :data:`LOSS_KINDS` by name, or a function whose
            ``__name__`` is one of them (``nn.losses.mse`` ...).
        n_inputs: number of model inputs.
        n_outputs: number of model outputs (default: found by calling the model once).
        l1: if nonzero, ``l1 * nn.losses.l1_penalty(parameters)`` is added to the
            loss (computed once per batch, not per sample).
        l2: likewise ``l2 * nn.losses.l2_penalty(parameters)``.

    Returns:
        A :class:`CompiledLoss`.

    Raises:
        TypeError, ValueError: for an unknown loss or bad counts.
        TraceError: if the model branches on data in Python.
    """
    kind = _loss_kind(loss)
    fn = losses.LOSSES[kind]
    n_inputs = _count(n_inputs, "n_inputs")
    l1, l2 = _coefficient("l1", l1), _coefficient("l2", l2)
    params = list(model.parameters())
    ex = [0.1 * (i + 1) for i in range(n_inputs)]
    if n_outputs is None:
        n_outputs = len(_model_outputs(model, [Value(v) for v in ex]))
    n_outputs = _count(n_outputs, "n_outputs")
    if kind == "cross_entropy" and n_outputs < 2:
        raise ValueError(f"cross_entropy needs a model with at least 2 outputs (class logits), got {n_outputs}")

    def per_sample(*a: Any) -> Any:
        outs = _model_outputs(model, list(a[:n_inputs]))
        if len(outs) != n_outputs:
            raise ValueError(f"the model returned {len(outs)} outputs, expected n_outputs={n_outputs}")
        total = fn(outs, list(a[n_inputs:]))
        # The penalties depend on no argument: the replay computes them once per batch.
        if l1 and params:
            total = total + l1 * losses.l1_penalty(params)
        if l2 and params:
            total = total + l2 * losses.l2_penalty(params)
        return total

    # The trace takes the first class (or target 1); the check example flips the inputs' signs
    # and takes another class (or target -1, which the losses do not check when it is a Value).
    if kind == "cross_entropy":
        t_ex = [1.0] + [0.0] * (n_outputs - 1)
        t_check = [0.0, 1.0] + [0.0] * (n_outputs - 2)
    else:
        t_ex, t_check = [1.0] * n_outputs, [-1.0] * n_outputs
    check = [-(v + 1.0) for v in ex] + t_check
    compiled = compile(per_sample, ex + t_ex, params=params, check_args=check)
    return CompiledLoss(compiled, kind, n_inputs, n_outputs)
