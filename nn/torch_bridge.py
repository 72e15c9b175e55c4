"""``to_torch`` and ``from_torch``: move a model between :mod:`nn` and PyTorch, weights and all.

``to_torch(model)`` builds the ``torch.nn.Module`` that computes the same
function, in float64, with the same ``state_dict()`` keys and shapes as
``model.state_dict()``, and the same training mode; ``from_torch`` goes back.
Supported: ``MLP``, ``Layer``, ``Sequential`` (nested too) of ``Linear``,
the activation modules, ``Dropout`` and ``BatchNorm``.  The pairs:

=========================  ==========================================================
nn                         torch
=========================  ==========================================================
``Sequential``             ``torch.nn.Sequential`` (children ``0``, ``1``, ...)
``Linear``                 ``torch.nn.Linear``
``ReLU Tanh Sigmoid ...``  ``torch.nn.ReLU Tanh Sigmoid Identity LeakyReLU ELU PReLU``
``Dropout``                ``torch.nn.Dropout`` (its masks come from torch's RNG)
``BatchNorm``              ``torch.nn.BatchNorm1d`` without ``num_batches_tracked``
``MLP`` / ``Layer``        ``TorchMLP`` / ``TorchLayer``: ``layers.i`` is a ``torch.nn.Linear``
                           followed by the layer's activation (``prelu`` adds a
                           ``slope`` parameter per neuron, as the nn layer)
=========================  ==========================================================

The torch module takes a batch tensor ``(n, inputs)`` and returns ``(n,
outputs)``.  PyTorch is optional (``pip install 'autograd-core[torch]'``,
which pins ``torch==2.13.0``): it is imported inside these functions, and a
missing install is an ImportError that names the extra.
"""

from __future__ import annotations

import functools
from typing import Any

from .layers import MLP, PRELU_INIT, BatchNorm, Dropout, Layer
from .module import Module
from .sequential import ELU, Identity, LeakyReLU, Linear, PReLU, ReLU, Sequential, Sigmoid, Tanh

__all__ = ["to_torch", "from_torch"]

_SUPPORTED = "MLP, Layer, Sequential, Linear, Identity, ReLU, Tanh, Sigmoid, LeakyReLU, ELU, PReLU, Dropout, BatchNorm"


def _import_torch(who: str) -> Any:
    try:
        import torch
    except ImportError:
        raise ImportError(
            f"nn.{who} needs PyTorch, an optional extra: pip install 'autograd-core[torch]' "
            "(or pip install torch==2.13.0)"
        ) from None
    return torch


def _activate(torch: Any, x: Any, activation: str, negative_slope: float, alpha: float, slope: Any) -> Any:
    """The nn.layers activation ``activation`` on a tensor, as :meth:`Neuron._activate` on a Value."""
    if activation == "relu":
        return torch.relu(x)
    if activation == "tanh":
        return torch.tanh(x)
    if activation == "sigmoid":
        return torch.sigmoid(x)
    if activation == "leaky_relu":
        return torch.nn.functional.leaky_relu(x, negative_slope)
    if activation == "prelu":
        # x if x > 0 else slope * x, the nn.layers rule (slope may leave [0, 1] while training).
        return torch.where(x > 0, x, slope * x)
    if activation == "elu":
        return torch.nn.functional.elu(x, alpha)
    return x


@functools.cache
def _torch_classes() -> tuple[type[Any], type[Any]]:
    """``TorchLayer`` and ``TorchMLP``, defined once PyTorch is imported (it is optional)."""
    torch = _import_torch("to_torch")

    class TorchLayer(torch.nn.Linear):  # type: ignore[name-defined]
        """An nn.layers ``Layer``: ``torch.nn.Linear`` then the activation (``slope`` for prelu)."""

        def __init__(self, nin: int, nout: int, activation: str, negative_slope: float, alpha: float) -> None:
            super().__init__(nin, nout, dtype=torch.float64)
            self.activation = activation
            self.negative_slope = negative_slope
            self.alpha = alpha
            if activation == "prelu":
                self.slope = torch.nn.Parameter(torch.full((nout,), PRELU_INIT, dtype=torch.float64))

        def forward(self, x: Any) -> Any:
            out = super().forward(x)
            return _activate(torch, out, self.activation, self.negative_slope, self.alpha, getattr(self, "slope", None))

        def extra_repr(self) -> str:
            return f"{super().extra_repr()}, activation={self.activation!r}"

    class TorchMLP(torch.nn.Module):  # type: ignore[name-defined]
        """An nn.layers ``MLP``: ``layers`` is a ModuleList of ``TorchLayer``."""

        def __init__(
            self,
            nin: int,
            nouts: list[int],
            activation: str,
            output_activation: str,
            negative_slope: float,
            alpha: float,
        ) -> None:
            super().__init__()
            self.nin, self.nouts = nin, list(nouts)
            self.activation, self.output_activation = activation, output_activation
            self.negative_slope, self.alpha = negative_slope, alpha
            sizes = [nin, *nouts]
            last = len(nouts) - 1
            self.layers = torch.nn.ModuleList(
                TorchLayer(
                    sizes[i], sizes[i + 1], output_activation if i == last else activation, negative_slope, alpha
                )
                for i in range(len(nouts))
            )

        def forward(self, x: Any) -> Any:
            for layer in self.layers:
                x = layer(x)
            return x

    return TorchLayer, TorchMLP


def _build_torch(torch: Any, m: Module) -> Any:
    """An untrained torch module of ``m``'s architecture (weights are copied afterwards)."""
    tnn, f64 = torch.nn, torch.float64
    TorchLayer, TorchMLP = _torch_classes()
    if isinstance(m, Sequential):
        return tnn.Sequential(*(_build_torch(torch, c) for c in m))
    if isinstance(m, MLP):
        return TorchMLP(m.nin, m.nouts, m.activation, m.output_activation, m.negative_slope, m.alpha)
    if isinstance(m, Layer):
        return TorchLayer(m.nin, m.nout, m.activation, m.negative_slope, m.alpha)
    if isinstance(m, Linear):
        return tnn.Linear(m.nin, m.nout, bias=m.bias is not None, dtype=f64)
    if isinstance(m, LeakyReLU):
        return tnn.LeakyReLU(m.negative_slope)
    if isinstance(m, ELU):
        return tnn.ELU(m.alpha)
    if isinstance(m, PReLU):
        return tnn.PReLU(m.num_parameters, dtype=f64)
    plain: dict[type, Any] = {Identity: tnn.Identity, ReLU: tnn.ReLU, Tanh: tnn.Tanh, Sigmoid: tnn.Sigmoid}
    if type(m) in plain:
        return plain[type(m)]()
    if isinstance(m, Dropout):
        return tnn.Dropout(m.p)
    if isinstance(m, BatchNorm):
        bn = tnn.BatchNorm1d(m.num_features, eps=m.eps, momentum=m.momentum, dtype=f64)
        # nn's BatchNorm has no batch counter; without it the state-dict keys are equal
        # (torch only reads the counter when momentum is None).
        bn.num_batches_tracked = None
        return bn
    raise TypeError(f"nn.to_torch cannot convert a {type(m).__name__}; it converts {_SUPPORTED}")


def to_torch(module: Module) -> Any:
    """A ``torch.nn.Module`` (float64) that computes what ``module`` computes, with its weights.

    Args:
        module: an ``MLP``, ``Layer`` or ``Sequential`` (of the modules listed in
            :mod:`nn.torch_bridge`), or one of those modules alone.

    Returns:
        A torch module taking an ``(n, inputs)`` tensor, whose ``state_dict()`` has the keys
        and shapes of ``module.state_dict()`` and whose training mode is ``module``'s.

    Raises:
        ImportError: if PyTorch is not installed (the message names the extra).
        TypeError: for a module (or a sub-module) that has no PyTorch counterpart here.
    """
    if not isinstance(module, Module):
        raise TypeError(f"nn.to_torch needs an nn.Module, got {type(module).__name__}")
    torch = _import_torch("to_torch")
    tm = _build_torch(torch, module)
    ours = module.state_dict()
    theirs = tm.state_dict()
    if {k: tuple(v.shape) for k, v in theirs.items()} != {k: a.shape for k, a in ours.items()}:
        raise RuntimeError(f"nn.to_torch: the torch module's state {list(theirs)} differs from {list(ours)} (a bug)")
    with torch.no_grad():
        # state_dict() tensors share storage with the parameters and buffers: copy in place
        # (load_state_dict would add BatchNorm1d's counter back for a dict without metadata).
        for k, t in theirs.items():
            t.copy_(torch.from_numpy(ours[k]))
    tm.train(module.training)
    return tm


def _build_ours(torch: Any, tm: Any) -> Module:
    """An nn module of ``tm``'s architecture (weights are copied afterwards)."""
    tnn = torch.nn
    TorchLayer, TorchMLP = _torch_classes()
    if isinstance(tm, TorchMLP):
        return MLP(
            tm.nin,
            tm.nouts,
            tm.activation,
            output_activation=tm.output_activation,
            negative_slope=tm.negative_slope,
            alpha=tm.alpha,
        )
    if isinstance(tm, TorchLayer):
        return Layer(tm.in_features, tm.out_features, tm.activation, negative_slope=tm.negative_slope, alpha=tm.alpha)
    if isinstance(tm, tnn.Sequential):
        return Sequential(*(_build_ours(torch, c) for c in tm))
    if type(tm) is tnn.Linear:
        return Linear(tm.in_features, tm.out_features, bias=tm.bias is not None)
    if type(tm) is tnn.LeakyReLU:
        return LeakyReLU(tm.negative_slope)
    if type(tm) is tnn.ELU:
        return ELU(tm.alpha)
    if type(tm) is tnn.PReLU:
        return PReLU(tm.num_parameters)
    plain: dict[Any, type[Module]] = {tnn.Identity: Identity, tnn.ReLU: ReLU, tnn.Tanh: Tanh, tnn.Sigmoid: Sigmoid}
    if type(tm) in plain:
        return plain[type(tm)]()
    if type(tm) is tnn.Dropout:
        return Dropout(tm.p)
    if type(tm) is tnn.BatchNorm1d:
        if not tm.affine or not tm.track_running_stats or tm.momentum is None:
            raise ValueError(
                "nn.from_torch converts a BatchNorm1d only with affine=True, track_running_stats=True and a "
                f"number as momentum (got affine={tm.affine}, track_running_stats={tm.track_running_stats}, "
                f"momentum={tm.momentum})"
            )
        return BatchNorm(tm.num_features, momentum=tm.momentum, eps=tm.eps)
    raise TypeError(
        f"nn.from_torch cannot convert a {type(tm).__name__}; it converts torch.nn.Sequential, Linear, Identity, "
        "ReLU, Tanh, Sigmoid, LeakyReLU, ELU, PReLU, Dropout, BatchNorm1d and the modules nn.to_torch makes"
    )


def from_torch(torch_module: Any) -> Module:
    """The nn module that computes what ``torch_module`` computes, with its weights (as float64).

    Args:
        torch_module: a module made by :func:`to_torch`, or a ``torch.nn.Sequential`` (nested
            too) of ``Linear``, ``Identity``, ``ReLU``, ``Tanh``, ``Sigmoid``, ``LeakyReLU``,
            ``ELU``, ``PReLU``, ``Dropout`` and ``BatchNorm1d``, or one of those alone.

    Returns:
        An nn Module with the same state-dict keys and values, in the same training mode.

    Raises:
        ImportError: if PyTorch is not installed (the message names the extra).
        TypeError: for a module that has no nn counterpart.
        ValueError: for settings nn cannot represent (e.g. a LeakyReLU slope outside [0, 1],
            a BatchNorm1d without affine parameters or running statistics).
    """
    torch = _import_torch("from_torch")
    if not isinstance(torch_module, torch.nn.Module):
        raise TypeError(f"nn.from_torch needs a torch.nn.Module, got {type(torch_module).__name__}")
    ours = _build_ours(torch, torch_module)
    state = {
        k: v.detach().to("cpu", torch.float64).numpy()
        for k, v in torch_module.state_dict().items()
        if not k.endswith("num_batches_tracked")  # a counter nn's BatchNorm does not keep
    }
    ours.load_state_dict(state)
    ours.train(bool(torch_module.training))
    return ours
