"""JAX-style transforms: grad(f), value_and_grad(f), hessian(f), has_aux and argnums, composed to higher orders."""

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


# -- has_aux, as jax.grad(..., has_aux=True) ------------------------------------------------


def f_aux(x: Value, y: Value) -> tuple[Value, dict[str, object]]:
    # The output and what a training step wants beside it: its parts, as Values and plain data.
    data_part = x**2 * y
    reg = 0.1 * y * y
    return data_part + reg, {"parts": (data_part, reg), "note": "loss"}


def test_grad_has_aux_returns_gradient_and_aux() -> None:
    g, aux = grad(f_aux, has_aux=True)(3.0, 2.0)
    assert g == 2 * 3.0 * 2.0
    # Outside any transform the Values in aux come back as floats, the rest unchanged.
    assert aux == {"parts": (18.0, pytest.approx(0.4, rel=1e-15)), "note": "loss"}
    assert type(aux["parts"][0]) is float
    (gx, gy), _ = grad(f_aux, argnums=(0, 1), has_aux=True)(3.0, 2.0)
    assert (gx, gy) == (12.0, pytest.approx(9.0 + 0.4, rel=1e-15))


def test_value_and_grad_has_aux_returns_value_and_aux_then_gradient() -> None:
    (value, aux), g = value_and_grad(f_aux, has_aux=True)(3.0, 2.0)
    assert value == pytest.approx(18.4, rel=1e-15) and aux["note"] == "loss" and g == 12.0
    assert value_and_grad(lambda x: (x * x, None), has_aux=True)(3.0) == ((9.0, None), 6.0)


def test_grad_has_aux_composes_and_keeps_aux_a_graph_inside_a_transform() -> None:
    seen = []

    def outer(x: Value) -> Value:
        g, aux = grad(lambda y: (y**3 * x, y * x), has_aux=True)(x)
        seen.append(type(aux))
        return g + aux  # 3 x^3 + x^2, differentiable through aux too

    assert grad(outer)(2.0) == 9 * 2.0**2 + 2 * 2.0
    assert seen == [Value]


def test_grad_has_aux_rejects_a_result_that_is_not_a_pair() -> None:
    with pytest.raises(TypeError, match=r"must return a pair \(output, aux\), got a Value"):
        grad(lambda x: x * x, has_aux=True)(1.0)
    with pytest.raises(TypeError, match="got 3 items"):
        grad(lambda x: (x, x, x), has_aux=True)(1.0)
    with pytest.raises(TypeError, match="has_aux must be True or False"):
        grad(f, has_aux=1)  # type: ignore[arg-type]


# -- hessian(argnums=), as jax.hessian -----------------------------------------------------


def g3(x: Value, y: Value, z: Value) -> Value:
    # Arithmetic only: the arguments not in argnums arrive as plain floats.
    return x**2 * y + y * z**3 + (x * z) ** 4


def test_hessian_argnums_int_gives_the_one_second_derivative() -> None:
    x, y, z = 0.5, 1.5, -0.7
    assert hessian(g3, argnums=0)(x, y, z) == pytest.approx(2 * y + 12 * x**2 * z**4, rel=1e-13)
    assert hessian(g3, argnums=-1)(x, y, z) == pytest.approx(6 * y * z + 12 * x**4 * z**2, rel=1e-13)
    assert type(hessian(g3, argnums=1)(x, y, z)) is float


def test_hessian_argnums_tuple_gives_a_tuple_of_rows_for_those_arguments() -> None:
    x, y, z = 0.5, 1.5, -0.7
    h = hessian(g3, argnums=(2, 0))(x, y, z)
    assert type(h) is tuple and all(type(row) is tuple for row in h)
    d2_zz, d2_xx, d2_xz = 6 * y * z + 12 * x**4 * z**2, 2 * y + 12 * x**2 * z**4, 16 * x**3 * z**3
    assert h[0] == pytest.approx((d2_zz, d2_xz), rel=1e-13)
    assert h[1] == pytest.approx((d2_xz, d2_xx), rel=1e-13)
    # The default is every argument, as lists of rows.
    full = hessian(g3)(x, y, z)
    assert full[2][0] == h[0][1] and full[0][0] == h[1][1] and len(full) == 3


def test_hessian_has_aux_returns_matrix_and_aux() -> None:
    h, aux = hessian(lambda x, y: (x**3 * y, x + y), argnums=(0, 1), has_aux=True)(2.0, 3.0)
    assert h == ((36.0, 12.0), (12.0, 0.0)) and aux == 5.0


def test_hessian_argnums_rejects_bad_indices() -> None:
    with pytest.raises(ValueError, match="out of range"):
        hessian(g3, argnums=3)(1.0, 2.0, 3.0)
    with pytest.raises(TypeError, match="argnums"):
        hessian(g3, argnums=(0, "y"))(1.0, 2.0, 3.0)  # type: ignore[arg-type]
