"""Tests of the train command (viz.cli.train) around real training: failed writes, --out, divergence, the global RNGs.

tests/test_cli_train.py holds the command's other tests.
"""

from __future__ import annotations

import argparse
import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import nn
from viz.cli import build_parser
from viz.cli import main as console_main
from viz.cli.train import run_train


def _train_argv(out: Path, *extra: str) -> list[str]:
    return ["--n", "20", "--hidden", "3", "--epochs", "1", "--no-progress", "--out", str(out), *extra]


def test_unwritable_out_is_exit_2_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(model: object, path: object) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(nn, "save", refuse)
    out = tmp_path / "m.json"
    assert console_main(["train", *_train_argv(out)]) == 2
    err = capsys.readouterr().err
    assert f"--out {out}: cannot write: Permission denied" in err and "Traceback" not in err
    assert console_main(["train", *_train_argv(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"--out {out}: cannot write: Permission denied" in err


@pytest.mark.parametrize("plot", ["m.loss.png", "m.boundary.png"])
def test_plot_path_that_is_a_directory_fails_before_training(
    plot: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / plot).mkdir()
    out = tmp_path / "m.json"
    assert console_main(["train", *_train_argv(out)]) == 2
    captured = capsys.readouterr()
    assert f"{tmp_path / plot} (where the plot goes) is a directory" in captured.err
    assert "training MLP" not in captured.out  # refused before training
    assert not out.exists()


def test_plot_write_failure_after_saving_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import viz.plots

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device", str(kwargs.get("path")))

    monkeypatch.setattr(viz.plots, "plot_history", refuse)
    out = tmp_path / "m.json"
    assert console_main(["train", *_train_argv(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot write: No space left on device" in err and "m.loss.png" in err


def test_out_must_end_in_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "model.txt"
    assert console_main(["train", *_train_argv(out)]) == 2
    assert f"--out {out}: the model is saved as JSON; give a file name ending in .json" in capsys.readouterr().err
    assert not out.exists()


def test_out_that_exists_is_overwritten_with_a_note(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "m.json"
    assert console_main(["train", *_train_argv(out)]) == 0
    assert "overwriting" not in capsys.readouterr().out
    out.write_text("old")
    assert console_main(["train", *_train_argv(out)]) == 0
    assert f"overwriting {out}\nsaved model to {out}" in capsys.readouterr().out
    assert isinstance(nn.load(out), nn.MLP)


def test_train_command_stops_at_divergence_and_saves_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "m.json"
    argv = ["--n", "40", "--epochs", "30", "--optimizer", "sgd", "--lr", "1e6", "--no-progress", "--out", str(out)]
    assert console_main(["train", *argv]) == 2
    captured = capsys.readouterr()
    found = re.search(r"training diverged at epoch (\d+) \(loss (nan|inf)\); lower --lr \(now 1e6\)$", captured.err)
    assert found is not None, captured.err
    assert 1 <= int(found.group(1)) < 30  # stopped there, not after all 30 epochs
    assert "final model" not in captured.out and "saved" not in captured.out
    assert not out.exists()


def test_train_command_leaves_the_global_rngs_untouched(tmp_path: Path) -> None:
    random.seed(12345)
    np.random.seed(54321)
    py_state = random.getstate()
    np_state: Any = np.random.get_state()
    args = build_parser().parse_args(["train", "--n", "30", "--hidden", "3", "--epochs", "1", "--no-progress",
                                          "--out", str(tmp_path / "c.json")])  # fmt: skip
    assert isinstance(args, argparse.Namespace)
    with open(tmp_path / "log.txt", "w") as log:
        run_train(args, out=log)
    assert random.getstate() == py_state
    now: Any = np.random.get_state()
    assert now[0] == np_state[0] and np.array_equal(now[1], np_state[1]) and now[2:] == np_state[2:]
