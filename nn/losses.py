"""Loss functions and weight penalties on ``Value`` scalars, each written once, in a form a tape can trace.

Each loss takes a batch (a list of predictions and a list of targets of the
same length) and returns the mean loss over the batch as one ``Value``:
``mse``, ``l1``, ``bce`` (probabilities), ``bce_with_logits``,
``cross_entropy`` (class logits; one sample or a batch) and ``hinge``
(micrograd's max-margin loss, targets in {-1, +1}).  The logit losses use
the log-sum-exp form, so logits of +-1000 give finite losses and gradients.
``l1_penalty`` and ``l2_penalty`` are the sums of ``|w|`` and ``w**2``.
:data:`LOSSES` maps each loss name to its function.

The same functions are the compiled training path's losses (see
:mod:`nn.compiled`): ``autograd_core.compile`` traces them for one sample,
with the targets as arguments of the tape.  So the arithmetic never branches
in Python on a number: a target may be a ``Value`` and is then used only as
a ``Value`` (never read through ``.data``), the log-sum-exp shift and the
clamp of ``bce`` are ``maximum`` ops, and every term is built for every
target.  The checks of *numbers* (a target given as a float, a probability
in [0, 1], finite logits) only raise; they never change the graph, and a
target given as a ``Value`` is not checked (``nn.fit`` checks its targets
before it trains).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Sequence
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
    "LOSSES",
    "clamped_log",
]

#: Lower bound of log(p) in ``bce`` (as PyTorch), so p = 0 gives a finite loss.
LOG_CLAMP = -100.0
#: exp(LOG_CLAMP): ``bce`` clamps p and 1 - p at this before the log, so log(max(p, PROB_FLOOR))
#: equals PyTorch's max(log p, -100) in value while the gradient stays finite.
PROB_FLOOR = math.exp(LOG_CLAMP)

#: A target: a number (checked) or a Value (used as a Value, e.g. an argument of a tape).
Target = Value | float


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


def _target(t: Any, what: str) -> Target:
    # A Value stays a Value: it may be an argument of a tape, whose number a trace must not read.
    if isinstance(t, Value):
        return t
    if isinstance(t, numbers.Real) and not isinstance(t, bool):
        return float(t)
    raise TypeError(f"{what} must be a real number, got {type(t).__name__}")


def _pair(name: str, preds: Any, targets: Any) -> tuple[list[Value], list[Target]]:
    """Preds as Values and targets as floats (or Values), of one non-zero length."""
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


def _sum(terms: list[Value]) -> Value:
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    return total


def _mean(terms: list[Value]) -> Value:
    # One term is its own mean: no "* 1.0" node, which a compiled tape would replay for every sample.
    total = _sum(terms)
    return total if len(terms) == 1 else total * (1.0 / len(terms))


def mse(preds: Sequence[Any], targets: Sequence[Any]) -> Value:
    """Mean squared error: mean of (pred - target)**2.

    Args:
        preds: predictions (Values or numbers).
        targets: real targets (numbers or Values), one per prediction.

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
        targets: real targets (numbers or Values), one per prediction.

    Returns:
        The mean loss as a Value.

    Raises:
        TypeError, ValueError: as :func:`mse`.
    """
    ps, ts = _pair("l1", preds, targets)
    return _mean([abs(p - t) for p, t in zip(ps, ts)])


def _check_prob_targets(name: str, ts: list[Target]) -> None:
    for i, t in enumerate(ts):
        if not isinstance(t, Value) and not 0.0 <= t <= 1.0:
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
        targets: labels in [0, 1] (numbers, checked, or Values).

    Returns:
        The mean loss as a Value.

    Raises:
        TypeError, ValueError: for bad entries, lengths, targets outside [0, 1] or probabilities outside [0, 1].
    """
    ps, ts = _pair("bce", probs, targets)
    _check_prob_targets("bce", ts)
    for i, p in enumerate(ps):
        # A check that only raises: the graph below is the same for every probability.
        if not 0.0 <= p.data <= 1.0:
            raise ValueError(f"bce: probability {i} is {p.data}, outside [0, 1]; use bce_with_logits for raw scores")
    # Both terms for every target (no branch on t = 0 or 1): the clamped logs are finite, so a
    # zero weight gives a zero term, and the same graph serves a tape whose targets are arguments.
    return _mean([-(t * clamped_log(p) + (1.0 - t) * clamped_log(1.0 - p)) for p, t in zip(ps, ts)])


def bce_with_logits(logits: Sequence[Any], targets: Sequence[Any]) -> Value:
    """Binary cross-entropy of sigmoid(logit): mean of softplus(z) - t z, stable for any z.

    Args:
        logits: raw scores.
        targets: labels in [0, 1] (numbers, checked, or Values).

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
    # Shifting by the largest logit keeps every exp in [0, 1].  The shift is a maximum op
    # (not a number read from .data, which a tape would freeze); it cancels in the value.
    top = max(z.data for z in zs)
    if not math.isfinite(top):  # a check only: it raises, and never changes the graph
        raise ValueError(f"cross_entropy: logits must be finite, got {top}")
    m = zs[0]
    for z in zs[1:]:
        m = maximum(m, z)
    total = (zs[0] - m).exp()
    for z in zs[1:]:
        total = total + (z - m).exp()
    return total.log() + m


def _class_index(target: Any, n: int, where: str) -> int:
    if isinstance(target, bool) or not isinstance(target, numbers.Integral):
        if isinstance(target, numbers.Real) and float(target).is_integer():
            target = int(float(target))
        else:
            raise TypeError(
                f"cross_entropy{where}: target must be a class index (int) or a list of class probabilities, "
                f"got {target!r}"
            )
    k = int(target)
    if not 0 <= k < n:
        raise ValueError(f"cross_entropy{where}: target index {k} is out of range for {n} classes")
    return k


def _class_probs(target: Any, n: int, where: str) -> list[Target]:
    ts = [_target(t, f"cross_entropy{where} target probability {i}") for i, t in enumerate(target)]
    if len(ts) != n:
        raise ValueError(f"cross_entropy{where}: {len(ts)} target probabilities for {n} classes; give one per class")
    nums = [t for t in ts if not isinstance(t, Value)]
    if len(nums) == n and (any(not 0.0 <= t <= 1.0 for t in nums) or not math.isclose(math.fsum(nums), 1.0)):
        raise ValueError(
            f"cross_entropy{where}: target probabilities {nums} must be in [0, 1] and sum to 1 "
            "(a one-hot row for a class index)"
        )
    return ts


def _ce_one(logits: Any, target: Any, where: str) -> Value:
    if isinstance(logits, (Value, numbers.Real)):
        raise TypeError(f"cross_entropy{where}: logits must be a list of class scores, got one number")
    zs = [_as_value(z, f"cross_entropy{where} logit {i}") for i, z in enumerate(logits)]
    if len(zs) < 2:
        raise ValueError(f"cross_entropy{where}: needs at least 2 class logits, got {len(zs)}")
    if isinstance(target, (str, bytes)) or not isinstance(target, Sequence):
        # A class index is structure, not data: it picks one logit, whichever sample this is.
        return _logsumexp(zs) - zs[_class_index(target, len(zs), where)]
    # Class probabilities t (summing to 1): -sum_k t_k log softmax(z)_k = logsumexp(z) - sum_k t_k z_k.
    ts = _class_probs(target, len(zs), where)
    return _logsumexp(zs) - _sum([t * z for t, z in zip(ts, zs)])


def cross_entropy(logits: Sequence[Any], target_index: Any) -> Value:
    """Softmax cross-entropy: log(sum_j e^{z_j}) - z_target, stable for logits of any size.

    One sample: ``cross_entropy([z0, z1, z2], 2)``.  A batch (the mean over it):
    ``cross_entropy([[z0, z1], [z0, z1]], [0, 1])``.  A target may also be a
    list of class probabilities summing to 1 (numbers or Values), as PyTorch's
    probability targets: ``cross_entropy([z0, z1, z2], [0.0, 0.0, 1.0])`` equals
    ``cross_entropy([z0, z1, z2], 2)``; the compiled path passes one-hot rows of
    Values this way.

    Args:
        logits: a list of class scores, or a list of such lists (a batch).
        target_index: the true class index (or class probabilities), or a list of them for a batch.

    Returns:
        The loss (the mean over the batch) as a Value.

    Raises:
        TypeError: for a non-integer class index or a non-number logit.
        ValueError: for an index out of range, fewer than 2 classes, non-finite logits,
            probabilities that do not sum to 1, or mismatched lengths.
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
        targets: -1 or +1 per score (numbers, checked, or Values).

    Returns:
        The mean loss as a Value.

    Raises:
        TypeError, ValueError: for bad entries, lengths or a target other than -1 and +1.
    """
    ss, ts = _pair("hinge", scores, targets)
    for i, t in enumerate(ts):
        if not isinstance(t, Value) and t not in (-1.0, 1.0):
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
    ps = _params(params, "l1_penalty")
    # No leading Value(0.0) term: 0 + |w| is |w| exactly, and a tape would replay the extra add.
    return _sum([abs(p) for p in ps]) if ps else Value(0.0)


def l2_penalty(params: Iterable[Value]) -> Value:
    """Sum of w**2 over ``params`` (L2 regularization, weight decay).

    Raises:
        TypeError: if a parameter is not a Value.
    """
    ps = _params(params, "l2_penalty")
    return _sum([p * p for p in ps]) if ps else Value(0.0)


#: The losses by name: the names ``nn.fit``, ``nn.evaluate`` and ``nn.compiled.compile_loss`` accept.
LOSSES: dict[str, Callable[[Any, Any], Value]] = {
    "mse": mse,
    "l1": l1,
    "bce": bce,
    "bce_with_logits": bce_with_logits,
    "hinge": hinge,
    "cross_entropy": cross_entropy,
}
