"""Every registered op against central differences; random DAGs; the checker itself; user ops."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_core import GradcheckError, Value, grad, gradcheck, gradgradcheck, ops, primitives, register
from autograd_core.testing import Expression, expressions, in_domain, op_points
from autograd_core.value import applier

ALL_OPS = ops.names()


@pytest.mark.parametrize("name", ALL_OPS)
def test_registry_entry_is_complete(name: str) -> None:
    spec = ops.get(name)
    assert spec.arity == len(spec.domain) >= 1
    assert len(spec.params) == len(spec.param_domain)
    assert spec.label and spec.formula
    for intervals in (*spec.domain, *spec.param_domain):
        assert all(lo < hi for lo, hi in intervals)


@pytest.mark.parametrize("name", ALL_OPS)
@given(data=st.data())
def test_every_op_passes_gradcheck_and_gradgradcheck(name: str, data: st.DataObject) -> None:
    spec, inputs, params = data.draw(op_points(ops.get(name)))
    f = applier(spec)

    def fn(*xs: Value) -> Value:
        return f(*xs, *params)

    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


@pytest.mark.parametrize("name", ALL_OPS)
@given(data=st.data())
def test_every_op_rule_scales_with_upstream_gradient(name: str, data: st.DataObject) -> None:
    spec, inputs, params = data.draw(op_points(ops.get(name)))
    scale = data.draw(st.floats(-3, 3).filter(lambda s: abs(s) > 0.1))
    xs = [Value(v) for v in inputs]
    out = applier(spec)(*xs, *params)
    out.backward(scale)
    once = [x.grad / scale for x in xs]
    xs2 = [Value(v) for v in inputs]
    applier(spec)(*xs2, *params).backward()
    assert once == pytest.approx([x.grad for x in xs2], rel=1e-12, abs=1e-300)


@given(expressions(max_inputs=3, max_ops=10))
def test_random_dags_pass_gradcheck(e: Expression) -> None:
    assert gradcheck(e.fn, e.inputs)


@given(expressions(max_inputs=2, max_ops=6))
def test_random_dags_backward_equals_grad(e: Expression) -> None:
    xs = [Value(v) for v in e.inputs]
    out = e.fn(*xs)
    gs = grad(out, xs)
    out.backward()
    assert [x.grad for x in xs] == [g.data for g in gs]


def test_expressions_always_share_an_op_node() -> None:
    # Every draw has an op node used by two different later nodes (a merging path).
    shared = []

    @given(expressions(max_inputs=2, max_ops=8))
    def collect(e: Expression) -> None:
        users: dict[int, set[int]] = {}
        for k, s in enumerate(e.steps):
            for i in s.operands:
                users.setdefault(i, set()).add(k)
        shared.append(any(len(users.get(e.n_inputs + k, ())) >= 2 for k in range(len(e.steps))))

    collect()
    assert len(shared) >= 20 and all(shared)


@pytest.fixture
def temp_op() -> Iterator[list[str]]:
    names: list[str] = []
    yield names
    for n in names:
        primitives._REGISTRY.pop(n, None)


def test_gradcheck_catches_a_wrong_rule_and_names_the_input(temp_op: list[str]) -> None:
    temp_op.append("bad_square")
    # The rule forgets the factor 2.
    bad = register("bad_square", lambda x: x * x, lambda g, out, x: (g * x,), arity=1)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a: bad(a), [Value(1.5, "w")])
    msg = str(info.value)
    assert "first derivative: input 0 (w) at (w=1.5)" in msg
    assert "analytic 1.5 != numerical 2.99999" in msg
    assert "atol" in msg


def test_gradgradcheck_catches_a_wrong_second_order_rule(temp_op: list[str]) -> None:
    temp_op.append("cube_flat")
    # First derivative right, but written with a constant mask: its derivative is 0, not 6x.
    flat = register(
        "cube_flat",
        lambda x: x**3,
        lambda g, out, x: (g * 3 * ops.data(x) ** 2,),
        arity=1,
    )
    assert gradcheck(lambda a: flat(a), [1.2])
    with pytest.raises(GradcheckError, match=r"second derivative.*d2f/\(dx0 dx0\)"):
        gradgradcheck(lambda a: flat(a), [1.2])


def test_gradcheck_rejects_points_outside_the_domain() -> None:
    with pytest.raises(GradcheckError, match="outside"):
        gradcheck(lambda x: x.log(), [0.0])


def test_gradcheck_requires_a_value_result() -> None:
    with pytest.raises(TypeError, match="must return a Value"):
        gradcheck(lambda x: 1.0, [1.0])  # type: ignore[arg-type, return-value]


def test_registered_op_is_differentiable_to_higher_order(temp_op: list[str]) -> None:
    temp_op.append("cube")
    cube = register(
        "cube",
        lambda x: x**3,
        lambda g, out, x: (g * 3.0 * x * x,),
        arity=1,
        label="³",
        domain=[[(-2.0, 2.0)]],
        formula="d x^3 = 3 x^2 dx",
    )
    x = Value(1.5)
    y = cube(x)
    assert y.op == "cube" and y.parents == (x,) and y.data == 3.375
    (d1,) = grad(y, [x], create_graph=True)
    (d2,) = grad(d1, [x])
    assert (d1.data, d2.data) == (3 * 1.5**2, 6 * 1.5)
    assert "cube" in ops.names()
    assert gradcheck(cube, [0.7]) and gradgradcheck(cube, [0.7])


def test_registered_op_with_params_and_three_inputs(temp_op: list[str]) -> None:
    temp_op.append("fma_scaled")
    fma = register(
        "fma_scaled",
        lambda a, b, c, k: k * (a * b + c),
        lambda g, out, a, b, c, k: (g * k * b, g * k * a, g * k),
        arity=3,
        params=("k",),
        param_domain=[[(1.0, 2.0)]],
    )
    a, b, c = Value(2.0), Value(3.0), Value(4.0)
    out = fma(a, b, c, 0.5)
    assert out.data == 5.0 and out.parents == (a, b, c) and out.ctx == (0.5,)
    out.backward()
    assert (a.grad, b.grad, c.grad) == (1.5, 1.0, 0.5)
    with pytest.raises(TypeError, match="takes 4 arguments"):
        fma(a, b, c)


def test_register_validates_its_arguments(temp_op: list[str]) -> None:
    with pytest.raises(ValueError, match="identifier"):
        register("not a name", lambda x: x, lambda g, o, x: (g,), arity=1)
    temp_op.append("twice")
    register("twice", math.tanh, lambda g, o, x: (g,), arity=1)
    with pytest.raises(ValueError, match="already registered"):
        register("twice", math.tanh, lambda g, o, x: (g,), arity=1)
    with pytest.raises(ValueError, match="arity"):
        register("zero_arity", lambda: 0.0, lambda g, o: (), arity=0)
    with pytest.raises(ValueError, match="lo < hi"):
        register("bad_domain", lambda x: x, lambda g, o, x: (g,), arity=1, domain=[[(1.0, 0.0)]])


def test_rule_with_wrong_arity_is_a_clear_error(temp_op: list[str]) -> None:
    temp_op.append("two_grads")
    f = register("two_grads", lambda x: x, lambda g, out, x: (g, g), arity=1)
    with pytest.raises(ValueError, match="'two_grads' returned 2 gradients for 1 inputs"):
        f(Value(1.0)).backward()


def test_float_only_rule_gives_clear_error_for_higher_order(temp_op: list[str]) -> None:
    temp_op.append("msin")
    f = register("msin", math.sin, lambda g, out, x: (g * math.cos(x),), arity=1)
    x = Value(0.3)
    f(x).backward()
    assert x.grad == pytest.approx(math.cos(0.3))
    with pytest.raises(NotImplementedError, match="'msin'.*higher-order"):
        grad(f(x), [x], create_graph=True)


@given(in_domain([(-1.0, -0.5), (2.0, 3.0)]))
def test_in_domain_stays_inside_intervals(x: float) -> None:
    assert -1.0 < x < -0.5 or 2.0 < x < 3.0


def test_gradcheck_of_a_function_that_differentiates_inside() -> None:
    def dcube(x: Value) -> Value:
        return grad(x**3, [x], create_graph=True)[0]

    assert gradcheck(dcube, [2.0])
    with pytest.raises(GradcheckError, match="analytic 2.0 != numerical 4.0"):
        gradcheck(lambda x: grad(x**2, [x])[0] * x, [1.0])  # the inner gradient is a constant here


@pytest.mark.parametrize("kw", [{"eps": 0.0}, {"eps": -1e-6}, {"atol": -1.0}, {"rtol": float("nan")}])
def test_gradcheck_rejects_bad_tolerances(kw: dict[str, float]) -> None:
    name = next(iter(kw))
    with pytest.raises(ValueError, match=name):
        gradcheck(lambda x: x * x, [1.0], **kw)


def test_register_names_malformed_domain_and_label(temp_op: list[str]) -> None:
    with pytest.raises(ValueError, match="one list of \\(lo, hi\\) intervals per input"):
        register("flat_domain", lambda x: x, lambda g, o, x: (g,), arity=1, domain=[(-1.0, 1.0)])
    with pytest.raises(ValueError, match="cannot be formatted"):
        register("bad_label", lambda x, k: x, lambda g, o, x, k: (g,), arity=1, params=("k",), label="s{1}")
    assert "flat_domain" not in ops.names() and "bad_label" not in ops.names()


def test_rule_returning_a_bare_number_is_a_clear_error(temp_op: list[str]) -> None:
    temp_op.append("bare")
    f = register("bare", lambda x: 2 * x, lambda g, out, x: 2 * g, arity=1)
    with pytest.raises(ValueError, match="'bare' returned a float.*must return a tuple"):
        f(Value(1.0)).backward()


def test_backward_inside_a_rule_is_refused(temp_op: list[str]) -> None:
    temp_op.append("nested")

    def rule(g: float, out: float, x: float) -> tuple[float]:
        Value(1.0).backward()
        return (g,)

    f = register("nested", lambda x: x, rule, arity=1)
    with pytest.raises(RuntimeError, match="during another backward pass"):
        f(Value(1.0)).backward()
    # The lock was released: later passes work.
    y = Value(3.0)
    (y * y).backward()
    assert y.grad == 6.0


def test_builtin_ops_cannot_be_replaced() -> None:
    with pytest.raises(ValueError, match="'exp' is built in"):
        register("exp", lambda x: 2.0, lambda g, o, x: (g,), arity=1, replace=True)
    assert Value(1.0).exp().spec is ops.get("exp")
