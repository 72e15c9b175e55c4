"""backward_player: its frames (DOT with highlights), the standalone page, PNG frames and bad input (no browser)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from autograd_core import Value, backward_steps, topo_order
from viz import BackwardPlayer, backward_player, draw_dot
from viz.player import _run_dot

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _needs_dot() -> None:
    assert shutil.which("dot"), "Graphviz's dot must be installed for this test suite"


def _neuron() -> Value:
    w0, x0, w1, x1, b = (Value(v, n) for v, n in zip((2, -1, -3, -2, -3), ("w0", "x0", "w1", "x1", "b")))
    out = (w0 * x0 + w1 * x1 + b).sigmoid()
    out.label = "f"
    return out


def _square() -> Value:
    x = Value(3.0, "x")
    y = x * x + x
    y.label = "y"
    return y


def test_draw_dot_hooks_add_attributes_to_named_nodes_and_edges() -> None:
    x = Value(2.0, "x")
    y = x.tanh()
    plain = draw_dot(y).source
    hooked = draw_dot(
        y,
        node_attrs=lambda name: {"color": "red"} if name == "v1" else None,
        edge_attrs=lambda tail, head: {"penwidth": "3"} if (tail, head) == ("v0", "v1op") else None,
    ).source
    assert hooked != plain
    assert re.search(r"^\s*v1 \[.*color=red", hooked, re.M)
    assert not re.search(r"^\s*v0 \[.*color=red", hooked, re.M)
    assert re.search(r"^\s*v0 -> v1op \[penwidth=3\]", hooked, re.M)
    assert re.search(r"^\s*v1op -> v1$", hooked, re.M)
    # Hooks returning nothing leave the DOT byte-identical.
    assert draw_dot(y, node_attrs=lambda n: None, edge_attrs=lambda t, h: None).source == plain
    with pytest.raises(TypeError, match="node_attrs"):
        draw_dot(y, node_attrs="red")  # type: ignore[arg-type]


def test_player_has_one_frame_per_step_highlighting_its_node() -> None:
    out = _neuron()
    p = backward_player(out)
    steps = backward_steps(out)
    assert len(p) == len(steps) == len(p.sources)
    for k, (src, step) in enumerate(zip(p.sources, steps)):
        current = re.findall(r"^\s*(v\d+) \[.*\bclass=current\b", src, re.M)
        assert current == [f"v{step.topo_index}"], k
        assert f"id=f{k}" in src


def test_player_frame_labels_flow_edges_with_contributions() -> None:
    out = _neuron()
    p = backward_player(out)
    k = next(i for i, s in enumerate(p.steps) if s.name == "mul5")  # w1 * x1
    step = p.steps[k]
    flows = re.findall(r"^\s*(v\d+) -> (v\d+op) \[label=\"\+= ([^\"]+)\".*class=flow", p.sources[k], re.M)
    assert flows == [
        (f"v{p.steps[k].topo_index - 2}", f"v{step.topo_index}op", "-0.393224"),
        (f"v{p.steps[k].topo_index - 1}", f"v{step.topo_index}op", "-0.589836"),
    ]
    # The inputs receiving gradient are marked, and their records show it.
    assert re.search(r'v3 \[label="\{ w1 \| data -3 \| grad -0.393224 \}" class=receives', p.sources[k])


def test_player_records_show_gradient_accumulated_so_far() -> None:
    x = Value(3.0, "x")
    y = x * x + x  # x gathers from the add (1) and from the product (6)
    y.label = "y"
    p = backward_player(y)
    names = [s.name for s in p.steps]
    assert names == ["y", "mul1", "x"]
    assert "{ x | data 3 | grad 1 }" in p.sources[0]  # after the add: 1 so far
    assert "{ x | data 3 | grad 7 }" in p.sources[1]  # after the product: 1 + 3 + 3
    assert "{ mul1 | data 9 | grad · }" not in p.sources[0]
    assert "grad ·" not in "".join(p.sources)  # every node here is reached by step 0 or 1


def test_player_frame_labels_the_edges_a_node_gathered_along() -> None:
    x = Value(3.0, "x")
    y = x * x + x
    y.label = "y"
    p = backward_player(y)
    src = p.sources[2]  # x: 3 + 3 from the product (two operand slots), 1 from the sum
    gathers = re.findall(r'^\s*v0 -> (v\d+op) \[label="\+= ([^"]+)".*class=gathers', src, re.M)
    assert sorted(gathers) == [("v1op", "3"), ("v1op", "3"), ("v2op", "1")]
    assert "class=gathers" not in p.sources[0]  # the output gathers nothing


def test_player_page_is_standalone_and_requests_nothing() -> None:
    page = backward_player(_neuron()).html()
    assert '<meta http-equiv="Content-Security-Policy" content="default-src \'none\';' in page
    for attr, value in re.findall(r"\b(src|href)\s*=\s*[\"']([^\"']*)", page):
        assert value.startswith(("data:", "#")), (attr, value)
    assert "<link" not in page and "@import" not in page and "url(" not in page
    assert "<script src" not in page
    assert page.count('<div class="frame"') == 10 and page.count("<svg") == 10
    assert 'id="explain"' in page and "dataset.step" in page and "#step=" in page
    for control in ("first", "prev", "next", "last", "play", "slider"):
        assert f'id="{control}"' in page


def test_player_page_frames_carry_each_steps_text() -> None:
    p = backward_player(_neuron())
    page = p.html()
    texts = p.texts()
    assert texts[0].startswith("step 0/9: f (op sigmoid)")
    assert "upstream gradient × local derivative = contribution" in texts[0]
    for t in texts:
        assert t.replace(">", "&gt;").replace("'", "&#x27;") in page


def test_player_save_html_file_is_written_atomically(tmp_path: Path) -> None:
    p = backward_player(_square())
    page = p.save(tmp_path / "backward.html")
    assert page == tmp_path / "backward.html"
    assert page.read_text(encoding="utf-8") == p.html()
    assert sorted(os.listdir(tmp_path)) == ["backward.html"]  # no temporary file left behind


def test_player_save_directory_writes_page_and_png_frames(tmp_path: Path) -> None:
    p = backward_player(_square())
    page = p.save(str(tmp_path / "frames") + "/")
    assert page == tmp_path / "frames" / "index.html"
    files = sorted(os.listdir(tmp_path / "frames"))
    assert files == ["index.html", "step-000.png", "step-001.png", "step-002.png"]
    for f in files[1:]:
        data = (tmp_path / "frames" / f).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 1000


def test_player_save_frames_option_writes_pngs_elsewhere(tmp_path: Path) -> None:
    p = backward_player(_square())
    p.save(tmp_path / "page.html", frames=tmp_path / "slides")
    assert sorted(os.listdir(tmp_path / "slides")) == ["step-000.png", "step-001.png", "step-002.png"]


def test_player_save_rejects_bad_paths(tmp_path: Path) -> None:
    p = backward_player(_square())
    with pytest.raises(ValueError, match=r"must end in \.html"):
        p.save(tmp_path / "page.svg")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        p.save(tmp_path / "missing" / "page.html")
    with pytest.raises(TypeError, match="'path'"):
        p.save(3)  # type: ignore[arg-type]


def test_player_dash_named_directory_never_reaches_dot_as_option(tmp_path: Path, monkeypatch) -> None:
    # dot reads stdin and writes stdout: a directory named like an option is only ever a Python path.
    monkeypatch.chdir(tmp_path)
    backward_player(_square()).save("-Tps/")
    assert (tmp_path / "-Tps" / "step-000.png").read_bytes().startswith(PNG_MAGIC)


def test_player_repr_html_is_an_isolated_iframe() -> None:
    p = backward_player(_square())
    markup = p._repr_html_()
    assert markup.startswith("<iframe srcdoc=") and 'sandbox="allow-scripts"' in markup
    assert "<svg" not in markup  # escaped inside srcdoc
    assert "&lt;svg" in markup


def test_player_leaves_grads_untouched() -> None:
    out = _neuron()
    nodes = topo_order(out)
    backward_player(out).html()
    assert all(v.grad == 0.0 for v in nodes)


def test_player_too_large_graph_gives_draw_dot_error() -> None:
    v = Value(1.0, "x")
    for _ in range(10):
        v = v.tanh()
    with pytest.raises(ValueError) as from_draw:
        draw_dot(v, max_nodes=5)
    with pytest.raises(ValueError) as from_player:
        backward_player(v, max_nodes=5)
    assert str(from_player.value) == str(from_draw.value)
    assert "max_nodes=5" in str(from_player.value)


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "needle"),
    [
        ((2.0,), {}, TypeError, "'out' must be a Value"),
        ((Value(1.0),), {"title": 3}, TypeError, "'title'"),
        ((Value(1.0),), {"interval_ms": 0}, ValueError, "interval_ms"),
        ((Value(1.0),), {"rankdir": "XY"}, ValueError, "rankdir"),
        ((Value(1.0),), {"timeout": 0}, ValueError, "timeout"),
    ],
)
def test_player_bad_input_says_what_is_wrong(args, kwargs, exc, needle) -> None:
    with pytest.raises(exc, match=needle):
        backward_player(*args, **kwargs)


def test_player_of_a_leaf_has_one_frame() -> None:
    p = backward_player(Value(2.0, "x"))
    assert isinstance(p, BackwardPlayer) and len(p) == 1
    assert "a leaf: nothing to send further" in p.texts()[0]


def test_run_dot_reports_dot_failure() -> None:
    with pytest.raises(RuntimeError, match="dot -Tsvg failed"):
        _run_dot("digraph { a -> }", "svg", 10.0)
