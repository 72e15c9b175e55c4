"""Tests of the output-path checks (``viz.cli.paths``): overlong names, unwritable directories, refused early."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from cli_support import one_error_line, run

from viz.cli import paths
from viz.cli.command import CliError


def test_cli_paths_graph_refuses_an_overlong_file_name(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    name = "g" * 300 + ".svg"
    code, out, err = run(capsys, "graph", "x", "--at", "x=1", "-o", str(tmp_path / name))
    line = one_error_line(err)  # an OSError traceback on main
    assert code == 2 and out == ""
    assert f"-o: a file or directory name is 304 bytes long, more than the limit of {paths.MAX_NAME_BYTES}" in line


def test_cli_paths_count_bytes_not_characters(tmp_path: Path) -> None:
    paths.check_name("-o", tmp_path / ("a" * 251 + ".svg"))  # 255 bytes: allowed
    with pytest.raises(CliError, match="258 bytes long"):
        paths.check_name("-o", tmp_path / ("é" * 127 + ".svg"))  # 131 characters, 258 bytes


def test_cli_paths_refuse_an_overlong_path(tmp_path: Path) -> None:
    deep = Path(*(["d" * 200] * 25), "g.svg")
    with pytest.raises(CliError, match=f"more than the limit of {paths.MAX_PATH_BYTES}"):
        paths.check_name("-o", deep)


def test_cli_paths_train_refuses_an_overlong_out_before_training(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nn

    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("nothing may be trained when --out cannot be written")

    monkeypatch.setattr(nn, "fit", never)
    # The model's name fits in 255 bytes, the plot's beside it ("....boundary.png") does not.
    out = tmp_path / ("m" * 245 + ".json")
    code, stdout, err = run(capsys, "train", "--epochs", "1", "--n", "20", "--out", str(out))
    assert code == 2 and stdout == ""  # no training line printed
    assert "--out: a file or directory name is 258 bytes long" in one_error_line(err)


def _refuse_new_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every directory refuse new files (tests run as root, so chmod would not)."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)


def test_cli_paths_train_checks_the_out_directory_is_writable_before_training(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nn

    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("nothing may be trained when --out cannot be written")

    monkeypatch.setattr(nn, "fit", never)
    _refuse_new_files(monkeypatch)
    code, out, err = run(capsys, "train", "--epochs", "1", "--n", "20", "--out", str(tmp_path / "m.json"))
    assert code == 2 and out == ""
    assert f"--out {tmp_path / 'm.json'}: cannot write in {tmp_path}: Permission denied" in one_error_line(err)


def test_cli_paths_graph_checks_the_output_directory_before_computing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _refuse_new_files(monkeypatch)
    code, out, err = run(capsys, "graph", "x", "--at", "x=1", "-o", str(tmp_path / "g.dot"))
    assert code == 2 and out == ""
    assert f"cannot write in {tmp_path}: Permission denied" in one_error_line(err)


def test_cli_paths_probe_leaves_nothing_behind(tmp_path: Path) -> None:
    paths.check_output_path("--out", tmp_path / "m.json")
    assert list(tmp_path.iterdir()) == []
