"""Helpers shared by the compiled-path tests: the eager reference and a tolerance check."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_core import Value


def close(actual: Any, expected: Any, *, rtol: float, scale: Any = None) -> None:
    """Equal to ``rtol`` relative; ``scale`` (sum of |terms|) bounds the error of a sum with cancellation."""
    a = np.asarray(actual, dtype=float)
    e = np.asarray(expected, dtype=float)
    atol = 0.0 if scale is None else rtol * float(np.max(np.abs(scale)))
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, equal_nan=True)


def eager(f: Any, args: Any, params: Any = ()) -> tuple[float, list[float], list[float]]:
    """Value, argument gradients and parameter gradients from the eager engine; leaves .grad at 0."""
    xs = [Value(a) for a in args]
    for p in params:
        p.grad = 0.0
    out = f(*xs)
    out.backward()
    pg = [p.grad for p in params]
    for p in params:
        p.grad = 0.0
    return out.data, [x.grad for x in xs], pg
