"""Atomic file writes: a temporary file in the target's directory, then ``os.replace``.

A reader (or a crash) sees either the old file or the complete new one, never
half of it.  Used by every writer in the project: saved models, DOT and SVG
files, plots, built notebooks.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_path", "atomic_open", "atomic_write"]

# mkstemp makes files private (0600); what we write are ordinary, shareable files.
_MODE = 0o644


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path beside ``path`` for a writer (such as an external program) to fill.

    On normal exit the temporary file replaces ``path``; on an exception it is removed.

    Raises:
        FileNotFoundError: if the directory of ``path`` does not exist.
    """
    target = Path(os.fspath(path))
    parent = target.parent
    if not parent.is_dir():
        raise FileNotFoundError(f"directory {parent} does not exist; create it first")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent)
    os.close(fd)
    try:
        os.chmod(tmp, _MODE)
        yield Path(tmp)
        os.replace(tmp, target)
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
