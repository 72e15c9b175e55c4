"""Reverse-mode differentiation: topological order, ``backward()`` and ``grad()``.

How one gradient flows (``z = x * y; z.backward()``), for a reader who
knows micrograd:

1. ``x * y`` (in :mod:`autograd_core.value`) made node ``z`` holding
   ``data = x.data * y.data``, its registry entry ``MUL`` (in
   :mod:`autograd_core.primitives`) and its two inputs ``x``, ``y``.
2. ``z.backward()`` calls :func:`backward` here.  :func:`topo_order` lists
   the graph below ``z``, inputs before the nodes that use them, with an
   explicit stack (no recursion, so a chain of a million nodes works) and in
   a stable order (inputs in operand order): ``[x, y, z]``.
3. The walk goes through that list from ``z`` back.  Each node's upstream
   gradient waits in its accumulator ``_grad_acc`` (1.0 for ``z``).  For an
   op node it calls the entry's rule, ``MUL.rule(g, out, x, y) = (g * y,
   g * x)``, and adds each returned gradient into that input's accumulator,
   so merging paths add up.  Rules never touch nodes; the walk does all
   accumulation.  When a node is reached its accumulator is complete (every
   user came before it) and is added to its ``.grad``.

Signed zeros, as in PyTorch.  An accumulator starts at -0.0, the identity
of IEEE addition (``-0.0 + g`` is ``g`` bit for bit), so the first
contribution is kept as it is, as PyTorch's gradient buffers, which start
empty; a lone ``-0.0`` stays ``-0.0``.  A ``.grad`` of 0.0 counts as empty
(PyTorch's ``None``) when a gradient is added to it (:func:`add_grad`).  A
rule's ``None`` ("no gradient") adds ``+0.0``, and an input the output does
not depend on gets ``+0.0``.  The loops here, :func:`grad` and the tape's
replay (:mod:`autograd_core.tape`) all follow these rules, so they agree to
the bit.

There are two loops, on purpose:

* the fast loop (:func:`_backprop_fast`): first-order ``backward()``, rules on
  floats, the two input slots read directly.  It is most of a training
  step's backward time and about twice as fast as the general loop;
* the general loop (:func:`_backprop_general`): ``create_graph`` (rules see
  the nodes themselves, so the gradients are graph nodes that can be
  differentiated again), ``detect_anomaly`` checks, and the gradients of
  chosen inputs collected for :func:`grad`.

``tests/test_engine_loops.py`` proves they agree.

The node protocol.  The engine does not import ``Value``; it reads these
slots of any node: ``data`` and ``grad`` (floats), ``_spec`` (the registry
entry, None for a leaf), the inputs ``_in0`` and ``_in1`` (None, one input,
two inputs, or ``_in0`` a tuple of all of them when ``_in1`` is
:data:`MANY_INPUTS`), ``_ctx`` (constant params or None) and ``_grad_acc``
(None outside a pass).  Two input slots instead of a tuple make one
allocation the cyclic garbage collector tracks per node instead of two.

Accumulators live on the nodes for the length of one pass.  Two graphs may
share nodes (a model's parameters), so passes are serialized by one lock:
threads may call ``backward()`` and ``grad()`` concurrently and each gets its
own, correct result.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from typing import Any

from ._state import AnomalyError, enable_grad, is_anomaly_enabled
from .primitives import OpSpec, rule_arity_error, to_float

__all__ = ["topo_order", "backward", "grad", "add_grad", "is_node", "node_inputs", "MANY_INPUTS"]

#: ``_in1`` of a node with more than two inputs; ``_in0`` then holds their tuple.
MANY_INPUTS: Any = object()

# Marks a node whose inputs are being listed; see _mark_order.
_PENDING = object()

# One pass at a time: the marks and accumulators live on the nodes, and graphs
# built by different threads can share nodes.
_pass_lock = threading.Lock()
_local = threading.local()


def is_node(x: Any) -> bool:
    """Whether ``x`` is a graph node (a ``Value``): its class has the protocol's slots."""
    t = type(x)
    return hasattr(t, "_grad_acc") and hasattr(t, "_in0")


def add_grad(total: float, g: float) -> float:
    """A ``.grad`` after adding ``g``: ``total + g``, except that a ``.grad`` of 0.0 counts as empty.

    An empty ``.grad`` takes ``g`` as it is (PyTorch's ``None`` then its first
    gradient), so a lone ``-0.0`` gradient reads ``-0.0``, not ``0.0 + -0.0 = 0.0``.
    """
    return total + g if total else g


def node_inputs(in0: Any, in1: Any) -> tuple[Any, ...]:
    """A node's inputs as a tuple, from its two input slots."""
    if in0 is None:
        return ()
    if in1 is None:
        return (in0,)
    if in1 is MANY_INPUTS:
        return in0
    return (in0, in1)


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


def _mark_order(root: Any) -> list[Any]:
    """Every node below ``root`` (itself included), inputs before users.

    Without recursion: each node is pushed once to list its inputs (marked
    pending) and popped again after them to be emitted.  An emitted node's
    gradient accumulator ``_grad_acc`` is set to -0.0 (the identity of
    addition, see "Signed zeros" above), which doubles as its "visited"
    mark, so no set of visited nodes is needed.  The caller must reset every
    ``_grad_acc`` to None.  The order depends only on the graph's
    shape and operand order, never on memory addresses.
    """
    order: list[Any] = []
    append = order.append
    stack = [root]
    push = stack.append
    pop = stack.pop
    pending = _PENDING
    many = MANY_INPUTS
    try:
        while stack:
            node = pop()
            mark = node._grad_acc
            if mark is None:
                node._grad_acc = pending
                push(node)
                in0 = node._in0
                if in0 is not None:
                    in1 = node._in1
                    # Pushed last, popped first: operand order within a node is kept.
                    if in1 is many:
                        for p in reversed(in0):
                            if p._grad_acc is None:
                                push(p)
                        continue
                    if in1 is not None and in1._grad_acc is None:
                        push(in1)
                    if in0._grad_acc is None:
                        push(in0)
            elif mark is pending:
                node._grad_acc = -0.0
                append(node)
            # else: already emitted through another path
    except BaseException:
        _reset(order)
        _reset(stack)
        raise
    return order


def _reset(nodes: list[Any]) -> None:
    for node in nodes:
        node._grad_acc = None


def topo_order(root: Any) -> list[Any]:
    """Every node ``root`` depends on (itself included), inputs before users.

    The order depends only on the graph's shape and operand order, never on
    memory addresses, so it is the same run to run.

    Raises:
        TypeError: if ``root`` is not a Value.
    """
    if not is_node(root):
        raise TypeError(f"expected a Value, got {type(root).__name__}")
    with _ONE_PASS:
        order = _mark_order(root)
        _reset(order)
    return order


def backward(output: Any, grad: float = 1.0) -> None:
    """Add d(output)/d(node) * ``grad`` to the ``.grad`` of every node ``output`` depends on.

    Calling it k times gives every node k times the single-call gradient.

    Raises:
        TypeError: if ``output`` is not a Value or ``grad`` not a real number.
    """
    if not is_node(output):
        raise TypeError(f"backward() needs a Value, got {type(output).__name__}")
    seed = to_float(grad, "backward() grad") if type(grad) is not float else grad
    with _ONE_PASS:
        order = _mark_order(output)
        if is_anomaly_enabled():
            _backprop_general(order, output, seed, create_graph=False, accumulate=True, wanted=None)
        else:
            _backprop_fast(order, output, seed)


def grad(output: Any, inputs: Sequence[Any] | Any, *, create_graph: bool = False) -> tuple[Any, ...]:
    """The gradient of ``output`` with respect to each of ``inputs``, as ``torch.autograd.grad``.

    No ``.grad`` is touched.  An input that ``output`` does not depend on gets 0.
    This is the torch-style function of nodes; the JAX-style transform of a
    Python function, ``grad(f)``, is :func:`autograd_core.functional.grad`.

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
    if not is_node(output):
        raise TypeError(f"grad() output must be a Value, got {type(output).__name__}")
    inputs = (inputs,) if is_node(inputs) else tuple(inputs)
    for i, x in enumerate(inputs):
        if not is_node(x):
            raise TypeError(f"grad() input {i} must be a Value, got {type(x).__name__}")
    wanted: dict[Any, Any] = dict.fromkeys(inputs)
    with _ONE_PASS:
        order = _mark_order(output)
        if create_graph:
            # The gradient graph is recorded even inside an enclosing no_grad(), as in PyTorch.
            with enable_grad():
                _backprop_general(order, output, 1.0, create_graph=True, accumulate=False, wanted=wanted)
        else:
            _backprop_general(order, output, 1.0, create_graph=False, accumulate=False, wanted=wanted)
    result = []
    for x in inputs:
        g = wanted[x]
        # A float gradient (or none: 0) becomes a new leaf of the input's own node type.
        result.append(g if is_node(g) else type(x)(0.0 if g is None else float(g)))
    return tuple(result)


# --------------------------------------------------------------------------
# The two loops.  Both walk ``order`` (from _mark_order, holding the pass
# lock) from the output back and reset every accumulator, also on an error.
# --------------------------------------------------------------------------


def _backprop_fast(order: list[Any], root: Any, seed: float) -> None:
    """First-order ``backward()``: rules on floats, the two input slots read directly (the hot path)."""
    root._grad_acc = seed
    many = MANY_INPUTS
    try:
        for node in reversed(order):
            g = node._grad_acc
            node._grad_acc = None
            total = node.grad
            node.grad = total + g if total else g  # add_grad, inlined: this is the hot loop
            in0 = node._in0
            if in0 is None:
                continue
            in1 = node._in1
            spec: OpSpec = node._spec
            ctx = node._ctx
            if in1 is None:
                r = spec.rule(g, node.data, in0.data) if ctx is None else spec.rule(g, node.data, in0.data, *ctx)
                if type(r) is not tuple or len(r) != 1:
                    raise rule_arity_error(spec, r, 1)
                g0 = r[0]
                in0._grad_acc += 0.0 if g0 is None else g0
            elif in1 is many:
                _apply_rule(node, g, create_graph=False, anomaly=False)
            else:
                r = (
                    spec.rule(g, node.data, in0.data, in1.data)
                    if ctx is None
                    else spec.rule(g, node.data, in0.data, in1.data, *ctx)
                )
                if type(r) is not tuple or len(r) != 2:
                    raise rule_arity_error(spec, r, 2)
                g0, g1 = r
                in0._grad_acc += 0.0 if g0 is None else g0
                in1._grad_acc += 0.0 if g1 is None else g1
    except BaseException:
        _reset(order)
        raise


def _backprop_general(
    order: list[Any],
    root: Any,
    seed: float,
    *,
    create_graph: bool,
    accumulate: bool,
    wanted: dict[Any, Any] | None,
) -> None:
    """The reverse pass with anomaly checks, ``create_graph``, or the gradients of ``wanted`` collected.

    ``accumulate``: add each node's gradient into its ``.grad`` (``backward()``);
    ``wanted``: a dict whose keys get their node's total gradient (``grad()``).
    """
    anomaly = is_anomaly_enabled()
    if anomaly and not math.isfinite(seed):
        raise AnomalyError(f"backward() started with a non-finite gradient {seed!r}")
    root._grad_acc = seed
    try:
        for node in reversed(order):
            g = node._grad_acc
            node._grad_acc = None
            if anomaly:
                # Each contribution was finite (checked as the rules returned them);
                # their sum may still overflow.
                _check_total(node, g)
            if accumulate:
                node.grad = add_grad(node.grad, g if type(g) is float else g.data)
            if wanted is not None and node in wanted:
                wanted[node] = g
            if node._in0 is not None:
                _apply_rule(node, g, create_graph=create_graph, anomaly=anomaly)
    except BaseException:
        _reset(order)
        raise


def _apply_rule(node: Any, g: Any, *, create_graph: bool, anomaly: bool) -> None:
    """Call the rule of ``node`` and add its gradients into the inputs' accumulators (any number of inputs)."""
    spec: OpSpec = node._spec
    inputs = node_inputs(node._in0, node._in1)
    ctx = node._ctx or ()
    if create_graph:
        r = _rule_on_nodes(spec, g, node, inputs, ctx)
    else:
        r = spec.rule(g, node.data, *[p.data for p in inputs], *ctx)
    if type(r) is not tuple or len(r) != len(inputs):
        raise rule_arity_error(spec, r, len(inputs))
    for i, (p, gp) in enumerate(zip(inputs, r)):
        if gp is None:
            gp = 0.0  # "no gradient" is a zero gradient
        if anomaly:
            _check_finite(node, inputs, i, gp)
        acc = p._grad_acc
        if create_graph and type(acc) is float and acc == 0.0 and math.copysign(1.0, acc) < 0:
            # The untouched -0.0 start: -0.0 + gp is gp exactly, so start from the
            # first gradient and the gradient graph holds no "-0 +" nodes.
            p._grad_acc = gp
        else:
            p._grad_acc = acc + gp


def _rule_on_nodes(spec: OpSpec, g: Any, node: Any, inputs: tuple[Any, ...], ctx: tuple[float, ...]) -> Any:
    try:
        return spec.rule(g, node, *inputs, *ctx)
    except TypeError as e:
        if "Value" not in str(e):
            raise
        raise NotImplementedError(
            f"the derivative rule of op {spec.name!r} does not accept Value operands ({e}); "
            "higher-order derivatives need a rule written with arithmetic and autograd_core.ops helpers"
        ) from e


def _check_finite(node: Any, inputs: tuple[Any, ...], i: int, gp: Any) -> None:
    d = gp if type(gp) is float else float(gp.data)
    if not math.isfinite(d):
        p = inputs[i]
        ins = ", ".join(f"{q.label or '?'}={q.data!r}" for q in inputs)
        raise AnomalyError(
            f"backward of op {node._spec.name!r} (node {node.label or '?'}={node.data!r}, inputs ({ins})) "
            f"gave gradient {d!r} for input {i} ({p.label or '?'}={p.data!r})"
        )


def _check_total(node: Any, g: Any) -> None:
    d = g if type(g) is float else float(g.data)
    if not math.isfinite(d):
        what = f"op {node._spec.name!r}" if node._spec is not None else "leaf"
        raise AnomalyError(
            f"backward: the gradient reaching node {node.label or '?'}={node.data!r} ({what}) is {d!r}, "
            "the sum of finite gradients from the nodes that use it"
        )
