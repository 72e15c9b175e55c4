# %% [markdown]
# # 7. Playground
#
# In the spirit of the [TensorFlow Neural Network Playground](https://playground.tensorflow.org)
# that the notes point to: the four classic 2-D datasets (circle, XOR, Gaussian blobs,
# spiral), a small grid of architectures and activations, and the decision boundary each
# one learns, side by side. Change the lists below and re-run to play.
#
# Training uses `nn.fit` on the engine's compiled path (`compile=True`): each model's
# per-sample loss is traced once and replayed on the whole batch with numpy, so the twenty
# trainings below take seconds.

# %%
import random

import matplotlib.pyplot as plt
import numpy as np

import nn
from viz import plots

SEED = 0
N = 200
datasets = {
    "circle": nn.data.make_circles(N, noise=0.1, seed=SEED),
    "XOR": nn.data.make_xor(N, noise=0.15, seed=SEED),
    "Gaussian blobs": nn.data.make_blobs(N, noise=1.0, centers=2, seed=SEED),
    "spiral": nn.data.make_spirals(N, noise=0.25, seed=SEED),
}
# name: (hidden layer widths, activation); every model ends in one linear output unit (a logit).
architectures = {
    "no hidden layer": ([], "linear"),
    "4 tanh": ([4], "tanh"),
    "8-8 tanh": ([8, 8], "tanh"),
    "8-8 ReLU": ([8, 8], "relu"),
    "8-8 sigmoid": ([8, 8], "sigmoid"),
}
STEPS, LR = 300, 0.05

# %%
fig, axes = plt.subplots(1, 4, figsize=(14, 3.2))
for ax, (name, (X, y)) in zip(axes, datasets.items()):
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", edgecolors="k", s=12)
    ax.set_title(name)
plt.tight_layout()
plt.show()

# %% [markdown]
# Each dataset is split into 75% training and 25% test points. Each model is trained with
# Adam on the log loss (`bce_with_logits`) for 300 full-batch steps.

# %%
def accuracy(model, X, y):
    return nn.evaluate(model, X, y, loss="bce_with_logits")["accuracy"]


results = {}
for dname, (X, y) in datasets.items():
    Xtr, Xte, ytr, yte = nn.data.train_test_split(X, y, 0.25, SEED)
    for aname, (hidden, act) in architectures.items():
        model = nn.MLP(2, hidden + [1], activation=act, rng=random.Random(SEED))
        opt = nn.optim.Adam(model.parameters(), lr=LR)
        h = nn.fit(model, Xtr, ytr, loss="bce_with_logits", optimizer=opt, epochs=STEPS, batch_size=None,
                   compile=True, progress=False)
        grid = plots.decision_grid(model, X, resolution=60, predict=lambda pts, m=model: nn.predict(m, pts))
        results[dname, aname] = (accuracy(model, Xtr, ytr), accuracy(model, Xte, yte), h.train_loss[-1], grid)

print(f"{'test accuracy':16}" + "".join(f"{a:>17}" for a in architectures))
for dname in datasets:
    print(f"{dname:16}" + "".join(f"{results[dname, a][1]:17.2f}" for a in architectures))

# %%
fig, axes = plt.subplots(len(datasets), len(architectures), figsize=(3 * len(architectures), 3 * len(datasets)))
for i, (dname, (X, y)) in enumerate(datasets.items()):
    for j, aname in enumerate(architectures):
        ax = axes[i, j]
        train_acc, test_acc, _, (xx, yy, zz) = results[dname, aname]
        ax.contourf(xx, yy, zz, levels=np.linspace(-6, 6, 13), cmap="coolwarm", alpha=0.5, extend="both")
        ax.contour(xx, yy, zz, levels=[0.0], colors="k", linewidths=1)
        ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", edgecolors="k", s=8, linewidths=0.5)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"test {test_acc:.0%}", fontsize=9)
        if i == 0:
            ax.annotate(aname, (0.5, 1.18), xycoords="axes fraction", ha="center", fontsize=11, weight="bold")
        if j == 0:
            ax.set_ylabel(dname, fontsize=11, weight="bold")
plt.tight_layout()
plt.show()

# %% [markdown]
# What to notice:
#
# * Without a hidden layer the model is logistic regression: its boundary is a straight
#   line. That is enough for the blobs and hopeless for the circle, XOR and the spiral.
# * One hidden layer of four tanh units already bends the boundary around the circle and
#   XOR; the spiral needs more.
# * The shape of the boundary follows the activation: ReLU networks draw polygons (piecewise
#   linear), tanh and sigmoid networks smooth curves.
# * In networks this shallow, trained with Adam, even sigmoid units do well; lesson 5 shows
#   why they struggle when the network is deep.

# %% [markdown]
# ## Self-check

# %%
test = {k: v[1] for k, v in results.items()}
train = {k: v[0] for k, v in results.items()}
assert test["Gaussian blobs", "no hidden layer"] >= 0.95  # linearly separable
for d in ("circle", "XOR", "spiral"):
    assert train[d, "no hidden layer"] <= 0.75, d  # a line cannot separate these
    assert max(test[d, a] for a in architectures) >= 0.9, d  # some hidden-layer network can
for d in datasets:
    assert test[d, "8-8 ReLU"] >= 0.9 and test[d, "8-8 tanh"] >= 0.9, d
assert len(results) == len(datasets) * len(architectures)
