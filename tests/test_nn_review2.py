"""Second-round review findings on nn and the train command: class labels, writes, variances,
state-dict dtypes, --out, foreign optimizers, divergence, --at given twice."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import numpy as np
import pytest

import nn
from nn import cli, optim
from viz.cli import main as console_main

X3 = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])


# -- 1. cross_entropy labels must be whole class indices ---------------------------------------


@pytest.mark.parametrize("compile", [False, True])
@pytest.mark.parametrize(
    ("y", "bad"),
    [
        ([0.5, 1.5, 2.5], "y[0] = 0.5"),
        ([0, 1.99, 2], "y[1] = 1.99"),
        ([0, 1, 3], "y[2] = 3"),
        ([0, -1, 2], "y[1] = -1"),
    ],
)
def test_fit_refuses_labels_that_are_not_class_indices(compile: bool, y: list[float], bad: str) -> None:
    m = nn.MLP(2, [3], rng=random.Random(0))
    before = [p.data for p in m.parameters()]
    with pytest.raises(ValueError, match=r"fit: " + re_escape(bad) + r" is not a class index.*\[0, 3\)"):
        nn.fit(m, X3, y, loss="cross_entropy", optimizer=optim.SGD(m.parameters(), lr=0.1), epochs=1,
               progress=False, compile=compile)  # fmt: skip
    assert [p.data for p in m.parameters()] == before  # refused before any step


@pytest.mark.parametrize("compile", [False, True])
def test_evaluate_refuses_fractional_labels_and_keeps_whole_float_ones(compile: bool) -> None:
    m = nn.MLP(2, [3], rng=random.Random(0))
    with pytest.raises(ValueError, match=r"evaluate: y\[0\] = 0.9 is not a class index"):
        nn.evaluate(m, X3, [0.9, 0.2, 1.99], loss="cross_entropy", compile=compile)
    # Whole numbers stored as floats are class indices and score as the ints do.
    as_float = nn.evaluate(m, X3, np.array([0.0, 1.0, 2.0]), loss="cross_entropy", compile=compile)
    assert as_float == nn.evaluate(m, X3, np.array([0, 1, 2]), loss="cross_entropy", compile=compile)


def test_fit_names_the_callers_index_with_val_split_and_checks_val_labels() -> None:
    X = np.zeros((10, 2))
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2.5, 0])
    m = nn.MLP(2, [3], rng=random.Random(0))
    with pytest.raises(ValueError, match=r"fit: y\[8\] = 2.5"):
        nn.fit(m, X, y, loss="cross_entropy", optimizer=optim.SGD(m.parameters(), lr=0.1), epochs=1,
               val_split=0.5, progress=False)  # fmt: skip
    with pytest.raises(ValueError, match=r"fit val: y\[1\] = 7"):
        nn.fit(m, X3, [0, 1, 2], loss="cross_entropy", optimizer=optim.SGD(m.parameters(), lr=0.1), epochs=1,
               val=(X3, [0, 7, 1]), progress=False)  # fmt: skip


def re_escape(text: str) -> str:
    return re.escape(text)


# -- 2. writes that fail are one-line errors, plot paths are checked before training -----------


def _train_argv(out: Path, *extra: str) -> list[str]:
    return ["--n", "20", "--hidden", "3", "--epochs", "1", "--no-progress", "--out", str(out), *extra]


def test_unwritable_out_is_exit_2_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(model: object, path: object) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(cli, "save", refuse)
    out = tmp_path / "m.json"
    assert cli.main(_train_argv(out)) == 2
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


# -- 3, 4. variances and dtypes of a state ----------------------------------------------------


def test_load_state_dict_refuses_a_negative_running_var() -> None:
    bn = nn.BatchNorm(3)
    sd = bn.state_dict()
    sd["running_var"] = np.array([1.0, -0.5, 1.0])
    with pytest.raises(ValueError, match=r"'running_var' holds -0.5 at flat index 1.*must be >= 0"):
        bn.load_state_dict(sd)
    assert [v.data for v in bn._running_var] == [1.0, 1.0, 1.0]  # nothing changed
    sd["running_var"] = np.array([0.0, 2.0, 1.0])  # zero is a valid variance
    bn.load_state_dict(sd)
    bn.eval()
    assert bn([[1.0, 2.0, 3.0]])[0][1].data == pytest.approx(2.0 / np.sqrt(2.0 + 1e-5))


def test_load_refuses_a_negative_running_var_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bn.json"
    nn.save(nn.BatchNorm(3), path)
    doc = json.loads(path.read_text())
    doc["state"]["running_var"][2] = -2.0
    path.write_text(json.dumps(doc))
    with pytest.raises(
        ValueError, match=re_escape(f"cannot load model from {str(path)!r}: state entry 'running_var'[2] is -2.0")
    ):
        nn.load(path)


@pytest.mark.parametrize(
    "bad",
    [
        np.array([["0.5", "1"], ["1", "1"]]),
        np.ones((2, 2), dtype=bool),
        np.ones((2, 2)) + 1j,
        np.array([[None, 1.0], [1.0, 1.0]], dtype=object),
    ],
    ids=["str", "bool", "complex", "object"],
)
def test_load_state_dict_refuses_non_real_dtypes(bad: np.ndarray) -> None:
    m = nn.MLP(2, [2], rng=random.Random(0))
    before = m.state_dict()
    sd = dict(before, **{"layers.0.weight": bad})
    with pytest.raises(TypeError, match=re_escape(f"'layers.0.weight' has dtype {bad.dtype}")):
        m.load_state_dict(sd)
    assert all(np.array_equal(before[k], v) for k, v in m.state_dict().items())
    # Int arrays are real numbers and load.
    m.load_state_dict(dict(before, **{"layers.0.weight": np.array([[1, 2], [3, 4]])}))
    assert m.state_dict()["layers.0.weight"].tolist() == [[1.0, 2.0], [3.0, 4.0]]


# -- 5. --out must be .json; an existing file is overwritten, and the user is told ----------


def test_out_must_end_in_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "model.txt"
    assert cli.main(_train_argv(out)) == 2
    assert f"--out {out}: the model is saved as JSON; give a file name ending in .json" in capsys.readouterr().err
    assert not out.exists()


def test_out_that_exists_is_overwritten_with_a_note(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "m.json"
    assert cli.main(_train_argv(out)) == 0
    assert "overwriting" not in capsys.readouterr().out
    out.write_text("old")
    assert cli.main(_train_argv(out)) == 0
    assert f"overwriting {out}\nsaved model to {out}" in capsys.readouterr().out
    assert isinstance(nn.load(out), nn.MLP)


# -- 6. an optimizer over another model's parameters ------------------------------------------


def test_fit_refuses_an_optimizer_over_another_models_parameters() -> None:
    m, other = nn.MLP(2, [3, 1], rng=random.Random(0)), nn.MLP(2, [3, 1], rng=random.Random(0))
    before = [p.data for p in m.parameters()]
    with pytest.raises(ValueError, match=re_escape("optimizer=SGD(model.parameters(), ...)")):
        nn.fit(m, X3, [0, 1, 1], loss="mse", optimizer=optim.SGD(other.parameters(), lr=0.1), epochs=1,
               progress=False)  # fmt: skip
    assert [p.data for p in m.parameters()] == before
    # A subset of the model's parameters (freezing the rest) is fine.
    nn.fit(m, X3, [0, 1, 1], loss="mse", optimizer=optim.SGD(m.parameters()[:2], lr=0.1), epochs=1, progress=False)
    assert [p.data for p in m.parameters()][2:] == before[2:]
    assert [p.data for p in m.parameters()][:2] != before[:2]


# -- 7. divergence ----------------------------------------------------------------------------


def test_train_command_stops_at_divergence_and_saves_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "m.json"
    argv = ["--n", "40", "--epochs", "30", "--optimizer", "sgd", "--lr", "1e6", "--no-progress", "--out", str(out)]
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    found = re.search(r"training diverged at epoch (\d+) \(loss (nan|inf)\); lower --lr \(now 1e6\)$", captured.err)
    assert found is not None, captured.err
    assert 1 <= int(found.group(1)) < 30  # stopped there, not after all 30 epochs
    assert "final model" not in captured.out and "saved" not in captured.out
    assert not out.exists()


@pytest.mark.parametrize("compile", [False, True])
def test_fit_records_the_diverged_epoch_and_stops_only_when_asked(compile: bool) -> None:
    X, y = nn.data.make_linear(20, noise=0.1, seed=0)
    runs = {}
    for stop in (False, True):
        m = nn.MLP(X.shape[1], [1], "linear", rng=random.Random(0))
        runs[stop] = nn.fit(m, X, y, loss="mse", optimizer=optim.SGD(m.parameters(), lr=50.0), epochs=40,
                            batch_size=5, val_split=0.25, progress=False, compile=compile,
                            stop_on_nonfinite=stop)  # fmt: skip
    full, stopped = runs[False], runs[True]
    assert full.epochs == 40 and full.diverged_epoch is not None  # fit's default runs every epoch, as PyTorch
    k = full.diverged_epoch
    assert all(np.isfinite(full.train_loss[:k])) and not np.isfinite(full.train_loss[k])
    assert stopped.diverged_epoch == k and stopped.epochs == k + 1 and len(stopped.val_loss) == k + 1
    assert stopped.as_dict()["diverged_epoch"] == k
    m = nn.MLP(X.shape[1], [1], "linear", rng=random.Random(0))
    fine = nn.fit(m, X, y, loss="mse", optimizer=optim.SGD(m.parameters(), lr=0.05), epochs=5, progress=False,
                  stop_on_nonfinite=True)  # fmt: skip
    assert fine.diverged_epoch is None and fine.epochs == 5


# -- 8. --at given twice ----------------------------------------------------------------------


def test_at_given_twice_adds_up_and_catches_a_duplicate(capsys: pytest.CaptureFixture[str]) -> None:
    assert console_main(["grad", "x*y", "--at", "x=1", "--at", "x=2"]) == 2
    assert "--at gives x twice" in capsys.readouterr().err
    assert console_main(["grad", "x*y", "--at", "x=3", "--at", "y=2"]) == 0
    out = capsys.readouterr().out
    assert "df/dx = 2" in out and "df/dy = 3" in out
