"""Tests of autograd_core.linear and autograd_core.fixed: linear chains replayed as matrix products.

Every compiled result is compared with the eager engine's, per sample, to
1e-9 relative (matrix products and reductions add in another order than the
eager left fold; ``scale`` bounds the error of a sum with cancellation).
"""

from __future__ import annotations

import random
import tracemalloc
from typing import Any

import numpy as np
import pytest
from compile_support import close, eager
from hypothesis import given, settings

from autograd_core import Value, compile, ops
from autograd_core import linear as linear_mod
from autograd_core.linear import LinearGroup, find_chains
from autograd_core.testing import expressions
from autograd_core.value import applier
from nn import losses
from nn.compiled import LOSS_KINDS, compile_loss
from nn.layers import MLP

RTOL = 1e-9


def _close(actual: Any, expected: Any, *, scale: Any = None) -> None:
    close(actual, expected, rtol=RTOL, scale=scale)


_eager = eager

BUILTIN = [s.name for s in ops.specs() if getattr(ops, s.name.upper(), None) is s]






def _check_batch(f: Any, data: np.ndarray, params: list[Value]) -> Any:
    """Compile ``f``, replay ``data`` (samples x args) as one batch and compare everything with eager."""
    c = compile(f, list(data[0]), params=params)
    out, ga, pg = c.forward_backward(*data.T)
    per = []
    for i, row in enumerate(data):
        v, g, p = _eager(f, row, params)
        per.append(p)
        _close(out[i], v)
        _close([col[i] for col in ga], g, scale=np.abs(g).max() if g else None)
    if params:
        _close(pg, np.sum(per, axis=0), scale=np.sum(np.abs(per), axis=0))
    return c


def _linear_groups(c: Any) -> list[LinearGroup]:
    return [g for g in c.tape.batch_groups() if isinstance(g, LinearGroup)]


def _weights(rng: random.Random, m: int, k: int) -> list[list[Value]]:
    return [[Value(rng.uniform(-1, 1)) for _ in range(k)] for _ in range(m)]


def _data(n: int, k: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-2.0, 2.0, size=(n, k))


# --------------------------------------------------------------------------
# What is grouped
# --------------------------------------------------------------------------


def test_linear_mlp_tape_gets_one_group_per_layer() -> None:
    model = MLP(3, [8, 6, 2], rng=random.Random(0))
    f = lambda *x: model(list(x))[0] * model(list(x))[1]
    params = list(model.parameters())
    c = _check_batch(f, _data(9, 3), params)
    groups = _linear_groups(c)
    # model() is called twice: both first layers read the same inputs, so they form one (16 x 3) group;
    # the later layers read different activations; of each last layer only the output used is on the tape.
    assert [(g.stop - g.start, g.k) for g in groups] == [(16, 3), (6, 8), (6, 8), (1, 6), (1, 6)]
    single = compile(lambda *x: model(list(x)), [0.1, 0.2, 0.3], params=params)
    assert [(g.stop - g.start, g.k) for g in _linear_groups(single)] == [(8, 3), (6, 8), (2, 6)]


def test_linear_products_get_no_rows() -> None:
    model = MLP(2, [16, 16, 1], rng=random.Random(1))
    c = compile(lambda *x: model(list(x))[0], [0.1, 0.2], params=list(model.parameters()))
    # Rows: 2 arguments, 16 + 16 + 1 sums and 16 + 16 relus; none for the 2*16 + 16*16 + 16 products.
    assert max(g.stop for g in c.tape.batch_groups()) == 2 + 33 + 32


def test_linear_bias_free_layer_is_grouped() -> None:
    rng = random.Random(2)
    W = _weights(rng, 4, 3)

    def f(*x: Value) -> Value:
        hs = []
        for row in W:
            act = row[0] * x[0]
            for w, xi in zip(row[1:], x[1:]):
                act = act + w * xi
            hs.append(act.tanh())
        return hs[0] + hs[1] * hs[2] - hs[3]

    c = _check_batch(f, _data(7, 3, 1), [w for row in W for w in row])
    (g,) = _linear_groups(c)
    assert len(g.bias_row) == 0 and (g.stop - g.start, g.k) == (4, 3)


def test_linear_sum_written_neuron_is_grouped() -> None:
    rng = random.Random(3)
    W = _weights(rng, 3, 4)
    b = [Value(rng.uniform(-1, 1)) for _ in range(3)]

    def f(*x: Value) -> Value:
        # sum() starts from the int 0: the chain has a constant 0 and the bias b as its non-varying leaves.
        hs = [(sum(w * xi for w, xi in zip(row, x)) + bi).relu() for row, bi in zip(W, b)]
        return hs[0] * hs[1] + hs[2]

    c = _check_batch(f, _data(11, 4, 2), [w for row in W for w in row] + b)
    (g,) = _linear_groups(c)
    assert list(g.bias_row) == [0, 0, 1, 1, 2, 2]


def test_linear_reversed_operand_order_is_grouped() -> None:
    rng = random.Random(4)
    W = _weights(rng, 4, 3)
    b = [Value(rng.uniform(-1, 1)) for _ in range(4)]

    def f(*x: Value) -> Value:
        hs = []
        for i, (row, bi) in enumerate(zip(W, b)):
            terms = [xi * w if (i + j) % 2 else w * xi for j, (w, xi) in enumerate(zip(row, x))]
            if i % 2:  # bias first: b + ..., and a right fold
                act = bi + (terms[0] + (terms[1] + terms[2]))
            else:  # bias last: ... + b
                act = terms[0] + terms[1] + terms[2] + bi
            hs.append(act.sigmoid())
        return hs[0] * hs[1] + hs[2] * hs[3]

    c = _check_batch(f, _data(8, 3, 3), [w for row in W for w in row] + b)
    (g,) = _linear_groups(c)
    assert (g.stop - g.start, g.k) == (4, 3)


def test_linear_fan_out_partial_sum_keeps_its_row() -> None:
    rng = random.Random(5)
    w = [Value(rng.uniform(-1, 1)) for _ in range(8)]

    def f(x1: Value, x2: Value, x3: Value, x4: Value) -> Value:
        xs = [x1, x2, x3, x4]
        partial = w[0] * x1 + w[1] * x2 + w[2] * x3 + w[3] * x4  # used twice below
        full = partial + w[4] * x1 + w[5] * x2
        other = w[6] * x3 + w[7] * x4 + w[0] * xs[0] + w[1] * xs[1]
        return full.tanh() * partial + other.sin()

    c = _check_batch(f, _data(10, 4, 4), w)
    chains, swallowed = find_chains(c.tape)
    roots = sorted(chains)
    partial_root = roots[0]
    # The partial sum is a chain root (it has a row); the sum using it stays elementwise, not a chain.
    assert partial_root not in swallowed and len(chains[partial_root].terms) == 4
    assert [len(chains[r].terms) for r in roots] == [4, 4]
    assert all(s not in swallowed for s in c.tape.outputs)


def test_linear_repeated_weight_and_repeated_input_add_up() -> None:
    rng = random.Random(6)
    w = [Value(rng.uniform(-1, 1)) for _ in range(3)]

    def f(x1: Value, x2: Value) -> Value:
        a = w[0] * x1 + w[1] * x2 + w[2] * x1 + w[0] * x2  # x1 twice, w[0] twice
        b = w[1] * x1 + x2 * w[2] + w[1] * x1 + 0.5 * x2
        return a * b + a.exp()

    c = _check_batch(f, _data(9, 2, 5), w)
    (g,) = _linear_groups(c)
    assert g.dup


def test_linear_product_of_two_varying_slots_and_mixed_sums_stay_elementwise() -> None:
    rng = random.Random(7)
    w = [Value(rng.uniform(-1, 1)) for _ in range(4)]

    def f(x1: Value, x2: Value, x3: Value) -> Value:
        quad = x1 * x2 + x2 * x3 + x1 * x3 + x3 * x3  # products of two varying slots
        mixed = w[0] * x1 + x2.tanh() + w[1] * x3 + w[2] * x2 + x1.sin() + w[3] * x1
        return quad * mixed

    c = _check_batch(f, _data(12, 3, 6), w)
    chains, _ = find_chains(c.tape)
    # Only the pure prefix "w0*x1" of the mixed sum could be a chain, and one term is below MIN_TERMS.
    assert chains == {} and _linear_groups(c) == []


def test_linear_elementwise_graph_gets_no_linear_group() -> None:
    f = lambda x, y: ((x * y).tanh() + (x - y).exp() * x.sigmoid() + 2.0 * x + 1.0).log()
    data = np.abs(_data(9, 2, 7)) + 0.1
    c = _check_batch(f, data, [])
    assert _linear_groups(c) == []


def test_linear_min_terms_leaves_small_groups_elementwise() -> None:
    w = [Value(0.5), Value(-0.25)]
    small = lambda x, y: (w[0] * x + w[1] * y + 1.0).tanh()  # 2 terms
    big = lambda x, y: (w[0] * x + w[1] * y + 1.0).tanh() * (w[1] * x + w[0] * y).tanh()  # 2 chains, 4 terms
    assert linear_mod.MIN_TERMS == 4
    assert _linear_groups(_check_batch(small, _data(5, 2), w)) == []
    assert len(_linear_groups(_check_batch(big, _data(5, 2), w))) == 1


# --------------------------------------------------------------------------
# Every op, random DAGs and the losses, around linear layers
# --------------------------------------------------------------------------


def _point(rng: np.random.Generator, intervals: Any) -> float:
    lo, hi = intervals[int(rng.integers(len(intervals)))]
    return float(rng.uniform(lo, hi))


@pytest.mark.parametrize("name", BUILTIN)
def test_linear_every_op_between_linear_layers_matches_eager(name: str) -> None:
    spec = ops.get(name)
    rng = np.random.default_rng(BUILTIN.index(name))
    ctx = tuple(_point(rng, d) for d in spec.param_domain)
    apply = applier(spec)
    r = random.Random(BUILTIN.index(name))
    # A linear layer after the op (its inputs stay in the op's domain), and one before it that feeds the
    # op's first operand through a tiny-weight sum near a domain point, so both sides of the group see the op.
    W = _weights(r, 3, 4)
    centre = [_point(rng, d) for d in spec.domain]
    v = [Value(r.uniform(-0.01, 0.01)) for _ in range(4)]

    def f(*x: Value) -> Value:
        near = centre[0] + v[0] * x[0] + v[1] * x[1] + v[2] * x[2] + v[3] * x[3]
        us = [apply(x[0], *x[1 : spec.arity], *ctx), apply(near, *x[1 : spec.arity], *ctx)]
        us += [apply(*x[i : i + spec.arity], *ctx) for i in (1, 2)]
        return sum((row[0] * us[0] + row[1] * us[1] + row[2] * us[2] + row[3] * us[3]).tanh() for row in W)

    data = np.array([[_point(rng, spec.domain[j % spec.arity]) for j in range(4)] for _ in range(10)])
    c = _check_batch(f, data, [w for row in W for w in row] + v)
    assert len(_linear_groups(c)) == 2


@settings(max_examples=25)
@given(expressions(max_inputs=3, max_ops=10, op_names=BUILTIN))
def test_linear_drawn_expressions_under_a_linear_layer_match_eager(e: Any) -> None:
    rng = random.Random(len(e.inputs))
    n = len(e.inputs)
    W = _weights(rng, 3, n + 1)
    b = [Value(rng.uniform(-1, 1)) for _ in range(3)]

    def f(*x: Value) -> Value:
        hidden = [e.fn(*x), *x]
        outs = [sum((w * h for w, h in zip(row, hidden)), bi) for row, bi in zip(W, b)]
        return outs[0] * outs[1] + outs[2]

    params = [w for row in W for w in row] + b
    c = compile(f, e.inputs, params=params)
    assert len(_linear_groups(c)) == 1
    v, ga, pg = _eager(f, e.inputs, params)
    batch = [np.array([x, x]) for x in e.inputs]
    out, ga_b, pg_b = c.forward_backward(*batch)
    scale = max(1.0, abs(v))
    _close(out, [v, v], scale=scale)
    _close([g[1] for g in ga_b], ga, scale=max(1.0, float(np.max(np.abs(ga)))))
    _close(pg_b, 2 * np.array(pg), scale=max(1.0, float(np.max(np.abs(pg)))))


@pytest.mark.parametrize("seed", range(4))
def test_linear_random_mlps_with_shared_inputs_match_eager(seed: int) -> None:
    rng = random.Random(seed)
    act = rng.choice(["relu", "tanh", "sigmoid", "leaky_relu", "elu", "softplus"])
    sizes = [rng.randint(2, 7) for _ in range(rng.randint(1, 3))] + [1]
    model = MLP(3, sizes, activation=act, rng=rng) if act != "softplus" else MLP(3, sizes, rng=rng)
    skip = [Value(rng.uniform(-1, 1)) for _ in range(3)]

    def f(*x: Value) -> Value:
        # A skip connection: the model's output plus a linear term of the inputs (a mixed sum).
        return model(list(x))[0] + skip[0] * x[0] + skip[1] * x[1] * x[2] + skip[2]

    _check_batch(f, _data(13, 3, seed), list(model.parameters()) + skip)


@pytest.mark.parametrize("kind", LOSS_KINDS)
def test_linear_losses_on_an_mlp_match_eager(kind: str) -> None:
    nout = 3 if kind == "cross_entropy" else 1
    model = MLP(2, [6, nout], activation="tanh", output_activation="sigmoid" if kind == "bce" else "linear", rng=3)
    rng = np.random.default_rng(9)
    X = rng.normal(size=(15, 2))
    if kind == "cross_entropy":
        y = rng.integers(0, 3, size=15).astype(float)
    elif kind == "hinge":
        y = np.where(rng.random(15) > 0.5, 1.0, -1.0)
    elif kind in ("bce", "bce_with_logits"):
        y = (rng.random(15) > 0.5).astype(float)
    else:
        y = rng.normal(size=15)
    cl = compile_loss(model, kind, 2, l1=1e-2, l2=1e-3)
    assert len(_linear_groups(cl.compiled)) == 2
    params = list(model.parameters())

    def per_sample(*a: Value) -> Value:
        outs = model(list(a[:2]))
        total = losses.LOSSES[kind](outs if isinstance(outs, list) else [outs], list(a[2:]))
        return total + 1e-2 * sum(abs(p) for p in params) + 1e-3 * sum(p * p for p in params)

    args = cl.args(X, y)
    per = [_eager(per_sample, list(row), params) for row in zip(*args)]
    value, grads = cl.value_and_grad(X, y)
    for p in params:
        p.grad = 0.0
    _close(value, np.mean([v for v, _, _ in per]))
    pgs = np.array([pg for _, _, pg in per])
    _close(grads, pgs.mean(axis=0), scale=np.abs(pgs).mean(axis=0))


# --------------------------------------------------------------------------
# The fixed part (penalties) and memory
# --------------------------------------------------------------------------


def test_fixed_penalty_sum_is_one_reduction_and_matches_eager() -> None:
    from autograd_core.fixed import SumGroup

    ps = [Value(0.1 * i - 0.7) for i in range(30)]

    def f(x: Value) -> Value:
        pen = ps[0] * ps[0]
        for p in ps[1:]:
            pen = pen + p * p
        l1 = sum(abs(p) for p in ps)
        return x * x.tanh() + 1e-2 * pen + 3e-3 * l1 + pen.sqrt() * x

    c = _check_batch(f, _data(6, 1), ps)
    sums = [g for g in c.tape.fixed_groups() if isinstance(g, SumGroup)]
    assert [len(g.out) for g in sums] == [2]  # both penalties at one level: one reduction call


def _peak_bytes(c: Any, data: np.ndarray) -> int:
    args = list(data.T)
    c.forward_backward(*args)
    tracemalloc.start()
    try:
        c.forward_backward(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_linear_batch_replay_allocates_no_params_by_samples_array(monkeypatch: pytest.MonkeyPatch) -> None:
    model = MLP(2, [32, 32, 1], rng=random.Random(8))
    params = list(model.parameters())
    n = 3000
    data = _data(n, 2)
    params_by_samples = len(params) * n * 8  # 1,185 params: 28 MB
    c = compile(lambda *x: model(list(x))[0], [0.1, 0.2], params=params)
    grouped = _peak_bytes(c, data)
    # Activations: 2 + 4 * 32 + 1 rows (inputs, two layers' sums and relus, output), values and gradients.
    activations = 2 * (2 + 4 * 32 + 1) * n * 8
    assert grouped < 1.5 * activations < params_by_samples / 2, (grouped, activations, params_by_samples)
    # The same replay without linear groups holds every product as a row: the measure sees it.
    monkeypatch.setattr(linear_mod, "MIN_TERMS", 10**9)
    c_old = compile(lambda *x: model(list(x))[0], [0.1, 0.2], params=params)
    assert _linear_groups(c_old) == []
    assert _peak_bytes(c_old, data) > params_by_samples


# --------------------------------------------------------------------------
# Bad input on a grouped tape: the errors of every compiled function
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "exc", "match"),
    [
        ((np.zeros(3), np.zeros(4)), ValueError, "unequal length"),
        ((np.zeros((3, 2)), np.zeros(3)), ValueError, "shape"),
        ((np.array(["1", "2"]), np.zeros(2)), TypeError, "strings"),
        ((np.array([1, None], dtype=object), np.zeros(2)), TypeError, "NoneType"),
    ],
)
def test_linear_bad_batches_raise_the_usual_errors(args: Any, exc: type, match: str) -> None:
    model = MLP(2, [4, 1], rng=random.Random(9))
    c = compile(lambda *x: model(list(x))[0], [0.1, 0.2], params=list(model.parameters()))
    assert _linear_groups(c)
    with pytest.raises(exc, match=match):
        c(*args)


def test_linear_integer_batches_give_the_float_results() -> None:
    model = MLP(2, [4, 1], rng=random.Random(10))
    c = compile(lambda *x: model(list(x))[0], [0.1, 0.2], params=list(model.parameters()))
    ints = np.array([[1, -2], [3, 0], [-1, 2]])
    _close(c(*ints.T), c(*ints.T.astype(float)))
    _close(c(*ints.T), [c(float(a), float(b)) for a, b in ints])


def test_linear_reused_matrices_do_not_leak_between_replays() -> None:
    model = MLP(2, [5, 1], rng=random.Random(11))
    params = list(model.parameters())
    c = compile(lambda *x: model(list(x))[0], [0.1, 0.2], params=params)
    big, small = _data(7, 2, 1), _data(3, 2, 2)
    first = c.forward_backward(*big.T)
    # Interleaved sizes and calls: each replay starts from clean matrices, whichever it is handed.
    c(*small.T)
    c.forward_backward(*small.T)
    again = c.forward_backward(*big.T)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    _close(c.forward_backward(*small.T)[0], [c(float(a), float(b)) for a, b in small])
    # The returned arrays are copies: the next replay does not overwrite them.
    out = c(*big.T)
    kept = out.copy()
    c(*(big.T * 2.0))
    np.testing.assert_array_equal(out, kept)


def test_linear_group_keeps_a_lone_negative_zero_gradient_elsewhere() -> None:
    # The layer's weight gradients go into T next to v's; adding them must not turn v's lone -0.0 into +0.0.
    rng = random.Random(5)
    (row,) = _weights(rng, 1, 4)
    v = Value(2.0)

    def f(*x: Value) -> Value:
        return sum((w * xi for w, xi in zip(row, x)), v * -0.0)

    c = compile(f, [0.1, 0.2, 0.3, 0.4], params=[*row, v])
    assert len(_linear_groups(c)) == 1
    _, _, pg = c.forward_backward(*_data(3, 4).T)
    _, _, eager = _eager(f, [0.1, 0.2, 0.3, 0.4], [*row, v])
    assert (pg[-1], np.signbit(pg[-1])) == (0.0, True)
    assert np.signbit(eager[-1])


def test_fixed_sum_of_negative_zeros_is_negative_zero_as_the_fold() -> None:
    ws = [Value(-0.0) for _ in range(5)]
    c = compile(lambda x: x + sum(ws[1:], ws[0]), [1.0], params=ws)
    value = c(np.array([-0.0, -0.0]))
    assert list(np.signbit(value)) == [True, True]
    assert np.signbit(sum(ws[1:], ws[0]).data)
