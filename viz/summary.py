"""``draw_summary``: a large computation graph drawn as one node per layer.

A 2-16-16-1 MLP's loss over one sample has about a thousand Value nodes:
Graphviz needs half a minute for it and the picture is too large to read.
:func:`draw_summary` groups the graph by layer instead, with the same
assignment rule as ``draw_dot(cluster="layer")`` (a parameter belongs to the
layer named by the prefix of its dotted name; an op joins the latest layer
among its inputs; nodes with no parameter upstream are the inputs), and draws
one record per group: how many Values, ops and parameters it holds and the
mean and largest |grad| of its parameters.  An edge between two groups says
how many graph edges cross from one to the other.  The output is small and
deterministic for any model size.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import graphviz

from autograd_core import Value, topo_order

from .dot import _RANKDIRS, DotGraph, _assign_clusters, _num, _param_names, escape_record
from .trace import layer_prefix

__all__ = ["draw_summary"]

#: The group of the nodes that no parameter flows into (the data, constants).
INPUTS = "inputs"


def draw_summary(
    root: Value,
    params: Mapping[str, Value] | Iterable[tuple[str, Value]],
    *,
    rankdir: str = "LR",
) -> graphviz.Digraph:
    """The graph below ``root`` with one node per layer, for graphs too large to draw whole.

    Args:
        root: the output Value (a loss, usually after ``backward()``).
        params: ``model.named_parameters()`` or a ``{name: Value}`` mapping;
            their dotted names define the layers (``layers.0.neurons.3.w.1``
            belongs to ``layers.0``).
        rankdir: Graphviz layout direction: ``"LR"``, ``"RL"``, ``"TB"`` or ``"BT"``.

    Returns:
        A :class:`graphviz.Digraph` (displayed inline by Jupyter, rendered by
        :func:`viz.render_svg`), with one record per group: ``inputs`` first,
        then the layers in ``params`` order.

    Raises:
        TypeError: if ``root`` is not a Value or ``params`` not name/Value pairs.
        ValueError: for an unknown ``rankdir`` or no parameters.
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw_summary() needs a Value, got {type(root).__name__}")
    if rankdir not in _RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(_RANKDIRS)}, got {rankdir!r}")
    names = _param_names(params)
    if not names:
        raise ValueError("draw_summary() groups the graph by parameter names; pass params=model.named_parameters()")
    nodes = tuple(topo_order(root))
    groups = [c if c is not None else INPUTS for c in _assign_clusters(nodes, names, layer_prefix)]
    order: dict[str, None] = {INPUTS: None}
    for name in names.values():
        order.setdefault(layer_prefix(name), None)

    values = dict.fromkeys(order, 0)
    op_count = dict.fromkeys(order, 0)
    grads: dict[str, list[float]] = {g: [] for g in order}
    for v, grp in zip(nodes, groups):
        values[grp] += 1
        if v.spec is not None:
            op_count[grp] += 1
        if v in names:
            grads[grp].append(abs(v.grad))
    index = {v: i for i, v in enumerate(nodes)}
    crossing: dict[tuple[str, str], int] = {}
    for v, grp in zip(nodes, groups):
        for p in v.parents:
            src = groups[index[p]]
            if src != grp:
                crossing[(src, grp)] = crossing.get((src, grp), 0) + 1
    # The group that holds the root is where the output is computed.
    out_group = groups[-1]

    g = DotGraph(
        "summary",
        graph_attr={"rankdir": rankdir},
        node_attr={"fontname": "Helvetica"},
        edge_attr={"fontname": "Helvetica"},
    )
    ids = {grp: f"g{i}" for i, grp in enumerate(order)}
    for grp in order:
        if values[grp] == 0:
            continue
        fields = [grp, f"{values[grp]} values, {op_count[grp]} ops"]
        gs = grads[grp]
        if gs:
            finite = [x for x in gs if math.isfinite(x)]
            mean = sum(finite) / len(finite) if finite else math.nan
            fields.append(f"{len(gs)} parameters")
            fields.append(f"mean |grad| {_num(mean)}, max {_num(max(gs))}")
        if grp == out_group:
            fields.append(f"output {root.label or 'value'} = {_num(root.data)}")
        label = " | ".join(escape_record(f) for f in fields)
        # Without braces the fields stack vertically in a left-to-right layout: a narrow box.
        attrs = {"shape": "record", "label": graphviz.nohtml(label)}
        if gs:
            attrs.update(style="filled", fillcolor="#dce9f7", penwidth="2")
        g.node(ids[grp], **attrs)
    for (src, dst), n in crossing.items():
        g.edge(ids[src], ids[dst], label=f"{n} edge{'s' if n != 1 else ''}")
    return g
