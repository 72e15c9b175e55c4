"""Tests of the expression commands' shared inputs (``viz.cli.inputs``): EXPR, ``--at``, expressions starting with -."""

from __future__ import annotations

import pytest
from cli_support import one_error_line, run, values


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


@pytest.mark.parametrize("value", ["１", "٣", "１.５", "-٢", "1e١"])
def test_cli_inputs_refuse_non_ascii_digits_like_the_expression(capsys: pytest.CaptureFixture[str], value: str) -> None:
    code, out, err = run(capsys, "grad", "x", "--at", f"x={value}")
    assert code == 2 and out == ""  # float() reads these as numbers; main printed df/dx
    assert f"write the value {value!r} in ASCII digits" in one_error_line(err)
    # The expression refuses the same digits.
    code, _, err = run(capsys, "grad", f"x+{value}", "--at", "x=1")
    assert code == 2 and "non-ASCII character" in one_error_line(err)
