"""Value construction, operators, IEEE semantics, backward and grad() behaviour."""

from __future__ import annotations

import gc
import math
import threading
import weakref

import numpy as np
import pytest

from autograd_core import (
    AnomalyError,
    Value,
    backward,
    detect_anomaly,
    enable_grad,
    grad,
    maximum,
    minimum,
    no_grad,
    topo_order,
)


@pytest.mark.parametrize("data", [3, 2.5, np.float64(1.5), np.float32(0.25), np.int64(7), True])
def test_value_accepts_real_numbers_as_float(data: object) -> None:
    v = Value(data)
    assert type(v.data) is float
    assert v.data == float(data)  # type: ignore[arg-type]
    assert v.grad == 0.0 and v.op == "" and v.parents == () and v.label == ""


@pytest.mark.parametrize("bad", ["1.0", None, 1 + 2j, [1.0], np.array([1.0, 2.0]), Value])
def test_value_rejects_non_real_data_naming_the_type(bad: object) -> None:
    with pytest.raises(TypeError, match=type(bad).__name__):
        Value(bad)


def test_value_rejects_non_str_label() -> None:
    with pytest.raises(TypeError, match="label"):
        Value(1.0, label=3)  # type: ignore[arg-type]


def test_value_records_op_and_parents_in_operand_order() -> None:
    a, b = Value(2.0, "a"), Value(5.0, "b")
    for out, op in ((a + b, "add"), (a - b, "sub"), (a * b, "mul"), (a / b, "div"), (a**b, "pow")):
        assert out.op == op
        assert out.parents == (a, b)
    assert (b - a).parents == (b, a)
    assert (-a).op == "neg" and (-a).parents == (a,)
    sq = a**2
    assert sq.op == "pow_const" and sq.parents == (a,) and sq.ctx == (2.0,)


@pytest.mark.parametrize(
    "expr, expected",
    [
        (lambda x: x + 2, 5.0),
        (lambda x: 2 + x, 5.0),
        (lambda x: x - 2, 1.0),
        (lambda x: 2 - x, -1.0),
        (lambda x: x * 2, 6.0),
        (lambda x: 2 * x, 6.0),
        (lambda x: x / 2, 1.5),
        (lambda x: 2 / x, 2 / 3),
        (lambda x: x**2, 9.0),
        (lambda x: 2**x, 8.0),
        (lambda x: x ** Value(2.0), 9.0),
        (lambda x: -x, -3.0),
        (lambda x: abs(-x), 3.0),
        (lambda x: np.float64(2) * x, 6.0),
        (lambda x: np.float64(2) + x, 5.0),
        (lambda x: np.float64(2) ** x, 8.0),
    ],
)
def test_operators_accept_numbers_on_either_side(expr, expected: float) -> None:  # type: ignore[no-untyped-def]
    out = expr(Value(3.0))
    assert type(out) is Value
    assert out.data == pytest.approx(expected, rel=1e-15)


def test_operators_reject_non_numbers() -> None:
    with pytest.raises(TypeError):
        Value(1.0) + "a"  # type: ignore[operator]
    with pytest.raises(TypeError):
        [1] * Value(1.0)  # type: ignore[operator]


def test_pow_value_exponent_gradients() -> None:
    x, y = Value(2.0), Value(3.0)
    out = x**y
    out.backward()
    assert x.grad == pytest.approx(3 * 2.0**2, rel=1e-15)
    assert y.grad == pytest.approx(8.0 * math.log(2.0), rel=1e-15)
    c = Value(3.0)
    (2**c).backward()
    assert c.grad == pytest.approx(8.0 * math.log(2.0), rel=1e-15)


def test_ieee_semantics_never_raise() -> None:
    assert Value(0).log().data == -math.inf
    assert math.isnan(Value(-1).log().data)
    assert Value(1000).exp().data == math.inf
    assert (Value(1) / 0).data == math.inf
    assert (Value(-1) / 0).data == -math.inf
    assert math.isnan((Value(0) / 0).data)
    assert (Value(10.0) ** 400).data == math.inf
    assert math.isnan((Value(-8.0) ** (1 / 3)).data)
    assert (Value(0.0) ** -1).data == math.inf
    assert math.isnan(Value(-1.0).sqrt().data)
    assert math.isnan(Value(math.inf).sin().data)
    x = Value(0.0)
    y = x.log()
    y.backward()
    assert x.grad == math.inf


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softplus"])
@pytest.mark.parametrize("at", [1000.0, -1000.0])
def test_saturating_ops_are_finite_with_zero_gradient(name: str, at: float) -> None:
    x = Value(at)
    out = getattr(x, name)()
    out.backward()
    assert math.isfinite(out.data)
    expected = {"sigmoid": 1.0 if at > 0 else 0.0, "tanh": math.copysign(1.0, at), "softplus": max(at, 0.0)}[name]
    assert out.data == expected
    assert x.grad == (1.0 if name == "softplus" and at > 0 else 0.0)


def test_backward_twice_doubles_every_grad() -> None:
    a, b = Value(2.0), Value(-3.0)
    c = a * b
    d = c.tanh() + c * a
    d.backward()
    once = {id(n): n.grad for n in topo_order(d)}
    d.backward()
    d.backward()
    for n in topo_order(d):
        assert n.grad == pytest.approx(3 * once[id(n)], rel=1e-15)


def test_merging_paths_add_up() -> None:
    x = Value(3.0)
    y = x * x + x  # dy/dx = 2x + 1
    y.backward()
    assert x.grad == 7.0
    z = Value(2.0)
    w = z + z + z
    w.backward()
    assert z.grad == 3.0


def test_backward_seed_scales_gradients() -> None:
    x = Value(3.0)
    (x * x).backward(grad=0.5)
    assert x.grad == 3.0
    with pytest.raises(TypeError, match="real number"):
        (x * x).backward(grad="1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Value"):
        backward(3.0)  # type: ignore[arg-type]


def test_grad_leaves_grad_attributes_alone_and_gives_zero_for_unused_input() -> None:
    x, y, unused = Value(2.0), Value(3.0), Value(9.0)
    f = x * y
    gx, gy, gu = grad(f, [x, y, unused])
    assert (gx.data, gy.data, gu.data) == (3.0, 2.0, 0.0)
    assert x.grad == 0.0 and y.grad == 0.0 and f.grad == 0.0
    (again,) = grad(f, x)
    assert again.data == 3.0


def test_grad_rejects_non_values() -> None:
    with pytest.raises(TypeError, match="input 1"):
        grad(Value(1.0), [Value(1.0), 2.0])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="output"):
        grad(1.0, [Value(1.0)])  # type: ignore[arg-type]


def test_third_derivative_nests_grad_three_times() -> None:
    x = Value(1.3)
    f = x.sin() * x**3
    (d1,) = grad(f, [x], create_graph=True)
    (d2,) = grad(d1, [x], create_graph=True)
    (d3,) = grad(d2, [x])
    s, c, t = math.sin(1.3), math.cos(1.3), 1.3
    # (x^3 sin x)''' = -x^3 cos x - 9 x^2 sin x + 18 x cos x + 6 sin x
    assert d3.data == pytest.approx(-(t**3) * c - 9 * t**2 * s + 18 * t * c + 6 * s, rel=1e-12)
    assert d1.data == pytest.approx(3 * t**2 * s + t**3 * c, rel=1e-14)


def test_mixed_partials_with_create_graph() -> None:
    x, y = Value(0.7), Value(-1.2)
    f = (x * y).exp() + x**2 * y
    gx, _ = grad(f, [x, y], create_graph=True)
    gxx, gxy = grad(gx, [x, y])
    e = math.exp(0.7 * -1.2)
    assert gxx.data == pytest.approx(-1.2 * -1.2 * e + 2 * -1.2, rel=1e-13)
    assert gxy.data == pytest.approx(e + 0.7 * -1.2 * e + 2 * 0.7, rel=1e-13)


def test_leaky_relu_with_value_slope_is_parametric() -> None:
    x, a = Value(-2.0), Value(0.1)
    out = x.leaky_relu(a)
    assert out.op == "prelu"
    out.backward()
    assert out.data == pytest.approx(-0.2)
    assert (x.grad, a.grad) == (pytest.approx(0.1), -2.0)
    y = Value(-2.0)
    z = y.leaky_relu(0.2)
    z.backward()
    assert z.op == "leaky_relu" and y.grad == 0.2 and z.data == pytest.approx(-0.4)


def test_elu_and_relu_values_and_gradients() -> None:
    x = Value(-1.0)
    e = x.elu(2.0)
    e.backward()
    assert e.data == pytest.approx(2.0 * math.expm1(-1.0), rel=1e-15)
    assert x.grad == pytest.approx(2.0 * math.exp(-1.0), rel=1e-15)
    z = Value(0.0)
    z.relu().backward()
    assert z.grad == 0.0  # the subgradient at the kink is 0, as in PyTorch


def test_maximum_minimum_route_gradient_and_split_ties() -> None:
    a, b = Value(1.0), Value(3.0)
    maximum(a, b).backward()
    assert (a.grad, b.grad) == (0.0, 1.0)
    minimum(a, 5.0).backward()
    assert a.grad == 1.0
    c, d = Value(2.0), Value(2.0)
    maximum(c, d).backward()
    assert (c.grad, d.grad) == (0.5, 0.5)
    assert math.isnan(maximum(Value(math.nan), 1.0).data)


def test_no_grad_records_nothing_and_detach_cuts() -> None:
    x = Value(2.0)
    with no_grad():
        y = x * x + 1
    assert y.op == "" and y.parents == () and y.data == 5.0
    z = (x * 3).detach()
    assert z.parents == () and z.data == 6.0
    w = x * 3
    assert w.parents == (x, w.parents[1])


def test_no_grad_is_per_thread() -> None:
    inside = threading.Event()
    release = threading.Event()
    seen: dict[str, tuple[str, int]] = {}

    def in_no_grad() -> None:
        with no_grad():
            inside.set()
            release.wait(5)
            v = Value(1.0) * 2
            seen["no_grad thread"] = (v.op, len(v.parents))

    t = threading.Thread(target=in_no_grad)
    t.start()
    assert inside.wait(5)
    v = Value(1.0) * 2  # this thread records while the other is in no_grad
    seen["main thread"] = (v.op, len(v.parents))
    release.set()
    t.join(5)
    assert seen == {"no_grad thread": ("", 0), "main thread": ("mul", 2)}


def test_no_grad_works_as_decorator_and_nests() -> None:
    @no_grad()
    def f(x: Value) -> Value:
        return x * x

    x = Value(3.0)
    assert f(x).parents == ()
    assert (x * x).parents == (x, x)


def test_detect_anomaly_forward_names_op_and_inputs() -> None:
    x = Value(-1.0, "x")
    with detect_anomaly(), pytest.raises(AnomalyError, match=r"'log'.*x=-1\.0"):
        x.log()
    assert math.isnan(x.log().data)  # outside the block: no check


def test_detect_anomaly_backward_names_op_and_node_label() -> None:
    x = Value(0.0, "x")
    y = x.sqrt()
    y.label = "root"
    with detect_anomaly(), pytest.raises(AnomalyError, match=r"backward of op 'sqrt'.*root.*x=0\.0"):
        y.backward()
    # The failed pass left no half-accumulated state behind.
    y.backward()
    assert x.grad == math.inf


def test_dead_graph_freed_by_refcount_alone() -> None:
    gc.disable()
    try:
        x = Value(1.0)
        y = x
        for _ in range(100):
            y = (y * 1.5).tanh() + x
        y.backward()
        ref = weakref.ref(y)
        mid = weakref.ref(y.parents[0])
        del y
        assert ref() is None and mid() is None
    finally:
        gc.enable()


def test_deep_chain_backward_and_repr_do_not_recurse() -> None:
    x = Value(1.0, "x")
    y = x
    for _ in range(1_000_000):
        y = y + 1.0
    y.backward()
    assert x.grad == 1.0
    assert y.data == 1_000_001.0
    assert repr(y) == "Value(data=1000001.0, grad=1.0, op='add')"
    assert str(x) == "Value(data=1.0, grad=1.0, label='x')"
    assert len(topo_order(y)) == 2_000_001


def test_topo_order_is_stable_and_inputs_first() -> None:
    def build() -> Value:
        a, b = Value(1.0, "a"), Value(2.0, "b")
        c = a * b
        return (c + a).tanh() * c

    orders = [[(n.op, n.label, n.data) for n in topo_order(build())] for _ in range(3)]
    assert orders[0] == orders[1] == orders[2]
    out = build()
    order = topo_order(out)
    pos = {id(n): i for i, n in enumerate(order)}
    for n in order:
        for p in n.parents:
            assert pos[id(p)] < pos[id(n)]
    assert order[-1] is out


def test_numpy_scalar_assigned_to_data_still_differentiates() -> None:
    # Users update parameters with numpy arithmetic; .data may then hold a numpy scalar.
    for make in (np.float64, np.float32):
        x = Value(0.5)
        x.data = make(0.5)  # type: ignore[assignment]
        y = x.relu() * x.log() + x.sqrt() / x + 2**x + x.sigmoid() + abs(x) + x.elu() + x.leaky_relu(0.1)
        y.backward()
        ref = Value(0.5)
        r = ref.relu() * ref.log() + ref.sqrt() / ref + 2**ref + ref.sigmoid() + abs(ref) + ref.elu()
        r = r + ref.leaky_relu(0.1)
        r.backward()
        assert float(x.grad) == pytest.approx(ref.grad, rel=1e-6)


def test_huge_int_becomes_infinity_not_overflow_error() -> None:
    assert Value(10**400).data == math.inf
    assert Value(-(10**400)).data == -math.inf
    assert (Value(1.0) + 10**400).data == math.inf


def test_masked_branches_give_exact_zero_for_infinite_upstream() -> None:
    # PyTorch's masked fill: relu's gradient is 0 where x < 0, even if upstream is inf.
    for make in (lambda x: x.relu().log(), lambda x: x.relu().sqrt(), lambda x: maximum(x, 1.0).log()):
        x = Value(-1.0)
        y = make(x)
        y.backward()
        assert x.grad == 0.0


def test_pow_at_zero_base_and_zero_exponent_matches_pytorch() -> None:
    x, y = Value(0.0), Value(0.0)
    (x**y).backward()
    assert (x.grad, y.grad) == (0.0, 0.0)
    x2, y2 = Value(0.0), Value(2.0)
    (x2**y2).backward()
    assert (x2.grad, y2.grad) == (0.0, 0.0)


def test_elu_gradient_keeps_precision_for_very_negative_inputs() -> None:
    for at in (-20.0, -37.0, -40.0):
        x = Value(at)
        x.elu(1.5).backward()
        assert x.grad == pytest.approx(1.5 * math.exp(at), rel=1e-15)


def test_mode_blocks_are_reusable_and_read_the_mode_when_entered() -> None:
    ng = no_grad()
    with ng:
        assert (Value(1.0) * 2).parents == ()
    with ng:
        with ng:  # nested re-entry of one instance
            assert (Value(1.0) * 2).parents == ()
        assert (Value(1.0) * 2).parents == ()
    assert len((Value(1.0) * 2).parents) == 2

    @no_grad()
    def log_of(v: Value) -> Value:
        return v.log()

    # The decorator made outside detect_anomaly still honours it when called inside.
    with detect_anomaly(), pytest.raises(AnomalyError):
        log_of(Value(0.0))


def test_enable_grad_undoes_no_grad() -> None:
    x = Value(2.0)
    with no_grad():
        with enable_grad():
            y = x * x
        z = x * x
    assert y.parents == (x, x) and z.parents == ()


def test_threads_differentiating_graphs_that_share_a_leaf_get_correct_results() -> None:
    w = Value(1.0001, "w")
    results: dict[int, list[float]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def work(k: int) -> None:
        try:
            start.wait(5)
            out = []
            for _ in range(5):
                y = Value(float(k))
                for _ in range(2000):
                    y = y * w
                out.append(grad(y, [w])[0].data)
            results[k] = out
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    for k, out in results.items():
        expected = k * 2000 * 1.0001**1999
        assert out == pytest.approx([expected] * 5, rel=1e-9)


def test_grad_with_create_graph_records_inside_no_grad() -> None:
    x = Value(2.0)
    with no_grad():
        y = x**3  # no graph: constant
        assert y.parents == ()
    z = x**3
    with no_grad():
        (d1,) = grad(z, [x], create_graph=True)
        (d2,) = grad(d1, [x])
    assert (d1.data, d2.data) == (12.0, 12.0)


def test_one_no_grad_instance_shared_by_overlapping_asyncio_tasks() -> None:
    import asyncio

    ng = no_grad()
    seen: list[int] = []

    async def work(delay: float) -> None:
        with ng:
            await asyncio.sleep(delay)
            seen.append(len((Value(1.0) * 2).parents))

    async def main() -> None:
        await asyncio.gather(work(0.01), work(0.02))

    asyncio.run(main())
    assert seen == [0, 0]
    assert len((Value(1.0) * 2).parents) == 2


def test_no_grad_decorates_generator_functions() -> None:
    @no_grad()
    def products(x: Value):  # type: ignore[no-untyped-def]
        for k in range(3):
            yield x * k

    x = Value(2.0)
    outs = list(products(x))
    assert [o.data for o in outs] == [0.0, 2.0, 4.0]
    assert all(o.parents == () for o in outs)
    assert len((x * 2).parents) == 2  # the block closed with the generator


def test_detect_anomaly_catches_a_gradient_that_overflows_when_summed() -> None:
    a = Value(1e-10, "a")
    y = a * 1e308 + a * 1e308  # each path's gradient is finite, their sum is not
    with detect_anomaly(), pytest.raises(AnomalyError, match=r"reaching node a=1e-10 \(leaf\) is inf"):
        y.backward()
    with detect_anomaly(), pytest.raises(AnomalyError, match="started with a non-finite gradient"):
        Value(1.0).backward(math.nan)


def test_gradients_at_nan_follow_pytorch() -> None:
    # torch 2.13: relu'(nan) = 1; maximum/minimum with a nan operand pass the gradient to both.
    x = Value(math.nan)
    x.relu().backward()
    assert x.grad == 1.0
    for f in (maximum, minimum):
        a, b = Value(math.nan), Value(1.0)
        f(a, b).backward()
        assert (a.grad, b.grad) == (1.0, 1.0)


def test_value_format_spec_formats_data() -> None:
    loss = Value(0.69314718) * 1.0
    assert f"{loss:.4f}" == "0.6931"
    assert f"{loss:>9.2e}|" == " 6.93e-01|"
    assert f"{loss}" == repr(loss)  # no spec: the repr, as str()


def test_value_format_rejects_a_spec_floats_do_not_take() -> None:
    with pytest.raises(ValueError, match=r"invalid format spec 'd' for a Value \(it formats \.data, a float\)"):
        f"{Value(1.0):d}"


def test_value_repr_html_is_one_escaped_line_with_data_grad_op_label() -> None:
    x = Value(2.0, "<b>x&y</b>")
    y = x * 3.0
    y.label = "out"
    y.backward()
    html_y = y._repr_html_()
    assert "\n" not in html_y
    assert "data=6.0" in html_y and "grad=1.0" in html_y and "op=<code>mul</code>" in html_y
    assert "label=<code>out</code>" in html_y
    html_x = x._repr_html_()
    assert "label=<code>&lt;b&gt;x&amp;y&lt;/b&gt;</code>" in html_x and "<b>x" not in html_x
    assert "grad=3.0" in html_x and "op=" not in html_x  # a leaf has no op
