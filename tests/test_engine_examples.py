"""The lecture notes' worked examples, reproduced to the digit."""

from __future__ import annotations

import math

import pytest

from autograd_core import Value, grad


def test_sum_times_z_matches_lecture() -> None:
    # Lecture 05: f(x, y, z) = (x + y) z at x=1, y=-3, z=4.
    x, y, z = Value(1.0, "x"), Value(-3.0, "y"), Value(4.0, "z")
    d = x + y
    f = d * z
    f.backward()
    assert f.data == -8.0
    assert (x.grad, y.grad, z.grad) == (4.0, 4.0, -2.0)
    assert d.grad == 4.0  # df/dd = z


def _neuron_reference() -> tuple[float, list[float]]:
    w0, x0, w1, x1, b = 2.0, -1.0, -3.0, -2.0, -3.0
    s = w0 * x0 + w1 * x1 + b
    out = 1.0 / (1.0 + math.exp(-s))
    local = out * (1.0 - out)
    return out, [local * x0, local * w0, local * x1, local * w1, local]


@pytest.mark.parametrize("written_out", [False, True])
def test_sigmoid_neuron_matches_lecture(written_out: bool) -> None:
    # Lecture 05: 1 / (1 + exp(-(w0 x0 + w1 x1 + b))) at w0=2, x0=-1, w1=-3, x1=-2, b=-3.
    w0, x0, w1, x1, b = (Value(v, n) for v, n in zip((2, -1, -3, -2, -3), ("w0", "x0", "w1", "x1", "b")))
    s = w0 * x0 + w1 * x1 + b
    out = 1 / (1 + (-s).exp()) if written_out else s.sigmoid()
    out.backward()
    ref_out, ref_grads = _neuron_reference()
    assert out.data == pytest.approx(ref_out, rel=1e-15)
    assert out.data == pytest.approx(0.7310585786300049, rel=1e-15)
    got = [w0.grad, x0.grad, w1.grad, x1.grad, b.grad]
    assert got == pytest.approx(ref_grads, rel=1e-14)
    # The slide's rounded figures.
    assert [round(g, 2) for g in got] == [-0.2, 0.39, -0.39, -0.59, 0.2]


def test_quadratic_gradients_match_closed_form() -> None:
    # Lecture 04: f(x) = a x^2 + b x + c; df/dx = 2 a x + b, df/da = x^2, df/db = x, df/dc = 1.
    a, b, c, x = Value(3.0), Value(-2.0), Value(5.0), Value(1.5)
    f = a * x**2 + b * x + c
    f.backward()
    assert f.data == 3.0 * 1.5**2 - 2.0 * 1.5 + 5.0
    assert (x.grad, a.grad, b.grad, c.grad) == (2 * 3.0 * 1.5 - 2.0, 1.5**2, 1.5, 1.0)
    (d2,) = grad(grad(f, [x], create_graph=True)[0], [x])
    assert d2.data == 2 * 3.0


def test_two_layer_relu_regression_matches_lecture() -> None:
    # Lecture 05: L = (w2 relu(w1 x) - y)^2 at x=1, y=0, w1=1/3, w2=2: dL/dw1 = 8/3, dL/dw2 = 4/9.
    x, y, w1, w2 = Value(1.0), Value(0.0), Value(1 / 3), Value(2.0)
    h = (w1 * x).relu()
    loss = (w2 * h - y) ** 2
    loss.backward()
    assert loss.data == pytest.approx(4 / 9, rel=1e-15)
    assert w1.grad == pytest.approx(8 / 3, rel=1e-15)
    assert w2.grad == pytest.approx(2 * (2 / 3) * (1 / 3), rel=1e-15)


def test_linear_regression_update_rules_match_lecture() -> None:
    # Lecture 01: for one example, dLoss/dw0 = -2 (y - h(x)), dLoss/dw1 = -2 (y - h(x)) x, and the
    # batch rule sums them; a gradient step w <- w - alpha dLoss/dw is the notes' update rule
    # w0 <- w0 + alpha' sum (y - h), w1 <- w1 + alpha' sum (y - h) x with alpha' = 2 alpha.
    xs, ys = [1.0, 2.0, 4.0], [3.0, 5.0, 9.5]
    w0, w1 = Value(0.5), Value(1.0)
    loss = sum(((yj - (w1 * xj + w0)) ** 2 for xj, yj in zip(xs, ys)), Value(0.0))
    loss.backward()
    residuals = [yj - (1.0 * xj + 0.5) for xj, yj in zip(xs, ys)]
    assert w0.grad == pytest.approx(-2 * sum(residuals), rel=1e-15)
    assert w1.grad == pytest.approx(-2 * sum(r * xj for r, xj in zip(residuals, xs)), rel=1e-15)
    alpha = 0.01
    new_w0 = w0.data - alpha * w0.grad
    new_w1 = w1.data - alpha * w1.grad
    assert new_w0 == pytest.approx(0.5 + 2 * alpha * sum(residuals), rel=1e-15)
    assert new_w1 == pytest.approx(1.0 + 2 * alpha * sum(r * xj for r, xj in zip(residuals, xs)), rel=1e-15)
