"""JAX-style transforms: grad(f), value_and_grad(f), hessian(f), composed to higher orders."""

from __future__ import annotations

import math

import pytest

from autograd_core import Value
from autograd_core.functional import grad, hessian, value_and_grad


def f(x: Value, y: Value) -> Value:
    return x**3 * y + (x * y).sin()


def test_grad_returns_plain_floats() -> None:
    g = grad(f)(1.2, 0.5)
    assert type(g) is float
    assert g == pytest.approx(3 * 1.2**2 * 0.5 + 0.5 * math.cos(0.6), rel=1e-14)


def test_grad_argnums_tuple_gives_tuple() -> None:
    gx, gy = grad(f, argnums=(0, 1))(1.2, 0.5)
    assert gy == pytest.approx(1.2**3 + 1.2 * math.cos(0.6), rel=1e-14)
    assert gx == grad(f)(1.2, 0.5)
    assert grad(f, argnums=-1)(1.2, 0.5) == gy


def test_value_and_grad_returns_both() -> None:
    v, g = value_and_grad(lambda x: x.exp() * x)(0.3)
    assert v == pytest.approx(0.3 * math.exp(0.3), rel=1e-15)
    assert g == pytest.approx(math.exp(0.3) * 1.3, rel=1e-15)


def test_grad_composes_to_fourth_order() -> None:
    d4 = grad(grad(grad(grad(lambda x: x.sin()))))
    assert d4(0.7) == pytest.approx(math.sin(0.7), rel=1e-13)
    d3 = grad(grad(grad(lambda x: x**5)))
    assert d3(2.0) == pytest.approx(60 * 2.0**2, rel=1e-14)


def test_nested_grad_has_no_perturbation_confusion() -> None:
    # d/dx [ x * d/dy (x + y) ] = d/dx [ x * 1 ] = 1 (a confused implementation gives 2).
    def outer(x: Value) -> Value:
        inner = grad(lambda y: x + y)
        return x * inner(x)

    assert grad(outer)(3.0) == 1.0


def test_hessian_matches_closed_form() -> None:
    h = hessian(f)(1.2, 0.5)
    c, s = math.cos(0.6), math.sin(0.6)
    expected = [
        [6 * 1.2 * 0.5 - 0.5**2 * s, 3 * 1.2**2 + c - 0.6 * s],
        [3 * 1.2**2 + c - 0.6 * s, -(1.2**2) * s],
    ]
    for row, ref in zip(h, expected):
        assert row == pytest.approx(ref, rel=1e-13)


def test_grad_of_constant_function_is_zero() -> None:
    assert grad(lambda x: 4.0)(1.0) == 0.0


def test_grad_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="out of range"):
        grad(f, argnums=2)(1.0, 2.0)
    with pytest.raises(TypeError, match="argument 0"):
        grad(f)("a", 2.0)
    with pytest.raises(TypeError, match="argnums"):
        grad(f, argnums=(0.5,))(1.0, 2.0)  # type: ignore[arg-type]


def test_transforms_work_inside_no_grad() -> None:
    from autograd_core import no_grad

    with no_grad():
        assert grad(lambda x, y: x * x * y)(2.0, 3.0) == 12.0
        assert hessian(lambda x: x**3)(2.0) == [[12.0]]


def test_grad_argnums_order_and_repeats_follow_the_request() -> None:
    def g(x: Value, y: Value) -> Value:
        return x**2 * y

    assert grad(g, argnums=(1, 0))(2.0, 3.0) == (4.0, 12.0)
    assert grad(g, argnums=(0, 0))(2.0, 3.0) == (12.0, 12.0)
