# %% [markdown]
# # 3. Training an MLP
#
# micrograd's demo task: 100 points of two interleaving half moons, a multi-layer
# perceptron with two hidden layers of 16 ReLU units, the max-margin (hinge) loss plus a
# small L2 penalty, and stochastic gradient descent whose learning rate decays from 1.0
# to 0.1 over 100 full-batch steps. It reaches 100% training accuracy. We then compare
# activation functions on the same task.

# %%
%matplotlib inline
import random

import matplotlib.pyplot as plt
import numpy as np

import nn
from autograd_core import Value
from autograd_core.functional import grad
from nn.compiled import compile_loss
from viz import plots

SEED = 1
X, y = nn.data.make_moons(100, noise=0.1, seed=SEED)
targets = np.where(y == 1, 1.0, -1.0)  # the hinge loss wants labels -1 and +1
fig, ax = plt.subplots(figsize=(4.5, 3.5))
ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", edgecolors="k", s=20)
ax.set_title("two moons, 100 points, noise 0.1")
plt.show()

# %%
model = nn.MLP(2, [16, 16, 1], activation="relu", rng=random.Random(SEED))
print(model)
print("number of parameters:", len(model.parameters()))

# %% [markdown]
# ## One training step, spelled out
#
# Forward every sample, the mean hinge loss $\frac{1}{n}\sum_i \max(0, 1 - y_i s_i)$ plus
# $\lambda \sum_j w_j^2$ with $\lambda = 10^{-4}$, zero the gradients, backward, and the update
# $w \leftarrow w - \eta\, \partial L / \partial w$ with the first learning rate, $\eta = 1$.

# %%
L2 = 1e-4
params = model.parameters()
scores = [model(xi.tolist())[0] for xi in X]
data_loss = nn.losses.hinge(scores, targets.tolist())
loss = data_loss + L2 * nn.losses.l2_penalty(params)
model.zero_grad()
loss.backward()
eager_loss, eager_grads = loss.data, [p.grad for p in params]
accuracy = np.mean([(s.data > 0) == (t > 0) for s, t in zip(scores, targets)])
for p in params:
    p.data -= 1.0 * p.grad
after = nn.evaluate(model, X, y, loss="hinge")
print(f"before the step: hinge loss {data_loss.data:.4f}, accuracy {accuracy:.2f}")
print(f"after the step:  hinge loss {after['loss']:.4f}, accuracy {after['accuracy']:.2f}")

# %% [markdown]
# That step built a graph of every sample's forward pass, tens of thousands of nodes.
# For the remaining steps we use the compiled path of the engine: the per-sample loss is
# traced once into a tape and replayed over the whole batch with numpy. It computes the
# same loss and the same gradients (and adds them into `.grad` like `backward()`), only
# faster. Here is the same first step's loss and gradients, computed on the compiled path
# for a fresh copy of the model (same seed, so the same initial weights), next to the eager ones:

# %%
fresh = nn.MLP(2, [16, 16, 1], activation="relu", rng=random.Random(SEED))
step_loss = compile_loss(fresh, "hinge", 2, l2=L2)
fresh.zero_grad()
compiled_loss, compiled_grads = step_loss.value_and_grad(X, targets)
print(f"eager loss {eager_loss:.12f}, compiled loss {compiled_loss:.12f}")
print(f"largest gradient difference: {max(abs(a - b) for a, b in zip(eager_grads, compiled_grads)):.2e}")

# %% [markdown]
# ## Training
#
# `nn.fit` repeats that step: with `batch_size=None` each epoch is one full-batch step, and
# `compile=True` runs it on the compiled path. The L2 penalty is passed as `l2=`, and the
# hinge loss takes the 0/1 labels (fit maps them to -1/+1). The recorded training loss is
# the data loss, without the penalty.

# %%
STEPS = 100


def train(model):
    opt = nn.optim.SGD(model.parameters(), lr=1.0, schedule=lambda k: 1.0 - 0.9 * k / STEPS)
    history = nn.fit(model, X, y, loss="hinge", optimizer=opt, epochs=STEPS, batch_size=None, l2=L2,
                     compile=True, progress=False)
    return history, nn.evaluate(model, X, y, loss="hinge")["accuracy"]


model = nn.MLP(2, [16, 16, 1], activation="relu", rng=random.Random(SEED))  # from the initial weights again
history, final_accuracy = train(model)
print(f"after {STEPS} steps: loss {history.train_loss[-1]:.4f}, training accuracy {final_accuracy:.0%} "
      f"(compiled: {history.compiled})")
plots.plot_history(history)

# %% [markdown]
# The decision boundary: the model's score on a grid over the plane, the boundary where it
# crosses zero. `nn.predict` scores the grid in one batched call of the compiled model.

# %%
plots.plot_decision_boundary(model, X, y, resolution=80, predict=lambda pts: nn.predict(model, pts))

# %% [markdown]
# ## Activation functions
#
# The notes list these nonlinearities for the hidden units (with their derivatives, which
# backpropagation multiplies along every path):
#
# | name | $f(x)$ | $f'(x)$ |
# |---|---|---|
# | sigmoid | $\sigma(x) = 1 / (1 + e^{-x})$ | $\sigma(x)(1 - \sigma(x)) \le 1/4$ |
# | tanh | $\tanh x$ | $1 - \tanh^2 x \le 1$ |
# | ReLU | $\max(0, x)$ | $0$ for $x < 0$, $1$ for $x > 0$ |
# | leaky ReLU | $\max(0.1x, x)$ | $0.1$ for $x < 0$, $1$ for $x > 0$ |
# | ELU | $x$ if $x > 0$, else $\alpha(e^x - 1)$ | $1$ for $x > 0$, $\alpha e^x$ for $x \le 0$ |
#
# We use the notes' leaky slope 0.1 (`negative_slope=0.1`; the library's default is
# PyTorch's 0.01) and ELU's usual $\alpha = 1$. Two more from the notes:
# **parametric ReLU** is $\max(\alpha x, x)$ with a slope $\alpha$ learned per unit
# (`activation="prelu"`), and **maxout** is $\max(w_1^\top x + b_1, w_2^\top x + b_2)$, the
# larger of two linear units (`nn.Maxout`), which contains ReLU and leaky ReLU as special
# cases. Below, each function and its derivative, the derivative computed by the engine
# with `autograd_core.functional.grad` at every point (ReLU's derivative at exactly 0 is
# taken as 0).

# %%
SLOPE, ALPHA = 0.1, 1.0
functions = {
    "sigmoid": lambda v: v.sigmoid(),
    "tanh": lambda v: v.tanh(),
    "relu": lambda v: v.relu(),
    "leaky_relu": lambda v: v.leaky_relu(SLOPE),
    "elu": lambda v: v.elu(ALPHA),
}
xs = np.linspace(-4, 4, 161)
shapes = {}
for name, f in functions.items():
    df = grad(f)  # a new function: x -> f'(x), by backpropagation through f
    shapes[name] = (np.array([f(Value(x)).data for x in xs]), np.array([df(x) for x in xs]))

fig, axes = plt.subplots(1, 5, figsize=(15, 2.8), sharex=True)
for ax, (name, (fx, dfx)) in zip(axes, shapes.items()):
    ax.plot(xs, fx, label="f(x)")
    ax.plot(xs, dfx, "--", label="f'(x)")
    ax.axhline(0, color="k", lw=0.5)
    ax.axvline(0, color="k", lw=0.5)
    ax.set_ylim(-1.5, 2.5)
    ax.set_title(name + {"leaky_relu": f" (slope {SLOPE})", "elu": f" (alpha {ALPHA})"}.get(name, ""))
axes[0].legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Activations compared
#
# The same architecture and training with each of them in the hidden layers. Sigmoid
# saturates and its derivative is at most 1/4, so its gradients are small and in 100 steps
# it learns the least; the ReLU family and tanh bend the boundary around the moons.

# %%
activations = list(functions)
results = {}
for act in activations:
    m = nn.MLP(2, [16, 16, 1], activation=act, negative_slope=SLOPE, alpha=ALPHA, rng=random.Random(SEED))
    h, acc = train(m)
    grid = plots.decision_grid(m, X, resolution=60, predict=lambda pts, m=m: nn.predict(m, pts))
    results[act] = (h, acc, grid)
    print(f"{act:11} final loss {h.train_loss[-1]:.4f}   training accuracy {acc:.0%}")

# %%
fig, axes = plt.subplots(2, 3, figsize=(12, 7))
axes = axes.ravel()
for act, (h, acc, _) in results.items():
    axes[0].semilogy(h.train_loss, label=act)
axes[0].set_xlabel("step")
axes[0].set_title("training loss")
axes[0].legend(fontsize=8)
for ax, (act, (h, acc, (xx, yy, zz))) in zip(axes[1:], results.items()):
    ax.contourf(xx, yy, zz > 0, levels=[-0.5, 0.5, 1.5], colors=["#c6dbef", "#f4c7c3"])
    ax.contour(xx, yy, zz, levels=[0.0], colors="k", linewidths=1)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", edgecolors="k", s=12)
    ax.set_title(f"{act}: {acc:.0%}")
    ax.set_xticks([])
    ax.set_yticks([])
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Self-check

# %%
assert abs(eager_loss - compiled_loss) < 1e-12
assert np.allclose(eager_grads, compiled_grads, rtol=1e-9, atol=1e-12)
assert final_accuracy == 1.0  # micrograd's demo: 100% on the training set
assert history.train_loss[-1] < 0.1 * history.train_loss[0]
assert results["relu"][1] == 1.0 and results["tanh"][1] >= 0.97
assert all(results[a][1] >= 0.85 for a in activations)
assert results["sigmoid"][0].train_loss[-1] > results["relu"][0].train_loss[-1]
# the engine's derivatives of the activations match their formulas
sig = 1 / (1 + np.exp(-xs))
exact = {
    "sigmoid": sig * (1 - sig),
    "tanh": 1 - np.tanh(xs) ** 2,
    "relu": (xs > 0).astype(float),
    "leaky_relu": np.where(xs > 0, 1.0, SLOPE),
    "elu": np.where(xs > 0, 1.0, ALPHA * np.exp(xs)),
}
for name, (fx, dfx) in shapes.items():
    assert np.allclose(dfx, exact[name], rtol=1e-12, atol=1e-15), name
assert shapes["sigmoid"][1].max() <= 0.25 and shapes["leaky_relu"][0][0] == SLOPE * xs[0]
