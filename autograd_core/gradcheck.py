"""Gradient checking: analytic gradients against central differences.

:func:`gradcheck` compares first derivatives, :func:`gradgradcheck` second
derivatives (the gradient of each analytic first derivative, against central
differences of that first derivative).  A mismatch raises
:class:`GradcheckError` whose message says the level, the input (index and
label), both values and the tolerance, in the style of
``torch.autograd.gradcheck`` (default tolerances are PyTorch's for double
precision).  With ``raise_exception=False`` a mismatch returns False instead,
as in PyTorch; bad arguments still raise TypeError or ValueError.  When the
point sits outside an op's domain or on a kink, the message ends with those
notices (:func:`autograd_core.notices.notices`), one ``note: ...`` line each.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from ._state import enable_grad
from .engine import grad
from .notices import notices
from .primitives import to_float as _to_float
from .value import Value

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck", "numerical_grad"]


class GradcheckError(AssertionError):
    """Analytic and numerical derivatives disagree (or cannot be compared)."""


def _prepare(inputs: Sequence[Any] | Any) -> tuple[list[float], list[str]]:
    if isinstance(inputs, (Value, int, float)) or not isinstance(inputs, Sequence):
        inputs = [inputs]
    points: list[float] = []
    labels: list[str] = []
    for i, x in enumerate(inputs):
        if type(x) is Value:
            points.append(x.data)
            labels.append(x.label or f"x{i}")
        else:
            points.append(_to_float(x, f"gradcheck input {i}"))
            labels.append(f"x{i}")
    return points, labels


def _call(f: Callable[..., Any], point: Sequence[float], labels: Sequence[str]) -> tuple[list[Value], Value]:
    xs = [Value(p, lab) for p, lab in zip(point, labels)]
    out = f(*xs)
    if type(out) is not Value:
        raise TypeError(f"the checked function must return a Value, got {type(out).__name__}")
    return xs, out


def numerical_grad(fn: Callable[[list[float]], float], point: Sequence[float], i: int, eps: float) -> float:
    """Central difference ``(fn(x + eps e_i) - fn(x - eps e_i)) / (2 eps)``."""
    hi = list(point)
    lo = list(point)
    hi[i] += eps
    lo[i] -= eps
    return (fn(hi) - fn(lo)) / (2.0 * eps)


def _check_tolerances(eps: float, atol: float, rtol: float) -> None:
    for name, v, positive in (("eps", eps, True), ("atol", atol, False), ("rtol", rtol, False)):
        x = _to_float(v, name)
        if not math.isfinite(x) or x < 0 or (positive and x == 0):
            need = "a finite number > 0" if positive else "a finite number >= 0"
            raise ValueError(f"{name} must be {need}, got {v!r}")


def _check_flag(raise_exception: object) -> None:
    if not isinstance(raise_exception, bool):
        raise TypeError(f"raise_exception must be True or False, got {type(raise_exception).__name__}")


def _at(point: Sequence[float], labels: Sequence[str]) -> str:
    return "(" + ", ".join(f"{lab}={p!r}" for lab, p in zip(labels, point)) + ")"


def _compare(level: str, where: str, analytic: float, numeric: float, eps: float, atol: float, rtol: float) -> None:
    if not math.isfinite(numeric):
        raise GradcheckError(
            f"{level}: {where}: the central difference is {numeric!r}, so the point is outside the "
            "function's smooth domain; check at a point where it is finite"
        )
    bound = atol + rtol * abs(numeric)
    diff = abs(analytic - numeric)
    if not diff <= bound:  # also catches a nan analytic value
        raise GradcheckError(
            f"{level}: {where}: analytic {analytic!r} != numerical {numeric!r} "
            f"(central difference, eps={eps:g}); |difference| {diff:.3g} > atol + rtol*|numerical| = {bound:.3g} "
            f"(atol={atol:g}, rtol={rtol:g})"
        )


def gradcheck(
    f: Callable[..., Value],
    inputs: Sequence[Any] | Any,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Check the gradient of ``f`` at ``inputs`` against central differences.

    Args:
        f: a function of Values returning a Value.
        inputs: numbers or Values (a Value's label names it in messages).
        eps: the central-difference step.
        atol, rtol: the mismatch allowed is ``atol + rtol * |numerical|``.
        raise_exception: if False, a mismatch returns False instead of
            raising :class:`GradcheckError` (as ``torch.autograd.gradcheck``).

    Returns:
        True when every partial derivative agrees; False on a mismatch when
        ``raise_exception`` is False.

    Raises:
        GradcheckError: naming the input (index and label), the analytic and
            numerical values and the tolerance.  Also raised when
            ``backward()`` and ``grad()`` disagree, or a second run differs.
        TypeError: if ``f`` does not return a Value, or an argument has the wrong type.
        ValueError: for a tolerance that is negative, zero (``eps``) or not finite.
    """
    _check_tolerances(eps, atol, rtol)
    _check_flag(raise_exception)
    point, labels = _prepare(inputs)

    def fn(p: list[float]) -> float:
        # Recording on: f may differentiate inside (a gradient of a gradient).
        return _call(f, p, labels)[1].data

    return _outcome(lambda: _gradcheck(f, fn, point, labels, eps, atol, rtol), f, point, labels, raise_exception)


def _gradcheck(
    f: Callable[..., Value],
    fn: Callable[[list[float]], float],
    point: list[float],
    labels: list[str],
    eps: float,
    atol: float,
    rtol: float,
) -> bool:
    xs, out = _call(f, point, labels)
    analytic = [g.data for g in grad(out, xs)]
    xs2, out2 = _call(f, point, labels)
    out2.backward()
    for i, (a, x2) in enumerate(zip(analytic, xs2)):
        if not (x2.grad == a or (a != a and x2.grad != x2.grad)):
            raise GradcheckError(
                f"first derivative: input {i} ({labels[i]}): grad() gave {a!r} but backward() on a fresh graph "
                f"gave {x2.grad!r}; the rules are not deterministic"
            )
    for i in range(len(point)):
        numeric = numerical_grad(fn, point, i, eps)
        where = f"input {i} ({labels[i]}) at {_at(point, labels)}"
        _compare("first derivative", where, analytic[i], numeric, eps, atol, rtol)
    return True


def gradgradcheck(
    f: Callable[..., Value],
    inputs: Sequence[Any] | Any,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Check the second derivatives of ``f`` at ``inputs`` against central differences.

    For every pair (i, j), the analytic d2f/(dx_i dx_j), from differentiating
    the ``create_graph=True`` first derivative, is compared with central
    differences in x_j of the analytic first derivative df/dx_i.

    Args:
        f, inputs, eps, atol, rtol: as for :func:`gradcheck`.
        raise_exception: if False, a mismatch returns False instead of
            raising :class:`GradcheckError`.

    Returns:
        True when every second derivative agrees; False on a mismatch when
        ``raise_exception`` is False.

    Raises:
        GradcheckError: naming both inputs, the analytic and numerical values
            and the tolerance.
        TypeError, ValueError: for bad arguments, as :func:`gradcheck`.
    """
    _check_tolerances(eps, atol, rtol)
    _check_flag(raise_exception)
    point, labels = _prepare(inputs)
    return _outcome(lambda: _gradgradcheck(f, point, labels, eps, atol, rtol), f, point, labels, raise_exception)


def _outcome(
    check: Callable[[], bool], f: Callable[..., Value], point: list[float], labels: list[str], raise_exception: bool
) -> bool:
    """Run ``check`` with recording on: True, or on a mismatch False or the error with its notices."""
    with enable_grad():
        try:
            return check()
        except GradcheckError as e:
            if not raise_exception:
                return False
            raise _with_notices(e, f, point, labels) from None


def _with_notices(e: GradcheckError, f: Callable[..., Value], point: list[float], labels: list[str]) -> GradcheckError:
    """``e`` with a ``note: ...`` line per domain or kink notice of ``f``'s graph at the point (``e`` if none)."""
    notes = notices(_call(f, point, labels)[1])
    if not notes:
        return e
    return GradcheckError("\n".join([str(e), *(f"note: {n}" for n in notes)]))


def _gradgradcheck(
    f: Callable[..., Value], point: list[float], labels: list[str], eps: float, atol: float, rtol: float
) -> bool:
    n = len(point)

    def first(p: list[float], i: int) -> float:
        xs, out = _call(f, p, labels)
        return grad(out, [xs[i]])[0].data

    xs, out = _call(f, point, labels)
    firsts = grad(out, xs, create_graph=True)
    for i in range(n):
        second = [g.data for g in grad(firsts[i], xs)]
        for j in range(n):
            numeric = numerical_grad(lambda p, i=i: first(p, i), point, j, eps)  # type: ignore[misc]
            where = f"d2f/(d{labels[i]} d{labels[j]}) (inputs {i} and {j}) at {_at(point, labels)}"
            _compare("second derivative", where, second[j], numeric, eps, atol, rtol)
    return True
