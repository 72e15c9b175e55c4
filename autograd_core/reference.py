"""A teaching reference engine: micrograd's backward, in a few lines, on the same registry.

:func:`reference_grads` differentiates a ``Value`` graph the textbook way: a
recursive depth-first topological sort, then one walk from the output back
that calls each node's registry rule on floats and adds the results into a
dict keyed by node.  It reads only public attributes (``data``, ``parents``,
``spec``, ``ctx``), never the engine's accumulators, locks or fast paths, so
the tests use it as an independent oracle for :mod:`autograd_core.engine`.

Recursion limits it to graphs a few hundred nodes deep; the real engine is
iterative.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["reference_grads"]


def reference_grads(output: Any, inputs: Sequence[Any]) -> list[float]:
    """d(output)/d(x) for each ``x`` in ``inputs`` (0.0 where ``output`` does not depend on it)."""
    order: list[Any] = []
    seen: set[int] = set()

    def visit(node: Any) -> None:
        if id(node) in seen:
            return
        seen.add(id(node))
        for p in node.parents:
            visit(p)
        order.append(node)  # after its inputs

    visit(output)
    grads: dict[int, float] = {id(output): 1.0}
    for node in reversed(order):
        if node.spec is None:
            continue
        g = grads.get(id(node), 0.0)
        parents = node.parents
        local = node.spec.rule(g, node.data, *(p.data for p in parents), *node.ctx)
        for p, gp in zip(parents, local):
            if gp is not None:
                grads[id(p)] = grads.get(id(p), 0.0) + gp
    return [grads.get(id(x), 0.0) for x in inputs]
