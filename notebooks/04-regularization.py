# %% [markdown]
# # 4. Regularization
#
# A model that fits its training data perfectly can still predict new data badly.
# Regularization trades a little training loss for better generalization. This lesson:
#
# 1. the notes' L1-versus-L2 example: which of two equally good weight vectors each penalty prefers;
# 2. L1 drives the weights of irrelevant inputs to zero, L2 only shrinks them;
# 3. underfitting and overfitting as training and validation curves;
# 4. early stopping: keep the weights of the best validation epoch;
# 5. dropout: random units switched off in training, none at test time.

# %%
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
# * Degree 1 **underfits**: a line cannot follow a sine; both losses stay high.
# * Degree 3 fits the curve; both losses are low.
# * Degree 11 **overfits**: with as many weights as points it bends through the noise;
#   the training loss keeps falling while the validation loss turns back up.

# %%
rng = np.random.default_rng(2)
truth = lambda x: np.sin(np.pi * x)
x_tr = np.sort(rng.uniform(-1, 1, 12))
y_tr = truth(x_tr) + rng.normal(0, 0.3, 12)
x_va = rng.uniform(-1, 1, 50)
y_va = truth(x_va) + rng.normal(0, 0.3, 50)
powers = lambda x, d: np.column_stack([x**k for k in range(1, d + 1)])

fits = {}
for degree in (1, 3, 11):
    m = nn.Layer(degree, 1, activation="linear", rng=random.Random(0))
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
# ## 4. Early stopping
#
# Overfitting shows in the validation curve, so stop when it has not improved for a while
# (the *patience*) and go back to the weights of its best epoch. `nn.fit` does both with
# `early_stopping=nn.EarlyStopping(patience=...)`.

# %%
m_es = nn.Layer(11, 1, activation="linear", rng=random.Random(0))
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
# A network of 32 tanh units on the twelve points, trained with and without dropout
# ($p = 0.3$) after the hidden layer. The model is the composition
# `out(drop(hidden(x)))`; both layers and the dropout switch between training and
# evaluation mode together. Dropout keeps the network from fitting the training points
# closely: its training loss stays much higher. Whether that pays off on validation data
# depends on the task: on twelve points and 32 units, as here, the price in fit is about as
# large as the gain, while dropout shines in large networks trained on much more data.
# The self-check asserts only the effect on the training fit.

# %%
def run_dropout(p, steps=300):
    r = random.Random(0)
    hidden, out = nn.Layer(1, 32, activation="tanh", rng=r), nn.Layer(32, 1, activation="linear", rng=r)
    drop = nn.Dropout(p, rng=random.Random(1))
    parts = (hidden, drop, out)
    net = lambda x: out(drop(hidden(x)))
    opt = nn.optim.Adam(hidden.parameters() + out.parameters(), lr=0.02)
    mse_on = lambda xs, ys_: nn.losses.mse([net([xi])[0] for xi in xs.tolist()], ys_.tolist())
    curve = []
    for step in range(steps):
        for part in parts:
            part.train()
        loss = mse_on(x_tr, y_tr)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if (step + 1) % 20 == 0:
            for part in parts:
                part.eval()
            curve.append((step + 1, mse_on(x_tr, y_tr).data, mse_on(x_va, y_va).data))
    return net, curve


dropout_runs = {p: run_dropout(p) for p in (0.0, 0.3)}
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.6))
for p, (net, curve) in dropout_runs.items():
    steps_, tr, va = zip(*curve)
    ax1.plot(steps_, tr, "-", label=f"train, p={p}")
    ax1.plot(steps_, va, "--", label=f"validation, p={p}")
    ax2.plot(grid, [net([g])[0].data for g in grid.tolist()], label=f"p={p}")
    print(f"p = {p}: train {tr[-1]:.3f}, validation {va[-1]:.3f}, gap {va[-1] - tr[-1]:.3f}")
ax1.set_yscale("log")
ax1.set_xlabel("step")
ax1.legend(fontsize=8)
ax2.plot(x_tr, y_tr, "o", color="k")
ax2.plot(grid, truth(grid), "k--", lw=1)
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
train_last = {d: h.train_loss[-1] for d, (m, h) in fits.items()}
val_last = {d: h.val_loss[-1] for d, (m, h) in fits.items()}
assert train_last[11] < train_last[3] < train_last[1]  # more capacity, lower training loss
assert val_last[3] < val_last[1] and val_last[3] < val_last[11]  # the middle one generalizes best
assert val_last[11] > 1.5 * min(fits[11][1].val_loss)  # overfitting: validation loss turned back up
assert h_es.stopped_early and h_es.epochs < 1000
assert abs(restored - h_es.val_loss[h_es.best_epoch]) < 1e-12 and restored < 0.5 * val_last[11]
assert abs(draws.mean() - 1.0) < 0.05 and set(np.unique(draws)) == {0.0, 2.0}
(_, c0), (_, c3) = dropout_runs[0.0], dropout_runs[0.3]
assert c3[-1][1] > 2 * c0[-1][1]  # dropout: higher training loss
