"""micrograd's ``Value`` (``micrograd.engine.Value``) on autograd-core's engine.

A compat :class:`Value` wraps one :class:`autograd_core.Value`, its ``node``,
and keeps the compat Values it was computed from (``_prev``, a set, as in
micrograd).  Every operator computes the result on the nodes with this
engine's registered ops (``add``, ``mul``, ``pow_const``, ``relu``) and wraps
it, so results of compat Values are compat Values, and ``backward()`` is this
engine's iterative pass over the nodes.  ``data`` and ``grad`` read and write
the node's.  Only public attributes of the node are used (``data``, ``grad``,
``op``, ``ctx``, the operators, ``relu()`` and ``backward()``).

The composite operations decompose exactly as micrograd's do (``-a`` is
``a * -1``, ``a - b`` is ``a + (-b)``, ``a / b`` is ``a * b**-1``), so a graph
has micrograd's nodes and ``_op`` strings (``'+'``, ``'*'``, ``'**2'``,
``'ReLU'``) and micrograd's drawing code draws the same picture.

Why a wrapper and not a subclass: the engine's hot paths test
``type(x) is Value`` (one pointer comparison per operand), which a subclass
fails, so a subclass's operations would not be recorded.  Wrapping costs one
small object per node and leaves the engine untouched.

Differences from micrograd: ``data`` and ``grad`` are floats (micrograd keeps
an int as given: ``Value(2)`` prints ``data=2`` there, ``data=2.0`` here), and a
node cannot be built by hand with ``_children`` and a ``_backward`` closure
(register an op with :func:`autograd_core.register` instead).
"""

from __future__ import annotations

import numbers
from typing import Any

from autograd_core import Value as CoreValue

__all__ = ["Value"]

# micrograd's _op strings for this engine's op names.
_MICROGRAD_OPS = {"add": "+", "mul": "*", "relu": "ReLU"}


class Value:
    """A scalar with micrograd's API: ``data``, ``grad``, ``backward()``, ``relu()`` and arithmetic.

    Args:
        data: a real number (int, float or numpy scalar).
        _children, _op: micrograd's constructor arguments; only their defaults
            are accepted (results of operators are built by the operators).

    Raises:
        TypeError: if ``data`` is not a real number.
        NotImplementedError: if ``_children`` or ``_op`` is given.
    """

    # Slots for speed; __dict__ kept so that code may hang its own attributes
    # on a Value (``v.label = "a"``), as it can on micrograd's.
    __slots__ = ("node", "_children", "_exponent", "__dict__", "__weakref__")
    # numpy defers to our reflected operators, so np.int64(-1) * v is a Value.
    __array_ufunc__ = None

    node: CoreValue
    _children: tuple[Value, ...]
    _exponent: float | None

    def __init__(self, data: Any, _children: tuple[Value, ...] = (), _op: str = "") -> None:
        if _children or _op:
            raise NotImplementedError(
                "autograd_core.compat.micrograd.Value is built from data alone (Value(3.0)); results of "
                "operations come from the operators, and a new op with its own _backward is not supported: "
                "register it with autograd_core.register and use autograd_core.Value"
            )
        self.node = CoreValue(data)
        self._children = ()
        self._exponent = None

    @classmethod
    def _result(cls, node: CoreValue, children: tuple[Value, ...], exponent: float | None = None) -> Value:
        # The children are the compat Values whose nodes are node.parents, in that order.
        out = cls.__new__(cls)
        out.node = node
        out._children = children
        out._exponent = exponent
        return out

    # -- micrograd's attributes ---------------------------------------------------

    @property
    def data(self) -> float:
        """The value (the node's ``data``)."""
        return self.node.data

    @data.setter
    def data(self, x: Any) -> None:
        self.node.data = _real(x, "Value.data")

    @property
    def grad(self) -> float:
        """d(output)/d(self) after ``output.backward()`` (the node's ``grad``)."""
        return self.node.grad

    @grad.setter
    def grad(self, g: Any) -> None:
        self.node.grad = _real(g, "Value.grad")

    @property
    def _prev(self) -> set[Value]:
        """The Values this one was computed from, as a set (micrograd's ``_prev``)."""
        return set(self._children)

    @property
    def _op(self) -> str:
        """micrograd's name of this Value's op: ``'+'``, ``'*'``, ``'**k'``, ``'ReLU'``; ``''`` for a leaf."""
        op = self.node.op
        if op == "pow_const":
            # micrograd writes the exponent as given: b**3 is '**3', b**-1 is '**-1', b**0.5 is '**0.5'.
            k = self._exponent if self._exponent is not None else self.node.ctx[0]
            return f"**{k}"
        return _MICROGRAD_OPS.get(op, op)

    # -- the primitives: one node of this engine each ---------------------------------

    def __add__(self, other: Any) -> Value:
        o = _as_value(other)
        return Value._result(self.node + o.node, (self, o))

    def __mul__(self, other: Any) -> Value:
        o = _as_value(other)
        return Value._result(self.node * o.node, (self, o))

    def __pow__(self, other: Any) -> Value:
        if isinstance(other, Value) or not isinstance(other, numbers.Real):
            raise TypeError(
                f"a Value can only be raised to an int or float power (as in micrograd), got {type(other).__name__}"
            )
        return Value._result(self.node**other, (self,), other)  # type: ignore[arg-type]

    def relu(self) -> Value:
        """max(self, 0), with gradient 0 at 0."""
        return Value._result(self.node.relu(), (self,))

    def backward(self) -> None:
        """Add d(self)/d(v) to ``v.grad`` for every Value ``v`` that ``self`` depends on.

        Runs autograd-core's iterative backward pass, so graphs of any depth work.
        """
        self.node.backward()

    # -- composites, decomposed as micrograd does -------------------------------------

    def __neg__(self) -> Value:
        return self * -1

    def __radd__(self, other: Any) -> Value:
        return self + other

    def __sub__(self, other: Any) -> Value:
        return self + (-other)

    def __rsub__(self, other: Any) -> Value:
        return other + (-self)

    def __rmul__(self, other: Any) -> Value:
        return self * other

    def __truediv__(self, other: Any) -> Value:
        return self * other**-1

    def __rtruediv__(self, other: Any) -> Value:
        return other * self**-1

    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"


def _as_value(x: Any) -> Value:
    """``x`` if it is a compat Value, else a new leaf holding it (so it shows in ``_prev``, as in micrograd)."""
    if isinstance(x, Value):
        return x
    if isinstance(x, CoreValue):
        raise TypeError(
            "cannot combine an autograd_core.Value with an autograd_core.compat.micrograd Value; "
            "use one kind in a graph (a compat Value's .node is its autograd_core.Value)"
        )
    return Value(x)


def _real(x: Any, what: str) -> float:
    if isinstance(x, numbers.Real) and not isinstance(x, (Value, CoreValue)):
        return float(x)
    raise TypeError(f"{what} must be a real number, got {type(x).__name__}: {x!r:.80}")
