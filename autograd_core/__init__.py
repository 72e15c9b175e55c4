"""autograd-core: a scalar reverse-mode automatic-differentiation engine.

``Value`` records each operation and its inputs during the forward pass;
``backward()`` walks the graph in reverse topological order and accumulates
gradients along merging paths; ``grad(..., create_graph=True)`` gives
gradients that are graphs themselves, to any order.  Every primitive lives in
one registry (:mod:`autograd_core.ops`) that the engine, the gradient checker,
the hypothesis strategies and the renderer all read.
"""

from ._state import (
    AnomalyError,
    detect_anomaly,
    enable_grad,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from .compiler import Compiled, TraceError, compile
from .engine import backward, grad, topo_order
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .steps import Explanation, Path, Step, backward_steps, explain
from .value import Value, maximum, minimum, register

__version__ = "0.1.0"

__all__ = [
    "Value",
    "grad",
    "backward",
    "topo_order",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "detect_anomaly",
    "is_anomaly_enabled",
    "AnomalyError",
    "gradcheck",
    "gradgradcheck",
    "GradcheckError",
    "register",
    "maximum",
    "minimum",
    "compile",
    "Compiled",
    "TraceError",
    "backward_steps",
    "explain",
    "Step",
    "Path",
    "Explanation",
]
