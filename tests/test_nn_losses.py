"""nn.losses against closed forms and numpy, including extreme logits."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from autograd_core import Value, compile
from nn import losses


def _vals(xs: list[float]) -> list[Value]:
    return [Value(x) for x in xs]


def test_mse_value_and_gradient_match_closed_form() -> None:
    p = _vals([1.0, 2.0, 4.0])
    t = [0.0, 2.0, 1.0]
    loss = losses.mse(p, t)
    assert loss.data == pytest.approx((1 + 0 + 9) / 3)
    loss.backward()
    assert [v.grad for v in p] == pytest.approx([2 * 1 / 3, 0.0, 2 * 3 / 3])


def test_l1_value_and_gradient_match_closed_form() -> None:
    p = _vals([1.0, -2.0])
    loss = losses.l1(p, [0.0, 1.0])
    assert loss.data == pytest.approx(2.0)
    loss.backward()
    assert [v.grad for v in p] == pytest.approx([0.5, -0.5])


def test_bce_matches_numpy_log_loss_and_gradient() -> None:
    probs = np.array([0.9, 0.2, 0.6, 0.5])
    y = np.array([1, 0, 0, 1])
    p = _vals(list(probs))
    loss = losses.bce(p, list(y))
    ref = -np.mean(y * np.log(probs) + (1 - y) * np.log(1 - probs))
    assert loss.data == pytest.approx(ref, rel=1e-12)
    loss.backward()
    ref_grad = (probs - y) / (probs * (1 - probs)) / len(y)
    np.testing.assert_allclose([v.grad for v in p], ref_grad, rtol=1e-10)


def test_bce_clamps_log_at_zero_probability() -> None:
    loss = losses.bce([0.0], [1])
    assert loss.data == 100.0
    with pytest.raises(ValueError, match="use bce_with_logits"):
        losses.bce([1.5], [1])


# (p, t, PyTorch's F.binary_cross_entropy value, PyTorch's gradient) in float64, torch 2.13.
# PyTorch's backward is (p - t) / max(p (1 - p), 1e-12); where that is the true
# derivative (interior points) ours must equal it, and it must be finite everywhere.
BCE_TORCH = [
    (0.0, 1.0, 100.0, -1000000003995.8029),
    (1.0, 0.0, 100.0, 1000000003995.8029),
    (0.0, 0.0, 0.0, 0.0),
    (1.0, 1.0, 0.0, 0.0),
    (0.3, 1.0, 1.2039728043259361, -3.333333333333333),
    (0.3, 0.0, 0.35667494393873234, 1.4285714285714286),
    (0.7, 0.4, 0.8650536601710546, 1.4285714285714282),
    (1e-30, 1.0, 69.07755278982137, -1000000003995.8029),
    (1e-50, 1.0, 100.0, -1000000003995.8029),
]


@pytest.mark.parametrize(("p", "t", "torch_loss", "torch_grad"), BCE_TORCH)
def test_bce_value_matches_pytorch_and_gradient_is_finite_at_saturation(
    p: float, t: float, torch_loss: float, torch_grad: float
) -> None:
    v = Value(p)
    loss = losses.bce([v], [t])
    assert loss.data == pytest.approx(torch_loss, rel=1e-15, abs=0.0)
    loss.backward()
    assert math.isfinite(v.grad), v.grad
    # The exact derivative of the clamped loss: 1/p where log's input is above the floor e^-100, else 0.
    floor = math.exp(-100)
    want = (-t / p if p > floor else 0.0) if t != 0 else 0.0
    want += ((1 - t) / (1 - p) if 1 - p > floor else 0.0) if t != 1 else 0.0
    assert v.grad == pytest.approx(want, rel=1e-12, abs=0.0)
    if 1e-12 <= p <= 1 - 1e-12:
        # PyTorch's formula is the true derivative here.
        assert v.grad == pytest.approx(torch_grad, rel=1e-12, abs=0.0)
    else:
        # Saturated: PyTorch substitutes +-1e12 (0 for p == t); ours is the exact, finite slope.
        assert math.copysign(1.0, torch_grad) == math.copysign(1.0, want) or want == 0.0 or torch_grad == 0.0


def test_bce_gradient_through_saturated_sigmoid_is_finite_not_nan() -> None:
    for z, t in ((50.0, 0), (-800.0, 1), (50.0, 1), (-800.0, 0)):
        zv = Value(z)
        loss = losses.bce([zv.sigmoid()], [t])
        loss.backward()
        assert loss.data in (0.0, 100.0)
        assert zv.grad == 0.0  # sigmoid's derivative p (1 - p) is exactly 0 there


def test_bce_with_logits_matches_numpy_and_gradient_is_sigmoid_minus_target() -> None:
    z = np.array([2.0, -1.0, 0.0, 3.5])
    y = np.array([1, 0, 1, 0])
    zs = _vals(list(z))
    loss = losses.bce_with_logits(zs, list(y))
    s = 1 / (1 + np.exp(-z))
    assert loss.data == pytest.approx(-np.mean(y * np.log(s) + (1 - y) * np.log(1 - s)), rel=1e-12)
    loss.backward()
    np.testing.assert_allclose([v.grad for v in zs], (s - y) / 4, rtol=1e-10)


@pytest.mark.parametrize(
    ("z", "t", "loss", "grad"),
    [(1000.0, 1, 0.0, 0.0), (1000.0, 0, 1000.0, 1.0), (-1000.0, 0, 0.0, 0.0), (-1000.0, 1, 1000.0, -1.0)],
)
def test_bce_with_logits_is_stable_at_plus_minus_1000(z: float, t: int, loss: float, grad: float) -> None:
    v = Value(z)
    out = losses.bce_with_logits([v], [t])
    assert out.data == loss
    out.backward()
    assert v.grad == grad


def test_cross_entropy_matches_numpy_softmax() -> None:
    z = np.array([1.0, 2.0, 0.5])
    zs = _vals(list(z))
    loss = losses.cross_entropy(zs, 1)
    soft = np.exp(z) / np.exp(z).sum()
    assert loss.data == pytest.approx(-np.log(soft[1]), rel=1e-12)
    loss.backward()
    np.testing.assert_allclose([v.grad for v in zs], soft - np.eye(3)[1], rtol=1e-10, atol=1e-15)


def test_cross_entropy_batched_is_the_mean_over_samples() -> None:
    batch = [[1.0, 2.0], [3.0, -1.0], [0.0, 0.0]]
    targets = [0, 0, 1]
    got = losses.cross_entropy([_vals(r) for r in batch], targets).data
    ref = np.mean([losses.cross_entropy(_vals(r), t).data for r, t in zip(batch, targets)])
    assert got == pytest.approx(ref, rel=1e-12)
    assert losses.cross_entropy([_vals([0.0, 0.0])], [1]).data == pytest.approx(math.log(2))


def test_cross_entropy_is_stable_for_logits_of_1000() -> None:
    zs = _vals([1000.0, -1000.0, 0.0])
    loss = losses.cross_entropy(zs, 1)
    assert loss.data == pytest.approx(2000.0)
    loss.backward()
    assert [v.grad for v in zs] == pytest.approx([1.0, -1.0, 0.0])
    assert all(math.isfinite(v.grad) for v in zs)
    assert losses.cross_entropy(_vals([1000.0, 1000.0]), 0).data == pytest.approx(math.log(2))


def test_cross_entropy_rejects_bad_targets() -> None:
    with pytest.raises(ValueError, match="out of range for 3 classes"):
        losses.cross_entropy(_vals([1.0, 2.0, 3.0]), 3)
    with pytest.raises(TypeError, match="class index"):
        losses.cross_entropy(_vals([1.0, 2.0]), 0.5)
    with pytest.raises(ValueError, match="2 samples but 1 targets"):
        losses.cross_entropy([[1.0, 2.0], [1.0, 2.0]], [0])


def test_hinge_is_micrograds_max_margin_loss() -> None:
    s = _vals([2.0, 0.5, -0.3])
    loss = losses.hinge(s, [1, 1, -1])
    assert loss.data == pytest.approx((0.0 + 0.5 + 0.7) / 3)
    loss.backward()
    assert [v.grad for v in s] == pytest.approx([0.0, -1 / 3, 1 / 3])
    with pytest.raises(ValueError, match="must be -1 or \\+1"):
        losses.hinge(s, [0, 1, 1])


def test_penalties_are_sums_of_abs_and_squares() -> None:
    ps = _vals([0.5, -2.0, 0.0])
    l1, l2 = losses.l1_penalty(ps), losses.l2_penalty(ps)
    assert (l1.data, l2.data) == (2.5, 4.25)
    (l1 + l2).backward()
    assert [p.grad for p in ps] == [1.0 + 1.0, -1.0 - 4.0, 0.0]


def test_lecture_l1_prefers_sparse_l2_prefers_spread_weights() -> None:
    # Lecture 05: theta1 = [0, 0.75, 0] and theta2 = [0.25, 0.5, 0.25] give the same
    # output on x = [1, 2, 1]; L1 favours the sparse theta1, L2 the spread theta2.
    x = [1.0, 2.0, 1.0]
    t1, t2 = _vals([0.0, 0.75, 0.0]), _vals([0.25, 0.5, 0.25])
    assert sum(a * b.data for a, b in zip(x, t1)) == sum(a * b.data for a, b in zip(x, t2)) == 1.5
    assert (losses.l1_penalty(t1).data, losses.l1_penalty(t2).data) == (0.75, 1.0)
    assert (losses.l2_penalty(t1).data, losses.l2_penalty(t2).data) == (0.5625, 0.375)


def test_losses_reject_mismatched_or_empty_batches() -> None:
    with pytest.raises(ValueError, match="2 predictions but 1 targets"):
        losses.mse([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="empty"):
        losses.l1([], [])
    with pytest.raises(TypeError, match="takes a batch"):
        losses.mse(Value(1.0), 1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="target 0 must be a real number"):
        losses.mse([1.0], ["a"])


# -- trace-safe: the compiled path traces these same functions, targets as tape arguments -------

_ONE_OUTPUT = [
    (losses.mse, [(0.3, 1.5), (-2.0, 0.25), (4.0, -1.0)]),
    (losses.l1, [(0.3, 1.5), (-2.0, 0.25), (4.0, -1.0)]),
    (losses.hinge, [(0.3, 1.0), (2.0, 1.0), (-0.5, -1.0), (0.5, -1.0)]),
    (losses.bce_with_logits, [(0.3, 1.0), (-2.0, 0.0), (30.0, 0.0), (-30.0, 1.0)]),
    (losses.bce, [(0.3, 1.0), (0.9, 0.0), (0.0, 1.0), (1.0, 0.0), (0.5, 0.25)]),
]


@pytest.mark.parametrize(("loss", "points"), _ONE_OUTPUT, ids=lambda v: getattr(v, "__name__", ""))
def test_losses_trace_with_value_targets_and_replay_as_eager(loss: Any, points: list[tuple[float, float]]) -> None:
    # A sigmoid in front of bce keeps the check trace's flipped inputs in [0, 1].
    pre = (lambda z: z) if loss is not losses.bce else (lambda z: z.sigmoid())
    c = compile(lambda z, t: loss([pre(z)], [t]), [0.2, 1.0])
    for z, t in points:
        if loss is losses.bce:
            z = math.log(z / (1 - z)) if 0 < z < 1 else (-800.0 if z == 0 else 800.0)
        zv, tv = Value(z), Value(t)
        eager = loss([pre(zv)], [tv])
        eager.backward()
        got, grads, _ = c.forward_backward(z, t)
        assert got == eager.data, (z, t)
        assert grads == [zv.grad, tv.grad], (z, t)


def test_cross_entropy_traces_with_one_hot_value_targets_and_replays_as_eager() -> None:
    c = compile(lambda z0, z1, z2, t0, t1, t2: losses.cross_entropy([z0, z1, z2], [t0, t1, t2]),
                [0.1, 0.2, 0.3, 1.0, 0.0, 0.0], check_args=[-1.1, -1.2, -1.3, 0.0, 1.0, 0.0])  # fmt: skip
    for z, k in [([1.0, 2.0, 0.5], 1), ([5.0, -3.0, 5.0], 2), ([-1.0, 0.0, 100.0], 0)]:
        onehot = [1.0 if j == k else 0.0 for j in range(3)]
        zs = [Value(v) for v in z]
        eager = losses.cross_entropy(zs, k)
        eager.backward()
        got, grads, _ = c.forward_backward(*z, *onehot)
        assert got == pytest.approx(eager.data, rel=1e-15)
        assert grads[:3] == pytest.approx([v.grad for v in zs], rel=1e-12, abs=1e-15)
        assert grads[3:] == pytest.approx([-v for v in z], rel=1e-15)  # d/dt_k = -z_k: linear in the target


def test_cross_entropy_probability_targets_equal_the_class_index_form() -> None:
    z = [1.0, 2.0, 0.5]
    assert losses.cross_entropy(_vals(z), [0.0, 1.0, 0.0]).data == losses.cross_entropy(_vals(z), 1).data
    soft = np.exp(z) / np.exp(z).sum()
    mixed = losses.cross_entropy(_vals(z), [0.25, 0.75, 0.0]).data
    assert mixed == pytest.approx(-(0.25 * np.log(soft[0]) + 0.75 * np.log(soft[1])), rel=1e-12)
    batch = losses.cross_entropy([_vals(z), _vals(z)], [[1.0, 0.0, 0.0], 2]).data
    assert batch == pytest.approx((losses.cross_entropy(_vals(z), 0).data + losses.cross_entropy(_vals(z), 2).data) / 2)
    with pytest.raises(ValueError, match="must be in \\[0, 1\\] and sum to 1"):
        losses.cross_entropy(_vals(z), [0.5, 0.6, 0.0])
    with pytest.raises(ValueError, match="2 target probabilities for 3 classes"):
        losses.cross_entropy(_vals(z), [0.5, 0.5])


def test_value_targets_are_used_as_values_with_gradients() -> None:
    p, t = Value(0.5), Value(2.0)
    loss = losses.mse([p], [t])
    loss.backward()
    assert (loss.data, p.grad, t.grad) == (2.25, -3.0, 3.0)
    # Numbers are checked; a Value target is not read (it may be a tape argument), so it is not refused.
    with pytest.raises(ValueError, match="must be -1 or \\+1"):
        losses.hinge([p], [0.5])
    assert losses.hinge([p], [Value(0.5)]).data == 0.75


def test_loss_table_names_every_loss_once() -> None:
    assert losses.LOSSES == {
        "mse": losses.mse, "l1": losses.l1, "bce": losses.bce, "bce_with_logits": losses.bce_with_logits,
        "hinge": losses.hinge, "cross_entropy": losses.cross_entropy,
    }  # fmt: skip
