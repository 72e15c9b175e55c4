"""Atomic file writes: a temporary file in the target's directory, then ``os.replace``.

A reader (or a crash) sees either the old file or the complete new one, never
half of it.  Used by every writer in the project: saved models, DOT and SVG
files, plots, built notebooks.

What a save does, and why:

* **Symbolic links.**  A save whose final name is a symbolic link follows it
  (the file it points to is replaced and the link stays, as an editor or
  ``open()`` would) only when the link is the saver's own and sits in a
  directory no other user can write to.  A link owned by someone else, or in a
  shared directory such as ``/tmp`` (where another user could have planted or
  swapped it), is refused with a :class:`PermissionError` that says to pass the
  real path.  Links are followed one hop at a time, each hop checked; nothing is
  resolved with ``realpath`` (directories on the way are walked by the kernel,
  whose own protections then apply).
* **Permissions.**  A new file gets ``0o666`` minus the umask; a replaced file
  keeps its permission bits except setuid and setgid, which are always cleared
  (new content must not inherit privileges granted to the old).
* **Names.**  A final name longer than the directory's ``NAME_MAX`` is a
  ``ValueError`` naming the limit; the temporary name is shortened to fit.
* **Temporary files.**  The temporary file is removed on every exit Python can
  see (an exception, ``KeyboardInterrupt``).  No signal handler is installed: a
  library must not take over a program's ``SIGTERM``.  A save killed outright
  (``SIGKILL``, an unhandled ``SIGTERM``, a power cut) leaves its temporary
  file behind; the next save of the same target removes such leftovers: files
  of this module's temporary-name pattern for that target, owned by the saver,
  regular files, and either written by a process of this host that no longer
  exists or older than :data:`STALE_AFTER` seconds.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
import socket
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from .messages import show_name

__all__ = ["atomic_path", "atomic_open", "atomic_write", "check_name", "STALE_AFTER", "TEMP_SUFFIX"]

#: Every temporary file ends so: ``.<name>.<target hash>-<host hash>-<pid>-<random>.agc-tmp``.
TEMP_SUFFIX = ".agc-tmp"
#: A leftover temporary file older than this (seconds) is removed whoever wrote it
#: (its writer may be on another host, or its pid reused).
STALE_AFTER = 24 * 3600.0
_MAX_LINK_HOPS = 40  # as the kernel's MAXSYMLINKS
_DEFAULT_NAME_MAX = 255


def _short_hash(text: str) -> str:
    return hashlib.sha256(os.fsencode(text)).hexdigest()[:8]


_HOST = _short_hash(socket.gethostname())[:4]


def _name_max(directory: Path) -> int:
    try:
        return os.pathconf(directory, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):  # no pathconf (Windows) or no answer
        return _DEFAULT_NAME_MAX


def _temp_prefix(target: Path, name_max: int) -> str:
    """``.<name, shortened to fit>.<hash of the full name>-``: shared by every temporary of ``target``."""
    tag = f".{_short_hash(target.name)}-"
    # room for "." + name + tag + host-pid-random + suffix within name_max bytes
    tail_len = len(f"{_HOST}-{2**22}-{'0' * 8}{TEMP_SUFFIX}")
    room = name_max - 1 - len(tag) - tail_len
    name = target.name
    while len(os.fsencode(name)) > room:
        name = name[:-1]
    return f".{name}{tag}"


_TAIL = re.compile(r"(?P<host>[0-9a-f]{4})-(?P<pid>[0-9]+)-[0-9a-f]{8}" + re.escape(TEMP_SUFFIX))


def _pid_is_gone(pid: int) -> bool:
    if pid == os.getpid() or os.name == "nt":
        # Another thread of this process may be saving the same target; and Windows'
        # os.kill(pid, 0) would terminate the process instead of probing it.
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OSError, OverflowError):
        return False  # exists (someone else's), or unknowable: keep the file
    return False


def _remove_stale(directory: Path, prefix: str) -> None:
    """Remove leftovers of earlier killed saves of this target (see the module docstring for the rules)."""
    try:
        entries = [e for e in os.scandir(directory) if e.name.startswith(prefix)]
    except OSError:
        return
    now = time.time()
    uid = os.geteuid() if hasattr(os, "geteuid") else None
    for entry in entries:
        m = _TAIL.fullmatch(entry.name[len(prefix) :])
        if m is None:
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode) or (uid is not None and st.st_uid != uid):
            continue
        same_host = m["host"] == _HOST
        if now - st.st_mtime > STALE_AFTER or (same_host and _pid_is_gone(int(m["pid"]))):
            try:
                os.unlink(entry.path)
            except OSError:
                pass  # already gone, or not ours to remove after all


def _create_beside(target: Path, prefix: str) -> Path:
    """A new, empty temporary file in ``target``'s directory, with ordinary permissions.

    ``os.open(..., 0o666)`` lets the user's umask apply, as for any file a
    program creates (mkstemp would make it private, 0600).
    """
    for _ in range(100):
        tmp = target.parent / f"{prefix}{_HOST}-{os.getpid()}-{secrets.token_hex(4)}{TEMP_SUFFIX}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp
    raise FileExistsError(f"could not create a temporary file beside {show_name(target)}")


def _fsync_dir(directory: Path) -> None:
    # Make the rename itself durable; not every platform can open a directory.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _others_can_write(directory: Path) -> bool:
    """Whether a user other than the saver (and root) may add, remove or rename entries of ``directory``."""
    st = os.stat(directory)
    if hasattr(os, "geteuid") and st.st_uid not in (os.geteuid(), 0):
        return True  # its owner can
    return bool(st.st_mode & (stat.S_IWGRP | stat.S_IWOTH))


def _follow_links(path: Path) -> Path:
    """The file a save of ``path`` replaces: ``path``, or where the saver's own safe links lead.

    Raises:
        PermissionError: for a link the saver must not write through.
        OSError: for a loop of links.
    """
    current = path
    for _ in range(_MAX_LINK_HOPS):
        try:
            st = os.lstat(current)
        except FileNotFoundError:
            return current
        if not stat.S_ISLNK(st.st_mode):
            return current
        dest = os.readlink(current)
        owner_ok = not hasattr(os, "geteuid") or st.st_uid == os.geteuid()
        why = None
        if not owner_ok:
            why = "it belongs to another user"
        elif _others_can_write(current.parent):
            why = f"its directory {show_name(current.parent)} can be written by other users, who could have swapped it"
        if why is not None:
            raise PermissionError(
                errno.EACCES,
                f"refusing to save through the symbolic link {show_name(current)} -> {show_name(dest)}: {why}; "
                "pass the path of the real file instead, or remove the link",
            )
        current = current.parent / dest  # an absolute dest replaces the parent
    raise OSError(errno.ELOOP, f"too many symbolic links while saving {show_name(path)}")


def check_name(path: str | os.PathLike[str]) -> None:
    """Check, before anything is written, that a save of ``path`` can work: its directory exists, its name fits.

    Raises:
        FileNotFoundError: if the directory of ``path`` does not exist.
        ValueError: if the file name is longer than the directory's ``NAME_MAX`` (in bytes).
    """
    given = Path(os.fspath(path))
    if not given.parent.is_dir():
        raise FileNotFoundError(f"directory {show_name(given.parent)} does not exist; create it first")
    _check_name(given, _name_max(given.parent))


def _check_name(target: Path, name_max: int) -> None:
    size = len(os.fsencode(target.name))
    if size > name_max:
        raise ValueError(
            f"the file name {show_name(target.name)} is {size} bytes long, more than the limit of {name_max} "
            f"bytes for one name in {show_name(target.parent)}; choose a shorter name"
        )


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path beside ``path`` for a writer (such as an external program) to fill.

    On normal exit the temporary file replaces ``path``; on an exception
    (``KeyboardInterrupt`` included) it is removed.  An existing file keeps its
    permission bits except setuid/setgid; the saver's own symbolic link in a
    private directory is followed (see the module docstring).

    Raises:
        FileNotFoundError: if the directory of ``path`` does not exist.
        ValueError: if the file name is longer than the directory allows.
        PermissionError: for a symbolic link the save refuses to follow.
    """
    given = Path(os.fspath(path))
    check_name(given)
    target = _follow_links(given)
    parent = target.parent
    if not parent.is_dir():
        raise FileNotFoundError(
            f"the symbolic link {show_name(given)} points into {show_name(parent)}, which does not exist"
        )
    name_max = _name_max(parent)
    _check_name(target, name_max)
    prefix = _temp_prefix(target, name_max)
    _remove_stale(parent, prefix)
    tmp: Path | None = None
    try:
        tmp = _create_beside(target, prefix)
        try:
            mode = stat.S_IMODE(os.stat(target).st_mode) & ~(stat.S_ISUID | stat.S_ISGID)
            os.chmod(tmp, mode)
        except FileNotFoundError:
            pass  # a new file: the umask decided
        yield tmp
        os.replace(tmp, target)
        tmp = None
        _fsync_dir(parent)
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass


@contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "wb", **kwargs: Any) -> Iterator[IO[Any]]:
    """``open(path, mode)`` that lands atomically (and flushed to disk) when the block ends without error."""
    if mode not in ("w", "wb", "wt"):
        raise ValueError(f"atomic_open writes whole files: mode must be 'w' or 'wb', got {mode!r}")
    with atomic_path(path) as tmp:
        with open(tmp, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())


def atomic_write(path: str | os.PathLike[str], data: bytes | str) -> None:
    """Write ``data`` (text is UTF-8 with ``\\n`` line ends) to ``path`` atomically.

    Raises:
        The errors of :func:`atomic_path`, and ``OSError`` if writing fails (the old file is left as it was).
    """
    if isinstance(data, str):
        with atomic_open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(data)
    else:
        with atomic_open(path, "wb") as f:
            f.write(data)
