"""The one set of size limits of nn: what a constructor builds is exactly what ``save`` writes and ``load`` reads.

A scalar engine makes one Python object per weight, so a model past these
limits would take minutes and gigabytes to build (and a file declaring one
would make ``load`` do so).  The layer constructors, :func:`nn.save` and
:func:`nn.load` all check through the functions here, with the same
messages, so a model that can be built can be saved and loaded back, and a
file that ``load`` refuses names the same limit the constructor would.

The limits are read when a check runs (``nn.limits.MAX_PARAMETERS = ...``
changes them for every check at once).  Every notebook, test and benchmark
stays far below them (the largest model there has a few thousand weights).
"""

from __future__ import annotations

import numbers
from typing import Any

from autograd_core.messages import show_value

__all__ = [
    "MAX_WIDTH",
    "MAX_LAYERS",
    "MAX_PIECES",
    "MAX_PARAMETERS",
    "BYTES_PER_PARAMETER",
    "check_width",
    "check_layers",
    "check_pieces",
    "check_parameters",
    "max_file_bytes",
    "max_json_items",
    "positive_int",
]

#: Largest ``nin``, ``nout``, layer width or ``num_features``.
MAX_WIDTH = 100_000
#: Largest number of layers of an MLP.
MAX_LAYERS = 1_000
#: Largest number of pieces of a Maxout unit.
MAX_PIECES = 1_000
#: Largest number of numbers a model stores (parameters and buffers such as BatchNorm's running statistics).
MAX_PARAMETERS = 2_000_000
#: Bytes ``save`` writes per stored number at most: the longest float repr
#: (``-1.2345678901234567e-308``, 24 characters), its indentation and line end,
#: and the brackets of a row of one number (``nn.save`` writes with ``indent=1``).
BYTES_PER_PARAMETER = 48
#: Bytes for everything that is not a number: format, architecture, keys (up to 3 per layer).
_FIXED_BYTES = 1 << 20


def max_file_bytes() -> int:
    """Largest model file: what ``save`` can write for a model of :data:`MAX_PARAMETERS` numbers."""
    return MAX_PARAMETERS * BYTES_PER_PARAMETER + _FIXED_BYTES


def max_json_items() -> int:
    """Largest count of JSON containers (``[``, ``{``), and separately of commas, a model file can hold.

    Every row of a weight matrix holds at least one number, so a model of n
    numbers has at most n rows and about n commas; the architecture and the
    keys add a few per layer.  A file past this is refused before parsing: it
    cannot be a model, and parsing it could cost far more than the largest model.
    """
    return MAX_PARAMETERS + 8 * MAX_LAYERS + 1024


def positive_int(name: str, v: Any) -> int:
    """``v`` as an int >= 1 (a count, a number of steps), or an error naming ``name``.

    Raises:
        TypeError: if ``v`` is not an int (a bool is not).
        ValueError: if it is below 1.
    """
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise TypeError(f"{name} must be a positive int, got {type(v).__name__}: {v!r}")
    if int(v) < 1:
        raise ValueError(f"{name} must be a positive int, got {v!r}")
    return int(v)


def _count(name: str, n: Any, lo: int, hi: int, what: str) -> int:
    if not isinstance(n, numbers.Integral) or isinstance(n, bool):
        raise TypeError(f"{name} must be an int, got {type(n).__name__}: {show_value(n, 100)}")
    n = int(n)
    if n < lo:
        raise ValueError(f"{name} must be at least {lo}, got {show_value(n, 100)}")
    if n > hi:
        raise ValueError(f"{name} must be at most {hi} ({what}), got {show_value(n, 100)}")
    return n


def check_width(name: str, n: Any) -> int:
    """``n`` as an int in [1, MAX_WIDTH]: a number of inputs, outputs or features.

    Raises:
        TypeError: if ``n`` is not an int.
        ValueError: if it is below 1 or above :data:`MAX_WIDTH`.
    """
    return _count(name, n, 1, MAX_WIDTH, "nn.limits.MAX_WIDTH")


def check_layers(n: Any) -> int:
    """The number of layers of an MLP, in [1, MAX_LAYERS].

    Raises:
        TypeError, ValueError: as :func:`check_width`.
    """
    return _count("the number of layers", n, 1, MAX_LAYERS, "nn.limits.MAX_LAYERS")


def check_pieces(n: Any) -> int:
    """Maxout's pieces per output, in [2, MAX_PIECES].

    Raises:
        TypeError, ValueError: as :func:`check_width`.
    """
    return _count("pieces", n, 2, MAX_PIECES, "nn.limits.MAX_PIECES")


def check_parameters(kind: str, count: int) -> int:
    """``count`` if a ``kind`` model of ``count`` stored numbers is within :data:`MAX_PARAMETERS`.

    Raises:
        ValueError: naming the model, its count and the limit.
    """
    if count > MAX_PARAMETERS:
        raise ValueError(
            f"{kind} has {count} parameters, more than the limit of {MAX_PARAMETERS} (nn.limits.MAX_PARAMETERS)"
        )
    return count
