"""nn.epochs: one eager and one compiled epoch take the same steps; the eager one refuses a loss that is no Value."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import nn
from nn import data, losses, optim
from nn.compiled import compile_loss
from nn.epochs import Step, compiled_epoch, eager_epoch


def _step(model: nn.Module, name: str | None, fn: Any, batch_size: int, l2: float = 0.0) -> Step:
    return Step(model, name, fn, optim.SGD(model.parameters(), lr=0.1), batch_size, 0.0, l2)


def test_eager_and_compiled_epoch_take_the_same_steps_on_the_same_shuffles() -> None:
    X, y = data.make_moons(23, noise=0.1, seed=0)
    results, weights = [], []
    for compiled in (False, True):
        m = nn.Sequential(nn.Linear(2, 4, rng=0), nn.Tanh(), nn.Linear(4, 1, rng=1))
        step = _step(m, "mse", losses.mse, 5, l2=0.01)
        rng = np.random.default_rng(7)
        if compiled:
            results.append(compiled_epoch(step, compile_loss(m, "mse", 2), X, y.astype(float), rng))
        else:
            results.append(eager_epoch(step, X, y, rng))
        weights.append([p.data for p in m.parameters()])
    (total_e, seen_e, correct_e), (total_c, seen_c, correct_c) = results
    assert seen_e == seen_c == 23 and correct_e is correct_c is None  # mse has no accuracy
    assert total_c == pytest.approx(total_e, rel=1e-12)
    np.testing.assert_allclose(weights[1], weights[0], rtol=1e-12)


def test_eager_epoch_refuses_a_loss_returning_a_float_before_the_first_step() -> None:
    X, y = data.make_moons(10, noise=0.1, seed=0)
    m = nn.MLP(2, [3, 1], rng=0)
    before = [p.data for p in m.parameters()]

    def mean_gap(preds: Any, targets: Any) -> float:
        return float(np.mean([p.data - t for p, t in zip(preds, targets)]))

    with pytest.raises(TypeError, match="fit: the loss 'mean_gap' returned float .*must return a Value"):
        eager_epoch(_step(m, None, mean_gap, 5), X, y, np.random.default_rng(0))
    assert [p.data for p in m.parameters()] == before


def test_eager_epoch_gives_batchnorm_the_whole_batch() -> None:
    X, y = data.make_moons(10, noise=0.1, seed=0)
    m = nn.Sequential(nn.Linear(2, 3, rng=0), nn.BatchNorm(3), nn.Linear(3, 1, rng=1))
    total, seen, _ = eager_epoch(_step(m, "mse", losses.mse, 4), X, y, np.random.default_rng(0))
    assert seen == 10 and np.isfinite(total)
    bn = m[1]
    assert isinstance(bn, nn.BatchNorm) and bn.running_mean != [0.0, 0.0, 0.0]
