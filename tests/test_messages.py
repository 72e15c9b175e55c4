"""autograd_core.messages: bounded text and names shown by repr, for error messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograd_core.messages import MAX_MESSAGE, MAX_QUOTE, shorten, show_name, show_value


def test_shorten_keeps_short_text_and_cuts_long_text_to_the_bound() -> None:
    assert shorten("short") == "short"
    text = "a" * 5000 + "END"
    out = shorten(text, 100)
    assert len(out) <= 100 and out.startswith("aaa") and out.endswith("END")
    assert "5003 characters, cut" in out
    assert len(shorten("x" * 10**6)) <= MAX_MESSAGE


def test_shorten_rejects_bad_arguments() -> None:
    with pytest.raises(TypeError, match="needs a str"):
        shorten(b"x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least 40"):
        shorten("x", 10)


def test_show_name_escapes_control_characters() -> None:
    shown = show_name(Path("a\nb\x1b[2J.json"))
    assert shown == repr("a\nb\x1b[2J.json")
    assert "\n" not in shown and "\x1b" not in shown
    assert show_name(b"caf\xff.json") == repr("caf\udcff.json")  # undecodable bytes appear escaped


def test_show_value_bounds_huge_values_with_both_ends_visible() -> None:
    huge = "<" + "x" * 10_000_000 + ">"
    shown = show_value(huge)
    assert len(shown) <= MAX_QUOTE
    assert shown.startswith("'<x") and shown.endswith("x>'") and "10000002 characters, cut" in shown
    assert show_value([1, 2]) == "[1, 2]"
    assert len(show_value(list(range(10**5)), 60)) <= 60
