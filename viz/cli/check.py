"""``autograd-core check EXPR --at ...``: analytic against central-difference gradients, side by side.

Exit status 0 when they agree within the tolerances, 1 when not (a kink such as
``relu(x)`` at 0 disagrees, as it should).
"""

from __future__ import annotations

import argparse
import math
from typing import TextIO

from autograd_core import GradcheckError, grad, gradcheck, no_grad
from autograd_core.gradcheck import numerical_grad
from autograd_core.notices import notices

from .command import CliError, Command, fmt, note
from .inputs import add_expression_arguments, expression_and_point, leaves, print_header

__all__ = ["COMMAND", "EXAMPLE"]

EXAMPLE = "autograd-core check 'tanh(x*w + b)' --at x=1 w=0.5 b=0"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_expression_arguments(p)
    p.add_argument("--eps", type=float, default=1e-6, help="central-difference step (default 1e-6)")
    p.add_argument("--atol", type=float, default=1e-5, help="absolute tolerance (default 1e-5)")
    p.add_argument("--rtol", type=float, default=1e-3, help="relative tolerance (default 1e-3)")


def run(args: argparse.Namespace, out: TextIO) -> int:
    expr, point = expression_and_point(args, EXAMPLE)
    if not expr.variables:
        raise CliError("the expression has no variables, so there is no gradient to check")
    for name in ("eps", "atol", "rtol"):
        v = getattr(args, name)
        if not (math.isfinite(v) and v >= 0) or (name == "eps" and v == 0):
            raise CliError(f"--{name} must be a finite number {'> 0' if name == 'eps' else '>= 0'}, got {v}")
    xs = leaves(expr, point)
    f = expr(*xs)
    analytic = [g.data for g in grad(f, xs)]
    values = [point[v] for v in expr.variables]

    def fn(p: list[float]) -> float:
        with no_grad():
            return expr(*p).data

    print_header(expr, point, out)
    print(f"f = {fmt(f.data)}", file=out)
    for text in notices(f):  # a nan from log(-1), a kink of relu(0): say why, on stderr
        note(text)
    width = max(5, *(len(v) for v in expr.variables))
    print(f"{'input':<{width}}  {'analytic':>22}  {'numeric (central)':>22}  {'|difference|':>12}  agree", file=out)
    for i, name in enumerate(expr.variables):
        num = numerical_grad(fn, values, i, args.eps)
        diff = abs(analytic[i] - num)
        ok = math.isfinite(num) and diff <= args.atol + args.rtol * abs(num)
        print(
            f"{name:<{width}}  {fmt(analytic[i]):>22}  {fmt(num):>22}  {diff:>12.3g}  {'yes' if ok else 'NO'}",
            file=out,
        )
    tol = f"eps={args.eps:g}, atol={args.atol:g}, rtol={args.rtol:g}"
    try:
        gradcheck(lambda *v: expr(*v), xs, eps=args.eps, atol=args.atol, rtol=args.rtol)
    except GradcheckError as e:
        # Its first line: the "note: ..." lines gradcheck appends were printed to stderr above.
        first = str(e).splitlines()[0]
        print(f"gradients DISAGREE ({tol}): {first}", file=out)
        return 1
    print(f"gradients agree ({tol})", file=out)
    return 0


COMMAND = Command(
    name="check",
    help="analytic vs central-difference gradients",
    add_arguments=add_arguments,
    run=run,
    allow_abbrev=False,
)
