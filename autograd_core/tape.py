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
* ``forward_batch`` / ``backward_batch``: a slot that depends on an argument
  ("varying") is a row of a (rows x samples) float64 matrix; a slot that does
  not (a weight, a penalty on the weights) is one float, computed once per
  batch (:mod:`autograd_core.fixed`).  Varying ops are grouped by level (ops
  of one level do not depend on each other) and by op: each group is one
  call of the op's ``vforward`` / ``vrule`` on (members x samples) arrays
  gathered from the matrix (or a per-sample loop over ``forward`` / ``rule``
  when an op has no vectorized form).  Sums of weight-times-input products
  that read the same inputs (a layer of neurons) are one more kind of group,
  a :class:`~autograd_core.linear.LinearGroup`: one matrix product forward
  and two backward; their products and partial sums get no row, so no
  (parameters x samples) array is built.  Matrix products add in another
  order than the eager engine, so batched results agree with it to rounding
  (1e-9 relative is tested), not bit for bit.  The gradient of a non-varying
  slot is the sum of its per-sample contributions, after which its rule runs
  once (rules are linear in the upstream gradient).  Callers run these under
  ``np.errstate(all="ignore")``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import fixed, linear, ops
from ._state import enable_grad
from .engine import _arity_error, topo_order  # one wording for a wrong rule, eager or replayed
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
        # Scalar instructions: (slot, kind, forward, rule, a, b, ctx, spec);
        # for _GENERAL, a is the tuple of operand slots.
        self._scalar: list[tuple[Any, ...]] = []
        for k, (spec, operands, ctx) in enumerate(op_list):
            kind, a, b = _kind(operands, ctx)
            self._scalar.append((n_leaves + k, kind, spec.forward, spec.rule, a, b, ctx, spec))
        self._levels = _Levels(self)
        # Value and gradient matrices of finished replays, reused by the next (see release()).
        self._spare: list[np.ndarray] = []

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

    def batch_groups(self) -> list[Any]:
        """The batched replay's groups in forward order (``_Group`` or :class:`~autograd_core.linear.LinearGroup`)."""
        return list(self._levels.groups)

    def fixed_groups(self) -> list[Any]:
        """The groups that replay the non-varying slots once per batch (see :mod:`autograd_core.fixed`)."""
        return list(self._levels.fixed.groups)

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
                if type(r) is not tuple or len(r) != 2:
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
            if type(r) is not tuple or len(r) != len(operands):
                _arity_error(spec, r, len(operands))
            for j, c in zip(operands, r):
                if c is not None:
                    gr[j] += c
        return gr

    # -- a batch -------------------------------------------------------------------

    def forward_batch(self, xs: Sequence[np.ndarray], pv: Sequence[float], n: int) -> BatchState:
        """Every slot's value for a batch of ``n`` samples (argument arrays ``xs``, parameter floats ``pv``).

        Non-varying slots are computed once (see :mod:`autograd_core.fixed`);
        varying ops run one group at a time (see :class:`_Levels`).
        """
        lv = self._levels
        S = lv.fixed.forward(list(pv), self.consts)
        V = self._matrix(n)
        if self.n_args:
            V[: self.n_args] = xs
        gathered: list[Any] = []
        for grp in lv.groups:
            if isinstance(grp, linear.LinearGroup):
                gathered.append(grp.forward(V, S))
                continue
            ins = [V[src] if var else S[src] for var, src, _ in grp.operands]
            V[grp.start : grp.stop] = grp.vforward(*ins, *grp.ctx)
            # Kept for the backward pass, which needs the same operands.
            gathered.append(ins)
        return BatchState(V, S, n, gathered)

    def _matrix(self, n: int) -> np.ndarray:
        """A (rows x n) float64 matrix, uninitialized: a released one when its shape fits.

        Reusing them matters: a fresh matrix of megabytes costs page faults on
        every replay, which on some machines take longer than the replay's math.
        """
        shape = (self._levels.n_rows, n)
        try:
            m = self._spare.pop()  # atomic: threads replaying one tape each get their own matrix
        except IndexError:
            return np.empty(shape)
        return m if m.shape == shape else np.empty(shape)

    def release(self, state: BatchState) -> None:
        """Hand ``state``'s matrices back for the next replay; ``state`` must not be used afterwards."""
        for m in (state.V, state.G):
            if m is not None and len(self._spare) < 4:
                self._spare.append(m)
        state.G = None

    def batch_value(self, state: BatchState, slot: int) -> np.ndarray:
        """The values of ``slot`` over the batch, as a new array."""
        lv = self._levels
        row = lv.row[slot]
        if row >= 0:
            return np.array(state.V[row])
        return np.full(state.n, state.nv[lv.nvi[slot]])

    def backward_batch(self, state: BatchState) -> tuple[list[np.ndarray], list[float]]:
        """Per-sample argument gradients and batch-summed parameter gradients of the (single) output.

        ``G`` holds the per-sample gradient of every varying slot; ``T`` the
        batch-summed gradient of every non-varying slot.  Groups run from the
        last level back, so a group's gradient is complete when it runs (its
        users are all at higher levels); then the non-varying ops run once,
        last level first (:class:`~autograd_core.fixed.FixedProgram`).
        """
        lv = self._levels
        V, n = state.V, state.n
        G = state.G = self._matrix(n)
        G.fill(0.0)
        T = np.zeros(len(state.nv))
        out = self.outputs[0]
        if lv.row[out] >= 0:
            G[lv.row[out]] = 1.0
        else:
            T[lv.nvi[out]] = float(n)
        for grp, ins in zip(reversed(lv.groups), reversed(state.gathered)):
            if isinstance(grp, linear.LinearGroup):
                grp.backward(G, T, ins)
                continue
            g = G[grp.start : grp.stop]
            r = grp.vrule(g, V[grp.start : grp.stop], *ins, *grp.ctx)
            if type(r) is not tuple or len(r) != len(ins):
                _arity_error(grp.spec, r, len(ins))
            shape = g.shape
            for (var, _, dst), c in zip(grp.operands, r):
                if c is None:
                    continue
                if np.shape(c) != shape:
                    c = np.broadcast_to(c, shape)
                if var:
                    dst.add(G, c)
                else:
                    # Per-sample contributions to a non-varying slot: summed over the batch.
                    dst.add(T, c.sum(axis=1))
        lv.fixed.backward(state.nv, T)
        arg_grads = [np.array(G[i]) for i in range(self.n_args)]
        return arg_grads, T[: self.n_params].tolist()


class BatchState:
    """One batched forward pass: ``V`` (varying rows x samples), ``nv`` (non-varying values), each group's operands."""

    __slots__ = ("V", "nv", "n", "gathered", "G")

    def __init__(self, V: np.ndarray, nv: np.ndarray, n: int, gathered: list[Any]) -> None:
        self.V = V
        self.nv = nv
        self.n = n
        self.gathered = gathered
        self.G: np.ndarray | None = None


class _Scatter:
    """Adds a group's per-operand contributions (k rows) into gradient rows ``idx`` (a 2-D ``G`` or 1-D ``T``).

    Rows may repeat within a group (``h`` feeding 16 neurons' products):
    repeated rows are first summed with one ``np.add.reduceat`` over the
    contributions sorted by row, since ``G[idx] += c`` would keep only one.
    """

    __slots__ = ("idx", "perm", "starts", "urows")

    def __init__(self, idx: list[int]) -> None:
        arr = np.array(idx, dtype=np.intp)
        self.idx: Any = _as_index(idx)
        self.perm: np.ndarray | None = None
        if len(set(idx)) != len(idx):
            perm = np.argsort(arr, kind="stable")
            srt = arr[perm]
            first = np.flatnonzero(np.r_[True, srt[1:] != srt[:-1]])
            self.perm, self.starts, self.urows = perm, first, srt[first]

    def add(self, acc: np.ndarray, c: np.ndarray) -> None:
        if self.perm is None:
            acc[self.idx] += c
        else:
            acc[self.urows] += np.add.reduceat(c[self.perm], self.starts, axis=0)


def _as_index(idx: list[int]) -> Any:
    """A slice when ``idx`` is a run of consecutive rows (a view, no copy), else an index array."""
    if idx and idx == list(range(idx[0], idx[0] + len(idx))):
        return slice(idx[0], idx[0] + len(idx))
    return np.array(idx, dtype=np.intp)


class _Group:
    """Varying ops of one level with the same op, params and operand kinds: one numpy call for all."""

    __slots__ = ("spec", "vforward", "vrule", "ctx", "start", "stop", "operands")

    def __init__(self, spec: OpSpec, ctx: tuple[float, ...], start: int, stop: int, operands: list[Any]) -> None:
        self.spec = spec
        self.vforward, self.vrule = _vectorized(spec)
        self.ctx = ctx
        self.start, self.stop = start, stop
        #: Per operand: (varying, source rows or (k, 1) non-varying indices, scatter).
        self.operands = operands


class _Levels:
    """The batched program: varying ops grouped by level, linear chains as matrix products, the fixed part.

    The level of a varying op is 1 + the largest level of its varying
    operands (arguments are level 0), so ops of one level never depend on
    each other.  A linear chain's root (:func:`~autograd_core.linear.find_chains`)
    sits one level above its inputs and is grouped with the roots reading the
    same inputs; the slots it swallows get no row and no level.  Rows of the
    value matrix are numbered arguments first, then group by group, so each
    group writes one contiguous block of rows.
    """

    def __init__(self, tape: Tape) -> None:
        n_args, n_leaves = tape.n_args, tape.n_leaves
        varying = tape.varying
        n_slots = len(varying)
        # Non-varying slots: parameters, constants, then non-varying ops, in slot order.
        self.nvi = nvi = [-1] * n_slots
        count = 0
        for s in range(n_args, n_slots):
            if not varying[s]:
                nvi[s] = count
                count += 1
        self.fixed = fixed.FixedProgram(tape, nvi, _vectorized)
        level = [0] * n_slots
        groups: dict[tuple[Any, ...], list[int]] = {}
        chains, swallowed = linear.find_chains(tape)
        for k, (spec, operands, ctx) in enumerate(tape.ops):
            s = n_leaves + k
            if not varying[s]:  # replayed by self.fixed
                continue
            if s in swallowed:  # a product or partial sum inside a linear chain: no row
                continue
            if s in chains:  # a linear chain's root: grouped with the chains reading the same inputs
                inputs = chains[s].inputs
                level[s] = 1 + max(level[j] for j in inputs)
                groups.setdefault((level[s], "linear", inputs), []).append(s)
                continue
            level[s] = 1 + max(level[j] for j in operands if varying[j])
            flags = tuple(varying[j] for j in operands)
            groups.setdefault((level[s], id(spec), ctx, flags), []).append(s)
        self.row = row = [-1] * n_slots
        for i in range(n_args):
            row[i] = i
        next_row = n_args
        ordered = sorted(groups.items(), key=lambda kv: kv[0][0])  # stable: first occurrence within a level
        self.groups: list[_Group | linear.LinearGroup] = []
        for key, members in ordered:
            start = next_row
            for s in members:
                row[s] = next_row
                next_row += 1
            if key[1] == "linear":
                self.groups.append(linear.LinearGroup([chains[s] for s in members], row, nvi, start, next_row))
                continue
            _, _, ctx, flags = key
            spec = tape.ops[members[0] - n_leaves][0]
            ops_info = []
            for p, var in enumerate(flags):
                srcs = [tape.ops[s - n_leaves][1][p] for s in members]
                if var:
                    rows = [row[j] for j in srcs]
                    ops_info.append((True, _as_index(rows), _Scatter(rows)))
                else:
                    idx = [nvi[j] for j in srcs]
                    ops_info.append((False, np.array(idx, dtype=np.intp)[:, None], _Scatter(idx)))
            self.groups.append(_Group(spec, ctx, start, next_row, ops_info))
        self.n_rows = next_row


def _kind(operands: tuple[int, ...], ctx: tuple[float, ...]) -> tuple[int, Any, int]:
    if len(operands) == 1 and not ctx:
        return _UNARY, operands[0], -1
    if len(operands) == 2 and not ctx:
        return _BINARY, operands[0], operands[1]
    if len(operands) == 1:
        return _UNARY_CTX, operands[0], -1
    return _GENERAL, operands, -1


# --------------------------------------------------------------------------
# Vectorized forms, or per-sample loops for ops registered without them
# --------------------------------------------------------------------------


def _shape(xs: Sequence[Any]) -> tuple[int, ...]:
    return tuple(np.broadcast_shapes(*(np.shape(x) for x in xs)))


def _vectorized(spec: OpSpec) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """``(vforward, vrule)`` for a group of varying slots of ``spec`` (arrays of any one broadcast shape)."""
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
        shape = _shape(ins)
        if vf is not None:
            r = np.asarray(vf(*args), dtype=np.float64)
            if r.shape != shape:
                try:
                    r = np.broadcast_to(r, shape)
                except ValueError:
                    raise ValueError(
                        f"vforward of op {name!r} returned shape {r.shape} for inputs of shape {shape}; "
                        "it must work elementwise (one value per sample)"
                    ) from None
            return r
        # No vectorized form: loop over the samples with the scalar forward.
        cols = [np.broadcast_to(np.asarray(x, dtype=np.float64), shape).ravel().tolist() for x in ins]
        return np.array([fwd(*row, *ctx) for row in zip(*cols)], dtype=np.float64).reshape(shape)

    def vrule(g: Any, out: Any, *args: Any) -> tuple[Any, ...]:
        ins, ctx = args[:n], args[n:]
        shape = _shape((g, out, *ins))
        if vr is not None:
            r = tuple(vr(g, out, *args))
            for i, c in enumerate(r):
                if c is not None and np.ndim(c) != 0 and np.shape(c) != shape:
                    raise ValueError(
                        f"vrule of op {name!r} returned shape {np.shape(c)} for input {i} with inputs of shape "
                        f"{shape}; it must work elementwise (one gradient per sample, or a number)"
                    )
            return r
        cols = [np.broadcast_to(np.asarray(x, dtype=np.float64), shape).ravel().tolist() for x in (g, out, *ins)]
        res: list[list[float]] = [[] for _ in range(n)]
        seen = [False] * n
        for row in zip(*cols):
            r = rule(*row, *ctx)
            if type(r) is not tuple or len(r) != n:
                _arity_error(spec, r, n)
            for i, c in enumerate(r):
                if c is None:
                    res[i].append(0.0)
                else:
                    seen[i] = True
                    res[i].append(float(c))
        return tuple(np.array(col, dtype=np.float64).reshape(shape) if s else None for col, s in zip(res, seen))

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
