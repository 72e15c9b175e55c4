"""Tracing a computation graph into a plain, deterministic list of nodes and edges.

:func:`trace` walks the graph below a :class:`~autograd_core.Value` with the
engine's :func:`~autograd_core.topo_order` (iterative, stable) and numbers the
nodes in that order, so the numbering depends only on the graph's shape and
operand order, never on memory addresses.  :func:`layer_prefix` and
:func:`neuron_prefix` cut dotted parameter names (``layers.0.neurons.3.w.1``)
into the groups that the renderer clusters and the gradient-flow plot bars.
"""

from __future__ import annotations

from dataclasses import dataclass

from autograd_core import Value, topo_order

__all__ = ["Trace", "trace", "layer_prefix", "neuron_prefix"]


@dataclass(frozen=True)
class Trace:
    """The graph below a root.

    Attributes:
        nodes: every Value, inputs before users (index = node number).
        edges: ``(parent index, child index)`` pairs, in child order, then operand order.
    """

    nodes: tuple[Value, ...]
    edges: tuple[tuple[int, int], ...]

    def index(self) -> dict[Value, int]:
        """``{node: number}`` (Values hash by identity)."""
        return {v: i for i, v in enumerate(self.nodes)}


def trace(root: Value, *, max_nodes: int | None = None) -> Trace:
    """Number every node below ``root`` in topological order and list the edges.

    Args:
        root: the output Value.
        max_nodes: if given, raise when the graph has more nodes than this.

    Returns:
        A :class:`Trace`.

    Raises:
        TypeError: if ``root`` is not a Value.
        ValueError: if the graph has more than ``max_nodes`` nodes.
    """
    if not isinstance(root, Value):
        raise TypeError(f"trace() needs a Value, got {type(root).__name__}")
    nodes = topo_order(root)
    if max_nodes is not None and len(nodes) > max_nodes:
        raise ValueError(
            f"the graph has {len(nodes)} Value nodes, more than max_nodes={max_nodes}; "
            "draw it as one node per layer with viz.draw_summary(root, model.named_parameters()), "
            "or draw a smaller graph: one neuron (model.layers[0].neurons[0](x)) or a tiny model"
        )
    where = {v: i for i, v in enumerate(nodes)}
    edges = tuple((where[p], i) for i, v in enumerate(nodes) for p in v.parents)
    return Trace(tuple(nodes), edges)


def _prefix(name: str, numbers: int) -> str:
    """The dotted prefix of ``name`` up to and including its ``numbers``-th numeric part."""
    parts = name.split(".")
    seen = 0
    for i, part in enumerate(parts):
        if part.isdigit():
            seen += 1
            if seen == numbers:
                return ".".join(parts[: i + 1])
    if seen == 0:
        # No index at all (e.g. "weight"): the first component is the group.
        return parts[0]
    # Fewer indices than asked for: stay at the deepest one there is.
    return _prefix(name, seen)


def layer_prefix(name: str) -> str:
    """The layer a parameter belongs to: ``layers.0.neurons.3.w.1`` -> ``layers.0``.

    The name is cut after its first numeric component; a name without one
    (``bias``) is its own first component.
    """
    return _prefix(name, 1)


def neuron_prefix(name: str) -> str:
    """The neuron a parameter belongs to: ``layers.0.neurons.3.w.1`` -> ``layers.0.neurons.3``.

    The name is cut after its second numeric component; with only one the
    layer prefix is used.
    """
    return _prefix(name, 2)
