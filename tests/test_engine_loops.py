"""The engine's two backward loops (fast first-order, general) agree, and both agree with the reference engine."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
from hypothesis import given

from autograd_core import Value, detect_anomaly, grad, primitives, register, topo_order
from autograd_core.reference import reference_grads
from autograd_core.testing import Expression, expressions


def _every_node_grad_by_fast_loop(e: Expression) -> list[float]:
    xs = [Value(v) for v in e.inputs]
    out = e.fn(*xs)
    out.backward()  # first-order backward() outside detect_anomaly: the fast loop
    return [n.grad for n in topo_order(out)]


@given(expressions(max_inputs=3, max_ops=10))
def test_fast_loop_and_general_loop_give_identical_gradients_at_every_node(e: Expression) -> None:
    fast = _every_node_grad_by_fast_loop(e)
    xs = [Value(v) for v in e.inputs]
    out = e.fn(*xs)
    nodes = topo_order(out)
    # grad() with chosen inputs runs the general loop; asking for every node compares the whole walk.
    general = [g.data for g in grad(out, nodes)]
    assert len(fast) == len(general) == len(nodes)
    for f, g in zip(fast, general):
        assert f == g or (math.isnan(f) and math.isnan(g))


@given(expressions(max_inputs=3, max_ops=10))
def test_general_loop_under_detect_anomaly_accumulates_like_fast_loop(e: Expression) -> None:
    fast = _every_node_grad_by_fast_loop(e)
    xs = [Value(v) for v in e.inputs]
    out = e.fn(*xs)
    if not all(math.isfinite(n.data) for n in topo_order(out)):
        return  # detect_anomaly would (rightly) raise; the other test covers non-finite graphs
    with detect_anomaly():
        out.backward()  # backward() under detect_anomaly: the general loop with accumulation
    assert [n.grad for n in topo_order(out)] == fast


@given(expressions(max_inputs=3, max_ops=10))
def test_engine_matches_reference_engine_on_random_dags(e: Expression) -> None:
    xs = [Value(v) for v in e.inputs]
    out = e.fn(*xs)
    expected = reference_grads(out, xs)
    out.backward()
    assert [x.grad for x in xs] == pytest.approx(expected, rel=1e-12, abs=1e-300, nan_ok=True)


@pytest.fixture
def fma() -> Iterator[object]:
    f = register(
        "fma_loops",
        lambda x, y, z: x * y + z,
        lambda g, out, x, y, z: (g * y, g * x, g),
        arity=3,
    )
    yield f
    primitives._REGISTRY.pop("fma_loops", None)


def test_fast_and_general_loops_agree_on_an_op_with_three_inputs(fma: object) -> None:
    def build() -> tuple[list[Value], Value]:
        xs = [Value(2.0), Value(-3.0), Value(0.5)]
        h = fma(xs[0], xs[1], xs[2])  # type: ignore[operator]
        return xs, fma(h, h, xs[0]) * xs[2]  # type: ignore[operator]

    xs, out = build()
    out.backward()
    fast = [x.grad for x in xs]
    xs2, out2 = build()
    general = [g.data for g in grad(out2, xs2)]
    assert fast == general == reference_grads(out2, xs2)
    # d/dx0 of (h*h + x0) * x2 with h = x0*x1 + x2: (2 h x1 + 1) x2
    h = 2.0 * -3.0 + 0.5
    assert fast[0] == pytest.approx((2 * h * -3.0 + 1) * 0.5)
