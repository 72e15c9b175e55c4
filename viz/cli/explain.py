"""``autograd-core explain EXPR --at ... [--wrt NAME]``: the backward pass as a table and the chain rule per input.

Prints the value, then every step of the backward pass as the engine runs it
(:func:`autograd_core.steps.backward_steps`, one row per input of each node:
the gradient that reached the node, the local derivative towards the input
and the contribution added into it), then, for every variable (or only the
one ``--wrt`` names), d f / d variable written as a sum over paths of
products of local derivatives (:func:`autograd_core.steps.explain`).  Past
``--max-paths`` paths the memoized form is printed instead of the list.

Variables are named as in the expression, the output ``f``, an intermediate
node by its op and its topological number (``add3``), the number of its
``v3`` node in ``autograd-core graph -o g.dot``.  Nothing is drawn, so
Graphviz is not needed.
"""

from __future__ import annotations

import argparse
from typing import TextIO

from autograd_core.steps import DEFAULT_MAX_PATHS, backward_steps, explain, format_steps_table

from .command import CliError, Command, fmt
from .inputs import add_expression_arguments, expression_and_point, leaves, print_header

__all__ = ["COMMAND", "EXAMPLE", "MAX_PATHS_LIMIT"]

EXAMPLE = "autograd-core explain '(x+y)*z' --at x=1 y=-3 z=4"
#: Largest ``--max-paths`` accepted: every listed path is two lines of output.
MAX_PATHS_LIMIT = 10_000


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_expression_arguments(p)
    p.add_argument("--wrt", metavar="NAME", help="explain the derivative with respect to this variable only")
    p.add_argument(
        "--max-paths",
        type=int,
        default=DEFAULT_MAX_PATHS,
        help=f"list the paths one by one up to this many, else the memoized form (default {DEFAULT_MAX_PATHS})",
    )


def run(args: argparse.Namespace, out: TextIO) -> int:
    if not 0 <= args.max_paths <= MAX_PATHS_LIMIT:
        raise CliError(f"--max-paths must be between 0 and {MAX_PATHS_LIMIT}, got {args.max_paths}")
    expr, point = expression_and_point(args, EXAMPLE)
    if not expr.variables:
        raise CliError("the expression has no variables, so there is no derivative to explain")
    if args.wrt is not None and args.wrt not in expr.variables:
        raise CliError(
            f"--wrt {args.wrt}: the expression has no variable {args.wrt!r}; "
            f"its variables are {', '.join(expr.variables)}"
        )
    xs = leaves(expr, point)
    f = expr(*xs)
    if not f.label:
        # The output's name in the table and the sums; never one of the variables' names.
        f.label = next((n for n in ("f", "out", "output") if n not in expr.variables), "f_output")
    steps = backward_steps(f)
    print_header(expr, point, out)
    print(f"f = {fmt(f.data)}", file=out)
    print("", file=out)
    print("backward pass, output first (contribution = grad × local, added into the input's grad):", file=out)
    print(format_steps_table(steps), file=out)
    for x in xs:
        if args.wrt is not None and x.label != args.wrt:
            continue
        print("", file=out)
        print(explain(f, x, max_paths=args.max_paths), file=out)
    return 0


COMMAND = Command(
    name="explain",
    help="the backward pass as steps and sums over paths",
    add_arguments=add_arguments,
    run=run,
    allow_abbrev=False,
)
