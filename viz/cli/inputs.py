"""The inputs of the expression commands (``graph``, ``grad``, ``check``): ``EXPR`` and ``--at NAME=VALUE``.

:func:`add_expression_arguments` declares them on a subcommand's parser;
:func:`expression_and_point` turns the parsed strings into an
:class:`~viz.cli.expr.Expression` and a checked ``{name: value}`` point;
:func:`protect_expression` lets an expression start with ``-``.

The first token after the command that is not one of the command's options (or
an option's value) is the expression, whatever it starts with:
``grad "-x**2" --at x=1`` and ``grad "--x" --at x=1`` work, and so does
``grad --at x=1 -- --x`` (``--`` ends the options).  Options must be spelled
out (the commands set ``allow_abbrev=False``), so an expression such as
``--a`` cannot be mistaken for ``--at``.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from typing import TextIO

from autograd_core import Value

from .command import CliError, Parser, fmt
from .expr import Expression, ExpressionError, parse
from .messages import MAX_LISTED, listing

__all__ = [
    "EXPR",
    "add_expression_arguments",
    "parse_bindings",
    "expression_and_point",
    "protect_expression",
    "leaves",
    "print_header",
]

#: The name (argparse ``dest``) of the expression argument; :func:`protect_expression` looks for it.
EXPR = "expr"


def add_expression_arguments(p: argparse.ArgumentParser) -> None:
    """Add the positional expression and ``--at NAME=VALUE ...`` to ``p``."""
    p.add_argument(EXPR, nargs="?", help="the expression, e.g. '(x+y)*z' (quote it for the shell)")
    p.add_argument(
        "--at",
        nargs="+",
        action="extend",  # --at x=1 --at y=2 adds up; a name given twice is an error, not a silent replacement
        default=[],
        metavar="NAME=VALUE",
        help="the value of every variable, e.g. --at x=1 y=-3",
    )


def parse_bindings(items: Sequence[str]) -> dict[str, float]:
    """``["x=1", "y=-3"]`` -> ``{"x": 1.0, "y": -3.0}``.

    Raises:
        CliError: for an item without ``=``, a name that is not an identifier,
            a value that is not a finite number, or a name given twice.
    """
    out: dict[str, float] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name, text = name.strip(), text.strip()
        if not sep:
            raise CliError(f"--at {item!r}: expected name=value, for example x=1.5")
        if not name.isascii():
            raise CliError(f"--at {item!r}: write the variable name {name!r} in ASCII, as in the expression")
        if not name.isidentifier():
            raise CliError(f"--at {item!r}: {name!r} is not a variable name")
        if not text.isascii():
            # float() reads full-width and Arabic-Indic digits; the expression refuses them, so --at does too.
            raise CliError(f"--at {item!r}: write the value {text!r} in ASCII digits, as in the expression")
        try:
            value = float(text)
        except ValueError:
            raise CliError(f"--at {item!r}: {text!r} is not a number") from None
        if not math.isfinite(value):
            raise CliError(f"--at {item!r}: the value must be a finite number")
        if name in out:
            raise CliError(f"--at gives {name} twice")
        out[name] = value
    return out


def expression_and_point(args: argparse.Namespace, example: str) -> tuple[Expression, dict[str, float]]:
    """The parsed expression and the point ``--at`` gives, checked against each other.

    Args:
        args: the parsed arguments of a command set up by :func:`add_expression_arguments`.
        example: a whole command line of this command, shown when the expression is missing.

    Raises:
        CliError: for a missing or invalid expression, a malformed binding, a
            variable without a value or a value for a variable the expression does not use.
    """
    at = list(args.at)
    expr_text = getattr(args, EXPR)
    if expr_text is None:
        # `--at x=1 EXPR`: nargs="+" swallowed the expression; take it back.
        loose = [a for a in at if "=" not in a]
        if len(loose) == 1:
            expr_text = loose[0]
            at.remove(expr_text)
        else:
            raise CliError(f"missing the expression, e.g. {example}")
    try:
        expr = parse(expr_text)
    except ExpressionError as e:
        raise CliError(str(e)) from None
    point = parse_bindings(at)
    missing = [v for v in expr.variables if v not in point]
    if missing:
        add = " ".join(m + "=<number>" for m in missing[:MAX_LISTED]) + (" ..." if len(missing) > MAX_LISTED else "")
        raise CliError(f"no value for {listing(missing)}; add {add} to --at")
    extra = [k for k in point if k not in expr.variables]
    if extra:
        raise CliError(f"--at gives {listing(extra)}, which the expression does not use")
    return expr, point


def leaves(expr: Expression, point: dict[str, float]) -> list[Value]:
    """One leaf per variable, in the expression's order, labelled with its name."""
    return [Value(point[v], v) for v in expr.variables]


def print_header(expr: Expression, point: dict[str, float], out: TextIO) -> None:
    """The first output line: ``f(x, y) = x*y  at x = 2, y = 3``."""
    where = ", ".join(f"{k} = {fmt(v)}" for k, v in point.items())
    print(f"f({', '.join(expr.variables)}) = {expr.source.strip()}" + (f"  at {where}" if where else ""), file=out)


def protect_expression(argv: Sequence[str], parser: Parser) -> list[str]:
    """Mark the expression of a command that takes one as positional, whatever it starts with.

    argparse takes any token starting with ``-`` for an option.  After the
    command, the first token that is neither one of the command's option
    strings (exactly, or ``--opt=value``) nor the value of such an option is
    the expression; a leading space makes argparse read it as positional, and
    the expression parser strips it.  Tokens after the ``--at`` option are its
    ``name=value`` bindings as long as they contain ``=`` and do not start
    with ``-``.  A ``--`` ends the options: it is dropped and every later
    token is positional.  Write ``-o FILE`` or ``--output=FILE``, not ``-oFILE``.

    Args:
        argv: the arguments without the program name.
        parser: the parser of :func:`viz.cli.build_parser`; only a subcommand
            with an :data:`EXPR` positional is touched.
    """
    out = list(argv)
    start = next((i for i, a in enumerate(out) if not a.startswith("-")), None)
    sub = parser.subcommands.get(out[start]) if start is not None else None
    if start is None or sub is None or EXPR not in sub.positional_dests():
        return out
    actions = sub.option_actions()
    found = False  # the expression has been seen
    in_bindings = False  # after --at
    i = start + 1
    while i < len(out):
        a = out[i]
        if a == "--":
            del out[i]
            for j in range(i, len(out)):
                out[j] = " " + out[j] if out[j].startswith("-") else out[j]
            break
        opt = a.partition("=")[0] if a.startswith("--") else a
        action = actions.get(opt)
        if action is not None:
            in_bindings = action.dest == "at"
            takes_value = action.nargs is None or action.nargs == 1
            i += 2 if takes_value and "=" not in a else 1
            continue
        if not found and (a.startswith("-") or not in_bindings or "=" not in a):
            found = True
            in_bindings = False
            if a.startswith("-"):
                out[i] = " " + a
        i += 1
    return out
