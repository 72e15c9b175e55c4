"""Engine numerics against PyTorch float64: nan inputs of elu and pow, and signed zero gradients.

Every path must give the same bits: the fast first-order loop (``backward()``),
the general loop (``detect_anomaly``), ``grad()`` with and without
``create_graph``, and the compiled tape's scalar and batch replays.  The
expected values were recorded with torch 2.13.0 in float64; when PyTorch is
installed the recording itself is checked against it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from autograd_core import Value, backward, compile, detect_anomaly, grad, primitives, register

IN_CI = os.environ.get("CI", "").lower() == "true"
NAN = math.nan

Fn = Callable[..., Value]

# (name, f, the same in PyTorch, point, gradient per input as torch 2.13.0 gives it in float64).
CASES: list[tuple[str, Fn, Callable[..., Any], tuple[float, ...], tuple[float, ...]]] = [
    ("elu at nan", lambda x: x.elu(), lambda F, x: F.elu(x), (NAN,), (1.0,)),
    ("elu(alpha=2) at nan", lambda x: x.elu(2.0), lambda F, x: F.elu(x, alpha=2.0), (NAN,), (1.0,)),
    ("elu(alpha=2) at 0", lambda x: x.elu(2.0), lambda F, x: F.elu(x, alpha=2.0), (0.0,), (2.0,)),
    ("x ** y at nan, 0", lambda x, y: x**y, lambda F, x, y: x**y, (NAN, 0.0), (0.0, NAN)),
    ("x ** y at nan, -0", lambda x, y: x**y, lambda F, x, y: x**y, (NAN, -0.0), (0.0, NAN)),
    ("x ** 0 at nan", lambda x: x**0.0, lambda F, x: x**0.0, (NAN,), (0.0,)),
    ("x * -0 (a lone -0.0)", lambda x: x * -0.0, lambda F, x: x * -0.0, (2.0,), (-0.0,)),
    ("x * -0 + x * 0", lambda x: x * -0.0 + x * 0.0, lambda F, x: x * -0.0 + x * 0.0, (2.0,), (0.0,)),
    ("relu at -1", lambda x: x.relu(), lambda F, x: F.relu(x), (-1.0,), (0.0,)),
]
IDS = [c[0] for c in CASES]


def _bits(x: float) -> tuple[float, ...]:
    """A float with its sign: equal for equal floats (nan included), different for -0.0 and 0.0."""
    x = float(x)
    return (math.inf, math.inf) if x != x else (x, math.copysign(1.0, x))


def _all_paths(f: Fn, point: tuple[float, ...]) -> dict[str, list[float]]:
    """The gradient of ``f`` at ``point`` from every path of the engine."""
    paths: dict[str, list[float]] = {}
    xs = [Value(p) for p in point]
    f(*xs).backward()
    paths["backward() fast loop"] = [x.grad for x in xs]
    xs = [Value(p) for p in point]
    with detect_anomaly():
        try:
            f(*xs).backward()
            paths["backward() general loop"] = [x.grad for x in xs]
        except FloatingPointError:
            pass  # a nan forward value is an anomaly: this path does not apply
    xs = [Value(p) for p in point]
    paths["grad()"] = [g.data for g in grad(f(*xs), xs)]
    xs = [Value(p) for p in point]
    paths["grad(create_graph=True)"] = [g.data for g in grad(f(*xs), xs, create_graph=True)]
    c = compile(f, [1.5 + i for i in range(len(point))])
    _, arg_grads, _ = c.forward_backward(*point)
    paths["compiled scalar"] = [float(g) for g in arg_grads]
    _, arg_grads, _ = c.forward_backward(*[np.array([p, p]) for p in point])
    paths["compiled batch"] = [float(g[1]) for g in arg_grads]
    return paths


@pytest.mark.parametrize(("name", "f", "torch_f", "point", "want"), CASES, ids=IDS)
def test_engine_numerics_every_path_gives_pytorch_bits(
    name: str, f: Fn, torch_f: Any, point: tuple[float, ...], want: tuple[float, ...]
) -> None:
    for path, got in _all_paths(f, point).items():
        assert [_bits(g) for g in got] == [_bits(w) for w in want], f"{name}: {path} gave {got}, PyTorch {want}"


@pytest.mark.parametrize(("name", "f", "torch_f", "point", "want"), CASES, ids=IDS)
def test_engine_numerics_recorded_values_are_pytorchs(
    name: str, f: Fn, torch_f: Any, point: tuple[float, ...], want: tuple[float, ...]
) -> None:
    try:
        import torch
    except ImportError:
        if IN_CI:
            pytest.fail("CI=true: PyTorch is not installed; .ci/setup installs torch==2.13.0 for these tests")
        pytest.skip("PyTorch is not installed (pip install 'autograd-core[torch]'); the recording cannot be checked")
    xs = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in point]
    torch_f(torch.nn.functional, *xs).backward()
    assert [_bits(x.grad.item()) for x in xs] == [_bits(w) for w in want]


def test_engine_numerics_lone_negative_zero_survives_repeated_backward() -> None:
    x = Value(2.0)
    (x * -0.0).backward()
    (x * -0.0).backward()
    assert _bits(x.grad) == _bits(-0.0)  # torch: -0.0, then -0.0 + -0.0
    (x * 3.0).backward()
    assert x.grad == 3.0


def test_engine_numerics_unused_input_gets_positive_zero_on_every_path() -> None:
    for path, got in _all_paths(lambda x, y: x * -0.0, (2.0, 5.0)).items():
        assert [_bits(g) for g in got] == [_bits(-0.0), _bits(0.0)], path


def test_engine_numerics_compiled_value_and_grad_keeps_a_lone_negative_zero_in_grad() -> None:
    w = Value(3.0)
    unused = Value(1.0)
    c = compile(lambda x: x * w * -0.0, [1.0], params=[w, unused])
    _, grads = c.value_and_grad([np.array([1.0, 2.0])])
    assert [_bits(g) for g in grads] == [_bits(-0.0), _bits(0.0)]
    assert (_bits(w.grad), _bits(unused.grad)) == (_bits(-0.0), _bits(0.0))
    backward(w * -0.0)  # the eager engine agrees on the same leaf
    assert _bits(w.grad) == _bits(-0.0)


def test_engine_numerics_a_rules_none_is_a_positive_zero_on_every_path() -> None:
    # A user's op whose rule gives no gradient (None) for its input: every path reads +0.0,
    # also when the only other contribution is a -0.0.
    stop = register("test_numerics_stop", lambda x: x, lambda g, out, x: (None,), arity=1)
    try:
        for f in (stop, lambda x: stop(x) + x * -0.0):
            for path, got in _all_paths(f, (2.0,)).items():
                assert [_bits(g) for g in got] == [_bits(0.0)], path
    finally:
        primitives._REGISTRY.pop("test_numerics_stop", None)
