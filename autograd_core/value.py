"""``Value``: one scalar node of a computation graph, with its operator overloads.

A ``Value`` holds a float (``data``), the gradient accumulated by
``backward()`` (``grad``), the op that produced it (``op``, ``""`` for a
leaf), its inputs in operand order (``parents``) and a ``label``.

How one gradient flows, for a reader who knows micrograd:

1. Forward: ``x * y`` runs :meth:`Value.__mul__`, which computes the float
   result with the registry entry's forward (``MUL.forward``, in
   :mod:`autograd_core.primitives`) and calls :func:`_node`, the one place a
   node is made: it stores the result, the entry and the inputs.  The
   derivative rule stays on the entry (shared by every node of that op), so a
   node holds no closure and forms no reference cycle; a graph nobody refers
   to any more is freed at once by reference counting.
2. Backward: :meth:`Value.backward` calls :func:`autograd_core.engine.backward`,
   which orders the graph, calls ``MUL.rule(g, out, x, y) = (g * y, g * x)``
   for the node and adds the results into ``x.grad`` and ``y.grad``.

Imports run one way: ``primitives`` (the table) <- ``engine`` (the walk,
which reads nodes through a small protocol and never imports this module)
<- ``value`` (this module) <- ``ops`` (the registry's public face).
"""

from __future__ import annotations

import html
import math
import numbers
from collections.abc import Callable
from typing import Any

from . import engine
from ._state import ANOMALY, NO_GRAD, AnomalyError, mode_code
from .engine import MANY_INPUTS, node_inputs
from .primitives import (
    ABS,
    ADD,
    COS,
    DIV,
    ELU,
    EXP,
    LEAKY_RELU,
    LOG,
    MAXIMUM,
    MINIMUM,
    MUL,
    NEG,
    POW,
    POW_CONST,
    PRELU,
    RELU,
    SIGMOID,
    SIN,
    SOFTPLUS,
    SQRT,
    SUB,
    TANH,
    OpSpec,
    add_entry,
    to_float,
)

__all__ = ["Value", "applier", "as_value", "maximum", "minimum", "register"]

_new = object.__new__


def _node(data: float, spec: OpSpec | None, in0: Any = None, in1: Any = None, ctx: Any = None) -> Value:
    """The one node constructor: a leaf (``spec`` None) or the result of op ``spec`` on its inputs.

    The inputs go into two slots rather than a tuple: one allocation that the
    cyclic garbage collector tracks per node instead of two, which halves the
    collector's share of a training step (``parents`` builds the tuple).
    More than two inputs: ``in0`` is their tuple and ``in1`` is
    ``MANY_INPUTS``.
    """
    v = _new(Value)
    v.data = data
    v.grad = 0.0
    v.label = ""
    v._grad_acc = None
    if spec is not None:
        code = mode_code()
        if code:
            # Inside no_grad() or detect_anomaly() in this context (never another thread's).
            spec, in0, in1, ctx = _record_under_mode(code, data, spec, in0, in1, ctx)
    v._spec = spec
    v._in0 = in0
    v._in1 = in1
    v._ctx = ctx
    return v


def _record_under_mode(
    code: int, data: float, spec: OpSpec, in0: Any, in1: Any, ctx: Any
) -> tuple[Any, Any, Any, Any]:
    """What an op node records in mode ``code``: everything, or nothing (a leaf) under no_grad.

    Raises:
        AnomalyError: under detect_anomaly, for a non-finite result.
    """
    if code & ANOMALY and not math.isfinite(data):
        inputs = node_inputs(in0, in1)
        ins = ", ".join(f"{p.label or '?'}={p.data!r}" for p in inputs)
        extra = f" with {', '.join(f'{n}={c!r}' for n, c in zip(spec.params, ctx or ()))}" if spec.params else ""
        raise AnomalyError(f"forward of op {spec.name!r}{extra} gave {data!r} from inputs ({ins})")
    if code & NO_GRAD:
        return None, None, None, None
    return spec, in0, in1, ctx


def _lift(x: Any) -> Value | None:
    """A constant leaf for a real number, or None for anything else (-> NotImplemented)."""
    if type(x) is float:
        return _node(x, None)
    if isinstance(x, numbers.Real):
        return _node(to_float(x), None)
    return None


def as_value(x: Any) -> Value:
    """``x`` itself if it is a Value, else a constant leaf holding it.

    Raises:
        TypeError: if ``x`` is not a real number.
    """
    if type(x) is Value:
        return x
    return _node(to_float(x, "operand"), None)


class Value:
    """A scalar in a computation graph.

    Args:
        data: any real number (int, float, numpy scalar); stored as float.
        label: a name shown in graphs and error messages.

    Raises:
        TypeError: if ``data`` is not a real number or ``label`` not a str.
    """

    # The slots the engine reads (see the node protocol in autograd_core.engine).
    __slots__ = ("data", "grad", "label", "_spec", "_in0", "_in1", "_ctx", "_grad_acc", "__weakref__")
    # numpy defers to our reflected operators, so np.float64(2) * x is a Value.
    __array_ufunc__ = None

    data: float
    grad: float
    label: str
    _spec: OpSpec | None
    _in0: Any
    _in1: Any
    _ctx: tuple[float, ...] | None
    _grad_acc: Any

    def __new__(cls, data: Any, label: str = "") -> Value:
        # A leaf made by the one constructor, so no second place sets the slots.
        if not isinstance(label, str):
            raise TypeError(f"Value label must be a str, got {type(label).__name__}")
        v = _node(data if type(data) is float else to_float(data), None)
        v.label = label
        return v

    # -- introspection --------------------------------------------------------

    @property
    def op(self) -> str:
        """Name of the op that produced this node; ``""`` for a leaf."""
        return self._spec.name if self._spec is not None else ""

    @property
    def parents(self) -> tuple[Value, ...]:
        """The op's inputs in operand order; ``()`` for a leaf."""
        return node_inputs(self._in0, self._in1)

    @property
    def spec(self) -> OpSpec | None:
        """The registry entry of this node's op, or None for a leaf."""
        return self._spec

    @property
    def ctx(self) -> tuple[float, ...]:
        """The op's constant parameters (the exponent of ``x ** 2``, a leaky slope), else ``()``."""
        return self._ctx or ()

    def __repr__(self) -> str:
        extra = ""
        if self._spec is not None:
            extra += f", op={self._spec.name!r}"
        if self.label:
            extra += f", label={self.label!r}"
        return f"Value(data={self.data!r}, grad={self.grad!r}{extra})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        """Format ``data`` with a format spec: ``f"{loss:.4f}"`` gives ``0.6931``.

        An empty spec (``f"{v}"``) gives the repr, as ``str(v)`` does.
        """
        if not spec:
            return repr(self)
        try:
            return format(self.data, spec)
        except ValueError as e:
            raise ValueError(f"invalid format spec {spec!r} for a Value (it formats .data, a float): {e}") from None

    def _repr_html_(self) -> str:
        """A one-line HTML summary for Jupyter: data, grad, op and label, HTML-escaped."""
        parts = [f"data={html.escape(repr(self.data))}", f"grad={html.escape(repr(self.grad))}"]
        if self._spec is not None:
            parts.append(f"op=<code>{html.escape(self._spec.name)}</code>")
        if self.label:
            parts.append(f"label=<code>{html.escape(self.label)}</code>")
        return f'<span class="autograd-core-value"><b>Value</b> {" ".join(parts)}</span>'

    def item(self) -> float:
        """The float ``data`` (as ``torch.Tensor.item``)."""
        return self.data

    def detach(self) -> Value:
        """A new leaf with the same data and label, cut off from the graph."""
        return Value(self.data, self.label)

    def zero_grad(self) -> None:
        """Set ``grad`` back to 0.0."""
        self.grad = 0.0

    # Comparisons read the data, as a Python ``if`` on a tensor does.
    def __lt__(self, other: Any) -> bool:
        return self.data < _cmp(other)

    def __le__(self, other: Any) -> bool:
        return self.data <= _cmp(other)

    def __gt__(self, other: Any) -> bool:
        return self.data > _cmp(other)

    def __ge__(self, other: Any) -> bool:
        return self.data >= _cmp(other)

    # -- arithmetic: each computes its result with the entry's forward -------------
    # +, - and * are most of the nodes of a network: they write the entry's
    # forward (operator.add, .sub, .mul) as the operator itself, which saves a
    # call per node (about 5% of a training step); a test checks the entries.

    def __add__(self, other: Any) -> Value:
        if type(other) is not Value:
            other = _lift(other)
            if other is None:
                return NotImplemented
        return _node(self.data + other.data, ADD, self, other)

    def __radd__(self, other: Any) -> Value:
        o = _lift(other)
        if o is None:
            return NotImplemented
        return _node(o.data + self.data, ADD, o, self)

    def __sub__(self, other: Any) -> Value:
        if type(other) is not Value:
            other = _lift(other)
            if other is None:
                return NotImplemented
        return _node(self.data - other.data, SUB, self, other)

    def __rsub__(self, other: Any) -> Value:
        o = _lift(other)
        if o is None:
            return NotImplemented
        return _node(o.data - self.data, SUB, o, self)

    def __mul__(self, other: Any) -> Value:
        if type(other) is not Value:
            other = _lift(other)
            if other is None:
                return NotImplemented
        return _node(self.data * other.data, MUL, self, other)

    def __rmul__(self, other: Any) -> Value:
        o = _lift(other)
        if o is None:
            return NotImplemented
        return _node(o.data * self.data, MUL, o, self)

    def __truediv__(self, other: Any) -> Value:
        if type(other) is not Value:
            other = _lift(other)
            if other is None:
                return NotImplemented
        return _node(DIV.forward(self.data, other.data), DIV, self, other)

    def __rtruediv__(self, other: Any) -> Value:
        o = _lift(other)
        if o is None:
            return NotImplemented
        return _node(DIV.forward(o.data, self.data), DIV, o, self)

    def __pow__(self, other: Any) -> Value:
        if type(other) is Value:
            return _node(POW.forward(self.data, other.data), POW, self, other)
        if isinstance(other, numbers.Real):
            k = to_float(other)
            # A constant exponent is a parameter, not an input: no log(x) term,
            # which would be nan for x < 0 and cost a log per node.
            return _node(POW_CONST.forward(self.data, k), POW_CONST, self, None, (k,))
        return NotImplemented

    def __rpow__(self, other: Any) -> Value:
        o = _lift(other)
        if o is None:
            return NotImplemented
        return _node(POW.forward(o.data, self.data), POW, o, self)

    def __neg__(self) -> Value:
        return _node(NEG.forward(self.data), NEG, self)

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return _node(ABS.forward(self.data), ABS, self)

    # -- functions --------------------------------------------------------------

    def exp(self) -> Value:
        """e ** self (inf on overflow)."""
        return _node(EXP.forward(self.data), EXP, self)

    def log(self) -> Value:
        """Natural logarithm: -inf at 0, nan below 0."""
        return _node(LOG.forward(self.data), LOG, self)

    def sqrt(self) -> Value:
        """Square root: nan below 0."""
        return _node(SQRT.forward(self.data), SQRT, self)

    def tanh(self) -> Value:
        """Hyperbolic tangent."""
        return _node(TANH.forward(self.data), TANH, self)

    def sigmoid(self) -> Value:
        """1 / (1 + e ** -self), finite and exact for any input."""
        return _node(SIGMOID.forward(self.data), SIGMOID, self)

    def relu(self) -> Value:
        """max(self, 0); gradient 0 at 0."""
        return _node(RELU.forward(self.data), RELU, self)

    def leaky_relu(self, slope: Value | float = 0.01) -> Value:
        """self if self > 0 else slope * self.

        A ``Value`` slope makes this a parametric ReLU whose slope gets a gradient.
        """
        if type(slope) is Value:
            return _node(PRELU.forward(self.data, slope.data), PRELU, self, slope)
        s = to_float(slope, "leaky_relu slope")
        return _node(LEAKY_RELU.forward(self.data, s), LEAKY_RELU, self, None, (s,))

    def elu(self, alpha: float = 1.0) -> Value:
        """self if self > 0 else alpha * (e ** self - 1)."""
        a = to_float(alpha, "elu alpha")
        return _node(ELU.forward(self.data, a), ELU, self, None, (a,))

    def softplus(self) -> Value:
        """log(1 + e ** self), finite and exact for any input."""
        return _node(SOFTPLUS.forward(self.data), SOFTPLUS, self)

    def sin(self) -> Value:
        """Sine."""
        return _node(SIN.forward(self.data), SIN, self)

    def cos(self) -> Value:
        """Cosine."""
        return _node(COS.forward(self.data), COS, self)

    # -- backward -----------------------------------------------------------------

    def backward(self, grad: float = 1.0) -> None:
        """Add d(self)/d(node) * grad to the ``.grad`` of every node of the graph.

        Walks the graph in reverse topological order without recursion, so
        graphs of any depth work.  Calling it k times gives every node k times
        the single-call gradient.
        """
        engine.backward(self, grad)


def _cmp(other: Any) -> float:
    if type(other) is Value:
        return other.data
    return to_float(other, "comparison operand")


def maximum(a: Any, b: Any) -> Value:
    """The larger of ``a`` and ``b`` (Values or numbers); a tie splits the gradient evenly."""
    a, b = as_value(a), as_value(b)
    return _node(MAXIMUM.forward(a.data, b.data), MAXIMUM, a, b)


def minimum(a: Any, b: Any) -> Value:
    """The smaller of ``a`` and ``b`` (Values or numbers); a tie splits the gradient evenly."""
    a, b = as_value(a), as_value(b)
    return _node(MINIMUM.forward(a.data, b.data), MINIMUM, a, b)


def applier(spec: OpSpec) -> Callable[..., Value]:
    """A function ``apply(*inputs, *params) -> Value`` for a registry entry."""
    n, k = spec.arity, len(spec.params)

    def apply(*args: Any) -> Value:
        if len(args) != n + k:
            names = ", ".join([f"x{i}" for i in range(n)] + list(spec.params))
            raise TypeError(f"op {spec.name!r} takes {n + k} arguments ({names}), got {len(args)}")
        ins = tuple(as_value(a) for a in args[:n])
        ctx = tuple(to_float(c, f"parameter {p!r} of op {spec.name!r}") for p, c in zip(spec.params, args[n:]))
        out = spec.forward(*(v.data for v in ins), *ctx)
        if type(out) is not float:
            out = to_float(out, f"result of forward of op {spec.name!r}")
        if n == 1:
            return _node(out, spec, ins[0], None, ctx or None)
        if n == 2:
            return _node(out, spec, ins[0], ins[1], ctx or None)
        return _node(out, spec, ins, MANY_INPUTS, ctx or None)

    apply.__name__ = spec.name
    apply.__qualname__ = spec.name
    apply.__doc__ = f"Apply the registered op {spec.name!r}: {spec.formula or spec.label}."
    return apply


def register(
    name: str,
    forward: Callable[..., float],
    rule: Callable[..., tuple[Any, ...]],
    *,
    arity: int,
    label: str | None = None,
    domain: Any = None,
    formula: str = "",
    params: tuple[str, ...] = (),
    param_domain: Any = None,
    replace: bool = False,
    vforward: Callable[..., Any] | None = None,
    vrule: Callable[..., tuple[Any, ...]] | None = None,
    valid_domain: Any = None,
    kinks: Any = None,
) -> Callable[..., Value]:
    """Add a primitive op to the registry and return a callable that applies it.

    Also importable as ``autograd_core.register`` and ``autograd_core.ops.register``.

    Args:
        name: registry key; a valid Python identifier.
        forward: ``forward(*input_floats, *params) -> float``.
        rule: ``rule(g, out, *inputs, *params) -> tuple`` with one gradient per
            input (``None`` for no gradient).  Write it with arithmetic and the
            helpers of :mod:`autograd_core.ops` (``exp``, ``log``, ``div``,
            ``select``...) to get higher-order derivatives for free.
        arity: number of differentiable inputs (at least 1).
        label: graph label; ``str.format`` gets the constant parameters.
        domain: per input, a sequence of open intervals ``(lo, hi)`` on which
            the op is smooth (default: ``(-5, 5)`` for each input).
        formula: the derivative in words.
        params: names of constant parameters passed after the inputs.
        param_domain: per parameter, intervals to draw test values from.
        replace: allow replacing an existing entry of the same name.
        vforward: optional ``forward`` on 1-D float64 numpy arrays (inputs may
            mix arrays and floats), for the batched compiled replay.
        vrule: optional ``rule`` on numpy arrays, same signature as ``rule``
            (masks with ``np.where`` or ``ops.select``).  Without these two a
            compiled batch loops over its samples with ``forward`` and ``rule``.
        valid_domain: optional list of ``(text, predicate)`` pairs (or
            :class:`~autograd_core.primitives.Condition` s) that all hold where
            the forward is defined and real, e.g. ``[("x > 0", lambda x: x > 0)]``;
            the predicate takes the input floats and params.  Default: none
            (defined everywhere).
        kinks: optional list of ``(text, predicate)`` pairs, one of which
            holds where the op has no derivative, e.g. ``[("x = 0", lambda x: x == 0)]``.
            Default: none.  Both feed :func:`autograd_core.notices.notices`
            (the command line's notes and gradcheck's failure report).

    Returns:
        ``apply(*inputs, *params) -> Value``.

    Raises:
        TypeError, ValueError: naming the argument that is wrong.
    """
    spec = add_entry(
        name,
        forward,
        rule,
        arity=arity,
        label=label,
        domain=domain,
        formula=formula,
        params=params,
        param_domain=param_domain,
        replace=replace,
        vforward=vforward,
        vrule=vrule,
        valid_domain=valid_domain,
        kinks=kinks,
    )
    return applier(spec)
