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


def _sequential() -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(2, 6, rng=1), nn.Tanh(), nn.Linear(6, 4, rng=2), nn.LeakyReLU(0.1), nn.PReLU(4),
        nn.Linear(4, 3, rng=3), nn.ELU(), nn.Identity(), nn.Dropout(0.0), nn.Linear(3, 1, rng=4),
    )  # fmt: skip


def test_model_obstacle_accepts_sequential_linear_and_every_activation_module() -> None:
    assert plan.model_obstacle(_sequential(), training=True) == (None, False)
    assert plan.model_obstacle(nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Sigmoid()), training=True) == (None, False)
    reason, hard = plan.model_obstacle(nn.Sequential(nn.Linear(2, 2), nn.BatchNorm(2)), training=True)
    assert hard and reason is not None and "BatchNorm" in reason
    reason, hard = plan.model_obstacle(nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5)), training=True)
    assert hard and reason is not None and "Dropout(p=0.5)" in reason
    assert plan.model_obstacle(nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5)), training=False) == (None, False)


@pytest.mark.parametrize("opt_name", ["sgd", "adam"])
def test_fit_sequential_compiles_automatically_and_equals_eager(opt_name: str) -> None:
    X, y = data.make_moons(40, noise=0.2, seed=1)
    runs = {}
    for compile in (None, False):
        m = _sequential()
        opt: optim.Optimizer = optim.SGD(m.parameters(), lr=0.1, momentum=0.9) if opt_name == "sgd" else (
            optim.Adam(m.parameters(), lr=0.02))  # fmt: skip
        hist = nn.fit(m, X, y, loss="bce_with_logits", optimizer=opt, epochs=6, batch_size=7, val_split=0.25,
                      l2=1e-3, progress=False, compile=compile)  # fmt: skip
        runs[compile] = hist, np.array([p.data for p in m.parameters()]), m
    (comp, w_comp, m_comp), (eager, w_eager, _) = runs[None], runs[False]
    assert comp.compiled and comp.eager_reason is None and not eager.compiled
    np.testing.assert_allclose(comp.train_loss, eager.train_loss, rtol=1e-9)
    np.testing.assert_allclose(comp.val_loss, eager.val_loss, rtol=1e-9)
    assert comp.train_accuracy == eager.train_accuracy
    np.testing.assert_allclose(w_comp, w_eager, rtol=1e-9, atol=1e-12)
    assert comp.train_loss[-1] < comp.train_loss[0]
    np.testing.assert_allclose(nn.predict(m_comp, X, compile=True), nn.predict(m_comp, X, compile=False), rtol=1e-12)
    ev_c = nn.evaluate(m_comp, X, y, loss="hinge", compile=True)
    ev_e = nn.evaluate(m_comp, X, y, loss="hinge", compile=False)
    assert ev_c["loss"] == pytest.approx(ev_e["loss"], rel=1e-12) and ev_c["accuracy"] == ev_e["accuracy"]


def test_fit_bce_compiles_for_a_sequential_ending_in_sigmoid() -> None:
    X, y = data.make_moons(20, noise=0.1, seed=0)
    m = nn.Sequential(nn.Linear(2, 3, rng=0), nn.ReLU(), nn.Linear(3, 1, rng=1), nn.Sigmoid())
    hist = nn.fit(m, X, y, loss="bce", optimizer=optim.SGD(m.parameters(), lr=0.1), epochs=2, progress=False)
    assert hist.compiled
    assert plan.loss_obstacle("bce", nn.Sequential(nn.Linear(2, 1), nn.Tanh())) is not None
    assert plan.loss_obstacle("bce", nn.Sequential(nn.MLP(2, [1], output_activation="sigmoid"))) is None
