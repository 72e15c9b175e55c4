"""Tests of the safe expression parser ``viz.cli.expr``."""

from __future__ import annotations

import ast
import math
import subprocess
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_core import Value, grad, ops
from viz.cli import expr as expr_mod
from viz.cli.expr import ExpressionError, functions, parse

# --- what it accepts, against float math written out by hand ---------------------------


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("(x+y)*z", {"x": 1, "y": -3, "z": 4}, -8.0),
        ("x**3", {"x": 2}, 8.0),
        ("-x**2", {"x": 3}, -9.0),  # ** binds tighter than unary minus, as in Python
        ("+x - -y", {"x": 1, "y": 2}, 3.0),
        ("x / y", {"x": 1, "y": 4}, 0.25),
        ("tanh(x*w + b)", {"x": 1, "w": 0.5, "b": 0}, math.tanh(0.5)),
        ("exp(log(x)) + sqrt(x)", {"x": 4}, 6.0),
        ("1/(1 + exp(-(b + w0*x0 + w1*x1)))", {"b": -3, "w0": 2, "x0": -1, "w1": -3, "x1": -2}, 1 / (1 + math.exp(-1))),
        ("maximum(a, b) - minimum(a, b)", {"a": 2, "b": 5}, 3.0),
        ("leaky_relu(x, 0.1)", {"x": -2}, -0.2),
        ("leaky_relu(x)", {"x": -2}, -0.02),  # Value.leaky_relu's default slope 0.01
        ("elu(x, 2.0)", {"x": -1}, 2.0 * math.expm1(-1)),
        ("elu(x)", {"x": -1}, math.expm1(-1)),
        ("2**x", {"x": 3}, 8.0),
        ("x**y", {"x": 2, "y": 0.5}, math.sqrt(2)),
        (
            "sigmoid(x) + softplus(x) + sin(x) + cos(x) + abs(x) + relu(x)",
            {"x": 0.3},
            1 / (1 + math.exp(-0.3)) + math.log1p(math.exp(0.3)) + math.sin(0.3) + math.cos(0.3) + 0.3 + 0.3,
        ),
        ("1e3 * x", {"x": 2}, 2000.0),
    ],
)
def test_parse_evaluates_like_float_math(text: str, env: dict[str, float], expected: float) -> None:
    out = parse(text).evaluate(env)
    assert isinstance(out, Value)
    assert out.data == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_parse_variables_in_order_of_first_appearance() -> None:
    assert parse("z*y + x*z").variables == ("z", "y", "x")
    assert parse("2 + 3").variables == ()


def test_parse_builds_differentiable_graph_with_named_leaves() -> None:
    e = parse("(x+y)*z")
    xs = [Value(1.0, "x"), Value(-3.0, "y"), Value(4.0, "z")]
    f = e(*xs)
    f.backward()
    assert [x.grad for x in xs] == [4.0, 4.0, -2.0]  # lecture 05's worked example
    leaves = e.evaluate({"x": 1, "y": 2, "z": 3}).parents[0].parents
    assert [v.label for v in leaves] == ["x", "y"]


def test_parse_constant_exponent_is_pow_const_node() -> None:
    f = parse("x**2").evaluate({"x": 3.0})
    assert f.op == "pow_const" and f.ctx == (2.0,)
    (g,) = grad(f, [f.parents[0]])
    assert g.data == 6.0


def test_parse_folds_constant_subexpressions_with_ieee_math() -> None:
    f = parse("2*3*x + 1/0").evaluate({"x": 1.0})
    assert math.isinf(f.data)
    assert f.parents[0].parents[0].data == 6.0  # 2*3 folded into one leaf


_CALLABLE_SPECS = [s for s in ops.specs() if s.name not in expr_mod.OPERATOR_OPS]


@pytest.mark.parametrize("spec", _CALLABLE_SPECS, ids=lambda s: s.name)
def test_parse_accepts_every_registered_op_with_its_arity(spec: ops.OpSpec) -> None:
    args = [f"x{i}" for i in range(spec.arity)] + ["0.5"] * len(spec.params)
    e = parse(f"{spec.name}({', '.join(args)})")
    point = {f"x{i}": spec.domain[i][0][0] * 0.5 + spec.domain[i][0][1] * 0.5 for i in range(spec.arity)}
    out = e.evaluate(point)
    expected = spec.forward(*point.values(), *([0.5] * len(spec.params)))
    assert out.op == spec.name
    assert out.data == pytest.approx(expected)
    with pytest.raises(ExpressionError, match=rf"{spec.name}\(\) takes"):
        parse(f"{spec.name}({', '.join(args + ['1', '2'])})")


def test_functions_reads_the_registry() -> None:
    table = functions()
    assert set(table) == set(ops.names()) - set(expr_mod.OPERATOR_OPS)
    assert {"add", "pow", "pow_const"} <= set(ops.names())  # registered, but only reachable through operators
    assert table["tanh"] == (1, 0) and table["maximum"] == (2, 0) and table["leaky_relu"] == (1, 1)


# --- what it refuses, each with its own one-line message ------------------------------------


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("x\x00", "NUL"),
        ("x.real", "attribute"),
        ("__import__('os').system('true')", "plain name"),
        ("__import__('os')", "unknown function"),
        ("open('f')", "unknown function"),
        ("lambda: 1", "lambda"),
        ("[x for x in y]", "comprehensions"),
        ("x if y else z", "conditional"),
        ("x < y", "comparisons"),
        ("x and y", "and"),
        ("x[0]", "subscripts"),
        ("(x, y)", "tuples"),
        ("'abc'", "not a real number"),
        ("True", "not a real number"),
        ("1j", "not a real number"),
        ("x // y", "'//'"),
        ("x % y", "'%'"),
        ("~x", "'~'"),
        ("not x", "'not'"),
        ("x = 1", "syntax error"),
        ("import os", "syntax error"),
        ("x;y", "syntax error"),
        ("(x", "syntax error"),
        ("tanh", "is a function"),
        ("tanh(x=1)", "positional"),
        ("tanh(*x)", "starred"),
        ("x.tanh()", "plain name"),
        ("leaky_relu(x, y)", "constant number"),
        ("tanh(x, 1)", "takes 1 argument"),
        ("maximum(x)", "takes 2 argument"),
        ("9**9**9", "exponent 9**9 (= 3.8742e+08)"),
        ("1e309", "number 1e309 is out of the float range"),
        ("pow(9, pow(9, 9))", "pow() cannot be called by name; use the ** operator"),
        ("pow_const(x, 5000)", "pow_const() cannot be called by name; use the ** operator"),
        ("pow_const(x, 2)", "use the ** operator"),
        ("add(x, y)", "use the + operator"),
        ("neg(x)", "use the unary - operator"),
        ("foo(x)", "known: abs, cos, elu"),
        ("ｘ+1", "non-ASCII character 'ｘ' (U+FF58) at column 1 (Python would silently read it as 'x')"),
        ("tanｈ(x)", "non-ASCII character 'ｈ' (U+FF48) at column 4"),
        ("x − 1", "non-ASCII character '−' (U+2212)"),
        ("x**1001", "exponent"),
        ("x**-2000", "exponent"),
        ("1e999", "float range"),
        ("9" * 400, "float range"),
        ("(" * 5000 + "x" + ")" * 5000, "characters long"),
        ("(" * 250 + "x" + ")" * 250, "nested parentheses"),
        ("-" * 500 + "x", "nested"),
        ("x" + "**x" * 200, "nested"),
        ("f'{x}'", "f-strings"),
        ("(y := 2)", "assignment"),
    ],
)
def test_parse_rejects_with_one_line_message(text: str, needle: str) -> None:
    with pytest.raises(ExpressionError) as info:
        parse(text)
    msg = str(info.value)
    assert needle.lower() in msg.lower()
    assert "\n" not in msg and msg.strip() == msg


def test_unknown_function_list_leaves_out_operator_ops() -> None:
    with pytest.raises(ExpressionError) as info:
        parse("foo(x)")
    known = str(info.value).split("known: ")[1].split(", ")
    assert known == sorted(functions()) and not set(known) & set(expr_mod.OPERATOR_OPS)


@pytest.mark.parametrize("text", ["1if x else 0", "0x1for", "1or x", "0_"])
def test_parse_emits_no_syntax_warning(text: str) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ExpressionError):
            parse(text)
    assert [str(w.message) for w in caught] == []


def test_parse_no_syntax_warning_on_stderr_in_a_fresh_process() -> None:
    # Python prints "<unknown>:1: SyntaxWarning: invalid decimal literal" once per process
    # under the default filters; the parser must keep it off stderr.
    code = (
        "from viz.cli.expr import parse, ExpressionError\n"
        "for t in ('1if x else 0', '0x1for'):\n"
        "    try: parse(t)\n"
        "    except ExpressionError as e: print(e)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert proc.stderr == ""
    assert proc.stdout.count("\n") == 2


def test_parse_error_is_a_value_error() -> None:
    assert issubclass(ExpressionError, ValueError)
    with pytest.raises(TypeError, match="must be a str"):
        parse(b"x")  # type: ignore[arg-type]


def test_parse_node_limit_applies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(expr_mod, "MAX_NODES", 5)
    parse("x+y")  # 3 nodes
    with pytest.raises(ExpressionError, match="more than 5 syntax nodes"):
        parse("x+y+z+w")


def test_expression_missing_or_extra_arguments() -> None:
    e = parse("x*y")
    with pytest.raises(ExpressionError, match="no value for variable"):
        e.evaluate({"x": 1.0})
    with pytest.raises(ExpressionError, match="has 2 variable"):
        e(1.0)


def test_expression_accepts_values_for_variables() -> None:
    x = Value(2.0, "x")
    f = parse("x*x").evaluate({"x": x})
    f.backward()
    assert x.grad == 4.0


# --- fuzzing: random text and random syntax trees ---------------------------------------------

_ALLOWED: tuple[type[ast.AST], ...] = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Call,
    ast.Name,
    ast.Constant,
    ast.Load,
)
_ALLOWED += (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd)


@contextmanager
def _counting_checker() -> Iterator[dict[str, int]]:
    """Count the syntax nodes the checker visits and the deepest level it reaches (no clock involved)."""
    stats = {"visits": 0, "depth": 0}
    original = expr_mod._Checker.check

    def check(self: Any, node: ast.AST, depth: int) -> None:
        stats["visits"] += 1
        stats["depth"] = max(stats["depth"], depth)
        original(self, node, depth)

    expr_mod._Checker.check = check  # type: ignore[method-assign]
    try:
        yield stats
    finally:
        expr_mod._Checker.check = original  # type: ignore[method-assign]


def _parse_bounded(text: str) -> expr_mod.Expression | None:
    """parse(text): only ExpressionError may escape, and the work stays within the limits.

    The bound is structural, not timed: the checker visits at most MAX_NODES + 1
    nodes (it stops at the first one over the limit) and goes at most
    MAX_DEPTH + 1 levels deep, and text over MAX_LENGTH never reaches ast.
    """
    with _counting_checker() as stats:
        try:
            e: expr_mod.Expression | None = parse(text)
        except ExpressionError as err:
            assert "\n" not in str(err)
            e = None
    assert stats["visits"] <= expr_mod.MAX_NODES + 1
    assert stats["depth"] <= expr_mod.MAX_DEPTH + 1
    if len(text) > expr_mod.MAX_LENGTH:
        assert e is None and stats["visits"] == 0
    if e is not None:
        # Independent check of the whitelist: the accepted text holds only allowed nodes.
        for node in ast.walk(ast.parse(text.strip(), mode="eval")):
            assert isinstance(node, _ALLOWED), type(node).__name__
        out = e.evaluate(dict.fromkeys(e.variables, 0.5))  # IEEE math: never raises
        assert isinstance(out, Value)
    return e


_TOKENS = st.sampled_from(
    [
        "x",
        "y",
        "tanh",
        "exp",
        "maximum",
        "leaky_relu",
        "(",
        ")",
        ",",
        "+",
        "-",
        "*",
        "/",
        "**",
        "9",
        "0",
        "1.5",
        "1e308",
        ".",
        "lambda",
        ":",
        "[",
        "]",
        "'",
        "__import__",
        " ",
        "\x00",
        "=",
        "<",
        "if",
        "else",
        "not",
        "@",
        "\\",
    ]
)


@given(st.text(max_size=300))
def test_parse_fuzz_random_text_only_raises_its_own_error(text: str) -> None:
    _parse_bounded(text)


@given(st.lists(_TOKENS, max_size=80).map("".join))
def test_parse_fuzz_token_soup_only_raises_its_own_error(text: str) -> None:
    _parse_bounded(text)


_NAMES = st.sampled_from(["x", "y", "z", "tanh", "exp", "maximum", "leaky_relu", "open", "os", "pow_const"])
_CONSTS = st.one_of(
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([True, None, "s", b"b", 1j]),
)
_LEAVES = st.one_of(_NAMES.map(lambda n: ast.Name(id=n, ctx=ast.Load())), _CONSTS.map(lambda c: ast.Constant(value=c)))
_BINOPS = st.sampled_from([ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.Mod, ast.FloorDiv, ast.BitOr])
_UNOPS = st.sampled_from([ast.USub, ast.UAdd, ast.Not, ast.Invert])


def _extend(children: st.SearchStrategy[ast.expr]) -> st.SearchStrategy[ast.expr]:
    return st.one_of(
        st.builds(lambda a, op, b: ast.BinOp(left=a, op=op(), right=b), children, _BINOPS, children),
        st.builds(lambda op, a: ast.UnaryOp(op=op(), operand=a), _UNOPS, children),
        st.builds(
            lambda f, args: ast.Call(func=ast.Name(id=f, ctx=ast.Load()), args=args, keywords=[]),
            _NAMES,
            st.lists(children, max_size=3),
        ),
        st.builds(lambda a, n: ast.Attribute(value=a, attr=n, ctx=ast.Load()), children, _NAMES),
        st.builds(lambda a, b: ast.Compare(left=a, ops=[ast.Lt()], comparators=[b]), children, children),
        st.builds(lambda a, b: ast.Subscript(value=a, slice=b, ctx=ast.Load()), children, children),
        st.builds(lambda a: ast.Lambda(args=ast.arguments([], [], None, [], [], None, []), body=a), children),
        st.builds(lambda a, b: ast.Tuple(elts=[a, b], ctx=ast.Load()), children, children),
        st.builds(
            lambda a, b: ast.ListComp(elt=a, generators=[ast.comprehension(ast.Name("q", ast.Store()), b, [], 0)]),
            children,
            children,
        ),
    )


@given(st.recursive(_LEAVES, _extend, max_leaves=40))
def test_parse_fuzz_random_syntax_trees_only_raises_its_own_error(tree: ast.expr) -> None:
    text = ast.unparse(ast.fix_missing_locations(ast.Expression(body=tree)))
    _parse_bounded(text)


# --- the limits, asserted by counting work rather than by the clock ------------------------------


def _balanced_sum(terms: list[str]) -> str:
    """``(a+b)+(c+d)``: a sum of depth log2(len(terms)), not len(terms)."""
    if len(terms) == 1:
        return terms[0]
    mid = len(terms) // 2
    return f"({_balanced_sum(terms[:mid])})+({_balanced_sum(terms[mid:])})"


@pytest.mark.parametrize(
    ("text", "max_nodes", "needle"),
    [
        # Under the 1000-character limit text has about one node per character, so
        # the node limit is shown with a lowered MAX_NODES (a shallow, wide tree).
        (_balanced_sum(["x"] * 64), 100, "more than 100 syntax nodes"),
        (_balanced_sum(["-" * 80 + "x"] * 11), 500, "more than 500 syntax nodes"),
        ("-" * 101 + "x", None, "more than 100 operators chained or nested"),
        ("*".join(["x"] * 331), None, "more than 100 operators chained or nested"),
        ("(" * 250 + "x" + ")" * 250, None, "nested"),
        ("x" * 1001, None, "more than the limit of 1000"),
    ],
)
def test_parse_stops_at_each_limit_after_bounded_work(
    monkeypatch: pytest.MonkeyPatch, text: str, max_nodes: int | None, needle: str
) -> None:
    if max_nodes is not None:
        monkeypatch.setattr(expr_mod, "MAX_NODES", max_nodes)
    with _counting_checker() as stats:
        with pytest.raises(ExpressionError, match=needle):
            parse(text)
    assert stats["visits"] <= expr_mod.MAX_NODES + 1
    assert stats["depth"] <= expr_mod.MAX_DEPTH + 1


def test_parse_accepts_right_at_the_limits() -> None:
    assert parse("-" * 99 + "x").variables == ("x",)  # depth 100
    # The message counts operators: exactly 100 pass (the leaf at the bottom does not count), 101 do not.
    assert parse("-" * 100 + "x").variables == ("x",)
    assert parse("*".join(["x"] * 101)).variables == ("x",)  # 100 chained operators, no parentheses
    with pytest.raises(ExpressionError, match="more than 100 operators chained or nested"):
        parse("*".join(["x"] * 102))
    assert parse("x" * 1000).variables == ("x" * 1000,)  # 1000 characters
    wide = _balanced_sum(["-" * 80 + "x"] * 11)  # the reviewer's 891-node graph, 921 characters
    assert len(wide) <= expr_mod.MAX_LENGTH and parse(wide).variables == ("x",)


# --- unknown functions: suggestions from aliases and close spellings -----------------------------


@pytest.mark.parametrize(
    ("text", "suggested"),
    [
        ("max(x, y)", "maximum"),
        ("min(x, y)", "minimum"),
        ("ln(x)", "log"),
        ("sigma(x)", "sigmoid"),
        ("Sigma(x)", "sigmoid"),
        ("tahn(x)", "tanh"),
        ("sigmiod(x)", "sigmoid"),
        ("RELU(x)", "relu"),
    ],
)
def test_unknown_function_suggests_the_registered_name(text: str, suggested: str) -> None:
    with pytest.raises(ExpressionError, match=f"did you mean {suggested}\\?") as e:
        parse(text)
    assert "known: abs, " in str(e.value)  # the whole list still follows


def test_unknown_function_without_a_close_name_suggests_nothing() -> None:
    with pytest.raises(ExpressionError) as e:
        parse("frobnicate(x)")
    assert "did you mean" not in str(e.value) and "unknown function 'frobnicate'" in str(e.value)


def test_suggestions_only_name_registered_ops() -> None:
    assert expr_mod.suggestions("max", ["maximum", "tanh"]) == ["maximum"]
    assert expr_mod.suggestions("max", ["tanh"]) == []  # the alias's target is not registered
    assert set(expr_mod.ALIASES.values()) <= set(functions())  # every alias points at a registered op


def test_non_ascii_sigma_names_the_function_to_write() -> None:
    with pytest.raises(ExpressionError, match="non-ASCII character 'σ'.*for the function write sigmoid"):
        parse("σ(x)")
