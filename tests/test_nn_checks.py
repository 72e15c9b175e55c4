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


def _weights(m: nn.Module) -> list[float]:
    return [p.data for p in m.parameters()]


@pytest.mark.parametrize("compile", [None, False])
def test_fit_refuses_validation_data_of_the_wrong_width_before_the_first_epoch(compile: bool | None) -> None:
    X, y = data.make_moons(20, seed=0)
    m = nn.MLP(2, [3, 1], rng=0)
    before = _weights(m)
    with pytest.raises(ValueError, match="fit val: X_val has 3 features per sample but X has 2"):
        nn.fit(m, X, y, loss="mse", optimizer=optim.SGD(m.parameters(), lr=0.1), epochs=3,
               val=(np.zeros((5, 3)), np.zeros(5)), progress=False, compile=compile)  # fmt: skip
    assert _weights(m) == before


@pytest.mark.parametrize("compile", [None, False])
def test_fit_refuses_bad_validation_targets_before_the_first_epoch(compile: bool | None) -> None:
    X, y = data.make_moons(20, seed=0)
    m = nn.MLP(2, [3, 1], rng=0)
    before = _weights(m)
    with pytest.raises(ValueError, match="hinge: target 0 is 2.0"):
        nn.fit(m, X, y, loss="hinge", optimizer=optim.SGD(m.parameters(), lr=0.1), epochs=3,
               val=(X[:4], np.full(4, 2.0)), progress=False, compile=compile)  # fmt: skip
    assert _weights(m) == before


def test_fit_custom_loss_returning_a_float_is_a_type_error_before_any_step() -> None:
    X, y = data.make_moons(20, seed=0)
    m = nn.MLP(2, [3, 1], rng=0)
    before = _weights(m)

    def float_loss(preds: Any, targets: Any) -> float:
        return float(sum((p.data - t) ** 2 for p, t in zip(preds, targets)))

    for l1 in (0.0, 0.1):  # with a penalty, float + Value would have become a Value
        with pytest.raises(TypeError, match=r"fit: the loss 'float_loss' returned float .*not a Value"):
            nn.fit(m, X, y, loss=float_loss, optimizer=optim.SGD(m.parameters(), lr=0.1), epochs=2, l1=l1,
                   progress=False)  # fmt: skip
        assert _weights(m) == before


def test_evaluate_custom_loss_returning_a_float_is_a_type_error_naming_the_loss() -> None:
    X, y = data.make_moons(20, seed=0)
    with pytest.raises(TypeError, match=r"evaluate: the loss '<lambda>' returned float 0.5, not a Value"):
        nn.evaluate(nn.MLP(2, [3, 1], rng=0), X, y, loss=lambda p, t: 0.5)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_predict_refuses_non_finite_X_with_fit_and_evaluates_message(bad: float) -> None:
    X, y = data.make_moons(20, seed=0)
    X[3, 1] = bad
    m = nn.MLP(2, [3, 1], rng=0)
    message = r"X holds 1 non-finite values \(nan or inf\), the first at index \(3, 1\); drop or impute them"
    for compile in (True, False):
        with pytest.raises(ValueError, match="predict: " + message):
            nn.predict(m, X, compile=compile)
    with pytest.raises(ValueError, match="evaluate: " + message):
        nn.evaluate(m, X, y, loss="mse")
    with pytest.raises(ValueError, match="fit: " + message):
        nn.fit(m, X, y, loss="mse", optimizer=optim.SGD(m.parameters(), lr=0.1), epochs=1, progress=False)


@pytest.mark.parametrize(
    "X",
    [[["1.5", "2"], ["0", "1"]], np.array([["1", "2"], ["3", "4"]]),
     np.array([[1.0, "2"], [3.0, 4.0]], dtype=object), [[b"1", b"2"], [b"3", b"4"]]],
)  # fmt: skip
def test_fit_evaluate_and_predict_refuse_strings_in_X_as_in_y(X: Any) -> None:
    m = nn.MLP(2, [3, 1], rng=0)
    y = np.array([0.0, 1.0])
    fix = r"X must be an array of numbers: parse the text into numbers first"
    with pytest.raises(TypeError, match="fit: X holds strings .*" + fix):
        nn.fit(m, X, y, loss="mse", optimizer=optim.SGD(m.parameters(), lr=0.1), epochs=1, progress=False)
    with pytest.raises(TypeError, match="evaluate: X holds strings .*" + fix):
        nn.evaluate(m, X, y, loss="mse")
    with pytest.raises(TypeError, match="predict: X holds strings .*" + fix):
        nn.predict(m, X)
    with pytest.raises(TypeError, match="fit: y holds strings .*y must be an array of numbers"):
        nn.fit(m, np.ones((2, 2)), ["0", "1"], loss="mse", optimizer=optim.SGD(m.parameters(), lr=0.1), epochs=1)


def test_as_x_keeps_numbers_and_refuses_other_objects() -> None:
    np.testing.assert_array_equal(checks.as_x([[1, 2.5], [True, 0]], "predict"), [[1.0, 2.5], [1.0, 0.0]])
    assert checks.as_x(np.zeros((0, 2)), "predict", allow_empty=True).shape == (0, 2)
    with pytest.raises(ValueError, match="predict: X must be a 2-d array"):
        checks.as_x(np.zeros((0, 2)), "predict")
    with pytest.raises(TypeError, match="predict: X must be an array of real numbers"):
        checks.as_x([[{"a": 1}, 1.0]], "predict")
    with pytest.raises(ValueError, match=r"predict: X must be a 2-d array \(samples, features\), got shape \(3,\)"):
        checks.as_x([1.0, 2.0, 3.0], "predict")


def test_check_batch_sizes_refuses_a_batch_of_one_only_for_batch_modules() -> None:
    bn = nn.Sequential(nn.Linear(2, 2, rng=0), nn.BatchNorm(2))
    for n, size in ((10, 1), (9, 4), (1, 1)):
        with pytest.raises(ValueError, match=rf"contains BatchNorm.*batch_size={size} with {n} training samples"):
            checks.check_batch_sizes(bn, n, size)
    checks.check_batch_sizes(bn, 10, 4)  # batches of 4, 4, 2
    checks.check_batch_sizes(bn, 3, 8)  # one batch of 3
    checks.check_batch_sizes(nn.MLP(2, [1], rng=0), 9, 4)  # no BatchNorm: a batch of one is fine
