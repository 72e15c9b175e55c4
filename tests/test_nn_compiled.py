"""Tests of nn.compiled: a model and its per-sample nn.losses loss, traced, replay as the eager engine does."""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np
import pytest
from compile_support import close, eager

import nn
from autograd_core import TraceError, Value
from nn.compiled import LOSS_KINDS, compile_loss, compile_model

RTOL = 1e-12


def _close(actual: Any, expected: Any, *, scale: Any = None) -> None:
    close(actual, expected, rtol=RTOL, scale=scale)


_eager = eager






class _Net:
    """A minimal model: parameters() and __call__(list of Values) -> list of Values."""

    def __init__(self, nin: int, nout: int, seed: int = 0, act: str = "tanh") -> None:
        rng = random.Random(seed)
        self.act = act
        self.w = [[Value(rng.uniform(-1, 1)) for _ in range(nin)] for _ in range(nout)]
        self.b = [Value(rng.uniform(-0.5, 0.5)) for _ in range(nout)]

    def parameters(self) -> list[Value]:
        return [p for row in self.w for p in row] + self.b

    def __call__(self, x: list[Any]) -> list[Value]:
        outs = []
        for row, b in zip(self.w, self.b):
            act = b
            for wi, xi in zip(row, x):
                act = act + wi * xi
            outs.append(act.tanh() if self.act == "tanh" else act.sigmoid())
        return outs


def _reference_loss(kind: str, z: np.ndarray, t: np.ndarray) -> float:
    """An independent numpy oracle for each loss kind (z: outputs, t: targets or class index)."""
    if kind == "mse":
        return float(np.mean((z - t) ** 2))
    if kind == "l1":
        return float(np.mean(np.abs(z - t)))
    if kind == "hinge":
        return float(np.mean(np.maximum(0.0, 1.0 - t * z)))
    if kind == "bce_with_logits":
        return float(np.mean(np.logaddexp(0.0, z) - t * z))
    if kind == "bce":
        return float(np.mean(-(t * np.log(z) + (1 - t) * np.log(1 - z))))
    return float(np.log(np.sum(np.exp(z))) - z[int(t)])


@pytest.mark.parametrize("kind", LOSS_KINDS)
def test_compile_loss_matches_reference_and_eager_gradient(kind: str) -> None:
    nout = 3 if kind == "cross_entropy" else 1
    net = _Net(2, nout, seed=4, act="sigmoid" if kind == "bce" else "tanh")
    rng = np.random.default_rng(8)
    X = rng.normal(size=(12, 2))
    if kind == "cross_entropy":
        y = rng.integers(0, 3, size=12).astype(float)
    elif kind in ("hinge",):
        y = np.where(rng.random(12) > 0.5, 1.0, -1.0)
    elif kind in ("bce", "bce_with_logits"):
        y = (rng.random(12) > 0.5).astype(float)
    else:
        y = rng.normal(size=12)
    cl = compile_loss(net, kind, 2, l1=1e-2, l2=1e-3)
    params = net.parameters()
    model = compile_model(net, 2)
    Z = np.array(model(X[:, 0], X[:, 1])).T
    penalty = 1e-2 * sum(abs(p.data) for p in params) + 1e-3 * sum(p.data**2 for p in params)
    want = np.mean([_reference_loss(kind, z, t) for z, t in zip(Z, y)]) + penalty
    v, g = cl.value_and_grad(X, y)
    _close(v, want, scale=1e3 * want)  # different summation order from the oracle: 1e-9 relative

    # The gradient: the eager engine on the same per-sample loss.
    per = [_eager(lambda *a: _per_sample(cl, net, a), list(args), params)[2] for args in zip(*cl.args(X, y))]
    _close(g, np.mean(per, axis=0), scale=np.mean(np.abs(per), axis=0))
    for p in params:
        p.grad = 0.0


def _per_sample(cl: Any, net: Any, a: tuple[Value, ...]) -> Value:
    """compile_loss's per-sample loss, evaluated eagerly: the nn.losses function on one sample's Values."""
    outs = net(list(a[: cl.n_inputs]))
    total = nn.losses.LOSSES[cl.kind](outs, list(a[cl.n_inputs :]))
    params = net.parameters()
    l1 = abs(params[0])
    l2 = params[0] * params[0]
    for p in params[1:]:
        l1 = l1 + abs(p)
        l2 = l2 + p * p
    return total + 1e-2 * l1 + 1e-3 * l2


def test_compile_loss_accepts_a_loss_function_by_name_and_rejects_unknown() -> None:
    def hinge(preds: Any, targets: Any) -> Any:
        raise AssertionError("compile_loss reads only the name")

    net = _Net(2, 1)
    assert compile_loss(net, hinge, 2).kind == "hinge"
    with pytest.raises(ValueError, match="unknown loss"):
        compile_loss(net, "huber", 2)
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        compile_loss(net, "mse", 2).args(np.zeros((3, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="class indices"):
        compile_loss(_Net(2, 3), "cross_entropy", 2).args(np.zeros((2, 2)), [0, 3])


def test_compile_model_branching_on_data_raises_trace_error() -> None:
    class Branchy(_Net):
        def __call__(self, x: list[Any]) -> list[Value]:
            out = super().__call__(x)
            return [o if x[0] > 0 else -o for o in out]

    with pytest.raises(TraceError):
        compile_model(Branchy(2, 1), 2)


def test_compile_loss_bce_is_finite_at_saturated_probabilities() -> None:
    # The clamp acts on the log's input, so p = 0 or 1 gives loss 100 and a finite gradient, as eager nn.losses.bce.
    model = nn.MLP(1, [1], activation="linear", output_activation="sigmoid", rng=random.Random(0))
    w, b = model.parameters()
    w.data, b.data = 50.0, 0.0
    cl = compile_loss(model, "bce", 1)
    X = np.array([[20.0], [-20.0]])
    y = np.array([0.0, 1.0])  # confidently wrong: p is 1.0 and 0.0 in floating point
    loss, grads = cl.value_and_grad(X, y)
    assert loss == pytest.approx(100.0)
    assert all(math.isfinite(g) for g in grads)
    w.grad = b.grad = 0.0
    eager = nn.losses.bce([model([Value(x)])[0] for x in X[:, 0]], list(y))
    eager.backward()
    assert eager.data == pytest.approx(loss, rel=1e-12)
    assert [w.grad, b.grad] == pytest.approx(grads, rel=1e-12, abs=1e-300)
