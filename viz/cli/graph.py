"""``autograd-core graph EXPR --at x=1 y=-3 [-o graph.svg] [--steps page.html]``: value, gradients, the graph.

Prints the value and the gradient with respect to every variable; with ``-o``
it also draws the graph: ``FILE.svg`` (with ``FILE.dot`` beside it, Graphviz
needed) or ``FILE.dot`` (the DOT source only, no Graphviz needed); without
``-o`` a note on stderr says how to draw it.  Exit status
1 when Graphviz's ``dot`` is missing, fails or times out (the values are
printed and the ``.dot`` file is written then).

With ``--steps`` it also writes the backward pass as a step-through page
(:func:`viz.backward_player`): ``PAGE.html``, standalone, loading nothing from
outside; or, given an existing directory, ``DIR/index.html`` and one PNG frame
per step (``step-000.png``, ...) for slides.  The path follows ``-o``'s rules:
checked before anything is computed, its directory must exist, a graph of more
than :data:`MAX_STEPS_NODES` nodes is refused (exit status 2; every step is a
Graphviz run of the whole graph); Graphviz is needed for the frames (exit
status 1 when ``dot`` is missing, fails or times out).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TextIO

from autograd_core.atomic import atomic_write

from ..dot import DEFAULT_MAX_NODES, draw_dot
from ..player import BackwardPlayer, backward_player
from ..render import GraphvizNotFoundError, render_svg
from ..trace import trace
from .command import CliError, Command, fail, fmt, note
from .inputs import add_expression_arguments, expression_and_point, leaves, print_header
from .messages import shown
from .paths import check_name, check_output_path

__all__ = ["COMMAND", "EXAMPLE", "MAX_STEPS_NODES"]

EXAMPLE = "autograd-core graph '(x+y)*z' --at x=1 y=-3 z=4 -o graph.svg"
#: Largest graph ``--steps`` steps through: each step is one Graphviz run of the whole
#: graph, so the cost grows with the square of its size (``-o`` draws up to 500 nodes).
MAX_STEPS_NODES = 100


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_expression_arguments(p)
    p.add_argument(
        "-o", "--output", metavar="FILE", help="write the graph here: FILE.svg (with FILE.dot beside it) or FILE.dot"
    )
    p.add_argument(
        "--steps",
        metavar="PAGE",
        help="write the backward pass as a step-through page: PAGE.html, or an existing directory "
        "(DIR/index.html and one PNG frame per step)",
    )
    p.add_argument("--rankdir", default="LR", choices=["LR", "RL", "TB", "BT"], help="layout direction")


def output_path(text: str) -> Path:
    """Check ``-o`` before anything is computed or written.

    Raises:
        CliError: for an empty name, a name the file system cannot store (see
            :mod:`viz.cli.paths`), a suffix other than ``.svg``/``.dot``, a path
            (or the ``.dot`` beside an ``.svg``) that is a directory, or a
            directory that does not exist or cannot be written.
    """
    if not text.strip():
        raise CliError("-o needs a file name ending in .svg or .dot, for example -o graph.svg")
    path = Path(text)
    # The name first: is_dir() raises OSError on a name longer than the file system stores.
    check_name("-o", path)
    suffix = path.suffix.lower()
    if path.is_dir():
        raise CliError(
            f"-o {shown(path)}: is a directory; give a file name ending in .svg or .dot, e.g. "
            f"{shown(path / 'graph.svg')}"
        )
    if suffix not in (".svg", ".dot"):
        got = repr(path.suffix) if path.suffix else "no suffix"
        raise CliError(
            f"-o {shown(path)}: the file name must end in .svg (SVG, with the .dot beside it) or .dot, got {got}"
        )
    beside = path.with_suffix(".dot")
    if suffix == ".svg" and beside.is_dir():
        raise CliError(
            f"-o {shown(path)}: {shown(beside)}, where the DOT source goes, is a directory; choose another name"
        )
    check_output_path("-o", path)
    return path


def steps_path(text: str) -> Path:
    """Check ``--steps`` before anything is computed or written: a ``.html`` file or an existing directory.

    Raises:
        CliError: for an empty name, a suffix other than ``.html``, a directory
            that does not exist, or a directory whose ``index.html`` is a directory.
    """
    if not text.strip():
        raise CliError("--steps needs a file name ending in .html (or a directory), for example --steps page.html")
    path = Path(text)
    if path.is_dir():
        # A directory gets the page as index.html and the PNG frames beside it.
        if (path / "index.html").is_dir():
            raise CliError(f"--steps {path}: {path / 'index.html'}, where the page goes, is a directory")
        return path
    if text.endswith(("/", os.sep)):
        raise CliError(f"--steps {path}: directory {path} does not exist; create it first")
    if path.suffix.lower() != ".html":
        got = f"'{path.suffix}'" if path.suffix else "no suffix"
        raise CliError(f"--steps {path}: the file name must end in .html, or name an existing directory, got {got}")
    if not path.parent.is_dir():
        raise CliError(f"--steps {path}: directory {path.parent} does not exist; create it first")
    return path


def write_steps(player: BackwardPlayer, page: Path, out: TextIO) -> int:
    """Save the player's page (and, for a directory, its PNG frames); 1 when ``dot`` is missing or fails."""
    try:
        written = player.save(page)
    except OSError as e:
        reason = e.strerror or str(e) or type(e).__name__
        raise CliError(f"--steps {page}: cannot write: {reason}; choose a writable place") from None
    except ValueError as e:  # a file name too long for its directory
        raise CliError(f"--steps {page}: {e}") from None
    except RuntimeError as e:  # dot missing, failed or timed out
        fail(f"--steps {page}: {e}")
        return 1
    if page.is_dir():
        print(f"wrote {written} and {len(player)} PNG frames ({page / 'step-000.png'}, ...)", file=out)
    else:
        print(f"wrote {written} ({len(player)} steps)", file=out)
    return 0


def run(args: argparse.Namespace, out: TextIO) -> int:
    path = output_path(args.output) if args.output is not None else None
    page = steps_path(args.steps) if args.steps is not None else None
    expr, point = expression_and_point(args, EXAMPLE)
    xs = leaves(expr, point)
    f = expr(*xs)
    if not f.label:
        f.label = "f"
    f.backward()
    graph = None
    player = None
    if path is not None:
        # Refused before anything is printed: the user asked for a drawing that cannot be made.
        n = len(trace(f).nodes)
        if n > DEFAULT_MAX_NODES:
            raise CliError(
                f"-o {shown(path)}: the graph has {n} nodes, more than the {DEFAULT_MAX_NODES} that are drawn; "
                "draw a smaller expression, or leave out -o to get the values only"
            )
        graph = draw_dot(f, rankdir=args.rankdir)
    if page is not None:
        n = len(trace(f).nodes)
        if n > MAX_STEPS_NODES:
            raise CliError(
                f"--steps {shown(page)}: the graph has {n} nodes, more than the {MAX_STEPS_NODES} that are stepped "
                "through (one Graphviz run per step); step through a smaller expression, or draw this one with -o"
            )
        title = f"backward pass of f({', '.join(expr.variables)}) = {expr.source.strip()}"
        player = backward_player(f, rankdir=args.rankdir, max_nodes=MAX_STEPS_NODES, title=title)
    print_header(expr, point, out)
    print(f"f = {fmt(f.data)}", file=out)
    for x in xs:
        print(f"df/d{x.label} = {fmt(x.grad)}", file=out)
    if page is not None and player is not None:
        status = write_steps(player, page, out)
        if status:
            return status
    if path is None or graph is None:
        if page is None:  # the values alone: say how to get the picture
            note("no picture written; pass -o graph.svg to draw it")
        return 0
    try:
        if path.suffix.lower() == ".dot":
            atomic_write(path, graph.source)
            print(f"wrote {shown(path)}", file=out)
            return 0
        svg = render_svg(graph, path)
    except GraphvizNotFoundError as e:
        fail(
            "Graphviz's dot program is not on PATH, so no SVG was written; install Graphviz "
            "(Debian/Ubuntu: sudo apt-get install graphviz; macOS: brew install graphviz; "
            f"conda: conda install -c conda-forge graphviz), then run: {e.command}"
        )
        return 1
    except OSError as e:
        reason = e.strerror or type(e).__name__
        raise CliError(
            f"-o {shown(path)}: cannot write in {shown(path.parent)}: {reason}; choose a writable place"
        ) from None
    except RuntimeError as e:  # dot failed or timed out
        fail(f"-o {shown(path)}: {e}")
        return 1
    print(f"wrote {shown(svg)} and {shown(svg.with_suffix('.dot'))}", file=out)
    return 0


COMMAND = Command(
    name="graph",
    help="value, gradients and the computation graph as SVG",
    add_arguments=add_arguments,
    run=run,
    allow_abbrev=False,
)
