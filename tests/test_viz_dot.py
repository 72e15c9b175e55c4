"""Tests of ``viz.draw_dot``: deterministic, escaped DOT source; params, clusters, colours, limits."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import graphviz
import pytest

from autograd_core import Value, grad
from viz import draw_dot, escape_record, layer_prefix, neuron_prefix, trace

SNAPSHOTS = Path(__file__).parent / "snapshots"
ROOT = Path(__file__).resolve().parents[1]


def lecture_graph() -> Value:
    """(x + y) * z at x=1, y=-3, z=4 (lecture 05), after backward()."""
    x, y, z = Value(1.0, "x"), Value(-3.0, "y"), Value(4.0, "z")
    q = x + y
    q.label = "q"
    f = q * z
    f.label = "f"
    f.backward()
    return f


def test_draw_dot_matches_snapshot() -> None:
    source = draw_dot(lecture_graph()).source
    assert source == (SNAPSHOTS / "lecture_xyz.dot").read_text(encoding="utf-8")


def test_draw_dot_same_source_in_another_process() -> None:
    # A fresh interpreter with another hash seed allocates every object elsewhere.
    code = (
        "import sys; sys.path.insert(0, 'tests'); from test_viz_dot import lecture_graph; "
        "from viz import draw_dot; sys.stdout.write(draw_dot(lecture_graph()).source)"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout == draw_dot(lecture_graph()).source


def test_draw_dot_one_record_per_value_and_one_node_per_op() -> None:
    f = lecture_graph()
    src = draw_dot(f).source
    assert len(re.findall(r"shape=record", src)) == 5  # x, y, z, q, f
    assert re.findall(r'v\d+op \[label="?([^" ]+)"?', src) == ["+", "*"]
    assert "{ f | data -8 | grad 1 }" in src
    assert "{ z | data 4 | grad -2 }" in src
    # edges: inputs into the op, the op into its result, in topological order
    assert re.findall(r"(v\w+) -> (v\w+)", src) == [
        ("v0", "v2op"),
        ("v1", "v2op"),
        ("v2op", "v2"),
        ("v2", "v4op"),
        ("v3", "v4op"),
        ("v4op", "v4"),
    ]


def test_draw_dot_show_grad_false_omits_grad_field() -> None:
    src = draw_dot(lecture_graph(), show_grad=False).source
    assert "| grad" not in src and "{ f | data -8 }" in src


def test_draw_dot_op_labels_come_from_registry() -> None:
    x = Value(0.5, "x")
    src = draw_dot((x**2).sigmoid().leaky_relu(0.1)).source
    for label in ("**2", "σ", "leaky_relu(0.1)"):
        assert f'label="{label}"' in src


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [("a{b}", r"a\{b\}"), ("p|q", r"p\|q"), ("<x>", r"\<x\>"), ('say "hi"', r"say \"hi\""), ("a\\b", r"a\\b")],
)
def test_escape_record_escapes_structural_characters(raw: str, escaped: str) -> None:
    assert escape_record(raw) == escaped


def test_draw_dot_escapes_labels_in_source() -> None:
    v = Value(2.0, 'w{0}|<in> "q" \\')
    src = draw_dot(v * 3).source
    assert r"{ w\{0\}\|\<in\> \"q\" \\ | data 2 | grad 0 }" in src


def test_draw_dot_graph_of_a_gradient() -> None:
    x = Value(2.0, "x")
    (g,) = grad(x**3, [x], create_graph=True)  # 3 * x**2
    src = draw_dot(g).source
    assert "data 12" in src and 'label="**2"' in src and 'label="*"' in src


class TinyNet:
    """Two layers of named parameters, in the dotted style of nn (``layers.0.neurons.1.w.0``)."""

    def __init__(self) -> None:
        self.w0 = [[Value(0.5), Value(-0.5)], [Value(1.0), Value(2.0)]]
        self.w1 = [Value(1.5), Value(-1.0)]

    def named_parameters(self) -> list[tuple[str, Value]]:
        out = [(f"layers.0.neurons.{j}.w.{i}", w) for j, ws in enumerate(self.w0) for i, w in enumerate(ws)]
        return out + [(f"layers.1.neurons.0.w.{j}", w) for j, w in enumerate(self.w1)]

    def __call__(self, x: list[Value]) -> list[Value]:
        h = [(ws[0] * x[0] + ws[1] * x[1]).tanh() for ws in self.w0]
        return [self.w1[0] * h[0] + self.w1[1] * h[1]]


def _clusters(src: str) -> dict[str, str]:
    """{cluster label: the DOT text of its block} (blocks nest in neuron mode)."""
    out = {}
    for m in re.finditer(r"subgraph (cluster_[\d_]+) \{", src):
        depth, i = 1, m.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(src[i], 0) if src[i - 1] != "\\" else 0
            i += 1
        block = src[m.end() : i]
        label = re.search(r'label="([^"]*)"', block)
        assert label is not None
        out[label.group(1)] = block
    return out


def _node_id(src: str, text: str) -> str:
    m = re.search(r"(v\d+) \[label=\"\{ " + re.escape(text), src)
    assert m is not None, text
    return m.group(1)


def test_draw_dot_params_mark_parameters_by_name() -> None:
    net = TinyNet()
    out = net([Value(1.0, "x0"), Value(2.0, "x1")])[0]
    src = draw_dot(out, params=net.named_parameters()).source
    assert src.count("penwidth=2") == 6
    assert "{ layers.1.neurons.0.w.1 | data -1 |" in src
    with pytest.raises(TypeError, match="pairs"):
        draw_dot(out, params=[("w", 1.0)])  # type: ignore[list-item]


def test_draw_dot_cluster_layer_groups_by_layer_prefix() -> None:
    net = TinyNet()
    x0, x1 = Value(1.0, "x0"), Value(2.0, "x1")
    out = net([x0, x1])[0]
    out.label = "out"
    src = draw_dot(out, params=dict(net.named_parameters()), cluster="layer").source
    blocks = _clusters(src)
    assert list(blocks) == ["layers.0", "layers.1"]
    w000 = _node_id(src, "layers.0.neurons.0.w.0")
    w10 = _node_id(src, "layers.1.neurons.0.w.0")
    x_id = _node_id(src, "x0")
    out_id = _node_id(src, "out")
    assert f"{w000} [" in blocks["layers.0"] and f"{w10} [" in blocks["layers.1"]
    assert f"{out_id} [" in blocks["layers.1"] and f"{out_id}op [" in blocks["layers.1"]
    assert x_id + " [" not in blocks["layers.0"] + blocks["layers.1"]  # data stays outside
    # the tanh of layer 0 is in layer 0; its product with a layer-1 weight is in layer 1
    nodes = trace(out).nodes
    tanh_ids = [f"v{i}" for i, v in enumerate(nodes) if v.op == "tanh"]
    assert all(f"{t} [" in blocks["layers.0"] for t in tanh_ids)


def test_draw_dot_cluster_neuron_nests_neurons_in_layers() -> None:
    net = TinyNet()
    out = net([Value(1.0, "x0"), Value(2.0, "x1")])[0]
    src = draw_dot(out, params=net.named_parameters(), cluster="neuron").source
    blocks = _clusters(src)
    assert list(blocks) == ["layers.0", "layers.0.neurons.0", "layers.0.neurons.1", "layers.1", "layers.1.neurons.0"]
    assert blocks["layers.0.neurons.1"] in blocks["layers.0"]
    w01 = _node_id(src, "layers.0.neurons.1.w.1")
    assert f"{w01} [" in blocks["layers.0.neurons.1"] and f"{w01} [" not in blocks["layers.0.neurons.0"]


def test_draw_dot_cluster_needs_params() -> None:
    with pytest.raises(ValueError, match="named_parameters"):
        draw_dot(lecture_graph(), cluster="layer")


def test_layer_and_neuron_prefixes() -> None:
    assert layer_prefix("layers.0.neurons.3.w.1") == "layers.0"
    assert neuron_prefix("layers.0.neurons.3.w.1") == "layers.0.neurons.3"
    assert neuron_prefix("layers.2.weight") == "layers.2"
    assert layer_prefix("bias") == "bias"


def test_draw_dot_color_by_grad_shades_by_magnitude() -> None:
    a, b = Value(1.0, "a"), Value(1e-9, "b")
    c = Value(3.0, "c")
    f = a * 1000.0 + b * c  # grads: a 1000, b 3, c 1e-9
    f.backward()
    src = draw_dot(f, color_by="grad").source

    def fill(label: str) -> str:
        m = re.search(r"\{ " + label + r" \|[^\]]*fillcolor=\"(#[0-9a-f]{6})\"", src)
        assert m is not None
        return m.group(1)

    assert fill("a") == "#d62728"  # the largest |grad|: full red
    assert fill("c") == "#ffffff"  # 1e-9 is 12 decades below: white (vanishing)
    # b's |grad| = 3 is 2.5 decades below 1000: partly red, lighter than a
    red_b = int(fill("b")[3:5], 16)
    assert 39 < red_b < 255


def test_draw_dot_max_nodes_raises_clear_error_without_recursion() -> None:
    x = Value(0.1, "x")
    y = x
    for _ in range(20000):  # far deeper than Python's recursion limit
        y = y * 1.0
    with pytest.raises(ValueError, match=r"more than max_nodes=500.*draw_summary.*smaller graph"):
        draw_dot(y)
    small = x * 2
    with pytest.raises(ValueError, match="max_nodes=2"):
        draw_dot(small, max_nodes=2)


@pytest.mark.parametrize(
    ("kwargs", "exc"),
    [
        ({"rankdir": "XY"}, ValueError),
        ({"cluster": "row"}, ValueError),
        ({"color_by": "data"}, ValueError),
        ({"max_nodes": 0}, ValueError),
        ({"params": 3}, TypeError),
    ],
)
def test_draw_dot_rejects_bad_options(kwargs: dict, exc: type[Exception]) -> None:
    with pytest.raises(exc):
        draw_dot(lecture_graph(), **kwargs)


def test_draw_dot_rejects_non_value() -> None:
    with pytest.raises(TypeError, match="needs a Value"):
        draw_dot(3.0)  # type: ignore[arg-type]


def test_draw_dot_displays_inline_in_notebooks() -> None:
    g = draw_dot(lecture_graph())
    assert isinstance(g, graphviz.Digraph)
    bundle = g._repr_mimebundle_()
    assert "<svg" in bundle["image/svg+xml"]


def test_draw_dot_notebook_falls_back_to_source_without_dot(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    g = draw_dot(lecture_graph())
    bundle = g._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html"}
    text = bundle["text/plain"]
    assert isinstance(text, str)
    assert text.startswith("Graphviz's dot is not installed: apt-get install graphviz / brew install graphviz")
    assert "conda install graphviz; the DOT source:" in text and text.endswith(g.source)
    html_part = bundle["text/html"]
    assert isinstance(html_part, str) and "install graphviz" in html_part and "<pre>digraph" in html_part
    assert "<svg" not in html_part


def test_draw_dot_notebook_hint_when_render_reports_dot_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(*args: object, **kwargs: object) -> dict[str, str]:
        raise graphviz.ExecutableNotFound(("dot",))

    monkeypatch.setattr(graphviz.Digraph, "_repr_mimebundle_", missing)
    g = draw_dot(lecture_graph())
    text = g._repr_mimebundle_()["text/plain"]
    assert isinstance(text, str) and text.startswith("Graphviz's dot is not installed") and g.source in text


def test_draw_dot_mlp_with_float_inputs_shows_each_input_once_with_summed_grad() -> None:
    import random

    import nn

    model = nn.MLP(2, [3, 1], rng=random.Random(0))

    def loss_at(x0: float, x1: float) -> Value:
        (out,) = model([x0, x1])
        return (out - 1.0) ** 2

    loss = loss_at(1.0, -2.0)
    loss.backward()
    src = draw_dot(loss).source
    # One leaf per input, labelled, however many neurons read it.
    assert len(re.findall(r"\{ x0 \| data 1 \|", src)) == 1
    assert len(re.findall(r"\{ x1 \| data -2 \|", src)) == 1
    (x0,) = [v for v in trace(loss).nodes if v.label == "x0"]
    # Its gradient is the whole d loss / d x0, summed over the three neurons that read it:
    # the central difference of the loss in x0 agrees.
    h = 1e-6
    numeric = (loss_at(1.0 + h, -2.0).data - loss_at(1.0 - h, -2.0).data) / (2 * h)
    assert x0.grad == pytest.approx(numeric, rel=1e-6)
    assert sum(1 for v in trace(loss).nodes if v.op == "mul" and x0 in v.parents) == 3


def test_draw_dot_intermediate_nodes_have_no_empty_label_cell_and_no_negative_zero() -> None:
    a = Value(0.0, "a")
    b = -a * 2.0  # -0.0: shown as 0
    src = draw_dot(b).source
    assert "data -0" not in src and "grad -0" not in src
    assert "{  |" not in src
    assert re.search(r'label="\{ data 0 \| grad 0 \}"', src) is not None


def test_draw_dot_repr_is_stable_without_memory_addresses() -> None:
    x = Value(1.0, "x")
    a, b = draw_dot(x * 2.0), draw_dot(x * 2.0)
    assert repr(a) == repr(b) == "<DotGraph 'autograd': 7 statements>"
    assert "0x" not in repr(a)
