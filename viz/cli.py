"""The ``autograd-core`` command line.

Subcommands:

* ``graph EXPR --at x=1 y=-3 [-o graph.svg]``: the value, the gradient with
  respect to every variable and (with ``-o``) the graph as SVG and DOT
  (``-o file.dot`` writes the DOT source only, no Graphviz needed);
* ``grad EXPR --at x=2 [--order N]``: every derivative up to order N (nested
  ``grad(..., create_graph=True)``);
* ``check EXPR --at ...``: analytic against central-difference gradients,
  side by side; exit status 0 when they agree, 1 when not;
* ``train ...``: trains a model with :mod:`nn.cli` (imported only for this
  command), then writes the loss curve and, for 2-D data, the decision
  boundary as PNG next to the saved model.

Expressions are parsed by :mod:`autograd_core.expr` (a whitelist over Python's
``ast``, never ``eval``).  Every user error (a bad expression, a missing or
malformed ``--at`` value, a bad option, an ``-o`` path that cannot be written,
a graph too large to draw) prints one line to stderr and exits with status 2,
without a traceback.  Exit status 1 means the values were computed but an
external step failed: ``check`` found disagreeing gradients, or Graphviz's
``dot`` is missing, failed or timed out (the ``.dot`` file is written then).

The first token after ``graph``/``grad``/``check`` that is not one of the
command's options (or an option's value) is the expression, whatever it starts
with: ``grad "-x**2" --at x=1`` and ``grad "--x" --at x=1`` work, and so does
``grad --at x=1 -- --x`` (``--`` ends the options).  Options must be spelled
out (no abbreviations such as ``--ord``), so an expression cannot be mistaken
for one; see :func:`_protect_expression`.
"""

from __future__ import annotations

import argparse
import importlib
import itertools
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

import autograd_core
from autograd_core import GradcheckError, Value, grad, gradcheck, no_grad
from autograd_core.expr import Expression, ExpressionError, parse
from autograd_core.gradcheck import numerical_grad

__all__ = ["main", "build_parser", "parse_bindings", "CliError"]

PROG = "autograd-core"
#: Highest derivative order ``grad --order`` computes (graphs grow fast with the order).
MAX_ORDER = 6
#: Most derivatives ``grad`` prints (mixed partials of many variables add up).
MAX_DERIVATIVES = 500
_EXPR_COMMANDS = ("graph", "grad", "check")


class CliError(Exception):
    """A user error on the command line: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage dump) and never exit by themselves."""

    def error(self, message: str) -> NoReturn:
        raise CliError(f"{message} (see {self.prog} --help)")


def _fmt(x: float) -> str:
    return f"{x:.12g}"


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


def _add_expr_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("expr", nargs="?", help="the expression, e.g. '(x+y)*z' (quote it for the shell)")
    p.add_argument(
        "--at",
        nargs="+",
        action="extend",  # --at x=1 --at y=2 adds up; a name given twice is an error, not a silent replacement
        default=[],
        metavar="NAME=VALUE",
        help="the value of every variable, e.g. --at x=1 y=-3",
    )


def build_parser(train_setup: Callable[[argparse.ArgumentParser], None] | None = None) -> argparse.ArgumentParser:
    """The argument parser.

    Args:
        train_setup: adds the options of ``train`` to its subparser
            (``nn.cli.add_train_arguments``, imported only when that command runs).
    """
    parser = _Parser(prog=PROG, description="Differentiate, check and draw scalar expressions; train small MLPs.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {autograd_core.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    # allow_abbrev=False: an expression such as "--a" must not be read as "--at".
    p = sub.add_parser("graph", help="value, gradients and the computation graph as SVG", allow_abbrev=False)
    _add_expr_args(p)
    p.add_argument(
        "-o", "--output", metavar="FILE", help="write the graph here: FILE.svg (with FILE.dot beside it) or FILE.dot"
    )
    p.add_argument("--rankdir", default="LR", choices=["LR", "RL", "TB", "BT"], help="layout direction")

    p = sub.add_parser("grad", help="derivatives up to a given order", allow_abbrev=False)
    _add_expr_args(p)
    p.add_argument("--order", type=int, default=1, help=f"highest derivative order, 1 to {MAX_ORDER} (default 1)")

    p = sub.add_parser("check", help="analytic vs central-difference gradients", allow_abbrev=False)
    _add_expr_args(p)
    p.add_argument("--eps", type=float, default=1e-6, help="central-difference step (default 1e-6)")
    p.add_argument("--atol", type=float, default=1e-5, help="absolute tolerance (default 1e-5)")
    p.add_argument("--rtol", type=float, default=1e-3, help="relative tolerance (default 1e-3)")

    p = sub.add_parser("train", help="train an MLP (options: autograd-core train --help)")
    if train_setup is not None:
        train_setup(p)
    return parser


def _subparser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            sub = action.choices.get(command)
            return sub if isinstance(sub, argparse.ArgumentParser) else None
    return None


def _protect_expression(argv: list[str], parser: argparse.ArgumentParser | None = None) -> list[str]:
    """Mark the expression of ``graph``/``grad``/``check`` as positional, whatever it starts with.

    argparse takes any token starting with ``-`` for an option.  After the
    command, the first token that is neither one of the command's option
    strings (exactly, or ``--opt=value``) nor the value of such an option is
    the expression; a leading space makes argparse read it as positional, and
    the expression parser strips it.  Tokens after the ``--at`` option are its
    ``name=value`` bindings as long as they contain ``=`` and do not start
    with ``-``.  A ``--`` ends the options: it is dropped and every later
    token is positional.  Write ``-o FILE`` or ``--output=FILE``, not ``-oFILE``.
    """
    out = list(argv)
    start = next((i for i, a in enumerate(out) if not a.startswith("-")), None)
    if start is None or out[start] not in _EXPR_COMMANDS:
        return out
    sub = _subparser(parser if parser is not None else build_parser(), out[start])
    actions = sub._option_string_actions if sub is not None else {}
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


def _expression_and_point(args: argparse.Namespace) -> tuple[Expression, dict[str, float]]:
    at = list(args.at)
    expr_text = args.expr
    if expr_text is None:
        # `--at x=1 EXPR`: nargs="+" swallowed the expression; take it back.
        loose = [a for a in at if "=" not in a]
        if len(loose) == 1:
            expr_text = loose[0]
            at.remove(expr_text)
        else:
            raise CliError("missing the expression, e.g. autograd-core grad 'x**3' --at x=2")
    expr = parse(expr_text)
    point = parse_bindings(at)
    missing = [v for v in expr.variables if v not in point]
    if missing:
        raise CliError(f"no value for {', '.join(missing)}; add {' '.join(m + '=<number>' for m in missing)} to --at")
    extra = [k for k in point if k not in expr.variables]
    if extra:
        raise CliError(f"--at gives {', '.join(extra)}, which the expression does not use")
    return expr, point


def _leaves(expr: Expression, point: dict[str, float]) -> list[Value]:
    return [Value(point[v], v) for v in expr.variables]


def _header(expr: Expression, point: dict[str, float], out: TextIO) -> None:
    where = ", ".join(f"{k} = {_fmt(v)}" for k, v in point.items())
    print(f"f({', '.join(expr.variables)}) = {expr.source.strip()}" + (f"  at {where}" if where else ""), file=out)


def _output_path(text: str) -> Path:
    """Check ``-o`` before anything is computed or written.

    Raises:
        CliError: for an empty name, a suffix other than ``.svg``/``.dot``, a
            path (or the ``.dot`` beside an ``.svg``) that is a directory, or a
            directory that does not exist.
    """
    if not text.strip():
        raise CliError("-o needs a file name ending in .svg or .dot, for example -o graph.svg")
    path = Path(text)
    suffix = path.suffix.lower()
    if path.is_dir():
        raise CliError(f"-o {path}: is a directory; give a file name ending in .svg or .dot, e.g. {path / 'graph.svg'}")
    if suffix not in (".svg", ".dot"):
        got = f"'{path.suffix}'" if path.suffix else "no suffix"
        raise CliError(f"-o {path}: the file name must end in .svg (SVG, with the .dot beside it) or .dot, got {got}")
    if not path.parent.is_dir():
        raise CliError(f"-o {path}: directory {path.parent} does not exist; create it first")
    beside = path.with_suffix(".dot")
    if suffix == ".svg" and beside.is_dir():
        raise CliError(f"-o {path}: {beside}, where the DOT source goes, is a directory; choose another name")
    return path


def _cmd_graph(args: argparse.Namespace, out: TextIO) -> int:
    path = _output_path(args.output) if args.output is not None else None
    expr, point = _expression_and_point(args)
    xs = _leaves(expr, point)
    f = expr(*xs)
    if not f.label:
        f.label = "f"
    f.backward()
    graph = None
    if path is not None:
        from .dot import DEFAULT_MAX_NODES, draw_dot
        from .trace import trace

        n = len(trace(f).nodes)
        if n > DEFAULT_MAX_NODES:
            raise CliError(
                f"-o {path}: the graph has {n} nodes, more than the {DEFAULT_MAX_NODES} that are drawn; "
                "draw a smaller expression, or leave out -o to get the values only"
            )
        graph = draw_dot(f, rankdir=args.rankdir)
    _header(expr, point, out)
    print(f"f = {_fmt(f.data)}", file=out)
    for x in xs:
        print(f"df/d{x.label} = {_fmt(x.grad)}", file=out)
    if path is None or graph is None:
        return 0
    from autograd_core.atomic import atomic_write

    from .render import GraphvizNotFoundError, render_svg

    try:
        if path.suffix.lower() == ".dot":
            atomic_write(path, graph.source)
            print(f"wrote {path}", file=out)
            return 0
        svg = render_svg(graph, path)
    except GraphvizNotFoundError as e:
        _fail(
            "Graphviz's dot program is not on PATH, so no SVG was written; install Graphviz "
            "(Debian/Ubuntu: sudo apt-get install graphviz; macOS: brew install graphviz; "
            f"conda: conda install -c conda-forge graphviz), then run: {e.command}"
        )
        return 1
    except OSError as e:
        reason = e.strerror or type(e).__name__
        raise CliError(f"-o {path}: cannot write in {path.parent}: {reason}; choose a writable place") from None
    except RuntimeError as e:  # dot failed or timed out
        _fail(f"-o {path}: {e}")
        return 1
    print(f"wrote {svg} and {svg.with_suffix('.dot')}", file=out)
    return 0


def _partial_name(order: int, combo: tuple[int, ...], names: Sequence[str]) -> str:
    """``df/dx``, ``d2f/dx^2``, ``d2f/dx dy``, ``d3f/dx1^2 dx12``: powers with ``^``, factors apart.

    Writing the power with ``^`` and separating the variables keeps names
    with digits unambiguous (``d2f/dx1^2`` is not ``d2f/dx12``).
    """
    top = "df" if order == 1 else f"d{order}f"
    parts = []
    for i, group in itertools.groupby(combo):
        n = len(list(group))
        parts.append(f"d{names[i]}" + (f"^{n}" if n > 1 else ""))
    return f"{top}/{' '.join(parts)}"


def _cmd_grad(args: argparse.Namespace, out: TextIO) -> int:
    order = args.order
    if not 1 <= order <= MAX_ORDER:
        raise CliError(f"--order must be between 1 and {MAX_ORDER}, got {order}")
    expr, point = _expression_and_point(args)
    xs = _leaves(expr, point)
    n = len(xs)
    total = sum(math.comb(n + k - 1, k) for k in range(1, order + 1))
    if total > MAX_DERIVATIVES:
        raise CliError(f"{n} variables to order {order} is {total} derivatives, more than {MAX_DERIVATIVES}")
    f = expr(*xs)
    _header(expr, point, out)
    print(f"f = {_fmt(f.data)}", file=out)
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
            print(f"{_partial_name(k, combo, names)} = {_fmt(nxt[combo].data)}", file=out)
        level = nxt
    return 0


def _cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    expr, point = _expression_and_point(args)
    if not expr.variables:
        raise CliError("the expression has no variables, so there is no gradient to check")
    for name in ("eps", "atol", "rtol"):
        v = getattr(args, name)
        if not (math.isfinite(v) and v >= 0) or (name == "eps" and v == 0):
            raise CliError(f"--{name} must be a finite number {'> 0' if name == 'eps' else '>= 0'}, got {v}")
    xs = _leaves(expr, point)
    f = expr(*xs)
    analytic = [g.data for g in grad(f, xs)]
    values = [point[v] for v in expr.variables]

    def fn(p: list[float]) -> float:
        with no_grad():
            return expr(*p).data

    _header(expr, point, out)
    print(f"f = {_fmt(f.data)}", file=out)
    width = max(5, *(len(v) for v in expr.variables))
    print(f"{'input':<{width}}  {'analytic':>22}  {'numeric (central)':>22}  {'|difference|':>12}  agree", file=out)
    for i, name in enumerate(expr.variables):
        num = numerical_grad(fn, values, i, args.eps)
        diff = abs(analytic[i] - num)
        ok = math.isfinite(num) and diff <= args.atol + args.rtol * abs(num)
        print(
            f"{name:<{width}}  {_fmt(analytic[i]):>22}  {_fmt(num):>22}  {diff:>12.3g}  {'yes' if ok else 'NO'}",
            file=out,
        )
    tol = f"eps={args.eps:g}, atol={args.atol:g}, rtol={args.rtol:g}"
    try:
        gradcheck(lambda *v: expr(*v), xs, eps=args.eps, atol=args.atol, rtol=args.rtol)
    except GradcheckError as e:
        print(f"gradients DISAGREE ({tol}): {e}", file=out)
        return 1
    print(f"gradients agree ({tol})", file=out)
    return 0


def _nn_cli() -> Any:
    """``nn.cli``, imported only for the train command (nn is not needed for the others).

    It must provide ``add_train_arguments(parser)`` and ``run_train(args) -> TrainOutcome``
    (``model``, ``history``, ``X_train``, ``y_train``, ``out_path``).
    """
    try:
        module = importlib.import_module("nn.cli")
    except ImportError as e:
        raise CliError(f"the train command needs the nn package, which could not be imported: {e}") from None
    missing = [n for n in ("add_train_arguments", "run_train") if not callable(getattr(module, n, None))]
    if missing:
        raise CliError(f"the train command needs {', '.join(missing)} in nn.cli, which it does not provide yet")
    return module


def _plot_paths(model_path: Path) -> tuple[Path, Path]:
    """Where the plots go, next to the model: ``m.json`` -> ``m.loss.png``, ``m.boundary.png``."""
    stem = model_path.with_suffix("")
    return stem.with_name(stem.name + ".loss.png"), stem.with_name(stem.name + ".boundary.png")


def _cmd_train(args: argparse.Namespace, out: TextIO) -> int:
    # Checked before training, next to nn.cli's checks of --out: a plot path that is a
    # directory would otherwise fail only after the model was trained and saved.
    requested = getattr(args, "out", None)
    if requested is not None:
        for plot in _plot_paths(Path(requested)):
            if plot.is_dir():
                raise CliError(
                    f"--out {requested}: {plot} (where the plot goes) is a directory; move it or choose another --out"
                )
    outcome = _nn_cli().run_train(args)
    model_path = Path(outcome.out_path)
    try:
        import matplotlib  # noqa: F401  (an optional extra: training still succeeded without it)
    except ImportError:
        hint = "install matplotlib (pip install 'autograd-core[plots]')"
        print(f"{PROG}: note: no plots written: {hint}", file=sys.stderr)
        return 0
    from .plots import plot_decision_boundary, plot_history

    loss_path, boundary_path = _plot_paths(model_path)
    try:
        plot_history(outcome.history, path=loss_path)
        print(f"wrote {loss_path}", file=out)
        import numpy as np

        X = np.asarray(outcome.X_train, dtype=float)
        if X.ndim == 2 and X.shape[1] == 2:
            plot_decision_boundary(outcome.model, X, outcome.y_train, path=boundary_path)
            print(f"wrote {boundary_path}", file=out)
    except OSError as e:
        raise CliError(f"--out {model_path}: cannot write: {e.strerror or e} ({e.filename or 'a plot'})") from None
    return 0


_COMMANDS = {"graph": _cmd_graph, "grad": _cmd_grad, "check": _cmd_check, "train": _cmd_train}


def _command_of(argv: Sequence[str]) -> str | None:
    return next((a for a in argv if not a.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 check failed or no dot, 2 usage error).

    Args:
        argv: the arguments without the program name (default ``sys.argv[1:]``).
    """
    raw = list(sys.argv[1:] if argv is None else argv)
    try:
        nn_cli = _nn_cli() if _command_of(raw) == "train" else None
        train_setup = nn_cli.add_train_arguments if nn_cli is not None else None
        parser = build_parser(train_setup)
        args = parser.parse_args(_protect_expression(raw, parser))
        if args.command != "train":
            return _COMMANDS[args.command](args, sys.stdout)
        try:
            return _cmd_train(args, sys.stdout)
        except (ValueError, TypeError) as e:
            # nn.cli reports bad option values (an unknown dataset, a negative rate) this way.
            raise CliError(str(e)) from None
        except OSError as e:
            # nn.cli reports an unwritable --out as a ValueError; this is the last resort for any other write.
            raise CliError(f"--out {getattr(args, 'out', '?')}: cannot write: {e.strerror or e}") from None
    except (CliError, ExpressionError) as e:
        _fail(str(e))
        return 2


def _one_line(msg: str) -> str:
    return " ".join(msg.split())


def _fail(msg: str) -> None:
    print(f"{PROG}: error: {_one_line(msg)}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
