"""The bounds on what one ``autograd-core`` run may ask for, each checked before the work it bounds starts.

Every bound is generous for honest use and stops inputs whose cost would be
minutes, gigabytes or a crash:

* the argument vector: at most :data:`MAX_ARGS` arguments, none longer than
  :data:`MAX_ARG_LENGTH` characters (:func:`check_argv`, run before argparse,
  whose handling of many repeated options is quadratic);
* ``grad --order``: the estimated size of all derivative graphs
  (:func:`derivative_cost`) at most :data:`MAX_DERIVATIVE_NODES`;
* ``train``: at most :data:`MAX_PARAMETERS` parameters in the MLP (counted from
  ``--hidden`` and the data set's inputs and outputs by :func:`mlp_parameters`,
  before the network is built), :data:`MAX_LAYERS` hidden layers,
  :data:`MAX_SAMPLES` samples and batch size, :data:`MAX_EPOCHS` epochs.

Each refusal is a :class:`~viz.cli.command.CliError` naming the option and the bound.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from .command import CliError

__all__ = [
    "MAX_ARGS",
    "MAX_ARG_LENGTH",
    "MAX_DERIVATIVE_NODES",
    "GROWTH_PER_ORDER",
    "MAX_PARAMETERS",
    "MAX_LAYERS",
    "MAX_SAMPLES",
    "MAX_EPOCHS",
    "check_argv",
    "derivative_cost",
    "check_derivative_cost",
    "mlp_parameters",
    "check_network",
]

#: Most arguments after the program name (a run with 100 variables uses about 110).
MAX_ARGS = 1000
#: Longest single argument, in characters (an expression is at most 1000; a path up to 4096 bytes).
MAX_ARG_LENGTH = 8192

#: How many times larger a derivative's graph is than the graph it differentiates, for the
#: estimate.  Measured: 1.6 to 3.4 per order on wide and deeply nested expressions after the
#: first order (up to 5 for the first one); 3 keeps the estimate near the measured worst.
GROWTH_PER_ORDER = 3
#: Largest estimated number of graph nodes ``grad`` builds over all orders.  Measured at
#: 0.2 to 3 microseconds of run time per estimated node: about 3 s at worst.
MAX_DERIVATIVE_NODES = 1_000_000

#: Most parameters of the network ``train`` builds.  An MLP(2, [300, 300, 1]) has 91,501
#: and trains at about 30 s per epoch of 200 samples on the compiled path.
MAX_PARAMETERS = 100_000
#: Most hidden layers of ``--hidden``.
MAX_LAYERS = 100
#: Most samples of ``--n`` (and largest ``--batch-size``).
MAX_SAMPLES = 100_000
#: Most passes of ``--epochs``.
MAX_EPOCHS = 10_000


def check_argv(argv: Sequence[str]) -> None:
    """Refuse an argument vector that is too long, or an argument that is, before anything parses it.

    Raises:
        CliError: naming the count or the position and length of the argument.
    """
    if len(argv) > MAX_ARGS:
        raise CliError(
            f"{len(argv)} arguments is more than the limit of {MAX_ARGS}; "
            "give fewer, e.g. one --at with several NAME=VALUE"
        )
    for i, a in enumerate(argv, start=1):
        if len(a) > MAX_ARG_LENGTH:
            raise CliError(f"argument {i} is {len(a)} characters long, more than the limit of {MAX_ARG_LENGTH}")


def derivative_cost(graph_nodes: int, variables: int, order: int) -> int:
    """The estimated number of graph nodes all derivatives up to ``order`` build together.

    Order ``k`` has ``comb(variables + k - 1, k)`` distinct partials (mixed ones computed once),
    each with a graph about :data:`GROWTH_PER_ORDER` ** k times the function's.

    Args:
        graph_nodes: nodes in the graph of the function itself.
        variables: number of variables differentiated by.
        order: the highest order.
    """
    return sum(math.comb(variables + k - 1, k) * graph_nodes * GROWTH_PER_ORDER**k for k in range(1, order + 1))


def check_derivative_cost(graph_nodes: int, variables: int, order: int) -> None:
    """Refuse ``--order`` when :func:`derivative_cost` is over :data:`MAX_DERIVATIVE_NODES`.

    Raises:
        CliError: naming ``--order``, the expression's size and the budget.
    """
    cost = derivative_cost(graph_nodes, variables, order)
    if cost > MAX_DERIVATIVE_NODES:
        raise CliError(
            f"--order {order} on this expression ({graph_nodes} graph nodes, {variables} variable(s)) would build "
            f"about {cost:,} nodes, more than the budget of {MAX_DERIVATIVE_NODES:,}; "
            "lower --order or use a smaller expression"
        )


def mlp_parameters(inputs: int, widths: Sequence[int]) -> int:
    """Weights and biases of an MLP with ``inputs`` inputs and layer widths ``widths`` (the last is the output)."""
    total, fan_in = 0, inputs
    for w in widths:
        total += (fan_in + 1) * w
        fan_in = w
    return total


def check_network(inputs: int, hidden: Sequence[int], outputs: int) -> int:
    """The parameter count of the MLP ``train`` would build; refused over :data:`MAX_PARAMETERS`.

    Raises:
        CliError: naming ``--hidden``, the count and the bound.
    """
    n = mlp_parameters(inputs, [*hidden, outputs])
    if n > MAX_PARAMETERS:
        shape = ",".join(str(w) for w in hidden)
        if len(shape) > 40:
            shape = shape[:40] + "..."
        raise CliError(
            f"--hidden {shape}: the network ({inputs} inputs, {outputs} output(s)) would have {n:,} parameters, "
            f"more than the limit of {MAX_PARAMETERS:,}; use narrower or fewer layers"
        )
    return n
