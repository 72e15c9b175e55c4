"""Reverse-mode differentiation: topological order, ``backward()`` and ``grad()``.

One backward pass:

1. :func:`topo_order` lists the graph below the output, inputs before the
   nodes that use them, with an explicit stack (no recursion, so a chain of a
   million nodes works) and in a stable order (parents in operand order).
2. The pass walks that list from the output back.  For each node it calls the
   registry rule of the node's op with the upstream gradient and adds the
   gradients the rule returns into the parents' accumulators.  Merging paths
   add up.  Rules never touch nodes; the walk does all accumulation.
3. Without ``create_graph`` the rules see plain floats and record nothing;
   with it they see the nodes themselves, so the gradients are graph nodes
   that can be differentiated again.

Accumulators live in a private slot of each node for the length of one
pass.  Two graphs may share nodes (a model's parameters), so passes are
serialized by one lock: threads may call ``backward()`` and ``grad()``
concurrently and each gets its own, correct result.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from typing import Any

from ._state import AnomalyError, enable_grad, is_anomaly_enabled
from .ops import OpSpec
from .value import NARY, Value, _leaf, _to_float

__all__ = ["topo_order", "backward", "grad"]


# Marks a node whose inputs are being listed; see _mark_order.
_PENDING = object()

# One pass at a time: the marks and accumulators live on the nodes, and graphs
# built by different threads can share nodes.
_pass_lock = threading.Lock()
_local = threading.local()


class _OnePass:
    """``with _ONE_PASS:`` holds the pass lock; refuses a pass nested in another in the same thread."""

    def __enter__(self) -> None:
        if getattr(_local, "busy", False):
            raise RuntimeError(
                "backward() or grad() was called during another backward pass in the same thread "
                "(from inside a derivative rule?); a rule must return gradients, not run backward passes"
            )
        _pass_lock.acquire()
        _local.busy = True

    def __exit__(self, *exc: object) -> None:
        _local.busy = False
        _pass_lock.release()


_ONE_PASS = _OnePass()


def _mark_order(root: Value) -> list[Value]:
    """Every node below ``root`` (itself included), inputs before users.

    Without recursion: each node is pushed once to list its inputs (marked
    pending) and popped again after them to be emitted.  An emitted node's
    gradient accumulator ``_g`` is set to 0.0, which doubles as its "visited"
    mark, so no set of visited nodes is needed.  The caller must reset every
    ``_g`` to None.  The order depends only on the graph's shape and operand
    order, never on memory addresses.
    """
    order: list[Value] = []
    append = order.append
    stack = [root]
    push = stack.append
    pop = stack.pop
    pending = _PENDING
    try:
        while stack:
            node = pop()
            mark = node._g
            if mark is None:
                node._g = pending
                push(node)
                a = node._a
                if a is not None:
                    b = node._b
                    # Pushed last, popped first: operand order within a node is kept.
                    if b is NARY:
                        for p in reversed(a):
                            if p._g is None:
                                push(p)
                        continue
                    if b is not None and b._g is None:
                        push(b)
                    if a._g is None:
                        push(a)
            elif mark is pending:
                node._g = 0.0
                append(node)
            # else: already emitted through another path
    except BaseException:
        _reset(order)
        _reset(stack)
        raise
    return order


def _reset(nodes: list[Value]) -> None:
    for node in nodes:
        node._g = None


def topo_order(root: Value) -> list[Value]:
    """Every node ``root`` depends on (itself included), inputs before users.

    The order depends only on the graph's shape and operand order, never on
    memory addresses, so it is the same run to run.
    """
    if type(root) is not Value:
        raise TypeError(f"expected a Value, got {type(root).__name__}")
    with _ONE_PASS:
        order = _mark_order(root)
        _reset(order)
    return order


def _check_finite(node: Value, i: int, gp: Any) -> None:
    d = gp if type(gp) is float else float(gp.data)
    if not math.isfinite(d):
        spec = node._spec
        assert spec is not None  # only op nodes have rules
        p = node.parents[i]
        ins = ", ".join(f"{q.label or '?'}={q.data!r}" for q in node.parents)
        raise AnomalyError(
            f"backward of op {spec.name!r} (node {node.label or '?'}={node.data!r}, inputs ({ins})) "
            f"gave gradient {d!r} for input {i} ({p.label or '?'}={p.data!r})"
        )


def _check_total(node: Value, g: Any) -> None:
    d = g if type(g) is float else float(g.data)
    if not math.isfinite(d):
        what = f"op {node._spec.name!r}" if node._spec is not None else "leaf"
        raise AnomalyError(
            f"backward: the gradient reaching node {node.label or '?'}={node.data!r} ({what}) is {d!r}, "
            "the sum of finite gradients from the nodes that use it"
        )


def _backprop(root: Value, seed: Any, *, create_graph: bool, accumulate: bool, want: dict[Value, Any] | None) -> None:
    """One reverse pass from ``root``, holding the pass lock; see the module docstring."""
    with _ONE_PASS:
        if create_graph:
            # The gradient graph is recorded even inside an enclosing no_grad(), as in PyTorch.
            with enable_grad():
                _backprop_locked(root, seed, create_graph=True, accumulate=accumulate, want=want)
        else:
            _backprop_locked(root, seed, create_graph=False, accumulate=accumulate, want=want)


def _backprop_locked(
    root: Value, seed: Any, *, create_graph: bool, accumulate: bool, want: dict[Value, Any] | None
) -> None:
    order = _mark_order(root)
    if is_anomaly_enabled() or create_graph or want is not None:
        _backprop_general(order, root, seed, create_graph=create_graph, accumulate=accumulate, want=want)
        return
    # The common case, first-order backward(): rules on floats, the two
    # input slots read directly.  Kept apart from the general loop because
    # this loop is most of a training step's backward time.
    root._g = seed
    try:
        for node in reversed(order):
            g = node._g
            node._g = None
            node.grad += g
            a = node._a
            if a is None:
                continue
            b = node._b
            spec: OpSpec = node._spec  # type: ignore[assignment]  # set wherever _a is
            ctx = node._ctx
            if b is None:
                r = spec.rule(g, node.data, a.data) if ctx is None else spec.rule(g, node.data, a.data, *ctx)
                if type(r) is not tuple or len(r) != 1:
                    _arity_error(spec, r, 1)
                ga = r[0]
                if ga is not None:
                    a._g += ga
            elif b is NARY:
                _accumulate_nary(node, g, create_graph=False, anomaly=False)
            else:
                r = (
                    spec.rule(g, node.data, a.data, b.data)
                    if ctx is None
                    else spec.rule(g, node.data, a.data, b.data, *ctx)
                )
                if type(r) is not tuple or len(r) != 2:
                    _arity_error(spec, r, 2)
                ga, gb = r
                if ga is not None:
                    a._g += ga
                if gb is not None:
                    b._g += gb
    except BaseException:
        _reset(order)
        raise


def _arity_error(spec: Any, r: Any, n: int) -> None:
    got = f"{len(r)} gradients" if type(r) is tuple else f"a {type(r).__name__} ({r!r:.40})"
    raise ValueError(
        f"derivative rule of op {spec.name!r} returned {got} for {n} inputs; "
        "it must return a tuple with one gradient per input (None for none), e.g. (g * y, g * x)"
    )


def _accumulate_nary(node: Value, g: Any, *, create_graph: bool, anomaly: bool) -> None:
    """Apply the rule of ``node`` and add its gradients into the inputs' accumulators."""
    spec = node._spec
    assert spec is not None  # only op nodes get here
    ps = node.parents
    ctx = node._ctx or ()
    if create_graph:
        r = _rule_on_values(spec.name, spec.rule, g, node, ps, ctx)
    else:
        r = spec.rule(g, node.data, *[p.data for p in ps], *ctx)
    if type(r) is not tuple or len(r) != len(ps):
        _arity_error(spec, r, len(ps))
    for i, (p, gp) in enumerate(zip(ps, r)):
        if gp is None:
            continue
        if anomaly:
            _check_finite(node, i, gp)
        pg = p._g
        if create_graph and type(pg) is float and pg == 0.0:
            # Start from the first gradient so the gradient graph holds no "0 +" nodes.
            p._g = gp
        else:
            p._g = pg + gp


def _backprop_general(
    order: list[Value], root: Value, seed: Any, *, create_graph: bool, accumulate: bool, want: dict[Value, Any] | None
) -> None:
    """The reverse pass with anomaly checks, ``create_graph`` or gradients collected for ``grad()``."""
    anomaly = is_anomaly_enabled()
    if anomaly and not math.isfinite(seed if type(seed) is float else seed.data):
        raise AnomalyError(f"backward() started with a non-finite gradient {seed!r}")
    root._g = seed
    try:
        for node in reversed(order):
            g = node._g
            node._g = None
            if anomaly:
                # Each contribution was finite (checked as the rules returned them);
                # their sum may still overflow.
                _check_total(node, g)
            if accumulate:
                node.grad += g if type(g) is float else g.data
            if want is not None and node in want:
                want[node] = g
            if node._a is not None:
                _accumulate_nary(node, g, create_graph=create_graph, anomaly=anomaly)
    except BaseException:
        _reset(order)
        raise


def _rule_on_values(name: str, rule: Any, g: Any, node: Value, ps: tuple[Value, ...], ctx: Any) -> Any:
    try:
        return rule(g, node, *ps, *(ctx or ()))
    except TypeError as e:
        if "Value" not in str(e):
            raise
        raise NotImplementedError(
            f"the derivative rule of op {name!r} does not accept Value operands ({e}); "
            "higher-order derivatives need a rule written with arithmetic and autograd_core.ops helpers"
        ) from e


def backward(output: Value, grad: float = 1.0) -> None:
    """Add d(output)/d(node) * ``grad`` to the ``.grad`` of every node ``output`` depends on.

    Raises:
        TypeError: if ``output`` is not a Value or ``grad`` not a real number.
    """
    if type(output) is not Value:
        raise TypeError(f"backward() needs a Value, got {type(output).__name__}")
    seed = _to_float(grad, "backward() grad") if type(grad) is not float else grad
    _backprop(output, seed, create_graph=False, accumulate=True, want=None)


def grad(output: Value, inputs: Sequence[Value] | Value, *, create_graph: bool = False) -> tuple[Value, ...]:
    """The gradient of ``output`` with respect to each of ``inputs``, as ``torch.autograd.grad``.

    No ``.grad`` is touched.  An input that ``output`` does not depend on gets 0.

    Args:
        output: the Value to differentiate.
        inputs: a Value or a sequence of Values.
        create_graph: if True, the returned gradients are graph nodes and can
            be differentiated again (second and higher derivatives).

    Returns:
        One Value per input.

    Raises:
        TypeError: if ``output`` or an input is not a Value.
    """
    if type(output) is not Value:
        raise TypeError(f"grad() output must be a Value, got {type(output).__name__}")
    inputs = (inputs,) if type(inputs) is Value else tuple(inputs)  # type: ignore[arg-type]
    for i, x in enumerate(inputs):
        if type(x) is not Value:
            raise TypeError(f"grad() input {i} must be a Value, got {type(x).__name__}")
    want: dict[Value, Any] = dict.fromkeys(inputs)
    _backprop(output, 1.0, create_graph=create_graph, accumulate=False, want=want)
    result = []
    for x in inputs:
        g = want[x]
        if g is None:
            g = 0.0
        result.append(g if type(g) is Value else _leaf(float(g)))
    return tuple(result)
