"""autograd_core.compat.micrograd runs micrograd's own examples with only their imports changed.

The README example, the training loop of ``demo.ipynb`` and ``trace()``/``draw_dot()``
of ``trace_graph.ipynb`` are karpathy/micrograd's code as written (MIT licence,
Copyright (c) 2020 Andrej Karpathy), quoted here with their import lines changed.
The demo's dataset comes from ``nn.data.make_moons`` instead of sklearn's, and is
smaller so that its 100 steps take seconds.  Where micrograd itself is installed
(a dev extra), results are compared with it number for number.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys

import numpy as np
import pytest
from graphviz import Digraph

import autograd_core
from autograd_core.compat import micrograd as compat
from autograd_core.compat.micrograd.engine import Value
from autograd_core.compat.micrograd.nn import MLP, Layer, Neuron


def _reference():
    """The real micrograd package, to compare with; its absence fails in CI (it is a dev extra)."""
    try:
        import micrograd.engine
        import micrograd.nn
    except ImportError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("micrograd is not installed (pip install micrograd==0.1.0, a dev extra)")
    return micrograd


# -- micrograd's README example -------------------------------------------------------


def _readme_example(Value):  # noqa: N803 - the example's own name
    # micrograd's README "Example usage", as written (its import line is the parameter).
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    print(f"{g.data:.4f}")  # prints 24.7041, the outcome of this forward pass
    g.backward()
    print(f"{a.grad:.4f}")  # prints 138.8338, i.e. the numerical value of dg/da
    print(f"{b.grad:.4f}")  # prints 645.5773, i.e. the numerical value of dg/db
    return a, b, g


def test_compat_readme_example_prints_micrograds_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    _readme_example(Value)
    assert capsys.readouterr().out.split() == ["24.7041", "138.8338", "645.5773"]


def test_compat_readme_example_matches_micrograd_exactly() -> None:
    mg = _reference()
    ours, theirs = _readme_example(Value), _readme_example(mg.engine.Value)
    for o, t in zip(ours, theirs):
        assert o.data == pytest.approx(t.data, rel=1e-14) and o.grad == pytest.approx(t.grad, rel=1e-14)


# -- the Value API ----------------------------------------------------------------------


def test_compat_value_ops_give_compat_values_with_micrograds_op_strings() -> None:
    a, b = Value(3.0), Value(-2.0)
    cases = {
        "+": [a + b, a + 1, 1 + a, np.float64(1.5) + a, a - b, 2 - a],
        "*": [a * b, a * 2, 2 * a, np.int64(-1) * a, -a, a / b, 4.0 / a],
        "**2": [a**2],
        "**-1": [a**-1],
        "**0.5": [a**0.5],
        "ReLU": [b.relu()],
    }
    for op, results in cases.items():
        for r in results:
            assert type(r) is Value, (op, r)
            assert r._op == op
            assert type(r.node) is autograd_core.Value
    assert Value(1.0)._op == ""


def test_compat_value_prev_is_the_set_of_operands() -> None:
    a, b = Value(3.0), Value(-2.0)
    c = a * b
    assert isinstance(c._prev, set) and c._prev == {a, b}
    assert a._prev == set()
    # A number operand becomes a leaf of its own, as in micrograd.
    (k,) = (a * 5)._prev - {a}
    assert type(k) is Value and k.data == 5.0
    # -a is a * -1: two children, the constant among them.
    assert sorted(v.data for v in (-a)._prev) == [-1.0, 3.0]
    # x ** 2 has one child.
    assert (a**2)._prev == {a}


def test_compat_value_repr_is_micrograds() -> None:
    v = Value(2.5)
    assert repr(v) == "Value(data=2.5, grad=0.0)"
    (v * v).backward()
    assert repr(v) == "Value(data=2.5, grad=5.0)"


def test_compat_value_data_and_grad_read_and_write_the_node() -> None:
    v = Value(1.0)
    v.data -= 0.25
    v.grad = 3
    assert v.node.data == 0.75 and v.node.grad == 3.0 and type(v.grad) is float
    with pytest.raises(TypeError, match="Value.data must be a real number"):
        v.data = "1"
    with pytest.raises(TypeError, match="Value.grad must be a real number"):
        v.grad = None


def test_compat_value_gradients_are_the_engines() -> None:
    def f(a, b):
        return (a * b + a**3).relu() + (b - a) / (a * a + 1)

    x, y = Value(1.2), Value(-1.3)
    f(x, y).backward()
    ref = autograd_core.Value(1.2), autograd_core.Value(-1.3)
    f(*ref).backward()
    assert (x.grad, y.grad) == (ref[0].grad, ref[1].grad)
    assert x.grad != 0 and y.grad != 0
    assert autograd_core.gradcheck(f, [1.2, -1.3])


def test_compat_value_backward_handles_deep_graphs() -> None:
    # micrograd's recursive topological sort stops near 1000 nested ops; this engine's pass is iterative.
    x = Value(1.0)
    y = x
    for _ in range(20_000):
        y = y + x
    y.backward()
    assert y.data == 20_001.0 and x.grad == 20_001.0


def test_compat_value_rejects_what_micrograd_cannot_do() -> None:
    with pytest.raises(TypeError, match="int or float power"):
        Value(2.0) ** Value(3.0)
    with pytest.raises(NotImplementedError, match="autograd_core.register"):
        Value(1.0, (Value(2.0),), "tanh")
    with pytest.raises(TypeError, match="real number"):
        Value("1.0")
    with pytest.raises(TypeError, match="real number"):
        Value(1.0) + "a"
    with pytest.raises(TypeError, match="cannot combine an autograd_core.Value"):
        Value(1.0) + autograd_core.Value(2.0)


# -- the nn API ---------------------------------------------------------------------------


def test_compat_neuron_draws_weights_from_the_global_rng() -> None:
    random.seed(1337)
    n = Neuron(3)
    random.seed(1337)
    assert [w.data for w in n.w] == [random.uniform(-1, 1) for _ in range(3)]
    assert n.b.data == 0.0 and n.parameters() == n.w + [n.b]


def test_compat_neuron_weights_match_micrograds_for_the_same_seed() -> None:
    mg = _reference()
    random.seed(7)
    ours = MLP(3, [4, 2])
    random.seed(7)
    theirs = mg.nn.MLP(3, [4, 2])
    assert [p.data for p in ours.parameters()] == [p.data for p in theirs.parameters()]
    x = [0.5, -1.0, 2.0]
    assert [o.data for o in ours(x)] == pytest.approx([o.data for o in theirs(x)], rel=1e-15)


def test_compat_layers_return_a_value_for_one_output_and_a_list_otherwise() -> None:
    random.seed(0)
    assert type(Layer(2, 1)([1.0, 2.0])) is Value
    out = Layer(2, 3)([1.0, 2.0])
    assert type(out) is list and len(out) == 3 and all(type(o) is Value for o in out)
    assert type(MLP(2, [3, 1])([1.0, 2.0])) is Value


def test_compat_neuron_nonlin_chooses_relu_or_linear() -> None:
    random.seed(0)
    relu, linear = Neuron(1), Neuron(1, nonlin=False)
    relu.w[0].data = linear.w[0].data = -1.0
    assert relu([2.0]).data == 0.0 and relu([2.0])._op == "ReLU"
    assert linear([2.0]).data == -2.0 and linear([2.0])._op == "+"


def test_compat_reprs_are_micrograds() -> None:
    random.seed(0)
    assert repr(Neuron(2)) == "ReLUNeuron(2)" and repr(Neuron(2, nonlin=False)) == "LinearNeuron(2)"
    assert repr(Layer(3, 2)) == "Layer of [ReLUNeuron(3), ReLUNeuron(3)]"
    assert repr(MLP(2, [2, 1])) == "MLP of [Layer of [ReLUNeuron(2), ReLUNeuron(2)], Layer of [LinearNeuron(2)]]"


def test_compat_zero_grad_resets_every_parameter() -> None:
    random.seed(0)
    model = MLP(2, [3, 1])
    model([1.0, -1.0]).backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0 for p in model.parameters())


def test_compat_nn_rejects_bad_arguments() -> None:
    random.seed(0)
    with pytest.raises(ValueError, match="takes 2 inputs, got 3"):
        Neuron(2)([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="list of 2 inputs"):
        Neuron(2)(1.0)
    with pytest.raises(TypeError, match="nin must be an int"):
        Neuron(2.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="nout must be at least 1"):
        Layer(2, 0)
    with pytest.raises(TypeError, match="non-empty list"):
        MLP(2, [])


def test_compat_package_imports_neither_nn_nor_viz() -> None:
    code = "import sys, autograd_core.compat.micrograd; print(sorted({'nn', 'viz'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    assert compat.Value is Value and compat.nn.MLP is MLP


# -- micrograd's demo.ipynb ----------------------------------------------------------------


def _demo(Value, MLP, n_samples, steps):  # noqa: N803 - the notebook's own names
    """demo.ipynb's cells as written, except imports and the dataset (nn.data.make_moons, not sklearn's).

    Returns the printed lines and the model.  ``steps`` is 100 in the notebook.
    """
    import nn

    np.random.seed(1337)
    random.seed(1337)

    X, y = nn.data.make_moons(n_samples, noise=0.1, seed=0)
    y = y * 2 - 1  # make y be -1 or 1

    # initialize a model
    model = MLP(2, [16, 16, 1])  # 2-layer neural network
    lines = [str(model), f"number of parameters {len(model.parameters())}"]

    # loss function
    def loss(batch_size=None):
        # inline DataLoader :)
        if batch_size is None:
            Xb, yb = X, y
        else:
            ri = np.random.permutation(X.shape[0])[:batch_size]
            Xb, yb = X[ri], y[ri]
        inputs = [list(map(Value, xrow)) for xrow in Xb]

        # forward the model to get scores
        scores = list(map(model, inputs))

        # svm "max-margin" loss
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(yb, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        # L2 regularization
        alpha = 1e-4
        reg_loss = alpha * sum(p * p for p in model.parameters())
        total_loss = data_loss + reg_loss

        # also get accuracy
        accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(yb, scores)]
        return total_loss, sum(accuracy) / len(accuracy)

    # optimization
    for k in range(steps):
        # forward
        total_loss, acc = loss()

        # backward
        model.zero_grad()
        total_loss.backward()

        # update (sgd)
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad

        if k % 1 == 0:
            lines.append(f"step {k} loss {total_loss.data}, accuracy {acc*100}%")
    return lines, model


def test_compat_demo_training_loop_runs_and_fits_the_moons() -> None:
    lines, model = _demo(Value, MLP, n_samples=12, steps=100)
    assert lines[0].startswith("MLP of [Layer of [ReLUNeuron(2), ") and lines[0].endswith("[LinearNeuron(16)]]")
    assert lines[1] == "number of parameters 337"
    steps = lines[2:]
    assert len(steps) == 100 and steps[0].startswith("step 0 loss ")
    first, last = (float(s.split()[3].rstrip(",")) for s in (steps[0], steps[-1]))
    assert last < first / 5, (steps[0], steps[-1])
    assert steps[-1].endswith("accuracy 100.0%"), steps[-1]


def test_compat_demo_training_matches_micrograd_step_for_step() -> None:
    mg = _reference()
    ours, our_model = _demo(Value, MLP, n_samples=16, steps=3)
    theirs, their_model = _demo(mg.engine.Value, mg.nn.MLP, n_samples=16, steps=3)
    assert ours[:2] == theirs[:2]
    for o, t in zip(ours[2:], theirs[2:]):
        (lo, ao), (lt, at) = ((float(s.split()[3].rstrip(",")), s.split()[-1]) for s in (o, t))
        assert lo == pytest.approx(lt, rel=1e-12) and ao == at
    for p, q in zip(our_model.parameters(), their_model.parameters()):
        assert p.data == pytest.approx(q.data, rel=1e-11, abs=1e-14)


# -- micrograd's trace_graph.ipynb ---------------------------------------------------------


def trace(root):
    # trace_graph.ipynb's trace(), as written: builds a set of all nodes and edges in a graph
    nodes, edges = set(), set()

    def build(v):
        if v not in nodes:
            nodes.add(v)
            for child in v._prev:
                edges.add((child, v))
                build(child)

    build(root)
    return nodes, edges


def draw_dot(root, format="svg", rankdir="LR"):
    # trace_graph.ipynb's draw_dot(), as written
    """
    format: png | svg | ...
    rankdir: TB (top to bottom graph) | LR (left to right)
    """
    assert rankdir in ["LR", "TB"]
    nodes, edges = trace(root)
    dot = Digraph(format=format, graph_attr={"rankdir": rankdir})  # , node_attr={'rankdir': 'TB'})

    for n in nodes:
        dot.node(name=str(id(n)), label="{ data %.4f | grad %.4f }" % (n.data, n.grad), shape="record")  # noqa: UP031
        if n._op:
            dot.node(name=str(id(n)) + n._op, label=n._op)
            dot.edge(str(id(n)) + n._op, str(id(n)))

    for n1, n2 in edges:
        dot.edge(str(id(n1)), str(id(n2)) + n2._op)

    return dot


def _neuron_example(Value, nn):  # noqa: N803 - the notebook's own names
    # trace_graph.ipynb's "a simple 2D neuron", as written except the import of nn (a parameter here)
    random.seed(1337)
    n = nn.Neuron(2)
    x = [Value(1.0), Value(-2.0)]
    y = n(x)
    y.backward()

    dot = draw_dot(y)
    return y, dot


def _summary(root):
    """What a drawing shows, without the id()s: each node's label and op, each edge's endpoints."""
    nodes, edges = trace(root)

    def key(n):
        return (f"{n.data:.4f}", f"{n.grad:.4f}", n._op)

    return sorted(key(n) for n in nodes), sorted((key(a), key(b)) for a, b in edges)


def test_compat_trace_graph_simple_example_draws_micrograds_graph() -> None:
    # trace_graph.ipynb's "a very simple example", as written
    x = Value(1.0)
    y = (x * 2 + 1).relu()
    y.backward()
    dot = draw_dot(y)
    nodes, edges = trace(y)
    assert sorted(n._op for n in nodes) == ["", "", "", "*", "+", "ReLU"]
    assert len(edges) == 5
    assert "{ data 3.0000 | grad 1.0000 }" in dot.source and "{ data 1.0000 | grad 2.0000 }" in dot.source
    assert dot.source.count("->") == 5 + 3  # an edge per graph edge and one per op node


def test_compat_trace_graph_neuron_example_matches_micrograd() -> None:
    y, dot = _neuron_example(Value, compat.nn)
    assert y._op == "ReLU" and "label=ReLU" in dot.source
    nodes, _ = trace(y)
    assert len(nodes) == 10  # five leaves (x0, x1, w0, w1, b), two products, two sums, the relu
    mg = _reference()
    import micrograd.nn as micrograd_nn

    theirs, _ = _neuron_example(mg.engine.Value, micrograd_nn)
    assert _summary(y) == _summary(theirs)
