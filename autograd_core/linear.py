"""Linear groups of a tape: sums of weight-times-input products replayed as matrix products.

A neuron written as scalar code, ``b + w1*x1 + w2*x2 + ...`` (or ``sum(...)``,
which starts from ``0 + ...``, in any operand order), is on the tape a chain
of ``add`` slots whose leaves are products of one non-varying slot (a weight:
a parameter, a constant, or an op on those) and one varying slot (an input
that depends on the arguments), plus non-varying leaves (biases, constants).
Replayed slot by slot, every product is a row of the (rows x samples) value
matrix, so the batched replay holds a (parameters x samples) array.

This module finds such chains and groups the chains that read the same
varying inputs into one matrix ``W`` (outputs x inputs):

* :func:`find_chains` (at tape build time) returns, per chain root, its
  :class:`Chain` (terms and bias slots) and the set of slots the chains
  swallow (their products and inner partial sums, which get no row);
* :class:`LinearGroup` (one per group, built by the batched program of
  :mod:`autograd_core.tape` once rows are numbered) replays a group
  forward as ``Z = W @ X + b[:, None]`` over the batch, and backward as
  ``dX = W.T @ dZ``, ``dW = dZ @ X.T`` (batch-summed weight gradient) and
  ``db = dZ.sum(1)``.  ``W`` and ``b`` are gathered from the non-varying
  floats at every replay, so optimizer updates are seen without a re-trace.

Only a chain whose inner nodes are used once (by the chain) and are not
outputs is folded: a partial sum used elsewhere keeps its row and ends the
chain there.  A sum with any other varying leaf (a product of two varying
slots, a bare activation) is "mixed" and stays as it is; the pure sums
inside it are still found.  Groups with fewer than :data:`MIN_TERMS` terms
(``2*x + 1``) stay on the elementwise path, which is as fast for them.

Accuracy: a matrix product sums the terms in another order (and BLAS may use
fused multiply-adds), so values and gradients agree with the eager engine's
to rounding (about 1e-15 relative to the sum of the terms' magnitudes), not
bit for bit; the scalar replay keeps the eager order exactly.  Signed zeros:
the weight and bias gradients are added into their own entries only, and
bias sums start from -0.0, so a lone -0.0 gradient elsewhere stays -0.0; but
a matrix product whose every term is -0.0 may give +0.0 (BLAS starts its
sums from +0.0), where the eager engine gives -0.0.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from .primitives import ADD, MUL, OpSpec

__all__ = ["Chain", "LinearGroup", "MIN_TERMS", "TapeLike", "find_chains"]


class TapeLike(Protocol):
    """What the planners read of a :class:`~autograd_core.tape.Tape` (named here so neither imports the tape)."""

    n_args: int
    n_params: int
    n_leaves: int
    consts: tuple[float, ...]
    ops: tuple[tuple[OpSpec, tuple[int, ...], tuple[float, ...]], ...]
    outputs: tuple[int, ...]
    varying: tuple[bool, ...]


#: Fewest terms (weight entries) for which a group is replayed as a matrix product.
MIN_TERMS = 4


class Chain:
    """One folded sum: ``root = sum(coef * input for coef, input in terms) + sum(biases)``.

    Attributes:
        root: the slot of the outermost ``add`` (the one that keeps a row).
        terms: ``(coefficient slot, varying input slot)`` per product, in tape order.
        biases: the non-varying slots added in (parameters, constants, ops on them).
        swallowed: the chain's products and inner partial sums (slots that get no row).
        inputs: the distinct varying input slots, sorted.
    """

    __slots__ = ("root", "terms", "biases", "swallowed", "inputs")

    def __init__(self, root: int, terms: list[tuple[int, int]], biases: list[int], swallowed: list[int]) -> None:
        self.root = root
        self.terms = terms
        self.biases = biases
        self.swallowed = swallowed
        self.inputs = tuple(sorted({x for _, x in terms}))


def find_chains(tape: TapeLike) -> tuple[dict[int, Chain], frozenset[int]]:
    """The sums of ``tape`` to fold: ``({root slot: chain}, slots swallowed by the chains)``.

    One pass in slot (topological) order marks each varying ``add`` as
    *pure* when each operand is non-varying, a product term (a ``mul`` of a
    non-varying and a varying slot, used once), or a pure ``add`` used once;
    a pure ``add`` whose only user is a pure ``add`` is an inner node, the
    others are roots.  Every slot is visited a bounded number of times.
    Chains reading the same inputs form a group; groups of fewer than
    :data:`MIN_TERMS` terms are left out (they replay elementwise).
    """
    n_leaves, varying = tape.n_leaves, tape.varying
    op_list = tape.ops
    uses = [0] * len(varying)
    for _, operands, _ in op_list:
        for j in operands:
            uses[j] += 1
    for s in tape.outputs:
        uses[s] += 2  # an output is used outside the tape: never swallowed
    add, mul = ADD, MUL

    def is_term(j: int) -> bool:
        if j < n_leaves or uses[j] != 1:
            return False
        spec, operands, _ = op_list[j - n_leaves]
        return spec is mul and varying[operands[0]] != varying[operands[1]]

    pure = [False] * len(varying)
    for k, (spec, operands, _) in enumerate(op_list):
        s = n_leaves + k
        if spec is not add or not varying[s]:
            continue
        pure[s] = all(not varying[j] or is_term(j) or (pure[j] and uses[j] == 1) for j in operands)
    # A pure add used once by a pure add is inside that add's chain.
    inner: set[int] = set()
    for k, (_, operands, _) in enumerate(op_list):
        if pure[n_leaves + k]:
            inner.update(j for j in operands if pure[j] and uses[j] == 1)
    by_inputs: dict[tuple[int, ...], list[Chain]] = {}
    for k in range(len(op_list)):
        root = n_leaves + k
        if not pure[root] or root in inner:
            continue
        terms: list[tuple[int, int]] = []
        biases: list[int] = []
        swallowed: list[int] = []
        stack = [root]
        while stack:
            s = stack.pop()
            # The right operand is looked at first: reversed at the end, terms come in the sum's order.
            for j in reversed(op_list[s - n_leaves][1]):
                if not varying[j]:
                    biases.append(j)
                elif j in inner:
                    swallowed.append(j)
                    stack.append(j)
                else:
                    a, b = op_list[j - n_leaves][1]
                    terms.append((b, a) if varying[a] else (a, b))
                    swallowed.append(j)
        terms.reverse()
        biases.reverse()
        chain = Chain(root, terms, biases, swallowed)
        by_inputs.setdefault(chain.inputs, []).append(chain)
    chains: dict[int, Chain] = {}
    gone: set[int] = set()
    for group in by_inputs.values():
        # Few terms (``2*x + 1``): the elementwise replay is as fast, and no row is worth saving.
        if sum(len(c.terms) for c in group) >= MIN_TERMS:
            for c in group:
                chains[c.root] = c
                gone.update(c.swallowed)
    return chains, frozenset(gone)


class LinearGroup:
    """Chains with the same varying inputs: one matrix product per replay, forward and backward.

    Built once rows are numbered.  ``row`` maps a slot to its row of the
    value matrix and ``nvi`` to its index among the non-varying floats; the
    chains' roots take the rows ``start .. stop - 1``, in ``chains`` order.
    """

    __slots__ = ("start", "stop", "spec", "inputs", "k", "coef", "dup", "term_idx", "bias_row", "bias_nvi")

    def __init__(self, chains: list[Chain], row: list[int], nvi: list[int], start: int, stop: int) -> None:
        self.start, self.stop = start, stop
        self.spec = ADD  # for error messages that name a group's op
        in_rows = sorted(row[x] for x in chains[0].inputs)
        col = {r: c for c, r in enumerate(in_rows)}
        self.k = k = len(in_rows)
        # The inputs as a slice of the value matrix when their rows are consecutive (a view, no copy).
        consecutive = in_rows[-1] - in_rows[0] + 1 == k
        self.inputs: Any = slice(in_rows[0], in_rows[-1] + 1) if consecutive else np.array(in_rows, dtype=np.intp)
        flat = [i * k + col[row[x]] for i, c in enumerate(chains) for _, x in c.terms]
        coefs = [nvi[w] for c in chains for w, _ in c.terms]
        #: Every chain reads every input of the group, so W is fully covered; an input used
        #: twice in one chain (w1*x + w2*x) adds two weights into one entry.
        self.dup = len(set(flat)) != len(flat)
        self.term_idx = np.array(flat, dtype=np.intp)
        if self.dup:
            self.coef = np.array(coefs, dtype=np.intp)
        else:
            grid = np.empty(len(chains) * k, dtype=np.intp)
            grid[flat] = coefs
            self.coef = grid.reshape(len(chains), k)
        self.bias_row = np.array([i for i, c in enumerate(chains) for _ in c.biases], dtype=np.intp)
        self.bias_nvi = np.array([nvi[b] for c in chains for b in c.biases], dtype=np.intp)

    def _weights(self, S: np.ndarray) -> np.ndarray:
        """W (outputs x inputs) from the non-varying floats ``S``."""
        if not self.dup:
            return S[self.coef]
        m, k = self.stop - self.start, self.k
        return np.bincount(self.term_idx, weights=S[self.coef], minlength=m * k).reshape(m, k)

    def forward(self, V: np.ndarray, S: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Write ``W @ X + b`` into the roots' rows of ``V``; return ``(X, W)`` for the backward pass."""
        X = V[self.inputs]
        W = self._weights(S)
        Z = V[self.start : self.stop]
        np.matmul(W, X, out=Z)
        if len(self.bias_row):
            # From -0.0: a row without a bias adds -0.0, which leaves every value (and its sign) alone.
            b = np.full(self.stop - self.start, -0.0)
            np.add.at(b, self.bias_row, S[self.bias_nvi])
            Z += b[:, None]
        return X, W

    def backward(self, G: np.ndarray, T: np.ndarray, saved: tuple[np.ndarray, np.ndarray]) -> None:
        """Add ``W.T @ dZ`` into the inputs' rows of ``G``, the batch-summed weight and bias gradients into ``T``."""
        X, W = saved
        dZ = G[self.start : self.stop]
        # The inputs are distinct rows, so a fancy-indexed += adds every contribution.
        G[self.inputs] += W.T @ dZ
        dW = dZ @ X.T
        # np.add.at touches only the group's own entries of T and adds repeated ones (a shared
        # weight) in turn; adding a bincount over all of T would turn every other lone -0.0 into +0.0.
        if self.dup:
            np.add.at(T, self.coef, dW.ravel()[self.term_idx])
        else:
            np.add.at(T, self.coef.ravel(), dW.ravel())
        if len(self.bias_row):
            # initial=-0.0: a batch of -0.0 gradients sums to -0.0, as the other batch sums do.
            db = np.add.reduce(dZ, axis=1, initial=-0.0)
            np.add.at(T, self.bias_nvi, db[self.bias_row])
