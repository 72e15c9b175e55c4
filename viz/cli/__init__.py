"""The ``autograd-core`` command line: one parser, one entry point (:func:`main`), one module per subcommand.

* ``graph EXPR --at x=1 y=-3 [-o graph.svg]``: the value, the gradient with
  respect to every variable and (with ``-o``) the graph as SVG and DOT
  (``-o file.dot`` writes the DOT source only, no Graphviz needed);
* ``grad EXPR --at x=2 [--order N]``: every derivative up to order N (nested
  ``grad(..., create_graph=True)``);
* ``check EXPR --at ...``: analytic against central-difference gradients,
  side by side; exit status 0 when they agree, 1 when not;
* ``train ...``: trains an MLP with nn's public API, saves it, then writes the
  loss curve and, for 2-D data, the decision boundary as PNG next to the model.

Modules, one job each:

* :mod:`viz.cli.app`: :data:`~viz.cli.app.COMMANDS` (the registration list),
  :func:`build_parser` and :func:`main`;
* :mod:`viz.cli.command`: the :class:`~viz.cli.command.Command` record,
  :class:`CliError` and the parser class (one-line errors, options added on first use);
* :mod:`viz.cli.inputs`: the expression and ``--at NAME=VALUE`` arguments the
  expression commands share;
* :mod:`viz.cli.expr`: the safe expression parser (a whitelist over Python's
  ``ast``, never ``eval``);
* :mod:`viz.cli.limits`: the bounds on one run (argument count and length,
  derivative cost, network and sample sizes), each checked before the work;
* :mod:`viz.cli.paths`: output paths checked before any work (name lengths, a
  directory that exists and takes new files);
* :mod:`viz.cli.messages`: names shown terminal-safe (``repr`` when unprintable),
  lists and messages cut short with a count of what was left out;
* :mod:`viz.cli.graph`, :mod:`viz.cli.grad`, :mod:`viz.cli.check`,
  :mod:`viz.cli.train`: one subcommand each.

Adding a subcommand: write ``viz/cli/<name>.py`` with ``add_arguments(parser)``,
``run(args, out) -> int`` and ``COMMAND = Command(name, help, add_arguments, run)``
(an expression command calls :func:`~viz.cli.inputs.add_expression_arguments`
and :func:`~viz.cli.inputs.expression_and_point`, and sets ``allow_abbrev=False``),
then add ``<name>.COMMAND`` to :data:`~viz.cli.app.COMMANDS`.

The command line lives in viz because it draws (graphs, plots) and because viz
is the one package allowed to use both the engine and nn: ``viz -> autograd_core``,
``viz -> nn`` (public API only, and only for ``train``), never the reverse.
"""

from .app import COMMANDS, build_parser, main
from .command import CliError
from .inputs import parse_bindings

__all__ = ["main", "build_parser", "parse_bindings", "CliError", "COMMANDS"]
