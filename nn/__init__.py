"""nn: neural networks on ``autograd_core.Value`` scalars, in the shape a PyTorch user expects.

- :mod:`nn.module`: ``Module`` (parameters, dotted names, train/eval, state dicts);
- :mod:`nn.layers`: ``Neuron``, ``Layer``, ``MLP``, ``Maxout``, ``Dropout``, ``BatchNorm``;
- :mod:`nn.sequential`: ``Sequential``, ``Linear`` and the activation modules ``Identity ReLU Tanh
  Sigmoid LeakyReLU ELU PReLU`` (PyTorch's shapes and state-dict keys);
- :mod:`nn.losses`: ``mse l1 bce bce_with_logits cross_entropy hinge`` and the L1/L2 penalties;
- :mod:`nn.optim`: ``SGD``, ``Adam``, ``AdamW`` (parameter groups, state dicts) and learning-rate schedules;
- :mod:`nn.data`: toy data sets, ``train_test_split`` and ``batches``;
- :mod:`nn.train`: ``fit``, ``evaluate``, ``predict``, ``History``, ``EarlyStopping``; its pieces in
  :mod:`nn.checks`, :mod:`nn.plan`, :mod:`nn.epochs`, :mod:`nn.batch`, :mod:`nn.history` and
  :mod:`nn.callbacks` (progress bar, ``callbacks=``, ``StopTraining``);
- :mod:`nn.compiled`: a model and its per-sample ``nn.losses`` loss traced for batched replay;
- :mod:`nn.serialize`: ``save`` / ``load`` / ``load_optimizer`` (JSON, atomic, validated), within :mod:`nn.limits`;
- :mod:`nn.torch_bridge`: ``to_torch`` / ``from_torch`` (PyTorch optional: ``pip install autograd-core[torch]``).

Built on the public API of :mod:`autograd_core` only.  A trained model moves to
PyTorch with ``nn.to_torch(model)``, or by hand through its state dict
(``nn.Linear`` layout: weight ``[out, in]``, bias ``[out]``)::

    sd = model.state_dict()                      # {"layers.0.weight": array, ...}
    torch_layer.weight.data = torch.from_numpy(sd["layers.0.weight"])
    model.load_state_dict({k: t.numpy() for k, t in torch_state.items()})
"""

from . import data, losses, optim
from .layers import MLP, BatchNorm, Dropout, Layer, Maxout, Neuron
from .module import Module
from .sequential import ELU, Identity, LeakyReLU, Linear, PReLU, ReLU, Sequential, Sigmoid, Tanh
from .serialize import load, load_optimizer, save
from .torch_bridge import from_torch, to_torch
from .train import EarlyStopping, History, StopTraining, evaluate, fit, predict

__all__ = [
    "Module",
    "Neuron",
    "Layer",
    "MLP",
    "Maxout",
    "Dropout",
    "BatchNorm",
    "Sequential",
    "Linear",
    "Identity",
    "ReLU",
    "Tanh",
    "Sigmoid",
    "LeakyReLU",
    "ELU",
    "PReLU",
    "losses",
    "optim",
    "data",
    "fit",
    "evaluate",
    "predict",
    "History",
    "EarlyStopping",
    "StopTraining",
    "save",
    "load",
    "load_optimizer",
    "to_torch",
    "from_torch",
]
