"""The op registry: one entry per primitive operation.

Each :class:`OpSpec` keeps together everything the rest of the library needs
to know about a primitive:

* ``forward``: plain float math, IEEE semantics (never raises
  ``ZeroDivisionError``, ``OverflowError`` or a math domain error);
* ``rule``: the local derivative, ``rule(g, out, *inputs, *params)`` returning
  one gradient per input.  Rules are written with arithmetic and the helpers
  below, so the same rule runs on plain floats (fast first-order backward)
  and on :class:`~autograd_core.value.Value` nodes (``create_graph=True``,
  which is what makes gradients of gradients work);
* ``label``: what the graph renderer writes in the op node (``str.format``
  receives the op's constant parameters);
* ``domain``: for each input, open intervals on which the op is smooth; the
  hypothesis strategies and the gradient checker draw points from them;
* ``formula``: the derivative in words, for docs and error messages;
* ``vforward`` and ``vrule`` (optional): the same forward and rule on 1-D
  float64 numpy arrays (one entry per sample; masks with ``np.where``), used
  by the batched replay of :mod:`autograd_core.compile`.  Inputs may mix
  arrays and floats (numpy broadcasting).  An op without them still compiles:
  the replay loops over the samples with ``forward`` and ``rule``.

The engine, the gradient checker, the hypothesis strategies, the tracer and
the renderer all read this registry; adding an op is one :func:`register`
call.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .value import Value

__all__ = [
    "OpSpec",
    "Interval",
    "register",
    "get",
    "names",
    "specs",
    "REAL",
]

Interval = tuple[float, float]
#: Default domain of an input: every moderate real number.
REAL: tuple[Interval, ...] = ((-5.0, 5.0),)


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

    def format_label(self, ctx: tuple[float, ...] | None) -> str:
        """The graph label of a node of this op with constant parameters ``ctx``."""
        if not ctx:
            return self.label
        return self.label.format(*(_short(c) for c in ctx))


def _short(c: float) -> str:
    """A constant as short as it reads: 2 rather than 2.0."""
    return str(int(c)) if float(c).is_integer() and abs(c) < 1e15 else repr(float(c))


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


# --------------------------------------------------------------------------
# IEEE-safe float math.  Python's float operators and ``math`` raise where
# IEEE 754 (and numpy and PyTorch) return inf or nan; these never raise.
# --------------------------------------------------------------------------

_INF = math.inf
_NAN = math.nan


def f_div(x: float, y: float) -> float:
    """x / y with IEEE division by zero (inf with the right sign, or nan)."""
    try:
        return x / y
    except ZeroDivisionError:
        if x == 0 or x != x:
            return _NAN
        return math.copysign(_INF, x) * math.copysign(1.0, y)


def f_pow(x: float, y: float) -> float:
    """x ** y as C's pow: nan for a negative base and fractional exponent, inf on overflow."""
    try:
        return math.pow(x, y)
    except (ValueError, OverflowError, ZeroDivisionError):
        # The exceptional cases (0 ** -1, overflow, negative base) follow C99's
        # pow exactly in numpy; they are rare enough for its slower call.
        with np.errstate(all="ignore"):
            return float(np.power(np.float64(x), np.float64(y)))


def f_exp(x: float) -> float:
    """e ** x, inf on overflow."""
    try:
        return math.exp(x)
    except OverflowError:
        return _INF


def f_log(x: float) -> float:
    """Natural log: -inf at 0, nan below 0."""
    if x > 0:
        return math.log(x)
    return -_INF if x == 0 else _NAN


def f_sqrt(x: float) -> float:
    """Square root, nan below 0."""
    return math.sqrt(x) if x >= 0 else _NAN


def f_sigmoid(x: float) -> float:
    """1 / (1 + e ** -x) without overflow for any x."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = f_exp(x)
    return e / (1.0 + e)


def f_softplus(x: float) -> float:
    """log(1 + e ** x), exact and finite for large |x|."""
    if x != x:
        return x
    return (x if x > 0 else 0.0) + math.log1p(f_exp(-abs(x)))


def f_sin(x: float) -> float:
    """sin, nan at +-inf."""
    return math.sin(x) if math.isfinite(x) else _NAN


def f_cos(x: float) -> float:
    """cos, nan at +-inf."""
    return math.cos(x) if math.isfinite(x) else _NAN


def f_maximum(x: float, y: float) -> float:
    """The larger of x and y; nan if either is nan (as numpy and PyTorch)."""
    if x != x or y != y:
        return _NAN
    return x if x >= y else y


def f_minimum(x: float, y: float) -> float:
    """The smaller of x and y; nan if either is nan."""
    if x != x or y != y:
        return _NAN
    return x if x <= y else y


# --------------------------------------------------------------------------
# Helpers for derivative rules.  In a first-order backward pass every operand
# is a float; with create_graph=True they are Values and the helpers record
# graph nodes, so the rule itself is differentiable.
# --------------------------------------------------------------------------


def _is_node(x: Any) -> bool:
    # Duck-typed so this module need not import value.py (which imports it).
    return hasattr(x, "_spec") and hasattr(x, "backward")


def _is_scalar(x: Any) -> bool:
    # A numpy scalar can reach a rule when a user assigns one to .data.
    return isinstance(x, (int, float, np.number))


def data(x: Any) -> float:
    """The float inside ``x``: masks such as relu's ``x > 0`` are constants."""
    if type(x) is float:
        return x
    return float(x.data) if _is_node(x) else x


def div(x: Any, y: Any) -> Any:
    """x / y for floats (IEEE) or Values."""
    if type(x) is float and type(y) is float:
        return f_div(x, y)
    if _is_scalar(x) and _is_scalar(y):
        return f_div(float(x), float(y))
    return x / y  # Values, or numpy arrays in a vectorized rule


def pow_(x: Any, y: Any) -> Any:
    """x ** y for floats (IEEE) or Values."""
    if type(x) is float and type(y) is float:
        return f_pow(x, y)
    if _is_scalar(x) and _is_scalar(y):
        return f_pow(float(x), float(y))
    return x**y


def _unary(f: Callable[[float], float], method: str) -> Callable[[Any], Any]:
    def helper(x: Any) -> Any:
        if type(x) is float:
            return f(x)
        if _is_scalar(x):
            return f(float(x))
        return getattr(x, method)()

    helper.__name__ = method
    helper.__doc__ = f"{method}(x) for a float or a Value."
    return helper


exp = _unary(f_exp, "exp")
log = _unary(f_log, "log")
sqrt = _unary(f_sqrt, "sqrt")
sigmoid = _unary(f_sigmoid, "sigmoid")
sin = _unary(f_sin, "sin")
cos = _unary(f_cos, "cos")


# --------------------------------------------------------------------------
# Derivative rules: (g, out, *inputs, *params) -> one gradient per input.
# ``g`` is the upstream gradient, ``out`` the op's result.
# --------------------------------------------------------------------------


def _add_rule(g: Any, out: Any, x: Any, y: Any) -> tuple[Any, Any]:
    return g, g


def _sub_rule(g: Any, out: Any, x: Any, y: Any) -> tuple[Any, Any]:
    return g, -g


def _mul_rule(g: Any, out: Any, x: Any, y: Any) -> tuple[Any, Any]:
    return g * y, g * x


def _div_rule(g: Any, out: Any, x: Any, y: Any) -> tuple[Any, Any]:
    gx = div(g, y)
    return gx, -gx * out


def _neg_rule(g: Any, out: Any, x: Any) -> tuple[Any]:
    return (-g,)


def _pow_rule(g: Any, out: Any, x: Any, y: Any) -> tuple[Any, Any]:
    # d/dx x**y = y x**(y-1); d/dy x**y = x**y log x.  As in PyTorch, the
    # first is 0 at x == y == 0 (not 0 * 0**-1 = nan) and the second is 0
    # where x == 0 and y >= 0 (not 0 * log 0).  Only those points are masked,
    # so the mixed second derivative stays right at y == 0 elsewhere.
    gx = 0.0 if data(y) == 0 and data(x) == 0 else g * y * pow_(x, y - 1.0)
    gy = 0.0 if data(x) == 0 and data(y) >= 0 else g * out * log(x)
    return gx, gy


def _pow_const_rule(g: Any, out: Any, x: Any, k: float) -> tuple[Any]:
    if k == 0:
        return (0.0,)
    return (g * k * pow_(x, k - 1.0),)


def _abs_rule(g: Any, out: Any, x: Any) -> tuple[Any]:
    # sign(0) = 0, as in PyTorch: the subgradient that keeps L1 penalties at rest.
    s = data(x)
    return (g if s > 0 else -g if s < 0 else 0.0,)


def _exp_rule(g: Any, out: Any, x: Any) -> tuple[Any]:
    return (g * out,)


def _log_rule(g: Any, out: Any, x: Any) -> tuple[Any]:
    return (div(g, x),)


def _sqrt_rule(g: Any, out: Any, x: Any) -> tuple[Any]:
    return (div(g, 2.0 * out),)


def _tanh_rule(g: Any, out: Any, x: Any) -> tuple[Any]:
    return (g * (1.0 - out * out),)


def _sigmoid_rule(g: Any, out: Any, x: Any) -> tuple[Any]:
    return (g * out * (1.0 - out),)


def _relu_rule(g: Any, out: Any, x: Any) -> tuple[Any]:
    # relu's mask is a constant, so its second derivative is zero.  The masked
    # branch is an exact 0 (not 0 * g), so an infinite upstream gradient gives
    # 0 there, as PyTorch's masked fill does.  The mask is "x <= 0", so a nan
    # input passes the gradient through, as in PyTorch.
    return (0.0 if data(x) <= 0 else g,)


def _leaky_relu_rule(g: Any, out: Any, x: Any, slope: float) -> tuple[Any]:
    return (g if data(x) > 0 else g * slope,)


def _prelu_rule(g: Any, out: Any, x: Any, a: Any) -> tuple[Any, Any]:
    if data(x) > 0:
        return g, 0.0
    return g * a, g * x


def _elu_rule(g: Any, out: Any, x: Any, alpha: float) -> tuple[Any]:
    # For x <= 0, d/dx alpha (e**x - 1) = alpha e**x.  Written with exp(x),
    # not out + alpha, which cancels to 0 for very negative x.
    return (g if data(x) > 0 else g * alpha * exp(x),)


def _softplus_rule(g: Any, out: Any, x: Any) -> tuple[Any]:
    return (g * sigmoid(x),)


def _sin_rule(g: Any, out: Any, x: Any) -> tuple[Any]:
    return (g * cos(x),)


def _cos_rule(g: Any, out: Any, x: Any) -> tuple[Any]:
    return (-g * sin(x),)


def _maximum_rule(g: Any, out: Any, x: Any, y: Any) -> tuple[Any, Any]:
    # A tie splits the gradient evenly and a nan operand passes it to both, as torch.maximum does.
    a, b = data(x), data(y)
    if a > b:
        return g, 0.0
    if a < b:
        return 0.0, g
    if a == b:
        half = g * 0.5
        return half, half
    return g, g


def _minimum_rule(g: Any, out: Any, x: Any, y: Any) -> tuple[Any, Any]:
    a, b = data(x), data(y)
    if a < b:
        return g, 0.0
    if a > b:
        return 0.0, g
    if a == b:
        half = g * 0.5
        return half, half
    return g, g


# --------------------------------------------------------------------------
# Vectorized forms for the batched compiled replay: the same math on 1-D
# float64 arrays (one entry per sample), possibly mixed with floats.  Callers
# run them under ``np.errstate(all="ignore")``; numpy then gives the same IEEE
# results as the float functions above.  Masks use np.where, whose branches
# are both evaluated: harmless, as the unused branch is discarded.
# --------------------------------------------------------------------------


def v_sigmoid(x: Any) -> Any:
    """sigmoid on arrays, without overflow: e ** -|x| is in (0, 1]."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def v_softplus(x: Any) -> Any:
    """softplus on arrays, exact and finite for large |x| (as f_softplus)."""
    return np.where(x > 0, x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def v_pow(x: Any, y: Any) -> Any:
    """x ** y on arrays as C's pow.

    The exponent is passed as an array: numpy turns ``np.power(a, 0.5)`` with a
    scalar 0.5 into sqrt, which differs from pow at -inf and -0.0.
    """
    xa, ya = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    # A copy, not the broadcast view: a stride-0 exponent takes the sqrt path too.
    return np.power(xa, np.array(ya, ndmin=1))[()] if ya.ndim == 0 else np.power(xa, np.array(ya))


def v_tanh(x: Any) -> Any:
    """tanh on arrays with the very function the scalar path uses.

    numpy's vectorized tanh may differ from ``math.tanh`` in the last digit,
    and the rule ``1 - tanh**2`` magnifies that near saturation.
    """
    return np.frompyfunc(math.tanh, 1, 1)(x).astype(np.float64)


def _v_pow_rule(g: Any, out: Any, x: Any, y: Any) -> tuple[Any, Any]:
    # As the float rule: 0 at x == y == 0, and 0 for the log term where x == 0 and y >= 0.
    gx = np.where((y == 0) & (x == 0), 0.0, g * y * v_pow(x, y - 1.0))
    gy = np.where((x == 0) & (y >= 0), 0.0, g * out * np.log(x))
    return gx, gy


def _v_pow_const_rule(g: Any, out: Any, x: Any, k: float) -> tuple[Any]:
    if k == 0:
        return (0.0,)
    return (g * k * v_pow(x, k - 1.0),)


def _v_abs_rule(g: Any, out: Any, x: Any) -> tuple[Any]:
    return (np.where(x > 0, g, np.where(x < 0, -g, 0.0)),)


def _v_relu_rule(g: Any, out: Any, x: Any) -> tuple[Any]:
    return (np.where(x <= 0, 0.0, g),)


def _v_leaky_relu_rule(g: Any, out: Any, x: Any, slope: float) -> tuple[Any]:
    return (np.where(x > 0, g, g * slope),)


def _v_prelu_rule(g: Any, out: Any, x: Any, a: Any) -> tuple[Any, Any]:
    pos = x > 0
    return np.where(pos, g, g * a), np.where(pos, 0.0, g * x)


def _v_elu_rule(g: Any, out: Any, x: Any, alpha: float) -> tuple[Any]:
    return (np.where(x > 0, g, g * alpha * np.exp(x)),)


def _v_softplus_rule(g: Any, out: Any, x: Any) -> tuple[Any]:
    return (g * v_sigmoid(x),)


def _v_sin_rule(g: Any, out: Any, x: Any) -> tuple[Any]:
    return (g * np.cos(x),)


def _v_cos_rule(g: Any, out: Any, x: Any) -> tuple[Any]:
    return (-g * np.sin(x),)


def _v_maximum_rule(g: Any, out: Any, x: Any, y: Any) -> tuple[Any, Any]:
    half, zero = g * 0.5, 0.0
    gt, lt, eq = x > y, x < y, x == y
    # Where neither is greater, smaller or equal, a nan is involved: both get g.
    return (
        np.where(gt, g, np.where(lt, zero, np.where(eq, half, g))),
        np.where(gt, zero, np.where(lt, g, np.where(eq, half, g))),
    )


def _v_minimum_rule(g: Any, out: Any, x: Any, y: Any) -> tuple[Any, Any]:
    half, zero = g * 0.5, 0.0
    lt, gt, eq = x < y, x > y, x == y
    return (
        np.where(lt, g, np.where(gt, zero, np.where(eq, half, g))),
        np.where(lt, zero, np.where(gt, g, np.where(eq, half, g))),
    )


# --------------------------------------------------------------------------
# Registration
# --------------------------------------------------------------------------

_POS: tuple[Interval, ...] = ((0.1, 5.0),)
# Kinked ops are smooth on either side of the kink; keep test points away from it.
_NONZERO: tuple[Interval, ...] = ((-5.0, -0.05), (0.05, 5.0))


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
) -> Callable[..., Value]:
    """Add a primitive op to the registry and return a callable that applies it.

    Args:
        name: registry key; a valid Python identifier.
        forward: ``forward(*input_floats, *params) -> float``.
        rule: ``rule(g, out, *inputs, *params) -> tuple`` with one gradient per
            input (``None`` for no gradient).  Write it with arithmetic and the
            helpers of this module (``exp``, ``log``, ``div``...) to get
            higher-order derivatives for free.
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
            (masks with ``np.where``).  Without these two a compiled batch
            loops over its samples with ``forward`` and ``rule``.

    Returns:
        ``apply(*inputs, *params) -> Value``.

    Raises:
        TypeError, ValueError: naming the argument that is wrong.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"op name must be a Python identifier, got {name!r}")
    if name in _BUILTIN_NAMES:
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
    )
    try:
        spec.format_label(tuple(1.0 for _ in params))
    except (IndexError, KeyError, ValueError) as e:
        raise ValueError(
            f"op {name!r}: label {spec.label!r} cannot be formatted with its {len(params)} parameter(s) ({e}); "
            "use {0}, {1}... for the parameters, or no braces"
        ) from None
    _REGISTRY[name] = spec
    from .value import applier  # deferred: value.py imports this module

    return applier(spec)


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


ADD = _builtin(
    "add", 2, float.__add__, _add_rule, vforward=np.add, vrule=_add_rule, label="+", formula="d(x+y) = dx + dy"
)
SUB = _builtin(
    "sub", 2, float.__sub__, _sub_rule, vforward=np.subtract, vrule=_sub_rule, label="-", formula="d(x-y) = dx - dy"
)
MUL = _builtin(
    "mul", 2, float.__mul__, _mul_rule, vforward=np.multiply, vrule=_mul_rule, label="*", formula="d(xy) = y dx + x dy"
)
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
)
NEG = _builtin(
    "neg", 1, float.__neg__, _neg_rule, vforward=np.negative, vrule=_neg_rule, label="-", formula="d(-x) = -dx"
)
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
)
POW_CONST = _builtin(
    "pow_const",
    1,
    f_pow,
    _pow_const_rule,
    vforward=v_pow,
    vrule=_v_pow_const_rule,
    label="**{0}",
    domain=(_POS,),
    params=("exponent",),
    param_domain=(((-3.0, 3.0),),),
    formula="d(x**k) = k x**(k-1) dx",
)
ABS = _builtin(
    "abs", 1, abs, _abs_rule, vforward=np.abs, vrule=_v_abs_rule, domain=(_NONZERO,), formula="d|x| = sign(x) dx"
)
EXP = _builtin("exp", 1, f_exp, _exp_rule, vforward=np.exp, vrule=_exp_rule, formula="d exp(x) = exp(x) dx")
LOG = _builtin(
    "log", 1, f_log, _log_rule, vforward=np.log, vrule=_log_rule, domain=(_POS,), formula="d log(x) = dx / x"
)
SQRT = _builtin(
    "sqrt",
    1,
    f_sqrt,
    _sqrt_rule,
    vforward=np.sqrt,
    vrule=_sqrt_rule,
    domain=(_POS,),
    formula="d sqrt(x) = dx / (2 sqrt(x))",
)
TANH = _builtin(
    "tanh", 1, math.tanh, _tanh_rule, vforward=v_tanh, vrule=_tanh_rule, formula="d tanh(x) = (1 - tanh(x)**2) dx"
)
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
RELU = _builtin(
    "relu",
    1,
    lambda x: 0.0 if x <= 0 else x,
    _relu_rule,
    vforward=lambda x: np.where(x <= 0, 0.0, x),
    vrule=_v_relu_rule,
    domain=(_NONZERO,),
    formula="d relu(x) = [x > 0] dx",
)
LEAKY_RELU = _builtin(
    "leaky_relu",
    1,
    lambda x, s: x if x > 0 else x * s,
    _leaky_relu_rule,
    vforward=lambda x, s: np.where(x > 0, x, x * s),
    vrule=_v_leaky_relu_rule,
    label="leaky_relu({0})",
    domain=(_NONZERO,),
    params=("slope",),
    param_domain=(((0.01, 0.5),),),
    formula="d leaky_relu(x) = (1 if x > 0 else slope) dx",
)
PRELU = _builtin(
    "prelu",
    2,
    lambda x, a: x if x > 0 else x * a,
    _prelu_rule,
    vforward=lambda x, a: np.where(x > 0, x, x * a),
    vrule=_v_prelu_rule,
    domain=(_NONZERO, ((0.01, 0.5),)),
    formula="d prelu(x, a) = (1 if x > 0 else a) dx + (0 if x > 0 else x) da",
)
ELU = _builtin(
    "elu",
    1,
    lambda x, a: x if x > 0 else a * math.expm1(x),
    _elu_rule,
    vforward=lambda x, a: np.where(x > 0, x, a * np.expm1(x)),
    vrule=_v_elu_rule,
    label="elu({0})",
    domain=(_NONZERO,),
    params=("alpha",),
    param_domain=(((0.5, 2.0),),),
    formula="d elu(x) = (1 if x > 0 else alpha exp(x)) dx",
)
SOFTPLUS = _builtin(
    "softplus",
    1,
    f_softplus,
    _softplus_rule,
    vforward=v_softplus,
    vrule=_v_softplus_rule,
    formula="d softplus(x) = sigmoid(x) dx",
)
SIN = _builtin("sin", 1, f_sin, _sin_rule, vforward=np.sin, vrule=_v_sin_rule, formula="d sin(x) = cos(x) dx")
COS = _builtin("cos", 1, f_cos, _cos_rule, vforward=np.cos, vrule=_v_cos_rule, formula="d cos(x) = -sin(x) dx")
# |x| > 0.5 > |y|: both branches are drawn (x > y for x > 0), never a tie.
_APART = (((-5.0, -0.5), (0.5, 5.0)), ((-0.4, 0.4),))
MAXIMUM = _builtin(
    "maximum",
    2,
    f_maximum,
    _maximum_rule,
    vforward=np.maximum,
    vrule=_v_maximum_rule,
    label="max",
    domain=_APART,
    formula="d max(x, y) = [x > y] dx + [y > x] dy (a tie splits evenly)",
)
MINIMUM = _builtin(
    "minimum",
    2,
    f_minimum,
    _minimum_rule,
    vforward=np.minimum,
    vrule=_v_minimum_rule,
    label="min",
    domain=_APART,
    formula="d min(x, y) = [x < y] dx + [y < x] dy (a tie splits evenly)",
)

#: The ops defined above, which Value's operators and methods use directly.
_BUILTIN_NAMES = frozenset(_REGISTRY)
