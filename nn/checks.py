"""Argument checks of ``nn.fit``, ``nn.evaluate`` and ``nn.predict``, each raising a clear error.

Every check names the argument and says how to fix it: TypeError for a wrong
type, ValueError for a wrong value.  The checks of labels and targets run
before the first training step, so a bad label fails at once and names the
caller's index, not a sample deep inside an epoch.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from autograd_core import Value, no_grad

from . import losses
from .batch import LossFn, n_outputs, targets
from .limits import positive_int
from .module import Module
from .optim import Optimizer
from .sequential import Sequential

__all__ = [
    "as_x",
    "as_xy",
    "check_batch_sizes",
    "check_class_labels",
    "check_labels",
    "check_model_and_optimizer",
    "check_targets",
    "check_val_split",
    "check_val_width",
    "loss_fn",
    "loss_value",
    "non_negative",
    "positive_int",
]


def non_negative(name: str, v: Any) -> float:
    """``v`` as a finite float >= 0, or an error naming ``name``."""
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{name} must be a finite number >= 0, got {type(v).__name__}: {v!r}")
    f = float(v)
    if not (math.isfinite(f) and f >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
    return f


def loss_fn(loss: Any) -> tuple[str | None, LossFn]:
    """The loss's name (None for a custom callable) and its function."""
    if isinstance(loss, str):
        if loss not in losses.LOSSES:
            raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(losses.LOSSES)} or pass a callable")
        return loss, losses.LOSSES[loss]
    if callable(loss):
        return None, loss
    raise TypeError(f"loss must be a loss name or a callable (preds, targets) -> Value, got {type(loss).__name__}")


def check_model_and_optimizer(model: Any, optimizer: Any) -> None:
    """fit's model must be a Module and its optimizer one over (some of) that model's parameters."""
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


def _no_strings(arr: np.ndarray, name: str, what: str) -> None:
    """Refuse text in ``arr``: numpy would parse "1.5" into 1.5 silently for X while y refuses it."""
    text = arr.dtype.kind in "US" or (
        arr.dtype.kind == "O" and any(isinstance(v, (str, bytes)) for v in arr.ravel())
    )
    if text:
        raise TypeError(
            f"{what}: {name} holds strings (dtype {arr.dtype}); {name} must be an array of numbers: "
            f"parse the text into numbers first (e.g. np.asarray({name}, dtype=float) after checking the values)"
        )


def _finite(arr: np.ndarray, name: str, what: str) -> None:
    """nan or inf would train (or score, or predict) silently to nan: refuse them up front."""
    bad = ~np.isfinite(arr)
    if bad.any():
        at = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{what}: {name} holds {int(bad.sum())} non-finite values (nan or inf), the first at index "
            f"{at[0] if len(at) == 1 else at}; drop or impute them first"
        )


def _float_samples(X: Any, what: str) -> np.ndarray:
    """``X`` as a float array; strings and non-numbers refused with a TypeError naming X."""
    try:
        raw = np.asarray(X)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{what}: X must be an array of real numbers ({e})") from None
    _no_strings(raw, "X", what)
    try:
        return raw.astype(np.float64)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{what}: X must be an array of real numbers ({e})") from None


def as_x(X: Any, what: str, *, allow_empty: bool = False) -> np.ndarray:
    """``X`` as float samples (n, features): numbers, not strings, all finite; the one rule of fit, evaluate, predict.

    Raises:
        TypeError: for strings or values that are not numbers.
        ValueError: for a shape that is not (samples, features), or nan / inf.
    """
    Xa = _float_samples(X, what)
    if Xa.ndim != 2 or (len(Xa) == 0 and not allow_empty):
        raise ValueError(f"{what}: X must be a 2-d array (samples, features), got shape {Xa.shape}")
    _finite(Xa, "X", what)
    return Xa


def as_xy(X: Any, y: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` as float samples (n, features) and numeric labels (n,), finite, of one non-zero length."""
    Xa = _float_samples(X, what)
    ya = np.asarray(y)
    _no_strings(ya, "y", what)
    if ya.dtype.kind not in "biuf":
        raise TypeError(
            f"{what}: y must be an array of numbers (labels, class indices or targets), got dtype {ya.dtype}"
        )
    if Xa.ndim != 2 or ya.ndim != 1 or len(Xa) != len(ya) or len(Xa) == 0:
        raise ValueError(
            f"{what}: X must be (samples, features) and y (samples,) of the same non-zero length, "
            f"got shapes {Xa.shape} and {ya.shape}"
        )
    _finite(Xa, "X", what)
    _finite(ya, "y", what)
    return Xa, ya


def check_val_width(val_xy: tuple[np.ndarray, np.ndarray] | None, n_features: int) -> None:
    """Validation samples must have the training samples' width: checked before the first epoch changes a weight."""
    if val_xy is not None and val_xy[0].shape[1] != n_features:
        raise ValueError(
            f"fit val: X_val has {val_xy[0].shape[1]} features per sample but X has {n_features}; "
            "give validation data with the training data's columns"
        )


def check_batch_sizes(model: Module, n: int, batch_size: int) -> None:
    """Refuse a batch of one sample for a model holding BatchNorm, which needs 2 or more in training mode.

    The last batch of an epoch holds ``n % batch_size`` samples: without this
    check a run would fail at the end of its first epoch, after steps were taken.
    """
    # The modules that need the batch themselves, not the containers that hold them.
    norms = [m for m in model.modules() if m.takes_batch and not isinstance(m, Sequential)]
    if not norms:
        return
    last = n % batch_size or batch_size
    if min(batch_size, last) < 2:
        raise ValueError(
            f"fit: the model contains {type(norms[0]).__name__}, which needs at least 2 samples per batch in "
            f"training mode, but batch_size={batch_size} with {n} training samples makes a batch of 1; "
            "choose a batch_size >= 2 that does not leave one sample over (or None for full-batch descent)"
        )


def loss_value(out: Any, loss: Any, who: str) -> Value:
    """The loss's result, refused unless it is a Value (``backward`` and ``.data`` need one)."""
    if not isinstance(out, Value):
        label = getattr(loss, "__name__", None) or type(loss).__name__
        raise TypeError(
            f"{who}: the loss {label!r} returned {type(out).__name__} {out!r:.60}, not a Value; a loss must "
            "return a Value built from the predictions (e.g. nn.losses.mse(preds, targets)), not a float"
        )
    return out


def check_val_split(val_split: Any, n: int) -> float:
    """``val_split`` as a fraction in (0, 1) that leaves at least one sample on each side of ``n``."""
    if isinstance(val_split, bool) or not isinstance(val_split, numbers.Real):
        raise TypeError(f"val_split must be a fraction in (0, 1), got {type(val_split).__name__}: {val_split!r}")
    if not 0.0 < float(val_split) < 1.0:
        raise ValueError(f"val_split must be a fraction in (0, 1) of the training data, got {val_split!r}")
    n_val = math.ceil(float(val_split) * n)
    if not 1 <= n_val <= n - 1:
        raise ValueError(
            f"val_split={val_split} holds out {n_val} of {n} samples; both training and validation need at least one"
        )
    return float(val_split)


def check_class_labels(y: np.ndarray, n_classes: int, who: str) -> None:
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


def check_labels(
    name: str | None,
    model: Module,
    ya: np.ndarray,
    val_xy: tuple[np.ndarray, np.ndarray] | None,
    Xa: np.ndarray,
    n_out: int | None,
) -> None:
    """fit's check of the cross_entropy class labels (training and validation), before any step."""
    if name != "cross_entropy":
        return
    n = n_out if n_out is not None else n_outputs(model, Xa[0])
    check_class_labels(ya, n, "fit")
    if val_xy is not None:
        check_class_labels(val_xy[1], n, "fit val")


def check_targets(name: str | None, fn: LossFn, y: np.ndarray, n_out: int) -> None:
    """Raise the eager loss's own error for invalid targets (hinge labels, class indices ...), up front.

    The compiled path needs this: a replay runs no checks, and the losses do not
    check targets that are Values (arguments of the tape).
    """
    dummy: list[Any] = [[0.0] * n_out for _ in y] if name == "cross_entropy" else [0.0] * len(y)
    with no_grad():
        fn(dummy, targets(name, y))
