"""Toy data sets, a train/test split and mini-batches of one epoch, all as numpy arrays.

Every generator is ``make_x(n, *, noise, seed) -> (X, y)`` with ``X`` of
shape ``(n, features)`` (float64) and ``y`` of shape ``(n,)``: int64 labels
0/1 (``moons circles xor``), int64 class indices (``spirals blobs``) or
float64 targets (``linear``, a regression).  Randomness comes only from
``numpy.random.default_rng(seed)``; the same seed gives the same arrays.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = [
    "make_moons",
    "make_circles",
    "make_spirals",
    "make_xor",
    "make_blobs",
    "make_linear",
    "train_test_split",
    "batches",
    "DATASETS",
]


def _n(n: Any, minimum: int = 2, name: str = "n") -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(n).__name__}: {n!r}")
    if n < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {n}")
    return int(n)


def _real(x: Any, name: str) -> float:
    """``x`` as a finite float; TypeError for a non-number, ValueError for nan or inf."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(x).__name__}: {x!r}")
    v = float(x)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {x!r}")
    return v


def _noise(noise: Any) -> float:
    sd = _real(noise, "noise")
    if sd < 0:
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    return sd


def check_seed(seed: Any, name: str = "seed") -> int:
    """``seed`` as an int >= 0 (what ``numpy.random.default_rng`` and ``random.Random`` both accept).

    Raises:
        TypeError: if ``seed`` is not an int.
        ValueError: if it is negative.
    """
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{name} must be an int >= 0, got {type(seed).__name__}: {seed!r}")
    if seed < 0:
        raise ValueError(f"{name} must be an int >= 0, got {seed}; use a non-negative seed such as 0")
    return int(seed)


def _rng(seed: Any) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an int or a numpy Generator, got {type(seed).__name__}: {seed!r}")
    return np.random.default_rng(check_seed(seed))


def _shuffled(rng: np.random.Generator, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    idx = rng.permutation(len(X))
    return X[idx], y[idx]


def make_moons(n: int = 100, *, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (sklearn's layout), labels 0 (upper) and 1 (lower).

    Args:
        n: number of points (split as evenly as possible).
        noise: standard deviation of Gaussian noise added to each coordinate.
        seed: seed of ``numpy.random.default_rng``.

    Returns:
        ``(X, y)``: X of shape (n, 2), y of shape (n,) with labels 0/1.

    Raises:
        TypeError, ValueError: for a bad argument.
    """
    n, sd, rng = _n(n), _noise(noise), _rng(seed)
    n0 = n // 2
    n1 = n - n0
    t0, t1 = np.linspace(0, np.pi, n0), np.linspace(0, np.pi, n1)
    X = np.vstack([np.column_stack([np.cos(t0), np.sin(t0)]), np.column_stack([1 - np.cos(t1), 0.5 - np.sin(t1)])])
    y = np.concatenate([np.zeros(n0, dtype=np.int64), np.ones(n1, dtype=np.int64)])
    X = X + rng.normal(scale=sd, size=X.shape)
    return _shuffled(rng, X, y)


def make_circles(
    n: int = 100, *, noise: float = 0.05, seed: int = 0, factor: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """A small circle (label 1) inside a large one (label 0).

    Args:
        n: number of points.
        noise: standard deviation of Gaussian noise.
        seed: seed of ``numpy.random.default_rng``.
        factor: radius of the inner circle relative to the outer one, in (0, 1).

    Returns:
        ``(X, y)``: X of shape (n, 2), labels 0/1.

    Raises:
        TypeError, ValueError: for a bad argument.
    """
    n, sd, rng = _n(n), _noise(noise), _rng(seed)
    factor = _real(factor, "factor")
    if not 0 < factor < 1:
        raise ValueError(f"factor must be in (0, 1), got {factor!r}")
    n0 = n // 2
    n1 = n - n0
    t0 = np.linspace(0, 2 * np.pi, n0, endpoint=False)
    t1 = np.linspace(0, 2 * np.pi, n1, endpoint=False)
    X = np.vstack([np.column_stack([np.cos(t0), np.sin(t0)]), factor * np.column_stack([np.cos(t1), np.sin(t1)])])
    y = np.concatenate([np.zeros(n0, dtype=np.int64), np.ones(n1, dtype=np.int64)])
    X = X + rng.normal(scale=sd, size=X.shape)
    return _shuffled(rng, X, y)


def make_spirals(n: int = 100, *, noise: float = 0.1, seed: int = 0, classes: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """``classes`` interleaved spiral arms (CS231n's layout), labels 0 .. classes - 1.

    Args:
        n: number of points.
        noise: standard deviation of the Gaussian noise on the angle.
        seed: seed of ``numpy.random.default_rng``.
        classes: number of arms (at least 2).

    Returns:
        ``(X, y)``: X of shape (n, 2), class indices.

    Raises:
        TypeError, ValueError: for a bad argument.
    """
    n, sd, rng = _n(n), _noise(noise), _rng(seed)
    k = _n(classes, 2, "classes")
    counts = [n // k + (1 if c < n % k else 0) for c in range(k)]
    parts, labels = [], []
    for c, m in enumerate(counts):
        r = np.linspace(0.05, 1.0, m)
        t = np.linspace(c * 2 * np.pi / k, c * 2 * np.pi / k + 1.75 * np.pi, m) + rng.normal(scale=sd, size=m)
        parts.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
        labels.append(np.full(m, c, dtype=np.int64))
    return _shuffled(rng, np.vstack(parts), np.concatenate(labels))


def make_xor(n: int = 100, *, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Points around the four corners (+-1, +-1); label 1 where the signs differ (XOR).

    Args:
        n: number of points.
        noise: standard deviation of Gaussian noise around each corner.
        seed: seed of ``numpy.random.default_rng``.

    Returns:
        ``(X, y)``: X of shape (n, 2), labels 0/1.

    Raises:
        TypeError, ValueError: for a bad argument.
    """
    n, sd, rng = _n(n), _noise(noise), _rng(seed)
    corners = np.array([[-1.0, -1.0], [1.0, 1.0], [-1.0, 1.0], [1.0, -1.0]])
    which = np.arange(n) % 4
    X = corners[which] + rng.normal(scale=sd, size=(n, 2))
    y = (which >= 2).astype(np.int64)
    return _shuffled(rng, X, y)


def make_blobs(
    n: int = 100, *, noise: float = 0.5, seed: int = 0, centers: int = 3, features: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs around ``centers`` points evenly spaced on a circle of radius 3 (first two features).

    Args:
        n: number of points.
        noise: standard deviation of each blob.
        seed: seed of ``numpy.random.default_rng``.
        centers: number of blobs (classes, at least 2).
        features: number of features (at least 2; extra features are pure noise).

    Returns:
        ``(X, y)``: X of shape (n, features), class indices.

    Raises:
        TypeError, ValueError: for a bad argument.
    """
    n, sd, rng = _n(n), _noise(noise), _rng(seed)
    k, d = _n(centers, 2, "centers"), _n(features, 2, "features")
    angles = 2 * np.pi * np.arange(k) / k
    mu = np.zeros((k, d))
    mu[:, 0], mu[:, 1] = 3 * np.cos(angles), 3 * np.sin(angles)
    y = np.arange(n, dtype=np.int64) % k
    X = mu[y] + rng.normal(scale=sd, size=(n, d))
    return _shuffled(rng, X, y)


def make_linear(
    n: int = 100, *, noise: float = 0.1, seed: int = 0, features: int = 1, weights: Any = None, bias: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """A linear regression: ``y = X @ weights + bias + noise`` with X drawn from U(-1, 1).

    Args:
        n: number of points.
        noise: standard deviation of Gaussian noise on y.
        seed: seed of ``numpy.random.default_rng``.
        features: number of input features.
        weights: the true weights (default 2.0, -1.0, 0.5, ... cycling).
        bias: the true intercept.

    Returns:
        ``(X, y)``: X of shape (n, features), real targets.

    Raises:
        TypeError, ValueError: for a bad argument.
    """
    n, sd, rng = _n(n), _noise(noise), _rng(seed)
    d = _n(features, 1, "features")
    if weights is None:
        w = np.resize(np.array([2.0, -1.0, 0.5]), d)
    else:
        w = np.asarray(weights, dtype=np.float64).reshape(-1)
        if w.shape != (d,):
            raise ValueError(f"weights must have {d} entries (one per feature), got {w.size}")
    X = rng.uniform(-1.0, 1.0, size=(n, d))
    y = X @ w + _real(bias, "bias") + rng.normal(scale=sd, size=n)
    return X, y


#: Data sets by name (for the command line).
DATASETS = {
    "moons": make_moons,
    "circles": make_circles,
    "spirals": make_spirals,
    "xor": make_xor,
    "blobs": make_blobs,
    "linear": make_linear,
}


def _check_xy(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    Xa, ya = np.asarray(X), np.asarray(y)
    if Xa.ndim != 2:
        raise ValueError(f"X must be a 2-d array (samples, features), got shape {Xa.shape}")
    if ya.ndim != 1:
        raise ValueError(f"y must be a 1-d array (one target per sample), got shape {ya.shape}")
    if len(Xa) != len(ya):
        raise ValueError(f"X has {len(Xa)} samples but y has {len(ya)}")
    return Xa, ya


def train_test_split(
    X: Any, y: Any, test_size: float | int = 0.25, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle and split into ``X_train, X_test, y_train, y_test`` (sklearn's order).

    Args:
        X: samples, shape (n, features).
        y: targets, shape (n,).
        test_size: a fraction in (0, 1) or a count in [1, n - 1].
        seed: seed of ``numpy.random.default_rng`` (or a Generator).

    Returns:
        The four arrays.

    Raises:
        TypeError, ValueError: for bad shapes or a test size that leaves a side empty.
    """
    Xa, ya = _check_xy(X, y)
    n = len(Xa)
    if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real):
        raise TypeError(f"test_size must be a fraction or a count, got {type(test_size).__name__}")
    if isinstance(test_size, numbers.Integral):
        n_test = int(test_size)
    elif 0 < test_size < 1:
        n_test = int(math.ceil(float(test_size) * n))
    else:
        raise ValueError(f"test_size must be a fraction in (0, 1) or an int count, got {test_size}")
    if not 1 <= n_test <= n - 1:
        raise ValueError(f"test_size {test_size} gives {n_test} test samples of {n}; both sides need at least one")
    idx = _rng(seed).permutation(n)
    te, tr = idx[:n_test], idx[n_test:]
    return Xa[tr], Xa[te], ya[tr], ya[te]


def batches(
    X: Any, y: Any, batch_size: int, *, shuffle: bool = True, seed: int | np.random.Generator = 0
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The mini-batches of one epoch: every sample exactly once, the last batch possibly smaller.

    Args:
        X: samples, shape (n, features).
        y: targets, shape (n,).
        batch_size: samples per batch (1 is stochastic, n is full-batch descent).
        shuffle: shuffle the order first.
        seed: seed (or Generator) of the shuffle; pass one Generator for all epochs to get a new order each epoch.

    Returns:
        An iterator of ``(X_batch, y_batch)`` pairs.

    Raises:
        TypeError, ValueError: for bad shapes or batch size.
    """
    Xa, ya = _check_xy(X, y)
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
        raise TypeError(f"batch_size must be an int, got {type(batch_size).__name__}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    n = len(Xa)
    # Checked and shuffled now, not at the first next(): errors point at the call.
    order = _rng(seed).permutation(n) if shuffle else np.arange(n)
    return _batches(Xa, ya, order, int(batch_size))


def _batches(X: np.ndarray, y: np.ndarray, order: np.ndarray, size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    for start in range(0, len(order), size):
        idx = order[start : start + size]
        yield X[idx], y[idx]
