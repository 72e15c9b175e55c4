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
%matplotlib inline
import random

import matplotlib.pyplot as plt
import numpy as np

import nn
import viz
from autograd_core import Value, explain, grad
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
# First the smallest deep network: eight sigmoid neurons in a row, one weight and one bias
# each, $a_k = \sigma(z_k)$ with $z_k = w_k a_{k-1} + b_k$, fed $x = 1$. There is no loss
# here: we differentiate the chain's output $a_8$ itself. By the chain rule, going back one
# neuron multiplies the gradient by one **per-layer factor**
#
# $$\frac{\partial a_8}{\partial z_{k}} = \frac{\partial a_8}{\partial z_{k+1}} \cdot w_{k+1}\,\sigma'(z_k),
# \qquad \sigma'(z) = \sigma(z)\,(1 - \sigma(z)) \le \tfrac14 .$$
#
# `draw_dot(..., color_by="grad")` shades each node by $|\partial a_8 / \partial v|$ on a log
# scale. The weights come from `init="normal"` ($\sigma = 0.1$), so $|w| \approx 0.1$ and
# every $z_k$ is near 0, where $\sigma' \approx 1/4$: each factor is about $0.1 \cdot 0.25 = 0.025$
# (between 0.002 and 0.035 below), so the gradient fades by a factor of 30 to 500 per
# neuron, far faster than the sigmoid's $1/4$ alone would make it.

# %%
chain = nn.MLP(1, [1] * 8, activation="sigmoid", output_activation="sigmoid", init="normal", rng=random.Random(0))
out = chain([Value(1.0, "x")])[0]
out.backward()
viz.draw_dot(out, params=chain.named_parameters(), color_by="grad", show_grad=True)

# %%
def chain_factors(chain):
    """Per neuron k: |d out / d z_k| (= |grad| of its bias), w_k and sigma'(z_k)."""
    dz = np.array([abs(n.b.grad) for layer in chain.layers for n in layer.neurons])
    w = np.array([layer.neurons[0].w[0].data for layer in chain.layers])
    a, acts = 1.0, []
    for layer in chain.layers:
        a = layer([a])[0].data
        acts.append(a)
    slope = np.array(acts) * (1 - np.array(acts))  # sigma'(z_k) = a_k (1 - a_k)
    return dz, w, slope


def print_factors(dz, w, slope):
    heads = ("k", "|d out/d z_k|", "w_k+1", "sigma'(z_k)", "measured ratio", "|w_k+1| sigma'(z_k)")
    print("".join(h.rjust(n) for h, n in zip(heads, (2, 15, 9, 12, 16, 20))))
    for k in range(len(dz) - 1):
        print(f"{k + 1:2d}{dz[k]:15.3e}{w[k + 1]:9.3f}{slope[k]:12.4f}{dz[k] / dz[k + 1]:16.4f}{abs(w[k + 1]) * slope[k]:20.4f}")
    print(f"{len(dz):2d}{dz[-1]:15.3e}")


chain_grads = [abs(n.w[0].grad) for layer in chain.layers for n in layer.neurons]
print("|d out/d w| from the first neuron to the last:", np.array2string(np.array(chain_grads), precision=2))
small_dz, small_w, small_slope = chain_factors(chain)
print_factors(small_dz, small_w, small_slope)

# %% [markdown]
# The measured ratio between neighbours equals $|w_{k+1}|\,\sigma'(z_k)$ exactly, and it is
# mostly the small weight that makes it tiny. To see the sigmoid's own share, set every
# weight to 1 and every bias to 0: now each factor is $\sigma'(z_k)$ alone, at most $1/4$
# (about 0.2 here, since $z_k$ lies between 0.66 and 1), and seven of them still shrink the gradient by
# a factor of about $10^{-5}$: sigmoid chains vanish even with weights of a healthy size.

# %%
unit_chain = nn.MLP(1, [1] * 8, activation="sigmoid", output_activation="sigmoid", init="normal", rng=random.Random(0))
for layer in unit_chain.layers:
    layer.neurons[0].w[0].data, layer.neurons[0].b.data = 1.0, 0.0
unit_chain([Value(1.0)])[0].backward()
unit_dz, unit_w, unit_slope = chain_factors(unit_chain)
print_factors(unit_dz, unit_w, unit_slope)
print(f"first / last: {unit_dz[0] / unit_dz[-1]:.2e}   (1/4)^7 = {0.25**7:.2e}")

# %% [markdown]
# ### The one path, written out
#
# Leave out the products by 1 and the sums with 0 and the chain is eight sigmoids applied in
# turn to $x = 1$: $a_k = \sigma(a_{k-1})$, the same $z_k$ as above. From $x$ to $a_8$ there is
# exactly one path, so the chain rule is a single product, and `explain` writes it out: one
# local derivative $\sigma'(z_k) = a_k(1 - a_k)$ per sigmoid, each at most $1/4$, multiplied
# together. This is the notes' "diffusion of gradient signal (multiplication of many small
# numbers)" in numbers: eight factors between 0.19 and 0.23 leave $5.5 \cdot 10^{-6}$, below
# $(1/4)^8 = 1.5 \cdot 10^{-5}$.

# %%
x_in = Value(1.0, "x")
a_k = x_in
for k in range(1, 9):
    a_k = a_k.sigmoid()
    a_k.label = f"a{k}"
sigmoid_path = explain(a_k, x_in)
print(sigmoid_path)
(the_path,) = sigmoid_path.paths
engine_grad = grad(a_k, [x_in])[0].data
print("factors from x up to a8:", np.array2string(np.array(the_path.factors), precision=4))
print(f"their product {the_path.product:.6e}; the engine's d a8/d x {engine_grad:.6e}")

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
HIGH_LR, LOW_LR = 0.01, 1e-5
lr_curves = {}
for lr in (HIGH_LR, LOW_LR):
    m = deep_net("relu", init="uniform")
    opt = nn.optim.SGD(m.parameters(), lr=lr)
    h = nn.fit(m, X, y.astype(float), loss="mse", optimizer=opt, epochs=25, batch_size=None, compile=True, progress=False)
    lr_curves[lr] = np.array(h.train_loss)  # full batch: one step per epoch, loss before the step

fig, ax = plt.subplots(figsize=(6, 3.3))
for lr, curve in lr_curves.items():
    bad = np.flatnonzero(~np.isfinite(curve))
    stop = bad[0] if len(bad) else len(curve)  # draw the curve up to its first inf or NaN
    (line,) = ax.semilogy(range(stop), curve[:stop], "o-", label=f"lr = {lr}")
    if len(bad):
        ax.plot(stop - 1, curve[stop - 1], "X", ms=14, color=line.get_color())
        ax.annotate(f"diverged: loss is {curve[stop]} from step {stop}", (stop - 1, curve[stop - 1]),
                    xytext=(8, -4), textcoords="offset points", color=line.get_color())
ax.set_xlabel("step")
ax.set_ylabel("MSE")
ax.legend(loc="center right")
ax.set_title("exploding gradients: a lower learning rate keeps training stable")
plt.show()
for lr, curve in lr_curves.items():
    finite = curve[np.isfinite(curve)]
    print(f"lr = {lr}: loss {curve[0]:.3g} -> {curve[-1]:.3g} (largest finite {finite.max():.3g}; "
          f"{np.sum(~np.isfinite(curve))} of {len(curve)} steps inf or NaN)")

# %% [markdown]
# * **Batch normalization**: after each hidden layer, `nn.BatchNorm` rescales every unit to
#   zero mean and unit variance over the mini-batch (then applies a learnable scale and
#   shift). Whatever the weights, each layer then sees inputs of the same size, so the
#   forward signal can no longer grow layer after layer, and neither can the gradient that
#   flows back through it. The model below is the same $U(-1, 1)$ ReLU network with a
#   `BatchNorm` after each hidden layer, run on the whole batch at once.

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
    print(f"{name:25} mean |grad| over all layers {g.mean():.3g}; per layer", np.array2string(g, precision=2))
    print(f"{'':25} largest / smallest layer {g.max() / g.min():.3g}; hidden layers 1-9: {g[1:-1].max() / g[1:-1].min():.3g}")

# %% [markdown]
# With `BatchNorm` every layer's gradient is of order 1 instead of several hundred: the
# explosion is gone. The layers are not made equal, though, and the spread across layers is
# even larger than without normalization, where every layer was uniformly too large:
#
# * Layer 0 has only 2 inputs, so its pre-activations are smaller than those of the layers
#   with 16 inputs, and the normalization that follows divides the gradient by their standard
#   deviation: a normalized layer's gradient scales like 1 / (the size of its weights).
# * Through the hidden layers 9 to 1 the gradient still grows towards the input, by about
#   1.2 per layer (4x over nine layers): batch normalization itself causes a mild
#   gradient explosion at initialisation in deep networks (Yang et al., *A Mean Field Theory
#   of Batch Normalization*, 2019).
#
# So batch normalization removes the runaway growth of the signal and keeps every gradient
# in a trainable range; it does not give every layer the same gradient.

# %% [markdown]
# ## Self-check

# %%
# the chain: each step back multiplies by |w| sigma'(z), with sigma' <= 1/4
for dz, w, slope in ((small_dz, small_w, small_slope), (unit_dz, unit_w, unit_slope)):
    assert np.allclose(dz[:-1] / dz[1:], np.abs(w[1:]) * slope[:-1], rtol=1e-9)
    assert np.all(slope <= 0.25)
assert np.all(np.abs(small_w) < 0.2) and np.all(small_dz[:-1] / small_dz[1:] < 0.05)  # small weights: < 1/20 per step
assert chain_grads[0] < 1e-10 * chain_grads[-1]
assert np.all((0.15 < unit_slope) & (unit_slope <= 0.25))  # w = 1: the sigmoid's own factor, about 0.2
assert 0.15**7 < unit_dz[0] / unit_dz[-1] <= 0.25**7
# explain on the chain of sigmoids: one path of eight factors sigma'(z_k) <= 1/4, whose product is the gradient
assert sigmoid_path.form == "paths" and sigmoid_path.n_paths == 1 and len(the_path.factors) == 8
assert all(0 < f <= 0.25 for f in the_path.factors)
assert np.allclose(the_path.factors, unit_slope, rtol=1e-12)  # the same z_k as the unit chain
assert sigmoid_path.total == engine_grad  # explain's total is the engine's gradient, bit for bit
assert np.isclose(the_path.product, engine_grad, rtol=1e-12, atol=0)  # the product, up to rounding
assert np.isclose(engine_grad, unit_dz[0], rtol=1e-12, atol=0) and engine_grad <= 0.25**8
sig, tnh, rel = flows["sigmoid"], flows["tanh"], flows["relu"]
assert sig[0] / sig[-1] < 1e-3  # sigmoid: vanishing
assert 0.1 < rel[0] / rel[-1] < 10  # ReLU with He init: about the same size in every layer
assert rel[0] / rel[-1] > 100 * sig[0] / sig[-1]
assert large["ReLU, U(-1, 1)"].mean() > 100 * large["ReLU, He init"].mean()  # exploding
assert large["ReLU, U(-1, 1)"].min() > 10 * large["ReLU, He init"].max()  # in every layer
high, low = lr_curves[HIGH_LR], lr_curves[LOW_LR]
assert not np.all(np.isfinite(high)) and np.isnan(high[-1])  # a normal learning rate blows up
assert low[-1] < 0.01 * low[0] and np.all(np.isfinite(low))  # a lower one trains
plain, normed = bn_flows["U(-1, 1) ReLU"], bn_flows["U(-1, 1) ReLU + BatchNorm"]
assert normed.mean() < 0.01 * plain.mean()  # batch normalization: no explosion
assert 0.1 < normed.min() and normed.max() < 20  # every layer of order 1: nothing explodes or vanishes
assert normed.max() / normed.min() < 100 and normed[1:-1].max() / normed[1:-1].min() < 10  # spread bounded
assert normed.max() / normed.min() < 1e-3 * sig[-1] / sig[0]  # unlike the sigmoid network's 1e6-fold vanishing
