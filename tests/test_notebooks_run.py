"""Every notebook runs top to bottom in a fresh kernel: the lessons check their own numbers.

The kernel talks over IPC sockets in a private temporary directory rather
than TCP, so no port is opened and ipykernel has no reason to warn that its
traffic is unencrypted (the warning that every notebook run used to print).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
#: Seconds one cell may run (the slowest lesson cell takes well under a minute here).
CELL_TIMEOUT = 900


def test_notebooks_are_all_found() -> None:
    assert len(NOTEBOOKS) == 7, [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_without_error(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    # A short private directory: unix socket paths are limited to about 100 bytes.
    sockets = tempfile.mkdtemp(prefix="agc-nb-")
    try:
        km = KernelManager(kernel_name="python3", transport="ipc", ip=str(Path(sockets) / "kernel"))
        client = NotebookClient(nb, km=km, timeout=CELL_TIMEOUT, resources={"metadata": {"path": str(path.parent)}})
        try:
            client.execute()
        except CellExecutionError as e:
            pytest.fail(f"{path.name}: a cell failed:\n{str(e)[-4000:]}", pytrace=False)
    finally:
        shutil.rmtree(sockets, ignore_errors=True)
