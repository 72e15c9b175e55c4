"""Tests of ``autograd-core check`` (``viz.cli.check``): analytic against central-difference gradients."""

from __future__ import annotations

import math

import pytest
from cli_support import run


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


def test_cli_check_at_a_kink_notes_the_kink_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check", "relu(x)", "--at", "x=0")
    assert code == 1
    assert "gradients DISAGREE" in out and "note:" not in out
    assert err.splitlines() == [
        "autograd-core: note: relu: input 0 is at its kink (x = 0): the derivative there is a convention "
        "(a subgradient), central differences need not agree with it"
    ]


def test_cli_check_notes_an_input_outside_the_domain(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "check", "sqrt(x)", "--at", "x=-1")
    assert code == 1
    assert err == "autograd-core: note: sqrt: input -1 is outside its domain (x >= 0)\n"


def test_cli_check_prints_no_note_where_the_gradients_agree(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "check", "relu(x)", "--at", "x=1")
    assert code == 0 and err == ""
