"""Optimizers (SGD with momentum and Nesterov, Adam, AdamW), parameter groups, optimizer state and lr schedules.

An optimizer updates ``p.data`` of the parameters it was given from their
``p.grad``; its state (momentum buffers, moment estimates, the step count)
lives in a dict keyed by parameter inside the optimizer, never on the Values.
The update rules are PyTorch's, so results can be checked against it.

Parameter groups, as ``torch.optim``: ``params`` is either a list of Values or
a list of dicts, each with its own ``"params"`` and any hyper-parameter of the
optimizer (``"lr"``, ``"momentum"``, ``"betas"`` ...); what a group leaves out it
takes from the constructor's arguments::

    SGD([{"params": model[0].parameters(), "lr": 0.1}, {"params": model[2].parameters()}], lr=0.01, momentum=0.9)

``opt.param_groups`` is that list of dicts (each with every hyper-parameter
filled in); a group's dict may be changed between steps.  There is no
``requires_grad``: to freeze parameters, leave them out of the optimizer, or put
them in a group with ``"lr": 0.0`` (their momentum buffers and moments then
still follow the gradient, as in PyTorch, but the weights do not move).

Learning rates: ``opt.lr`` is the default learning rate; setting it sets the
lr of every group that did not give its own ``"lr"``.  A ``schedule`` (a
callable of the step number 0, 1, 2, ...) sets ``opt.lr`` before each step, so
it drives those groups too; a group with its own ``"lr"`` keeps it, unless the
group has its own ``"schedule"``.

``state_dict()`` / ``load_state_dict()`` carry the step count, every group's
hyper-parameters and every buffer (parameters are numbered in group order, as
PyTorch): saving after k steps and resuming gives bit-identical parameters to
training without the break.  Schedules are code and are not saved; build the
optimizer with the same schedule before loading.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from autograd_core import Value

from .limits import positive_int

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


def _check_schedule(name: str, schedule: Any) -> Schedule | None:
    if schedule is not None and not callable(schedule):
        raise TypeError(f"{name} must be a callable step -> lr, got {type(schedule).__name__}")
    return schedule


def _not_a_model(who: str, x: Any) -> None:
    """A model passed where its parameters belong gets the fix, not "object is not iterable"."""
    if callable(getattr(x, "parameters", None)):
        kind = type(x).__name__
        raise TypeError(f"{who} got a {kind} (a model); pass its parameters: model.parameters(), not the {kind} itself")


def _param_list(who: str, params: Any) -> list[Value]:
    if isinstance(params, Value):
        raise TypeError(f"{who} must be a list of Values (e.g. model.parameters()), got a single Value")
    _not_a_model(who, params)
    try:
        ps = list(params)
    except TypeError:
        raise TypeError(
            f"{who} must be a list of Values (e.g. model.parameters()), got {type(params).__name__}"
        ) from None
    for i, p in enumerate(ps):
        if not isinstance(p, Value):
            raise TypeError(f"parameter {i} must be a Value, got {type(p).__name__}")
    return ps


class Optimizer:
    """Base class: parameter groups, ``lr``, optional ``schedule``, ``zero_grad()``, the step count, state dicts.

    Args:
        params: the Values to update (e.g. ``model.parameters()``), or a list of group
            dicts ``{"params": [...], "lr": ..., ...}``; no Value twice.
        lr: the default learning rate (>= 0).
        schedule: optional callable ``step -> lr``, called before each step; it sets the
            lr of the groups without their own ``"lr"``.

    Raises:
        TypeError, ValueError: for a bad argument (a model instead of ``model.parameters()``,
            an empty list or group, a duplicate Value, an unknown group key, a bad value).
    """

    #: Names of the per-parameter state entries (each a float) that ``load_state_dict`` accepts.
    state_keys: tuple[str, ...] = ()

    def __init__(self, params: Iterable[Any], lr: float, schedule: Schedule | None = None, **defaults: Any) -> None:
        who = f"{type(self).__name__}(params)"
        if isinstance(params, Mapping):
            raise TypeError(f"{who}: a single parameter group must be wrapped in a list: [{{'params': ...}}]")
        _not_a_model(who, params)
        if isinstance(params, Value):
            raise TypeError("params must be a list of Values (e.g. model.parameters()), got a single Value")
        try:
            items = list(params)
        except TypeError:
            raise TypeError(
                f"{who} must be a list of Values (e.g. model.parameters()) or of group dicts, "
                f"got {type(params).__name__}"
            ) from None
        if not items:
            raise ValueError("optimizer got an empty parameter list")
        self.schedule = _check_schedule("schedule", schedule)
        self.defaults: dict[str, Any] = self._check_hyper({"lr": lr, **defaults}, "")
        self.param_groups: list[dict[str, Any]] = []
        self._own_lr: list[bool] = []  # per group: True if it set its own "lr" (the schedule leaves it alone)
        self.steps = 0
        self.state: dict[Value, dict[str, float]] = {}
        if all(isinstance(g, Mapping) for g in items):
            for g in items:
                self.add_param_group(g)
        elif any(isinstance(g, Mapping) for g in items):
            raise TypeError(f"{who} must be all Values or all group dicts, not a mix")
        else:
            self.add_param_group({"params": items})

    # -- groups ---------------------------------------------------------------------------

    def add_param_group(self, group: Mapping[str, Any]) -> None:
        """Add a group ``{"params": [...], hyper-parameter: value, ...}``; what it leaves out comes from the defaults.

        Raises:
            TypeError, ValueError: for a bad group (no or empty "params", an unknown key,
                a Value already in another group, a bad hyper-parameter).
        """
        i = len(self.param_groups)
        if not isinstance(group, Mapping):
            raise TypeError(f"parameter group {i} must be a dict with a 'params' entry, got {type(group).__name__}")
        allowed = {"params", "schedule", *self.defaults}
        unknown = sorted(set(group) - allowed)
        if unknown:
            raise ValueError(
                f"parameter group {i} has unknown keys {unknown}; {type(self).__name__} groups take {sorted(allowed)}"
            )
        if "params" not in group:
            raise ValueError(f"parameter group {i} has no 'params' entry")
        ps = _param_list(f"parameter group {i}'s 'params'", group["params"])
        if not ps:
            raise ValueError(f"parameter group {i} has an empty 'params' list")
        seen: dict[int, str] = {id(p): f"group {j}" for j, g in enumerate(self.param_groups) for p in g["params"]}
        for k, p in enumerate(ps):
            if id(p) in seen:
                where = "earlier in the same group" if seen[id(p)] == f"group {i}" else f"in {seen[id(p)]}"
                raise ValueError(
                    f"parameter {k} of group {i} appears more than once in the parameter list (also {where})"
                )
            seen[id(p)] = f"group {i}"
        hyper = self._check_hyper(
            {**self.defaults, **{k: v for k, v in group.items() if k in self.defaults}}, f"group {i} "
        )
        new: dict[str, Any] = {"params": ps, **hyper}
        if "schedule" in group:
            new["schedule"] = _check_schedule(f"group {i}'s schedule", group["schedule"])
        self.param_groups.append(new)
        self._own_lr.append("lr" in group)
        for p in ps:
            self.state[p] = {}

    def _check_hyper(self, h: dict[str, Any], where: str) -> dict[str, Any]:
        """Every hyper-parameter checked and normalized (subclasses extend it); ``where`` prefixes errors."""
        out = dict(h)
        out["lr"] = _number(f"{where}lr".strip(), h["lr"])
        return out

    @property
    def params(self) -> list[Value]:
        """Every parameter, group after group (a new list)."""
        return [p for g in self.param_groups for p in g["params"]]

    @property
    def lr(self) -> float:
        """The default learning rate; setting it sets every group that has no ``"lr"`` of its own."""
        return float(self.defaults["lr"])

    @lr.setter
    def lr(self, value: float) -> None:
        v = _number("lr", value)
        self.defaults["lr"] = v
        for g, own in zip(self.param_groups, self._own_lr):
            if not own:
                g["lr"] = v

    # -- stepping -------------------------------------------------------------------------

    def zero_grad(self) -> None:
        """Set the ``grad`` of every parameter to 0.0."""
        for g in self.param_groups:
            for p in g["params"]:
                p.grad = 0.0

    def step(self) -> None:
        """Update every parameter once from its ``grad``.

        Raises:
            ValueError: if a schedule returns a bad learning rate.
        """
        if self.schedule is not None:
            self.lr = _number(f"schedule({self.steps})", self.schedule(self.steps))
        for i, g in enumerate(self.param_groups):
            sched = g.get("schedule")
            if sched is not None:
                g["lr"] = _number(f"group {i}'s schedule({self.steps})", sched(self.steps))
        for g in self.param_groups:
            self._update(g)
        self.steps += 1

    def _update(self, group: dict[str, Any]) -> None:
        raise NotImplementedError

    # -- state dicts ----------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's whole state as plain Python data (JSON-able once the int keys are strings).

        Returns:
            ``{"type": class name, "steps": int, "lr": default lr, "param_groups": [{hyper-parameters...,
            "params": [indices]}], "state": {index: {name: float}}}``; parameters are numbered
            0, 1, ... group after group (PyTorch's numbering); indices without state are left out.
        """
        groups, state, k = [], {}, 0
        for g in self.param_groups:
            hyper = {name: _plain(g[name]) for name in self.defaults}
            groups.append({**hyper, "params": list(range(k, k + len(g["params"])))})
            for p in g["params"]:
                if self.state[p]:
                    state[k] = dict(self.state[p])
                k += 1
        return {"type": type(self).__name__, "steps": self.steps, "lr": self.lr, "param_groups": groups, "state": state}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore a :meth:`state_dict` into this optimizer (built over the same parameters, in the same groups).

        Everything is checked before anything changes.

        Raises:
            TypeError: for a non-mapping, or a value of the wrong type.
            ValueError: naming what does not match: the optimizer type, a missing or unexpected key,
                the number of groups or of parameters in a group, a bad hyper-parameter, a state
                entry for an unknown parameter, an unknown or non-finite buffer.
        """
        name = type(self).__name__
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"{name}.load_state_dict needs a mapping (from state_dict()), got {type(state_dict).__name__}"
            )
        want = {"type", "steps", "lr", "param_groups", "state"}
        if set(state_dict) != want:
            raise ValueError(
                f"optimizer state dict needs exactly the keys {sorted(want)}: "
                f"missing {sorted(want - set(state_dict))}, unexpected {sorted(set(state_dict) - want, key=str)}"
            )
        if state_dict["type"] != name:
            raise ValueError(f"optimizer state dict is for {state_dict['type']!r:.100}, this optimizer is a {name}")
        steps = state_dict["steps"]
        if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
            raise ValueError(f"optimizer state dict 'steps' must be an int >= 0, got {steps!r:.100}")
        lr = _number("optimizer state dict 'lr'", state_dict["lr"])
        groups = state_dict["param_groups"]
        if not isinstance(groups, (list, tuple)):
            raise TypeError(f"optimizer state dict 'param_groups' must be a list, got {type(groups).__name__}")
        if len(groups) != len(self.param_groups):
            raise ValueError(
                f"optimizer state dict has {len(groups)} parameter groups, this {name} has {len(self.param_groups)}"
            )
        hypers, k = [], 0
        for i, (saved, mine) in enumerate(zip(groups, self.param_groups)):
            if not isinstance(saved, Mapping):
                raise TypeError(f"optimizer state dict group {i} must be a dict, got {type(saved).__name__}")
            keys = {"params", *self.defaults}
            if set(saved) != keys:
                raise ValueError(
                    f"optimizer state dict group {i} needs exactly the keys {sorted(keys)}: missing "
                    f"{sorted(keys - set(saved))}, unexpected {sorted(set(saved) - keys, key=str)}"
                )
            n = len(mine["params"])
            if not isinstance(saved["params"], (list, tuple)):
                raise TypeError(f"optimizer state dict group {i} 'params' must be a list of parameter indices")
            if list(saved["params"]) != list(range(k, k + n)):
                raise ValueError(
                    f"optimizer state dict group {i} holds parameters {list(saved['params'])!r:.100}, "
                    f"this {name}'s group {i} has {n} parameters, numbered {k} to {k + n - 1}"
                )
            hypers.append(self._check_hyper({h: saved[h] for h in self.defaults}, f"state dict group {i} "))
            k += n
        state = state_dict["state"]
        if not isinstance(state, Mapping):
            raise TypeError(
                f"optimizer state dict 'state' must be a dict of index -> buffers, got {type(state).__name__}"
            )
        params = self.params
        new_state: dict[Value, dict[str, float]] = {p: {} for p in params}
        for idx, buffers in state.items():
            if isinstance(idx, bool) or not isinstance(idx, numbers.Integral) or not 0 <= int(idx) < len(params):
                raise ValueError(
                    f"optimizer state dict 'state' has an entry for parameter {idx!r:.100}; "
                    f"this {name} has parameters 0 to {len(params) - 1}"
                )
            if not isinstance(buffers, Mapping) or set(buffers) != set(self.state_keys):
                got = sorted(buffers) if isinstance(buffers, Mapping) else type(buffers).__name__
                raise ValueError(
                    f"optimizer state dict 'state' entry {idx} must have exactly the buffers "
                    f"{list(self.state_keys)} of {name}, got {got}"
                )
            entry = {}
            for b in self.state_keys:
                v = buffers[b]
                if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(float(v)):
                    raise ValueError(
                        f"optimizer state dict 'state' entry {idx} buffer {b!r} must be a finite number, got {v!r:.100}"
                    )
                entry[b] = float(v)
            new_state[params[int(idx)]] = entry
        # Everything checked: now change.
        self.steps = int(steps)
        self.defaults["lr"] = lr
        for g, h in zip(self.param_groups, hypers):
            g.update(h)
        self.state = new_state

    def __repr__(self) -> str:
        groups = f", groups={len(self.param_groups)}" if len(self.param_groups) > 1 else ""
        return f"{type(self).__name__}(lr={self.lr}, params={len(self.params)}{groups}, steps={self.steps})"


def _plain(x: Any) -> Any:
    """A hyper-parameter as JSON-able data (betas as a list)."""
    return list(x) if isinstance(x, tuple) else x


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay.

    Per parameter (PyTorch's rule): ``g = grad + weight_decay * p``; with
    momentum ``buf = momentum * buf + g`` (``buf = g`` on the first step) and
    ``g = buf``, or ``g = g + momentum * buf`` with Nesterov; then ``p -= lr * g``.

    Args:
        params: the Values to update, or a list of group dicts (see :mod:`nn.optim`).
        lr: learning rate.
        momentum: momentum factor in [0, 1).
        nesterov: use Nesterov momentum (needs momentum > 0).
        weight_decay: L2 penalty coefficient (>= 0).
        schedule: optional callable ``step -> lr``.

    Raises:
        TypeError, ValueError: for a bad argument.
    """

    state_keys = ("buf",)

    def __init__(
        self,
        params: Iterable[Any],
        lr: float,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        *,
        schedule: Schedule | None = None,
    ) -> None:
        super().__init__(params, lr, schedule, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay)

    def _check_hyper(self, h: dict[str, Any], where: str) -> dict[str, Any]:
        out = super()._check_hyper(h, where)
        mu = _number(f"{where}momentum".strip(), h["momentum"], hi=1.0)
        if mu == 1.0:
            raise ValueError(f"{where}momentum must be below 1, got 1.0 (the buffer would never forget)".strip())
        if not isinstance(h["nesterov"], bool):
            raise TypeError(f"{where}nesterov must be a bool, got {type(h['nesterov']).__name__}".strip())
        if h["nesterov"] and mu == 0.0:
            raise ValueError(f"{where}nesterov=True needs momentum > 0".strip())
        out.update(momentum=mu, weight_decay=_number(f"{where}weight_decay".strip(), h["weight_decay"]))
        return out

    @property
    def momentum(self) -> float:
        """The default momentum (a group's own is ``param_groups[i]["momentum"]``)."""
        return float(self.defaults["momentum"])

    @property
    def nesterov(self) -> bool:
        """The default Nesterov switch."""
        return bool(self.defaults["nesterov"])

    @property
    def weight_decay(self) -> float:
        """The default weight decay."""
        return float(self.defaults["weight_decay"])

    def _update(self, group: dict[str, Any]) -> None:
        lr, mu, wd, nesterov = group["lr"], group["momentum"], group["weight_decay"], group["nesterov"]
        for p in group["params"]:
            g = p.grad + wd * p.data if wd else p.grad
            if mu:
                st = self.state[p]
                buf = mu * st["buf"] + g if "buf" in st else g
                st["buf"] = buf
                g = g + mu * buf if nesterov else buf
            p.data -= lr * g


class Adam(Optimizer):
    """Adam: bias-corrected first and second moment estimates of the gradient.

    ``g = grad + weight_decay * p`` (L2 in the gradient, as PyTorch's Adam);
    ``m = b1 m + (1 - b1) g``; ``v = b2 v + (1 - b2) g**2``;
    ``p -= lr * (m / (1 - b1**t)) / (sqrt(v / (1 - b2**t)) + eps)``.

    Args:
        params: the Values to update, or a list of group dicts (see :mod:`nn.optim`).
        lr: learning rate.
        betas: decay rates (b1, b2) of the moment estimates, each in [0, 1).
        eps: added to the denominator (> 0).
        weight_decay: L2 penalty coefficient added to the gradient (>= 0).
        schedule: optional callable ``step -> lr``.

    Raises:
        TypeError, ValueError: for a bad argument.
    """

    decoupled = False
    state_keys = ("m", "v")

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        schedule: Schedule | None = None,
    ) -> None:
        super().__init__(params, lr, schedule, betas=betas, eps=eps, weight_decay=weight_decay)

    def _check_hyper(self, h: dict[str, Any], where: str) -> dict[str, Any]:
        out = super()._check_hyper(h, where)
        betas = h["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"{where}betas must be a pair (b1, b2), got {betas!r}".strip())
        b1, b2 = (_number(f"{where}betas[{i}]".strip(), b, hi=1.0) for i, b in enumerate(betas))
        if b1 == 1.0 or b2 == 1.0:
            raise ValueError(f"{where}betas must each be below 1, got {tuple(betas)}".strip())
        out.update(
            betas=(b1, b2),
            eps=_number(f"{where}eps".strip(), h["eps"], lo_open=True),
            weight_decay=_number(f"{where}weight_decay".strip(), h["weight_decay"]),
        )
        return out

    @property
    def betas(self) -> tuple[float, float]:
        """The default betas (a group's own are ``param_groups[i]["betas"]``)."""
        b1, b2 = self.defaults["betas"]
        return (float(b1), float(b2))

    @property
    def eps(self) -> float:
        """The default eps."""
        return float(self.defaults["eps"])

    @property
    def weight_decay(self) -> float:
        """The default weight decay."""
        return float(self.defaults["weight_decay"])

    def _update(self, group: dict[str, Any]) -> None:
        lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        t = self.steps + 1
        c1, c2 = 1.0 - b1**t, 1.0 - b2**t
        for p in group["params"]:
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
        params: the Values to update, or a list of group dicts (see :mod:`nn.optim`).
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
        params: Iterable[Any],
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
    n = positive_int("steps", steps)

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
    size = positive_int("step_size", step_size)

    def schedule(k: int) -> float:
        return base * g ** (_check_step(k) // size)

    return schedule


def cosine(lr: float, steps: int, min_lr: float = 0.0) -> Schedule:
    """Cosine annealing from ``lr`` at step 0 to ``min_lr`` at step ``steps``, then ``min_lr``.

    Raises:
        TypeError, ValueError: for a bad argument.
    """
    hi, lo = _number("lr", lr), _number("min_lr", min_lr)
    n = positive_int("steps", steps)

    def schedule(k: int) -> float:
        k = min(_check_step(k), n)
        return lo + 0.5 * (hi - lo) * (1.0 + math.cos(math.pi * k / n))

    return schedule
