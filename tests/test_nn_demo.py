"""micrograd's demo task through nn.fit: two moons, MLP(2, [16, 16, 1]), hinge + 1e-4 L2, decaying SGD."""

from __future__ import annotations

import random

import nn
from nn import data, optim


def _train(epochs: int) -> tuple[nn.MLP, nn.History]:
    X, y = data.make_moons(100, noise=0.1, seed=0)
    model = nn.MLP(2, [16, 16, 1], init="uniform", rng=random.Random(0))
    # micrograd's schedule: lr = 1.0 - 0.9 k / 100 at step k.
    opt = optim.SGD(model.parameters(), lr=1.0, schedule=optim.linear_decay(1.0, 0.1, 100))
    hist = nn.fit(model, X, y, loss="hinge", optimizer=opt, epochs=epochs, l2=1e-4, progress=False)
    return model, hist


def test_demo_moons_reaches_97_percent_training_accuracy_in_100_full_batch_steps() -> None:
    model, hist = _train(100)
    assert hist.epochs == 100 and hist.lr[0] == 1.0 and abs(hist.lr[-1] - 0.109) < 1e-12
    X, y = data.make_moons(100, noise=0.1, seed=0)
    scores = nn.predict(model, X)
    accuracy = float(((scores > 0) == (y == 1)).mean())
    assert accuracy >= 0.97
    assert hist.train_accuracy[-1] is not None and hist.train_accuracy[-1] >= 0.97
    assert hist.train_loss[-1] < 0.1 * hist.train_loss[0]


def test_demo_is_deterministic_for_a_seed() -> None:
    a, ha = _train(3)
    b, hb = _train(3)
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]
    assert ha.train_loss == hb.train_loss
