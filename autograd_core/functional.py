"""Function transforms in the style of JAX: ``grad(f)``, ``value_and_grad(f)``, ``hessian(f)``.

Each transform takes a function of scalars and returns a new function.
Called with plain numbers, the new function returns plain floats.  Called
with Values (which is what happens when transforms are nested, as in
``grad(grad(f))``), it builds its result as graph nodes with
``create_graph=True``, so the outer transform can differentiate it again:
derivatives of any order compose.

Each call wraps its differentiated arguments in fresh nodes, so an inner
``grad`` only counts the paths through its own argument, never those of an
enclosing transform's variable of the same value (no "perturbation
confusion").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ._state import enable_grad
from .engine import grad as _grad
from .primitives import to_float as _to_float
from .value import Value

__all__ = ["grad", "value_and_grad", "hessian"]

Argnums = int | Sequence[int]


def _argnums(argnums: Argnums, nargs: int) -> tuple[list[int], bool]:
    single = isinstance(argnums, int)
    nums = [argnums] if isinstance(argnums, int) else list(argnums)
    for a in nums:
        if not isinstance(a, int) or isinstance(a, bool):
            raise TypeError(f"argnums must be an int or a sequence of ints, got {a!r}")
        if not -nargs <= a < nargs:
            raise ValueError(f"argnums {a} is out of range for a function called with {nargs} arguments")
    return [a % nargs for a in nums], single


def _value_and_grad(f: Callable[..., Any], argnums: Argnums, args: tuple[Any, ...]) -> tuple[Any, Any]:
    nums, single = _argnums(argnums, len(args))
    traced = any(type(a) is Value for a in args)
    call_args: list[Any] = list(args)
    wrt: dict[int, Value] = {}
    # Transforms ignore an enclosing no_grad(), as torch.func and JAX do: they
    # need the graph to differentiate at all.
    with enable_grad():
        for i in sorted(set(nums)):
            a = args[i]
            # A fresh node per call: the inner derivative is taken with respect
            # to this node alone, and still depends on the outer one.
            v = a + 0.0 if type(a) is Value else Value(_to_float(a, f"argument {i}"))
            wrt[i] = v
            call_args[i] = v
        out = f(*call_args)
        if type(out) is not Value:
            # A function that does not use its arguments: a constant with zero gradient.
            zeros = tuple(0.0 for _ in nums)
            return _to_float(out, "the function's result"), (zeros[0] if single else zeros)
        gs = dict(zip(wrt, _grad(out, list(wrt.values()), create_graph=traced)))
    value: Any = out if traced else out.data
    # In argnums order, a repeated index repeated.
    result = [gs[i] if traced else gs[i].data for i in nums]
    return value, (result[0] if single else tuple(result))


def value_and_grad(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., tuple[Any, Any]]:
    """``f`` and its gradient with respect to the arguments ``argnums``, in one call.

    Args:
        f: a function of scalars (Values inside) returning a Value.
        argnums: an int, or a sequence of ints for a tuple of gradients.

    Returns:
        A function returning ``(value, gradient)``: floats when called with
        numbers, Values (differentiable again) when called with Values.
    """

    def value_and_grad_f(*args: Any) -> tuple[Any, Any]:
        return _value_and_grad(f, argnums, args)

    value_and_grad_f.__name__ = f"value_and_grad({getattr(f, '__name__', 'f')})"
    return value_and_grad_f


def grad(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """The gradient of ``f`` with respect to the arguments ``argnums``, as a function.

    ``grad(grad(f))`` is the second derivative, and so on to any order.

    Args:
        f: a function of scalars (Values inside) returning a Value.
        argnums: an int, or a sequence of ints for a tuple of gradients.

    Returns:
        A function with the same arguments as ``f``.
    """

    def grad_f(*args: Any) -> Any:
        return _value_and_grad(f, argnums, args)[1]

    grad_f.__name__ = f"grad({getattr(f, '__name__', 'f')})"
    return grad_f


def hessian(f: Callable[..., Any]) -> Callable[..., list[list[Any]]]:
    """The matrix of second derivatives of ``f`` with respect to all its arguments.

    Returns:
        A function returning ``H`` as a list of rows, ``H[i][j] = d2f / (dx_i dx_j)``.
    """

    def hessian_f(*args: Any) -> list[list[Any]]:
        n = len(args)
        if n == 0:
            raise ValueError("hessian needs a function of at least one argument")
        first = grad(f, argnums=tuple(range(n)))
        return [list(row) for row in _jacobian_rows(first, args)]

    hessian_f.__name__ = f"hessian({getattr(f, '__name__', 'f')})"
    return hessian_f


def _jacobian_rows(g: Callable[..., Any], args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    n = len(args)
    return [grad(lambda *a, i=i: g(*a)[i], argnums=tuple(range(n)))(*args) for i in range(n)]
