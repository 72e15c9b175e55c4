"""PyTorch-shaped building blocks: ``Sequential``, ``Linear`` and activation modules.

``Sequential(Linear(2, 16), ReLU(), Linear(16, 1))`` chains modules as
``torch.nn.Sequential`` does, and its state dict has PyTorch's keys
(``"0.weight"``, ``"0.bias"``, ``"2.weight"``, ...), so a trained model moves to
and from PyTorch by key.

Data flow, as everywhere in :mod:`nn`: one sample is a list of Values or
numbers and a module maps it to a list of Values.  ``Linear`` returns a list
of ``nout`` Values, also for ``nout == 1`` (as ``Layer`` and ``MLP``; never a bare
Value).  A ``Sequential`` also takes a batch (a list of samples, or a 2-d
array) and returns a list of output lists: modules that normalize over the
batch (``BatchNorm``, whose ``takes_batch`` is True) see the whole batch, every
other module sees one sample at a time.  ``Dropout`` and ``BatchNorm`` from
:mod:`nn.layers` stack in a ``Sequential`` as they are.

``Linear``'s initial weights are PyTorch's default: weight and bias each drawn
from U(-1/sqrt(nin), 1/sqrt(nin)) (``torch.nn.Linear``'s Kaiming-uniform with
a = sqrt(5) has that bound), the weight row by row first, then the bias, all
from the ``random.Random`` passed in.
"""

from __future__ import annotations

import math
import numbers
import random
from collections.abc import Iterator
from typing import Any, overload

import numpy as np

from autograd_core import Value

from .layers import ELU_ALPHA, LEAKY_SLOPE, PRELU_INIT, as_inputs, check_alpha, check_negative_slope, make_rng
from .limits import check_parameters, check_width
from .module import Module

__all__ = [
    "Sequential",
    "Linear",
    "Identity",
    "ReLU",
    "Tanh",
    "Sigmoid",
    "LeakyReLU",
    "ELU",
    "PReLU",
    "ACTIVATION_MODULES",
]


class Linear(Module):
    """``y = W x + b`` for one sample: ``nin`` inputs in, a list of ``nout`` Values out.

    ``weight`` is ``nout`` rows of ``nin`` Values and ``bias`` ``nout`` Values (None
    without bias), so :meth:`state_dict` is ``torch.nn.Linear``'s: ``weight``
    ``[nout, nin]``, ``bias`` ``[nout]``.

    Args:
        nin: number of inputs.
        nout: number of outputs (the result is a list of ``nout`` Values, also for 1).
        bias: whether to add a learnable bias.
        rng: a ``random.Random`` (or int seed; None means ``Random(0)``) for PyTorch's
            default init, U(-1/sqrt(nin), 1/sqrt(nin)) for every weight and bias.

    Raises:
        TypeError, ValueError: for a bad argument.
    """

    weight: list[list[Value]]
    bias: list[Value] | None

    def __init__(self, nin: int, nout: int, *, bias: bool = True, rng: random.Random | int | None = None) -> None:
        # The limits load applies, checked before any weight is made (nn.limits).
        self.nin = check_width("Linear nin", nin)
        self.nout = check_width("Linear nout", nout)
        check_parameters("Linear", self.nout * (self.nin + 1))
        if not isinstance(bias, bool):
            raise TypeError(f"bias must be a bool, got {type(bias).__name__}")
        r = make_rng(rng)
        bound = 1.0 / math.sqrt(self.nin)
        self.weight = [[Value(r.uniform(-bound, bound)) for _ in range(self.nin)] for _ in range(self.nout)]
        self.bias = [Value(r.uniform(-bound, bound)) for _ in range(self.nout)] if bias else None

    def forward(self, x: Any) -> list[Value]:
        """The ``nout`` outputs for one sample ``x`` (a list of ``nin`` Values or numbers).

        Raises:
            TypeError: if ``x`` is not a list of Values or numbers.
            ValueError: if ``x`` does not have ``nin`` entries.
        """
        xs = as_inputs(x, self.nin, "Linear")
        out = []
        for j, row in enumerate(self.weight):
            acc = self.bias[j] if self.bias is not None else Value(0.0)
            for w, xi in zip(row, xs):
                acc = acc + w * xi
            out.append(acc)
        return out

    def config(self) -> dict[str, Any]:
        return {"type": "Linear", "nin": self.nin, "nout": self.nout, "bias": self.bias is not None}

    def _own_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"weight": self.weight}
        if self.bias is not None:
            state["bias"] = self.bias
        return state

    def extra_repr(self) -> str:
        return f"in_features={self.nin}, out_features={self.nout}, bias={self.bias is not None}"


class _Activation(Module):
    """An element-wise function of one sample; no parameters unless a subclass adds them."""

    def forward(self, x: Any) -> list[Value]:
        """The activation of every entry of ``x`` (a list of Values or numbers), as a list of Values.

        Raises:
            TypeError: if ``x`` is not a list of Values or numbers.
        """
        return [self._apply(v) for v in as_inputs(x, None, type(self).__name__)]

    def _apply(self, v: Value) -> Value:
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        return {"type": type(self).__name__}


class Identity(_Activation):
    """Returns its input (as Values): a placeholder, as ``torch.nn.Identity``."""

    def _apply(self, v: Value) -> Value:
        return v


class ReLU(_Activation):
    """``max(0, x)`` for every entry (``torch.nn.ReLU``)."""

    def _apply(self, v: Value) -> Value:
        return v.relu()


class Tanh(_Activation):
    """``tanh(x)`` for every entry (``torch.nn.Tanh``)."""

    def _apply(self, v: Value) -> Value:
        return v.tanh()


class Sigmoid(_Activation):
    """``1 / (1 + e^-x)`` for every entry (``torch.nn.Sigmoid``)."""

    def _apply(self, v: Value) -> Value:
        return v.sigmoid()


class LeakyReLU(_Activation):
    """``x`` for x > 0, ``negative_slope * x`` otherwise (``torch.nn.LeakyReLU``).

    Args:
        negative_slope: in [0, 1]; default 0.01 (PyTorch's; lecture 05's unit is 0.1).

    Raises:
        TypeError, ValueError: for a bad slope.
    """

    def __init__(self, negative_slope: float = LEAKY_SLOPE) -> None:
        self.negative_slope = check_negative_slope(negative_slope)

    def _apply(self, v: Value) -> Value:
        return v.leaky_relu(self.negative_slope)

    def config(self) -> dict[str, Any]:
        return {"type": "LeakyReLU", "negative_slope": self.negative_slope}

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class ELU(_Activation):
    """``x`` for x > 0, ``alpha (e^x - 1)`` otherwise (``torch.nn.ELU``).

    Args:
        alpha: > 0 (default 1.0).

    Raises:
        TypeError, ValueError: for a bad alpha.
    """

    def __init__(self, alpha: float = ELU_ALPHA) -> None:
        self.alpha = check_alpha(alpha)

    def _apply(self, v: Value) -> Value:
        return v.elu(self.alpha)

    def config(self) -> dict[str, Any]:
        return {"type": "ELU", "alpha": self.alpha}

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class PReLU(_Activation):
    """``x`` for x > 0, ``a * x`` otherwise, with learnable slopes ``a`` (``torch.nn.PReLU``).

    Args:
        num_parameters: 1 (one slope shared by every feature) or the number of features
            (one slope each).
        init: the initial slope (0.25, PyTorch's default).

    Raises:
        TypeError, ValueError: for a bad argument.
    """

    weight: list[Value]

    def __init__(self, num_parameters: int = 1, init: float = PRELU_INIT) -> None:
        # A slope per feature at most: the width limit that load applies (nn.limits).
        self.num_parameters = check_width("num_parameters", num_parameters)
        if isinstance(init, bool) or not isinstance(init, numbers.Real):
            raise TypeError(f"PReLU init must be a real number, got {type(init).__name__}: {init!r}")
        if not math.isfinite(float(init)):
            raise ValueError(f"PReLU init must be a finite number, got {init!r}")
        self.weight = [Value(float(init)) for _ in range(self.num_parameters)]

    def forward(self, x: Any) -> list[Value]:
        """Every entry of ``x`` through its slope.

        Raises:
            TypeError: if ``x`` is not a list of Values or numbers.
            ValueError: if ``num_parameters`` > 1 and ``x`` has another length.
        """
        xs = as_inputs(x, None, "PReLU")
        n = self.num_parameters
        if n != 1 and len(xs) != n:
            raise ValueError(f"PReLU has {n} slopes (num_parameters={n}) but got {len(xs)} inputs")
        return [v.leaky_relu(self.weight[0 if n == 1 else i]) for i, v in enumerate(xs)]

    def config(self) -> dict[str, Any]:
        return {"type": "PReLU", "num_parameters": self.num_parameters}

    def _own_state(self) -> dict[str, Any]:
        return {"weight": self.weight}

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


#: The activation modules by class name (``nn.load`` and the PyTorch bridge read it).
ACTIVATION_MODULES: dict[str, type[Module]] = {
    c.__name__: c for c in (Identity, ReLU, Tanh, Sigmoid, LeakyReLU, ELU, PReLU)
}


def _is_batch(x: Any) -> bool:
    """A batch is a non-empty list (or 2-d array) of samples; a sample is a list of scalars."""
    if isinstance(x, np.ndarray):
        return x.ndim == 2
    if isinstance(x, (list, tuple)) and x:
        return not isinstance(x[0], (Value, numbers.Real))
    return False


class Sequential(Module):
    """Modules applied one after the other, as ``torch.nn.Sequential``.

    Its parameters are named by position (``0.weight.1.2``) and its state dict
    has PyTorch's keys (``"0.weight"``, ``"0.bias"``, ...).  ``model[i]`` is the
    i-th module, ``model[1:]`` a Sequential of the same module objects.

    Args:
        modules: the modules, in order; each a distinct object (a module listed twice
            would share its weights, which ``nn.save`` could not write back).

    Raises:
        TypeError: for an argument that is not an ``nn.Module``.
        ValueError: for a module listed twice.
    """

    _layers: list[Module]

    def __init__(self, *modules: Module) -> None:
        self._layers = []
        for m in modules:
            self.append(m)

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end; returns ``self``.

        Raises:
            TypeError, ValueError: as the constructor.
        """
        i = len(self._layers)
        if not isinstance(module, Module):
            hint = "; pass the modules themselves, not a list: Sequential(*mods)" if isinstance(module, list) else ""
            raise TypeError(f"Sequential item {i} must be an nn.Module, got {type(module).__name__}{hint}")
        for j, m in enumerate(self._layers):
            if m is module:
                raise ValueError(
                    f"Sequential item {i} is the same object as item {j}; make a new module "
                    "(a shared module shares its weights, which nn.save cannot write back)"
                )
        self._layers.append(module)
        return self

    def _members(self) -> Iterator[tuple[str, Any]]:
        # Children named "0", "1", ... as in PyTorch, so state-dict keys are "0.weight".
        for i, m in enumerate(self._layers):
            yield str(i), m

    def __len__(self) -> int:
        return len(self._layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._layers))

    @overload
    def __getitem__(self, i: int) -> Module: ...

    @overload
    def __getitem__(self, i: slice) -> Sequential: ...

    def __getitem__(self, i: int | slice) -> Module | Sequential:
        if isinstance(i, slice):
            return Sequential(*self._layers[i])
        if isinstance(i, bool) or not isinstance(i, numbers.Integral):
            raise TypeError(f"Sequential indices must be ints or slices, got {type(i).__name__}")
        n = len(self._layers)
        if not -n <= i < n:
            raise IndexError(f"Sequential index {i} is out of range for {n} modules")
        return self._layers[i]

    @property
    def takes_batch(self) -> bool:  # type: ignore[override]  # a class attribute on Module; computed here
        """True when a module inside (nested Sequentials too) needs the whole batch (BatchNorm)."""
        return any(m.takes_batch for m in self._layers)

    def forward(self, x: Any) -> Any:
        """Run ``x`` through every module.

        Args:
            x: one sample (a list of Values or numbers) or a batch (a list of samples, or a
                2-d array).

        Returns:
            For a sample, a list of Values; for a batch, a list of such lists, one per sample.

        Raises:
            TypeError, ValueError: from the first module that rejects its input (a
                BatchNorm in training mode needs a batch of at least 2 samples).
        """
        if _is_batch(x):
            rows: list[Any] = [list(r) for r in x]
            for m in self._layers:
                if m.takes_batch:
                    rows = [_as_list(r) for r in m(rows)]
                else:
                    rows = [_as_list(m(r)) for r in rows]
            return rows
        out: Any = x
        for m in self._layers:
            out = _as_list(m([out])[0]) if m.takes_batch else _as_list(m(out))
        return _as_list(out)

    def config(self) -> dict[str, Any]:
        """``{"type": "Sequential", "layers": [the config of each module]}``.

        Raises:
            NotImplementedError: if a module cannot be saved (has no config).
        """
        return {"type": "Sequential", "layers": [m.config() for m in self._layers]}


def _as_list(out: Any) -> list[Any]:
    # A Neuron returns a bare Value; inside a Sequential every step is a list.
    return [out] if isinstance(out, Value) else list(out)
