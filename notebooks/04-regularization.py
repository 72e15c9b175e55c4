# %% [markdown]
# # 4. Regularization
#
# A model that fits its training data perfectly can still predict new data badly.
# Regularization trades a little training loss for better generalization. This lesson:
#
# 1. the notes' L1-versus-L2 example: which of two equally good weight vectors each penalty prefers;
# 2. L1 pushes the weights of irrelevant inputs to (about) zero, L2 only shrinks them;
# 3. underfitting and overfitting as training and validation curves;
# 4. early stopping: keep the weights of the best validation epoch;
# 5. dropout: random units switched off in training, none at test time.

# %%
%matplotlib inline
import random

import matplotlib.pyplot as plt
import numpy as np

import nn
from autograd_core import Value
from viz import plots

# %% [markdown]
# ## 1. L1 versus L2: the notes' example
#
# Input $x = [1, 2, 1]$ and two weight vectors, $\theta_1 = [0, 0.75, 0]$ and
# $\theta_2 = [0.25, 0.5, 0.25]$. Both predict $\theta^\top x = 1.5$, so the data cannot
# tell them apart; the penalty decides.
#
# * L2, $\sum \theta_i^2$: $0.5625$ for $\theta_1$, $0.375$ for $\theta_2$. L2 prefers the weight spread over all inputs.
# * L1, $\sum |\theta_i|$: $0.75$ for $\theta_1$, $1.0$ for $\theta_2$. L1 prefers the sparse vector.

# %%
x_ex = [1.0, 2.0, 1.0]
theta1 = [Value(v) for v in (0.0, 0.75, 0.0)]
theta2 = [Value(v) for v in (0.25, 0.5, 0.25)]
example = {}
for name, theta in (("theta1", theta1), ("theta2", theta2)):
    pred = sum((t * xi for t, xi in zip(theta, x_ex)), Value(0.0)).data
    l2 = nn.losses.l2_penalty(theta).data
    l1 = nn.losses.l1_penalty(theta).data
    example[name] = (pred, l2, l1)
    print(f"{name}: prediction {pred}, L2 penalty {l2:.4f}, L1 penalty {l1:.4f}")

# %% [markdown]
# ## 2. L1 sparsity with irrelevant inputs
#
# Eight inputs, of which only the first two matter: $y = 1.5 x_1 - x_2 + 0.5 + \text{noise}$,
# and only 30 samples, so an unregularized fit gives the six irrelevant inputs small
# non-zero weights that fit the noise. We fit three times with `nn.fit`: without a
# penalty, with L1 and with L2 of the same strength.

# %%
Xs, ys = nn.data.make_linear(30, noise=0.3, features=8, weights=[1.5, -1, 0, 0, 0, 0, 0, 0], seed=0)
weights = {}
for name, l1, l2 in (("none", 0.0, 0.0), ("L1", 0.1, 0.0), ("L2", 0.0, 0.1)):
    m = nn.Layer(8, 1, activation="linear", rng=random.Random(0))
    nn.fit(m, Xs, ys, loss="mse", optimizer=nn.optim.SGD(m.parameters(), lr=0.1), epochs=300, l1=l1, l2=l2, progress=False)
    weights[name] = np.array([w.data for w in m.neurons[0].w])
    print(f"{name:5}", np.array2string(weights[name], precision=3, suppress_small=True))
irrelevant = {k: float(np.abs(w[2:]).mean()) for k, w in weights.items()}
print("mean |weight| of the irrelevant inputs:", {k: round(v, 4) for k, v in irrelevant.items()})

# %% [markdown]
# L1 leaves the irrelevant weights at about $\pm 0.01$, not at exactly zero. Its gradient
# $\lambda\,\mathrm{sign}(w)$ has the same size however small $w$ is, so each plain
# (sub)gradient step of size $\text{lr} \cdot \lambda = 0.1 \cdot 0.1 = 0.01$ jumps over zero
# and back: the weights hover around zero. Exact zeros need a *proximal* step
# (soft-thresholding: after the data step, $w \leftarrow \mathrm{sign}(w)\max(|w| - \text{lr}\,\lambda, 0)$),
# which is how Lasso solvers do it; `nn.fit` takes plain gradient steps. L2's gradient
# $2\lambda w$ shrinks with $w$, so it shrinks the weights without pushing them to zero.

# %%
fig, ax = plt.subplots(figsize=(7, 3.2))
for i, (name, w) in enumerate(weights.items()):
    ax.bar(np.arange(8) + (i - 1) * 0.27, w, width=0.27, label=name)
ax.axhline(0, color="k", lw=0.5)
ax.set_xticks(range(8), [f"x{i + 1}" for i in range(8)])
ax.set_ylabel("learned weight")
ax.set_title("x1, x2 matter; x3..x8 are noise")
ax.legend()
plt.show()

# %% [markdown]
# ## 3. Underfitting and overfitting
#
# Twelve noisy samples of $\sin(\pi x)$, fitted with polynomials of degree 1, 3 and 11
# (a linear layer on the features $x, x^2, \dots, x^d$). We watch the loss on the
# training points and on 50 fresh validation points as training goes on.
#
# * Degree 1 **underfits**: a line cannot follow a sine; both losses level off high.
# * Degree 3 fits the curve; both losses are low.
# * Degree 11 **overfits**: with as many weights as points it bends through the noise;
#   the training loss keeps falling while the validation loss turns back up.
#
# Every model starts from zero weights (the constant prediction 0), so all curves start
# at the same loss.

# %%
rng = np.random.default_rng(18)
truth = lambda x: np.sin(np.pi * x)
x_tr = np.sort(rng.uniform(-1, 1, 12))
y_tr = truth(x_tr) + rng.normal(0, 0.3, 12)
x_va = rng.uniform(-1, 1, 50)
y_va = truth(x_va) + rng.normal(0, 0.3, 50)
powers = lambda x, d: np.column_stack([x**k for k in range(1, d + 1)])

fits = {}
for degree in (1, 3, 11):
    m = nn.Layer(degree, 1, activation="linear", rng=random.Random(0))
    for w in m.parameters():
        w.data = 0.0
    h = nn.fit(
        m, powers(x_tr, degree), y_tr, loss="mse", optimizer=nn.optim.Adam(m.parameters(), lr=0.05),
        epochs=1000, val=(powers(x_va, degree), y_va), progress=False,
    )
    fits[degree] = (m, h)
    print(f"degree {degree:2}: train {h.train_loss[-1]:.3f}, validation {h.val_loss[-1]:.3f} "
          f"(best {min(h.val_loss):.3f} at epoch {int(np.argmin(h.val_loss)) + 1})")

# %%
fig, axes = plt.subplots(2, 3, figsize=(13, 6.5))
grid = np.linspace(-1, 1, 200)
for col, (degree, (m, h)) in enumerate(fits.items()):
    ax = axes[0, col]
    ax.plot(grid, truth(grid), "k--", lw=1, label="truth")
    ax.plot(grid, nn.predict(m, powers(grid, degree)), label=f"degree {degree}")
    ax.plot(x_tr, y_tr, "o", label="training")
    ax.plot(x_va, y_va, ".", color="grey", label="validation")
    ax.set_ylim(-2, 2)
    ax.legend(fontsize=7)
    ax.set_title(["underfit", "about right", "overfit"][col])
    ax = axes[1, col]
    ax.semilogy(h.train_loss, label="train")
    ax.semilogy(h.val_loss, label="validation")
    ax.set_xlabel("epoch")
    ax.legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# The underfit line levels off with both losses high (printed above), well above degree 3's
# and the noise level ($0.3^2 = 0.09$): more training cannot help, the model is too simple.
# Its validation loss dips by a few percent around epoch 30 before settling: on its way from
# 0 to the least-squares line of the twelve training points, the line passes one that
# happens to suit the validation points a little better. That is noise in a 12-point fit,
# small beside degree 11, whose validation loss nearly triples while its training loss keeps
# falling: the mark of overfitting.

# %% [markdown]
# ## 4. Early stopping
#
# Overfitting shows in the validation curve, so stop when it has not improved for a while
# (the *patience*) and go back to the weights of its best epoch. `nn.fit` does both with
# `early_stopping=nn.EarlyStopping(patience=...)`.

# %%
m_es = nn.Layer(11, 1, activation="linear", rng=random.Random(0))
for w in m_es.parameters():
    w.data = 0.0
h_es = nn.fit(
    m_es, powers(x_tr, 11), y_tr, loss="mse", optimizer=nn.optim.Adam(m_es.parameters(), lr=0.05),
    epochs=1000, val=(powers(x_va, 11), y_va), early_stopping=nn.EarlyStopping(patience=150), progress=False,
)
restored = nn.evaluate(m_es, powers(x_va, 11), y_va, loss="mse")["loss"]
print(f"stopped after {h_es.epochs} epochs; best epoch {h_es.best_epoch + 1} with validation loss "
      f"{h_es.val_loss[h_es.best_epoch]:.4f}; restored model's validation loss {restored:.4f}")
print(f"without early stopping the last epoch has validation loss {fits[11][1].val_loss[-1]:.4f}")
plots.plot_history(h_es)

# %% [markdown]
# ## 5. Dropout
#
# In training mode `nn.Dropout(p)` zeroes each input with probability $p$ and scales the
# others by $1/(1-p)$ ("inverted dropout"), so the expected value is unchanged; in
# evaluation mode it passes its input through. Each training step thus trains a random
# sub-network, and no unit can rely on one particular other unit.

# %%
drop = nn.Dropout(0.5, rng=random.Random(0))
ones = [1.0] * 10
print("training mode:", drop(ones))
print("training mode:", drop(ones))
draws = np.array([drop(ones) for _ in range(2000)])
print(f"mean over 2000 draws: {draws.mean():.3f}")
drop.eval()
print("evaluation mode:", drop(ones))

# %% [markdown]
# A network that overfits twelve points: 64 ReLU units, trained for 400 full-batch epochs
# with Adam on a new draw of twelve noisy points of the same sine (and 50 validation points), once without dropout ($p = 0$) and once with dropout ($p = 0.2$) after
# the hidden layer. The model is a small `nn.Module` composing the library's layers, so
# `nn.fit` trains it and `train()` / `eval()` switch the dropout with it. We train in
# chunks of 25 epochs and measure both losses in evaluation mode (no dropout) after each.
#
# Without dropout the network fits the training points almost exactly and its validation
# loss is several times its training loss. With dropout the fit to the training points is
# looser, the curve smoother, and the validation loss and the gap are both lower. How much
# dropout helps depends on the network, the data and $p$: on this draw it helps for the
# network's seeds 0, 1 and 2 alike, but on some other draws of twelve points it does not help
# at all, and a large $p$ costs more fit than it saves (try $p = 0.5$, or
# `np.random.default_rng(18)` below).

# %%
class DropoutNet(nn.Module):
    """hidden layer -> dropout -> linear output."""

    def __init__(self, p, width=64, seed=0):
        r = random.Random(seed)
        self.hidden = nn.Layer(1, width, activation="relu", rng=r)
        self.drop = nn.Dropout(p, rng=random.Random(seed + 1))
        self.out = nn.Layer(width, 1, activation="linear", rng=r)

    def __call__(self, x):
        return self.out(self.drop(self.hidden(x)))


rng_d = np.random.default_rng(0)
x_d = np.sort(rng_d.uniform(-1, 1, 12))
y_d = truth(x_d) + rng_d.normal(0, 0.3, 12)
x_dv = rng_d.uniform(-1, 1, 50)
y_dv = truth(x_dv) + rng_d.normal(0, 0.3, 50)


def run_dropout(p, epochs=400, chunk=25):
    net = DropoutNet(p)
    opt = nn.optim.Adam(net.parameters(), lr=0.02)
    curve = []
    for k in range(epochs // chunk):
        nn.fit(net, x_d[:, None], y_d, loss="mse", optimizer=opt, epochs=chunk, seed=k, progress=False)
        net.eval()
        tr = nn.evaluate(net, x_d[:, None], y_d, loss="mse")["loss"]
        va = nn.evaluate(net, x_dv[:, None], y_dv, loss="mse")["loss"]
        curve.append(((k + 1) * chunk, tr, va))
        net.train()
    net.eval()
    return net, curve


dropout_runs = {p: run_dropout(p) for p in (0.0, 0.2)}
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.6))
for p, (net, curve) in dropout_runs.items():
    epochs_, tr, va = zip(*curve)
    ax1.plot(epochs_, tr, "-", label=f"train, p={p}")
    ax1.plot(epochs_, va, "--", label=f"validation, p={p}")
    ax2.plot(grid, nn.predict(net, grid[:, None]), label=f"p={p}")
    print(f"p = {p}: train {tr[-1]:.3f}, validation {va[-1]:.3f}, gap {va[-1] - tr[-1]:.3f}")
ax1.set_yscale("log")
ax1.set_xlabel("epoch")
ax1.legend(fontsize=8)
ax2.plot(x_d, y_d, "o", color="k")
ax2.plot(grid, truth(grid), "k--", lw=1)
ax2.set_ylim(-2, 2)
ax2.legend()
ax2.set_title("fits (evaluation mode)")
plt.show()

# %% [markdown]
# ## Self-check

# %%
assert example["theta1"][0] == example["theta2"][0] == 1.5
assert abs(example["theta1"][1] - 0.5625) < 1e-12 and abs(example["theta2"][1] - 0.375) < 1e-12
assert abs(example["theta1"][2] - 0.75) < 1e-12 and abs(example["theta2"][2] - 1.0) < 1e-12
assert irrelevant["L1"] < 0.5 * irrelevant["L2"] and irrelevant["L1"] < 0.5 * irrelevant["none"]
assert weights["L1"][0] > 1.0 and weights["L1"][1] < -0.6  # the relevant weights survive
assert np.abs(weights["L1"][2:]).max() < 0.02  # the irrelevant ones hover within about lr * l1 = 0.01 of zero
train_last = {d: h.train_loss[-1] for d, (m, h) in fits.items()}
val_last = {d: h.val_loss[-1] for d, (m, h) in fits.items()}
assert train_last[11] < train_last[3] < train_last[1]  # more capacity, lower training loss
assert val_last[3] < val_last[1] and val_last[3] < val_last[11]  # the middle one generalizes best
assert val_last[11] > 1.5 * min(fits[11][1].val_loss)  # overfitting: validation loss turned back up
t1, v1 = fits[1][1].train_loss, fits[1][1].val_loss
assert t1[-1] > 1.5 * train_last[3] and v1[-1] > 1.5 * val_last[3]  # underfitting: both losses stay high
assert v1[-1] < 1.2 * min(v1) and abs(t1[-1] - t1[-200]) < 1e-3  # ... and flat, no overfitting turn
assert h_es.stopped_early and h_es.epochs < 1000
assert abs(restored - h_es.val_loss[h_es.best_epoch]) < 1e-12 and restored < 0.5 * val_last[11]
assert abs(draws.mean() - 1.0) < 0.05 and set(np.unique(draws)) == {0.0, 2.0}
(_, c0), (_, c2) = dropout_runs[0.0], dropout_runs[0.2]
(_, tr0, va0), (_, tr2, va2) = c0[-1], c2[-1]
assert va0 > 4 * tr0  # without dropout the network overfits
assert va2 < 0.7 * va0 and va2 - tr2 < 0.5 * (va0 - tr0)  # dropout: lower validation loss, smaller gap
