# %% [markdown]
# # 5. Vanishing and exploding gradients
#
# Backpropagation multiplies local derivatives along every path from the loss back to a
# weight. In a deep network that is a product of many factors, one or more per layer. If
# they are mostly below 1 the gradient of the early layers **vanishes**; if mostly above 1
# it **explodes**. The notes name the culprits (sigmoid units, whose derivative is at most
# 1/4; large weights) and the remedies (ReLU, careful initialisation, a lower learning rate,
# batch normalization). Here we measure all of them.

# %%
import random

import matplotlib.pyplot as plt
import numpy as np

import nn
import viz
from autograd_core import Value
from autograd_core.compile import compile_loss
from viz import plots

X, y = nn.data.make_moons(32, noise=0.1, seed=0)
DEPTH, WIDTH = 10, 16


def deep_net(activation, init="auto", seed=0):
    return nn.MLP(2, [WIDTH] * DEPTH + [1], activation=activation, init=init, rng=random.Random(seed))


def layer_grads(model_or_named):
    """Mean |grad| per layer after one backward pass of the loss on the batch."""
    named = model_or_named if isinstance(model_or_named, list) else model_or_named.named_parameters()
    return np.array([mean for mean, _ in plots.gradient_flow(named).values()])


def backward_once(model):
    model.zero_grad()
    loss = nn.losses.mse([model(x)[0] for x in X.tolist()], y.tolist())
    loss.backward()
    return loss.data


# %% [markdown]
# ## A chain of sigmoid neurons, coloured by gradient
#
# First the smallest deep network: eight sigmoid neurons in a row, one weight each.
# `draw_dot(..., color_by="grad")` shades each node by $|\partial L / \partial v|$ on a
# log scale: the colour fades towards the input as each sigmoid multiplies the gradient
# by at most 1/4.

# %%
chain = nn.MLP(1, [1] * 8, activation="sigmoid", output_activation="sigmoid", init="normal", rng=random.Random(0))
out = chain([Value(1.0, "x")])[0]
out.backward()
viz.draw_dot(out, params=chain.named_parameters(), color_by="grad", show_grad=True)

# %%
chain_grads = [abs(n.w[0].grad) for layer in chain.layers for n in layer.neurons]
print("|dL/dw| from the first neuron to the last:", np.array2string(np.array(chain_grads), precision=2))

# %% [markdown]
# ## Gradient magnitude per layer: sigmoid, tanh, ReLU
#
# Networks with 10 hidden layers of 16 units, each with its default initialisation
# (Xavier for sigmoid and tanh, He for ReLU), one backward pass of the mean squared error
# on 32 points of the moons (labels 0 and 1 as targets).

# %%
flows = {}
for act in ("sigmoid", "tanh", "relu"):
    m = deep_net(act)
    backward_once(m)
    flows[act] = layer_grads(m)
    if act == "sigmoid":
        sigmoid_model = m

# %%
def plot_flows(flows, title):
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for name, g in flows.items():
        ax.semilogy(range(len(g)), g, "o-", label=name)
    ax.set_xlabel("layer (0 = next to the input)")
    ax.set_ylabel("mean |grad| of its weights")
    ax.set_title(title)
    ax.legend()
    plt.show()


plot_flows(flows, "sigmoid gradients vanish towards the input")
for name, g in flows.items():
    print(f"{name:8} first layer / last layer: {g[0] / g[-1]:.2e}")

# %% [markdown]
# `viz.plots.plot_gradient_flow(model)` draws the same measurement for one model, the mean
# (bars) and the largest (dots) |grad| per layer; here the sigmoid network:

# %%
plots.plot_gradient_flow(sigmoid_model)

# %% [markdown]
# ## Large weights
#
# micrograd initialises every weight from $U(-1, 1)$ (`init="uniform"`), whatever the
# layer's width. With 16 inputs per unit that is much larger than He's
# $\mathcal{N}(0, 2/16)$: every ReLU layer amplifies the signal forward, and the gradient
# backward, by about $\sqrt{16 \cdot \tfrac13 / 2} \approx 1.6$, so after ten layers the
# output and every gradient are hundreds of times too large: they **explode**.

# %%
large = {}
for init, name in (("uniform", "ReLU, U(-1, 1)"), ("auto", "ReLU, He init")):
    m = deep_net("relu", init=init)
    loss_value = backward_once(m)
    large[name] = layer_grads(m)
    print(f"{name:15} loss {loss_value:10.4g}   mean |grad| over all layers {large[name].mean():.3g}")
plot_flows(large, "large weights: every gradient explodes")

# %% [markdown]
# ## What helps
#
# * **ReLU** instead of sigmoid: its derivative is 1 on the active side (above).
# * **Careful initialisation**: Xavier or He scale the weights by the fan-in, so the
#   signal and the gradient keep their size from layer to layer (above: "default init").
# * **A lower learning rate**: an exploding gradient times a normal learning rate is a
#   huge step. Training the ReLU network with $U(-1, 1)$ weights:

# %%
def train_curve(model, lr, steps=25):
    loss_fn = compile_loss(model, "mse", 2)
    opt = nn.optim.SGD(model.parameters(), lr=lr)
    curve = []
    for _ in range(steps):
        opt.zero_grad()
        value, _ = loss_fn.value_and_grad(X, y.astype(float))
        curve.append(value)
        opt.step()
    return curve


HIGH_LR, LOW_LR = 0.01, 1e-5
lr_curves = {lr: train_curve(deep_net("relu", init="uniform"), lr) for lr in (HIGH_LR, LOW_LR)}
fig, ax = plt.subplots(figsize=(6, 3.3))
for lr, curve in lr_curves.items():
    ax.semilogy(np.nan_to_num(curve, nan=1e12, posinf=1e12), "o-", label=f"lr = {lr}")
ax.set_xlabel("step")
ax.set_ylabel("MSE")
ax.legend()
ax.set_title("exploding gradients: a lower learning rate keeps training stable")
plt.show()
for lr, curve in lr_curves.items():
    print(f"lr = {lr}: loss {curve[0]:.3g} -> {curve[-1]:.3g} (largest {np.nanmax(curve):.3g})")

# %% [markdown]
# * **Batch normalization**: after each hidden layer, `nn.BatchNorm` rescales every unit to
#   zero mean and unit variance over the mini-batch (then applies a learnable scale and
#   shift). Whatever the weights, each layer then sees inputs of the same size, and the
#   gradient no longer grows or shrinks by a fixed factor per layer. The model below is the
#   same $U(-1, 1)$ ReLU network with a `BatchNorm` after each hidden layer, run on the whole
#   batch at once.

# %%
def bn_flow(use_bn):
    rng = random.Random(0)
    sizes = [2] + [WIDTH] * DEPTH
    hidden = [nn.Layer(sizes[i], sizes[i + 1], activation="relu", init="uniform", rng=rng) for i in range(DEPTH)]
    head = nn.Layer(WIDTH, 1, activation="linear", init="uniform", rng=rng)
    norms = [nn.BatchNorm(WIDTH) for _ in range(DEPTH)]
    batch = X.tolist()
    for layer, bn in zip(hidden, norms):
        batch = [layer(x) for x in batch]
        if use_bn:
            batch = bn(batch)
    loss = nn.losses.mse([head(x)[0] for x in batch], y.tolist())
    loss.backward()
    named = [(f"layers.{i}.{n}", p) for i, layer in enumerate(hidden + [head]) for n, p in layer.named_parameters()]
    return layer_grads(named), norms


bn_flows = {}
for use_bn in (False, True):
    bn_flows["U(-1, 1) ReLU" + (" + BatchNorm" if use_bn else "")], norms = bn_flow(use_bn)
plot_flows(bn_flows, "batch normalization tames the explosion")
for name, g in bn_flows.items():
    print(f"{name:25} mean |grad| over all layers {g.mean():.3g}")

# %% [markdown]
# ## Self-check

# %%
assert chain_grads[0] < 1e-3 * chain_grads[-1]  # eight sigmoids: at most (1/4)^7 of the way back
sig, tnh, rel = flows["sigmoid"], flows["tanh"], flows["relu"]
assert sig[0] / sig[-1] < 1e-3  # sigmoid: vanishing
assert 0.1 < rel[0] / rel[-1] < 10  # ReLU with He init: about the same size in every layer
assert rel[0] / rel[-1] > 100 * sig[0] / sig[-1]
assert large["ReLU, U(-1, 1)"].mean() > 100 * large["ReLU, He init"].mean()  # exploding
assert large["ReLU, U(-1, 1)"].min() > 10 * large["ReLU, He init"].max()  # in every layer
high, low = lr_curves[HIGH_LR], lr_curves[LOW_LR]
assert not np.isfinite(np.nanmax(high)) or np.nanmax(high) > 10 * high[0]  # a normal learning rate blows up
assert low[-1] < low[0] and np.all(np.isfinite(low))  # a lower one trains
plain, normed = bn_flows["U(-1, 1) ReLU"], bn_flows["U(-1, 1) ReLU + BatchNorm"]
assert normed.mean() < 0.01 * plain.mean()  # batch normalization: no explosion
