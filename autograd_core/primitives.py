"""The op table: one block per primitive, with everything the library knows about it.

Each :class:`OpSpec` entry keeps together:

* ``forward``: plain float math, IEEE semantics (never raises
  ``ZeroDivisionError``, ``OverflowError`` or a math domain error);
* ``rule``: the local derivative, ``rule(g, out, *inputs, *params)`` returning
  one gradient per input (``g`` the upstream gradient, ``out`` the op's
  result).  Rules are written with arithmetic and the helpers of this module
  (``exp``, ``div``, ``select``...), so one rule runs on plain floats (the fast
  first-order backward), on ``Value`` nodes (``create_graph=True``: gradients
  of gradients) and, for the built-in ops, on numpy arrays (the batched replay
  of :mod:`autograd_core.tape`);
* ``label``: what the graph renderer writes in the op node (``str.format``
  receives the op's constant parameters);
* ``domain``: for each input, open intervals on which the op is smooth; the
  hypothesis strategies and the gradient checker draw points from them;
* ``formula``: the derivative in words, for docs and error messages;
* ``valid_domain`` and ``kinks``: where the forward is defined and real (log:
  ``x > 0``) and where the op has no derivative (relu: ``x = 0``), as
  :class:`Condition` s (a text and a predicate on the input floats and
  params).  :mod:`autograd_core.notices` reads them to say, in words, why a
  result is nan or a gradient check cannot agree;
* ``vforward`` and ``vrule``: the forward and rule on 1-D float64 arrays (one
  entry per sample), for the batched replay.  A built-in entry passes its
  ``rule`` as ``vrule`` wherever that rule already works on arrays; a
  separate vectorized rule is written only where the math must differ (pow,
  elu).  An op without them (a user's) still compiles: the replay loops over
  the samples with ``forward`` and ``rule``.

The blocks below are read like a table: each op's forward, vectorized
forward, rule and entry sit together.  This module is the bottom of the
package: it imports nothing from it.  :mod:`autograd_core.ops` is its public
face (adding :func:`~autograd_core.value.register`, which needs ``Value``).

Why this module is longer than 600 lines: it is one table of nineteen ops,
and splitting it would put an op's forward or rule away from its entry.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "OpSpec",
    "Condition",
    "Interval",
    "REAL",
    "add_entry",
    "get",
    "names",
    "specs",
    "is_builtin",
    "to_float",
    "rule_arity_error",
    "data",
    "select",
    "div",
    "pow_",
    "exp",
    "log",
    "sqrt",
    "sigmoid",
    "sin",
    "cos",
]

Interval = tuple[float, float]
#: Default domain of an input: every moderate real number.
REAL: tuple[Interval, ...] = ((-5.0, 5.0),)


@dataclass(frozen=True)
class Condition:
    """A named predicate on an op's inputs: ``test(*input_floats, *params) -> bool`` and its ``text``.

    Used for an op's valid domain (every condition must hold: log's ``x > 0``)
    and its kinks (a condition that holds marks a point without a
    derivative: relu's ``x = 0``).  ``text`` names the inputs ``x``, ``y`` as
    the formulas do.
    """

    text: str
    test: Callable[..., bool]


@dataclass(frozen=True)
class OpSpec:
    """One primitive: its forward, derivative rule, label and input domain."""

    name: str
    arity: int
    forward: Callable[..., float]
    rule: Callable[..., tuple[Any, ...]]
    label: str
    domain: tuple[tuple[Interval, ...], ...]
    formula: str = ""
    #: Names of constant (non-differentiable) parameters, stored on the node.
    params: tuple[str, ...] = ()
    #: For each parameter, intervals from which test values are drawn.
    param_domain: tuple[tuple[Interval, ...], ...] = ()
    #: ``forward`` on numpy arrays (batched replay); None: loop over samples.
    vforward: Callable[..., Any] | None = None
    #: ``rule`` on numpy arrays, same signature; None: loop over samples.
    vrule: Callable[..., tuple[Any, ...]] | None = None
    #: Where the forward is defined and real: every condition holds (empty: everywhere).
    valid_domain: tuple[Condition, ...] = ()
    #: Where the op has no derivative (a kink): a condition holds there (empty: nowhere).
    kinks: tuple[Condition, ...] = ()

    def format_label(self, ctx: tuple[float, ...] | None) -> str:
        """The graph label of a node of this op with constant parameters ``ctx``."""
        if not ctx:
            return self.label
        return self.label.format(*(_short(c) for c in ctx))


def _short(c: float) -> str:
    """A constant as short as it reads: 2 rather than 2.0."""
    return str(int(c)) if float(c).is_integer() and abs(c) < 1e15 else repr(float(c))


# --------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------

_REGISTRY: dict[str, OpSpec] = {}


def get(name: str) -> OpSpec:
    """The registry entry called ``name``.

    Raises:
        KeyError: naming the unknown op and the known ones.
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown op {name!r}; registered ops: {', '.join(sorted(_REGISTRY))}") from None


def names() -> list[str]:
    """Names of every registered op, in registration order."""
    return list(_REGISTRY)


def specs() -> Iterator[OpSpec]:
    """Every registered op, in registration order."""
    return iter(list(_REGISTRY.values()))


def is_builtin(spec: OpSpec) -> bool:
    """Whether ``spec`` is one of the entries defined in this module (whose vectorized forms are trusted)."""
    return _BUILTIN.get(spec.name) is spec


def _validate_domain(name: str, domain: Any, count: int, what: str) -> tuple[tuple[Interval, ...], ...]:
    example = "[[(-5.0, 5.0)], [(0.1, 5.0)]] for two inputs: one list of (lo, hi) intervals per input"
    try:
        domain = tuple(tuple((float(lo), float(hi)) for lo, hi in d) for d in domain)
    except (TypeError, ValueError):
        raise ValueError(f"op {name!r}: {what} must look like {example}; got {domain!r:.80}") from None
    if len(domain) != count:
        raise ValueError(f"op {name!r}: {what} needs {count} entries (one per {what.split()[0]}), got {len(domain)}")
    for d in domain:
        if not d:
            raise ValueError(f"op {name!r}: every {what} entry needs at least one interval (lo, hi)")
        for lo, hi in d:
            if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
                raise ValueError(f"op {name!r}: interval ({lo}, {hi}) in {what} must be finite with lo < hi")
    return domain


def _conditions(name: str, given: Any, what: str) -> tuple[Condition, ...]:
    """``given`` (None, or a sequence of Conditions or ``(text, predicate)`` pairs) as a tuple of Conditions."""
    if given is None:
        return ()
    example = '[("x > 0", lambda x: x > 0)]'
    if isinstance(given, (str, Condition)) or not isinstance(given, (list, tuple)):
        raise TypeError(f"op {name!r}: {what} must be a list of (text, predicate) pairs such as {example}")
    out = []
    for item in given:
        if not isinstance(item, Condition):
            if not (isinstance(item, tuple) and len(item) == 2):
                raise TypeError(f"op {name!r}: each {what} entry must be a (text, predicate) pair such as {example}")
            item = Condition(*item)
        if not isinstance(item.text, str) or not item.text.strip():
            raise TypeError(f"op {name!r}: a {what} entry needs a non-empty text, got {item.text!r:.40}")
        if not callable(item.test):
            raise TypeError(f"op {name!r}: the predicate of {what} entry {item.text!r} must be callable")
        out.append(item)
    return tuple(out)


def add_entry(
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
) -> OpSpec:
    """Check a user's op and add its entry to the table; the arguments are those of ``register``.

    :func:`autograd_core.register` calls this and wraps the entry in a
    function that builds ``Value`` nodes.

    Returns:
        The new :class:`OpSpec`.

    Raises:
        TypeError, ValueError: naming the argument that is wrong.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"op name must be a Python identifier, got {name!r}")
    if name in _BUILTIN:
        # Value's operators and methods are bound to the built-in entries; a
        # replaced entry would be checked and drawn but never used by them.
        raise ValueError(f"op {name!r} is built in and cannot be replaced; register your op under another name")
    if name in _REGISTRY and not replace:
        raise ValueError(f"op {name!r} is already registered; pass replace=True to override it")
    if not callable(forward) or not callable(rule):
        raise TypeError(f"op {name!r}: forward and rule must be callables")
    for what, fn in (("vforward", vforward), ("vrule", vrule)):
        if fn is not None and not callable(fn):
            raise TypeError(f"op {name!r}: {what} must be a callable or None, got {type(fn).__name__}")
    if not isinstance(arity, int) or arity < 1:
        raise ValueError(f"op {name!r}: arity must be a positive int, got {arity!r}")
    params = tuple(params)
    dom = _validate_domain(name, domain if domain is not None else (REAL,) * arity, arity, "input domain")
    pdom = _validate_domain(
        name, param_domain if param_domain is not None else (((0.5, 2.0),),) * len(params), len(params), "param_domain"
    )
    if label is not None and not isinstance(label, str):
        raise TypeError(f"op {name!r}: label must be a str, got {type(label).__name__}")
    spec = OpSpec(
        name=name,
        arity=arity,
        forward=forward,
        rule=rule,
        label=label if label is not None else name,
        domain=dom,
        formula=formula,
        params=params,
        param_domain=pdom,
        vforward=vforward,
        vrule=vrule,
        valid_domain=_conditions(name, valid_domain, "valid_domain"),
        kinks=_conditions(name, kinks, "kinks"),
    )
    try:
        spec.format_label(tuple(1.0 for _ in params))
    except (IndexError, KeyError, ValueError) as e:
        raise ValueError(
            f"op {name!r}: label {spec.label!r} cannot be formatted with its {len(params)} parameter(s) ({e}); "
            "use {0}, {1}... for the parameters, or no braces"
        ) from None
    _REGISTRY[name] = spec
    return spec


def to_float(x: Any, what: str = "Value data") -> float:
    """``x`` as a float if it is a real number; TypeError naming ``what`` and its type otherwise."""
    if isinstance(x, numbers.Real):
        try:
            return float(x)
        except OverflowError:
            # An int beyond float range is an IEEE overflow: +-inf, as the arithmetic gives.
            return math.inf if x > 0 else -math.inf  # type: ignore[operator]
    raise TypeError(f"{what} must be a real number (int, float or numpy scalar), got {type(x).__name__}: {x!r:.80}")


def rule_arity_error(spec: OpSpec, r: Any, n: int) -> ValueError:
    """The error for a rule that returned ``r`` instead of a tuple of ``n`` gradients (eager or replayed)."""
    got = f"{len(r)} gradients" if type(r) is tuple else f"a {type(r).__name__} ({r!r:.40})"
    return ValueError(
        f"derivative rule of op {spec.name!r} returned {got} for {n} inputs; "
        "it must return a tuple with one gradient per input (None for none), e.g. (g * y, g * x)"
    )


# --------------------------------------------------------------------------
# Helpers for derivative rules.  In a first-order backward pass every operand
# is a float; with create_graph=True they are Values and the helpers record
# graph nodes, so the rule itself is differentiable; in the batched replay
# they are numpy arrays (run under np.errstate(all="ignore"), which gives the
# IEEE results of the float functions).
# --------------------------------------------------------------------------


def _is_node(x: Any) -> bool:
    # Duck-typed: this module is below value.py and does not import it.
    return hasattr(x, "_spec") and hasattr(x, "backward")


def _is_scalar(x: Any) -> bool:
    # A numpy scalar can reach a rule when a user assigns one to .data.
    return isinstance(x, (int, float, np.number))


def data(x: Any) -> Any:
    """The float inside ``x`` (an array stays an array): masks such as relu's ``x > 0`` are constants."""
    if type(x) is float:
        return x
    return float(x.data) if _is_node(x) else x


def select(cond: Any, a: Any, b: Any) -> Any:
    """``a`` where ``cond`` holds, else ``b``: a Python choice for one bool, ``np.where`` for an array of them.

    It lets one rule serve floats, Values and arrays.  Both branches are
    computed before the choice, so use it only where both are cheap and
    finite (a masked branch that may overflow needs its own vectorized rule).
    """
    if isinstance(cond, np.ndarray):
        return np.where(cond, a, b)
    return a if cond else b


def div(x: Any, y: Any) -> Any:
    """x / y for floats (IEEE), Values or arrays."""
    if type(x) is float and type(y) is float:
        return f_div(x, y)
    if _is_scalar(x) and _is_scalar(y):
        return f_div(float(x), float(y))
    return x / y


def pow_(x: Any, y: Any) -> Any:
    """x ** y for floats (IEEE, as C's pow), Values or arrays."""
    if type(x) is float and type(y) is float:
        return f_pow(x, y)
    if _is_scalar(x) and _is_scalar(y):
        return f_pow(float(x), float(y))
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        return v_pow(x, y)
    return x**y


def _unary(x: Any, f: Callable[[float], float], vf: Callable[[Any], Any], method: str) -> Any:
    if type(x) is float:
        return f(x)
    if _is_scalar(x):
        return f(float(x))
    if isinstance(x, np.ndarray):
        return vf(x)
    return getattr(x, method)()


def exp(x: Any) -> Any:
    """exp(x) for a float, a Value or an array."""
    return _unary(x, f_exp, np.exp, "exp")


def log(x: Any) -> Any:
    """log(x) for a float, a Value or an array."""
    return _unary(x, f_log, np.log, "log")


def sqrt(x: Any) -> Any:
    """sqrt(x) for a float, a Value or an array."""
    return _unary(x, f_sqrt, np.sqrt, "sqrt")


def sigmoid(x: Any) -> Any:
    """sigmoid(x) for a float, a Value or an array."""
    return _unary(x, f_sigmoid, v_sigmoid, "sigmoid")


def sin(x: Any) -> Any:
    """sin(x) for a float, a Value or an array."""
    return _unary(x, f_sin, np.sin, "sin")


def cos(x: Any) -> Any:
    """cos(x) for a float, a Value or an array."""
    return _unary(x, f_cos, np.cos, "cos")


# --------------------------------------------------------------------------
# The built-in ops, one block each: forward (IEEE-safe float math; Python's
# float operators and ``math`` raise where IEEE 754, numpy and PyTorch return
# inf or nan), vectorized forward where it is not a numpy function, rule,
# entry.
# --------------------------------------------------------------------------

_INF = math.inf
_NAN = math.nan
_POS: tuple[Interval, ...] = ((0.1, 5.0),)
# Kinked ops are smooth on either side of the kink; keep test points away from it.
_NONZERO: tuple[Interval, ...] = ((-5.0, -0.05), (0.05, 5.0))
# The kink of relu, abs and the relu family (where the two sides' slopes differ).
_KINK_AT_0 = (Condition("x = 0", lambda x, *slope: x == 0 and (not slope or slope[0] != 1)),)


def _builtin(
    name: str, arity: int, forward: Callable[..., float], rule: Callable[..., tuple[Any, ...]], **kw: Any
) -> OpSpec:
    _REGISTRY[name] = spec = OpSpec(
        name=name,
        arity=arity,
        forward=forward,
        rule=rule,
        label=kw.pop("label", name),
        domain=kw.pop("domain", (REAL,) * arity),
        **kw,
    )
    return spec


# -- add, sub, mul, neg: Python's operators are already IEEE-safe on floats ------


def _add_rule(g: Any, out: Any, x: Any, y: Any) -> tuple[Any, Any]:
    return g, g


ADD = _builtin(
    "add", 2, operator.add, _add_rule, vforward=np.add, vrule=_add_rule, label="+", formula="d(x+y) = dx + dy"
)


def _sub_rule(g: Any, out: Any, x: Any, y: Any) -> tuple[Any, Any]:
    return g, -g


SUB = _builtin(
    "sub", 2, operator.sub, _sub_rule, vforward=np.subtract, vrule=_sub_rule, label="-", formula="d(x-y) = dx - dy"
)


def _mul_rule(g: Any, out: Any, x: Any, y: Any) -> tuple[Any, Any]:
    return g * y, g * x


MUL = _builtin(
    "mul", 2, operator.mul, _mul_rule, vforward=np.multiply, vrule=_mul_rule, label="*", formula="d(xy) = y dx + x dy"
)


def _neg_rule(g: Any, out: Any, x: Any) -> tuple[Any]:
    return (-g,)


NEG = _builtin(
    "neg", 1, operator.neg, _neg_rule, vforward=np.negative, vrule=_neg_rule, label="-", formula="d(-x) = -dx"
)

# -- div -----------------------------------------------------------------------


def f_div(x: float, y: float) -> float:
    """x / y with IEEE division by zero (inf with the right sign, or nan)."""
    try:
        return x / y
    except ZeroDivisionError:
        if x == 0 or x != x:
            return _NAN
        return math.copysign(_INF, x) * math.copysign(1.0, y)


def _div_rule(g: Any, out: Any, x: Any, y: Any) -> tuple[Any, Any]:
    gx = div(g, y)
    return gx, -gx * out


DIV = _builtin(
    "div",
    2,
    f_div,
    _div_rule,
    vforward=np.divide,
    vrule=_div_rule,
    label="/",
    domain=(REAL, _NONZERO),
    formula="d(x/y) = dx/y - x/y**2 dy",
    valid_domain=(Condition("y != 0", lambda x, y: y != 0),),
)

# -- pow (two inputs) and pow_const (a constant exponent) ------------------------


def f_pow(x: float, y: float) -> float:
    """x ** y as C's pow: nan for a negative base and fractional exponent, inf on overflow."""
    try:
        return math.pow(x, y)
    except (ValueError, OverflowError, ZeroDivisionError):
        # The exceptional cases (0 ** -1, overflow, negative base) follow C99's
        # pow exactly in numpy; they are rare enough for its slower call.
        with np.errstate(all="ignore"):
            return float(np.power(np.float64(x), np.float64(y)))


def v_pow(x: Any, y: Any) -> Any:
    """x ** y on arrays as C's pow.

    The exponent is passed as an array: numpy turns ``np.power(a, 0.5)`` with a
    scalar 0.5 into sqrt, which differs from pow at -inf and -0.0.
    """
    xa, ya = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    # A copy, not the broadcast view: a stride-0 exponent takes the sqrt path too.
    return np.power(xa, np.array(ya, ndmin=1))[()] if ya.ndim == 0 else np.power(xa, np.array(ya))


def _pow_defined(x: float, y: float) -> bool:
    # Real and finite: a negative base needs a whole exponent, 0 a non-negative one.
    return x > 0 or (x == 0 and y >= 0) or (x < 0 and math.isfinite(y) and float(y).is_integer())


def _pow_rule(g: Any, out: Any, x: Any, y: Any) -> tuple[Any, Any]:
    # d/dx x**y = y x**(y-1); d/dy x**y = x**y log x.  As in PyTorch, the
    # first is 0 where y == 0 and x is 0 or nan (x**y is 1 for every x then;
    # not 0 * 0**-1 or 0 * nan = nan) and the second is 0 where x == 0 and
    # y >= 0 (not 0 * log 0).  Only those points are masked, so the mixed
    # second derivative stays right at y == 0 elsewhere.
    a = data(x)
    gx = 0.0 if data(y) == 0 and (a == 0 or a != a) else g * y * pow_(x, y - 1.0)
    gy = 0.0 if data(x) == 0 and data(y) >= 0 else g * out * log(x)
    return gx, gy


def _v_pow_rule(g: Any, out: Any, x: Any, y: Any) -> tuple[Any, Any]:
    # Its own vectorized form: the masked branches are inf or nan exactly where
    # they are masked, and the float rule must not compute them (under
    # detect_anomaly a non-finite gradient node raises even if unused).
    gx = np.where((y == 0) & ((x == 0) | np.isnan(x)), 0.0, g * y * v_pow(x, y - 1.0))
    gy = np.where((x == 0) & (y >= 0), 0.0, g * out * np.log(x))
    return gx, gy


POW = _builtin(
    "pow",
    2,
    f_pow,
    _pow_rule,
    vforward=v_pow,
    vrule=_v_pow_rule,
    label="**",
    domain=(_POS, ((-3.0, 3.0),)),
    formula="d(x**y) = y x**(y-1) dx + x**y log(x) dy",
    valid_domain=(Condition("x > 0, or x = 0 with y >= 0, or x < 0 with y a whole number", _pow_defined),),
)


def _pow_const_rule(g: Any, out: Any, x: Any, k: float) -> tuple[Any]:
    if k == 0:
        return (0.0,)
    return (g * k * pow_(x, k - 1.0),)


POW_CONST = _builtin(
    "pow_const",
    1,
    f_pow,
    _pow_const_rule,
    vforward=v_pow,
    vrule=_pow_const_rule,
    label="**{0}",
    domain=(_POS,),
    params=("exponent",),
    param_domain=(((-3.0, 3.0),),),
    formula="d(x**k) = k x**(k-1) dx",
    valid_domain=(Condition("x > 0, or x = 0 with exponent >= 0, or x < 0 with a whole exponent", _pow_defined),),
)

# -- abs -----------------------------------------------------------------------


def _abs_rule(g: Any, out: Any, x: Any) -> tuple[Any]:
    # sign(0) = 0, as in PyTorch: the subgradient that keeps L1 penalties at rest.
    s = data(x)
    return (select(s > 0, g, select(s < 0, -g, 0.0)),)


ABS = _builtin(
    "abs",
    1,
    abs,
    _abs_rule,
    vforward=np.abs,
    vrule=_abs_rule,
    domain=(_NONZERO,),
    formula="d|x| = sign(x) dx",
    kinks=_KINK_AT_0,
)

# -- exp, log, sqrt --------------------------------------------------------------


def f_exp(x: float) -> float:
    """e ** x, inf on overflow."""
    try:
        return math.exp(x)
    except OverflowError:
        return _INF


def _exp_rule(g: Any, out: Any, x: Any) -> tuple[Any]:
    return (g * out,)


EXP = _builtin("exp", 1, f_exp, _exp_rule, vforward=np.exp, vrule=_exp_rule, formula="d exp(x) = exp(x) dx")


def f_log(x: float) -> float:
    """Natural log: -inf at 0, nan below 0."""
    if x > 0:
        return math.log(x)
    return -_INF if x == 0 else _NAN


def _log_rule(g: Any, out: Any, x: Any) -> tuple[Any]:
    return (div(g, x),)


LOG = _builtin(
    "log",
    1,
    f_log,
    _log_rule,
    vforward=np.log,
    vrule=_log_rule,
    domain=(_POS,),
    formula="d log(x) = dx / x",
    valid_domain=(Condition("x > 0; x = 0 gives -inf", lambda x: x > 0),),
)


def f_sqrt(x: float) -> float:
    """Square root, nan below 0."""
    return math.sqrt(x) if x >= 0 else _NAN


def _sqrt_rule(g: Any, out: Any, x: Any) -> tuple[Any]:
    return (div(g, 2.0 * out),)


SQRT = _builtin(
    "sqrt",
    1,
    f_sqrt,
    _sqrt_rule,
    vforward=np.sqrt,
    vrule=_sqrt_rule,
    domain=(_POS,),
    formula="d sqrt(x) = dx / (2 sqrt(x))",
    valid_domain=(Condition("x >= 0", lambda x: x >= 0),),
)

# -- tanh, sigmoid ---------------------------------------------------------------


def v_tanh(x: Any) -> Any:
    """tanh on arrays with the very function the scalar path uses.

    numpy's vectorized tanh may differ from ``math.tanh`` in the last digit,
    and the rule ``1 - tanh**2`` magnifies that near saturation.
    """
    return np.frompyfunc(math.tanh, 1, 1)(x).astype(np.float64)


def _tanh_rule(g: Any, out: Any, x: Any) -> tuple[Any]:
    return (g * (1.0 - out * out),)


TANH = _builtin(
    "tanh", 1, math.tanh, _tanh_rule, vforward=v_tanh, vrule=_tanh_rule, formula="d tanh(x) = (1 - tanh(x)**2) dx"
)


def f_sigmoid(x: float) -> float:
    """1 / (1 + e ** -x) without overflow for any x."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = f_exp(x)
    return e / (1.0 + e)


def v_sigmoid(x: Any) -> Any:
    """sigmoid on arrays, without overflow: e ** -|x| is in (0, 1]."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _sigmoid_rule(g: Any, out: Any, x: Any) -> tuple[Any]:
    return (g * out * (1.0 - out),)


SIGMOID = _builtin(
    "sigmoid",
    1,
    f_sigmoid,
    _sigmoid_rule,
    vforward=v_sigmoid,
    vrule=_sigmoid_rule,
    label="σ",
    formula="d sigmoid(x) = sigmoid(x) (1 - sigmoid(x)) dx",
)

# -- relu, leaky_relu, prelu, elu: masks are constants --------------------------


def f_relu(x: float) -> float:
    """max(x, 0), with 0 at 0 and a nan passed through."""
    return 0.0 if x <= 0 else x


def _relu_rule(g: Any, out: Any, x: Any) -> tuple[Any]:
    # relu's mask is a constant, so its second derivative is zero.  The masked
    # branch is an exact 0 (not 0 * g), so an infinite upstream gradient gives
    # 0 there, as PyTorch's masked fill does.  The mask is "x <= 0", so a nan
    # input passes the gradient through, as in PyTorch.
    return (select(data(x) <= 0, 0.0, g),)


RELU = _builtin(
    "relu",
    1,
    f_relu,
    _relu_rule,
    vforward=lambda x: np.where(x <= 0, 0.0, x),
    vrule=_relu_rule,
    domain=(_NONZERO,),
    formula="d relu(x) = [x > 0] dx",
    kinks=_KINK_AT_0,
)


def f_leaky_relu(x: float, slope: float) -> float:
    """x if x > 0 else slope * x."""
    return x if x > 0 else x * slope


def _leaky_relu_rule(g: Any, out: Any, x: Any, slope: float) -> tuple[Any]:
    return (select(data(x) > 0, g, g * slope),)


LEAKY_RELU = _builtin(
    "leaky_relu",
    1,
    f_leaky_relu,
    _leaky_relu_rule,
    vforward=lambda x, s: np.where(x > 0, x, x * s),
    vrule=_leaky_relu_rule,
    label="leaky_relu({0})",
    domain=(_NONZERO,),
    params=("slope",),
    param_domain=(((0.01, 0.5),),),
    formula="d leaky_relu(x) = (1 if x > 0 else slope) dx",
    kinks=_KINK_AT_0,
)


def _prelu_rule(g: Any, out: Any, x: Any, a: Any) -> tuple[Any, Any]:
    pos = data(x) > 0
    return select(pos, g, g * a), select(pos, 0.0, g * x)


PRELU = _builtin(
    "prelu",
    2,
    f_leaky_relu,  # the slope is an input here, with the same float math
    _prelu_rule,
    vforward=lambda x, a: np.where(x > 0, x, x * a),
    vrule=_prelu_rule,
    domain=(_NONZERO, ((0.01, 0.5),)),
    formula="d prelu(x, a) = (1 if x > 0 else a) dx + (0 if x > 0 else x) da",
    kinks=_KINK_AT_0,
)


def f_elu(x: float, alpha: float) -> float:
    """x if x > 0 else alpha * (e ** x - 1)."""
    return x if x > 0 else alpha * math.expm1(x)


def _elu_rule(g: Any, out: Any, x: Any, alpha: float) -> tuple[Any]:
    # For x <= 0, d/dx alpha (e**x - 1) = alpha e**x.  Written with exp(x),
    # not out + alpha, which cancels to 0 for very negative x.  The test is
    # "x <= 0", so a nan input takes the identity branch (gradient g), as
    # PyTorch's elu_backward and this module's relu do.
    return (g * alpha * exp(x) if data(x) <= 0 else g,)


def _v_elu_rule(g: Any, out: Any, x: Any, alpha: float) -> tuple[Any]:
    # Its own vectorized form: the float rule must not compute exp(x) where
    # x > 0 (it overflows for large x, and detect_anomaly would flag it).
    return (np.where(x <= 0, g * alpha * np.exp(x), g),)


ELU = _builtin(
    "elu",
    1,
    f_elu,
    _elu_rule,
    vforward=lambda x, a: np.where(x > 0, x, a * np.expm1(x)),
    vrule=_v_elu_rule,
    label="elu({0})",
    domain=(_NONZERO,),
    params=("alpha",),
    param_domain=(((0.5, 2.0),),),
    formula="d elu(x) = (1 if x > 0 else alpha exp(x)) dx",
    kinks=_KINK_AT_0,  # smooth at 0 only when alpha = 1
)

# -- softplus ------------------------------------------------------------------


def f_softplus(x: float) -> float:
    """log(1 + e ** x), exact and finite for large |x|."""
    if x != x:
        return x
    return (x if x > 0 else 0.0) + math.log1p(f_exp(-abs(x)))


def v_softplus(x: Any) -> Any:
    """softplus on arrays, exact and finite for large |x| (as f_softplus)."""
    return np.where(x > 0, x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def _softplus_rule(g: Any, out: Any, x: Any) -> tuple[Any]:
    return (g * sigmoid(x),)


SOFTPLUS = _builtin(
    "softplus",
    1,
    f_softplus,
    _softplus_rule,
    vforward=v_softplus,
    vrule=_softplus_rule,
    formula="d softplus(x) = sigmoid(x) dx",
)

# -- sin, cos ------------------------------------------------------------------


def f_sin(x: float) -> float:
    """sin, nan at +-inf."""
    return math.sin(x) if math.isfinite(x) else _NAN


def _sin_rule(g: Any, out: Any, x: Any) -> tuple[Any]:
    return (g * cos(x),)


SIN = _builtin("sin", 1, f_sin, _sin_rule, vforward=np.sin, vrule=_sin_rule, formula="d sin(x) = cos(x) dx")


def f_cos(x: float) -> float:
    """cos, nan at +-inf."""
    return math.cos(x) if math.isfinite(x) else _NAN


def _cos_rule(g: Any, out: Any, x: Any) -> tuple[Any]:
    return (-g * sin(x),)


COS = _builtin("cos", 1, f_cos, _cos_rule, vforward=np.cos, vrule=_cos_rule, formula="d cos(x) = -sin(x) dx")

# -- maximum, minimum ----------------------------------------------------------

# |x| > 0.5 > |y|: both branches are drawn (x > y for x > 0), never a tie.
_APART = (((-5.0, -0.5), (0.5, 5.0)), ((-0.4, 0.4),))


def f_maximum(x: float, y: float) -> float:
    """The larger of x and y; nan if either is nan (as numpy and PyTorch)."""
    if x != x or y != y:
        return _NAN
    return x if x >= y else y


def _maximum_rule(g: Any, out: Any, x: Any, y: Any) -> tuple[Any, Any]:
    # A tie splits the gradient evenly and a nan operand passes it to both
    # (none of >, <, == holds), as torch.maximum does.
    a, b = data(x), data(y)
    gt, lt, eq = a > b, a < b, a == b
    half = g * 0.5
    return (
        select(gt, g, select(lt, 0.0, select(eq, half, g))),
        select(gt, 0.0, select(lt, g, select(eq, half, g))),
    )


MAXIMUM = _builtin(
    "maximum",
    2,
    f_maximum,
    _maximum_rule,
    vforward=np.maximum,
    vrule=_maximum_rule,
    label="max",
    domain=_APART,
    formula="d max(x, y) = [x > y] dx + [y > x] dy (a tie splits evenly)",
    kinks=(Condition("x = y", operator.eq),),
)


def f_minimum(x: float, y: float) -> float:
    """The smaller of x and y; nan if either is nan."""
    if x != x or y != y:
        return _NAN
    return x if x <= y else y


def _minimum_rule(g: Any, out: Any, x: Any, y: Any) -> tuple[Any, Any]:
    a, b = data(x), data(y)
    lt, gt, eq = a < b, a > b, a == b
    half = g * 0.5
    return (
        select(lt, g, select(gt, 0.0, select(eq, half, g))),
        select(lt, 0.0, select(gt, g, select(eq, half, g))),
    )


MINIMUM = _builtin(
    "minimum",
    2,
    f_minimum,
    _minimum_rule,
    vforward=np.minimum,
    vrule=_minimum_rule,
    label="min",
    domain=_APART,
    formula="d min(x, y) = [x < y] dx + [y < x] dy (a tie splits evenly)",
    kinks=(Condition("x = y", operator.eq),),
)

#: The entries defined above, which Value's operators and methods use directly.
_BUILTIN: dict[str, OpSpec] = dict(_REGISTRY)
