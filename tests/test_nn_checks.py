"""Tests of nn.checks: fit's and evaluate's arguments, class labels and optimizers are refused up front, clearly."""

from __future__ import annotations

import random
import re
from typing import Any

import numpy as np
import pytest

import nn
from nn import checks, data, optim

X3 = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])


def _fit(**kw: Any) -> None:
    X, y = kw.pop("X", None), kw.pop("y", None)
    Xd, yd = data.make_moons(20, seed=0)
    m = nn.MLP(2, [2, 1], rng=0)
    args: dict[str, Any] = {"loss": "mse", "optimizer": optim.SGD(m.parameters(), lr=0.1), "epochs": 1}
    args.update(kw)
    nn.fit(m, Xd if X is None else X, yd if y is None else y, progress=False, **args)


@pytest.mark.parametrize(
    ("call", "exc", "message"),
    [
        (lambda: _fit(seed=-1), ValueError, "seed must be an int >= 0, got -1"),
        (lambda: _fit(seed="a"), TypeError, "seed must be an int >= 0, got str"),
        (lambda: _fit(seed=1.5), TypeError, "seed must be an int"),
        (lambda: _fit(val_split=0), ValueError, "val_split must be a fraction in \\(0, 1\\)"),
        (lambda: _fit(val_split=1.5), ValueError, "val_split must be a fraction in \\(0, 1\\)"),
        (lambda: _fit(val_split="a"), TypeError, "val_split must be a fraction"),
        (lambda: _fit(val_split=0.99), ValueError, "val_split=0.99 holds out 20 of 20 samples"),
        (lambda: _fit(epochs="3"), TypeError, "epochs must be a positive int, got str"),
        (lambda: _fit(epochs=0), ValueError, "epochs must be a positive int, got 0"),
        (lambda: _fit(l2="a"), TypeError, "l2 must be a finite number >= 0, got str"),
        (lambda: _fit(l1=-1.0), ValueError, "l1 must be a finite number >= 0"),
        (lambda: _fit(batch_size=2.5), TypeError, "batch_size must be a positive int"),
        (lambda: _fit(X=np.full((20, 2), np.nan)), ValueError, "X holds 40 non-finite values"),
        (lambda: _fit(y=np.r_[np.inf, np.zeros(19)]), ValueError, "y holds 1 non-finite values.*index 0"),
        (lambda: _fit(y=np.array(["a"] * 20)), TypeError, "y must be an array of numbers"),
    ],
)
def test_fit_bad_arguments_raise_the_right_type_naming_the_argument(call: Any, exc: type, message: str) -> None:
    with pytest.raises(exc, match=message):
        call()


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
    with pytest.raises(ValueError, match=r"fit: " + re.escape(bad) + r" is not a class index.*\[0, 3\)"):
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


def test_check_class_labels_accepts_whole_indices_below_the_class_count() -> None:
    checks.check_class_labels(np.array([0.0, 2.0, 1.0]), 3, "t")
    with pytest.raises(ValueError, match=r"t: y\[1\] = 3.0 is not a class index"):
        checks.check_class_labels(np.array([0.0, 3.0]), 3, "t")


def test_fit_refuses_an_optimizer_over_another_models_parameters() -> None:
    m, other = nn.MLP(2, [3, 1], rng=random.Random(0)), nn.MLP(2, [3, 1], rng=random.Random(0))
    before = [p.data for p in m.parameters()]
    with pytest.raises(ValueError, match=re.escape("optimizer=SGD(model.parameters(), ...)")):
        nn.fit(m, X3, [0, 1, 1], loss="mse", optimizer=optim.SGD(other.parameters(), lr=0.1), epochs=1,
               progress=False)  # fmt: skip
    assert [p.data for p in m.parameters()] == before
    # A subset of the model's parameters (freezing the rest) is fine.
    nn.fit(m, X3, [0, 1, 1], loss="mse", optimizer=optim.SGD(m.parameters()[:2], lr=0.1), epochs=1, progress=False)
    assert [p.data for p in m.parameters()][2:] == before[2:]
    assert [p.data for p in m.parameters()][:2] != before[:2]
