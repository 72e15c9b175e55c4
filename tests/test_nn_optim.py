"""nn.optim: each optimizer against a numpy reference of a few steps; every argument has an effect; schedules."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from autograd_core import Value
from nn import optim

A = np.array([1.0, 3.0, 0.5])
B = np.array([-1.0, 0.5, 2.0])
P0 = np.array([0.7, -1.2, 2.5])


def _grad_np(p: np.ndarray) -> np.ndarray:
    """Gradient of f(p) = sum(a p^2 + b p) (the reference side)."""
    return 2 * A * p + B


def _run(make: Callable[[list[Value]], optim.Optimizer], steps: int = 5) -> np.ndarray:
    ps = [Value(float(x)) for x in P0]
    opt = make(ps)
    for _ in range(steps):
        opt.zero_grad()
        f = Value(0.0)
        for p, a, b in zip(ps, A, B):
            f = f + float(a) * p * p + float(b) * p
        f.backward()
        opt.step()
    return np.array([p.data for p in ps])


def _sgd_ref(lr: float, momentum: float = 0.0, nesterov: bool = False, wd: float = 0.0, steps: int = 5) -> np.ndarray:
    p, buf = P0.copy(), None
    for _ in range(steps):
        g = _grad_np(p) + wd * p
        if momentum:
            buf = g if buf is None else momentum * buf + g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
    return p


def _adam_ref(lr: float, b1: float, b2: float, eps: float, wd: float, decoupled: bool, steps: int = 5) -> np.ndarray:
    p, m, v = P0.copy(), np.zeros(3), np.zeros(3)
    for t in range(1, steps + 1):
        g = _grad_np(p)
        if decoupled:
            p = p - lr * wd * p
        else:
            g = g + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        p = p - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    return p


def test_sgd_one_step_by_hand() -> None:
    p = Value(1.0)
    opt = optim.SGD([p], lr=0.1)
    (p * p).backward()  # grad 2
    opt.step()
    assert p.data == pytest.approx(0.8)


@pytest.mark.parametrize(
    "kw",
    [
        {"lr": 0.05},
        {"lr": 0.05, "momentum": 0.9},
        {"lr": 0.05, "momentum": 0.9, "nesterov": True},
        {"lr": 0.05, "weight_decay": 0.3},
        {"lr": 0.05, "momentum": 0.5, "nesterov": True, "weight_decay": 0.1},
    ],
)
def test_sgd_matches_numpy_reference(kw: dict[str, Any]) -> None:
    got = _run(lambda ps: optim.SGD(ps, **kw))
    ref = _sgd_ref(kw["lr"], kw.get("momentum", 0.0), kw.get("nesterov", False), kw.get("weight_decay", 0.0))
    np.testing.assert_allclose(got, ref, rtol=1e-12)


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"lr": 0.1},
        {"lr": 0.1, "betas": (0.5, 0.9)},
        {"lr": 0.1, "eps": 1.0},
        {"lr": 0.1, "weight_decay": 0.5},
    ],
)
def test_adam_matches_numpy_reference(kw: dict[str, Any]) -> None:
    got = _run(lambda ps: optim.Adam(ps, **kw))
    b1, b2 = kw.get("betas", (0.9, 0.999))
    ref = _adam_ref(kw.get("lr", 1e-3), b1, b2, kw.get("eps", 1e-8), kw.get("weight_decay", 0.0), False)
    np.testing.assert_allclose(got, ref, rtol=1e-12)


@pytest.mark.parametrize("kw", [{}, {"lr": 0.1, "weight_decay": 0.5}, {"lr": 0.1, "betas": (0.8, 0.99), "eps": 0.1}])
def test_adamw_matches_numpy_reference_with_decoupled_decay(kw: dict[str, Any]) -> None:
    got = _run(lambda ps: optim.AdamW(ps, **kw))
    b1, b2 = kw.get("betas", (0.9, 0.999))
    ref = _adam_ref(kw.get("lr", 1e-3), b1, b2, kw.get("eps", 1e-8), kw.get("weight_decay", 0.01), True)
    np.testing.assert_allclose(got, ref, rtol=1e-12)


def test_adam_first_step_moves_each_weight_by_lr() -> None:
    # Bias correction makes the first Adam step lr * sign(grad) (up to eps).
    got = _run(lambda ps: optim.Adam(ps, lr=0.01), steps=1)
    np.testing.assert_allclose(got, P0 - 0.01 * np.sign(_grad_np(P0)), rtol=1e-9)


@pytest.mark.parametrize(
    ("base", "changed"),
    [
        (lambda ps: optim.SGD(ps, lr=0.05), lambda ps: optim.SGD(ps, lr=0.06)),
        (lambda ps: optim.SGD(ps, lr=0.05), lambda ps: optim.SGD(ps, lr=0.05, momentum=0.5)),
        (
            lambda ps: optim.SGD(ps, lr=0.05, momentum=0.5),
            lambda ps: optim.SGD(ps, lr=0.05, momentum=0.5, nesterov=True),
        ),
        (lambda ps: optim.SGD(ps, lr=0.05), lambda ps: optim.SGD(ps, lr=0.05, weight_decay=0.1)),
        (lambda ps: optim.SGD(ps, lr=0.05), lambda ps: optim.SGD(ps, lr=0.05, schedule=optim.constant(0.01))),
        (lambda ps: optim.Adam(ps), lambda ps: optim.Adam(ps, lr=0.01)),
        (lambda ps: optim.Adam(ps), lambda ps: optim.Adam(ps, betas=(0.5, 0.999))),
        (lambda ps: optim.Adam(ps), lambda ps: optim.Adam(ps, betas=(0.9, 0.5))),
        (lambda ps: optim.Adam(ps), lambda ps: optim.Adam(ps, eps=0.5)),
        (lambda ps: optim.Adam(ps), lambda ps: optim.Adam(ps, weight_decay=0.5)),
        (lambda ps: optim.AdamW(ps), lambda ps: optim.AdamW(ps, weight_decay=0.0)),
        (lambda ps: optim.Adam(ps, weight_decay=0.5), lambda ps: optim.AdamW(ps, weight_decay=0.5)),
        (lambda ps: optim.Adam(ps), lambda ps: optim.Adam(ps, schedule=optim.step_decay(1e-3, 2, 0.1))),
    ],
)
def test_every_constructor_argument_changes_the_result(base: Any, changed: Any) -> None:
    assert not np.allclose(_run(base), _run(changed), rtol=1e-9, atol=0)


def test_lr_may_change_between_steps_and_state_lives_in_the_optimizer() -> None:
    p = Value(1.0)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = 1.0
    opt.step()
    opt.lr = 0.0
    opt.step()
    assert p.data == pytest.approx(0.9)  # lr 0: no move even though the buffer is non-zero
    assert opt.state[p]["buf"] == pytest.approx(1.9)
    assert not hasattr(p, "__dict__")  # nothing was stuck onto the Value


def test_schedule_sets_lr_before_each_step() -> None:
    p = Value(0.0)
    opt = optim.SGD([p], lr=123.0, schedule=optim.linear_decay(1.0, 0.1, 100))
    lrs = []
    for _ in range(3):
        p.grad = -1.0
        opt.step()
        lrs.append(opt.lr)
    assert lrs == pytest.approx([1.0, 0.991, 0.982])  # micrograd's 1.0 - 0.9 k / 100
    assert p.data == pytest.approx(sum(lrs))


def test_schedules_by_formula() -> None:
    lin = optim.linear_decay(1.0, 0.1, 100)
    assert [lin(k) for k in (0, 50, 100, 200)] == pytest.approx([1.0, 0.55, 0.1, 0.1])
    st = optim.step_decay(0.5, 10, 0.5)
    assert [st(k) for k in (0, 9, 10, 25)] == pytest.approx([0.5, 0.5, 0.25, 0.125])
    cos = optim.cosine(1.0, 10, 0.0)
    assert [cos(k) for k in (0, 5, 10, 11)] == pytest.approx([1.0, 0.5, 0.0, 0.0], abs=1e-12)
    assert cos(3) == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.3)))
    assert optim.constant(0.3)(1000) == 0.3
    with pytest.raises(ValueError, match="step number"):
        lin(-1)


def test_optimizer_arguments_are_checked() -> None:
    p = Value(1.0)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="more than once"):
        optim.SGD([p, p], lr=0.1)
    with pytest.raises(TypeError, match="parameter 0 must be a Value"):
        optim.Adam([1.0])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="nesterov=True needs momentum"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="lr must be in"):
        optim.SGD([p], lr=-1.0)
    with pytest.raises(ValueError, match="betas must each be below 1"):
        optim.Adam([p], betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="eps must be in"):
        optim.Adam([p], eps=0.0)


@pytest.mark.parametrize(
    ("call", "exc", "message"),
    [
        (lambda: optim.linear_decay(1.0, 0.1, steps=1.5), TypeError, "steps must be a positive int"),  # type: ignore[arg-type]
        (lambda: optim.linear_decay(1.0, 0.1, steps=0), ValueError, "steps must be a positive int"),
        (lambda: optim.cosine(1.0, steps="9"), TypeError, "steps must be a positive int"),  # type: ignore[arg-type]
        (lambda: optim.step_decay(1.0, step_size=2.0), TypeError, "step_size must be a positive int"),  # type: ignore[arg-type]
        (lambda: optim.constant(1.0)(1.5), TypeError, "schedule takes an int step number"),  # type: ignore[arg-type]
    ],
)
def test_schedules_bad_arguments_raise_the_right_type_naming_the_argument(call: Any, exc: type, message: str) -> None:
    with pytest.raises(exc, match=message):
        call()
