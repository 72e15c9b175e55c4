"""The fixed part of a tape: slots that depend on no argument, replayed once per batch in vectorized groups.

A weight penalty (``l2 * sum(p * p for p in params)``) or a weight computed
from parameters is the same for every sample of a batch, so the batched
replay computes it once, on one float per slot.  Done one Python call per
op, a penalty over 4,000 parameters costs more than the whole network's
matrix products; here the fixed ops are grouped as the varying ones are:

* ops of one level (no op of a level depends on another of it) with the same
  op and params run as one call of the op's ``vforward`` / ``vrule`` on the
  1-D array of their operands' values (``p * p`` for every ``p`` at once);
* a chain of ``add`` slots whose inner nodes are used once (the left fold
  that ``sum()`` or a loop writes) is one reduction: its value is the sum of
  its leaves, added left to right as the fold does (``np.add.at``
  accumulates in index order), and each leaf's gradient is the root's.

:class:`FixedProgram` works on the fixed slots' own numbering ``nvi``
(parameters, constants, then fixed ops, in slot order): :meth:`FixedProgram.forward`
fills an array ``S`` of their values; :meth:`FixedProgram.backward` turns ``T``, the
batch-summed gradients the varying part sent to fixed slots, into every
fixed slot's gradient.  Rules are linear in the upstream gradient, so running
them once on the batch sum gives the sum of the per-sample gradients.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .linear import TapeLike
from .primitives import ADD, OpSpec, rule_arity_error

__all__ = ["FixedProgram", "OpGroup", "SumGroup"]

#: ``vectorize(spec) -> (vforward, vrule)``: the op's array forms (or per-element loops), from the tape.
Vectorize = Callable[[OpSpec], tuple[Callable[..., Any], Callable[..., Any]]]


class OpGroup:
    """Fixed ops of one level with the same op and params: one array call for all."""

    __slots__ = ("spec", "vforward", "vrule", "ctx", "out", "operands")

    def __init__(
        self, spec: OpSpec, vectorize: Vectorize, ctx: tuple[float, ...], out: list[int], operands: list[list[int]]
    ) -> None:
        self.spec = spec
        self.vforward, self.vrule = vectorize(spec)
        self.ctx = ctx
        self.out = np.array(out, dtype=np.intp)
        self.operands = [np.array(o, dtype=np.intp) for o in operands]

    def forward(self, S: np.ndarray) -> None:
        S[self.out] = self.vforward(*[S[o] for o in self.operands], *self.ctx)

    def backward(self, S: np.ndarray, T: np.ndarray) -> None:
        g = T[self.out]
        r = self.vrule(g, S[self.out], *[S[o] for o in self.operands], *self.ctx)
        if type(r) is not tuple or len(r) != len(self.operands):
            raise rule_arity_error(self.spec, r, len(self.operands))
        for idx, c in zip(self.operands, r):
            # Repeated operands (p * p) add up: np.add.at accumulates where T[idx] += c would not.
            # A None ("no gradient") adds +0.0, as in the eager engine.
            np.add.at(T, idx, 0.0 if c is None else np.broadcast_to(c, g.shape))


class SumGroup:
    """Chains of ``add`` of one level, each reduced to the sum of its leaves."""

    __slots__ = ("out", "leaves", "chain")

    def __init__(self, out: list[int], leaves: list[list[int]]) -> None:
        self.out = np.array(out, dtype=np.intp)
        self.leaves = np.array([j for ls in leaves for j in ls], dtype=np.intp)
        self.chain = np.array([i for i, ls in enumerate(leaves) for _ in ls], dtype=np.intp)

    def forward(self, S: np.ndarray) -> None:
        # From -0.0, in index order: (-0.0 + a) + b + ... is the fold a + b + ... bit for bit,
        # signed zeros included (np.bincount would start from +0.0).
        acc = np.full(len(self.out), -0.0)
        np.add.at(acc, self.chain, S[self.leaves])
        S[self.out] = acc

    def backward(self, S: np.ndarray, T: np.ndarray) -> None:
        np.add.at(T, self.leaves, T[self.out][self.chain])


class FixedProgram:
    """The fixed ops of a tape as level-ordered groups (see the module docstring).

    Args:
        tape: the tape.
        nvi: per slot, its index among the fixed slots, or -1 for a varying slot.
        vectorize: the array forms of an op (the tape's, so user ops loop as elsewhere).
    """

    def __init__(self, tape: TapeLike, nvi: list[int], vectorize: Vectorize) -> None:
        n_leaves, varying, op_list = tape.n_leaves, tape.varying, tape.ops
        self.n_fixed = sum(1 for s in range(tape.n_args, len(varying)) if not varying[s])
        self.n_start = tape.n_params + len(tape.consts)  # fixed ops come after parameters and constants
        uses = [0] * len(varying)
        for _, operands, _ in op_list:
            for j in operands:
                uses[j] += 1
        for s in tape.outputs:
            uses[s] += 2  # an output's value is read: never inside a chain
        add = ADD

        def is_add(j: int) -> bool:
            return j >= n_leaves and not varying[j] and op_list[j - n_leaves][0] is add

        # An add used once, by an add, is an inner node of that add's chain.
        inner: set[int] = set()
        for k, (spec, operands, _) in enumerate(op_list):
            if spec is add and not varying[n_leaves + k]:
                inner.update(j for j in operands if is_add(j) and uses[j] == 1)
        level = [0] * len(varying)
        groups: dict[tuple[Any, ...], list[Any]] = {}
        for k, (spec, operands, ctx) in enumerate(op_list):
            s = n_leaves + k
            if varying[s] or s in inner:
                continue
            if spec is add and any(j in inner for j in operands):
                leaves = _chain_leaves(s, inner, op_list, n_leaves)
                level[s] = 1 + max(level[j] for j in leaves)
                groups.setdefault((level[s], "sum"), []).append((s, leaves))
            else:
                level[s] = 1 + max(level[j] for j in operands)
                groups.setdefault((level[s], id(spec), ctx), []).append((s, operands))
        self.groups: list[OpGroup | SumGroup] = []
        for key, members in sorted(groups.items(), key=lambda kv: kv[0][0]):  # stable within a level
            out = [nvi[s] for s, _ in members]
            if key[1] == "sum":
                self.groups.append(SumGroup(out, [[nvi[j] for j in leaves] for _, leaves in members]))
                continue
            spec = op_list[members[0][0] - n_leaves][0]
            arity = len(members[0][1])
            cols = [[nvi[ops_[p]] for _, ops_ in members] for p in range(arity)]
            self.groups.append(OpGroup(spec, vectorize, key[2], out, cols))

    def forward(self, pv: list[float], consts: tuple[float, ...]) -> np.ndarray:
        """The fixed slots' values: parameters ``pv``, constants, then each fixed op's result."""
        S = np.empty(self.n_fixed)
        S[: len(pv)] = pv
        S[len(pv) : self.n_start] = consts
        for grp in self.groups:
            grp.forward(S)
        return S

    def backward(self, S: np.ndarray, T: np.ndarray) -> None:
        """Complete ``T`` in place: each fixed op's gradient flows to its operands, last level first."""
        for grp in reversed(self.groups):
            grp.backward(S, T)


def _chain_leaves(root: int, inner: set[int], op_list: Any, n_leaves: int) -> list[int]:
    """The operands of the chain of inner adds under ``root`` (for a left fold, in the order it adds them)."""
    leaves: list[int] = []
    stack = [root]
    while stack:
        s = stack.pop()
        for j in reversed(op_list[s - n_leaves][1]):
            if j in inner:
                stack.append(j)
            else:
                leaves.append(j)
    leaves.reverse()
    return leaves
