"""nn.optim: each optimizer against a numpy reference of a few steps; every argument has an effect; schedules;
parameter groups; resuming from state dicts bit for bit."""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import nn
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

# -- parameter groups ---------------------------------------------------------------------------------


def _quadratic_step(ps: list[Value], opt: optim.Optimizer) -> None:
    """One step on f(p) = sum(a p^2 + b p) over the first three of ``ps`` (cycled A, B)."""
    opt.zero_grad()
    f = Value(0.0)
    for i, p in enumerate(ps):
        f = f + float(A[i % 3]) * p * p + float(B[i % 3]) * p
    f.backward()
    opt.step()


def _values(n: int) -> list[Value]:
    return [Value(float(P0[i % 3]) + i) for i in range(n)]


def test_param_groups_with_their_own_lr_equal_separate_optimizers() -> None:
    ps = _values(4)
    opt = optim.SGD([{"params": ps[:2], "lr": 0.1}, {"params": ps[2:]}], lr=0.01, momentum=0.9)
    qs = _values(4)
    first, second = optim.SGD(qs[:2], lr=0.1, momentum=0.9), optim.SGD(qs[2:], lr=0.01, momentum=0.9)
    for _ in range(4):
        _quadratic_step(ps, opt)
        for q in qs:
            q.grad = 0.0
        f = Value(0.0)
        for i, q in enumerate(qs):
            f = f + float(A[i % 3]) * q * q + float(B[i % 3]) * q
        f.backward()
        first.step()
        second.step()
    assert [p.data for p in ps] == [q.data for q in qs]  # bit for bit
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    assert [g["momentum"] for g in opt.param_groups] == [0.9, 0.9]  # filled in from the defaults


def test_param_group_overrides_any_hyper_parameter() -> None:
    ps = _values(2)
    opt = optim.Adam([{"params": ps[:1], "betas": (0.5, 0.9), "eps": 0.1}, {"params": ps[1:]}], lr=0.1)
    assert opt.param_groups[0]["betas"] == (0.5, 0.9) and opt.param_groups[1]["betas"] == (0.9, 0.999)
    p_alone = [Value(ps[0].data)]
    alone = optim.Adam(p_alone, lr=0.1, betas=(0.5, 0.9), eps=0.1)
    for _ in range(3):
        _quadratic_step(ps, opt)
        _quadratic_step(p_alone, alone)
    assert ps[0].data == p_alone[0].data


def test_group_with_lr_zero_freezes_its_parameters() -> None:
    m = nn.Sequential(nn.Linear(2, 3, rng=0), nn.Tanh(), nn.Linear(3, 1, rng=1))
    frozen = [p.data for p in m[0].parameters()]
    opt = optim.SGD([{"params": m[0].parameters(), "lr": 0.0}, {"params": m[2].parameters()}], lr=0.1, momentum=0.9)
    before = [p.data for p in m[2].parameters()]
    for _ in range(3):
        opt.zero_grad()
        m([0.5, -1.0])[0].backward()
        opt.step()
    assert [p.data for p in m[0].parameters()] == frozen
    assert [p.data for p in m[2].parameters()] != before


def test_schedule_drives_groups_without_their_own_lr_only() -> None:
    ps = _values(2)
    opt = optim.SGD([{"params": ps[:1], "lr": 0.0}, {"params": ps[1:]}], lr=1.0, schedule=optim.constant(0.5))
    _quadratic_step(ps, opt)
    assert [g["lr"] for g in opt.param_groups] == [0.0, 0.5] and opt.lr == 0.5
    opt.lr = 0.25  # setting the default sets the groups that follow it
    assert [g["lr"] for g in opt.param_groups] == [0.0, 0.25]


def test_group_schedule_sets_that_groups_lr() -> None:
    ps = _values(2)
    opt = optim.SGD(
        [{"params": ps[:1], "lr": 1.0, "schedule": optim.step_decay(1.0, 1, 0.5)}, {"params": ps[1:]}], lr=0.1
    )
    lrs = []
    for _ in range(3):
        _quadratic_step(ps, opt)
        lrs.append([g["lr"] for g in opt.param_groups])
    assert lrs == [[1.0, 0.1], [0.5, 0.1], [0.25, 0.1]]


def test_add_param_group_adds_parameters_with_their_own_settings() -> None:
    ps = _values(2)
    opt = optim.SGD(ps[:1], lr=0.1)
    opt.add_param_group({"params": ps[1:], "lr": 0.0})
    start = ps[1].data
    _quadratic_step(ps, opt)
    assert ps[1].data == start and opt.params == ps


@pytest.mark.parametrize("cls", [optim.SGD, optim.Adam, optim.AdamW])
@pytest.mark.parametrize("model", [nn.MLP(2, [2, 1], rng=0), nn.Sequential(nn.Linear(2, 1))])
def test_optimizer_given_a_model_says_pass_model_parameters(cls: Any, model: nn.Module) -> None:
    with pytest.raises(TypeError, match=rf"pass its parameters: model.parameters\(\), not the {type(model).__name__}"):
        cls(model, lr=0.1)
    with pytest.raises(TypeError, match=r"model.parameters\(\)"):
        cls([{"params": model}], lr=0.1)


@pytest.mark.parametrize(
    ("params", "exc", "match"),
    [
        ({"params": [Value(1.0)]}, TypeError, "must be wrapped in a list"),
        ([{"params": [Value(1.0)], "momentum": 0.5, "moment": 1}], ValueError, r"unknown keys \['moment'\]"),
        ([{"lr": 0.1}], ValueError, "group 0 has no 'params'"),
        ([{"params": []}], ValueError, "group 0 has an empty 'params'"),
        ([{"params": [Value(1.0)]}, {"params": [Value(1.0)], "momentum": 1.0}], ValueError, "group 1 momentum must"),
        ([{"params": [Value(1.0)]}, Value(2.0)], TypeError, "not a mix"),
        (5, TypeError, "must be a list of Values"),
    ],
)
def test_param_groups_are_checked(params: Any, exc: type[Exception], match: str) -> None:
    with pytest.raises(exc, match=match):
        optim.SGD(params, lr=0.1)


def test_a_value_in_two_groups_is_refused() -> None:
    p = Value(1.0)
    with pytest.raises(ValueError, match="parameter 0 of group 1 appears more than once .*also in group 0"):
        optim.Adam([{"params": [p]}, {"params": [p]}])


# -- state_dict / load_state_dict ------------------------------------------------------------------------

_X = [[0.5, -1.0], [1.5, 0.3], [-0.7, 2.0]]
_Y = [1.0, -1.0, 0.5]


def _net(seed: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(2, 4, rng=seed), nn.Tanh(), nn.Linear(4, 1, rng=seed + 1))


def _train(model: nn.Module, opt: optim.Optimizer, steps: int) -> None:
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.losses.mse([model(x)[0] for x in _X], _Y)
        loss.backward()
        opt.step()


def _bits(model: nn.Module) -> list[str]:
    return [p.data.hex() for p in model.parameters()]


_MAKERS: list[Any] = [
    lambda m: optim.SGD(m.parameters(), lr=0.1, momentum=0.9),
    lambda m: optim.SGD(m.parameters(), lr=0.05, momentum=0.5, nesterov=True, weight_decay=0.01),
    lambda m: optim.Adam(m.parameters(), lr=0.05),
    lambda m: optim.Adam(m.parameters(), lr=0.05, weight_decay=0.1, schedule=optim.cosine(0.05, 8)),
    lambda m: optim.AdamW(m.parameters(), lr=0.05, betas=(0.8, 0.99)),
    lambda m: optim.SGD(
        [{"params": m[0].parameters(), "lr": 0.2, "momentum": 0.5}, {"params": m[2].parameters()}],
        lr=0.05,
        momentum=0.9,
        schedule=optim.linear_decay(0.05, 0.01, 6),
    ),
]


@pytest.mark.parametrize("make", _MAKERS)
def test_resuming_from_state_dicts_is_bit_identical_to_training_without_a_break(make: Any) -> None:
    straight = _net(0)
    _train(straight, make(straight), 8)

    first = _net(0)
    opt = make(first)
    _train(first, opt, 4)
    # Through JSON (string keys, lists), as a file would carry them.
    model_sd = {k: a.tolist() for k, a in first.state_dict().items()}
    opt_sd = json.loads(json.dumps(opt.state_dict()))
    opt_sd["state"] = {int(k): v for k, v in opt_sd["state"].items()}

    resumed = _net(7)  # other weights, overwritten by the load
    resumed.load_state_dict(model_sd)
    opt2 = make(resumed)
    opt2.load_state_dict(opt_sd)
    assert opt2.steps == 4
    _train(resumed, opt2, 4)
    assert _bits(resumed) == _bits(straight)


@pytest.mark.parametrize("make", _MAKERS)
def test_resuming_without_the_optimizer_state_differs(make: Any) -> None:
    # The check above has teeth: a fresh optimizer (no buffers, step 0) does not give the same weights.
    straight = _net(0)
    _train(straight, make(straight), 8)
    first = _net(0)
    _train(first, make(first), 4)
    _train(first, make(first), 4)
    assert _bits(first) != _bits(straight)


def test_state_dict_numbers_parameters_group_after_group() -> None:
    ps = _values(3)
    opt = optim.SGD([{"params": ps[2:], "lr": 0.1}, {"params": ps[:2]}], lr=0.01, momentum=0.9)
    _quadratic_step(ps, opt)
    sd = opt.state_dict()
    assert sd["type"] == "SGD" and sd["steps"] == 1 and sd["lr"] == 0.01
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1, 2]]
    assert sd["state"][0] == {"buf": opt.state[ps[2]]["buf"]}
    assert sd["param_groups"][0] == {"lr": 0.1, "momentum": 0.9, "nesterov": False, "weight_decay": 0.0, "params": [0]}


def _adam_sd() -> tuple[optim.Adam, dict[str, Any]]:
    ps = _values(2)
    opt = optim.Adam(ps, lr=0.1)
    _quadratic_step(ps, opt)
    return opt, opt.state_dict()


@pytest.mark.parametrize(
    ("edit", "exc", "match"),
    [
        (lambda d: d.update(type="SGD"), ValueError, "is for 'SGD', this optimizer is a Adam"),
        (lambda d: d.pop("steps"), ValueError, r"missing \['steps'\]"),
        (lambda d: d.update(steps=-1), ValueError, "'steps' must be an int >= 0"),
        (lambda d: d.update(param_groups=d["param_groups"] * 2), ValueError, "has 2 parameter groups, this Adam has 1"),
        (lambda d: d["param_groups"][0].update(params=[0]), ValueError, "this Adam's group 0 has 2 parameters"),
        (lambda d: d["param_groups"][0].update(lr=-1.0), ValueError, "state dict group 0 lr must be in"),
        (lambda d: d["param_groups"][0].update(betas=[0.9]), TypeError, "betas must be a pair"),
        (lambda d: d["param_groups"][0].pop("eps"), ValueError, r"group 0 needs exactly the keys .* missing \['eps'\]"),
        (lambda d: d["state"].update({5: {"m": 0.0, "v": 0.0}}), ValueError, "entry for parameter 5"),
        (lambda d: d["state"].update({0: {"m": 0.0}}), ValueError, r"exactly the buffers \['m', 'v'\]"),
        (lambda d: d["state"].update({0: {"m": float("nan"), "v": 0.0}}), ValueError, "must be a finite number"),
        (lambda d: d.update(state=[1]), TypeError, "'state' must be a dict"),
    ],
)
def test_load_state_dict_names_what_does_not_match_and_changes_nothing(edit: Any, exc: Any, match: str) -> None:
    opt, sd = _adam_sd()
    before = copy.deepcopy(opt.state_dict())
    edit(sd)
    with pytest.raises(exc, match=match):
        opt.load_state_dict(sd)
    assert opt.state_dict() == before


def test_load_state_dict_needs_a_mapping() -> None:
    opt, _ = _adam_sd()
    with pytest.raises(TypeError, match="needs a mapping"):
        opt.load_state_dict([("steps", 1)])  # type: ignore[arg-type]
