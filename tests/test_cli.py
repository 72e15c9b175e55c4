"""Tests of the ``autograd-core`` command line (``viz.cli``)."""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import types
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from autograd_core import Value
from viz.cli import main

ROOT = Path(__file__).resolve().parents[1]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def values(out: str) -> dict[str, float]:
    """{left side: number} for every ``name = number`` line of the output."""
    result = {}
    for line in out.splitlines():
        name, sep, rest = line.partition(" = ")
        if sep and rest.split():
            try:
                result[name.strip()] = float(rest.split()[0])
            except ValueError:
                pass
    return result


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


def test_cli_grad_order_two_nests_grad(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "grad", "x**3", "--at", "x=2", "--order", "3")
    assert code == 0
    v = values(out)
    assert (v["f"], v["df/dx"], v["d2f/dx^2"], v["d3f/dx^3"]) == (8, 12, 12, 6)  # 3x^2, 6x, 6 at x=2


def test_cli_grad_mixed_partials(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "grad", "x*y**2 + sin(x)", "--at", "x=0.5", "y=3", "--order", "2")
    assert code == 0
    v = values(out)
    assert v["df/dx"] == pytest.approx(9 + math.cos(0.5))
    assert v["df/dy"] == pytest.approx(3.0)
    assert v["d2f/dx^2"] == pytest.approx(-math.sin(0.5))
    assert v["d2f/dx dy"] == pytest.approx(6.0)
    assert v["d2f/dy^2"] == pytest.approx(1.0)
    assert "d2f/dy dx" not in v  # symmetric partials printed once


def test_cli_grad_names_with_digits_are_unambiguous(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "grad", "x1**3 + x12", "--at", "x1=1", "x12=1", "--order", "3")
    assert code == 0
    names = [line.partition(" = ")[0] for line in out.splitlines()[1:]]
    assert names == [
        "f",
        "df/dx1",
        "df/dx12",
        "d2f/dx1^2",
        "d2f/dx1 dx12",
        "d2f/dx12^2",
        "d3f/dx1^3",
        "d3f/dx1^2 dx12",
        "d3f/dx1 dx12^2",
        "d3f/dx12^3",
    ]
    v = values(out)
    assert (v["df/dx1"], v["df/dx12"], v["d2f/dx1^2"], v["d3f/dx1^3"]) == (3, 1, 6, 6)
    assert v["d2f/dx1 dx12"] == v["d2f/dx12^2"] == v["d3f/dx1^2 dx12"] == 0


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["grad", "-x**2", "--at", "x=3"], {"f": -9, "df/dx": -6}),
        (["grad", "--at", "x=3", "-x**2"], {"f": -9, "df/dx": -6}),
        (["grad", "-o*x", "--at", "o=2", "x=5"], {"f": -10, "df/do": -5, "df/dx": -2}),
        (["grad", "-2*x", "--at", "x=1"], {"f": -2, "df/dx": -2}),
        (["grad", "x*2", "--at", "x=-1.5"], {"f": -3, "df/dx": 2}),
        (["grad", "--x", "--at", "x=1"], {"f": 1, "df/dx": 1}),
        (["grad", "---x", "--at", "x=1"], {"f": -1, "df/dx": -1}),
        (["grad", "--x**3", "--order", "2", "--at", "x=2"], {"f": 8, "df/dx": 12, "d2f/dx^2": 12}),
        (["grad", "--at", "x=2", "--x*3"], {"f": 6, "df/dx": 3}),
        (["grad", "--at", "x=1", "--", "--x"], {"f": 1, "df/dx": 1}),
        (["grad", "--order", "2", "--", "---2"], {"f": -2}),
        (["graph", "--x*y", "--at", "x=2", "y=3"], {"f": 6, "df/dx": 3, "df/dy": 2}),
        (["check", "--at", "a=1", "--", "--a"], {"f": 1}),  # "--a" is not an abbreviation of --at
    ],
)
def test_cli_expression_starting_with_minus(
    capsys: pytest.CaptureFixture[str], argv: list[str], expected: dict[str, float]
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    v = values(out)
    assert {k: v[k] for k in expected} == expected


def test_cli_check_agrees(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "tanh(x*w + b)", "--at", "x=1", "w=0.5", "b=0")
    assert code == 0
    assert "gradients agree" in out
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[3:6]}
    sech2 = 1 - math.tanh(0.5) ** 2
    for name, reference in (("x", 0.5 * sech2), ("w", sech2), ("b", sech2)):
        analytic, numeric, _diff, agree = rows[name]
        assert float(analytic) == pytest.approx(reference, rel=1e-12)
        assert float(numeric) == pytest.approx(reference, rel=1e-6)
        assert agree == "yes"


@pytest.mark.parametrize("argv", [["check", "relu(x)", "--at", "x=0"], ["check", "sqrt(x)*y", "--at", "x=0", "y=1"]])
def test_cli_check_disagrees_at_a_kink(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, _ = run(capsys, *argv)
    assert code == 1
    assert "DISAGREE" in out and " NO" in out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["grad", "9**9**9"], "exponent"),
        (["grad", "(" * 5000 + "x" + ")" * 5000], "characters long"),
        (["grad", "x\x01.real", "--at", "x=1"], "syntax error"),
        (["grad", "x.real", "--at", "x=1"], "attribute"),
        (["grad", "__import__('os').system('true')"], "plain name"),
        (["grad", "lambda: 0"], "lambda"),
        (["grad", "", "--at", "x=1"], "empty"),
        (["grad", "x+y", "--at", "x=1"], "no value for y"),
        (["grad", "x", "--at", "x=abc"], "'abc' is not a number"),
        (["grad", "x", "--at", "x"], "expected name=value"),
        (["grad", "x", "--at", "x=1", "y=2"], "does not use"),
        (["grad", "x", "--at", "x=1", "x=2"], "twice"),
        (["grad", "x", "--at", "x=nan"], "finite"),
        (["grad", "x", "--at", "x=1", "--order", "0"], "--order"),
        (["grad", "x", "--at", "x=1", "--order", "two"], "invalid int"),
        (["grad"], "missing the expression"),
        (["check", "2+3"], "no variables"),
        (["check", "x", "--at", "x=1", "--eps", "0"], "--eps"),
        (["graph", "x", "--at", "x=1", "-o", "/nonexistent-dir/g.svg"], "does not exist"),
        (
            ["graph", "x", "--at", "x=1", "-o", "g.png"],
            "must end in .svg (SVG, with the .dot beside it) or .dot, got '.png'",
        ),
        (["graph", "x", "--at", "x=1", "-o", "noext"], "got no suffix"),
        (["graph", "x", "--at", "x=1", "-o", ""], "-o needs a file name ending in .svg or .dot"),
        (["grad", "ｘ+1", "--at", "ｘ=1"], "non-ASCII character 'ｘ'"),
        (["grad", "x+1", "--at", "ｘ=1"], "write the variable name 'ｘ' in ASCII"),
        (["grad", "--ord", "2", "x", "--at", "x=1"], "unrecognized arguments"),  # no abbreviations
        (["grad", "pow(9, pow(9, 9))"], "use the ** operator"),
        (["frobnicate"], "invalid choice"),
        ([], "required"),
    ],
)
def test_cli_errors_exit_2_with_one_line(capsys: pytest.CaptureFixture[str], argv: list[str], needle: str) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("autograd-core: error: ")
    assert needle in err
    assert "Traceback" not in err


def test_cli_console_script_no_traceback_and_minus_expression() -> None:
    exe = shutil.which("autograd-core", path=str(Path(sys.executable).parent))
    assert exe, "the console script autograd-core must be installed in the venv"
    bad = subprocess.run([exe, "grad", "x.__class__", "--at", "x=1"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and bad.stderr.count("\n") == 1
    good = subprocess.run([exe, "grad", "-x**2", "--at", "x=3"], capture_output=True, text=True, timeout=60)
    assert good.returncode == 0 and "df/dx = -6" in good.stdout


def _balanced_sum(terms: list[str]) -> str:
    if len(terms) == 1:
        return terms[0]
    mid = len(terms) // 2
    return f"({_balanced_sum(terms[:mid])})+({_balanced_sum(terms[mid:])})"


def _one_error_line(err: str) -> str:
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith("autograd-core: error: "), err
    return err


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
        assert code == 2 and needle in _one_error_line(err)
        assert out == ""  # rejected before computing or printing anything
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no stray d.dot


def test_cli_graph_too_large_to_draw(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    text = _balanced_sum(["-" * 80 + "x"] * 11)  # accepted by the parser, 891 graph nodes
    assert len(text) <= 1000
    code, _, err = run(capsys, "graph", text, "--at", "x=1", "-o", str(tmp_path / "big.svg"))
    assert code == 2 and "the graph has 891 nodes, more than the 500" in _one_error_line(err)
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
        assert code == 2 and f"cannot write in {tmp_path}: Permission denied" in _one_error_line(err)
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
    assert code == 1 and "dot failed with status 3" in _one_error_line(err) and "second line" in err
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
    assert code == 1 and "did not finish within 60 s" in _one_error_line(err)
    assert not (tmp_path / "g.svg").exists()


def test_cli_console_script_one_line_errors_in_a_fresh_process(tmp_path: Path) -> None:
    exe = shutil.which("autograd-core", path=str(Path(sys.executable).parent))
    assert exe
    for argv in (["grad", "1if x else 0", "--at", "x=1"], ["grad", "0x1for"], ["graph", "x", "--at", "x=1", "-o", "/"]):
        proc = subprocess.run([exe, *argv], capture_output=True, text=True, timeout=60, cwd=tmp_path)
        assert proc.returncode == 2, argv
        _one_error_line(proc.stderr)
    good = subprocess.run([exe, "grad", "--x", "--at", "x=3"], capture_output=True, text=True, timeout=60)
    assert good.returncode == 0 and "df/dx = 1" in good.stdout


# --- train: wired to nn.cli's add_train_arguments / run_train -----------------------------------


@dataclass
class FakeOutcome:
    model: Any
    history: Any
    X_train: np.ndarray
    y_train: np.ndarray
    out_path: Path


def _fake_nn_cli(X: np.ndarray) -> types.ModuleType:
    """A module with nn.cli's interface; run_train fits nothing but returns a usable outcome."""
    mod = types.ModuleType("nn.cli")

    def add_train_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--out", required=True)
        parser.add_argument("--epochs", type=int, default=2)

    def run_train(args: argparse.Namespace) -> FakeOutcome:
        if args.epochs < 1:
            raise ValueError(f"--epochs must be positive, got {args.epochs}")
        path = Path(args.out)
        path.write_text("{}")
        return FakeOutcome(
            model=lambda x: [Value(x[0] - 0.5)],
            history={"train_loss": [1.0, 0.5][: args.epochs], "val_loss": [1.1, 0.6][: args.epochs]},
            X_train=X,
            y_train=(X[:, 0] > 0.5).astype(float),
            out_path=path,
        )

    mod.add_train_arguments = add_train_arguments  # type: ignore[attr-defined]
    mod.run_train = run_train  # type: ignore[attr-defined]
    return mod


def test_cli_train_writes_loss_and_boundary_next_to_model(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    X = np.random.default_rng(0).uniform(-1, 2, size=(30, 2))
    monkeypatch.setitem(sys.modules, "nn.cli", _fake_nn_cli(X))
    code, out, err = run(capsys, "train", "--out", str(tmp_path / "model.json"))
    assert code == 0, err
    loss, boundary = tmp_path / "model.loss.png", tmp_path / "model.boundary.png"
    assert out.splitlines() == [f"wrote {loss}", f"wrote {boundary}"]
    for p in (loss, boundary):
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_train_no_boundary_for_3d_data(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "nn.cli", _fake_nn_cli(np.zeros((4, 3))))
    code, out, _ = run(capsys, "train", "--out", str(tmp_path / "m.json"))
    assert code == 0
    assert (tmp_path / "m.loss.png").exists() and not (tmp_path / "m.boundary.png").exists()


def test_cli_train_errors_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "nn.cli", _fake_nn_cli(np.zeros((4, 2))))
    code, _, err = run(capsys, "train", "--out", str(tmp_path / "m.json"), "--epochs", "0")
    assert code == 2 and "--epochs must be positive" in err and err.count("\n") == 1
    code, _, err = run(capsys, "train")
    assert code == 2 and "--out" in err
    monkeypatch.setitem(sys.modules, "nn.cli", types.ModuleType("nn.cli"))
    code, _, err = run(capsys, "train")
    assert code == 2 and "add_train_arguments" in err


def test_cli_graph_command_does_not_import_nn(tmp_path: Path) -> None:
    code = "import sys; from viz.cli import main; main(['grad', 'x', '--at', 'x=1']); assert 'nn' not in sys.modules"
    env = {**os.environ}
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, timeout=60)


def test_cli_train_with_real_nn_writes_model_and_plots(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_path = tmp_path / "moons.json"
    argv = ["train", "--n", "40", "--hidden", "4", "--epochs", "2", "--no-progress", "--out", str(out_path)]
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    assert out_path.exists()
    for name in ("moons.loss.png", "moons.boundary.png"):
        assert f"wrote {tmp_path / name}" in out
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_train_real_nn_bad_option_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "train", "--epochs", "zero", "--out", str(tmp_path / "m.json"))
    assert code == 2 and err.count("\n") == 1 and "--epochs" in err
    code, _, err = run(capsys, "train", "--out", str(tmp_path / "missing" / "m.json"))
    assert code == 2 and "does not exist" in err


def test_cli_at_given_twice_adds_up_and_catches_a_duplicate(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["grad", "x*y", "--at", "x=1", "--at", "x=2"]) == 2
    assert "--at gives x twice" in capsys.readouterr().err
    assert main(["grad", "x*y", "--at", "x=3", "--at", "y=2"]) == 0
    out = capsys.readouterr().out
    assert "df/dx = 2" in out and "df/dy = 3" in out
