"""micrograd's ``nn`` (``micrograd.nn``): ``Module``, ``Neuron``, ``Layer`` and ``MLP`` on compat Values.

The same API and behaviour as micrograd: weights drawn from the *global*
``random.uniform(-1, 1)`` (so ``random.seed(1337)`` reproduces micrograd's
initial weights), a bias starting at 0, ``nonlin=`` choosing ReLU or a linear
neuron, a ``Layer`` (and so an ``MLP``) with one output returning a bare
``Value`` and a list otherwise, ``parameters()``, ``zero_grad()`` and
micrograd's reprs (``MLP of [Layer of [ReLUNeuron(2), ...], ...]``).

This is the one place in autograd-core that uses the global RNG: it is what
micrograd code expects.  The house's own layers (``nn.MLP(..., rng=...)``)
take an explicit ``random.Random``.  Nothing here imports the top-level
``nn`` package.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from .engine import Value

__all__ = ["Module", "Neuron", "Layer", "MLP"]


def _count(n: Any, what: str) -> int:
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"{what} must be an int, got {type(n).__name__}: {n!r:.80}")
    if n < 1:
        raise ValueError(f"{what} must be at least 1, got {n}")
    return n


class Module:
    """The base of micrograd's layers: ``parameters()`` and ``zero_grad()``."""

    def zero_grad(self) -> None:
        """Set the ``grad`` of every parameter to 0."""
        for p in self.parameters():
            p.grad = 0

    def parameters(self) -> list[Value]:
        """The trainable Values (none for the base class)."""
        return []


class Neuron(Module):
    """``relu(w . x + b)``, or ``w . x + b`` with ``nonlin=False``.

    Args:
        nin: the number of inputs.
        nonlin: ReLU after the weighted sum (micrograd's default) or not.

    Raises:
        TypeError, ValueError: if ``nin`` is not a positive int.
    """

    def __init__(self, nin: int, nonlin: bool = True) -> None:
        _count(nin, "Neuron nin")
        # The global RNG, deliberately: micrograd code seeds `random` to get its weights.
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0)
        self.nonlin = nonlin

    def __call__(self, x: Sequence[Any]) -> Value:
        """The neuron's output for the inputs ``x`` (Values or numbers).

        Raises:
            TypeError: if ``x`` has no length.
            ValueError: if ``x`` does not hold one input per weight.
        """
        if not hasattr(x, "__len__"):
            raise TypeError(f"a Neuron takes a list of {len(self.w)} inputs, got {type(x).__name__}")
        if len(x) != len(self.w):
            raise ValueError(f"this Neuron takes {len(self.w)} inputs, got {len(x)}: {list(x)!r:.200}")
        # Bias first, then each product in input order: micrograd's sum(..., self.b), node for node.
        act = self.b
        for wi, xi in zip(self.w, x):
            act = act + wi * xi
        return act.relu() if self.nonlin else act

    def parameters(self) -> list[Value]:
        """The weights, then the bias."""
        return self.w + [self.b]

    def __repr__(self) -> str:
        return f"{'ReLU' if self.nonlin else 'Linear'}Neuron({len(self.w)})"


class Layer(Module):
    """``nout`` neurons reading the same ``nin`` inputs.

    Calling it returns the one output as a ``Value`` when ``nout == 1`` and a
    list of ``nout`` Values otherwise, as micrograd does.

    Args:
        nin, nout: the numbers of inputs and of neurons.
        **kwargs: passed to each ``Neuron`` (``nonlin=``).
    """

    def __init__(self, nin: int, nout: int, **kwargs: Any) -> None:
        _count(nout, "Layer nout")
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]

    def __call__(self, x: Sequence[Any]) -> Value | list[Value]:
        """Each neuron's output for the inputs ``x``."""
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        """Every neuron's parameters, neuron by neuron."""
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        return "Layer of [" + ", ".join(str(n) for n in self.neurons) + "]"


class MLP(Module):
    """Layers of ReLU neurons and a linear last layer: ``MLP(2, [16, 16, 1])``.

    Args:
        nin: the number of inputs.
        nouts: the size of each layer, the last one the outputs.

    Raises:
        TypeError, ValueError: if ``nouts`` is not a non-empty list of positive ints.
    """

    def __init__(self, nin: int, nouts: list[int]) -> None:
        if not isinstance(nouts, (list, tuple)) or not nouts:
            raise TypeError(f"MLP nouts must be a non-empty list of layer sizes, e.g. [16, 16, 1], got {nouts!r:.80}")
        sizes = [nin, *nouts]
        last = len(nouts) - 1
        self.layers = [Layer(sizes[i], sizes[i + 1], nonlin=i != last) for i in range(len(nouts))]

    def __call__(self, x: Sequence[Any]) -> Value | list[Value]:
        """The network's output for the inputs ``x``: a Value for one output, else a list."""
        out: Any = x
        for layer in self.layers:
            out = layer(out)
        return out

    def parameters(self) -> list[Value]:
        """Every layer's parameters, layer by layer."""
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        return "MLP of [" + ", ".join(str(layer) for layer in self.layers) + "]"
