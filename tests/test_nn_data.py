"""nn.data: shapes, labels, geometry, determinism, split and batches."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from nn import data


@pytest.mark.parametrize(
    ("make", "classes"),
    [(data.make_moons, 2), (data.make_circles, 2), (data.make_xor, 2), (data.make_spirals, 2), (data.make_blobs, 3)],
)
def test_classification_sets_have_shapes_labels_and_balance(make: object, classes: int) -> None:
    X, y = make(101, noise=0.1, seed=3)  # type: ignore[operator]
    assert X.shape == (101, 2) and X.dtype == np.float64
    assert y.shape == (101,) and y.dtype == np.int64
    counts = np.bincount(y)
    assert len(counts) == classes and counts.max() - counts.min() <= 1


@pytest.mark.parametrize("name", sorted(data.DATASETS))
def test_same_seed_same_data_other_seed_other_data(name: str) -> None:
    make = data.DATASETS[name]
    X1, y1 = make(40, noise=0.2, seed=5)
    X2, y2 = make(40, noise=0.2, seed=5)
    X3, _ = make(40, noise=0.2, seed=6)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


def test_moons_without_noise_lie_on_two_unit_half_circles() -> None:
    X, y = data.make_moons(50, noise=0.0, seed=0)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0)
    assert (upper[:, 1] >= -1e-12).all() and (lower[:, 1] <= 0.5 + 1e-12).all()


def test_circles_without_noise_have_radii_one_and_factor() -> None:
    X, y = data.make_circles(40, noise=0.0, seed=0, factor=0.3)
    r = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(r[y == 0], 1.0)
    np.testing.assert_allclose(r[y == 1], 0.3)


def test_xor_label_is_one_where_signs_differ() -> None:
    X, y = data.make_xor(200, noise=0.1, seed=0)
    np.testing.assert_array_equal(y, (np.sign(X[:, 0]) != np.sign(X[:, 1])).astype(int))


def test_make_linear_recovers_its_weights_by_least_squares() -> None:
    X, y = data.make_linear(500, noise=0.01, seed=0, features=3)
    coef, *_ = np.linalg.lstsq(np.column_stack([X, np.ones(len(X))]), y, rcond=None)
    np.testing.assert_allclose(coef, [2.0, -1.0, 0.5, 0.5], atol=0.01)
    assert y.dtype == np.float64
    with pytest.raises(ValueError, match="weights must have 2 entries"):
        data.make_linear(10, features=2, weights=[1.0])


def test_generators_reject_bad_arguments() -> None:
    with pytest.raises(ValueError, match="n must be at least 2"):
        data.make_moons(1)
    with pytest.raises(ValueError, match="noise must be"):
        data.make_moons(10, noise=-1.0)
    with pytest.raises(TypeError, match="seed must be an int"):
        data.make_moons(10, seed="a")  # type: ignore[arg-type]


def test_train_test_split_partitions_the_samples() -> None:
    X = np.arange(20.0).reshape(10, 2)
    y = np.arange(10)
    Xtr, Xte, ytr, yte = data.train_test_split(X, y, 0.3, seed=1)
    assert len(Xte) == 3 and len(Xtr) == 7
    assert sorted(np.concatenate([ytr, yte]).tolist()) == list(range(10))
    np.testing.assert_array_equal(Xtr[:, 0], 2 * ytr)  # rows stay with their targets
    again = data.train_test_split(X, y, 0.3, seed=1)
    np.testing.assert_array_equal(again[3], yte)
    assert len(data.train_test_split(X, y, 4)[1]) == 4
    with pytest.raises(ValueError, match="both sides need at least one"):
        data.train_test_split(X, y, 10)
    with pytest.raises(ValueError, match="X has 10 samples but y has 9"):
        data.train_test_split(X, y[:9])


def test_batches_cover_every_sample_once_per_epoch() -> None:
    X = np.arange(14.0).reshape(7, 2)
    y = np.arange(7)
    got = list(data.batches(X, y, 3, seed=0))
    assert [len(b[1]) for b in got] == [3, 3, 1]
    assert sorted(np.concatenate([b[1] for b in got]).tolist()) == list(range(7))
    assert all(np.array_equal(bx[:, 0], 2 * by) for bx, by in got)
    plain = list(data.batches(X, y, 3, shuffle=False))
    assert plain[0][1].tolist() == [0, 1, 2]
    rng = np.random.default_rng(0)
    first = np.concatenate([b[1] for b in data.batches(X, y, 7, seed=rng)])
    second = np.concatenate([b[1] for b in data.batches(X, y, 7, seed=rng)])
    assert first.tolist() != second.tolist()  # one Generator: a new order each epoch


def test_batches_checks_arguments_at_the_call() -> None:
    X, y = np.zeros((4, 2)), np.zeros(4)
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        data.batches(X, y, 0)
    with pytest.raises(ValueError, match="X must be a 2-d array"):
        data.batches(np.zeros(4), y, 2)


@pytest.mark.parametrize(
    ("call", "exc", "message"),
    [
        (lambda: data.make_moons(noise="a"), TypeError, "noise must be a real number"),  # type: ignore[arg-type]
        (lambda: data.make_moons(noise=-1.0), ValueError, "noise must be a finite number >= 0"),
        (lambda: data.make_moons(seed=-1), ValueError, "seed must be an int >= 0"),
        (lambda: data.make_circles(factor="a"), TypeError, "factor must be a real number"),  # type: ignore[arg-type]
        (lambda: data.make_circles(factor=1.0), ValueError, "factor must be in \\(0, 1\\)"),
        (lambda: data.make_blobs(centers=2.5), TypeError, "centers must be an int"),  # type: ignore[arg-type]
        (lambda: data.make_linear(bias="a"), TypeError, "bias must be a real number"),  # type: ignore[arg-type]
    ],
)
def test_data_sets_bad_arguments_raise_the_right_type_naming_the_argument(call: Any, exc: type, message: str) -> None:
    with pytest.raises(exc, match=message):
        call()
