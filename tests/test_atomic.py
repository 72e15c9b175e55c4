"""Atomic writes: all or nothing, ordinary permissions, no temporary files left behind."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from autograd_core.atomic import atomic_open, atomic_path, atomic_write


def test_atomic_write_text_and_bytes_with_ordinary_permissions(tmp_path: Path) -> None:
    p = tmp_path / "a.txt"
    atomic_write(p, "héllo\n")
    assert p.read_bytes() == "héllo\n".encode()
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o644
    atomic_write(p, b"\x00\x01")
    assert p.read_bytes() == b"\x00\x01"
    assert sorted(os.listdir(tmp_path)) == ["a.txt"]


def test_atomic_open_failure_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    p = tmp_path / "model.json"
    p.write_text("old")
    with pytest.raises(RuntimeError, match="crash"):
        with atomic_open(p, "w") as f:
            f.write("half of the new conte")
            raise RuntimeError("crash")
    assert p.read_text() == "old"
    assert os.listdir(tmp_path) == ["model.json"]


def test_atomic_path_for_external_writers(tmp_path: Path) -> None:
    p = tmp_path / "g.svg"
    with atomic_path(p) as tmp:
        assert tmp.parent == tmp_path and tmp != p
        tmp.write_text("<svg/>")
        assert not p.exists()
    assert p.read_text() == "<svg/>"


def test_atomic_write_names_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        atomic_write(tmp_path / "nope" / "x.txt", "x")
    with pytest.raises(ValueError, match="mode"):
        with atomic_open(tmp_path / "x", "a"):
            pass
