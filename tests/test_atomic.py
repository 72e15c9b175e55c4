"""Atomic writes: all or nothing, ordinary permissions, no temporary files left behind."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from autograd_core.atomic import atomic_open, atomic_path, atomic_write


def test_atomic_write_text_and_bytes_with_ordinary_permissions(tmp_path: Path) -> None:
    p = tmp_path / "a.txt"
    old = os.umask(0o022)
    try:
        atomic_write(p, "héllo\n")
    finally:
        os.umask(old)
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


def test_atomic_write_respects_umask_and_keeps_an_existing_files_mode(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        atomic_write(tmp_path / "new.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "new.txt").st_mode) == 0o600
    secret = tmp_path / "secret.json"
    secret.write_text("old")
    os.chmod(secret, 0o600)
    atomic_write(secret, "new")
    assert secret.read_text() == "new"
    assert stat.S_IMODE(os.stat(secret).st_mode) == 0o600


def test_atomic_write_through_a_symlink_replaces_the_target(tmp_path: Path) -> None:
    target = tmp_path / "real.txt"
    target.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    atomic_write(link, "new")
    assert link.is_symlink()
    assert target.read_text() == "new"
