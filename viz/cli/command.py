"""What every subcommand of ``autograd-core`` shares: the :class:`Command` record, the error, the parser class.

A subcommand is a module that defines ``COMMAND = Command(name, help, add_arguments, run)``;
:mod:`viz.cli.app` lists those records and builds the one parser from them.

:class:`Parser` differs from :class:`argparse.ArgumentParser` in two ways:

* its errors are one line (no usage dump) and raise :class:`CliError` instead of
  exiting, so :func:`viz.cli.main` decides the exit status in one place;
* a subcommand's options are added the first time that subcommand is parsed or
  its help is formatted, not when the parser is built.  A command therefore pays
  only for its own imports: ``grad`` never loads :mod:`nn`, which only ``train``
  needs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn, TextIO

from .messages import bounded

__all__ = ["PROG", "Command", "CliError", "Parser", "fmt", "fail", "note"]

PROG = "autograd-core"


class CliError(Exception):
    """A user error on the command line: printed as one line, exit status 2."""


@dataclass(frozen=True)
class Command:
    """One subcommand.

    Attributes:
        name: what the user types after ``autograd-core``.
        help: one line for ``autograd-core --help``.
        add_arguments: adds the subcommand's arguments to its (sub)parser.
        run: does the work; prints results to the stream it is given and returns
            the exit status (0 ok, 1 computed but a check or an external tool
            failed).  User errors are raised as :class:`CliError` (exit status 2).
        allow_abbrev: whether argparse accepts unambiguous prefixes of long options.
            Commands that take an expression say False, so that ``--a`` (an
            expression) is not read as ``--at``.
    """

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, TextIO], int]
    allow_abbrev: bool = True


class Parser(argparse.ArgumentParser):
    """An ArgumentParser with one-line errors that never exits by itself, and options added on first use.

    Args:
        add_arguments: called once with this parser before it first parses or
            formats its help (``None``: nothing to add).
        *args, **kwargs: as for :class:`argparse.ArgumentParser`.
    """

    def __init__(
        self, *args: Any, add_arguments: Callable[[argparse.ArgumentParser], None] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._pending = add_arguments
        #: The subcommands' parsers by name, filled by :func:`viz.cli.app.build_parser`.
        self.subcommands: dict[str, Parser] = {}

    def add_pending_arguments(self) -> None:
        """Add the arguments given as ``add_arguments`` now, if that has not happened yet."""
        if self._pending is not None:
            add, self._pending = self._pending, None
            add(self)

    def parse_known_args(self, *args: Any, **kwargs: Any) -> Any:
        # argparse hands a subcommand's tokens to its parser through this method.
        self.add_pending_arguments()
        return super().parse_known_args(*args, **kwargs)

    def format_usage(self) -> str:
        self.add_pending_arguments()
        return super().format_usage()

    def format_help(self) -> str:
        self.add_pending_arguments()
        return super().format_help()

    def option_actions(self) -> dict[str, argparse.Action]:
        """``{option string: action}`` for every option, e.g. ``{"--at": ..., "-o": ...}``."""
        self.add_pending_arguments()
        return dict(self._option_string_actions)

    def positional_dests(self) -> list[str]:
        """The names of the positional arguments, e.g. ``["expr"]``."""
        self.add_pending_arguments()
        return [a.dest for a in self._actions if not a.option_strings]

    def error(self, message: str) -> NoReturn:
        raise CliError(f"{message} (see {self.prog} --help)")


def fmt(x: float) -> str:
    """A number as the command line prints it: 12 significant digits, no trailing zeros."""
    return f"{x:.12g}"


def fail(msg: str) -> None:
    """Print ``msg`` to stderr as one line ``autograd-core: error: ...``, escaped and cut to a bounded length."""
    print(f"{PROG}: error: {bounded(msg)}", file=sys.stderr)


def note(msg: str) -> None:
    """Print ``msg`` to stderr as one line ``autograd-core: note: ...`` (a hint; the run still succeeded)."""
    print(f"{PROG}: note: {bounded(msg)}", file=sys.stderr)
