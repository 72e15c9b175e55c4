"""Compatibility layers: other autograd libraries' APIs on autograd-core's engine.

:mod:`autograd_core.compat.micrograd` is karpathy/micrograd's API (``engine.Value``
and ``nn.Neuron``/``Layer``/``MLP``), so that micrograd code runs with only its
import lines changed, and its graphs are differentiated by this engine.
"""
