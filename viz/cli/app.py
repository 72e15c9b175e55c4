"""The ``autograd-core`` parser and entry point: every subcommand is registered here, in :data:`COMMANDS`.

:func:`build_parser` builds the one :mod:`argparse` parser from the
:class:`~viz.cli.command.Command` records; :func:`main` parses, runs the chosen
command and turns every user error into one line on stderr.

Exit status: 0 ok; 1 the values were computed but a check or an external step
failed (``check`` found disagreeing gradients, Graphviz's ``dot`` is missing,
failed or timed out); 2 a user error (a bad expression, a missing or malformed
``--at`` value, a bad option, a path that cannot be written, a graph too
large to draw, an input over one of the bounds of :mod:`viz.cli.limits`),
printed as one line of bounded length without a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import autograd_core

from . import check, explain, grad, graph, train
from .command import PROG, CliError, Command, Parser, fail
from .inputs import protect_expression
from .limits import check_argv

__all__ = ["COMMANDS", "build_parser", "main"]

#: The subcommands, in the order ``--help`` lists them.  A new one is a module
#: defining ``COMMAND = Command(...)`` and one entry here.
COMMANDS: tuple[Command, ...] = (graph.COMMAND, grad.COMMAND, check.COMMAND, explain.COMMAND, train.COMMAND)


def build_parser(commands: Sequence[Command] = COMMANDS) -> Parser:
    """The argument parser of ``autograd-core``, with one subparser per command.

    Each subcommand's options are added when it is first used (see
    :class:`~viz.cli.command.Parser`); ``parser.subcommands`` maps names to subparsers.

    Args:
        commands: the subcommands (default: :data:`COMMANDS`).
    """
    parser = Parser(prog=PROG, description="Differentiate, check and draw scalar expressions; train small MLPs.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {autograd_core.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    for command in commands:
        parser.subcommands[command.name] = sub.add_parser(
            command.name,
            help=command.help,
            allow_abbrev=command.allow_abbrev,
            add_arguments=command.add_arguments,
        )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 check failed or no dot, 2 usage error).

    Args:
        argv: the arguments without the program name (default ``sys.argv[1:]``).
    """
    raw = list(sys.argv[1:] if argv is None else argv)
    try:
        check_argv(raw)  # before argparse, whose handling of many repeated options is quadratic
        parser = build_parser()
        args = parser.parse_args(protect_expression(raw, parser))
        command = next(c for c in COMMANDS if c.name == args.command)
        return command.run(args, sys.stdout)
    except CliError as e:
        fail(str(e))
        return 2
