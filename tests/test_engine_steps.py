"""backward_steps and explain: the backward pass and the chain rule written out (notes' examples, random DAGs)."""

from __future__ import annotations

import math
import time

import pytest
from hypothesis import given

from autograd_core import Value, backward_steps, explain, grad, topo_order
from autograd_core.steps import format_step, format_steps_table, node_names
from autograd_core.testing import expressions


def _xyz() -> tuple[Value, ...]:
    # Lecture 05: f(x, y, z) = (x + y) z at x=1, y=-3, z=4.
    x, y, z = Value(1.0, "x"), Value(-3.0, "y"), Value(4.0, "z")
    d = x + y
    d.label = "d"
    f = d * z
    f.label = "f"
    return x, y, z, d, f


def _quadratic() -> tuple[Value, ...]:
    # Lecture 04: f = a x^2 + b x + c at x=4, a=2, b=-3 (c=5): df/dx = 2 a x + b = 13.
    a, b, c, x = Value(2.0, "a"), Value(-3.0, "b"), Value(5.0, "c"), Value(4.0, "x")
    f = a * x**2 + b * x + c
    f.label = "f"
    return a, b, c, x, f


def _neuron() -> tuple[list[Value], Value]:
    # Lecture 05: sigmoid(w0 x0 + w1 x1 + b) at w0=2, x0=-1, w1=-3, x1=-2, b=-3.
    leaves = [Value(v, n) for v, n in zip((2, -1, -3, -2, -3), ("w0", "x0", "w1", "x1", "b"))]
    w0, x0, w1, x1, b = leaves
    out = (w0 * x0 + w1 * x1 + b).sigmoid()
    out.label = "f"
    return leaves, out


def _by_name(steps: list) -> dict:
    return {s.name: s for s in steps}


def test_backward_steps_sum_times_z_matches_hand_derivation() -> None:
    x, y, z, d, f = _xyz()
    steps = backward_steps(f)
    assert [s.name for s in steps] == ["f", "z", "d", "y", "x"]
    assert [s.index for s in steps] == [0, 1, 2, 3, 4]
    s_f, s_z, s_d, s_y, s_x = steps
    assert s_f.node is f and s_f.grad == 1.0 and s_f.gathered == ()
    assert s_f.inputs == (d, z)
    assert s_f.local == (4.0, -2.0)  # df/dd = z, df/dz = d
    assert s_f.contributions == (4.0, -2.0)
    assert s_d.grad == 4.0 and s_d.local == (1.0, 1.0) and s_d.contributions == (4.0, 4.0)
    assert (s_x.grad, s_y.grad, s_z.grad) == (4.0, 4.0, -2.0)
    # Leaves have a step with no inputs.
    assert s_x.inputs == () and s_x.local == () and s_x.contributions == ()
    assert s_f.formula and s_x.formula == ""
    assert s_x.gathered[0].name == "d" and s_x.gathered[0].step == 2


def test_backward_steps_quadratic_gathers_both_users_of_x() -> None:
    a, b, c, x, f = _quadratic()
    steps = _by_name(backward_steps(f))
    sx = steps["x"]
    # Users of x in processing order: b*x (mul5) then x**2 (pow_const2); the engine adds in that order.
    assert [(g.name, g.upstream, g.local, g.amount) for g in sx.gathered] == [
        ("mul5", 1.0, -3.0, -3.0),
        ("pow_const2", 2.0, 8.0, 16.0),
    ]
    assert sx.grad == 13.0
    assert steps["pow_const2"].local == (8.0,)  # d x^2 / dx = 2x
    assert (steps["a"].grad, steps["b"].grad, steps["c"].grad) == (16.0, 4.0, 1.0)


def test_backward_steps_sigmoid_neuron_matches_lecture_figures() -> None:
    leaves, out = _neuron()
    steps = backward_steps(out)
    by = _by_name(steps)
    got = [round(by[n].grad, 4) for n in ("w0", "x0", "w1", "x1", "b")]
    assert got == [-0.1966, 0.3932, -0.3932, -0.5898, 0.1966]
    sig = steps[0]
    assert sig.op == "sigmoid" and sig.grad == 1.0
    assert sig.local[0] == pytest.approx(out.data * (1 - out.data), rel=1e-15)
    w0x0 = by["mul2"]  # w0 * x0: local derivatives x0, w0
    assert w0x0.local == (-1.0, 2.0)
    assert [round(c, 4) for c in w0x0.contributions] == [-0.1966, 0.3932]
    # Contributions are what the engine adds: the rule called with the upstream gradient.
    assert w0x0.contributions == (w0x0.grad * -1.0, w0x0.grad * 2.0)


def test_backward_steps_leaves_every_grad_as_it_was() -> None:
    leaves, out = _neuron()
    nodes = topo_order(out)
    for i, v in enumerate(nodes):
        v.grad = 100.0 + i
    backward_steps(out)
    explain(out, leaves[0])
    assert [v.grad for v in nodes] == [100.0 + i for i in range(len(nodes))]


def test_backward_steps_square_counts_both_operand_slots() -> None:
    x = Value(3.0, "x")
    y = x * x
    steps = backward_steps(y)
    assert steps[0].local == (3.0, 3.0)
    assert [g.amount for g in steps[1].gathered] == [3.0, 3.0]
    assert steps[1].grad == 6.0
    e = explain(y, x)
    assert e.n_paths == 2 and [p.product for p in e.paths] == [3.0, 3.0] and e.total == 6.0


@given(expressions(max_inputs=3, max_ops=8))
def test_backward_steps_gathered_contributions_equal_engine_grad(e) -> None:
    xs = [Value(v, f"x{i}") for i, v in enumerate(e.inputs)]
    out = e.fn(*xs)
    steps = backward_steps(out)
    order = topo_order(out)
    assert len(steps) == len(order) and [s.node for s in steps] == order[::-1]
    for s in steps:
        # Every node comes after all its users, and its grad is exactly the sum they contributed.
        assert all(g_.step < s.index for g_ in s.gathered)
        acc = 1.0 if s.index == 0 else 0.0
        for c in s.gathered:
            acc += c.amount
        assert acc == s.grad
        (engine,) = grad(out, [s.node])
        assert math.isclose(s.grad, engine.data, rel_tol=1e-12)
    for x in xs:
        ex = explain(out, x)
        (engine,) = grad(out, [x])
        assert math.isclose(ex.total, engine.data, rel_tol=1e-12)
        if ex.form == "paths":
            scale = sum(abs(p.product) for p in ex.paths)
            assert math.isclose(sum(p.product for p in ex.paths), ex.total, rel_tol=1e-9, abs_tol=1e-12 * scale)


def test_explain_quadratic_lists_two_paths_as_the_notes() -> None:
    a, b, c, x, f = _quadratic()
    e = explain(f, x)
    assert e.form == "paths" and e.n_paths == 2 and e.total == 13.0
    p1, p2 = e.paths
    assert p1.names == ("x", "pow_const2", "mul3", "add6", "f") and p1.factors == (8.0, 2.0, 1.0, 1.0)
    assert p1.product == 16.0
    assert p2.names == ("x", "mul5", "add6", "f") and p2.factors == (-3.0, 1.0, 1.0) and p2.product == -3.0
    assert p1.nodes[0] is x and p1.nodes[-1] is f
    text = str(e)
    assert "2 paths" in text
    assert "∂f/∂add6 · ∂add6/∂mul3 · ∂mul3/∂pow_const2 · ∂pow_const2/∂x = 1 · 1 · 2 · 8 = 16" in text
    assert text.splitlines()[-1] == "∂f/∂x = 16 + (-3) = 13"


def test_explain_sum_times_z_writes_one_path() -> None:
    x, y, z, d, f = _xyz()
    e = explain(f, x)
    assert e.n_paths == 1 and e.total == 4.0
    assert "∂f/∂d · ∂d/∂x = 4 · 1 = 4" in str(e)
    assert explain(f, z).total == -2.0


def test_explain_total_equals_engine_grad_on_sigmoid_neuron() -> None:
    leaves, out = _neuron()
    for v in leaves:
        (g,) = grad(out, [v])
        assert explain(out, v).total == g.data


def test_explain_of_output_itself_is_one() -> None:
    x = Value(2.0, "x")
    y = x.tanh()
    e = explain(y, y)
    assert e.total == 1.0 and e.n_paths == 1 and e.paths[0].factors == ()


def test_explain_independent_wrt_says_so() -> None:
    x, y, z, d, f = _xyz()
    q = Value(5.0, "q")
    e = explain(f, q)
    assert e.form == "none" and e.total == 0.0 and e.paths == () and e.n_paths == 0
    assert "f does not depend on q" in str(e)
    # z is a leaf: its graph holds no x at all.
    e2 = explain(z, x)
    assert e2.total == 0.0 and e2.form == "none"


def _diamonds(n: int) -> tuple[Value, Value]:
    x = Value(1.0, "x")
    v = x
    for _ in range(n):
        v = v * 1.0 + v * 1.0  # two paths through each diamond
    return x, v


def test_explain_chain_of_40_diamonds_uses_memoized_form_quickly() -> None:
    x, out = _diamonds(40)
    t0 = time.perf_counter()
    e = explain(out, x)
    text = str(e)
    elapsed = time.perf_counter() - t0
    assert e.n_paths == 2**40 and e.form == "memoized" and e.paths == ()
    assert e.total == 2.0**40 == grad(out, [x])[0].data
    assert "memoized" in text and "1099511627776 paths" in text
    assert len(text.splitlines()) < 40 and len(text) < 6000  # bounded, not one line per node
    assert elapsed < 5.0


def test_explain_long_single_path_text_stays_bounded() -> None:
    x = Value(0.5, "x")
    v = x
    for _ in range(1000):
        v = v * 1.0
    e = explain(v, x)
    assert e.form == "paths" and len(e.paths[0].factors) == 1000 and e.total == 1.0
    text = str(e)
    assert "(988 more factors)" in text and "(989 more nodes)" in text
    assert len(text) < 2000


def test_explain_switches_form_past_max_paths() -> None:
    x, out = _diamonds(6)  # 64 paths: listed
    assert explain(out, x).form == "paths" and len(explain(out, x).paths) == 64
    x, out = _diamonds(7)  # 128 paths: memoized
    assert explain(out, x).form == "memoized"
    assert explain(out, x, max_paths=200).form == "paths"


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "needle"),
    [
        ((1.0, Value(1.0)), {}, TypeError, "'out'"),
        ((Value(1.0), "x"), {}, TypeError, "'wrt'"),
        ((Value(1.0), Value(1.0)), {"max_paths": "64"}, TypeError, "'max_paths'"),
        ((Value(1.0), Value(1.0)), {"max_paths": -1}, ValueError, "'max_paths'"),
    ],
)
def test_explain_bad_input_names_the_argument(args, kwargs, exc, needle) -> None:
    with pytest.raises(exc, match=needle):
        explain(*args, **kwargs)


def test_backward_steps_rejects_non_value() -> None:
    with pytest.raises(TypeError, match="'out' must be a Value, got float"):
        backward_steps(3.0)  # type: ignore[arg-type]


def test_node_names_use_label_else_op_and_topological_number() -> None:
    x = Value(1.0, "x")
    y = (x + 1.0).exp()
    names = node_names(topo_order(y))
    assert list(names.values()) == ["x", "leaf1", "add2", "exp3"]


def test_format_step_shows_the_gathering_and_the_products() -> None:
    a, b, c, x, f = _quadratic()
    steps = backward_steps(f)
    sx = _by_name(steps)["x"]
    text = format_step(sx, out_name="f", total=len(steps))
    assert f"step {sx.index}/{len(steps) - 1}: x (leaf)" in text
    assert "x.grad += -3   from mul5" in text and "x.grad += 16   from pow_const2" in text
    assert "x.grad  = 13" in text
    mul = _by_name(steps)["mul5"]
    assert "-> b: 1 × 4 = 4" in format_step(mul) and "-> x: 1 × (-3) = -3" in format_step(mul)


def test_format_steps_table_has_one_row_per_input() -> None:
    *_, f = _xyz()
    rows = format_steps_table(backward_steps(f)).splitlines()
    assert rows[0].split() == ["step", "node", "op", "grad", "input", "local", "contribution"]
    assert rows[1].split() == ["0", "f", "mul", "1", "d", "4", "4"]
    assert rows[2].split() == ["z", "-2", "-2"]
    assert len(rows) == 1 + 2 + 1 + 2 + 1 + 1
