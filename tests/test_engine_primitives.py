"""The op table: select, the rule helpers on floats/arrays/Values, and one rule serving floats and arrays."""

from __future__ import annotations

import math

import numpy as np
import pytest

from autograd_core import Value, grad, ops, primitives


def test_select_on_a_bool_is_a_python_choice() -> None:
    assert primitives.select(True, 1.0, 2.0) == 1.0
    assert primitives.select(False, 1.0, 2.0) == 2.0
    assert type(primitives.select(3.0 > 2.0, 1.0, 2.0)) is float


def test_select_on_an_array_is_elementwise() -> None:
    cond = np.array([True, False, True])
    out = primitives.select(cond, np.array([1.0, 2.0, 3.0]), 0.0)
    assert out.tolist() == [1.0, 0.0, 3.0]


def test_select_passes_a_value_branch_through_unchanged() -> None:
    g = Value(4.0)
    assert primitives.select(True, g, 0.0) is g


@pytest.mark.parametrize("helper", ["exp", "log", "sqrt", "sigmoid", "sin", "cos"])
def test_rule_helpers_on_arrays_match_helpers_on_floats(helper: str) -> None:
    f = getattr(primitives, helper)
    xs = [0.3, 1.7, 4.2]
    with np.errstate(all="ignore"):
        arr = f(np.array(xs))
    assert isinstance(arr, np.ndarray)
    assert arr.tolist() == pytest.approx([f(x) for x in xs], rel=1e-14)


def test_pow_helper_on_arrays_follows_c_pow_not_sqrt() -> None:
    # numpy's sqrt gives +inf at -inf; C's pow(-inf, 0.5) is +inf too, but pow(-0.0, 0.5) is +0.0 vs sqrt's -0.0.
    out = primitives.pow_(np.array([-0.0, 4.0]), 0.5)
    assert math.copysign(1.0, out[0]) == 1.0 and out[1] == 2.0


def _points(spec: ops.OpSpec, n: int = 7) -> list[list[float]]:
    rng = np.random.default_rng(0)
    cols = []
    for intervals in spec.domain:
        cols.append([float(rng.uniform(*intervals[i % len(intervals)])) for i in range(n)])
    return cols


BUILTIN = [s for s in ops.specs() if primitives.is_builtin(s)]


@pytest.mark.parametrize("spec", BUILTIN, ids=lambda s: s.name)
def test_builtin_vectorized_rule_matches_rule_on_floats(spec: ops.OpSpec) -> None:
    assert spec.vforward is not None and spec.vrule is not None
    cols = _points(spec)
    ctx = tuple(d[0][0] + 0.25 * (d[0][1] - d[0][0]) for d in spec.param_domain)
    g = [0.5 + 0.1 * i for i in range(len(cols[0]))]
    outs = [spec.forward(*row, *ctx) for row in zip(*cols)]
    with np.errstate(all="ignore"):
        vout = np.asarray(spec.vforward(*(np.array(c) for c in cols), *ctx), dtype=np.float64)
        vr = spec.vrule(np.array(g), np.array(outs), *(np.array(c) for c in cols), *ctx)
    assert vout.tolist() == pytest.approx(outs, rel=1e-14)
    scalar = [spec.rule(gi, o, *row, *ctx) for gi, o, row in zip(g, outs, zip(*cols))]
    for i in range(spec.arity):
        want = [0.0 if r[i] is None else float(r[i]) for r in scalar]
        got = np.broadcast_to(np.asarray(vr[i], dtype=np.float64), (len(g),)).tolist()
        assert got == pytest.approx(want, rel=1e-13), f"input {i}"


def test_only_pow_and_elu_keep_a_separate_vectorized_rule() -> None:
    separate = sorted(s.name for s in BUILTIN if s.vrule is not s.rule)
    assert separate == ["elu", "pow"]


def test_elu_rule_does_not_compute_the_masked_exp_for_large_inputs() -> None:
    # exp(1000) overflows; the float rule must not compute it where x > 0 (detect_anomaly would flag it).
    x = Value(1000.0)
    (g,) = grad(x.elu(), [x], create_graph=True)
    assert g.data == 1.0


def test_relu_second_derivative_is_zero_through_select() -> None:
    x = Value(1.5)
    (g,) = grad(x.relu() * x, [x], create_graph=True)
    (gg,) = grad(g, [x])
    assert g.data == 3.0 and gg.data == 2.0  # d/dx (relu(x) x) = 2x; d2 = 2 (relu's mask is constant)


def test_rule_arity_error_names_op_and_the_fix() -> None:
    err = primitives.rule_arity_error(ops.MUL, (1.0,), 2)
    assert isinstance(err, ValueError)
    assert "'mul'" in str(err) and "1 gradients for 2 inputs" in str(err)


def test_to_float_rejects_a_string_naming_what() -> None:
    with pytest.raises(TypeError, match="my arg must be a real number"):
        primitives.to_float("1.5", "my arg")
    assert primitives.to_float(10**400) == math.inf


def test_value_arithmetic_operators_are_the_entries_forwards() -> None:
    # Value.__add__/__sub__/__mul__ write these forwards as the operators themselves.
    import operator

    assert (ops.ADD.forward, ops.SUB.forward, ops.MUL.forward) == (operator.add, operator.sub, operator.mul)


@pytest.mark.parametrize(
    ("method", "spec", "args"),
    [
        ("relu", ops.RELU, ()),
        ("tanh", ops.TANH, ()),
        ("elu", ops.ELU, (0.7,)),
        ("leaky_relu", ops.LEAKY_RELU, (0.2,)),
        ("softplus", ops.SOFTPLUS, ()),
        ("sigmoid", ops.SIGMOID, ()),
    ],
)
def test_value_methods_give_their_entrys_forward(method: str, spec: ops.OpSpec, args: tuple[float, ...]) -> None:
    for x in (-2.5, -0.0, 0.0, 1.25, math.nan):
        got = getattr(Value(x), method)(*args)
        want = spec.forward(x, *args)
        assert got.op == spec.name
        assert got.data == want or (math.isnan(got.data) and math.isnan(want))
