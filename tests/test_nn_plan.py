"""Tests of nn.plan: which path fit runs (compiled or eager), and why; refusals of compile=True."""

from __future__ import annotations

import numpy as np
import pytest

import nn
from autograd_core import AnomalyError, detect_anomaly
from nn import data, optim, plan


def test_fit_bce_with_a_linear_output_stays_eager_and_compile_true_says_why() -> None:
    X, y = data.make_moons(10, noise=0.1, seed=0)
    m = nn.MLP(2, [3, 1], rng=0)
    with pytest.raises(ValueError, match="compiles only for a model whose output is a sigmoid"):
        nn.fit(m, X, y, loss="bce", optimizer=optim.SGD(m.parameters(), lr=0.1), epochs=1, compile=True)


def test_loss_obstacle_names_custom_losses_and_bce_without_a_sigmoid() -> None:
    linear, sigmoid = nn.MLP(2, [1], rng=0), nn.MLP(2, [1], output_activation="sigmoid", rng=0)
    assert "custom callable" in (plan.loss_obstacle(None, linear) or "")
    assert "sigmoid" in (plan.loss_obstacle("bce", linear) or "")
    assert plan.loss_obstacle("bce", sigmoid) is None
    assert all(plan.loss_obstacle(name, linear) is None for name in plan.COMPILED_LOSSES if name != "bce")


def _divergent() -> tuple[nn.MLP, np.ndarray, np.ndarray, optim.SGD]:
    X, y = data.make_linear(20, seed=0)
    m = nn.MLP(1, [1], rng=0)
    return m, X, y, optim.SGD(m.parameters(), lr=1e200)


def test_fit_automatic_compile_goes_eager_under_detect_anomaly() -> None:
    m, X, y, opt = _divergent()
    with detect_anomaly(), pytest.raises(AnomalyError):
        nn.fit(m, X, y, loss="mse", optimizer=opt, epochs=5, progress=False, compile=None)
    m, X, y, opt = _divergent()
    with detect_anomaly(), pytest.raises(AnomalyError):
        nn.fit(m, X, y, loss="mse", optimizer=opt, epochs=5, progress=False, compile=False)
    m, X, y, _ = _divergent()
    with detect_anomaly():
        h = nn.fit(m, X, y, loss="mse", optimizer=optim.SGD(m.parameters(), lr=0.01), epochs=1, progress=False)
    assert not h.compiled and h.eager_reason == "detect_anomaly is on"


def test_fit_compile_true_refuses_under_detect_anomaly() -> None:
    m, X, y, opt = _divergent()
    before = [p.data for p in m.parameters()]
    with detect_anomaly(), pytest.raises(ValueError, match="fit\\(compile=True\\): detect_anomaly is on"):
        nn.fit(m, X, y, loss="mse", optimizer=opt, epochs=1, progress=False, compile=True)
    assert [p.data for p in m.parameters()] == before
