"""``autograd-core grad EXPR --at x=2 [--order N]``: every derivative up to order N.

Each order differentiates the previous one with ``grad(..., create_graph=True)``;
mixed partials are printed once (``d2f/dx dy``, not also ``d2f/dy dx``).
"""

from __future__ import annotations

import argparse
import itertools
import math
from collections.abc import Sequence
from typing import TextIO

from autograd_core import Value, grad
from autograd_core.notices import notices

from ..trace import trace
from .command import CliError, Command, fmt, note
from .inputs import add_expression_arguments, expression_and_point, leaves, print_header
from .limits import check_derivative_cost

__all__ = ["COMMAND", "EXAMPLE", "MAX_ORDER", "MAX_DERIVATIVES", "partial_name"]

EXAMPLE = "autograd-core grad 'x**3' --at x=2"
#: Highest derivative order ``grad --order`` computes (graphs grow fast with the order).
MAX_ORDER = 6
#: Most derivatives ``grad`` prints (mixed partials of many variables add up).
MAX_DERIVATIVES = 500


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_expression_arguments(p)
    p.add_argument("--order", type=int, default=1, help=f"highest derivative order, 1 to {MAX_ORDER} (default 1)")


def partial_name(order: int, combo: tuple[int, ...], names: Sequence[str]) -> str:
    """``df/dx``, ``d2f/dx^2``, ``d2f/dx dy``, ``d3f/dx1^2 dx12``: powers with ``^``, factors apart.

    Writing the power with ``^`` and separating the variables keeps names
    with digits unambiguous (``d2f/dx1^2`` is not ``d2f/dx12``).

    Args:
        order: the derivative's order.
        combo: the sorted indices into ``names`` of the variables differentiated by.
        names: the variable names.
    """
    top = "df" if order == 1 else f"d{order}f"
    parts = []
    for i, group in itertools.groupby(combo):
        n = len(list(group))
        parts.append(f"d{names[i]}" + (f"^{n}" if n > 1 else ""))
    return f"{top}/{' '.join(parts)}"


def run(args: argparse.Namespace, out: TextIO) -> int:
    order = args.order
    if not 1 <= order <= MAX_ORDER:
        raise CliError(f"--order must be between 1 and {MAX_ORDER}, got {order}")
    expr, point = expression_and_point(args, EXAMPLE)
    xs = leaves(expr, point)
    n = len(xs)
    total = sum(math.comb(n + k - 1, k) for k in range(1, order + 1))
    if total > MAX_DERIVATIVES:
        raise CliError(f"{n} variables to order {order} is {total} derivatives, more than {MAX_DERIVATIVES}")
    f = expr(*xs)
    # Building f is cheap (the expression is bounded); its derivatives' graphs grow geometrically with the order.
    check_derivative_cost(len(trace(f).nodes), n, order)
    print_header(expr, point, out)
    print(f"f = {fmt(f.data)}", file=out)
    for text in notices(f):  # a nan from log(-1), a kink of relu(0): say why, on stderr
        note(text)
    names = [x.label for x in xs]
    # Each level differentiates the previous one; only sorted index tuples are
    # kept, since mixed partials of smooth functions do not depend on the order.
    level: dict[tuple[int, ...], Value] = {(): f}
    for k in range(1, order + 1):
        nxt: dict[tuple[int, ...], Value] = {}
        for combo, g in level.items():
            lo = combo[-1] if combo else 0
            wrt = xs[lo:]
            grads = grad(g, wrt, create_graph=k < order)
            for j, gj in enumerate(grads, start=lo):
                nxt[combo + (j,)] = gj
        for combo in sorted(nxt):
            print(f"{partial_name(k, combo, names)} = {fmt(nxt[combo].data)}", file=out)
        level = nxt
    return 0


COMMAND = Command(
    name="grad",
    help="derivatives up to a given order",
    add_arguments=add_arguments,
    run=run,
    allow_abbrev=False,
)
