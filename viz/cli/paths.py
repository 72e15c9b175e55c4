"""Checks of an output path given on the command line, made before any work so a bad path fails at once.

:func:`check_output_path` refuses names the file system would refuse (a part
longer than :data:`MAX_NAME_BYTES` bytes, a path longer than
:data:`MAX_PATH_BYTES`), a missing directory, and a directory this process
cannot create files in (probed by creating and removing a temporary file
there, which also catches read-only mounts that :func:`os.access` misses).
Every refusal is a :class:`~viz.cli.command.CliError` naming the option.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .command import CliError
from .messages import shown

__all__ = ["MAX_NAME_BYTES", "MAX_PATH_BYTES", "check_name", "check_output_path"]

#: Longest file or directory name, in bytes (NAME_MAX of Linux, macOS and Windows file systems).
MAX_NAME_BYTES = 255
#: Longest path, in bytes (PATH_MAX of Linux).
MAX_PATH_BYTES = 4096


def check_name(option: str, path: Path) -> None:
    """Refuse a path whose name or whole length the file system cannot store.

    Raises:
        CliError: naming ``option``, the limit and the length found.
    """
    try:
        raw = os.fsencode(path)
    except UnicodeError:
        raise CliError(f"{option} {shown(str(path))}: the name cannot be encoded for this file system") from None
    if len(raw) > MAX_PATH_BYTES:
        raise CliError(f"{option}: the path is {len(raw)} bytes long, more than the limit of {MAX_PATH_BYTES}")
    for part in path.parts:
        n = len(os.fsencode(part))
        if n > MAX_NAME_BYTES:
            raise CliError(
                f"{option}: a file or directory name is {n} bytes long, more than the limit of "
                f"{MAX_NAME_BYTES}; choose a shorter name"
            )


def check_output_path(option: str, path: Path) -> None:
    """Refuse ``path`` unless its name is storable and its directory exists and takes new files.

    Raises:
        CliError: naming ``option`` and what to change.
    """
    check_name(option, path)
    parent = path.parent
    try:
        if not parent.is_dir():
            raise CliError(f"{option} {shown(path)}: directory {shown(parent)} does not exist; create it first")
        # Creating and removing a file is the one test that answers "can I write here?" for
        # every cause (permissions, a read-only mount, a full quota of inodes).
        fd, probe = tempfile.mkstemp(prefix=".autograd-core-probe-", dir=parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        reason = e.strerror or type(e).__name__
        raise CliError(
            f"{option} {shown(path)}: cannot write in {shown(parent)}: {reason}; choose a writable place"
        ) from None
