"""Tests of ``autograd-core graph`` (``viz.cli.graph``): values, gradients, SVG and DOT output, errors."""

from __future__ import annotations

import html
import re
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


PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
XYZ_STEPS = ("graph", "(x+y)*z", "--at", "x=1", "y=-3", "z=4", "--steps")


def _frame_texts(page: str) -> dict[int, str]:
    """{step: the text the page shows in #explain for it}, read from each frame's hidden <pre>."""
    frames = re.findall(
        r'<div class="frame" data-step="(\d+)" hidden>.*?<pre class="text" hidden>(.*?)</pre>', page, re.S
    )
    return {int(k): html.unescape(text) for k, text in frames}


def test_cli_graph_steps_writes_the_player_page(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "page.html"
    code, out, err = run(capsys, *XYZ_STEPS, str(target))
    assert code == 0 and err == ""
    assert values(out)["df/dx"] == 4  # the values are printed as without --steps
    assert f"wrote {target} (5 steps)" in out
    page = target.read_text()
    assert "<title>backward pass of f(x, y, z) = (x+y)*z</title>" in page
    assert 'id="explain"' in page and "dataset.step" in page
    texts = _frame_texts(page)
    assert sorted(texts) == [0, 1, 2, 3, 4] and page.count("<svg") == 5
    # Step 0: f = d z sends z = 4 to d and d = -2 to z; step 2: d = x + y passes 4 to each.
    assert "  -> add2: 1 × 4 = 4\n  -> z: 1 × (-2) = -2" in texts[0]
    assert texts[2].startswith("step 2/4: add2 (op add), data -2\n∂f/∂add2 = 4, from f")
    assert "  -> x: 4 × 1 = 4\n  -> y: 4 × 1 = 4" in texts[2]
    assert "a leaf: nothing to send further" in texts[4]
    # Nothing is loaded from outside: a strict CSP, and every src or href stays inside the page.
    assert "default-src 'none'" in page
    for attr, value in re.findall(r"\b(src|href)\s*=\s*[\"']([^\"']*)", page):
        assert value.startswith(("data:", "#")), (attr, value)
    assert "<link" not in page and "url(" not in page and "<script src" not in page


def test_cli_graph_steps_directory_gets_page_and_png_frames(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, *XYZ_STEPS, str(tmp_path), "-o", str(tmp_path / "g.dot"))
    assert code == 0
    frames = sorted(p.name for p in tmp_path.glob("step-*.png"))
    assert frames == [f"step-00{k}.png" for k in range(5)]
    assert all((tmp_path / name).read_bytes().startswith(PNG_MAGIC) for name in frames)
    assert len(_frame_texts((tmp_path / "index.html").read_text())) == 5
    assert (tmp_path / "g.dot").read_text().startswith("digraph")  # -o still written beside it
    assert f"wrote {tmp_path / 'index.html'} and 5 PNG frames" in out


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("page.svg", "the file name must end in .html, or name an existing directory, got '.svg'"),
        ("page", "got no suffix"),
        ("missing/", "directory {tmp}/missing does not exist; create it first"),
        ("missing/page.html", "directory {tmp}/missing does not exist; create it first"),
        ("", "--steps needs a file name ending in .html"),
        ("taken", "{tmp}/taken/index.html, where the page goes, is a directory"),
    ],
)
def test_cli_graph_steps_bad_path_exits_2_before_anything(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, needle: str
) -> None:
    (tmp_path / "taken" / "index.html").mkdir(parents=True)
    before = sorted(tmp_path.rglob("*"))
    arg = f"{tmp_path}/{name}" if name else ""  # keeps the trailing slash of "missing/"
    code, out, err = run(capsys, "graph", "x*y", "--at", "x=2", "y=3", "--steps", arg)
    assert code == 2 and needle.format(tmp=tmp_path) in one_error_line(err)
    assert out == ""
    assert sorted(tmp_path.rglob("*")) == before


def test_cli_graph_steps_too_large_to_step_through(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    page = tmp_path / "p.html"
    for text, n in ((_balanced_sum(["-" * 80 + "x"] * 11), 891), (_balanced_sum(["x"] * 101), 101)):
        code, out, err = run(capsys, "graph", text, "--at", "x=1", "--steps", str(page))
        assert code == 2 and out == ""
        assert f"--steps {page}: the graph has {n} nodes, more than the 100 that are stepped through" in one_error_line(
            err
        )
    assert list(tmp_path.iterdir()) == []
    # 101 nodes are still drawn with -o.
    code, _, _ = run(capsys, "graph", _balanced_sum(["x"] * 101), "--at", "x=1", "-o", str(tmp_path / "g.dot"))
    assert code == 0


def test_cli_graph_steps_limit_is_inclusive(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import viz.cli.graph

    monkeypatch.setattr(viz.cli.graph, "MAX_STEPS_NODES", 5)  # a small limit keeps the dot runs few
    page = tmp_path / "p.html"
    code, out, _ = run(capsys, "graph", "(x+y)*z", "--at", "x=1", "y=-3", "z=4", "--steps", str(page))
    assert code == 0 and "(5 steps)" in out and page.exists()
    code, _, err = run(capsys, "graph", "(x+y)*z+1", "--at", "x=1", "y=-3", "z=4", "--steps", str(page))
    assert code == 2 and "the graph has 7 nodes, more than the 5 that are stepped through" in one_error_line(err)


def test_cli_graph_steps_missing_dot_exit_1_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    code, out, err = run(capsys, "graph", "x*y", "--at", "x=2", "y=3", "--steps", str(tmp_path / "p.html"))
    assert code == 1 and "apt-get install graphviz" in one_error_line(err) and "--steps" in err
    assert values(out)["df/dx"] == 3
    assert not (tmp_path / "p.html").exists()


def test_cli_graph_steps_unwritable_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import autograd_core.atomic

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(autograd_core.atomic, "_create_beside", refuse)
    code, _, err = run(capsys, "graph", "x", "--at", "x=1", "--steps", str(tmp_path / "p.html"))
    assert code == 2 and f"--steps {tmp_path / 'p.html'}: cannot write: Permission denied" in one_error_line(err)
    assert list(tmp_path.iterdir()) == []

def test_cli_graph_without_output_says_how_to_draw(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "graph", "x*y", "--at", "x=2", "y=3")
    assert code == 0 and values(out)["df/dx"] == 3
    assert err == "autograd-core: note: no picture written; pass -o graph.svg to draw it\n"


def test_cli_graph_with_output_prints_no_note(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "graph", "x", "--at", "x=2", "-o", str(tmp_path / "g.dot"))
    assert code == 0 and err == ""
