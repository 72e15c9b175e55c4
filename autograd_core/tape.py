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

Replay (:class:`Tape` methods):

* ``forward_scalar`` / ``backward_scalar``: Python floats, each op's scalar
  ``forward`` and ``rule``, in the same order as the eager engine, so values
  and gradients are the eager ones.
* ``forward_batch`` / ``backward_batch``: one 1-D float64 array per slot that
  depends on an argument ("varying"), one float per slot that does not.
  Varying slots use the op's ``vforward`` / ``vrule`` (or a per-sample loop
  over ``forward`` / ``rule`` when an op has none); the gradient of a
  non-varying slot is the sum of its per-sample contributions, after which
  its rule runs once on floats (rules are linear in the upstream gradient).
  Callers run these under ``np.errstate(all="ignore")``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import ops
from ._state import enable_grad
from .engine import topo_order
from .ops import OpSpec

__all__ = ["Tape", "TraceError", "trace", "describe_mismatch"]


class TraceError(ValueError):
    """A function's graph depends on its input data, so one tape cannot replay it."""


# The built-in entries (module constants of ops): their vectorized forms are
# trusted to return one float64 entry per sample; a user's are checked.
_BUILTIN = frozenset(id(v) for v in vars(ops).values() if isinstance(v, OpSpec))

# Instruction kinds, so the replay loops call with positional arguments
# instead of building tuples: unary, binary, unary with params, general.
_UNARY, _BINARY, _UNARY_CTX, _GENERAL = 1, 2, 3, 4


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
        # Instructions: (slot, kind, scalar fn, batch fn, a, b, ctx, varying).
        # For _GENERAL, a is the tuple of operand slots.
        self._scalar: list[tuple[Any, ...]] = []
        self._batch: list[tuple[Any, ...]] = []
        for k, (spec, operands, ctx) in enumerate(op_list):
            slot = n_leaves + k
            if len(operands) == 1 and not ctx:
                kind, a, b = _UNARY, operands[0], -1
            elif len(operands) == 2 and not ctx:
                kind, a, b = _BINARY, operands[0], operands[1]
            elif len(operands) == 1:
                kind, a, b = _UNARY_CTX, operands[0], -1
            else:
                kind, a, b = _GENERAL, operands, -1  # type: ignore[assignment]
            v = varying[slot]
            self._scalar.append((slot, kind, spec.forward, spec.rule, a, b, ctx, spec))
            if v:
                vf, vr = _vectorized(spec)
                self._batch.append((slot, kind, vf, vr, a, b, ctx, spec, True))
            else:
                self._batch.append((slot, kind, spec.forward, spec.rule, a, b, ctx, spec, False))

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
        append = vals.append
        for _, kind, fwd, _, a, b, ctx, _ in self._scalar:
            if kind == _BINARY:
                r = fwd(vals[a], vals[b])
            elif kind == _UNARY:
                r = fwd(vals[a])
            elif kind == _UNARY_CTX:
                r = fwd(vals[a], *ctx)
            else:
                r = fwd(*[vals[j] for j in a], *ctx)
            append(r if type(r) is float else float(r))
        return vals

    def backward_scalar(self, vals: list[float]) -> list[float]:
        """Every slot's gradient of the (single) output for one sample, from ``forward_scalar``'s values."""
        gr: list[Any] = [0.0] * len(vals)
        gr[self.outputs[0]] = 1.0
        for slot, kind, _, rule, a, b, ctx, spec in reversed(self._scalar):
            g = gr[slot]
            if kind == _BINARY:
                r = rule(g, vals[slot], vals[a], vals[b])
                if len(r) != 2:
                    _arity_error(spec, r, 2)
                ga, gb = r
                if ga is not None:
                    gr[a] += ga
                if gb is not None:
                    gr[b] += gb
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
            if len(r) != len(operands):
                _arity_error(spec, r, len(operands))
            for j, c in zip(operands, r):
                if c is not None:
                    gr[j] += c
        return gr

    # -- a batch -------------------------------------------------------------------

    def forward_batch(self, xs: Sequence[np.ndarray], pv: Sequence[float], n: int) -> list[Any]:
        """Every slot's value for a batch: arrays of length ``n`` for varying slots, floats otherwise."""
        vals: list[Any] = [*xs, *pv, *self.consts]
        append = vals.append
        for _, kind, fwd, _, a, b, ctx, _, varying in self._batch:
            if kind == _BINARY:
                r = fwd(vals[a], vals[b])
            elif kind == _UNARY:
                r = fwd(vals[a])
            elif kind == _UNARY_CTX:
                r = fwd(vals[a], *ctx)
            else:
                r = fwd(*[vals[j] for j in a], *ctx)
            if not varying and type(r) is not float:
                r = float(r)
            append(r)
        return vals

    def backward_batch(self, vals: list[Any], n: int) -> tuple[list[np.ndarray], list[float]]:
        """Per-sample argument gradients and batch-summed parameter gradients of the (single) output.

        ``per[j]`` accumulates the per-sample gradient contributions of slot
        ``j`` (None, a float meaning "the same in every sample", or an array);
        ``tot[j]`` accumulates contributions already summed over the batch
        (from non-varying users).
        """
        per: list[Any] = [None] * len(vals)
        tot: list[float] = [0.0] * len(vals)
        out = self.outputs[0]
        if self.varying[out]:
            per[out] = np.ones(n)
        else:
            tot[out] = float(n)
        for slot, kind, _, rule, a, b, ctx, spec, varying in reversed(self._batch):
            if varying:
                g = per[slot]
                if g is None:
                    g = 0.0
                if kind == _BINARY:
                    r = rule(g, vals[slot], vals[a], vals[b])
                    if len(r) != 2:
                        _arity_error(spec, r, 2)
                    ga, gb = r
                    if ga is not None:
                        cur = per[a]
                        per[a] = ga if cur is None else cur + ga
                    if gb is not None:
                        cur = per[b]
                        per[b] = gb if cur is None else cur + gb
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
                if len(r) != len(operands):
                    _arity_error(spec, r, len(operands))
                for j, c in zip(operands, r):
                    if c is not None:
                        cur = per[j]
                        per[j] = c if cur is None else cur + c
                continue
            # A non-varying slot: one value for the whole batch, so its rule
            # runs once on floats with the gradient summed over the batch.
            g = tot[slot]
            p = per[slot]
            if p is not None:
                g = g + _batch_sum(p, n)
            if kind == _UNARY:
                r = rule(g, vals[slot], vals[a])
                operands = (a,)
            elif kind == _BINARY:
                r = rule(g, vals[slot], vals[a], vals[b])
                operands = (a, b)
            elif kind == _UNARY_CTX:
                r = rule(g, vals[slot], vals[a], *ctx)
                operands = (a,)
            else:
                r = rule(g, vals[slot], *[vals[j] for j in a], *ctx)
                operands = a
            if len(r) != len(operands):
                _arity_error(spec, r, len(operands))
            for j, c in zip(operands, r):
                if c is not None:
                    tot[j] += c
        arg_grads = []
        for j in range(self.n_args):
            c = per[j]
            if c is None:
                arg_grads.append(np.zeros(n))
            elif np.ndim(c) == 0:
                arg_grads.append(np.full(n, float(c)))
            else:
                # A copy: one array can be the gradient of several slots (add's rule returns g twice).
                arg_grads.append(np.array(c, dtype=np.float64))
        lo = self.n_args
        par = per[lo : lo + self.n_params]
        grads = [float(t) for t in tot[lo : lo + self.n_params]]
        rows = [i for i, c in enumerate(par) if c is not None and np.ndim(c) == 1]
        if rows:
            # One numpy reduction for every parameter, rather than one call each.
            sums = np.stack([par[i] for i in rows]).sum(axis=1)
            for i, s in zip(rows, sums.tolist()):
                grads[i] += s
        for i, c in enumerate(par):
            if c is not None and np.ndim(c) == 0:
                grads[i] += float(c) * n
        return arg_grads, grads


def _batch_sum(p: Any, n: int) -> float:
    """The sum over the batch of per-sample gradients ``p`` (a float stands for n equal entries)."""
    return float(p.sum()) if np.ndim(p) == 1 else float(p) * n


def _arity_error(spec: OpSpec, r: Any, n: int) -> None:
    raise ValueError(
        f"derivative rule of op {spec.name!r} returned {len(r)} gradients for {n} inputs; "
        "it must return a tuple with one gradient per input (None for none)"
    )


# --------------------------------------------------------------------------
# Vectorized forms, or per-sample loops for ops registered without them
# --------------------------------------------------------------------------


def _length(xs: Sequence[Any]) -> int:
    for x in xs:
        if np.ndim(x) == 1:
            return int(np.shape(x)[0])
    return 1


def _vectorized(spec: OpSpec) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """``(vforward, vrule)`` for a varying slot of ``spec``."""
    n = spec.arity
    if id(spec) in _BUILTIN and spec.vforward is not None and spec.vrule is not None:
        return spec.vforward, spec.vrule
    vf = spec.vforward
    vr = spec.vrule
    fwd = spec.forward
    rule = spec.rule
    name = spec.name

    def vforward(*args: Any) -> np.ndarray:
        ins, ctx = args[:n], args[n:]
        length = _length(ins)
        if vf is not None:
            r = np.asarray(vf(*args), dtype=np.float64)
            if r.shape != (length,):
                try:
                    r = np.broadcast_to(r, (length,))
                except ValueError:
                    raise ValueError(
                        f"vforward of op {name!r} returned shape {r.shape} for a batch of {length}; "
                        "it must return one value per sample"
                    ) from None
            return r
        # No vectorized form: loop over the samples with the scalar forward.
        cols = [np.broadcast_to(np.asarray(x, dtype=np.float64), (length,)).tolist() for x in ins]
        return np.array([fwd(*row, *ctx) for row in zip(*cols)], dtype=np.float64)

    def vrule(g: Any, out: Any, *args: Any) -> tuple[Any, ...]:
        ins, ctx = args[:n], args[n:]
        if vr is not None:
            r = vr(g, out, *args)
            length = _length((g, out, *ins))
            for i, c in enumerate(r):
                if c is not None and np.ndim(c) != 0 and np.shape(c) != (length,):
                    raise ValueError(
                        f"vrule of op {name!r} returned shape {np.shape(c)} for input {i} in a batch of {length}; "
                        "it must return one gradient per sample (or a number)"
                    )
            return tuple(r)
        length = _length((g, out, *ins))
        cols = [np.broadcast_to(np.asarray(x, dtype=np.float64), (length,)).tolist() for x in (g, out, *ins)]
        res: list[list[float]] = [[] for _ in range(n)]
        seen = [False] * n
        for row in zip(*cols):
            r = rule(*row, *ctx)
            if len(r) != n:
                _arity_error(spec, r, n)
            for i, c in enumerate(r):
                if c is None:
                    res[i].append(0.0)
                else:
                    seen[i] = True
                    res[i].append(float(c))
        return tuple(np.array(col, dtype=np.float64) if s else None for col, s in zip(res, seen))

    return vforward, vrule


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
    from .value import Value

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
                "(a number computed from an argument's .data, which the tape would freeze)"
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
