"""Atomic file writes: a temporary file in the target's directory, then ``os.replace``.

A reader (or a crash) sees either the old file or the complete new one, never
half of it.  Used by every writer in the project: saved models, DOT and SVG
files, plots, built notebooks.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_path", "atomic_open", "atomic_write"]


def _create_beside(target: Path) -> Path:
    """A new, empty temporary file in ``target``'s directory, with ordinary permissions.

    ``os.open(..., 0o666)`` lets the user's umask apply, as for any file a
    program creates (mkstemp would make it private, 0600).
    """
    for _ in range(100):
        tmp = target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp
    raise FileExistsError(f"could not create a temporary file beside {target}")


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


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path beside ``path`` for a writer (such as an external program) to fill.

    On normal exit the temporary file replaces ``path``; on an exception it is
    removed.  An existing file keeps its permission bits; a symbolic link is
    followed, so the file it points to is replaced and the link stays.

    Raises:
        FileNotFoundError: if the directory of ``path`` does not exist.
    """
    target = Path(os.path.realpath(os.fspath(path)))
    parent = target.parent
    if not parent.is_dir():
        raise FileNotFoundError(f"directory {Path(os.fspath(path)).parent} does not exist; create it first")
    tmp = _create_beside(target)
    try:
        try:
            os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
        except FileNotFoundError:
            pass  # a new file: the umask decided
        yield tmp
        os.replace(tmp, target)
        _fsync_dir(parent)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


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
    """Write ``data`` (text is UTF-8 with ``\\n`` line ends) to ``path`` atomically."""
    if isinstance(data, str):
        with atomic_open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(data)
    else:
        with atomic_open(path, "wb") as f:
            f.write(data)
