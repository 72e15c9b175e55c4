"""Helpers shared by the command-line tests: run ``autograd-core`` in this process and read its output."""

from __future__ import annotations

import pytest

from viz.cli import main


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


def one_error_line(err: str) -> str:
    """``err`` if it is exactly one ``autograd-core: error: ...`` line without a traceback."""
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith("autograd-core: error: "), err
    return err
