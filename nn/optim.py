"""Optimizers (SGD with momentum and Nesterov, Adam, AdamW) and learning-rate schedules.

An optimizer updates ``p.data`` of the parameters it was given from their
``p.grad``; its state (momentum buffers, moment estimates, the step count)
lives in a dict keyed by parameter inside the optimizer, never on the Values.
``lr`` is a public attribute that may be changed between steps; a
``schedule`` (a callable of the step number 0, 1, 2, ...) sets it before each
step.  The update rules are PyTorch's, so results can be checked against it.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any

from autograd_core import Value

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "constant", "linear_decay", "step_decay", "cosine"]

Schedule = Callable[[int], float]


def _number(name: str, x: Any, *, lo: float = 0.0, hi: float = math.inf, lo_open: bool = False) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(x).__name__}: {x!r}")
    v = float(x)
    if not math.isfinite(v) or v < lo or (lo_open and v == lo) or v > hi:
        left = "(" if lo_open else "["
        raise ValueError(f"{name} must be in {left}{lo}, {hi}], got {x!r}")
    return v


class Optimizer:
    """Base class: parameter list, ``lr``, optional ``schedule``, ``zero_grad()`` and the step count.

    Args:
        params: the Values to update (e.g. ``model.parameters()``); no duplicates.
        lr: learning rate (>= 0).
        schedule: optional callable ``step -> lr``, called before each step.

    Raises:
        TypeError, ValueError: for a bad argument.
    """

    def __init__(self, params: Iterable[Value], lr: float, schedule: Schedule | None = None) -> None:
        if isinstance(params, Value):
            raise TypeError("params must be a list of Values (e.g. model.parameters()), got a single Value")
        ps = list(params)
        if not ps:
            raise ValueError("optimizer got an empty parameter list")
        seen: set[int] = set()
        for i, p in enumerate(ps):
            if not isinstance(p, Value):
                raise TypeError(f"parameter {i} must be a Value, got {type(p).__name__}")
            if id(p) in seen:
                raise ValueError(f"parameter {i} appears more than once in the parameter list")
            seen.add(id(p))
        if schedule is not None and not callable(schedule):
            raise TypeError(f"schedule must be a callable step -> lr, got {type(schedule).__name__}")
        self.params = ps
        self.lr = _number("lr", lr)
        self.schedule = schedule
        self.steps = 0
        self.state: dict[Value, dict[str, float]] = {p: {} for p in ps}

    def zero_grad(self) -> None:
        """Set the ``grad`` of every parameter to 0.0."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """Update every parameter once from its ``grad``.

        Raises:
            ValueError: if a schedule returns a bad learning rate.
        """
        if self.schedule is not None:
            self.lr = _number(f"schedule({self.steps})", self.schedule(self.steps))
        self._update()
        self.steps += 1

    def _update(self) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr}, params={len(self.params)}, steps={self.steps})"


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay.

    Per parameter (PyTorch's rule): ``g = grad + weight_decay * p``; with
    momentum ``buf = momentum * buf + g`` (``buf = g`` on the first step) and
    ``g = buf``, or ``g = g + momentum * buf`` with Nesterov; then ``p -= lr * g``.

    Args:
        params: the Values to update.
        lr: learning rate.
        momentum: momentum factor in [0, 1).
        nesterov: use Nesterov momentum (needs momentum > 0).
        weight_decay: L2 penalty coefficient (>= 0).
        schedule: optional callable ``step -> lr``.

    Raises:
        TypeError, ValueError: for a bad argument.
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        *,
        schedule: Schedule | None = None,
    ) -> None:
        super().__init__(params, lr, schedule)
        self.momentum = _number("momentum", momentum, hi=1.0)
        if self.momentum == 1.0:
            raise ValueError("momentum must be below 1, got 1.0 (the buffer would never forget)")
        if not isinstance(nesterov, bool):
            raise TypeError(f"nesterov must be a bool, got {type(nesterov).__name__}")
        if nesterov and self.momentum == 0.0:
            raise ValueError("nesterov=True needs momentum > 0")
        self.nesterov = nesterov
        self.weight_decay = _number("weight_decay", weight_decay)

    def _update(self) -> None:
        lr, mu, wd = self.lr, self.momentum, self.weight_decay
        for p in self.params:
            g = p.grad + wd * p.data if wd else p.grad
            if mu:
                st = self.state[p]
                buf = mu * st["buf"] + g if "buf" in st else g
                st["buf"] = buf
                g = g + mu * buf if self.nesterov else buf
            p.data -= lr * g


class Adam(Optimizer):
    """Adam: bias-corrected first and second moment estimates of the gradient.

    ``g = grad + weight_decay * p`` (L2 in the gradient, as PyTorch's Adam);
    ``m = b1 m + (1 - b1) g``; ``v = b2 v + (1 - b2) g**2``;
    ``p -= lr * (m / (1 - b1**t)) / (sqrt(v / (1 - b2**t)) + eps)``.

    Args:
        params: the Values to update.
        lr: learning rate.
        betas: decay rates (b1, b2) of the moment estimates, each in [0, 1).
        eps: added to the denominator (> 0).
        weight_decay: L2 penalty coefficient added to the gradient (>= 0).
        schedule: optional callable ``step -> lr``.

    Raises:
        TypeError, ValueError: for a bad argument.
    """

    decoupled = False

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        schedule: Schedule | None = None,
    ) -> None:
        super().__init__(params, lr, schedule)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"betas must be a pair (b1, b2), got {betas!r}")
        b1, b2 = (_number(f"betas[{i}]", b, hi=1.0) for i, b in enumerate(betas))
        if b1 == 1.0 or b2 == 1.0:
            raise ValueError(f"betas must each be below 1, got {tuple(betas)}")
        self.betas = (b1, b2)
        self.eps = _number("eps", eps, lo_open=True)
        self.weight_decay = _number("weight_decay", weight_decay)

    def _update(self) -> None:
        lr, (b1, b2), eps, wd = self.lr, self.betas, self.eps, self.weight_decay
        t = self.steps + 1
        c1, c2 = 1.0 - b1**t, 1.0 - b2**t
        for p in self.params:
            g = p.grad
            if wd:
                if self.decoupled:
                    # AdamW: decay the weight itself, outside the moment estimates.
                    p.data -= lr * wd * p.data
                else:
                    g = g + wd * p.data
            st = self.state[p]
            m = b1 * st.get("m", 0.0) + (1.0 - b1) * g
            v = b2 * st.get("v", 0.0) + (1.0 - b2) * g * g
            st["m"], st["v"] = m, v
            p.data -= lr * (m / c1) / (math.sqrt(v / c2) + eps)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter): ``p -= lr * weight_decay * p`` each step.

    Args:
        params: the Values to update.
        lr: learning rate.
        betas: decay rates of the moment estimates.
        eps: added to the denominator.
        weight_decay: decoupled decay coefficient (default 0.01, as PyTorch).
        schedule: optional callable ``step -> lr``.

    Raises:
        TypeError, ValueError: for a bad argument.
    """

    decoupled = True

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
        *,
        schedule: Schedule | None = None,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, schedule=schedule)


# -- schedules -------------------------------------------------------------------------------


def _check_step(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise TypeError(f"a schedule takes an int step number >= 0, got {type(k).__name__}: {k!r}")
    if k < 0:
        raise ValueError(f"a schedule takes a step number >= 0, got {k!r}")
    return int(k)


def _positive_int(name: str, x: Any) -> int:
    if isinstance(x, bool) or not isinstance(x, numbers.Integral):
        raise TypeError(f"{name} must be a positive int, got {type(x).__name__}: {x!r}")
    if x < 1:
        raise ValueError(f"{name} must be a positive int, got {x!r}")
    return int(x)


def constant(lr: float) -> Schedule:
    """``lr`` at every step.

    Raises:
        TypeError, ValueError: for a bad ``lr``.
    """
    value = _number("lr", lr)

    def schedule(k: int) -> float:
        _check_step(k)
        return value

    return schedule


def linear_decay(start: float, end: float, steps: int) -> Schedule:
    """From ``start`` at step 0 linearly towards ``end`` at step ``steps``, then ``end``.

    ``linear_decay(1.0, 0.1, 100)`` is micrograd's demo schedule ``1.0 - 0.9 k / 100``.

    Raises:
        TypeError, ValueError: for a bad argument.
    """
    a, b = _number("start", start), _number("end", end)
    n = _positive_int("steps", steps)

    def schedule(k: int) -> float:
        k = _check_step(k)
        return b if k >= n else a - (a - b) * k / n

    return schedule


def step_decay(lr: float, step_size: int, gamma: float = 0.1) -> Schedule:
    """``lr * gamma ** (k // step_size)``: multiply by ``gamma`` every ``step_size`` steps.

    Raises:
        TypeError, ValueError: for a bad argument.
    """
    base, g = _number("lr", lr), _number("gamma", gamma)
    size = _positive_int("step_size", step_size)

    def schedule(k: int) -> float:
        return base * g ** (_check_step(k) // size)

    return schedule


def cosine(lr: float, steps: int, min_lr: float = 0.0) -> Schedule:
    """Cosine annealing from ``lr`` at step 0 to ``min_lr`` at step ``steps``, then ``min_lr``.

    Raises:
        TypeError, ValueError: for a bad argument.
    """
    hi, lo = _number("lr", lr), _number("min_lr", min_lr)
    n = _positive_int("steps", steps)

    def schedule(k: int) -> float:
        k = min(_check_step(k), n)
        return lo + 0.5 * (hi - lo) * (1.0 + math.cos(math.pi * k / n))

    return schedule
