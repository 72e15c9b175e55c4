"""``Value``: one scalar node of a computation graph, with its operator overloads.

A ``Value`` holds a float (``data``), the gradient accumulated by
``backward()`` (``grad``), the op that produced it (``op``, ``""`` for a
leaf), its inputs in operand order (``parents``) and a ``label``.  Each
operation looks up its entry in :mod:`autograd_core.ops`, computes the float
result with the entry's forward function and returns a new node that points
at the entry: the derivative rule is shared by every node of that op, so a
node holds no closure and forms no reference cycle.  A graph nobody refers
to any more is freed at once by reference counting.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

from . import ops
from ._state import ANOMALY, NO_GRAD, AnomalyError, mode_code, special
from .ops import OpSpec

__all__ = ["Value", "applier", "as_value", "maximum", "minimum"]

_new = object.__new__
_ADD, _SUB, _MUL, _DIV, _NEG = ops.ADD, ops.SUB, ops.MUL, ops.DIV, ops.NEG
_POW, _POW_CONST = ops.POW, ops.POW_CONST


def _to_float(x: Any, what: str = "Value data") -> float:
    """``x`` as a float if it is a real number; TypeError naming its type otherwise."""
    if isinstance(x, numbers.Real) and not isinstance(x, Value):
        try:
            return float(x)
        except OverflowError:
            # An int beyond float range is an IEEE overflow: +-inf, as the arithmetic gives.
            return math.inf if x > 0 else -math.inf  # type: ignore[operator]
    raise TypeError(f"{what} must be a real number (int, float or numpy scalar), got {type(x).__name__}: {x!r:.80}")


def _node(data: float, spec: OpSpec, a: Any, b: Any = None, ctx: tuple[float, ...] | None = None) -> Value:
    """A new node; the hot path of every op.

    The inputs go into two slots rather than a tuple: one allocation that the
    cyclic garbage collector tracks per node instead of two, which halves the
    collector's share of a training step (``parents`` builds the tuple).
    """
    v = _new(Value)
    v.data = data
    v.grad = 0.0
    v.label = ""
    v._g = None
    if not special[0]:
        v._spec = spec
        v._a = a
        v._b = b
        v._ctx = ctx
        return v
    return _node_slow(v, spec, a, b, ctx)


def _node_slow(v: Value, spec: OpSpec, a: Any, b: Any, ctx: tuple[float, ...] | None) -> Value:
    """Finish a node when some thread is in ``no_grad`` or ``detect_anomaly`` (one per-thread read)."""
    code = mode_code()
    if code == 0:  # this thread records as usual; another thread is in a special mode
        v._spec, v._a, v._b, v._ctx = spec, a, b, ctx
        return v
    if code == 1:  # no_grad: a leaf
        v._spec = v._a = v._b = v._ctx = None
        return v
    if code & ANOMALY and not math.isfinite(v.data):
        parents = _parents(a, b)
        ins = ", ".join(f"{p.label or '?'}={p.data!r}" for p in parents)
        extra = f" with {', '.join(f'{n}={c!r}' for n, c in zip(spec.params, ctx or ()))}" if spec.params else ""
        raise AnomalyError(f"forward of op {spec.name!r}{extra} gave {v.data!r} from inputs ({ins})")
    if not code & NO_GRAD:
        v._spec, v._a, v._b, v._ctx = spec, a, b, ctx
    else:
        v._spec, v._a, v._b, v._ctx = None, None, None, None
    return v


#: ``_b`` of a node with more than two inputs; ``_a`` then holds their tuple.
NARY = object()


def _parents(a: Any, b: Any) -> tuple[Value, ...]:
    if a is None:
        return ()
    if b is None:
        return (a,)
    if b is NARY:
        return a
    return (a, b)


def _leaf(data: float) -> Value:
    v = _new(Value)
    v.data = data
    v.grad = 0.0
    v.label = ""
    v._g = None
    v._spec = None
    v._a = None
    v._b = None
    v._ctx = None
    return v


def _lift(x: Any) -> Value | None:
    """A constant leaf for a real number, or None for anything else (-> NotImplemented)."""
    t = type(x)
    if t is float:
        return _leaf(x)
    if t is int or isinstance(x, numbers.Real):
        return _leaf(_to_float(x))
    return None


def as_value(x: Any) -> Value:
    """``x`` itself if it is a Value, else a constant leaf holding it.

    Raises:
        TypeError: if ``x`` is not a real number.
    """
    if type(x) is Value:
        return x
    return _leaf(_to_float(x, "operand"))


class Value:
    """A scalar in a computation graph.

    Args:
        data: any real number (int, float, numpy scalar); stored as float.
        label: a name shown in graphs and error messages.

    Raises:
        TypeError: if ``data`` is not a real number or ``label`` not a str.
    """

    __slots__ = ("data", "grad", "label", "_spec", "_a", "_b", "_ctx", "_g", "__weakref__")
    # numpy defers to our reflected operators, so np.float64(2) * x is a Value.
    __array_ufunc__ = None

    data: float
    grad: float
    label: str
    _spec: OpSpec | None
    _a: Any
    _b: Any
    _ctx: tuple[float, ...] | None
    _g: Any

    def __init__(self, data: Any, label: str = "") -> None:
        if not isinstance(label, str):
            raise TypeError(f"Value label must be a str, got {type(label).__name__}")
        self.data = data if type(data) is float else _to_float(data)
        self.grad = 0.0
        self.label = label
        self._spec = None
        self._a = None
        self._b = None
        self._ctx = None
        self._g = None

    # -- introspection --------------------------------------------------------

    @property
    def op(self) -> str:
        """Name of the op that produced this node; ``""`` for a leaf."""
        return self._spec.name if self._spec is not None else ""

    @property
    def parents(self) -> tuple[Value, ...]:
        """The op's inputs in operand order; ``()`` for a leaf."""
        return _parents(self._a, self._b)

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

    # -- arithmetic -----------------------------------------------------------

    def __add__(self, other: Any) -> Value:
        if type(other) is not Value:
            other = _lift(other)
            if other is None:
                return NotImplemented
        # _node inlined: + and * are most of the nodes of a network.
        v = _new(Value)
        v.data = self.data + other.data
        v.grad = 0.0
        v.label = ""
        v._g = None
        if special[0]:
            return _node_slow(v, _ADD, self, other, None)
        v._spec = _ADD
        v._a = self
        v._b = other
        v._ctx = None
        return v

    def __radd__(self, other: Any) -> Value:
        o = _lift(other)
        if o is None:
            return NotImplemented
        return _node(o.data + self.data, _ADD, o, self)

    def __sub__(self, other: Any) -> Value:
        if type(other) is not Value:
            other = _lift(other)
            if other is None:
                return NotImplemented
        return _node(self.data - other.data, _SUB, self, other)

    def __rsub__(self, other: Any) -> Value:
        o = _lift(other)
        if o is None:
            return NotImplemented
        return _node(o.data - self.data, _SUB, o, self)

    def __mul__(self, other: Any) -> Value:
        if type(other) is not Value:
            other = _lift(other)
            if other is None:
                return NotImplemented
        # _node inlined: + and * are most of the nodes of a network.
        v = _new(Value)
        v.data = self.data * other.data
        v.grad = 0.0
        v.label = ""
        v._g = None
        if special[0]:
            return _node_slow(v, _MUL, self, other, None)
        v._spec = _MUL
        v._a = self
        v._b = other
        v._ctx = None
        return v

    def __rmul__(self, other: Any) -> Value:
        o = _lift(other)
        if o is None:
            return NotImplemented
        return _node(o.data * self.data, _MUL, o, self)

    def __truediv__(self, other: Any) -> Value:
        if type(other) is not Value:
            other = _lift(other)
            if other is None:
                return NotImplemented
        return _node(ops.f_div(self.data, other.data), _DIV, self, other)

    def __rtruediv__(self, other: Any) -> Value:
        o = _lift(other)
        if o is None:
            return NotImplemented
        return _node(ops.f_div(o.data, self.data), _DIV, o, self)

    def __pow__(self, other: Any) -> Value:
        if type(other) is Value:
            return _node(ops.f_pow(self.data, other.data), _POW, self, other)
        if isinstance(other, numbers.Real):
            k = _to_float(other)
            # A constant exponent is a parameter, not an input: no log(x) term,
            # which would be nan for x < 0 and cost a log per node.
            return _node(ops.f_pow(self.data, k), _POW_CONST, self, None, (k,))
        return NotImplemented

    def __rpow__(self, other: Any) -> Value:
        o = _lift(other)
        if o is None:
            return NotImplemented
        return _node(ops.f_pow(o.data, self.data), _POW, o, self)

    def __neg__(self) -> Value:
        return _node(-self.data, _NEG, self)

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return _node(abs(self.data), ops.ABS, self)

    # -- functions --------------------------------------------------------------

    def exp(self) -> Value:
        """e ** self (inf on overflow)."""
        return _node(ops.f_exp(self.data), ops.EXP, self)

    def log(self) -> Value:
        """Natural logarithm: -inf at 0, nan below 0."""
        return _node(ops.f_log(self.data), ops.LOG, self)

    def sqrt(self) -> Value:
        """Square root: nan below 0."""
        return _node(ops.f_sqrt(self.data), ops.SQRT, self)

    def tanh(self) -> Value:
        """Hyperbolic tangent."""
        return _node(math.tanh(self.data), ops.TANH, self)

    def sigmoid(self) -> Value:
        """1 / (1 + e ** -self), finite and exact for any input."""
        return _node(ops.f_sigmoid(self.data), ops.SIGMOID, self)

    def relu(self) -> Value:
        """max(self, 0); gradient 0 at 0."""
        x = self.data
        return _node(0.0 if x <= 0 else x, ops.RELU, self)

    def leaky_relu(self, slope: Value | float = 0.01) -> Value:
        """self if self > 0 else slope * self.

        A ``Value`` slope makes this a parametric ReLU whose slope gets a gradient.
        """
        x = self.data
        if type(slope) is Value:
            a = slope.data
            return _node(x if x > 0 else x * a, ops.PRELU, self, slope)
        s = _to_float(slope, "leaky_relu slope")
        return _node(x if x > 0 else x * s, ops.LEAKY_RELU, self, None, (s,))

    def elu(self, alpha: float = 1.0) -> Value:
        """self if self > 0 else alpha * (e ** self - 1)."""
        a = _to_float(alpha, "elu alpha")
        x = self.data
        return _node(x if x > 0 else a * math.expm1(x), ops.ELU, self, None, (a,))

    def softplus(self) -> Value:
        """log(1 + e ** self), finite and exact for any input."""
        return _node(ops.f_softplus(self.data), ops.SOFTPLUS, self)

    def sin(self) -> Value:
        """Sine."""
        return _node(ops.f_sin(self.data), ops.SIN, self)

    def cos(self) -> Value:
        """Cosine."""
        return _node(ops.f_cos(self.data), ops.COS, self)

    # -- backward -----------------------------------------------------------------

    def backward(self, grad: float = 1.0) -> None:
        """Add d(self)/d(node) * grad to the ``.grad`` of every node of the graph.

        Walks the graph in reverse topological order without recursion, so
        graphs of any depth work.  Calling it k times gives every node k times
        the single-call gradient.
        """
        from .engine import backward  # deferred: engine imports this module

        backward(self, grad)


def _cmp(other: Any) -> float:
    if type(other) is Value:
        return other.data
    return _to_float(other, "comparison operand")


def maximum(a: Any, b: Any) -> Value:
    """The larger of ``a`` and ``b`` (Values or numbers); a tie splits the gradient evenly."""
    a, b = as_value(a), as_value(b)
    return _node(ops.f_maximum(a.data, b.data), ops.MAXIMUM, a, b)


def minimum(a: Any, b: Any) -> Value:
    """The smaller of ``a`` and ``b`` (Values or numbers); a tie splits the gradient evenly."""
    a, b = as_value(a), as_value(b)
    return _node(ops.f_minimum(a.data, b.data), ops.MINIMUM, a, b)


def applier(spec: OpSpec) -> Callable[..., Value]:
    """A function ``apply(*inputs, *params) -> Value`` for a registry entry."""
    n, k = spec.arity, len(spec.params)

    def apply(*args: Any) -> Value:
        if len(args) != n + k:
            names = ", ".join([f"x{i}" for i in range(n)] + list(spec.params))
            raise TypeError(f"op {spec.name!r} takes {n + k} arguments ({names}), got {len(args)}")
        ins = tuple(as_value(a) for a in args[:n])
        ctx = tuple(_to_float(c, f"parameter {p!r} of op {spec.name!r}") for p, c in zip(spec.params, args[n:]))
        out = spec.forward(*(v.data for v in ins), *ctx)
        if type(out) is not float:
            out = _to_float(out, f"result of forward of op {spec.name!r}")
        if n == 1:
            return _node(out, spec, ins[0], None, ctx or None)
        if n == 2:
            return _node(out, spec, ins[0], ins[1], ctx or None)
        return _node(out, spec, ins, NARY, ctx or None)

    apply.__name__ = spec.name
    apply.__qualname__ = spec.name
    apply.__doc__ = f"Apply the registered op {spec.name!r}: {spec.formula or spec.label}."
    return apply
