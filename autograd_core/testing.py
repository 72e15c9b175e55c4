"""Hypothesis strategies for property tests of gradients, built from the op registry.

* :func:`ops` draws a registered op (user-registered ones included);
* :func:`op_points` draws ``(spec, inputs, params)`` with every input inside
  the op's smooth domain;
* :func:`expressions` draws random expression DAGs over the registered ops
  with shared subexpressions: each draw is an :class:`Expression`, a function
  of Values plus a point inside every op's domain, ready for ``gradcheck``.

Everything is read from :mod:`autograd_core.ops` at draw time, so an op
added with ``register`` is drawn and checked like a built-in.  Importing this
module needs ``hypothesis`` (the ``testing`` extra).

Example::

    from hypothesis import given
    from autograd_core import gradcheck
    from autograd_core.testing import expressions

    @given(expressions())
    def test_my_graphs(e):
        assert gradcheck(e.fn, e.inputs)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

try:
    from hypothesis import strategies as st
except ModuleNotFoundError as e:  # pragma: no cover - exercised in a subprocess test
    if e.name != "hypothesis":
        raise
    raise ModuleNotFoundError(
        "autograd_core.testing needs hypothesis, which is not installed; "
        "install the testing extra: pip install 'autograd-core[testing]' (or: pip install hypothesis)",
        name="hypothesis",
    ) from None

from . import ops as _ops
from .ops import Interval, OpSpec
from .value import Value, applier

__all__ = ["ops", "in_domain", "op_points", "expressions", "Expression"]


def ops(names: Sequence[str] | None = None) -> st.SearchStrategy[OpSpec]:
    """A registered op (any, or one of ``names``), read from the registry at draw time."""
    return st.deferred(lambda: st.sampled_from([_ops.get(n) for n in names] if names else list(_ops.specs())))


def in_domain(intervals: Sequence[Interval]) -> st.SearchStrategy[float]:
    """A float strictly inside one of the open ``intervals``, at least 1e-3 of its width from the ends."""

    def inside(lo: float, hi: float) -> st.SearchStrategy[float]:
        pad = (hi - lo) * 1e-3
        return st.floats(lo + pad, hi - pad, allow_nan=False, allow_infinity=False)

    return st.one_of(*(inside(lo, hi) for lo, hi in intervals))


@st.composite
def op_points(draw: st.DrawFn, spec: OpSpec | None = None) -> tuple[OpSpec, tuple[float, ...], tuple[float, ...]]:
    """``(spec, inputs, params)`` with inputs inside the op's domain and params inside ``param_domain``."""
    if spec is None:
        spec = draw(ops())
    inputs = tuple(draw(in_domain(d)) for d in spec.domain)
    params = tuple(draw(in_domain(d)) for d in spec.param_domain)
    return spec, inputs, params


@dataclass(frozen=True)
class _Step:
    spec: OpSpec
    operands: tuple[int, ...]  # indices into the list of nodes (inputs first)
    params: tuple[float, ...]


@dataclass(frozen=True)
class Expression:
    """A drawn expression DAG: ``fn(*Values) -> Value`` and a point ``inputs`` in its domain."""

    n_inputs: int
    steps: tuple[_Step, ...]
    inputs: tuple[float, ...]

    def fn(self, *xs: Any) -> Value:
        """Evaluate the expression on ``xs`` (Values or numbers): the sum of every node no later node uses."""
        if len(xs) != self.n_inputs:
            raise TypeError(f"this expression takes {self.n_inputs} inputs, got {len(xs)}")
        nodes: list[Any] = list(xs)
        used = [False] * (self.n_inputs + len(self.steps))
        for step in self.steps:
            for i in step.operands:
                used[i] = True
            nodes.append(applier(step.spec)(*(nodes[i] for i in step.operands), *step.params))
        sinks = [n for n, u in zip(nodes, used) if not u] or [nodes[-1]]
        out = sinks[0]
        for s in sinks[1:]:
            out = out + s
        return out if type(out) is Value else Value(out)

    def __repr__(self) -> str:
        names = [f"x{i}" for i in range(self.n_inputs)]
        lines = [f"inputs: {', '.join(f'{n}={v!r}' for n, v in zip(names, self.inputs))}"]
        for k, step in enumerate(self.steps):
            args = [names[i] for i in step.operands] + [repr(p) for p in step.params]
            names.append(f"n{k}")
            lines.append(f"n{k} = {step.spec.name}({', '.join(args)})")
        return "Expression(" + "; ".join(lines) + ")"


def _inside(x: float, intervals: Sequence[Interval], margin: float) -> bool:
    return any(lo + margin < x < hi - margin for lo, hi in intervals)


@st.composite
def expressions(
    draw: st.DrawFn,
    *,
    max_inputs: int = 3,
    max_ops: int = 8,
    op_names: Sequence[str] | None = None,
) -> Expression:
    """A random expression DAG over the registered ops, with shared subexpressions.

    Operands are drawn among all earlier nodes, the most recent ones more
    often, so a node is often used by several later nodes.  An op is applied
    only where the values of its operands lie inside its domain (with a
    margin), so each draw is smooth around ``inputs`` and gradcheck applies.

    Args:
        max_inputs: at most this many input variables (at least 1).
        max_ops: at most this many op nodes (at least 1).
        op_names: restrict the ops drawn to these registry names.
    """
    n_inputs = draw(st.integers(1, max_inputs))
    values = [draw(in_domain(((-2.0, -0.2), (0.2, 2.0)))) for _ in range(n_inputs)]
    inputs = tuple(values)
    candidates = [_ops.get(n) for n in op_names] if op_names else list(_ops.specs())
    n_ops = draw(st.integers(1, max_ops))
    steps: list[_Step] = []
    for _ in range(n_ops):
        spec = draw(st.sampled_from(candidates))
        operands: list[int] = []
        for d in spec.domain:
            ok = [i for i, v in enumerate(values) if _inside(v, d, 1e-2)]
            if not ok:
                break
            # Favour recent nodes (deeper graphs) but allow any earlier one (sharing).
            idx = draw(st.one_of(st.sampled_from(ok[-3:]), st.sampled_from(ok)))
            operands.append(idx)
        if len(operands) != spec.arity:
            continue  # no operand lies in this op's domain here; try another op
        params = tuple(draw(in_domain(d)) for d in spec.param_domain)
        try:
            out = spec.forward(*(values[i] for i in operands), *params)
        except (ArithmeticError, ValueError):
            continue
        if not math.isfinite(out) or abs(out) > 1e3:
            continue  # keep values moderate so central differences stay accurate
        steps.append(_Step(spec, tuple(operands), params))
        values.append(float(out))
    _ensure_shared_node(steps, values, n_inputs)
    return Expression(n_inputs, tuple(steps), inputs)


def _ensure_shared_node(steps: list[_Step], values: list[float], n_inputs: int) -> None:
    """Append ``add`` steps until some op node feeds two later nodes (and there is an op at all).

    Random choices alone leave about a third of small draws without a shared
    op node; a shared subexpression is what tests of gradient accumulation
    along merging paths need, so every draw gets one.
    """
    add = _ops.get("add")
    if not steps:
        steps.append(_Step(add, (0, 0), ()))
        values.append(values[0] + values[0])
    users: dict[int, set[int]] = {}
    for k, step in enumerate(steps):
        for i in step.operands:
            users.setdefault(i, set()).add(k)
    first_op = n_inputs
    if any(len(users.get(first_op + k, ())) >= 2 for k in range(len(steps))):
        return
    # The op node with the most users so far; ties to the earliest (deterministic).
    j = max(range(first_op, first_op + len(steps)), key=lambda i: (len(users.get(i, ())), -i))
    while len(users.setdefault(j, set())) < 2:
        last = len(values) - 1
        users[j].add(len(steps))
        steps.append(_Step(add, (j, last), ()))
        values.append(values[j] + values[last])
