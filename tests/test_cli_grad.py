"""Tests of ``autograd-core grad`` (``viz.cli.grad``): derivatives to any order, named unambiguously."""

from __future__ import annotations

import math

import pytest
from cli_support import run, values


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


def test_cli_grad_notes_an_input_outside_the_domain_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "grad", "log(x) + log(x)", "--at", "x=-1")
    assert code == 0
    assert values(out)["f"] != values(out)["f"]  # nan, and now explained:
    assert err == "autograd-core: note: log: input -1 is outside its domain (x > 0; x = 0 gives -inf)\n"


def test_cli_grad_prints_no_note_at_a_smooth_point(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "grad", "log(x)", "--at", "x=2")
    assert code == 0 and err == ""
