"""Loss functions and weight penalties on ``Value`` scalars.

Each loss takes a batch (a list of predictions and a list of targets of the
same length) and returns the mean loss over the batch as one ``Value``:
``mse``, ``l1``, ``bce`` (probabilities), ``bce_with_logits``,
``cross_entropy`` (class logits; one sample or a batch) and ``hinge``
(micrograd's max-margin loss, targets in {-1, +1}).  The logit losses use
the log-sum-exp form, so logits of +-1000 give finite losses and gradients.
``l1_penalty`` and ``l2_penalty`` are the sums of ``|w|`` and ``w**2``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any

from autograd_core import Value, maximum

__all__ = [
    "mse",
    "l1",
    "bce",
    "bce_with_logits",
    "cross_entropy",
    "hinge",
    "l1_penalty",
    "l2_penalty",
    "LOG_CLAMP",
    "PROB_FLOOR",
    "clamped_log",
]

#: Lower bound of log(p) in ``bce`` (as PyTorch), so p = 0 gives a finite loss.
LOG_CLAMP = -100.0
#: exp(LOG_CLAMP): ``bce`` clamps p and 1 - p at this before the log, so log(max(p, PROB_FLOOR))
#: equals PyTorch's max(log p, -100) in value while the gradient stays finite.
PROB_FLOOR = math.exp(LOG_CLAMP)


def clamped_log(p: Value | float) -> Value:
    """``log(max(p, PROB_FLOOR))``: the value of PyTorch's ``max(log p, -100)``, with a finite gradient.

    Clamping the log's *output* (``maximum(log(p), -100)``) sends a zero gradient
    into ``log`` at p = 0, where the log's derivative is infinite, and 0 * inf is
    NaN.  Clamping its *input* never evaluates log(0): the gradient is 1/p above
    the floor and 0 below it (the exact derivative of the clamped function).
    """
    return maximum(p, PROB_FLOOR).log()


def _as_value(x: Any, what: str) -> Value:
    if isinstance(x, Value):
        return x
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        return Value(float(x))
    raise TypeError(f"{what} must be a Value or a real number, got {type(x).__name__}")


def _target(t: Any, what: str) -> float:
    if isinstance(t, Value):
        return t.data
    if isinstance(t, numbers.Real) and not isinstance(t, bool):
        return float(t)
    raise TypeError(f"{what} must be a real number, got {type(t).__name__}")


def _pair(name: str, preds: Any, targets: Any) -> tuple[list[Value], list[float]]:
    """Preds as Values and targets as floats, of one non-zero length."""
    if isinstance(preds, (Value, numbers.Real)) or isinstance(targets, (Value, numbers.Real)):
        raise TypeError(f"{name} takes a batch: lists of predictions and targets (wrap one sample as [p], [t])")
    ps, ts = list(preds), list(targets)
    if len(ps) != len(ts):
        raise ValueError(f"{name}: {len(ps)} predictions but {len(ts)} targets; they must be the same length")
    if not ps:
        raise ValueError(f"{name}: the batch is empty")
    return (
        [_as_value(p, f"{name} prediction {i}") for i, p in enumerate(ps)],
        [_target(t, f"{name} target {i}") for i, t in enumerate(ts)],
    )


def _mean(terms: list[Value]) -> Value:
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    return total * (1.0 / len(terms))


def mse(preds: Sequence[Any], targets: Sequence[Any]) -> Value:
    """Mean squared error: mean of (pred - target)**2.

    Args:
        preds: predictions (Values or numbers).
        targets: real targets, one per prediction.

    Returns:
        The mean loss as a Value.

    Raises:
        TypeError: if an entry is not a number or a Value.
        ValueError: if the lengths differ or the batch is empty.
    """
    ps, ts = _pair("mse", preds, targets)
    return _mean([(p - t) ** 2 for p, t in zip(ps, ts)])


def l1(preds: Sequence[Any], targets: Sequence[Any]) -> Value:
    """Mean absolute error: mean of |pred - target|.

    Args:
        preds: predictions (Values or numbers).
        targets: real targets, one per prediction.

    Returns:
        The mean loss as a Value.

    Raises:
        TypeError, ValueError: as :func:`mse`.
    """
    ps, ts = _pair("l1", preds, targets)
    return _mean([abs(p - t) for p, t in zip(ps, ts)])


def _check_prob_targets(name: str, ts: list[float]) -> None:
    for i, t in enumerate(ts):
        if not 0.0 <= t <= 1.0:
            raise ValueError(f"{name}: target {i} is {t}; targets must be in [0, 1] (class labels 0 and 1)")


def bce(probs: Sequence[Any], targets: Sequence[Any]) -> Value:
    """Binary cross-entropy (log loss) of probabilities: mean of -(t log p + (1 - t) log(1 - p)).

    ``log`` is clamped below at :data:`LOG_CLAMP` as in PyTorch's ``BCELoss``, so p of
    exactly 0 or 1 gives a loss term of 100, and the gradient is finite everywhere
    (the clamp acts on the log's input, see :func:`clamped_log`): ``-t/p + (1-t)/(1-p)``
    (over the batch size) inside the clamp, and 0 from a term whose clamp is active
    (p < e^-100), where PyTorch substitutes +-1e12 instead.  For raw scores use
    :func:`bce_with_logits`, which is exact for any logit.

    Args:
        probs: predicted probabilities in [0, 1].
        targets: labels in [0, 1].

    Returns:
        The mean loss as a Value.

    Raises:
        TypeError, ValueError: for bad entries, lengths, targets outside [0, 1] or probabilities outside [0, 1].
    """
    ps, ts = _pair("bce", probs, targets)
    _check_prob_targets("bce", ts)
    terms = []
    for i, (p, t) in enumerate(zip(ps, ts)):
        if not 0.0 <= p.data <= 1.0:
            raise ValueError(f"bce: probability {i} is {p.data}, outside [0, 1]; use bce_with_logits for raw scores")
        term = Value(0.0)
        if t != 0.0:
            term = term - t * clamped_log(p)
        if t != 1.0:
            term = term - (1.0 - t) * clamped_log(1.0 - p)
        terms.append(term)
    return _mean(terms)


def bce_with_logits(logits: Sequence[Any], targets: Sequence[Any]) -> Value:
    """Binary cross-entropy of sigmoid(logit): mean of softplus(z) - t z, stable for any z.

    Args:
        logits: raw scores.
        targets: labels in [0, 1].

    Returns:
        The mean loss as a Value.

    Raises:
        TypeError, ValueError: for bad entries, lengths or targets outside [0, 1].
    """
    zs, ts = _pair("bce_with_logits", logits, targets)
    _check_prob_targets("bce_with_logits", ts)
    # -log sigmoid(z) = softplus(-z) and -log(1 - sigmoid(z)) = softplus(z), so
    # the loss is softplus(z) - t z; softplus is exact for any z.
    return _mean([z.softplus() - t * z for z, t in zip(zs, ts)])


def _logsumexp(zs: list[Value]) -> Value:
    # Shifting by the largest logit (a constant) keeps every exp in [0, 1].
    m = max(z.data for z in zs)
    if not math.isfinite(m):
        raise ValueError(f"cross_entropy: logits must be finite, got {m}")
    total = (zs[0] - m).exp()
    for z in zs[1:]:
        total = total + (z - m).exp()
    return total.log() + m


def _ce_one(logits: Any, target: Any, where: str) -> Value:
    if isinstance(logits, (Value, numbers.Real)):
        raise TypeError(f"cross_entropy{where}: logits must be a list of class scores, got one number")
    zs = [_as_value(z, f"cross_entropy{where} logit {i}") for i, z in enumerate(logits)]
    if len(zs) < 2:
        raise ValueError(f"cross_entropy{where}: needs at least 2 class logits, got {len(zs)}")
    if isinstance(target, bool) or not isinstance(target, numbers.Integral):
        if isinstance(target, numbers.Real) and float(target).is_integer():
            target = int(float(target))
        else:
            raise TypeError(f"cross_entropy{where}: target must be a class index (int), got {target!r}")
    k = int(target)
    if not 0 <= k < len(zs):
        raise ValueError(f"cross_entropy{where}: target index {k} is out of range for {len(zs)} classes")
    return _logsumexp(zs) - zs[k]


def cross_entropy(logits: Sequence[Any], target_index: Any) -> Value:
    """Softmax cross-entropy: log(sum_j e^{z_j}) - z_target, stable for logits of any size.

    One sample: ``cross_entropy([z0, z1, z2], 2)``.  A batch (the mean over it):
    ``cross_entropy([[z0, z1], [z0, z1]], [0, 1])``.

    Args:
        logits: a list of class scores, or a list of such lists (a batch).
        target_index: the true class index, or a list of them for a batch.

    Returns:
        The loss (the mean over the batch) as a Value.

    Raises:
        TypeError: for a non-integer class index or a non-number logit.
        ValueError: for an index out of range, fewer than 2 classes, or mismatched lengths.
    """
    items = list(logits)
    if items and not isinstance(items[0], (Value, numbers.Real)):
        if isinstance(target_index, (numbers.Real, Value)):
            raise TypeError("cross_entropy: a batch of logits needs a list of target indices")
        targets = list(target_index)
        if len(items) != len(targets):
            raise ValueError(f"cross_entropy: {len(items)} samples but {len(targets)} targets")
        return _mean([_ce_one(z, t, f" (sample {i})") for i, (z, t) in enumerate(zip(items, targets))])
    return _ce_one(items, target_index, "")


def hinge(scores: Sequence[Any], targets: Sequence[Any]) -> Value:
    """Max-margin (hinge) loss: mean of max(0, 1 - t * score), targets in {-1, +1}.

    Args:
        scores: raw scores.
        targets: -1 or +1 per score.

    Returns:
        The mean loss as a Value.

    Raises:
        TypeError, ValueError: for bad entries, lengths or a target other than -1 and +1.
    """
    ss, ts = _pair("hinge", scores, targets)
    for i, t in enumerate(ts):
        if t not in (-1.0, 1.0):
            raise ValueError(f"hinge: target {i} is {t}; targets must be -1 or +1 (map 0/1 labels with 2 * y - 1)")
    return _mean([(1.0 - t * s).relu() for s, t in zip(ss, ts)])


def _params(params: Iterable[Any], name: str) -> list[Value]:
    ps = list(params)
    for i, p in enumerate(ps):
        if not isinstance(p, Value):
            raise TypeError(f"{name}: parameter {i} must be a Value, got {type(p).__name__}")
    return ps


def l1_penalty(params: Iterable[Value]) -> Value:
    """Sum of |w| over ``params`` (L1 regularization; drives irrelevant weights to exactly zero).

    Raises:
        TypeError: if a parameter is not a Value.
    """
    total = Value(0.0)
    for p in _params(params, "l1_penalty"):
        total = total + abs(p)
    return total


def l2_penalty(params: Iterable[Value]) -> Value:
    """Sum of w**2 over ``params`` (L2 regularization, weight decay).

    Raises:
        TypeError: if a parameter is not a Value.
    """
    total = Value(0.0)
    for p in _params(params, "l2_penalty"):
        total = total + p * p
    return total
