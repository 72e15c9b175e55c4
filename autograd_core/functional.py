"""Function transforms in the style of JAX: ``grad(f)``, ``value_and_grad(f)``, ``hessian(f)``.

Each transform takes a function of scalars and returns a new function.
Called with plain numbers, the new function returns plain floats.  Called
with Values (which is what happens when transforms are nested, as in
``grad(grad(f))``), it builds its result as graph nodes with
``create_graph=True``, so the outer transform can differentiate it again:
derivatives of any order compose.

As in JAX, ``has_aux=True`` lets ``f`` return ``(output, aux)``: only the
output is differentiated and ``aux`` is handed back beside the result, and
``hessian(f, argnums=...)`` picks the arguments (an int for one second
derivative, a tuple for a matrix).

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


def _check_has_aux(has_aux: object) -> None:
    if not isinstance(has_aux, bool):
        raise TypeError(f"has_aux must be True or False, got {type(has_aux).__name__}")


def _split_aux(result: Any, has_aux: bool) -> tuple[Any, Any]:
    """``(output, aux)`` of what ``f`` returned; aux is None without ``has_aux``."""
    if not has_aux:
        return result, None
    if not isinstance(result, (tuple, list)):
        kind = type(result).__name__
        raise TypeError(f"with has_aux=True the function must return a pair (output, aux), got a {kind}")
    if len(result) != 2:
        raise TypeError(f"with has_aux=True the function must return a pair (output, aux), got {len(result)} items")
    return result[0], result[1]


def _concrete(aux: Any) -> Any:
    """``aux`` with every Value inside (in tuples, lists and dicts) replaced by its float ``data``."""
    if type(aux) is Value:
        return aux.data
    if isinstance(aux, (tuple, list)):
        return type(aux)(_concrete(a) for a in aux)
    if isinstance(aux, dict):
        return {k: _concrete(v) for k, v in aux.items()}
    return aux


def _value_and_grad(
    f: Callable[..., Any], argnums: Argnums, args: tuple[Any, ...], has_aux: bool = False
) -> tuple[Any, Any, Any]:
    """``(value, aux, gradient)`` of ``f`` at ``args``; aux is None without ``has_aux``."""
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
        out, aux = _split_aux(f(*call_args), has_aux)
        # Outside any transform aux is returned as plain numbers, as JAX returns concrete arrays;
        # inside one it stays a graph, so the enclosing transform can still use it.
        aux = aux if traced else _concrete(aux)
        if type(out) is not Value:
            # A function that does not use its arguments: a constant with zero gradient.
            zeros = tuple(0.0 for _ in nums)
            return _to_float(out, "the function's result"), aux, (zeros[0] if single else zeros)
        gs = dict(zip(wrt, _grad(out, list(wrt.values()), create_graph=traced)))
    value: Any = out if traced else out.data
    # In argnums order, a repeated index repeated.
    result = [gs[i] if traced else gs[i].data for i in nums]
    return value, aux, (result[0] if single else tuple(result))


def value_and_grad(
    f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False
) -> Callable[..., tuple[Any, Any]]:
    """``f`` and its gradient with respect to the arguments ``argnums``, in one call.

    Args:
        f: a function of scalars (Values inside) returning a Value, or with
            ``has_aux`` a pair ``(output, aux)``.
        argnums: an int, or a sequence of ints for a tuple of gradients.
        has_aux: ``f`` returns ``(output, aux)``; only ``output`` is
            differentiated and ``aux`` (anything: a loss's parts, a
            prediction) is passed through, as in ``jax.value_and_grad``.

    Returns:
        A function returning ``(value, gradient)``, or ``((value, aux),
        gradient)`` with ``has_aux``: floats when called with numbers (Values
        in ``aux`` become floats too), Values (differentiable again) when
        called with Values.

    Raises:
        TypeError: for a bad ``argnums`` or ``has_aux``, a non-number argument,
            or (with ``has_aux``) a result that is not a pair.
        ValueError: for an ``argnums`` index out of range.
    """
    _check_has_aux(has_aux)

    def value_and_grad_f(*args: Any) -> tuple[Any, Any]:
        value, aux, g = _value_and_grad(f, argnums, args, has_aux)
        return ((value, aux), g) if has_aux else (value, g)

    value_and_grad_f.__name__ = f"value_and_grad({getattr(f, '__name__', 'f')})"
    return value_and_grad_f


def grad(f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False) -> Callable[..., Any]:
    """The gradient of ``f`` with respect to the arguments ``argnums``, as a function.

    The JAX-style transform: ``grad(f)`` returns a new function.  Not to be
    confused with :func:`autograd_core.grad` (``torch.autograd.grad``'s shape),
    which differentiates an output Value with respect to input Values now.
    ``grad(grad(f))`` is the second derivative, and so on to any order.

    Args:
        f: a function of scalars (Values inside) returning a Value, or with
            ``has_aux`` a pair ``(output, aux)``.
        argnums: an int, or a sequence of ints for a tuple of gradients.
        has_aux: ``f`` returns ``(output, aux)``; the new function returns
            ``(gradient, aux)``, as ``jax.grad(..., has_aux=True)``.

    Returns:
        A function with the same arguments as ``f``.

    Raises:
        TypeError, ValueError: as :func:`value_and_grad`.
    """
    _check_has_aux(has_aux)

    def grad_f(*args: Any) -> Any:
        _, aux, g = _value_and_grad(f, argnums, args, has_aux)
        return (g, aux) if has_aux else g

    grad_f.__name__ = f"grad({getattr(f, '__name__', 'f')})"
    return grad_f


def hessian(f: Callable[..., Any], argnums: Argnums | None = None, has_aux: bool = False) -> Callable[..., Any]:
    """The second derivatives of ``f``, as a function.

    Args:
        f: a function of scalars returning a Value (or ``(output, aux)`` with ``has_aux``).
        argnums: which arguments to differentiate with respect to, as in
            ``jax.hessian``: an int gives the one second derivative
            ``d2f/dx2`` as a number, a tuple ``(i, j, ...)`` a tuple of rows
            ``H[a][b] = d2f / (dx_argnums[a] dx_argnums[b])``.  ``None`` (the
            default, unlike JAX's 0) takes every argument and gives the rows
            as lists.
        has_aux: ``f`` returns ``(output, aux)``; the new function returns
            ``(H, aux)``.

    Returns:
        A function returning ``H`` (or ``(H, aux)``).

    Raises:
        ValueError: for a function of no arguments or an ``argnums`` index out of range.
        TypeError: for a bad ``argnums`` or ``has_aux``.
    """
    _check_has_aux(has_aux)

    def hessian_f(*args: Any) -> Any:
        n = len(args)
        if n == 0:
            raise ValueError("hessian needs a function of at least one argument")
        if argnums is None:
            nums, single = list(range(n)), False
        else:
            nums, single = _argnums(argnums, n)

        def output(*a: Any) -> Any:
            return _split_aux(f(*a), has_aux)[0]

        first = grad(output, argnums=tuple(nums))
        rows = _jacobian_rows(first, args, tuple(nums))
        if single:
            h: Any = rows[0][0]
        elif argnums is None:
            h = [list(row) for row in rows]
        else:
            h = tuple(rows)
        if not has_aux:
            return h
        return h, _value_and_grad(f, nums, args, True)[1]

    hessian_f.__name__ = f"hessian({getattr(f, '__name__', 'f')})"
    return hessian_f


def _jacobian_rows(g: Callable[..., Any], args: tuple[Any, ...], nums: tuple[int, ...]) -> list[tuple[Any, ...]]:
    return [grad(lambda *a, i=i: g(*a)[i], argnums=nums)(*args) for i in range(len(nums))]
