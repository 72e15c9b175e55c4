"""The tape: a traced ``Value`` graph as flat lists of slots, and its replay loops.

:func:`trace` calls a function on fresh leaf Values, walks the graph it built
with :func:`~autograd_core.engine.topo_order` from each output (a stable
order, inputs before users) and numbers the nodes into slots::

    [arguments | parameters | constants | op results in topological order]

Each op slot keeps its registry entry, its operand slots and its constant
params (``ctx``).  Constant leaves keep their value at trace time; parameter
slots are filled from the parameters' ``.data`` at each replay.  The tape
keeps no reference to any node, so the traced graph is freed when
:func:`trace` returns.

Replay has two interpreters:

* the scalar interpreter, :class:`ScalarProgram` (Python floats, each op's
  ``forward`` and ``rule``, in the eager engine's order, so values and
  gradients are the eager ones).  ``Tape.forward_scalar`` /
  ``backward_scalar`` run the whole tape with it for one sample;
* the batch interpreter, :mod:`autograd_core.batch` (``Tape.forward_batch``
  -> :class:`~autograd_core.batch.BatchState` -> ``Tape.backward_batch``):
  varying slots as rows of a (rows x samples) matrix replayed one numpy call
  per group of same-op slots of a level, layers of weight-times-input sums
  as matrix products (:mod:`autograd_core.linear`), and the slots that
  depend on no argument once per batch in vectorized groups
  (:mod:`autograd_core.fixed`).  Its sums add in another order than the
  eager engine, so batched results agree with it to rounding, not bit for
  bit.  Callers run it under ``np.errstate(all="ignore")``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._state import enable_grad
from .batch import BatchProgram, BatchState
from .engine import topo_order
from .primitives import OpSpec, rule_arity_error
from .value import Value

__all__ = ["Tape", "ScalarProgram", "BatchState", "TraceError", "trace", "describe_mismatch"]


class TraceError(ValueError):
    """A function's graph depends on its input data, so one tape cannot replay it."""


# Instruction kinds, so the scalar interpreter calls with positional
# arguments instead of building tuples: unary, binary, unary with params, general.
_UNARY, _BINARY, _UNARY_CTX, _GENERAL = 1, 2, 3, 4


class ScalarProgram:
    """The scalar interpreter: ops on Python floats, each op's ``forward`` and ``rule``.

    A program is a list of ops whose results are appended, in order, to a
    list of values: op ``i`` writes slot ``first_out + i`` and reads the
    slots in its operand tuple.  The whole tape is one program: the
    one-sample replay (a batch is the batch interpreter's job).  Replay
    visits the ops in the eager engine's order, so values and gradients are
    the eager ones.
    """

    __slots__ = ("code", "first_out")

    def __init__(self, ops: Sequence[tuple[OpSpec, tuple[int, ...], tuple[float, ...]]], first_out: int) -> None:
        self.first_out = first_out
        #: Per op: (out slot, kind, forward, rule, a, b, ctx, spec); for _GENERAL, a is the operand tuple.
        self.code: list[tuple[Any, ...]] = []
        for k, (spec, operands, ctx) in enumerate(ops):
            kind, a, b = _kind(operands, ctx)
            self.code.append((first_out + k, kind, spec.forward, spec.rule, a, b, ctx, spec))

    def forward(self, vals: list[Any]) -> None:
        """Append every op's value to ``vals`` (which holds the slots before ``first_out``)."""
        append = vals.append
        for _, kind, fwd, _, a, b, ctx, _ in self.code:
            if kind == _BINARY:
                r = fwd(vals[a], vals[b])
            elif kind == _UNARY:
                r = fwd(vals[a])
            elif kind == _UNARY_CTX:
                r = fwd(vals[a], *ctx)
            else:
                r = fwd(*[vals[j] for j in a], *ctx)
            append(r if type(r) is float else float(r))

    def backward(self, vals: list[Any], grads: list[Any]) -> None:
        """Add each op's input gradients into ``grads`` (seeded by the caller), from the last op back."""
        for slot, kind, _, rule, a, b, ctx, spec in reversed(self.code):
            g = grads[slot]
            if kind == _BINARY:
                r = rule(g, vals[slot], vals[a], vals[b])
                if type(r) is not tuple or len(r) != 2:
                    raise rule_arity_error(spec, r, 2)
                ga, gb = r
                # A None ("no gradient") adds +0.0, as in the eager engine.
                grads[a] += 0.0 if ga is None else ga
                grads[b] += 0.0 if gb is None else gb
                continue
            if kind == _UNARY:
                r = rule(g, vals[slot], vals[a])
                operands: tuple[int, ...] = (a,)
            elif kind == _UNARY_CTX:
                r = rule(g, vals[slot], vals[a], *ctx)
                operands = (a,)
            else:
                r = rule(g, vals[slot], *[vals[j] for j in a], *ctx)
                operands = a
            if type(r) is not tuple or len(r) != len(operands):
                raise rule_arity_error(spec, r, len(operands))
            for j, c in zip(operands, r):
                grads[j] += 0.0 if c is None else c


class Tape:
    """A traced graph as slots; see the module docstring for the layout.

    Attributes:
        n_args, n_params: numbers of argument and parameter slots.
        consts: values of the constant slots.
        ops: per op slot, ``(spec, operand_slots, ctx)``.
        outputs: the output slots.
        single: True if the function returned one Value, False for a list.
        varying: per slot, whether it depends on an argument.
    """

    def __init__(
        self,
        n_args: int,
        n_params: int,
        consts: tuple[float, ...],
        op_list: tuple[tuple[OpSpec, tuple[int, ...], tuple[float, ...]], ...],
        outputs: tuple[int, ...],
        single: bool,
    ) -> None:
        self.n_args = n_args
        self.n_params = n_params
        self.consts = consts
        self.ops = op_list
        self.outputs = outputs
        self.single = single
        self.n_leaves = n_leaves = n_args + n_params + len(consts)
        varying = [True] * n_args + [False] * (n_params + len(consts))
        for _, operands, _ in op_list:
            varying.append(any(varying[j] for j in operands))
        self.varying = tuple(varying)
        self._program = ScalarProgram(op_list, n_leaves)
        # Gradients start at -0.0, the identity of addition, as the eager
        # engine's accumulators (signed zeros: see autograd_core.engine); an
        # argument or parameter the output does not use gets +0.0, as there.
        used = {j for _, operands, _ in op_list for j in operands}.union(outputs[:1])
        self._unused_args = [i for i in range(n_args) if i not in used]
        self._unused_params = [k for k in range(n_params) if n_args + k not in used]
        self._grad_start = [-0.0] * len(varying)
        for s in (*self._unused_args, *(n_args + k for k in self._unused_params)):
            self._grad_start[s] = 0.0
        self._batch = BatchProgram(self, self._unused_args, self._unused_params)

    def signature(self) -> tuple[Any, ...]:
        """What two traces must share to be the same program (ops, operands, ctx, constants, outputs)."""
        return (
            self.n_args,
            self.n_params,
            tuple(repr(c) for c in self.consts),
            tuple((s.name, o, c) for s, o, c in self.ops),
            self.outputs,
            self.single,
        )

    # -- one sample ---------------------------------------------------------------

    def forward_scalar(self, xs: Sequence[float], pv: Sequence[float]) -> list[float]:
        """Every slot's value for one sample (argument floats ``xs``, parameter floats ``pv``)."""
        vals: list[Any] = [*xs, *pv, *self.consts]
        self._program.forward(vals)
        return vals

    def backward_scalar(self, vals: list[float]) -> list[float]:
        """Every slot's gradient of the (single) output for one sample, from ``forward_scalar``'s values."""
        grads: list[Any] = list(self._grad_start)
        grads[self.outputs[0]] = 1.0
        self._program.backward(vals, grads)
        return grads

    # -- a batch (the batch interpreter, autograd_core.batch) -------------------

    def batch_groups(self) -> list[Any]:
        """The batched replay's groups in forward order (``_Group`` or :class:`~autograd_core.linear.LinearGroup`)."""
        return list(self._batch.groups)

    def fixed_groups(self) -> list[Any]:
        """The groups that replay the non-varying slots once per batch (see :mod:`autograd_core.fixed`)."""
        return list(self._batch.fixed.groups)

    def forward_batch(self, xs: Sequence[np.ndarray], pv: Sequence[float], n: int) -> BatchState:
        """Every slot's value for a batch of ``n`` samples (argument arrays ``xs``, parameter floats ``pv``)."""
        return self._batch.forward(xs, pv, self.consts, n)

    def batch_value(self, state: BatchState, slot: int) -> np.ndarray:
        """The values of ``slot`` over the batch, as a new array."""
        return self._batch.value(state, slot)

    def backward_batch(self, state: BatchState) -> tuple[list[np.ndarray], list[float]]:
        """Per-sample argument gradients and batch-summed parameter gradients of the (single) output."""
        return self._batch.backward(state)

    def release(self, state: BatchState) -> None:
        """Hand ``state``'s matrices back for the next replay; ``state`` must not be used afterwards."""
        self._batch.release(state)


def _kind(operands: tuple[int, ...], ctx: tuple[float, ...]) -> tuple[int, Any, int]:
    if len(operands) == 1 and not ctx:
        return _UNARY, operands[0], -1
    if len(operands) == 2 and not ctx:
        return _BINARY, operands[0], operands[1]
    if len(operands) == 1:
        return _UNARY_CTX, operands[0], -1
    return _GENERAL, operands, -1


# --------------------------------------------------------------------------
# Tracing
# --------------------------------------------------------------------------


def trace(f: Callable[..., Any], args: Sequence[float], params: Sequence[Any]) -> Tape:
    """Run ``f`` on fresh leaves holding ``args`` and record its graph as a :class:`Tape`.

    Args:
        f: a function of Values returning a Value or a list of Values.
        args: one float per argument.
        params: leaf Values whose slots are filled from ``.data`` at replay.

    Returns:
        The tape; it refers to no node of the traced graph.

    Raises:
        TypeError: if ``f`` returns something else than a Value or a list of Values.
        ValueError: if ``f`` returns an empty list.
    """
    xs = [Value(a) for a in args]
    # Recording must be on, even inside a no_grad() block of the caller.
    with enable_grad():
        out = f(*xs)
    single = type(out) is Value
    if single:
        outs = [out]
    elif isinstance(out, (list, tuple)):
        outs = list(out)
        if not outs:
            raise ValueError("f returned an empty list; it must return a Value or a non-empty list of Values")
        for i, o in enumerate(outs):
            if type(o) is not Value:
                raise TypeError(
                    f"f returned a list whose item {i} is {type(o).__name__}, not a Value; "
                    "return Values computed from the arguments (wrap a constant as Value(c))"
                )
    else:
        raise TypeError(f"f must return a Value or a list of Values, got {type(out).__name__}: {out!r:.80}")
    n_args, n_params = len(xs), len(params)
    # Keys are id()s: every node is alive (held by the outputs) while we walk.
    leaf_slot = {id(x): i for i, x in enumerate(xs)}
    leaf_slot.update((id(p), n_args + k) for k, p in enumerate(params))
    const_index: dict[int, int] = {}
    consts: list[float] = []
    op_index: dict[int, int] = {}
    op_nodes: list[Any] = []
    for o in outs:
        for node in topo_order(o):
            key = id(node)
            if node.spec is None:
                if key not in leaf_slot and key not in const_index:
                    const_index[key] = len(consts)
                    consts.append(float(node.data))
            elif key not in op_index:
                op_index[key] = len(op_nodes)
                op_nodes.append(node)
    n_leaves = n_args + n_params + len(consts)

    def slot(node: Any) -> int:
        key = id(node)
        if key in op_index:
            return n_leaves + op_index[key]
        if key in leaf_slot:
            return leaf_slot[key]
        return n_args + n_params + const_index[key]

    op_list = tuple((node.spec, tuple(slot(p) for p in node.parents), tuple(node.ctx)) for node in op_nodes)
    outputs = tuple(slot(o) for o in outs)
    return Tape(n_args, n_params, tuple(consts), op_list, outputs, single)


def _same_float(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def describe_mismatch(t1: Tape, t2: Tape) -> str | None:
    """None if two traces are the same program, else what first differs, in words."""
    if t1.single != t2.single:
        return "f returned a single Value for one example and a list for the other"
    if len(t1.outputs) != len(t2.outputs):
        return f"f returned {len(t1.outputs)} outputs for one example and {len(t2.outputs)} for the other"
    for k, ((s1, o1, c1), (s2, o2, c2)) in enumerate(zip(t1.ops, t2.ops)):
        if s1.name != s2.name or o1 != o2 or c1 != c2:
            return (
                f"op #{k} is {_op_text(s1, o1, c1, t1)} in the first trace but {_op_text(s2, o2, c2, t2)} "
                f"in the second (the traces have {len(t1.ops)} and {len(t2.ops)} ops)"
            )
    if len(t1.ops) != len(t2.ops):
        return f"the first trace has {len(t1.ops)} ops and the second {len(t2.ops)}"
    if len(t1.consts) != len(t2.consts):
        return f"the first trace has {len(t1.consts)} constants and the second {len(t2.consts)}"
    for i, (a, b) in enumerate(zip(t1.consts, t2.consts)):
        if not _same_float(a, b):
            return (
                f"constant #{i} is {a!r} in the first trace and {b!r} in the second "
                "(a number computed from an argument's or a parameter's .data, which the tape would freeze)"
            )
    if t1.outputs != t2.outputs:
        return f"the outputs are slots {t1.outputs} in the first trace and {t2.outputs} in the second"
    return None


def _op_text(spec: OpSpec, operands: tuple[int, ...], ctx: tuple[float, ...], t: Tape) -> str:
    names = []
    for j in operands:
        if j < t.n_args:
            names.append(f"arg{j}")
        elif j < t.n_args + t.n_params:
            names.append(f"param{j - t.n_args}")
        elif j < t.n_leaves:
            names.append(f"const{j - t.n_args - t.n_params}")
        else:
            names.append(f"op#{j - t.n_leaves}")
    extra = f" with params {ctx}" if ctx else ""
    return f"{spec.name!r}({', '.join(names)}){extra}"
