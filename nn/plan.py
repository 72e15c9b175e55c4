"""Deciding between the compiled and the eager path of ``nn.fit`` / ``evaluate`` / ``predict``, and tracing it.

The compiled path is safe for the models of :mod:`nn.layers` (``MLP``,
``Layer``, ``Neuron``, ``Maxout``, ``Dropout`` with ``p = 0``) and of
:mod:`nn.sequential` (``Sequential`` of those, ``Linear``, the activation
modules; not ``BatchNorm``, which needs the whole batch) and the losses
``mse l1 hinge bce_with_logits cross_entropy``, and ``bce`` for a model whose
output is a sigmoid.  :func:`plan` says which path runs (and why the eager
one, when it does); :func:`fit_paths` traces the tapes ``fit`` trains and
validates with, through :mod:`nn.compiled`.
"""

from __future__ import annotations

from dataclasses import dataclass

from autograd_core import Compiled, TraceError, is_anomaly_enabled

from .compiled import CompiledLoss, compile_loss, compile_model
from .layers import MLP, BatchNorm, Dropout, Layer, Maxout, Neuron
from .module import Module
from .sequential import ACTIVATION_MODULES, Linear, Sequential, Sigmoid

__all__ = ["COMPILED_LOSSES", "Paths", "Tapes", "fit_paths", "loss_obstacle", "model_obstacle", "plan", "trace"]

#: Losses whose compiled per-sample form equals the eager loss.  ``bce`` needs a
#: model whose output is a sigmoid (see :func:`_outputs_are_probabilities`).
COMPILED_LOSSES = ("mse", "l1", "hinge", "bce", "bce_with_logits", "cross_entropy")

#: Module types known to build the same graph for every sample, with no
#: randomness and no state besides their parameters (Dropout only with p = 0 in
#: training mode; in evaluation mode it is the identity).  A Sequential passes a
#: single sample through its modules, so it traces as its modules do.
_TRACEABLE: tuple[type[Module], ...] = (
    MLP,
    Layer,
    Neuron,
    Maxout,
    Dropout,
    Sequential,
    Linear,
    *ACTIVATION_MODULES.values(),
)

#: The compiled loss (None when no loss was asked for) and the compiled model.
Tapes = tuple[CompiledLoss | None, Compiled]


@dataclass
class Paths:
    """The tapes of fit's compiled path: training (training mode) and validation (evaluation mode)."""

    loss: CompiledLoss
    pred: Compiled
    eval_loss: CompiledLoss
    eval_pred: Compiled


def _outputs_are_probabilities(model: Module) -> bool:
    """True when every output of ``model`` is a sigmoid (an nn.layers model ending in one)."""
    if isinstance(model, MLP):
        return model.output_activation == "sigmoid"
    if isinstance(model, (Layer, Neuron)):
        return model.activation == "sigmoid"
    if isinstance(model, Sequential) and len(model):
        last = model[-1]
        return isinstance(last, Sigmoid) or _outputs_are_probabilities(last)
    return False


def loss_obstacle(name: str | None, model: Module) -> str | None:
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
            "output_activation='sigmoid', a Layer or Neuron with activation='sigmoid', or a Sequential ending "
            "in Sigmoid()): the eager loss "
            "checks every probability is in [0, 1], a replay cannot; for raw scores use 'bce_with_logits'"
        )
    return None


def model_obstacle(model: Module, *, training: bool) -> tuple[str | None, bool]:
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


def trace(model: Module, name: str | None, n_inputs: int, *, training: bool) -> Tapes:
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


def plan(
    model: Module, name: str | None, n_inputs: int, compile: bool | None, *, training: bool, need_loss: bool, who: str
) -> tuple[Tapes | None, str | None]:
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
    reason = loss_obstacle(name, model) if need_loss else None
    hard = reason is not None
    if reason is None:
        reason, hard = model_obstacle(model, training=training)
    fix = "pass compile=None to fall back to the eager path automatically, or compile=False"
    if reason is not None and (hard or compile is None):
        if compile:
            raise ValueError(f"{who}(compile=True): cannot compile: {reason}; {fix}")
        return None, reason
    try:
        return trace(model, name if need_loss else None, n_inputs, training=training), None
    except (TraceError, ValueError) as e:
        # The eager path then raises the model's own error, if it has one.
        if compile:
            raise ValueError(f"{who}(compile=True): cannot compile the model or loss: {e}; {fix}") from e
        return None, f"tracing failed: {e}"


def fit_paths(
    model: Module, name: str | None, n_inputs: int, compile: bool | None
) -> tuple[Paths | None, str | None]:
    """fit's tapes (training, and validation in evaluation mode), or None and the reason the eager path runs."""
    tapes, reason = plan(model, name, n_inputs, compile, training=True, need_loss=True, who="fit")
    if tapes is None or tapes[0] is None:
        return None, reason
    cl, pred = tapes[0], tapes[1]
    eval_cl, eval_pred = cl, pred
    if model_obstacle(model, training=False)[0] is not None:
        # A module fit does not know may act differently in evaluation mode.
        eval_loss, eval_pred = trace(model, name, n_inputs, training=False)
        if eval_loss is None:  # cannot happen: traced with a loss name
            raise RuntimeError("fit: the evaluation-mode trace returned no loss tape")
        eval_cl = eval_loss
    return Paths(cl, pred, eval_cl, eval_pred), reason
