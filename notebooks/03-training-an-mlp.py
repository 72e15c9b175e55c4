# %% [markdown]
# # 3. Training an MLP
#
# micrograd's demo task: 100 points of two interleaving half moons, a multi-layer
# perceptron with two hidden layers of 16 ReLU units, the max-margin (hinge) loss plus a
# small L2 penalty, and stochastic gradient descent whose learning rate decays from 1.0
# to 0.1 over 100 full-batch steps. It reaches 100% training accuracy. We then compare
# activation functions on the same task.

# %%
import random

import matplotlib.pyplot as plt
import numpy as np

import nn
from autograd_core.compile import compile_loss, compile_model
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
# $\lambda \sum_j w_j^2$ with $\lambda = 10^{-4}$, zero the gradients, backward, update.

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
print(f"step 0: loss {eager_loss:.4f}, accuracy {accuracy:.2f}")

# %% [markdown]
# That step built a graph of every sample's forward pass, tens of thousands of nodes.
# For the remaining steps we use the compiled path of the engine: the per-sample loss is
# traced once into a tape and replayed over the whole batch with numpy. It computes the
# same loss and the same gradients (and adds them into `.grad` like `backward()`), only
# faster.

# %%
step_loss = compile_loss(model, "hinge", 2, l2=L2)
model.zero_grad()
compiled_loss, compiled_grads = step_loss.value_and_grad(X, targets)
print(f"eager loss {eager_loss:.12f}, compiled loss {compiled_loss:.12f}")
print(f"largest gradient difference: {max(abs(a - b) for a, b in zip(eager_grads, compiled_grads)):.2e}")

# %% [markdown]
# ## Training

# %%
def train(model, steps=100):
    step_loss = compile_loss(model, "hinge", 2, l2=L2)
    predict = compile_model(model, 2)
    opt = nn.optim.SGD(model.parameters(), lr=1.0, schedule=lambda k: 1.0 - 0.9 * k / steps)
    history = nn.History()
    for k in range(steps):
        opt.zero_grad()
        loss_k, _ = step_loss.value_and_grad(X, targets)
        acc_k = float(np.mean((predict(X[:, 0], X[:, 1])[0] > 0) == (targets > 0)))
        history.train_loss.append(loss_k)
        history.train_accuracy.append(acc_k)
        opt.step()
    final = float(np.mean((predict(X[:, 0], X[:, 1])[0] > 0) == (targets > 0)))
    return history, final, predict


history, final_accuracy, predict = train(model)
print(f"after 100 steps: loss {history.train_loss[-1]:.4f}, training accuracy {final_accuracy:.0%}")
plots.plot_history(history)

# %% [markdown]
# The decision boundary: the model's score on a grid over the plane, the boundary where it
# crosses zero. The grid is scored in one batched call of the compiled model.

# %%
batched = lambda pts: predict(pts[:, 0], pts[:, 1])[0]
plots.plot_decision_boundary(model, X, y, resolution=80, predict=batched)

# %% [markdown]
# ## Activations compared
#
# The same architecture and training with each activation of the notes in the hidden
# layers. Sigmoid saturates and its gradients are small (at most 1/4 per layer), so in
# 100 steps it learns the least; the ReLU family and tanh bend the boundary around the moons.

# %%
activations = ["sigmoid", "tanh", "relu", "leaky_relu", "elu"]
results = {}
for act in activations:
    m = nn.MLP(2, [16, 16, 1], activation=act, rng=random.Random(SEED))
    h, acc, pred = train(m)
    grid = plots.decision_grid(m, X, resolution=60, predict=lambda pts, pred=pred: pred(pts[:, 0], pts[:, 1])[0])
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
