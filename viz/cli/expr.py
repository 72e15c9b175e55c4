"""A safe parser for scalar expressions such as ``tanh(x*w + b)`` or ``-x**3``, for the command line.

:func:`parse` turns text into an :class:`Expression` whose variables can be
bound to numbers or :class:`~autograd_core.value.Value` nodes to build a
computation graph.  The text goes through Python's :mod:`ast` parser and a
whitelist; nothing is ever evaluated by Python itself (no ``eval``).

Accepted: numbers, variable names, ``+ - * / **``, unary ``-`` and ``+``,
parentheses, and calls of the ops registered in :mod:`autograd_core.ops` by
name with their arity (``tanh(x)``, ``maximum(a, b)``).  The ops behind the
operators (``add sub mul div neg pow pow_const``) are not callable by name:
the operators cover them, and ``**`` is where the exponent limit applies.
The text must be ASCII: Python folds lookalike characters in names (``ｘ``
is ``x``, ``tanｈ`` is ``tanh``), so they are refused rather than silently
read as something else.  An op with constant
parameters takes them as extra arguments that must not depend on a variable
(``leaky_relu(x, 0.1)``, ``elu(x, 1.0)``); when they are left out and
``Value`` has a method of that name, the method's default is used.  The
function list is read from the registry, so a newly registered op can be
called at once.

Limits (length, nesting depth, node count, exponent size) keep every input
cheap; each failure raises :class:`ExpressionError` with a one-line message.
"""

from __future__ import annotations

import ast
import difflib
import math
import unicodedata
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from autograd_core import Value, no_grad, ops
from autograd_core.value import applier

__all__ = [
    "ExpressionError",
    "Expression",
    "parse",
    "functions",
    "MAX_LENGTH",
    "MAX_DEPTH",
    "MAX_NODES",
    "MAX_EXPONENT",
    "ALIASES",
    "suggestions",
]

#: Longest accepted expression, in characters.
MAX_LENGTH = 1000
#: Deepest accepted nesting of operations and calls (the syntax tree's height, leaves not counted).
MAX_DEPTH = 100
#: Most syntax-tree nodes accepted.
MAX_NODES = 1000
#: Largest accepted |k| of a constant exponent ``** k``.
MAX_EXPONENT = 1000.0


#: Registered ops that the operators stand for; calling them by name is refused.
OPERATOR_OPS: dict[str, str] = {
    "add": "+",
    "sub": "-",
    "mul": "*",
    "div": "/",
    "neg": "unary -",
    "pow": "**",
    "pow_const": "**",
}


#: Names users reach for that the registry spells differently: an unknown function's message
#: suggests the registry name (only when that op is registered).
ALIASES: dict[str, str] = {
    "max": "maximum",
    "min": "minimum",
    "ln": "log",
    "sigma": "sigmoid",
    "\u03c3": "sigmoid",  # σ, refused as non-ASCII but answered with the name to write
    "logistic": "sigmoid",
    "fabs": "abs",
    "absolute": "abs",
    "sqr": "sqrt",
    "root": "sqrt",
    "lrelu": "leaky_relu",
    "leakyrelu": "leaky_relu",
}


def suggestions(name: str, known: Sequence[str]) -> list[str]:
    """The registered names ``name`` was probably meant to be: its alias, else close spellings (difflib).

    Args:
        name: the unknown name as typed, e.g. ``"max"`` or ``"tahn"``.
        known: the callable names (:func:`functions`).
    """
    alias = ALIASES.get(name) or ALIASES.get(name.lower())
    if alias is not None and alias in known:
        return [alias]
    lowered = {k.lower(): k for k in known}
    if name.lower() in lowered:  # only the case differs: that name and no other
        return [lowered[name.lower()]]
    return [lowered[m] for m in difflib.get_close_matches(name.lower(), list(lowered), n=3, cutoff=0.6)]


def _did_you_mean(names: list[str]) -> str:
    return f"did you mean {' or '.join(names)}? " if names else ""


class ExpressionError(ValueError):
    """The expression text is not one this parser accepts; the message says why."""


_BINOPS: dict[type[ast.operator], str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.Pow: "**",
}

# Why a node type is refused, for the common cases; anything else gets a generic message.
_REFUSED: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscripts",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.Compare: "comparisons",
    ast.BoolOp: "'and'/'or'",
    ast.IfExp: "conditional expressions",
    ast.NamedExpr: "assignment expressions",
    ast.Tuple: "tuples",
    ast.List: "lists",
    ast.Dict: "dicts",
    ast.Set: "sets",
    ast.JoinedStr: "f-strings",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Starred: "starred arguments",
    ast.Slice: "slices",
}


def functions() -> dict[str, tuple[int, int]]:
    """The callable names: ``{op name: (arity, number of constant parameters)}`` from the registry.

    The ops behind the operators (:data:`OPERATOR_OPS`) are left out: write ``x + y``, not ``add(x, y)``.
    """
    return {s.name: (s.arity, len(s.params)) for s in ops.specs() if s.name not in OPERATOR_OPS}


@dataclass(frozen=True)
class Expression:
    """A parsed, validated expression.

    Attributes:
        source: the text as given.
        variables: the variable names, in order of first appearance.
    """

    source: str
    variables: tuple[str, ...]
    _tree: ast.expr = field(repr=False, compare=False)

    def evaluate(self, env: Mapping[str, Value | float]) -> Value:
        """Build the graph of the expression with each variable bound by ``env``.

        Args:
            env: a number or a Value for every variable; numbers become leaves
                labelled with the variable's name.

        Returns:
            The output Value.

        Raises:
            ExpressionError: naming a variable missing from ``env``.
            TypeError: if a binding is neither a Value nor a real number.
        """
        missing = [v for v in self.variables if v not in env]
        if missing:
            raise ExpressionError(f"no value for variable(s) {', '.join(missing)} of expression {self.source!r}")
        bound: dict[str, Value] = {}
        for name in self.variables:
            b = env[name]
            bound[name] = b if isinstance(b, Value) else Value(b, name)
        return _as_value(_build(self._tree, bound))

    def __call__(self, *args: Value | float) -> Value:
        """Evaluate with positional arguments in the order of :attr:`variables`.

        Raises:
            ExpressionError: if the number of arguments differs from the number of variables.
        """
        if len(args) != len(self.variables):
            raise ExpressionError(
                f"expression {self.source!r} has {len(self.variables)} variable(s) "
                f"({', '.join(self.variables) or 'none'}), got {len(args)} argument(s)"
            )
        return self.evaluate(dict(zip(self.variables, args)))


def parse(text: str) -> Expression:
    """Parse and validate ``text`` without evaluating anything.

    Args:
        text: the expression, e.g. ``"(x + y) * z"``.

    Returns:
        An :class:`Expression`.

    Raises:
        ExpressionError: a one-line message naming what is wrong (empty text,
            NUL byte, too long, syntax error, a construct outside the
            whitelist, an unknown function, a wrong number of arguments, a
            too-deep or too-large tree, a too-large exponent).
        TypeError: if ``text`` is not a str.
    """
    if not isinstance(text, str):
        raise TypeError(f"expression must be a str, got {type(text).__name__}")
    if "\x00" in text:
        raise ExpressionError("expression contains a NUL byte")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression is {len(text)} characters long, more than the limit of {MAX_LENGTH}")
    stripped = text.strip()
    if not stripped:
        raise ExpressionError("expression is empty; write one such as 'x**2 + 1'")
    if not stripped.isascii():
        raise ExpressionError(_non_ascii_message(stripped))
    try:
        with warnings.catch_warnings():
            # Python warns about some odd literals ("1if x", "0x1for") on stderr
            # before the syntax error or the refusal; the error alone is the message.
            warnings.simplefilter("ignore")
            tree = ast.parse(stripped, mode="eval").body
    except SyntaxError as e:
        # e.msg is one line; the caret display of str(e) is not.
        msg = (e.msg or "invalid syntax").splitlines()[0]
        where = f" at column {e.offset}" if e.offset else ""
        raise ExpressionError(f"syntax error{where}: {msg}") from None
    except (RecursionError, MemoryError, ValueError, OverflowError) as e:
        raise ExpressionError(f"expression cannot be parsed ({type(e).__name__}); simplify it") from None
    checker = _Checker(functions(), stripped)
    checker.check(tree, 1)
    return Expression(text, tuple(checker.variables), tree)


def _non_ascii_message(text: str) -> str:
    i, ch = next((i, c) for i, c in enumerate(text) if not c.isascii())
    folded = unicodedata.normalize("NFKC", ch)
    hint = f" (Python would silently read it as {folded!r})" if folded != ch and folded.isascii() else ""
    alias = ALIASES.get(ch)
    if alias is not None and alias in functions():
        hint += f"; for the function write {alias}"
    return (
        f"expression contains the non-ASCII character {ch!r} (U+{ord(ch):04X}) at column {i + 1}{hint}; "
        "write names, numbers and operators in ASCII"
    )


def _quote(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


class _Checker:
    """Walks the tree once: whitelist, arity, limits, variable list."""

    def __init__(self, funcs: dict[str, tuple[int, int]], source: str = "") -> None:
        self.funcs = funcs
        self.source = source
        self.variables: dict[str, None] = {}  # insertion-ordered set
        self.count = 0

    def _text(self, node: ast.AST) -> str:
        """What the user typed for ``node`` (falls back to the unparsed tree)."""
        seg = ast.get_source_segment(self.source, node) if self.source else None
        return _quote(seg if seg is not None else ast.unparse(node))

    def check(self, node: ast.AST, depth: int) -> None:
        self.count += 1
        if self.count > MAX_NODES:
            raise ExpressionError(f"expression has more than {MAX_NODES} syntax nodes; split it into smaller ones")
        if depth > MAX_DEPTH and not isinstance(node, (ast.Constant, ast.Name)):
            # Operators and calls count, the number or name at the bottom does not, so the
            # message's count is exact.  x*x*...*x is as deep as -(-(...x)): each * of a chain adds a level.
            raise ExpressionError(
                f"expression has more than {MAX_DEPTH} operators chained or nested; split it into smaller expressions"
            )
        if isinstance(node, ast.Constant):
            try:
                _number(node)
            except ExpressionError:
                v = node.value
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    raise ExpressionError(
                        f"number {self._text(node)} is out of the float range (about 1.8e308); use a smaller one"
                    ) from None
                raise
        elif isinstance(node, ast.Name):
            if node.id in self.funcs:
                raise ExpressionError(f"{node.id!r} is a function; call it as {node.id}(...)")
            self.variables.setdefault(node.id, None)
        elif isinstance(node, ast.BinOp):
            if type(node.op) not in _BINOPS:
                raise ExpressionError(f"operator {_op_text(node.op)!r} is not supported; use + - * / **")
            self.check(node.left, depth + 1)
            self.check(node.right, depth + 1)
            if isinstance(node.op, ast.Pow) and not _has_names(node.right):
                k = _constant(node.right)
                if not abs(k) <= MAX_EXPONENT:
                    raise ExpressionError(
                        f"exponent {self._text(node.right)} (= {k:g}) is larger in magnitude "
                        f"than the limit of {MAX_EXPONENT:g}"
                    )
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, (ast.USub, ast.UAdd)):
                raise ExpressionError(f"operator {_op_text(node.op)!r} is not supported; only unary - and + are")
            self.check(node.operand, depth + 1)
        elif isinstance(node, ast.Call):
            self._check_call(node, depth)
        else:
            what = _REFUSED.get(type(node), f"{type(node).__name__} syntax")
            raise ExpressionError(f"{what} not allowed; use numbers, variables, + - * / ** and registered functions")

    def _check_call(self, node: ast.Call, depth: int) -> None:
        if not isinstance(node.func, ast.Name):
            raise ExpressionError("only registered functions can be called, by plain name such as tanh(x)")
        name = node.func.id
        if name in OPERATOR_OPS:
            raise ExpressionError(f"{name}() cannot be called by name; use the {OPERATOR_OPS[name]} operator")
        if name not in self.funcs:
            hint = _did_you_mean(suggestions(name, list(self.funcs)))
            raise ExpressionError(f"unknown function {_quote(name)!r}; {hint}known: {', '.join(sorted(self.funcs))}")
        if node.keywords:
            raise ExpressionError(f"{name}() takes positional arguments only")
        arity, nparams = self.funcs[name]
        n = len(node.args)
        params_optional = nparams and callable(getattr(Value, name, None))
        allowed = {arity + nparams} | ({arity} if params_optional else set())
        if n not in allowed:
            spec = ops.get(name)
            want = " or ".join(str(a) for a in sorted(allowed))
            extra = f" (inputs, then constant {', '.join(spec.params)})" if nparams else ""
            raise ExpressionError(f"{name}() takes {want} argument(s){extra}, got {n}")
        for i, arg in enumerate(node.args):
            self.check(arg, depth + 1)
            if i >= arity and _has_names(arg):
                pname = ops.get(name).params[i - arity]
                raise ExpressionError(f"the {pname} of {name}() must be a constant number, not depend on a variable")


def _op_text(op: ast.AST) -> str:
    table = {
        ast.FloorDiv: "//",
        ast.Mod: "%",
        ast.MatMult: "@",
        ast.BitAnd: "&",
        ast.BitOr: "|",
        ast.BitXor: "^",
        ast.LShift: "<<",
        ast.RShift: ">>",
        ast.Not: "not",
        ast.Invert: "~",
    }
    return table.get(type(op), type(op).__name__)


def _number(node: ast.Constant) -> float:
    v = node.value
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ExpressionError(f"constant {v!r:.40} is not a real number")
    try:
        f = float(v)
    except OverflowError:
        f = math.inf
    if not math.isfinite(f):
        raise ExpressionError(f"number {str(v)[:40]} is out of the float range")
    return f


def _has_names(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Name) for n in ast.walk(node))


def _constant(node: ast.expr) -> float:
    """The value of a variable-free (already checked) subtree, computed with float ops."""
    with no_grad():
        return _as_value(_build(node, {})).data


def _as_value(x: Value | float) -> Value:
    return x if type(x) is Value else Value(x)


def _build(node: ast.expr, env: Mapping[str, Value]) -> Value | float:
    """The graph of a checked subtree; variable-free subtrees fold to one float (IEEE semantics)."""
    if isinstance(node, ast.Constant):
        return _number(node)
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.UnaryOp):
        x = _build(node.operand, env)
        if isinstance(node.op, ast.UAdd):
            return x
        return -x
    if isinstance(node, ast.BinOp):
        left = _build(node.left, env)
        right = _build(node.right, env)
        if type(left) is not Value and type(right) is not Value:
            # Fold constants with the engine's IEEE float math: never an exception.
            with no_grad():
                return _binop(node.op, Value(left), right).data
        return _binop(node.op, left, right)
    if isinstance(node, ast.Call):
        assert isinstance(node.func, ast.Name)  # guaranteed by _Checker
        spec = ops.get(node.func.id)
        args = [_build(a, env) for a in node.args]
        inputs, params = args[: spec.arity], [float(_as_value(p).data) for p in args[spec.arity :]]
        if spec.params and not params:
            x = _as_value(inputs[0])
            return getattr(x, spec.name)(*inputs[1:])  # the Value method's default parameters
        if all(type(a) is not Value for a in inputs):
            with no_grad():
                return applier(spec)(*inputs, *params).data
        return applier(spec)(*inputs, *params)
    raise ExpressionError(f"{type(node).__name__} not allowed")  # unreachable after _Checker


def _binop(op: ast.operator, x: Any, y: Any) -> Value:
    if isinstance(op, ast.Add):
        return x + y
    if isinstance(op, ast.Sub):
        return x - y
    if isinstance(op, ast.Mult):
        return x * y
    if isinstance(op, ast.Div):
        return x / y
    # A constant exponent stays a parameter (op pow_const), as in x ** 2.
    return x**y
