"""Layers built from ``Value`` scalars: Neuron, Layer, MLP, Maxout, Dropout, BatchNorm.

Activations are chosen by name (``linear relu tanh sigmoid leaky_relu prelu
elu``; ``prelu`` learns one slope per neuron) and initial weights by name
(``uniform`` is micrograd's U(-1, 1), ``normal`` is N(0, sigma^2),
``xavier`` and ``he`` scale with the fan-in).  Every random draw comes from
the ``random.Random`` passed in, never from the global RNG, so the same seed
gives the same model.  A Layer and an MLP always return a list of Values,
one per output, also for a single output.  Sizes (widths, layers, pieces,
parameters) are bounded by :mod:`nn.limits`, checked before anything is built.
"""

from __future__ import annotations

import math
import numbers
import random
from collections.abc import Sequence
from typing import Any

from autograd_core import Value, maximum

from .limits import check_layers, check_parameters, check_pieces, check_width
from .module import Module

__all__ = [
    "ACTIVATIONS",
    "INITS",
    "Neuron",
    "Layer",
    "MLP",
    "Maxout",
    "Dropout",
    "BatchNorm",
    "make_rng",
]

#: Activation names a Neuron, Layer or MLP accepts.
ACTIVATIONS = ("linear", "relu", "tanh", "sigmoid", "leaky_relu", "prelu", "elu")
#: Initialisation names; "auto" picks he for the ReLU family and xavier otherwise.
INITS = ("auto", "uniform", "normal", "xavier", "he")

#: Default negative slope of leaky_relu: PyTorch's 0.01.  Lecture 05 writes Leaky ReLU as
#: max(0.1x, x); pass ``negative_slope=0.1`` to get the notes' unit.
LEAKY_SLOPE = 0.01
PRELU_INIT = 0.25  # PyTorch's initial PReLU slope
#: Default ELU alpha (PyTorch's and the usual choice; lecture 05 leaves alpha open).
ELU_ALPHA = 1.0
#: Default sigma of init="normal", N(0, sigma^2) (lecture 03 leaves sigma open).
NORMAL_SIGMA = 0.1

# Bounds shared by the constructors and nn.load, so every model that can be made can be saved and loaded.
#: negative_slope of leaky_relu: in [0, 1] (max(slope x, x) needs slope <= 1 to be a leaky ReLU).
SLOPE_RANGE = (0.0, 1.0)
#: BatchNorm momentum: in (0, 1].
MOMENTUM_RANGE = (0.0, 1.0)
#: Dropout p: in [0, 1).
DROPOUT_RANGE = (0.0, 1.0)


def _real(name: str, x: Any) -> float:
    """``x`` as a finite float: TypeError for a non-number, ValueError for nan or inf."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(x).__name__}: {x!r}")
    try:
        v = float(x)
    except OverflowError:
        raise ValueError(f"{name} must be a finite number, got an int too large for a float") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {x!r}")
    return v


def check_negative_slope(x: Any) -> float:
    """The leaky_relu slope ``x`` in [0, 1] as a float (TypeError / ValueError otherwise)."""
    v = _real("negative_slope", x)
    if not SLOPE_RANGE[0] <= v <= SLOPE_RANGE[1]:
        raise ValueError(f"negative_slope must be in [0, 1] (lecture 05 uses 0.1, PyTorch 0.01), got {x!r}")
    return v


def check_alpha(x: Any) -> float:
    """ELU's ``alpha`` > 0 as a float (TypeError / ValueError otherwise)."""
    v = _real("alpha", x)
    if not v > 0.0:
        raise ValueError(f"ELU alpha must be a positive number (1.0 is the usual choice), got {x!r}")
    return v


def check_sigma(x: Any) -> float:
    """The ``sigma`` of init="normal", > 0, as a float (TypeError / ValueError otherwise)."""
    v = _real("sigma", x)
    if not v > 0.0:
        raise ValueError(f"sigma (the standard deviation of init='normal') must be a positive number, got {x!r}")
    return v


def check_momentum(x: Any) -> float:
    """BatchNorm's ``momentum`` in (0, 1] as a float (TypeError / ValueError otherwise)."""
    v = _real("BatchNorm momentum", x)
    if not MOMENTUM_RANGE[0] < v <= MOMENTUM_RANGE[1]:
        raise ValueError(f"BatchNorm momentum must be a number in (0, 1], got {x!r}")
    return v


def check_eps(x: Any) -> float:
    """BatchNorm's ``eps`` > 0 as a float (TypeError / ValueError otherwise)."""
    v = _real("BatchNorm eps", x)
    if not v > 0.0:
        raise ValueError(f"BatchNorm eps must be a positive number, got {x!r}")
    return v


def check_dropout_p(x: Any) -> float:
    """Dropout's ``p`` in [0, 1) as a float (TypeError / ValueError otherwise)."""
    v = _real("Dropout p", x)
    if not DROPOUT_RANGE[0] <= v < DROPOUT_RANGE[1]:
        raise ValueError(f"Dropout p must be in [0, 1), got {x!r}")
    return v


def make_rng(rng: random.Random | int | None) -> random.Random:
    """A ``random.Random`` from ``rng``: itself, a new one seeded with an int, or ``Random(0)`` for None.

    Raises:
        TypeError: for anything else (the global ``random`` module included).
    """
    if rng is None:
        return random.Random(0)
    if isinstance(rng, random.Random):
        return rng
    if isinstance(rng, int) and not isinstance(rng, bool):
        return random.Random(rng)
    raise TypeError(f"rng must be a random.Random, an int seed or None, got {type(rng).__name__}")


def _linear_count(nin: int, nout: int, activation: str) -> int:
    """Numbers stored by ``nout`` units of ``nin`` inputs: weights, biases and (for prelu) one slope each."""
    return nout * (nin + 1 + (activation == "prelu"))


def _check_activation(activation: Any) -> str:
    if not isinstance(activation, str):
        raise TypeError(f"activation must be a str, one of {', '.join(ACTIVATIONS)}; got {type(activation).__name__}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}")
    return activation


def _resolve_init(init: Any, activation: str) -> str:
    if not isinstance(init, str):
        raise TypeError(f"init must be a str, one of {', '.join(INITS)}; got {type(init).__name__}")
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")
    if init == "auto":
        # He keeps the variance of ReLU-like units; Xavier that of symmetric ones.
        return "he" if activation in ("relu", "leaky_relu", "prelu", "elu") else "xavier"
    return init


def _draw(rng: random.Random, init: str, fan_in: int, fan_out: int, sigma: float) -> float:
    if init == "uniform":
        return rng.uniform(-1.0, 1.0)
    if init == "normal":
        return rng.gauss(0.0, sigma)
    if init == "xavier":
        # Glorot uniform: Var = 2 / (fan_in + fan_out).
        a = math.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-a, a)
    # he (Kaiming normal): Var = 2 / fan_in.
    return rng.gauss(0.0, math.sqrt(2.0 / fan_in))


def as_inputs(x: Any, nin: int | None, who: str) -> list[Value]:
    """``x`` as a list of Values (``nin`` of them, unless ``nin`` is None); clear errors otherwise.

    A number becomes one leaf Value (labelled ``x0``, ``x1``...) once per
    call, as PyTorch turns an input into one tensor: every neuron then
    multiplies the same node, so a drawn graph shows each input once, with
    the gradient summed over the neurons that use it.
    """
    what = "a list of inputs" if nin is None else f"a list of {nin} inputs"
    if isinstance(x, (Value, numbers.Real)):
        raise TypeError(f"{who} expects {what}, got a single {type(x).__name__}; wrap it: [x]")
    try:
        xs = list(x)
    except TypeError:
        raise TypeError(f"{who} expects {what}, got {type(x).__name__}") from None
    if nin is not None and len(xs) != nin:
        raise ValueError(f"{who} expects {nin} inputs, got {len(xs)}: {xs!r:.200}")
    out: list[Value] = []
    for i, v in enumerate(xs):
        if isinstance(v, Value):
            out.append(v)
        elif isinstance(v, numbers.Real) and not isinstance(v, bool):
            out.append(Value(float(v), f"x{i}"))
        else:
            raise TypeError(f"{who} input {i} must be a Value or a real number, got {type(v).__name__}")
    return out


def _constants_repr(activations: str, m: Any) -> str:
    """``, negative_slope=...`` / ``, alpha=...`` when they differ from the default and are used."""
    out = ""
    if "leaky_relu" in activations and m.negative_slope != LEAKY_SLOPE:
        out += f", negative_slope={m.negative_slope}"
    if "elu" in activations.replace("leaky_relu", "") and m.alpha != ELU_ALPHA:
        out += f", alpha={m.alpha}"
    return out


class Neuron(Module):
    """One unit: ``activation(w . x + b)``.

    Args:
        nin: number of inputs.
        activation: one of :data:`ACTIVATIONS`.
        init: one of :data:`INITS` ("auto": he for ReLU-like, xavier otherwise).
        rng: a ``random.Random`` (or int seed; None means ``Random(0)``).
        fan_out: fan-out used by xavier init (the layer width; 1 for a lone neuron).
        negative_slope: slope of leaky_relu for x < 0, in [0, 1]; default 0.01 (PyTorch's);
            lecture 05's Leaky ReLU max(0.1x, x) is ``negative_slope=0.1``.
        alpha: ELU's alpha > 0 (default 1.0): alpha (e^x - 1) for x <= 0.
        sigma: standard deviation of init="normal", N(0, sigma^2) (default 0.1).

    Raises:
        TypeError, ValueError: for a bad argument.
    """

    def __init__(
        self,
        nin: int,
        activation: str = "relu",
        *,
        init: str = "auto",
        rng: random.Random | int | None = None,
        fan_out: int = 1,
        negative_slope: float = LEAKY_SLOPE,
        alpha: float = ELU_ALPHA,
        sigma: float = NORMAL_SIGMA,
    ) -> None:
        self.nin = check_width("nin", nin)
        self.activation = _check_activation(activation)
        check_parameters("Neuron", _linear_count(self.nin, 1, self.activation))
        self.init = _resolve_init(init, self.activation)
        self.negative_slope = check_negative_slope(negative_slope)
        self.alpha = check_alpha(alpha)
        sd = check_sigma(sigma)
        r = make_rng(rng)
        self.w = [Value(_draw(r, self.init, self.nin, fan_out, sd)) for _ in range(self.nin)]
        self.b = Value(0.0)
        if self.activation == "prelu":
            self.slope = Value(PRELU_INIT)

    def _pre(self, xs: list[Any]) -> Value:
        act = self.b
        for wi, xi in zip(self.w, xs):
            act = act + wi * xi
        return act

    def _activate(self, act: Value) -> Value:
        a = self.activation
        if a == "relu":
            return act.relu()
        if a == "tanh":
            return act.tanh()
        if a == "sigmoid":
            return act.sigmoid()
        if a == "leaky_relu":
            return act.leaky_relu(self.negative_slope)
        if a == "prelu":
            return act.leaky_relu(self.slope)
        if a == "elu":
            return act.elu(self.alpha)
        return act

    def forward(self, x: Any) -> Value:
        """The neuron's output for one sample ``x`` (a list of ``nin`` Values or numbers).

        Raises:
            ValueError: if ``x`` does not have ``nin`` entries.
        """
        return self._activate(self._pre(as_inputs(x, self.nin, "Neuron")))

    def config(self) -> dict[str, Any]:
        return {
            "type": "Neuron",
            "nin": self.nin,
            "activation": self.activation,
            "negative_slope": self.negative_slope,
            "alpha": self.alpha,
        }

    def _own_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"weight": [self.w], "bias": [self.b]}
        if self.activation == "prelu":
            state["slope"] = [self.slope]
        return state

    def extra_repr(self) -> str:
        return f"{self.nin}, activation={self.activation!r}{_constants_repr(self.activation, self)}"


class Layer(Module):
    """``nout`` neurons that all see the same inputs; returns a list of ``nout`` Values.

    Args:
        nin: inputs per neuron.
        nout: number of neurons (outputs).
        activation: one of :data:`ACTIVATIONS`.
        init: one of :data:`INITS`.
        rng: a ``random.Random`` (or int seed; None means ``Random(0)``).
        negative_slope, alpha, sigma: as for :class:`Neuron` (lecture 05's Leaky ReLU is
            ``negative_slope=0.1``; the default 0.01 is PyTorch's).

    Raises:
        TypeError, ValueError: for a bad argument.
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str = "relu",
        *,
        init: str = "auto",
        rng: random.Random | int | None = None,
        negative_slope: float = LEAKY_SLOPE,
        alpha: float = ELU_ALPHA,
        sigma: float = NORMAL_SIGMA,
    ) -> None:
        self.nin = check_width("nin", nin)
        self.nout = check_width("nout", nout)
        self.activation = _check_activation(activation)
        check_parameters("Layer", _linear_count(self.nin, self.nout, self.activation))
        self.negative_slope = check_negative_slope(negative_slope)
        self.alpha = check_alpha(alpha)
        sd = check_sigma(sigma)
        r = make_rng(rng)
        self.neurons = [
            Neuron(
                self.nin, activation, init=init, rng=r, fan_out=self.nout,
                negative_slope=self.negative_slope, alpha=self.alpha, sigma=sd,
            )
            for _ in range(self.nout)
        ]  # fmt: skip

    def forward(self, x: Any) -> list[Value]:
        """The ``nout`` outputs for one sample ``x``.

        Raises:
            ValueError: if ``x`` does not have ``nin`` entries.
        """
        xs = as_inputs(x, self.nin, "Layer")
        return [n._activate(n._pre(xs)) for n in self.neurons]

    def config(self) -> dict[str, Any]:
        return {
            "type": "Layer",
            "nin": self.nin,
            "nout": self.nout,
            "activation": self.activation,
            "negative_slope": self.negative_slope,
            "alpha": self.alpha,
        }

    def _own_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"weight": [n.w for n in self.neurons], "bias": [n.b for n in self.neurons]}
        if self.activation == "prelu":
            state["slope"] = [n.slope for n in self.neurons]
        return state

    def extra_repr(self) -> str:
        return f"{self.nin}, {self.nout}, activation={self.activation!r}{_constants_repr(self.activation, self)}"


class MLP(Module):
    """A multi-layer perceptron: hidden layers with ``activation``, the last with ``output_activation``.

    Args:
        nin: number of inputs.
        nouts: the width of every layer, the last being the number of outputs.
        activation: activation of the hidden layers.
        output_activation: activation of the last layer ("linear" by default).
        init: one of :data:`INITS`.
        rng: a ``random.Random`` (or int seed; None means ``Random(0)``).
        negative_slope: slope of leaky_relu for x < 0, in [0, 1], in every layer; default
            0.01 (PyTorch's); lecture 05's Leaky ReLU max(0.1x, x) is ``negative_slope=0.1``.
        alpha: ELU's alpha > 0 in every layer (default 1.0).
        sigma: standard deviation of init="normal" (default 0.1).

    Raises:
        TypeError, ValueError: for a bad argument.
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "relu",
        *,
        output_activation: str = "linear",
        init: str = "auto",
        rng: random.Random | int | None = None,
        negative_slope: float = LEAKY_SLOPE,
        alpha: float = ELU_ALPHA,
        sigma: float = NORMAL_SIGMA,
    ) -> None:
        self.nin = check_width("nin", nin)
        if isinstance(nouts, (str, bytes)) or not isinstance(nouts, Sequence):
            raise TypeError(f"nouts must be a list of layer widths such as [16, 16, 1], got {type(nouts).__name__}")
        if not nouts:
            raise ValueError("nouts must name at least one layer width, e.g. [16, 16, 1]")
        check_layers(len(nouts))
        self.nouts = [check_width(f"nouts[{i}]", n) for i, n in enumerate(nouts)]
        self.activation = _check_activation(activation)
        self.output_activation = _check_activation(output_activation)
        sizes = [self.nin, *self.nouts]
        last = len(self.nouts) - 1
        acts = [self.output_activation if i == last else self.activation for i in range(len(self.nouts))]
        check_parameters("MLP", sum(_linear_count(sizes[i], sizes[i + 1], a) for i, a in enumerate(acts)))
        self.negative_slope = check_negative_slope(negative_slope)
        self.alpha = check_alpha(alpha)
        sd = check_sigma(sigma)
        r = make_rng(rng)
        self.layers = [
            Layer(
                sizes[i], sizes[i + 1], acts[i], init=init, rng=r,
                negative_slope=self.negative_slope, alpha=self.alpha, sigma=sd,
            )
            for i in range(len(self.nouts))
        ]  # fmt: skip

    def forward(self, x: Any) -> list[Value]:
        """The outputs (a list, one per unit of the last layer) for one sample ``x``.

        Raises:
            ValueError: if ``x`` does not have ``nin`` entries (the message names both lengths).
        """
        out: list[Any] = as_inputs(x, self.nin, "MLP")
        for layer in self.layers:
            out = [n._activate(n._pre(out)) for n in layer.neurons]
        return out

    def config(self) -> dict[str, Any]:
        return {
            "type": "MLP",
            "nin": self.nin,
            "nouts": list(self.nouts),
            "activation": self.activation,
            "output_activation": self.output_activation,
            "negative_slope": self.negative_slope,
            "alpha": self.alpha,
        }

    def extra_repr(self) -> str:
        acts = f"{self.activation} {self.output_activation}"
        return (
            f"{self.nin}, {self.nouts}, activation={self.activation!r}, output_activation={self.output_activation!r}"
            f"{_constants_repr(acts, self)}"
        )


class Maxout(Module):
    """A maxout layer: output j is the largest of ``pieces`` affine functions of the input.

    The weights are stored as one linear map of ``nout * pieces`` rows (row
    ``j * pieces + k`` is piece k of output j), which is how a maxout layer is
    written in PyTorch: ``Linear(nin, nout * pieces)`` then a max over pieces.

    Args:
        nin: number of inputs.
        nout: number of outputs.
        pieces: affine pieces per output (at least 2).
        init: one of :data:`INITS` ("auto" means xavier here).
        rng: a ``random.Random`` (or int seed; None means ``Random(0)``).

    Raises:
        TypeError, ValueError: for a bad argument.
    """

    def __init__(
        self, nin: int, nout: int, pieces: int = 2, *, init: str = "auto", rng: random.Random | int | None = None
    ) -> None:
        self.nin = check_width("nin", nin)
        self.nout = check_width("nout", nout)
        self.pieces = check_pieces(pieces)
        check_parameters("Maxout", _linear_count(self.nin, self.nout * self.pieces, "linear"))
        r = make_rng(rng)
        self.neurons = [
            Neuron(self.nin, "linear", init=init, rng=r, fan_out=self.nout) for _ in range(self.nout * self.pieces)
        ]

    def forward(self, x: Any) -> list[Value]:
        """The ``nout`` outputs for one sample ``x``.

        Raises:
            ValueError: if ``x`` does not have ``nin`` entries.
        """
        xs = as_inputs(x, self.nin, "Maxout")
        outs = []
        for j in range(self.nout):
            group = self.neurons[j * self.pieces : (j + 1) * self.pieces]
            best = group[0]._pre(xs)
            for n in group[1:]:
                best = maximum(best, n._pre(xs))
            outs.append(best)
        return outs

    def config(self) -> dict[str, Any]:
        return {"type": "Maxout", "nin": self.nin, "nout": self.nout, "pieces": self.pieces}

    def _own_state(self) -> dict[str, Any]:
        return {"weight": [n.w for n in self.neurons], "bias": [n.b for n in self.neurons]}

    def extra_repr(self) -> str:
        return f"{self.nin}, {self.nout}, pieces={self.pieces}"


class Dropout(Module):
    """Inverted dropout: in training mode each input is zeroed with probability ``p``, the rest scaled by 1/(1-p).

    In evaluation mode it returns its input unchanged, so no rescaling is needed
    at test time.

    Args:
        p: drop probability, 0 <= p < 1.
        rng: a ``random.Random`` (or int seed; None means ``Random(0)``).

    Raises:
        TypeError, ValueError: for a bad ``p``.
    """

    p: float
    _rng: random.Random

    def __init__(self, p: float = 0.5, *, rng: random.Random | int | None = None) -> None:
        self.p = check_dropout_p(p)
        self._rng = make_rng(rng)

    def forward(self, x: Any) -> list[Any]:
        """``x`` (a list) with dropout applied in training mode; ``x`` itself as a list in evaluation mode."""
        xs = list(x)
        if not self.training or self.p == 0.0:
            return xs
        keep = 1.0 / (1.0 - self.p)
        r = self._rng.random
        return [xi * 0.0 if r() < self.p else xi * keep for xi in xs]

    def config(self) -> dict[str, Any]:
        return {"type": "Dropout", "p": self.p}

    def extra_repr(self) -> str:
        return f"p={self.p}"


class BatchNorm(Module):
    """Batch normalization of each feature over a mini-batch, with learnable scale (weight) and shift (bias).

    Training mode normalizes with the batch mean and biased variance and updates
    the running statistics (``running = (1 - momentum) * running + momentum *
    batch``, with the unbiased variance, as PyTorch); evaluation mode uses the
    running statistics.

    Args:
        num_features: features per sample.
        momentum: weight of the newest batch in the running statistics, in (0, 1].
        eps: added to the variance before the square root.

    Raises:
        TypeError, ValueError: for a bad argument.
    """

    takes_batch = True  # it normalizes over the whole batch
    num_features: int
    momentum: float
    eps: float
    weight: list[Value]
    bias: list[Value]
    # Running statistics are buffers, not parameters: Values only so that
    # state_dict / load_state_dict / nn.save carry them (the leading underscore
    # keeps them out of parameters()).
    _running_mean: list[Value]
    _running_var: list[Value]

    def __init__(self, num_features: int, *, momentum: float = 0.1, eps: float = 1e-5) -> None:
        self.num_features = check_width("num_features", num_features)
        check_parameters("BatchNorm", 4 * self.num_features)  # weight, bias and the two running statistics
        self.momentum = check_momentum(momentum)
        self.eps = check_eps(eps)
        self.weight = [Value(1.0) for _ in range(self.num_features)]
        self.bias = [Value(0.0) for _ in range(self.num_features)]
        self._running_mean = [Value(0.0) for _ in range(self.num_features)]
        self._running_var = [Value(1.0) for _ in range(self.num_features)]

    @property
    def running_mean(self) -> list[float]:
        """The running mean of each feature (a copy)."""
        return [v.data for v in self._running_mean]

    @property
    def running_var(self) -> list[float]:
        """The running (unbiased) variance of each feature (a copy)."""
        return [v.data for v in self._running_var]

    def forward(self, batch: Any) -> list[list[Value]]:
        """Normalize a batch: a list of samples, each a list of ``num_features`` Values or numbers.

        Raises:
            ValueError: for a sample of the wrong length, or a batch of one sample in training mode.
        """
        rows = [as_inputs(s, self.num_features, "BatchNorm sample") for s in batch]
        n = len(rows)
        if n == 0:
            raise ValueError("BatchNorm needs a batch of at least one sample, got an empty batch")
        cols: list[list[Value]] = [[] for _ in range(n)]
        for j in range(self.num_features):
            feat = [r[j] if isinstance(r[j], Value) else Value(r[j]) for r in rows]
            if self.training:
                if n < 2:
                    raise ValueError("BatchNorm in training mode needs at least 2 samples per batch; call eval() first")
                mean = sum(feat, Value(0.0)) * (1.0 / n)
                centered = [f - mean for f in feat]
                var = sum((c * c for c in centered), Value(0.0)) * (1.0 / n)
                inv = (var + self.eps) ** -0.5
                m = self.momentum
                rm, rv = self._running_mean[j], self._running_var[j]
                rm.data = (1 - m) * rm.data + m * mean.data
                rv.data = (1 - m) * rv.data + m * var.data * n / (n - 1)
                normed = [c * inv for c in centered]
            else:
                scale = 1.0 / math.sqrt(self._running_var[j].data + self.eps)
                normed = [(f - self._running_mean[j].data) * scale for f in feat]
            for i in range(n):
                cols[i].append(normed[i] * self.weight[j] + self.bias[j])
        return cols

    def config(self) -> dict[str, Any]:
        return {"type": "BatchNorm", "num_features": self.num_features, "momentum": self.momentum, "eps": self.eps}

    _non_negative_state = ("running_var",)  # load_state_dict refuses a negative variance

    def _own_state(self) -> dict[str, Any]:
        # PyTorch's BatchNorm1d keys: parameters, then the running-statistics buffers.
        return {
            "weight": self.weight,
            "bias": self.bias,
            "running_mean": self._running_mean,
            "running_var": self._running_var,
        }

    def extra_repr(self) -> str:
        return f"{self.num_features}, momentum={self.momentum}, eps={self.eps}"
