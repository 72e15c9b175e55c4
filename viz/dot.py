"""``draw_dot``: a computation graph as Graphviz DOT source, deterministic and escaped.

Each :class:`~autograd_core.Value` becomes a record node ``label | data | grad``
and each op an ellipse with the registry's label (``+``, ``*``, ``**2``,
``σ``).  Node names come from the topological numbering of
:func:`viz.trace.trace` (``v0``, ``v0op``...), never from ``id()``, so the
same graph gives byte-identical DOT source on every run and machine.  Building
the source needs no ``dot`` binary; :mod:`viz.render` turns it into SVG.

The returned object is a :class:`graphviz.Digraph`, which Jupyter displays
inline as SVG; when the ``dot`` binary is missing, the notebook shows how to
install Graphviz and the DOT source instead of a traceback.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import graphviz

from autograd_core import Value

from .trace import layer_prefix, neuron_prefix, trace

__all__ = ["draw_dot", "DotGraph", "escape_record", "DEFAULT_MAX_NODES", "NO_DOT_HINT"]

#: Largest graph :func:`draw_dot` draws unless told otherwise: past it Graphviz
#: takes long and the picture is unreadable anyway.
DEFAULT_MAX_NODES = 500

_RANKDIRS = ("LR", "RL", "TB", "BT")
_CLUSTERS = ("layer", "neuron")
_COLOR_BY = ("grad",)
# Gradient shading spans this many decades below the largest |grad|.
_DECADES = 6.0


#: What a notebook shows above the DOT source when Graphviz's ``dot`` is missing.
NO_DOT_HINT = (
    "Graphviz's dot is not installed: apt-get install graphviz / brew install graphviz / "
    "conda install graphviz; the DOT source:"
)


class DotGraph(graphviz.Digraph):
    """A :class:`graphviz.Digraph` that shows an install hint and its DOT source in notebooks without ``dot``."""

    def __repr__(self) -> str:
        # No memory address: a notebook stores this text beside the picture, and it must not change run to run.
        return f"<DotGraph {self.name!r}: {len(self.body)} statements>"

    def _repr_mimebundle_(
        self, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None, **kwargs: Any
    ) -> dict[str, bytes | str]:
        try:
            return super()._repr_mimebundle_(include, exclude, **kwargs)
        except graphviz.ExecutableNotFound:
            # A traceback would hide the graph; the hint says how to get the picture, the source is the graph.
            return {
                "text/plain": f"{NO_DOT_HINT}\n{self.source}",
                "text/html": f"<p>{html.escape(NO_DOT_HINT)}</p><pre>{html.escape(self.source)}</pre>",
            }


def escape_record(text: str) -> str:
    """Escape ``text`` for one field of a Graphviz record label.

    Backslash and ``{ } | < > "`` are structural in record labels; each is
    preceded by a backslash.  Newlines become spaces (a field is one line).
    """
    out = []
    for ch in text:
        if ch in '\\{}|<>"':
            out.append("\\" + ch)
        elif ch in "\r\n":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def _escape_plain(text: str) -> str:
    """Escape ``text`` for an ordinary (non-record) quoted label."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def _num(x: float) -> str:
    # -0.0 reads as 0: a learner should not wonder what a negative zero is.
    return "0" if x == 0 else f"{x:.4g}"


def _param_names(params: Any) -> dict[Value, str]:
    if params is None:
        return {}
    items = params.items() if isinstance(params, Mapping) else params
    names: dict[Value, str] = {}
    try:
        pairs = list(items)
    except TypeError:
        raise TypeError(
            "params must be a mapping or pairs (name, Value) such as model.named_parameters(), "
            f"got {type(params).__name__}"
        ) from None
    for pair in pairs:
        if not (isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], str) and isinstance(pair[1], Value)):
            raise TypeError(f"params must hold pairs (name: str, Value), got {pair!r:.80}")
        names.setdefault(pair[1], pair[0])
    return names


def _shade(g: float, top: float) -> str:
    """A fill colour from white (|g| = 0 or tiny) to red (|g| = top), on a log scale."""
    if math.isnan(g):
        return "#bbbbbb"
    a = abs(g)
    if a == 0.0 or top == 0.0:
        return "#ffffff"
    t = 1.0 if math.isinf(a) else min(1.0, max(0.0, (math.log10(a) - math.log10(top)) / _DECADES + 1.0))
    r, gg, b = (round(255 + (c - 255) * t) for c in (214, 39, 40))
    return f"#{r:02x}{gg:02x}{b:02x}"


def _assign_clusters(nodes: tuple[Value, ...], names: dict[Value, str], key: Any) -> list[str | None]:
    rank: dict[str, int] = {}
    for name in names.values():
        rank.setdefault(key(name), len(rank))
    where: dict[Value, str | None] = {}
    result: list[str | None] = []
    for v in nodes:
        c: str | None
        if v in names:
            c = key(names[v])
        else:
            found = [k for k in (where[p] for p in v.parents) if k is not None]
            # Inputs from several clusters: the later one (in params order) wins,
            # so w1 * h0 sits with layer 1, whose weight it uses.
            c = max(found, key=rank.__getitem__) if found else None
        where[v] = c
        result.append(c)
    return result


def draw_dot(
    root: Value,
    *,
    rankdir: str = "LR",
    show_grad: bool = True,
    params: Mapping[str, Value] | Iterable[tuple[str, Value]] | None = None,
    cluster: str | None = None,
    color_by: str | None = None,
    max_nodes: int = DEFAULT_MAX_NODES,
    node_attrs: Callable[[str], Mapping[str, str] | None] | None = None,
    edge_attrs: Callable[[str, str], Mapping[str, str] | None] | None = None,
) -> graphviz.Digraph:
    """The computation graph below ``root`` as a Graphviz digraph.

    One record node per Value (``label | data | grad``), one ellipse per op
    with the registry's label, edges in topological order.  Node names are
    ``v<i>`` (and ``v<i>op``) with ``i`` the node's topological index, so the
    DOT source is byte-identical across runs for the same graph.

    Clustering (``cluster="layer"`` or ``"neuron"``, needs ``params``): a
    parameter goes to the cluster named by the prefix of its dotted name up to
    its first numeric part (``layer``: ``layers.0``) or its second
    (``neuron``: ``layers.0.neurons.3``).  Other nodes are assigned in
    topological order: an op node joins the cluster of its inputs; when its
    inputs come from several clusters it joins the one whose parameters come
    last in ``params`` order (so ``w * h``, with ``w`` a weight of layer 1 and
    ``h`` an activation of layer 0, sits in layer 1, and the loss in the last
    cluster); a node with no parameter upstream (data, constants) stays
    outside every cluster.  With ``"neuron"`` the neuron clusters are nested
    in their layer's cluster.  Each op node sits with its Value node.

    Args:
        root: the output Value (a gradient computed with ``create_graph=True``
            works like any other).
        rankdir: Graphviz layout direction: ``"LR"``, ``"RL"``, ``"TB"`` or ``"BT"``.
        show_grad: include the ``grad`` field in each record.
        params: ``model.named_parameters()`` or a ``{name: Value}`` mapping;
            parameters get a thick border and their name as label (unless
            they have a label of their own).
        cluster: ``None``, ``"layer"`` or ``"neuron"`` (see above).
        color_by: ``None`` or ``"grad"``: fill each Value node from white to
            red by |grad| on a log scale spanning six decades below the
            largest |grad| (vanishing gradients stay white; nan is grey).
        max_nodes: raise instead of drawing a graph with more Value nodes.
        node_attrs: a hook for highlighting: called with each DOT node name
            (``v<i>``, ``v<i>op``), returns extra Graphviz attributes for it
            (or None); they override the defaults, ``label`` included.
        edge_attrs: the same for each edge, called with its tail and head names.

    Returns:
        A :class:`graphviz.Digraph` (displayed inline by Jupyter).

    Raises:
        TypeError: if ``root`` is not a Value, ``params`` not name/Value pairs
            or a hook not callable.
        ValueError: for an unknown option value, ``cluster`` without
            ``params``, or a graph larger than ``max_nodes``.
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw_dot() needs a Value, got {type(root).__name__}")
    if rankdir not in _RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(_RANKDIRS)}, got {rankdir!r}")
    if cluster is not None and cluster not in _CLUSTERS:
        raise ValueError(f"cluster must be None, 'layer' or 'neuron', got {cluster!r}")
    if color_by is not None and color_by not in _COLOR_BY:
        raise ValueError(f"color_by must be None or 'grad', got {color_by!r}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive int, got {max_nodes!r}")
    for hook_name, hook in (("node_attrs", node_attrs), ("edge_attrs", edge_attrs)):
        if hook is not None and not callable(hook):
            raise TypeError(f"{hook_name} must be a function (DOT names -> attributes), got {type(hook).__name__}")
    names = _param_names(params)
    if cluster is not None and not names:
        raise ValueError(f"cluster={cluster!r} groups parameters by name; pass params=model.named_parameters()")

    tr = trace(root, max_nodes=max_nodes)
    nodes = tr.nodes
    top = max((abs(v.grad) for v in nodes if math.isfinite(v.grad)), default=0.0)

    g = DotGraph("autograd", graph_attr={"rankdir": rankdir}, node_attr={"fontname": "Helvetica"})

    def emit(sub: graphviz.Digraph, i: int) -> None:
        v = nodes[i]
        name = v.label or names.get(v, "")
        # An intermediate node without a name shows no empty cell.
        fields = ([escape_record(name)] if name else []) + [f"data {_num(v.data)}"]
        if show_grad:
            fields.append(f"grad {_num(v.grad)}")
        attrs = {"shape": "record", "label": graphviz.nohtml("{ " + " | ".join(fields) + " }")}
        if color_by == "grad":
            attrs.update(style="filled", fillcolor=_shade(v.grad, top))
        elif v in names:
            attrs.update(style="filled", fillcolor="#dce9f7")
        if v in names:
            attrs["penwidth"] = "2"
        sub.node(f"v{i}", **_with_extra(attrs, node_attrs, f"v{i}"))
        if v.spec is not None:
            label = _escape_plain(v.spec.format_label(v.ctx))
            op_attrs = {"label": graphviz.nohtml(label), "shape": "ellipse"}
            sub.node(f"v{i}op", **_with_extra(op_attrs, node_attrs, f"v{i}op"))

    if cluster is None:
        for i in range(len(nodes)):
            emit(g, i)
    else:
        key = layer_prefix if cluster == "layer" else neuron_prefix
        assigned = _assign_clusters(nodes, names, key)
        for i, c in enumerate(assigned):
            if c is None:
                emit(g, i)
        # Clusters in order of first appearance in params; members in topological order.
        order: dict[str, list[int]] = {}
        for name in names.values():
            order.setdefault(key(name), [])
        for i, c in enumerate(assigned):
            if c is not None:
                order[c].append(i)
        if cluster == "layer":
            for n, (c, members) in enumerate(order.items()):
                with g.subgraph(name=f"cluster_{n}") as sub:
                    sub.attr(label=graphviz.nohtml(_escape_plain(c)), style="rounded")
                    for i in members:
                        emit(sub, i)
        else:
            layers: dict[str, list[str]] = {}
            for c in order:
                layers.setdefault(layer_prefix(c), []).append(c)
            for n, (layer, neurons) in enumerate(layers.items()):
                with g.subgraph(name=f"cluster_{n}") as sub:
                    sub.attr(label=graphviz.nohtml(_escape_plain(layer)), style="rounded")
                    for m, c in enumerate(neurons):
                        with sub.subgraph(name=f"cluster_{n}_{m}") as inner:
                            inner.attr(label=graphviz.nohtml(_escape_plain(c)), style="dashed")
                            for i in order[c]:
                                emit(inner, i)

    # Edges in topological order of their target: a node's inputs (operand order), then its op.
    into: dict[int, list[int]] = {}
    for src, dst in tr.edges:
        into.setdefault(dst, []).append(src)
    for i, v in enumerate(nodes):
        if v.spec is not None:
            for p in into.get(i, ()):
                g.edge(f"v{p}", f"v{i}op", **_with_extra({}, edge_attrs, f"v{p}", f"v{i}op"))
            g.edge(f"v{i}op", f"v{i}", **_with_extra({}, edge_attrs, f"v{i}op", f"v{i}"))
    return g


def _with_extra(
    attrs: dict[str, Any], hook: Callable[..., Mapping[str, str] | None] | None, *names: str
) -> dict[str, Any]:
    """``attrs`` updated with what the caller's highlight hook returns for the node or edge ``names``."""
    extra = hook(*names) if hook is not None else None
    return {**attrs, **extra} if extra else attrs
