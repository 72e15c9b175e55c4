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
    assert values(out)["df/dx"] == 3
    assert (tmp_path / "g.dot").exists() and not (tmp_path / "g.svg").exists()


def test_cli_grad_order_two_nests_grad(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "grad", "x**3", "--at", "x=2", "--order", "3")
    assert code == 0
    v = values(out)
    assert (v["f"], v["df/dx"], v["d2f/dx2"], v["d3f/dx3"]) == (8, 12, 12, 6)  # 3x^2, 6x, 6 at x=2


def test_cli_grad_mixed_partials(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "grad", "x*y**2 + sin(x)", "--at", "x=0.5", "y=3", "--order", "2")
    assert code == 0
    v = values(out)
    assert v["df/dx"] == pytest.approx(9 + math.cos(0.5))
    assert v["df/dy"] == pytest.approx(3.0)
    assert v["d2f/dx2"] == pytest.approx(-math.sin(0.5))
    assert v["d2f/dxdy"] == pytest.approx(6.0)
    assert v["d2f/dy2"] == pytest.approx(1.0)
    assert "d2f/dydx" not in v  # symmetric partials printed once


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["grad", "-x**2", "--at", "x=3"], {"f": -9, "df/dx": -6}),
        (["grad", "--at", "x=3", "-x**2"], {"f": -9, "df/dx": -6}),
        (["grad", "-o*x", "--at", "o=2", "x=5"], {"f": -10, "df/do": -5, "df/dx": -2}),
        (["grad", "-2*x", "--at", "x=1"], {"f": -2, "df/dx": -2}),
        (["grad", "x*2", "--at", "x=-1.5"], {"f": -3, "df/dx": 2}),
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
