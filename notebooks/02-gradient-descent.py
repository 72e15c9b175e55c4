# %% [markdown]
# # 2. Gradient descent
#
# Gradient descent repeats one step: compute the gradient of the loss at the current
# weights, and move the weights a little against it,
# $w_i \leftarrow w_i - \alpha \,\partial \mathrm{Loss} / \partial w_i$. This lesson runs it on
#
# 1. univariate linear regression, with the notes' hand-derived update rules and with the engine;
# 2. batch, stochastic and mini-batch descent side by side;
# 3. a learning rate that is too small, about right, and too large (divergence);
# 4. logistic regression with the log loss on 2-D data, and its decision boundary.

# %%
%matplotlib inline
import random

import matplotlib.pyplot as plt
import numpy as np

import nn
from autograd_core import Value, grad
from viz import plots

# %% [markdown]
# ## 1. Univariate linear regression
#
# $h_w(x) = w_1 x + w_0$, fitted to $n$ points by minimising $\sum_j (y_j - h_w(x_j))^2$.
# Data: $y = 2x + 0.5$ plus Gaussian noise.

# %%
X, y = nn.data.make_linear(40, noise=0.2, seed=0)
x = X[:, 0]
w1_best, w0_best = np.polyfit(x, y, 1)  # the least-squares answer, to compare with
print(f"least squares: w1 = {w1_best:.4f}, w0 = {w0_best:.4f}")

# %% [markdown]
# The notes derive, for one example, $\partial \mathrm{Loss}/\partial w_0 = -2(y - h_w(x))$ and
# $\partial \mathrm{Loss}/\partial w_1 = -2(y - h_w(x))\,x$, and the batch rule (the 2 folded into $\alpha$)
#
# $$w_0 \leftarrow w_0 + \alpha \sum_j (y_j - h_w(x_j)), \qquad w_1 \leftarrow w_1 + \alpha \sum_j (y_j - h_w(x_j))\, x_j.$$
#
# One step by the formula, and one step from the engine's gradient of the summed loss
# with learning rate $\alpha/2$, land on the same weights:

# %%
alpha = 0.01
w0, w1 = 0.0, 0.0
residual = y - (w1 * x + w0)
by_formula = (float(w0 + alpha * residual.sum()), float(w1 + alpha * (residual * x).sum()))

W0, W1 = Value(w0, "w0"), Value(w1, "w1")
loss = sum(((yj - (W1 * xj + W0)) ** 2 for xj, yj in zip(x.tolist(), y.tolist())), Value(0.0))
g0, g1 = grad(loss, [W0, W1])
by_engine = (w0 - alpha / 2 * g0.data, w1 - alpha / 2 * g1.data)
print("by the notes' formula:", by_formula)
print("by the engine        :", by_engine)

# %% [markdown]
# Iterating the notes' batch rule converges to the least-squares line:

# %%
w0, w1 = 0.0, 0.0
for _ in range(300):
    residual = y - (w1 * x + w0)
    w0, w1 = w0 + alpha * residual.sum(), w1 + alpha * (residual * x).sum()
print(f"after 300 batch steps: w1 = {w1:.4f}, w0 = {w0:.4f}")
notes_rule = (w0, w1)

# %% [markdown]
# ## 2. Batch, stochastic and mini-batch descent
#
# The same model, `nn.Layer(1, 1, activation="linear")`, trained with `nn.fit` and the mean
# squared error, for 30 epochs each:
#
# * **batch**: one step per epoch on all 40 points (`batch_size=None`);
# * **stochastic**: one step per point, in a fresh random order every epoch (`batch_size=1`);
# * **mini-batch**: shuffle, split into batches of 8, one step per batch (`batch_size=8`).

# %%
runs = {}
for name, batch_size, lr in [("batch", None, 0.3), ("stochastic", 1, 0.05), ("mini-batch (8)", 8, 0.1)]:
    model = nn.Layer(1, 1, activation="linear", rng=random.Random(0))
    opt = nn.optim.SGD(model.parameters(), lr=lr)
    hist = nn.fit(model, X, y, loss="mse", optimizer=opt, epochs=30, batch_size=batch_size, progress=False, seed=0)
    w_fit, b_fit = model.neurons[0].w[0].data, model.neurons[0].b.data
    runs[name] = (hist.train_loss, opt.steps, w_fit, b_fit)
    print(f"{name:15} {opt.steps:5d} updates   w1 = {w_fit:.4f}, w0 = {b_fit:.4f}, final loss {hist.train_loss[-1]:.4f}")

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.5))
for name, (losses_, steps, _, _) in runs.items():
    ax1.semilogy(range(1, 31), losses_, label=name)
    ax2.loglog(np.arange(1, 31) * steps // 30, losses_, label=name)
ax1.set_xlabel("epoch")
ax2.set_xlabel("parameter updates")
for ax in (ax1, ax2):
    ax.set_ylabel("training MSE")
    ax.legend()
ax1.set_title("per epoch: SGD makes 40 steps per epoch")
ax2.set_title("per update: cheap noisy steps against exact ones")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 3. The learning rate
#
# For the mean squared error of a linear model the loss is a quadratic bowl whose
# curvature is the largest eigenvalue $\lambda_{\max}$ of $2\,\mathbb{E}[\tilde x \tilde x^\top]$
# ($\tilde x = (x, 1)$). Batch descent converges for $\alpha < 2/\lambda_{\max}$ and diverges
# above it. We try a rate far too small, one about right, and one 10% above the limit.

# %%
Xt = np.column_stack([x, np.ones_like(x)])
lam_max = np.linalg.eigvalsh(2 * Xt.T @ Xt / len(x)).max()
limit = 2 / lam_max
print(f"lambda_max = {lam_max:.4f}, so the largest stable rate is {limit:.4f}")

lr_runs = {}
for label, lr in [("too small", 0.01 * limit), ("about right", 0.5 * limit), ("too large", 1.1 * limit)]:
    model = nn.Layer(1, 1, activation="linear", rng=random.Random(0))
    hist = nn.fit(model, X, y, loss="mse", optimizer=nn.optim.SGD(model.parameters(), lr=lr), epochs=40, progress=False)
    lr_runs[label] = (lr, hist.train_loss)
    print(f"{label:12} lr = {lr:.4f}: loss {hist.train_loss[0]:.3g} -> {hist.train_loss[-1]:.3g}")

fig, ax = plt.subplots(figsize=(6, 3.5))
for label, (lr, ls) in lr_runs.items():
    ax.semilogy(range(1, 41), ls, label=f"{label} (lr={lr:.3f})")
ax.set_xlabel("epoch (one batch step each)")
ax.set_ylabel("training MSE")
ax.legend()
ax.set_title("learning rate: too small, right, too large")
plt.show()

# %% [markdown]
# ## 4. Logistic regression with the log loss
#
# Two classes in the plane; the model is one sigmoid neuron,
# $a = \sigma(w^\top x + b)$, trained on the log loss
# $-\big(y \log a + (1 - y)\log(1 - a)\big)$ (`nn.losses.bce`). The notes derive its gradient
# per example as $dz = a - y$, $dw = x\,dz$, $db = dz$; the engine agrees:

# %%
Xc, yc = nn.data.make_blobs(80, noise=1.6, centers=2, seed=3)
clf = nn.Layer(2, 1, activation="sigmoid", rng=random.Random(0))
x_one, y_one = Xc[0].tolist(), float(yc[0])
(a,) = clf(x_one)
loss_one = nn.losses.bce([a], [y_one])
clf.zero_grad()
loss_one.backward()
dz = a.data - y_one
by_notes = [x_one[0] * dz, x_one[1] * dz, dz]
neuron = clf.neurons[0]
by_engine_lr = [neuron.w[0].grad, neuron.w[1].grad, neuron.b.grad]
print("dw, db by the notes :", np.round(by_notes, 6))
print("dw, db by the engine:", np.round(by_engine_lr, 6))

# %%
clf = nn.Layer(2, 1, activation="sigmoid", rng=random.Random(0))
log_hist = nn.fit(clf, Xc, yc, loss="bce", optimizer=nn.optim.SGD(clf.parameters(), lr=0.5), epochs=40, progress=False)
print(f"log loss {log_hist.train_loss[0]:.3f} -> {log_hist.train_loss[-1]:.3f}, accuracy {log_hist.train_accuracy[-1]:.3f}")
plots.plot_history(log_hist)

# %%
plots.plot_decision_boundary(clf, Xc, yc, threshold=0.5)

# %% [markdown]
# ## Self-check

# %%
assert np.allclose(by_formula, by_engine, rtol=0, atol=1e-12)
assert abs(notes_rule[0] - w0_best) < 1e-6 and abs(notes_rule[1] - w1_best) < 1e-6
for name, (losses_, steps, w_fit, b_fit) in runs.items():
    assert abs(w_fit - w1_best) < 0.1 and abs(b_fit - w0_best) < 0.1, (name, w_fit, b_fit)
    assert losses_[-1] < 0.06, (name, losses_[-1])
assert [runs[k][1] for k in runs] == [30, 30 * 40, 30 * 5]
small, right, large = (lr_runs[k][1] for k in ("too small", "about right", "too large"))
assert right[-1] < 0.05 < small[-1] < small[0]  # too small: still going down, far from the bottom
assert large[-1] > 10 * large[0]  # too large: diverges
assert np.allclose(by_notes, by_engine_lr, rtol=1e-12, atol=1e-15)
assert log_hist.train_loss[-1] < 0.5 * log_hist.train_loss[0] and log_hist.train_accuracy[-1] >= 0.9
