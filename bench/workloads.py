"""Benchmark workloads written once against any micrograd-style ``Value`` class.

Each workload takes the Value class as an argument, so the same code runs on
autograd-core and on ``micrograd==0.1.0`` in one process.  Only the surface
both engines share is used: ``Value(x)``, ``+ - * **``, ``relu()``,
``backward()``, ``.data`` and ``.grad``.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from nn.data import make_moons


def moons(n: int = 100, noise: float = 0.1, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """micrograd's demo data: ``nn.data.make_moons`` with its 0/1 labels as -1/+1 for the max-margin loss."""
    X, y = make_moons(n, noise=noise, seed=seed)
    return X, np.where(y == 1, 1.0, -1.0)


class MLP:
    """MLP(2, [16, 16, 1]): ReLU hidden layers, linear output, micrograd's U(-1, 1) init."""

    def __init__(self, V: Any, nin: int, nouts: list[int], seed: int = 0) -> None:
        rng = random.Random(seed)
        sizes = [nin, *nouts]
        self.layers = []
        for i in range(len(nouts)):
            neurons = []
            for _ in range(sizes[i + 1]):
                w = [V(rng.uniform(-1, 1)) for _ in range(sizes[i])]
                neurons.append((w, V(0.0)))
            self.layers.append(neurons)

    def parameters(self) -> list[Any]:
        return [p for layer in self.layers for w, b in layer for p in (*w, b)]

    def __call__(self, x: list[Any]) -> list[Any]:
        last = len(self.layers) - 1
        for li, layer in enumerate(self.layers):
            out = []
            for w, b in layer:
                act = b
                for wi, xi in zip(w, x):
                    act = act + wi * xi
                out.append(act if li == last else act.relu())
            x = out
        return x


def w1_step(V: Any, model: MLP, X: np.ndarray, y: np.ndarray, k: int) -> float:
    """One step of micrograd's demo: max-margin loss + 1e-4 L2, backward, SGD."""
    params = model.parameters()
    # Inputs wrapped once as Values, as micrograd's demo does (not re-wrapped per use).
    xs = [[V(float(a)), V(float(b))] for a, b in X]
    scores = [model(x)[0] for x in xs]
    losses = [(1 + -float(yi) * s).relu() for yi, s in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in params)
    loss = data_loss + reg_loss
    for p in params:
        p.grad = 0.0
    loss.backward()
    lr = 1.0 - 0.9 * k / 100
    for p in params:
        p.data -= lr * p.grad
    return float(loss.data)


def chain(V: Any, n: int) -> Any:
    """A chain of about n graph nodes: n/4 steps of ``x * 1.0 + 0.0`` (two ops, two constant leaves)."""
    x = V(1.0)
    for _ in range(n // 4):
        x = x * 1.0 + 0.0
    return x
