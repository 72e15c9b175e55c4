"""viz: computation graphs rendered with Graphviz, and plots of training (in progress)."""
