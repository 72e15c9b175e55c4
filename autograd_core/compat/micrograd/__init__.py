"""karpathy/micrograd's API, computed by autograd-core's engine.

Change only the imports of micrograd code::

    from autograd_core.compat.micrograd.engine import Value   # was: from micrograd.engine import Value
    from autograd_core.compat.micrograd.nn import MLP          # was: from micrograd.nn import MLP
    from autograd_core.compat.micrograd import nn              # was: from micrograd import nn

:mod:`~autograd_core.compat.micrograd.engine` provides ``Value`` (``data``,
``grad``, ``backward()``, ``relu()``, the arithmetic operators, ``_prev``,
``_op`` and the repr, as micrograd has them); :mod:`~autograd_core.compat.micrograd.nn`
provides ``Module``, ``Neuron``, ``Layer`` and ``MLP``.  Each compat ``Value``
wraps one :class:`autograd_core.Value` (its ``node``), so ``backward()`` runs
this engine's iterative pass (no recursion limit) and the ``node`` graph can be
drawn with ``viz`` or checked with :func:`autograd_core.gradcheck`.

Where micrograd would silently misbehave, this layer raises a clear error
instead: a ``Neuron`` called with the wrong number of inputs (micrograd's
``zip`` drops the extra ones) and a power with a ``Value`` exponent (micrograd
asserts).
"""

from . import engine, nn
from .engine import Value
from .nn import MLP, Layer, Module, Neuron

__all__ = ["engine", "nn", "Value", "Module", "Neuron", "Layer", "MLP"]
