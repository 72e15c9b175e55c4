"""The tape's batch interpreter: a batch of samples replayed as numpy calls, one per group of slots.

A slot that depends on an argument ("varying") is a row of a (rows x
samples) float64 matrix ``V``; a slot that does not (a weight, a penalty on
the weights) is one float of the fixed part ``S``, computed once per batch
by :class:`~autograd_core.fixed.FixedProgram` (vectorized groups of fixed
ops, long folds as one reduction).  Varying ops are grouped by level (ops
of one level do not depend on each other) and by op (:class:`BatchProgram`,
:class:`_Group`): each group is one call of the op's ``vforward`` /
``vrule`` on (members x samples) arrays gathered from the matrix (for a
user's op without vectorized forms, one loop over the samples with
``forward`` / ``rule``).  Sums of weight-times-input products that read the
same inputs (a layer of neurons) are one more kind of group, a
:class:`~autograd_core.linear.LinearGroup`: one matrix product forward and
two backward; their products and partial sums get no row, so no
(parameters x samples) array is built.

Backward runs the groups from the last level back into ``G`` (per-sample
gradients of the varying slots) and ``T`` (batch-summed gradients of the
fixed slots), then the fixed part once on ``T`` (rules are linear in the
upstream gradient).  Gradients start at -0.0 and a lone -0.0 stays -0.0, as
in the eager engine (:func:`~autograd_core.engine.add_grad`); matrix
products and reductions add in another order than the eager engine, so
batched results agree with it to rounding, not bit for bit.  The one-sample
replay is the other interpreter, :class:`~autograd_core.tape.ScalarProgram`.
Callers run these under ``np.errstate(all="ignore")``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import fixed, linear
from .linear import TapeLike
from .primitives import OpSpec, is_builtin, rule_arity_error

__all__ = ["BatchProgram", "BatchState"]


class BatchState:
    """One batched forward pass: ``V`` (varying rows x samples), ``nv`` (fixed values), each group's operands.

    ``G``, the gradient matrix, is set by the backward pass so that
    ``release`` can hand both matrices back for reuse.
    """

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
        #: Per operand: (varying, source rows or (k, 1) fixed indices, scatter).
        self.operands = operands


class BatchProgram:
    """The batched program: varying ops grouped by level, linear chains as matrix products, the fixed part.

    The level of a varying op is 1 + the largest level of its varying
    operands (arguments are level 0), so ops of one level never depend on
    each other.  A linear chain's root (:func:`~autograd_core.linear.find_chains`)
    sits one level above its inputs and is grouped with the roots reading the
    same inputs; the slots it swallows get no row and no level.  Rows of the
    value matrix are numbered arguments first, then group by group, so each
    group writes one contiguous block of rows.

    Args:
        tape: the tape.
        unused_args, unused_params: the arguments and parameters the output
            does not use; their gradients are +0.0 (as in the eager engine).
    """

    def __init__(self, tape: TapeLike, unused_args: list[int], unused_params: list[int]) -> None:
        n_args, n_leaves = tape.n_args, tape.n_leaves
        varying = tape.varying
        n_slots = len(varying)
        self.n_args, self.n_params = n_args, tape.n_params
        self.out = tape.outputs[0]
        self.unused_args, self.unused_params = unused_args, unused_params
        # Fixed slots: parameters, constants, then fixed ops, in slot order.
        self.nvi = nvi = [-1] * n_slots
        count = 0
        for s in range(n_args, n_slots):
            if not varying[s]:
                nvi[s] = count
                count += 1
        #: The fixed ops, replayed once per batch in vectorized groups.
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
        # Value and gradient matrices of finished replays, reused by the next (see release()).
        self._spare: list[np.ndarray] = []

    def _matrix(self, n: int) -> np.ndarray:
        """A (rows x n) float64 matrix, uninitialized: a released one when its shape fits.

        Reusing them matters: a fresh matrix of megabytes costs page faults on
        every replay, which on some machines take longer than the replay's math.
        """
        shape = (self.n_rows, n)
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

    def forward(self, xs: Sequence[np.ndarray], pv: Sequence[float], consts: tuple[float, ...], n: int) -> BatchState:
        """Every slot's value for a batch of ``n`` samples: the fixed part once, then the groups in level order."""
        S = self.fixed.forward(list(pv), consts)
        V = self._matrix(n)
        if self.n_args:
            V[: self.n_args] = xs
        gathered: list[Any] = []
        for grp in self.groups:
            if isinstance(grp, linear.LinearGroup):
                gathered.append(grp.forward(V, S))
                continue
            ins = [V[src] if var else S[src] for var, src, _ in grp.operands]
            V[grp.start : grp.stop] = grp.vforward(*ins, *grp.ctx)
            # Kept for the backward pass, which needs the same operands.
            gathered.append(ins)
        return BatchState(V, S, n, gathered)

    def value(self, state: BatchState, slot: int) -> np.ndarray:
        """The values of ``slot`` over the batch, as a new array (the matrices are reused)."""
        row = self.row[slot]
        if row >= 0:
            return np.array(state.V[row])
        return np.full(state.n, state.nv[self.nvi[slot]])

    def backward(self, state: BatchState) -> tuple[list[np.ndarray], list[float]]:
        """Per-sample argument gradients and batch-summed parameter gradients of the (single) output.

        Groups run from the last level back, so a group's gradient is
        complete when it runs (its users are all at higher levels); then the
        fixed part runs once, last level first, on the batch sums.
        """
        V, n = state.V, state.n
        # Signed zeros as in the scalar replay: -0.0 where a gradient can arrive, +0.0 for unused leaves.
        G = state.G = self._matrix(n)
        G.fill(-0.0)
        G[self.unused_args] = 0.0
        T = np.full(len(state.nv), -0.0)
        T[self.unused_params] = 0.0
        out = self.out
        if self.row[out] >= 0:
            G[self.row[out]] = 1.0
        else:
            T[self.nvi[out]] = float(n)
        for grp, ins in zip(reversed(self.groups), reversed(state.gathered)):
            if isinstance(grp, linear.LinearGroup):
                grp.backward(G, T, ins)
                continue
            g = G[grp.start : grp.stop]
            r = grp.vrule(g, V[grp.start : grp.stop], *ins, *grp.ctx)
            if type(r) is not tuple or len(r) != len(ins):
                raise rule_arity_error(grp.spec, r, len(ins))
            shape = g.shape
            for (var, _, dst), c in zip(grp.operands, r):
                if c is None:
                    c = 0.0  # "no gradient" adds +0.0, as in the eager engine
                if np.shape(c) != shape:
                    c = np.broadcast_to(c, shape)
                if var:
                    dst.add(G, c)
                else:
                    # Per-sample contributions to a fixed slot: summed over the batch.
                    # initial=-0.0: a sum of -0.0s stays -0.0 (numpy's sum starts from +0.0).
                    dst.add(T, np.add.reduce(c, axis=1, initial=-0.0))
        self.fixed.backward(state.nv, T)
        arg_grads = [np.array(G[i]) for i in range(self.n_args)]
        return arg_grads, T[: self.n_params].tolist()


# --------------------------------------------------------------------------
# Vectorized forms, or per-sample loops for ops registered without them
# --------------------------------------------------------------------------


def _shape(xs: Sequence[Any]) -> tuple[int, ...]:
    return tuple(np.broadcast_shapes(*(np.shape(x) for x in xs)))


def _vectorized(spec: OpSpec) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """``(vforward, vrule)`` for a group of slots of ``spec`` (arrays of any one broadcast shape)."""
    n = spec.arity
    # The built-in entries' vectorized forms are trusted to return one float64
    # entry per sample; a user's are checked.
    if is_builtin(spec) and spec.vforward is not None and spec.vrule is not None:
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
                raise rule_arity_error(spec, r, n)
            for i, c in enumerate(r):
                if c is None:
                    res[i].append(0.0)
                else:
                    seen[i] = True
                    res[i].append(float(c))
        return tuple(np.array(col, dtype=np.float64).reshape(shape) if s else None for col, s in zip(res, seen))

    return vforward, vrule
