"""Tests of ``viz.render_svg`` with the installed Graphviz, and with ``dot`` hidden from PATH."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from autograd_core import Value, grad
from viz import GraphvizNotFoundError, draw_dot, render_svg, trace

SVG = "{http://www.w3.org/2000/svg}"


def lecture_graph() -> Value:
    x, y, z = Value(1.0, "x"), Value(-3.0, "y"), Value(4.0, "z")
    f = (x + y) * z
    f.backward()
    return f


def _svg_nodes(path: Path) -> dict[str, str]:
    """{node name: all text drawn in it} from an SVG written by dot."""
    root = ET.parse(path).getroot()  # also proves the file is well-formed XML
    nodes = {}
    for g in root.iter(f"{SVG}g"):
        if g.get("class") == "node":
            title = g.find(f"{SVG}title")
            assert title is not None and title.text is not None
            nodes[title.text] = " ".join(t.text or "" for t in g.iter(f"{SVG}text"))
    return nodes


def test_render_svg_writes_svg_holding_every_node(tmp_path: Path) -> None:
    assert shutil.which("dot"), "Graphviz's dot must be installed for this test suite"
    f = lecture_graph()
    svg = render_svg(f, tmp_path / "graph.svg")
    assert svg == tmp_path / "graph.svg"
    nodes = _svg_nodes(svg)
    n_values = len(trace(f).nodes)
    n_ops = sum(1 for v in trace(f).nodes if v.op)
    assert len(nodes) == n_values + n_ops == 7
    assert nodes["v4"].split() == ["data", "-8", "grad", "1"]
    assert nodes["v0"].split() == ["x", "data", "1", "grad", "4"]
    assert (tmp_path / "graph.dot").read_text(encoding="utf-8") == draw_dot(f).source
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.dot", "graph.svg"]  # no temporary files left


def test_render_svg_special_characters_survive_graphviz(tmp_path: Path) -> None:
    label = 'w{0}|<in> "q" \\ end'
    v = Value(2.0, label)
    svg = render_svg(v * 3, tmp_path / "special.svg")
    nodes = _svg_nodes(svg)
    # dot parsed our escapes back into the original characters, one record field each
    assert nodes["v0"] == f"{label} data 2 grad 0"


def test_render_svg_graph_of_a_gradient(tmp_path: Path) -> None:
    x = Value(2.0, "x")
    (g,) = grad(x.tanh() * x, [x], create_graph=True)
    svg = render_svg(g, tmp_path / "g.svg", rankdir="TB")
    nodes = _svg_nodes(svg)
    order = trace(g).nodes
    assert len(nodes) == len(order) + sum(1 for v in order if v.op)


def test_render_svg_accepts_a_digraph(tmp_path: Path) -> None:
    graph = draw_dot(lecture_graph(), show_grad=False)
    svg = render_svg(graph, tmp_path / "d.svg")
    assert "grad" not in " ".join(_svg_nodes(svg).values())
    with pytest.raises(TypeError, match="only apply to a Value"):
        render_svg(graph, tmp_path / "e.svg", rankdir="TB")


def test_render_svg_missing_dot_raises_with_hints_and_writes_dot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_dot = shutil.which("dot")
    assert real_dot
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(GraphvizNotFoundError) as info:
        render_svg(lecture_graph(), out / "graph.svg")
    msg = str(info.value)
    dot_file = out / "graph.dot"
    assert dot_file.read_text(encoding="utf-8") == draw_dot(lecture_graph()).source
    assert not (out / "graph.svg").exists()
    for hint in ("apt-get install graphviz", "brew install graphviz", "conda install -c conda-forge graphviz"):
        assert hint in msg
    expected = f"dot -Tsvg {shlex.quote(str(dot_file))} -o {shlex.quote(str(out / 'graph.svg'))}"
    assert expected in msg and info.value.command == expected
    # The command in the message does what it says once dot is there.
    argv = shlex.split(info.value.command)
    subprocess.run([real_dot, *argv[1:]], check=True)
    assert ET.parse(out / "graph.svg").getroot().tag == f"{SVG}svg"


def test_render_svg_errors(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="Value or a graphviz.Digraph"):
        render_svg("x", tmp_path / "a.svg")  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        render_svg(lecture_graph(), tmp_path / "missing" / "a.svg")
    for name, got in (("a.dot", "'.dot'"), ("a.png", "'.png'"), ("noext", "no suffix")):
        with pytest.raises(ValueError, match=f"must end in .svg, got {got}"):
            render_svg(lecture_graph(), tmp_path / name)
    assert list(tmp_path.iterdir()) == []  # nothing written for a wrong suffix


def test_render_svg_rejects_a_directory_before_writing(tmp_path: Path) -> None:
    (tmp_path / "d.svg").mkdir()
    with pytest.raises(IsADirectoryError, match="is a directory"):
        render_svg(lecture_graph(), tmp_path / "d.svg")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.svg"]  # no stray d.dot
    (tmp_path / "e.dot").mkdir()
    with pytest.raises(IsADirectoryError, match="e.dot' is a directory"):
        render_svg(lecture_graph(), tmp_path / "e.svg")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.svg", "e.dot"]


def test_render_svg_reports_dot_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "bin"
    fake.mkdir()
    script = fake / "dot"
    script.write_text("#!/bin/sh\necho 'syntax error in line 1' >&2\nexit 1\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake) + os.pathsep + os.environ.get("PATH", ""))
    with pytest.raises(RuntimeError, match="dot failed with status 1.*syntax error"):
        render_svg(lecture_graph(), tmp_path / "a.svg")
    assert not (tmp_path / "a.svg").exists()


@pytest.mark.parametrize("name", ["-V.svg", "-ofoo.svg", "-Tpng.svg"])
def test_render_svg_output_name_starting_with_a_dash_is_a_file_not_an_option(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # dot once read "-V.svg" as -V (print the version, write nothing) and "-ofoo.svg"
    # as "write to foo.svg" (rendering whatever came on standard input).
    monkeypatch.chdir(tmp_path)
    f = lecture_graph()
    svg = render_svg(f, name, timeout=20)
    assert svg == Path(name)
    assert len(_svg_nodes(tmp_path / name)) == 7
    assert (tmp_path / name).with_suffix(".dot").read_text(encoding="utf-8") == draw_dot(f).source
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, name[:-4] + ".dot"])


def test_render_svg_missing_dot_command_keeps_dash_names_from_being_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    with pytest.raises(GraphvizNotFoundError) as info:
        render_svg(lecture_graph(), "-V.svg")
    assert info.value.command == "dot -Tsvg ./-V.dot -o ./-V.svg"


def test_render_svg_shows_odd_names_escaped_and_bounds_dot_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "bin"
    fake.mkdir()
    script = fake / "dot"
    script.write_text("#!/bin/sh\nhead -c 100000 /dev/zero | tr '\\0' x >&2\nexit 1\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake) + os.pathsep + os.environ.get("PATH", ""))
    odd = tmp_path / "a\nb\x1b[2J.svg"
    with pytest.raises(RuntimeError) as info:
        render_svg(lecture_graph(), odd)
    msg = str(info.value)
    assert "a\\nb\\x1b[2J.dot" in msg and "\n" not in msg and "\x1b" not in msg
    assert len(msg) <= 2000 and "characters, cut" in msg


def test_render_svg_names_the_limit_for_an_overlong_name_before_writing(tmp_path: Path) -> None:
    name_max = os.pathconf(tmp_path, "PC_NAME_MAX")
    with pytest.raises(ValueError, match=f"more than the limit of {name_max} bytes"):
        render_svg(lecture_graph(), tmp_path / ("a" * name_max + ".svg"))
    assert list(tmp_path.iterdir()) == []
    longest = tmp_path / ("a" * (name_max - 4) + ".svg")
    assert render_svg(lecture_graph(), longest) == longest and longest.with_suffix(".dot").exists()
