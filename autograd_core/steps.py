"""The backward pass written out: :func:`backward_steps` and :func:`explain`.

:func:`backward_steps` replays the reverse pass the way the engine runs it,
without touching any ``.grad``: one :class:`Step` per node in processing
order (the output first, with gradient 1), each with the gradient that has
reached the node, the local derivative towards each input and what it adds
into each input.  A node used by several later nodes appears once, after all
its users, and records who contributed to its gradient (the ``+=`` of the
lecture notes).

:func:`explain` writes one derivative d out / d wrt as the chain rule: one
:class:`Path` per path from ``wrt`` up to ``out``, each a product of local
derivatives, summed.  Paths are counted (dynamic programming, exact integers)
before any is listed; past ``max_paths`` the explanation switches to the
notes' memoized form (d out / d v = sum over the users u of v of
d out / d u * d u / d v), which takes time and text linear in the graph.

Both read the graph through the public node protocol only (``data``,
``parents``, ``spec``, ``ctx``, ``label``) and :func:`topo_order`, and call
each op's registry rule on floats as the engine's first-order loop does, so
the numbers are the engine's, bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from .engine import topo_order
from .value import Value

__all__ = [
    "Step",
    "Contribution",
    "Path",
    "Explanation",
    "backward_steps",
    "explain",
    "node_names",
    "format_number",
    "format_step",
    "format_steps_table",
    "DEFAULT_MAX_PATHS",
]

#: Above this many paths :func:`explain` gives the memoized form instead of listing them.
DEFAULT_MAX_PATHS = 64
# Lines of the memoized form printed before the middle is elided (keeps str() bounded).
_MEMO_LINES = 24
# Factors of one path printed at each end before its middle is elided.
_PATH_ENDS = 6


class Contribution(NamedTuple):
    """What one user of a node added into the node's gradient.

    Attributes:
        step: index (in processing order) of the user's :class:`Step`.
        name: the user's readable name.
        upstream: the user's gradient d out / d user.
        local: d user / d node (for this operand slot).
        amount: what was added: the rule called with ``upstream``.
    """

    step: int
    name: str
    upstream: float
    local: float
    amount: float


@dataclass(frozen=True, eq=False)
class Step:
    """One node of the backward pass.

    Attributes:
        index: position in processing order (0 is the output).
        topo_index: the node's topological number, as in :func:`viz.draw_dot`'s ``v<i>``.
        node: the Value.
        name: its label, or the op and its topological number (``mul4``, ``leaf0``).
        grad: d out / d node, complete when this step runs.
        gathered: who added into ``grad``, in the order the engine adds (empty for the output).
        inputs: the node's inputs in operand order (empty for a leaf).
        input_names: their readable names.
        local: d node / d input per input (the rule with upstream gradient 1).
        contributions: ``grad * local[i]`` per input, computed as the rule with
            upstream gradient ``grad``, so it is exactly what the engine adds.
        formula: the op's derivative in words (``""`` for a leaf).
    """

    index: int
    topo_index: int
    node: Value
    name: str
    grad: float
    gathered: tuple[Contribution, ...]
    inputs: tuple[Value, ...]
    input_names: tuple[str, ...]
    local: tuple[float, ...]
    contributions: tuple[float, ...]
    formula: str

    @property
    def op(self) -> str:
        """The op's registry name, ``""`` for a leaf."""
        return self.node.op


@dataclass(frozen=True, eq=False)
class Path:
    """One path from ``wrt`` up to ``out``: its nodes and the local derivative along each edge.

    Attributes:
        nodes: from ``wrt`` to ``out``.
        names: their readable names.
        factors: ``factors[i]`` = d nodes[i+1] / d nodes[i].
        product: the product of the factors (1 for the empty path, ``wrt is out``).
    """

    nodes: tuple[Value, ...]
    names: tuple[str, ...]
    factors: tuple[float, ...]
    product: float


@dataclass(frozen=True, eq=False)
class Explanation:
    """d out / d wrt as the chain rule; ``str()`` writes it out.

    Attributes:
        out, wrt: the Values.
        out_name, wrt_name: their readable names.
        total: d out / d wrt, equal to the engine's ``grad(out, [wrt])``.
        n_paths: the number of paths from ``wrt`` to ``out`` (exact, may be huge).
        form: ``"paths"`` (every path listed), ``"memoized"`` (too many paths)
            or ``"none"`` (``out`` does not depend on ``wrt``).
        paths: the paths, in ``"paths"`` form; empty otherwise.
        steps: the backward steps of the nodes on some path from ``wrt`` to
            ``out``, in processing order (``out`` first, ``wrt`` last): the
            memoized form, each node's gradient gathered from its users.
        max_paths: the limit that chose the form.
    """

    out: Value
    wrt: Value
    out_name: str
    wrt_name: str
    total: float
    n_paths: int
    form: str
    paths: tuple[Path, ...]
    steps: tuple[Step, ...]
    max_paths: int

    def __str__(self) -> str:
        return _format_explanation(self)


def node_names(nodes: Sequence[Value]) -> dict[Value, str]:
    """Readable names for ``nodes`` listed in topological order (as :func:`topo_order` gives them).

    A node keeps its label; an unlabeled one is named by its op and its index
    in ``nodes`` (``mul4``, ``tanh7``; ``leaf0`` for an input), the index being
    the number of its ``v<i>`` node in :func:`viz.draw_dot`'s DOT source.
    """
    return {v: v.label or f"{v.op or 'leaf'}{i}" for i, v in enumerate(nodes)}


def _check_value(x: Any, fn: str, arg: str) -> None:
    if type(x) is not Value:
        raise TypeError(f"{fn}() argument {arg!r} must be a Value, got {type(x).__name__}: {x!r:.60}")


def _rule(node: Value, g: float) -> tuple[float | None, ...]:
    """The node's rule on floats with upstream gradient ``g``, as the engine's first-order loop calls it."""
    spec = node.spec
    assert spec is not None  # only called on op nodes
    ins = node.parents
    r = spec.rule(g, node.data, *[p.data for p in ins], *node.ctx)
    if type(r) is not tuple or len(r) != len(ins):
        got = f"{len(r)} gradients" if type(r) is tuple else f"a {type(r).__name__}"
        raise ValueError(
            f"derivative rule of op {spec.name!r} returned {got} for {len(ins)} inputs; "
            "it must return a tuple with one gradient per input (None for none)"
        )
    return tuple(None if x is None else float(x) for x in r)


def _zeros_for_none(r: tuple[float | None, ...]) -> tuple[float, ...]:
    # None means "no gradient for this input": the engine adds nothing, which reads as 0.
    return tuple(0.0 if x is None else x for x in r)


def backward_steps(out: Value) -> list[Step]:
    """The backward pass from ``out`` as the engine runs it, one :class:`Step` per node; no ``.grad`` is touched.

    Steps come in processing order: reverse topological order as
    :func:`topo_order` gives it, so ``out`` comes first (gradient 1.0) and
    every node comes after all the nodes that use it.  Leaves have a step
    too (no inputs).

    Args:
        out: the output Value.

    Returns:
        The steps, ``out`` first.

    Raises:
        TypeError: if ``out`` is not a Value.
        ValueError: if an op's rule returns the wrong number of gradients.
    """
    _check_value(out, "backward_steps", "out")
    order = topo_order(out)
    names = node_names(order)
    n = len(order)
    # Gradients gather here as the engine's accumulators do: from -0.0 (the identity, so a lone
    # -0.0 stays -0.0), one += per contribution.
    acc: dict[Value, float] = {}
    got: dict[Value, list[Contribution]] = {}
    steps: list[Step] = []
    for k, node in enumerate(reversed(order)):
        g = 1.0 if k == 0 else acc.get(node, 0.0)
        ins = node.parents
        if node.spec is None:
            local: tuple[float, ...] = ()
            contrib: tuple[float, ...] = ()
        else:
            # Rules are linear in g: the rule at g = 1 gives the local derivatives;
            # the rule at g gives exactly what the engine adds (not grad * local, which may round differently).
            local = _zeros_for_none(_rule(node, 1.0))
            raw = _rule(node, g)
            contrib = _zeros_for_none(raw)
            for i, p in enumerate(ins):
                if raw[i] is None:
                    continue
                acc[p] = acc.get(p, -0.0) + contrib[i]
                got.setdefault(p, []).append(Contribution(k, names[node], g, local[i], contrib[i]))
        steps.append(
            Step(
                index=k,
                topo_index=n - 1 - k,
                node=node,
                name=names[node],
                grad=g,
                gathered=tuple(got.pop(node, ())),
                inputs=ins,
                input_names=tuple(names[p] for p in ins),
                local=local,
                contributions=contrib,
                formula=node.spec.formula if node.spec is not None else "",
            )
        )
    return steps


def explain(out: Value, wrt: Value, *, max_paths: int = DEFAULT_MAX_PATHS) -> Explanation:
    """d out / d wrt written as the chain rule: a sum over paths of products of local derivatives.

    Paths run along edges (``x * x`` gives two paths through the product).
    They are counted before any is listed; when there are more than
    ``max_paths``, the explanation is the memoized form instead, in time
    and text linear in the graph.

    Args:
        out: the output Value.
        wrt: the Value to differentiate with respect to.
        max_paths: list the paths only up to this many.

    Returns:
        An :class:`Explanation`; ``str()`` of it is the written-out sum.  If
        ``out`` does not depend on ``wrt`` its total is 0 and it has no paths.

    Raises:
        TypeError: if ``out`` or ``wrt`` is not a Value, or ``max_paths`` not an int.
        ValueError: if ``max_paths`` is negative.
    """
    _check_value(out, "explain", "out")
    _check_value(wrt, "explain", "wrt")
    if isinstance(max_paths, bool) or not isinstance(max_paths, int):
        raise TypeError(f"explain() argument 'max_paths' must be an int, got {type(max_paths).__name__}")
    if max_paths < 0:
        raise ValueError(f"explain() argument 'max_paths' must be >= 0, got {max_paths}")
    steps = backward_steps(out)
    by_node = {s.node: s for s in steps}
    out_name = steps[0].name
    wrt_step = by_node.get(wrt)
    if wrt_step is None:
        wrt_name = wrt.label or "wrt"
        return Explanation(out, wrt, out_name, wrt_name, 0.0, 0, "none", (), (), max_paths)

    # Paths from wrt to every node, in topological order (exact ints: 2**40 is fine).
    count: dict[Value, int] = {wrt: 1}
    for s in reversed(steps[: wrt_step.index]):
        c = sum(count.get(p, 0) for p in s.inputs)
        if c:
            count[s.node] = c
    n_paths = count.get(out, 0)
    on_path = tuple(s for s in steps if s.node in count)
    if n_paths == 0:
        return Explanation(out, wrt, out_name, wrt_step.name, 0.0, 0, "none", (), (), max_paths)
    paths: tuple[Path, ...] = ()
    form = "memoized"
    if n_paths <= max_paths:
        form = "paths"
        paths = _list_paths(wrt, on_path, by_node, set(count))
    return Explanation(out, wrt, out_name, wrt_step.name, wrt_step.grad, n_paths, form, paths, on_path, max_paths)


def _list_paths(
    wrt: Value, on_path: tuple[Step, ...], by_node: dict[Value, Step], reached: set[Value]
) -> tuple[Path, ...]:
    """Every path from ``wrt`` to the output through ``on_path``, depth first, users in topological order."""
    users: dict[Value, list[tuple[Step, int]]] = {}
    for s in reversed(on_path):
        for slot, p in enumerate(s.inputs):
            if p in reached:
                users.setdefault(p, []).append((s, slot))
    out = on_path[0].node
    found: list[Path] = []
    # Explicit stack of (node, nodes so far, factors so far): no recursion limit on long paths.
    stack: list[tuple[Value, tuple[Value, ...], tuple[float, ...]]] = [(wrt, (wrt,), ())]
    while stack:
        node, nodes, factors = stack.pop()
        if node is out:
            product = 1.0
            for f in factors:
                product *= f
            found.append(Path(nodes, tuple(by_node[v].name for v in nodes), factors, product))
            continue
        for s, slot in reversed(users.get(node, [])):
            stack.append((s.node, nodes + (s.node,), factors + (s.local[slot],)))
    return tuple(found)


def format_number(x: float) -> str:
    """A float as the text writes it: up to 6 significant digits, ``2`` rather than ``2.0``."""
    if math.isfinite(x) and x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return f"{x:.6g}"


def _paren(x: float) -> str:
    s = format_number(x)
    return f"({s})" if s.startswith("-") else s


def _d(num: str, den: str) -> str:
    return f"∂{num}/∂{den}"


def _elide(items: list[str], what: str) -> list[str]:
    """``items``, with the middle of a long list replaced by a count, so a long path stays one readable line."""
    if len(items) <= 2 * _PATH_ENDS + 1:
        return items
    return items[:_PATH_ENDS] + [f"({len(items) - 2 * _PATH_ENDS} more {what})"] + items[-_PATH_ENDS:]


def _format_explanation(e: Explanation) -> str:
    f, x = e.out_name, e.wrt_name
    head = _d(f, x)
    if e.form == "none":
        return f"{head} = 0: {f} does not depend on {x} (no path from {x} to {f})"
    if e.form == "paths":
        noun = "path" if e.n_paths == 1 else "paths"
        intro = "the chain rule, one product of local derivatives per path"
        lines = [f"{head}: {intro} from {x} to {f} ({e.n_paths} {noun})"]
        for k, p in enumerate(e.paths, 1):
            if len(p.nodes) == 1:
                lines.append(f"  path {k}: {x} itself: {_d(f, x)} = 1")
                continue
            names = p.names
            # Written from the output down, as the notes write it: ∂f/∂d · ∂d/∂x.
            down = list(reversed(range(len(p.factors))))
            symbols = " · ".join(_elide([_d(names[i + 1], names[i]) for i in down], "factors"))
            numbers = " · ".join(_elide([_paren(p.factors[i]) for i in down], "factors"))
            lines.append(f"  path {k}: {' -> '.join(_elide(list(names), 'nodes'))}")
            lines.append(f"    {symbols} = {numbers} = {format_number(p.product)}")
        terms = " + ".join(_paren(p.product) for p in e.paths)
        tail = f"{terms} = " if len(e.paths) > 1 else ""
        lines.append(f"{head} = {tail}{format_number(e.total)}")
        return "\n".join(lines)
    lines = [
        f"{head}: {e.n_paths} paths from {x} to {f}, more than max_paths={e.max_paths}, so not listed one by one;",
        "the memoized form instead (the notes' memoized local derivatives): each node's gradient is gathered",
        f"from its users, ∂{f}/∂v = Σ over users u of v of ∂{f}/∂u · ∂u/∂v, from {f} down to {x}:",
    ]
    body = [_memo_line(f, s) for s in e.steps]
    if len(body) > _MEMO_LINES:
        half = _MEMO_LINES // 2
        body = body[:half] + [f"  ... {len(body) - 2 * half} more nodes ..."] + body[-half:]
    lines += body
    lines.append(f"{head} = {format_number(e.total)}")
    return "\n".join(lines)


def _memo_line(f: str, s: Step) -> str:
    if not s.gathered:
        return f"  {_d(f, s.name)} = 1"
    terms = " + ".join(f"{_paren(c.upstream)}·{_paren(c.local)}" for c in s.gathered)
    users = ", ".join(c.name for c in s.gathered)
    return f"  {_d(f, s.name)} = {terms} = {format_number(s.grad)}   (users: {users})"


def format_step(step: Step, *, out_name: str | None = None, total: int | None = None) -> str:
    """One step's arithmetic as text: the gradient it gathered (the ``+=``) and what it sends to each input.

    Args:
        step: a step from :func:`backward_steps`.
        out_name: the output's name for the ∂ notation (default ``out``).
        total: the number of steps, to write "step k/last" (steps count from 0).
    """
    f = out_name or "out"
    of = f"/{total - 1}" if total is not None else ""
    kind = f"op {step.op}" if step.op else "leaf"
    lines = [f"step {step.index}{of}: {step.name} ({kind}), data {format_number(step.node.data)}"]
    if not step.gathered:
        lines.append(f"{_d(f, step.name)} = 1 (the output: the pass starts here)")
    elif len(step.gathered) == 1:
        c = step.gathered[0]
        lines.append(f"{_d(f, step.name)} = {format_number(step.grad)}, from {c.name}")
    else:
        lines.append(f"{_d(f, step.name)} gathered from {len(step.gathered)} users:")
        for c in step.gathered:
            lines.append(f"  {step.name}.grad += {format_number(c.amount)}   from {c.name}")
        lines.append(f"  {step.name}.grad  = {format_number(step.grad)}")
    if not step.inputs:
        lines.append("a leaf: nothing to send further")
        return "\n".join(lines)
    if step.formula:
        lines.append(f"local derivatives: {step.formula}")
    lines.append("upstream gradient × local derivative = contribution:")
    for name, loc, amount in zip(step.input_names, step.local, step.contributions):
        lines.append(f"  -> {name}: {format_number(step.grad)} × {_paren(loc)} = {format_number(amount)}")
    return "\n".join(lines)


def format_steps_table(steps: Sequence[Step]) -> str:
    """Every step as one row per input: step, node, op, grad, input, local, contribution (for the command line)."""
    header = ("step", "node", "op", "grad", "input", "local", "contribution")
    rows: list[tuple[str, ...]] = []
    for s in steps:
        base = (str(s.index), s.name, s.op or "leaf", format_number(s.grad))
        if not s.inputs:
            rows.append(base + ("", "", ""))
        for i, (name, loc, c) in enumerate(zip(s.input_names, s.local, s.contributions)):
            first = base if i == 0 else ("", "", "", "")
            rows.append(first + (name, format_number(loc), format_number(c)))
    widths = [max(len(r[j]) for r in [header, *rows]) for j in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in [header, *rows]]
    return "\n".join(lines)
