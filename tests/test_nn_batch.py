"""Tests of nn.batch: loss targets from labels, and the accuracy counts of the eager and the compiled path."""

from __future__ import annotations

import random

import numpy as np
import pytest

import nn
from nn import batch, data, plan


@pytest.mark.parametrize("loss", ["hinge", "bce_with_logits", "cross_entropy", "bce"])
@pytest.mark.parametrize("dead", [False, True])
def test_accuracy_from_the_loss_pass_equals_accuracy_from_a_second_replay(loss: str, dead: bool) -> None:
    # fit's compiled epoch reads the accuracy off the gradients w.r.t. the targets of its one
    # forward_backward pass; it must count exactly what a replay of the model counts, also for
    # outputs of exactly 0 (all hidden relus dead: hinge's and argmax's tie cases).
    X, y = data.make_blobs(40, seed=3) if loss == "cross_entropy" else data.make_moons(40, noise=0.3, seed=3)
    nout = 3 if loss == "cross_entropy" else 1
    out_act = "sigmoid" if loss == "bce" else "linear"
    m = nn.MLP(2, [4, nout], output_activation=out_act, rng=random.Random(0))
    if dead:
        for n in m.layers[0].neurons:
            n.b.data = -100.0
    cl, pred = plan.trace(m, loss, 2, training=True)
    assert cl is not None
    t = batch.target_array(loss, y)
    per_sample, arg_grads, _ = cl.compiled.forward_backward(*cl.args(X, t))
    got = batch.correct_from_target_grads(loss, per_sample, arg_grads[2:], t)
    want = batch.correct_arrays(loss, batch.outputs(pred, X, loss), t)
    eager = batch.correct(loss, batch.forward(m, X), y)
    assert got == want == eager
    assert got is not None and 0 < got <= len(y)


def test_targets_map_hinge_labels_to_minus_one_and_class_indices_to_ints() -> None:
    y = np.array([0.0, 1.0, 2.0])
    assert batch.targets("hinge", y[:2]) == [-1.0, 1.0]
    classes = batch.targets("cross_entropy", y)
    assert classes == [0, 1, 2] and all(type(t) is int for t in classes)
    assert batch.targets("mse", y) == [0.0, 1.0, 2.0]
    assert batch.target_array("hinge", y[:2]).tolist() == [-1.0, 1.0]
