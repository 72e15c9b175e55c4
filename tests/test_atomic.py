"""Atomic writes: all or nothing, ordinary permissions, no temporary files left behind."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from autograd_core.atomic import atomic_open, atomic_path, atomic_write, check_name


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


def test_atomic_write_through_own_symlink_in_a_private_directory_replaces_the_target(tmp_path: Path) -> None:
    target = tmp_path / "real.txt"
    target.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    atomic_write(link, "new")
    assert link.is_symlink()
    assert target.read_text() == "new"


def test_atomic_write_refuses_a_symlink_in_a_directory_others_can_write(tmp_path: Path) -> None:
    # /tmp-like: sticky and world-writable, so another user could have planted the link.
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = shared / "model.json"
    link.symlink_to(victim)
    with pytest.raises(PermissionError, match=r"refusing to save through the symbolic link .*other users.*real file"):
        atomic_write(link, "new")
    assert victim.read_text() == "precious"
    assert link.is_symlink()
    assert sorted(os.listdir(shared)) == ["model.json"]  # no temporary left behind


def test_atomic_write_refuses_a_symlink_owned_by_another_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = tmp_path / "model.json"
    link.symlink_to(victim)
    owner = os.lstat(link).st_uid
    monkeypatch.setattr(os, "geteuid", lambda: owner + 1)  # the saver is now someone other than the link's owner
    with pytest.raises(PermissionError, match="belongs to another user"):
        atomic_write(link, "new")
    assert victim.read_text() == "precious"


def test_atomic_write_follows_a_chain_of_own_links_and_refuses_a_loop(tmp_path: Path) -> None:
    target = tmp_path / "real.txt"
    (tmp_path / "b").symlink_to(target)
    (tmp_path / "a").symlink_to("b")  # relative, resolved against the link's directory
    atomic_write(tmp_path / "a", "new")
    assert target.read_text() == "new" and (tmp_path / "a").is_symlink()
    (tmp_path / "x").symlink_to("y")
    (tmp_path / "y").symlink_to("x")
    with pytest.raises(OSError, match="too many symbolic links"):
        atomic_write(tmp_path / "x", "new")


def test_atomic_write_clears_setuid_and_setgid_and_keeps_other_bits(tmp_path: Path) -> None:
    p = tmp_path / "tool"
    p.write_text("old")
    os.chmod(p, 0o6755)
    if stat.S_IMODE(os.stat(p).st_mode) != 0o6755:  # a file system that drops the bits itself
        pytest.fail("this file system does not keep setuid/setgid bits; run the test on another")
    atomic_write(p, "new")
    assert p.read_text() == "new"
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o755


def test_atomic_write_accepts_the_longest_legal_name_and_names_the_limit_past_it(tmp_path: Path) -> None:
    name_max = os.pathconf(tmp_path, "PC_NAME_MAX")
    longest = tmp_path / ("m" * (name_max - 5) + ".json")
    atomic_write(longest, "x")
    assert longest.read_text() == "x"
    assert os.listdir(tmp_path) == [longest.name]
    wide = tmp_path / ("é" * (name_max // 2 - 2) + ".json")  # 2 bytes a character: near the limit in bytes
    atomic_write(wide, "y")
    assert wide.read_text() == "y"
    with pytest.raises(ValueError, match=rf"is {name_max + 1} bytes long, more than the limit of {name_max} bytes"):
        atomic_write(tmp_path / ("m" * (name_max - 4) + ".json"), "x")


def test_atomic_open_keyboard_interrupt_leaves_no_temporary(tmp_path: Path) -> None:
    p = tmp_path / "m.json"
    p.write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_open(p, "w") as f:
            f.write("half")
            raise KeyboardInterrupt
    assert p.read_text() == "old" and os.listdir(tmp_path) == ["m.json"]


def _temporary_name(p: Path) -> str:
    """The name a save of ``p`` gives its temporary file (read from a real save)."""
    with atomic_path(p) as tmp:
        name = tmp.name
        tmp.write_text("x")
    return name


def _with_pid(name: str, pid: int) -> str:
    m = re.fullmatch(r"(.*[0-9a-f]{4}-)([0-9]+)(-[0-9a-f]{8}\.agc-tmp)", name)
    assert m is not None, name
    return f"{m[1]}{pid}{m[3]}"


def test_atomic_write_removes_stale_temporaries_of_its_target_only(tmp_path: Path) -> None:
    p = tmp_path / "m.json"
    name = _temporary_name(p)
    assert name.startswith(".m.json.") and name.endswith(".agc-tmp")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)  # that process has exited and been reaped
    stale = tmp_path / _with_pid(name, dead_pid)
    live = tmp_path / _with_pid(name, os.getppid())  # a writer that is still running: keep its file
    old = tmp_path / _with_pid(_temporary_name(p), os.getppid())  # a second save: another random part
    assert old != live
    unrelated = tmp_path / _with_pid(_temporary_name(tmp_path / "other.json"), dead_pid)
    lookalike = tmp_path / ".m.json.notours.tmp"
    for f in (stale, live, old, unrelated, lookalike):
        f.write_text("leftover")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(old, (two_days_ago, two_days_ago))
    atomic_write(p, "new")
    left = set(os.listdir(tmp_path))
    assert stale.name not in left and old.name not in left
    assert {live.name, unrelated.name, lookalike.name, "m.json", "other.json"} == left


def test_atomic_write_refuses_own_symlink_in_a_directory_another_user_owns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    link = theirs / "model.json"
    link.symlink_to(victim)
    real_stat = os.stat
    other = os.geteuid() + 1 if os.geteuid() else 12345

    def stat_with_another_owner(p: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        st = real_stat(p, *args, **kwargs)
        if os.fspath(p) == os.fspath(theirs):  # the directory's owner could swap the link
            fields = list(st)
            fields[stat.ST_UID] = other
            return os.stat_result(fields)
        return st

    monkeypatch.setattr(os, "stat", stat_with_another_owner)
    with pytest.raises(PermissionError, match="can be written by other users"):
        atomic_write(link, "new")
    assert victim.read_text() == "precious"


def test_check_name_refuses_a_missing_directory_and_an_overlong_name(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist; create it first"):
        check_name(tmp_path / "nope" / "a.txt")
    with pytest.raises(ValueError, match="choose a shorter name"):
        check_name(tmp_path / ("x" * 1000))
    check_name(tmp_path / "fine.txt")
    assert list(tmp_path.iterdir()) == []
