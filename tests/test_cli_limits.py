"""Tests of the command line's bounds (``viz.cli.limits``): argv, derivative cost, network size, refused early."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import pytest
from cli_support import one_error_line, run

from viz.cli import limits


def test_cli_limits_refuse_too_many_arguments_before_argparse(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["grad", "x", "--at", "x=1"] + ["--at"] * 40_000
    start = time.perf_counter()
    code, _, err = run(capsys, *argv)
    assert time.perf_counter() - start < 1.0  # argparse alone takes over a minute on these
    assert code == 2 and f"40004 arguments is more than the limit of {limits.MAX_ARGS}" in one_error_line(err)


def test_cli_limits_refuse_an_overlong_argument(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "grad", "x", "--at", "x=" + "1" * (limits.MAX_ARG_LENGTH + 1))
    assert code == 2
    line = one_error_line(err)
    assert f"argument 4 is {limits.MAX_ARG_LENGTH + 3} characters long" in line and len(line) < 200


def test_cli_limits_accept_honest_argument_vectors(capsys: pytest.CaptureFixture[str]) -> None:
    names = [f"a{i}" for i in range(90)]
    flags = [a for n in names for a in ("--at", f"{n}=1")]  # one --at per variable: 180 arguments
    code, out, err = run(capsys, "grad", "+".join(names), *flags)
    assert code == 0, err
    assert "df/da89 = 1" in out


def test_cli_limits_derivative_cost_counts_partials_and_growth() -> None:
    # 2 variables to order 2: 2 first partials at 3x, 3 second partials at 9x the 10 nodes.
    assert limits.derivative_cost(10, 2, 2) == 2 * 10 * 3 + 3 * 10 * 9
    assert limits.derivative_cost(10, 1, 1) == 30


def test_cli_limits_grad_refuses_a_costly_order_at_once(capsys: pytest.CaptureFixture[str]) -> None:
    # Six variables in a 32-deep nest of tanh: order 5 took 15 s and order 6 two minutes before the budget.
    e = "x"
    for i in range(32):
        e = f"tanh({e}*{'abcde'[i % 5]}+{'abcde'[(i + 2) % 5]})"
    at = ["x=0.1", "a=0.2", "b=0.3", "c=0.4", "d=0.5", "e=0.6"]
    start = time.perf_counter()
    code, out, err = run(capsys, "grad", e, "--at", *at, "--order", "5")
    assert time.perf_counter() - start < 2.0
    line = one_error_line(err)
    assert code == 2 and out == ""
    assert "--order 5 on this expression (102 graph nodes, 6 variable(s))" in line
    assert f"more than the budget of {limits.MAX_DERIVATIVE_NODES:,}" in line
    code, out, err = run(capsys, "grad", e, "--at", *at, "--order", "3")  # still allowed: about 0.1 s
    assert code == 0, err
    assert "d3f/de^3 = " in out


def test_cli_limits_grad_keeps_honest_sixth_orders(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "grad", "tanh(x*w + b)", "--at", "x=0.5", "w=-1", "b=0.1", "--order", "6")
    assert code == 0, err
    assert "d6f/db^6 = " in out


def test_cli_limits_mlp_parameters_counts_weights_and_biases() -> None:
    import random

    import nn

    model = nn.MLP(3, [5, 4, 2], rng=random.Random(0))
    assert limits.mlp_parameters(3, [5, 4, 2]) == len(model.parameters()) == 4 * 5 + 6 * 4 + 5 * 2


def _never_train(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail at once if anything is built or trained: a refused run must stop before that."""
    import nn

    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("nothing may be built or trained for a refused run")

    monkeypatch.setattr(nn, "MLP", never)
    monkeypatch.setattr(nn, "fit", never)


def test_cli_limits_train_refuses_a_huge_network_before_building_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nn

    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the MLP must not be built")

    monkeypatch.setattr(nn, "MLP", never)
    start = time.perf_counter()
    code, _, err = run(capsys, "train", "--hidden", "100000,100000", "--out", str(tmp_path / "m.json"))
    assert time.perf_counter() - start < 2.0
    line = one_error_line(err)
    assert code == 2 and "--hidden 100000,100000" in line
    assert f"{limits.mlp_parameters(2, [100000, 100000, 1]):,} parameters" in line
    assert f"more than the limit of {limits.MAX_PARAMETERS:,}" in line
    assert list(tmp_path.iterdir()) == []


def test_cli_limits_train_counts_the_data_sets_outputs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _never_train(monkeypatch)
    # blobs has 3 classes, so 3 outputs: a width that fits with one output (moons) is refused with three.
    width = math.floor((limits.MAX_PARAMETERS - 1) / 5)
    assert limits.mlp_parameters(2, [width, 1]) <= limits.MAX_PARAMETERS < limits.mlp_parameters(2, [width, 3])
    code, _, err = run(capsys, "train", "--dataset", "blobs", "--hidden", str(width), "--out", str(tmp_path / "m.json"))
    assert code == 2 and f"(2 inputs, 3 output(s)) would have {6 * width + 3:,} parameters" in one_error_line(err)


@pytest.mark.parametrize(
    ("option", "value", "bound"),
    [
        ("--n", "1" + "0" * 30, limits.MAX_SAMPLES),
        ("--n", str(limits.MAX_SAMPLES + 1), limits.MAX_SAMPLES),
        ("--batch-size", "10" * 10, limits.MAX_SAMPLES),
        ("--epochs", "1" + "0" * 20, limits.MAX_EPOCHS),
    ],
)
def test_cli_limits_train_bounds_counts_naming_the_option(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    option: str,
    value: str,
    bound: int,
) -> None:
    _never_train(monkeypatch)
    code, _, err = run(capsys, "train", option, value, "--out", str(tmp_path / "m.json"))
    line = one_error_line(err)
    assert code == 2 and f"argument {option}: expected a positive int, at most {bound}" in line


def test_cli_limits_train_bounds_the_number_of_layers(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _never_train(monkeypatch)
    hidden = ",".join(["1"] * (limits.MAX_LAYERS + 1))
    code, _, err = run(capsys, "train", "--hidden", hidden, "--out", str(tmp_path / "m.json"))
    assert code == 2 and f"more than the limit of {limits.MAX_LAYERS}" in one_error_line(err)
