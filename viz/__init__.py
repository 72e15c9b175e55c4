"""viz: computation graphs rendered with Graphviz, and plots of training.

``draw_dot(root)`` gives a deterministic :class:`graphviz.Digraph` (inline in
notebooks); ``draw_summary(root, params)`` draws a large graph as one node per layer;
``render_svg(root, path)`` writes ``.dot`` and ``.svg``;
:mod:`viz.plots` (matplotlib, imported lazily) plots loss curves, decision
boundaries and gradient flow; ``backward_player(out)`` steps through a
backward pass in a standalone page; :mod:`viz.cli` is the ``autograd-core`` command.
"""

from .dot import DotGraph, draw_dot, escape_record
from .player import BackwardPlayer, backward_player
from .plots import plot_decision_boundary, plot_gradient_flow, plot_history
from .render import GraphvizNotFoundError, render_svg
from .summary import draw_summary
from .trace import Trace, layer_prefix, neuron_prefix, trace

__all__ = [
    "draw_dot",
    "draw_summary",
    "render_svg",
    "GraphvizNotFoundError",
    "DotGraph",
    "plot_history",
    "plot_decision_boundary",
    "plot_gradient_flow",
    "escape_record",
    "trace",
    "Trace",
    "layer_prefix",
    "neuron_prefix",
    "backward_player",
    "BackwardPlayer",
]
