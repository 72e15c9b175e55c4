"""Tests of what the command line prints about its input (``viz.cli.messages``): short, one line, terminal-safe."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import one_error_line, run

from viz.cli.command import fail
from viz.cli.messages import MAX_LISTED, MAX_MESSAGE, bounded, listing, shown


def test_messages_shown_keeps_printable_names_and_reprs_the_rest() -> None:
    assert shown("graph.svg") == "graph.svg"
    assert shown(Path("dir/ü.svg")) == "dir/ü.svg"
    assert shown("a\nb") == "'a\\nb'"
    assert shown("\x1b[31mred") == "'\\x1b[31mred'"


def test_messages_listing_counts_what_it_leaves_out() -> None:
    assert listing(["a", "b"]) == "a, b"
    names = [f"v{i}" for i in range(100)]
    text = listing(names)
    assert text == ", ".join(names[:MAX_LISTED]) + f" and {100 - MAX_LISTED} more"


def test_messages_bounded_cuts_long_messages_and_says_how_much() -> None:
    assert bounded("short  message\nhere") == "short message here"
    text = bounded("x" * 10_000)
    assert len(text) <= MAX_MESSAGE + 5 and text.endswith("more characters)")
    kept = text.index("...")
    assert text[kept:] == f"... ({10_000 - kept} more characters)"


def test_messages_bounded_escapes_control_characters() -> None:
    assert bounded("bad \x1b[2J name\x07") == "bad \\x1b[2J name\\x07"


def test_messages_fail_prints_one_bounded_line(capsys: pytest.CaptureFixture[str]) -> None:
    fail("y" * 100_000 + "\n\x1b[31m")
    err = capsys.readouterr().err
    assert len(one_error_line(err)) < MAX_MESSAGE + 40 and "\x1b" not in err


def test_cli_messages_unused_at_names_are_listed_briefly(capsys: pytest.CaptureFixture[str]) -> None:
    at = [f"unused{i}=1" for i in range(900)]
    code, _, err = run(capsys, "grad", "x", "--at", "x=1", *at)
    line = one_error_line(err)
    assert code == 2 and len(line) < MAX_MESSAGE + 40  # 11 KB on main
    assert (
        f"--at gives unused0, unused1, unused2, unused3, unused4, unused5, unused6, unused7 and {900 - 8} more" in line
    )


def test_cli_messages_missing_names_are_listed_briefly(capsys: pytest.CaptureFixture[str]) -> None:
    names = [f"v{i}" for i in range(60)]
    code, _, err = run(capsys, "grad", "+".join(names))
    line = one_error_line(err)
    assert code == 2 and "no value for v0, v1" in line and "and 52 more" in line and len(line) < MAX_MESSAGE + 40


@pytest.mark.parametrize("name", ["a\nb.png", "x\x1b[2Jy.png", "tab\there.png"])
def test_cli_messages_file_names_with_control_characters_are_shown_by_repr(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str
) -> None:
    code, _, err = run(capsys, "graph", "x", "--at", "x=1", "-o", str(tmp_path / name))
    line = one_error_line(err)
    assert code == 2 and repr(str(tmp_path / name)) in line
    assert "\x1b" not in err and "\t" not in err


def test_cli_messages_written_file_names_are_shown_by_repr(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "a\nb.dot"
    code, out, _ = run(capsys, "graph", "x", "--at", "x=1", "-o", str(path))
    assert code == 0 and path.exists()
    assert f"wrote {str(path)!r}\n" in out
