"""Tests of ``autograd-core graph`` (``viz.cli.graph``): values, gradients, SVG and DOT output, errors."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from cli_support import one_error_line, run, values


def test_cli_graph_prints_value_and_gradients_and_writes_svg(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run(capsys, "graph", "(x+y)*z", "--at", "x=1", "y=-3", "z=4", "-o", str(tmp_path / "g.svg"))
    assert code == 0 and err == ""
    v = values(out)
    assert out.splitlines()[0] == "f(x, y, z) = (x+y)*z  at x = 1, y = -3, z = 4"
    assert v["f"] == -8 and v["df/dx"] == 4 and v["df/dy"] == 4 and v["df/dz"] == -2
    root = ET.parse(tmp_path / "g.svg").getroot()
    assert root.tag.endswith("svg")
    assert (tmp_path / "g.dot").exists()


def test_cli_graph_dot_output_needs_no_graphviz(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    code, out, _ = run(capsys, "graph", "tanh(x)", "--at", "x=0", "-o", str(tmp_path / "g.dot"))
    assert code == 0
    assert (tmp_path / "g.dot").read_text().startswith("digraph")


def test_cli_graph_missing_dot_reports_hints_and_keeps_dot_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    code, out, err = run(capsys, "graph", "x*y", "--at", "x=2", "y=3", "-o", str(tmp_path / "g.svg"))
    assert code == 1
    assert "Traceback" not in err and "apt-get install graphviz" in err and "dot -Tsvg" in err
    assert err.count("\n") == 1 and err.startswith("autograd-core: error: ")
    assert values(out)["df/dx"] == 3
    assert (tmp_path / "g.dot").exists() and not (tmp_path / "g.svg").exists()


def _balanced_sum(terms: list[str]) -> str:
    if len(terms) == 1:
        return terms[0]
    mid = len(terms) // 2
    return f"({_balanced_sum(terms[:mid])})+({_balanced_sum(terms[mid:])})"


def test_cli_graph_output_is_a_directory_nothing_written(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "d.svg").mkdir()
    (tmp_path / "e.dot").mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    for target, needle in (
        (tmp_path, "is a directory"),
        (tmp_path / "d.svg", "is a directory"),
        (tmp_path / "e.svg", "where the DOT source goes, is a directory"),
        (tmp_path / "e.dot", "is a directory"),
    ):
        code, out, err = run(capsys, "graph", "x*y", "--at", "x=2", "y=3", "-o", str(target))
        assert code == 2 and needle in one_error_line(err)
        assert out == ""  # rejected before computing or printing anything
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no stray d.dot


def test_cli_graph_too_large_to_draw(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    text = _balanced_sum(["-" * 80 + "x"] * 11)  # accepted by the parser, 891 graph nodes
    assert len(text) <= 1000
    code, _, err = run(capsys, "graph", text, "--at", "x=1", "-o", str(tmp_path / "big.svg"))
    assert code == 2 and "the graph has 891 nodes, more than the 500" in one_error_line(err)
    assert list(tmp_path.iterdir()) == []
    code, out, _ = run(capsys, "graph", text, "--at", "x=1")  # without -o the values are printed
    assert code == 0 and values(out)["df/dx"] == 11  # 80 minus signs cancel


def test_cli_graph_unwritable_output(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import autograd_core.atomic

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(autograd_core.atomic, "_create_beside", refuse)
    for name in ("g.svg", "g.dot"):
        code, _, err = run(capsys, "graph", "x", "--at", "x=1", "-o", str(tmp_path / name))
        assert code == 2 and f"cannot write in {tmp_path}: Permission denied" in one_error_line(err)
    assert list(tmp_path.iterdir()) == []


def test_cli_graph_dot_fails_exit_1_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "dot").write_text("#!/bin/sh\necho 'Error: syntax error in line 1' >&2\necho 'second line' >&2\nexit 3\n")
    (fake / "dot").chmod(0o755)
    monkeypatch.setenv("PATH", str(fake))
    code, out, err = run(capsys, "graph", "x*y", "--at", "x=2", "y=3", "-o", str(tmp_path / "g.svg"))
    assert code == 1 and "dot failed with status 3" in one_error_line(err) and "second line" in err
    assert values(out)["df/dx"] == 3
    assert (tmp_path / "g.dot").exists() and not (tmp_path / "g.svg").exists()


def test_cli_graph_dot_times_out_exit_1_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import viz.render

    def slow(cmd: list[str], **kwargs: Any) -> Any:
        raise subprocess.TimeoutExpired(cmd, kwargs.get("timeout", 0))

    monkeypatch.setattr(viz.render.subprocess, "run", slow)
    code, _, err = run(capsys, "graph", "x", "--at", "x=1", "-o", str(tmp_path / "g.svg"))
    assert code == 1 and "did not finish within 60 s" in one_error_line(err)
    assert not (tmp_path / "g.svg").exists()


def test_cli_graph_without_output_says_how_to_draw(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "graph", "x*y", "--at", "x=2", "y=3")
    assert code == 0 and values(out)["df/dx"] == 3
    assert err == "autograd-core: note: no picture written; pass -o graph.svg to draw it\n"


def test_cli_graph_with_output_prints_no_note(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "graph", "x", "--at", "x=2", "-o", str(tmp_path / "g.dot"))
    assert code == 0 and err == ""
