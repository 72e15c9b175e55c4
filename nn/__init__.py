"""nn: neurons, layers, MLPs, losses, optimizers and training on top of ``autograd_core.Value`` (in progress)."""
