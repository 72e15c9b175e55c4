# %% [markdown]
# # 1. Backpropagation by hand and by machine
#
# The lecture notes work four examples by hand with the chain rule. Here each one is
# built as a computation graph of `Value`s, differentiated with `backward()` and drawn
# after the backward pass, so every node shows its value (`data`) and the derivative of
# the output with respect to it (`grad`). Then the three ways to get a gradient (by hand,
# by central differences, automatically) are compared, including what they cost as the
# number of parameters grows.
#
# Two tools write the backward pass out. `viz.backward_player(f)` steps through it, one
# picture per step: the node being processed, the gradient it sends along each edge and
# every gradient accumulated so far. `autograd_core.explain(f, x)` writes one derivative as
# the chain rule: a sum, over the paths from $x$ to $f$, of products of local derivatives.

# %%
import math
import random
import time

import matplotlib.pyplot as plt

import viz
from autograd_core import Value, backward_steps, explain, grad, no_grad, topo_order
from autograd_core.gradcheck import numerical_grad
from autograd_core.steps import format_steps_table

# %% [markdown]
# ## Example 1: $f(x, y, z) = (x + y)\,z$ at $x = 1$, $y = -3$, $z = 4$
#
# By hand: let $q = x + y = -2$, so $f = qz = -8$. Then
# $\partial f / \partial z = q = -2$, $\partial f / \partial q = z = 4$, and since
# $\partial q / \partial x = \partial q / \partial y = 1$, the chain rule gives
# $\partial f / \partial x = \partial f / \partial y = 4$.

# %%
x, y, z = Value(1.0, "x"), Value(-3.0, "y"), Value(4.0, "z")
q = x + y
q.label = "q"
f = q * z
f.label = "f"
f.backward()
print(f"f = {f.data}; df/dx = {x.grad}, df/dy = {y.grad}, df/dz = {z.grad}, df/dq = {q.grad}")
viz.draw_dot(f)

# %% [markdown]
# ### The same backward pass, step by step
#
# The engine processes the nodes from the output back, each after all the nodes that use
# it. At each step the node's gradient is complete; it multiplies that upstream gradient by
# its local derivative towards each input and adds the product into the input's gradient.
# Step 0 is $f = qz$ with gradient 1: it sends $1 \cdot z = 4$ to $q$ and $1 \cdot q = -2$
# to $z$. Then $q = x + y$ passes its 4 on unchanged to $x$ and to $y$. The table lists
# every step (`format_steps_table`, the same table as `autograd-core explain`); the player
# below shows them one at a time: press *next*, or *play* (the highlighted node is the
# step's, the red edges carry what it sends, labelled `+=`).

# %%
xyz_steps = backward_steps(f)
print(format_steps_table(xyz_steps))
viz.backward_player(f)

# %% [markdown]
# ## Example 2: a sigmoid neuron
#
# $f(w, x) = \dfrac{1}{1 + e^{-(w_0 x_0 + w_1 x_1 + b)}}$ at $w_0 = 2$, $x_0 = -1$,
# $w_1 = -3$, $x_1 = -2$, $b = -3$. The pre-activation is $z = -2 + 6 - 3 = 1$, the output
# $\sigma(1) = 0.7311$. By hand, the local derivative of the sigmoid is
# $\sigma(z)(1 - \sigma(z)) = 0.1966$, and each input's gradient is that times the
# other factor of its product: $\partial f/\partial w_0 = x_0 \cdot 0.1966 = -0.197$,
# $\partial f/\partial x_0 = w_0 \cdot 0.1966 = 0.393$, and so on.
#
# The notes draw the sigmoid out of primitive gates ($\cdot(-1)$, $\exp$, $+1$, $1/x$);
# we build exactly that graph.

# %%
w0, x0, w1, x1, b = (Value(v, n) for v, n in [(2.0, "w0"), (-1.0, "x0"), (-3.0, "w1"), (-2.0, "x1"), (-3.0, "b")])
z_pre = w0 * x0 + w1 * x1 + b
out = 1 / (1 + (-z_pre).exp())
out.label = "out"
out.backward()
neuron_grads = {v.label: v.grad for v in (w0, x0, w1, x1, b)}
print(f"output {out.data:.4f}")
print({k: round(g, 3) for k, g in neuron_grads.items()})
viz.draw_dot(out)

# %% [markdown]
# Stepping through the neuron's backward pass follows the notes' figure gate by gate: the
# $1/x$ gate gets gradient 1 and sends $-1/x^2 = -1/1.3679^2 = -0.5344$ back, the $+1$ gate
# passes it on, the $\exp$ gate multiplies by $e^{-1} = 0.3679$ (giving $-0.1966$), the
# $\cdot(-1)$ gate flips the sign (giving $0.1966$), and the sums pass $0.1966$ on to each
# product, which sends each input the other factor times $0.1966$.

# %%
neuron_player = viz.backward_player(out)
neuron_steps = {s.name: s for s in neuron_player.steps}
print(f"{len(neuron_player)} steps; the gradient reaching each gate on the way back:")
for s in neuron_player.steps:
    if s.op:
        print(f"  {s.name:8} ({s.op}): {s.grad:+.4f}")
neuron_player

# %% [markdown]
# The same neuron with the sigmoid as one primitive gives the same gradients with a
# smaller graph: the rule $\sigma' = \sigma(1 - \sigma)$ is used directly.

# %%
ins = [Value(v) for v in (2.0, -1.0, -3.0, -2.0, -3.0)]
out_prim = (ins[0] * ins[1] + ins[2] * ins[3] + ins[4]).sigmoid()
prim_grads = grad(out_prim, ins)
print([round(g.data, 3) for g in prim_grads], f"nodes: {len(topo_order(out))} vs {len(topo_order(out_prim))}")

# %% [markdown]
# ## Example 3: $f(x) = a x^2 + b x + c$
#
# $x$ is used twice, so two paths lead from $x$ to $f$, and backpropagation adds what
# flows back along each: $\partial f / \partial x = 2ax + b$. At $a = 2$, $b = -3$,
# $c = 1$, $x = 1.5$: $f = 1$, $\partial f/\partial x = 3$, $\partial f/\partial a = x^2 = 2.25$,
# $\partial f/\partial b = x = 1.5$, $\partial f/\partial c = 1$.

# %%
a, bq, c, xq = Value(2.0, "a"), Value(-3.0, "b"), Value(1.0, "c"), Value(1.5, "x")
fq = a * xq**2 + bq * xq + c
fq.label = "f"
fq.backward()
quad_grads = (xq.grad, a.grad, bq.grad, c.grad)
print(f"f = {fq.data}; df/dx = {xq.grad}, df/da = {a.grad}, df/db = {bq.grad}, df/dc = {c.grad}")
viz.draw_dot(fq)

# %% [markdown]
# `explain` writes $\partial f / \partial x$ out path by path. The first path goes through
# $x^2$: $\partial (x^2)/\partial x = 2x = 3$, times $a = 2$ from the product, times 1 from
# each sum: 6 $= 2ax$. The second goes through $bx$: $\partial (bx)/\partial x = b = -3$,
# times 1 and 1. Their sum is $6 + (-3) = 3 = 2ax + b$, what `backward()` gave. Intermediate
# nodes are named by their op and their position in the graph (`pow_const2` is $x^2$).

# %%
quad_explained = explain(fq, xq)
print(quad_explained)

# %% [markdown]
# ## Example 4: a two-layer ReLU regression
#
# $L = \left(w_2 \max(0, w_1 x) - y\right)^2$ at $x = 1$, $y = 0$, $w_1 = 1/3$, $w_2 = 2$.
# Forward: $h = \max(0, 1/3) = 1/3$, $\hat y = 2/3$, $L = 4/9$. Backward:
# $\partial L/\partial \hat y = 2(\hat y - y) = 4/3$, $\partial L/\partial w_2 = 4/3 \cdot h = 4/9$,
# $\partial L/\partial h = 4/3 \cdot w_2 = 8/3$, the ReLU passes it through (its input is
# positive), and $\partial L/\partial w_1 = 8/3 \cdot x = 8/3$.

# %%
xr, yr = Value(1.0, "x"), Value(0.0, "y")
W1, W2 = Value(1 / 3, "w1"), Value(2.0, "w2")
h = (W1 * xr).relu()
h.label = "h"
pred = W2 * h
pred.label = "yhat"
L = (pred - yr) ** 2
L.label = "L"
L.backward()
print(f"L = {L.data:.6f} (4/9 = {4 / 9:.6f}); dL/dw1 = {W1.grad:.6f} (8/3), dL/dw2 = {W2.grad:.6f} (4/9)")
viz.draw_dot(L)

# %% [markdown]
# ## Three ways to get a gradient
#
# 1. **By hand**: exact and fast, but tedious and error-prone (as above).
# 2. **Numerically** by central differences,
#    $\dfrac{\partial e}{\partial w_i} \approx \dfrac{e(w + \epsilon e_i) - e(w - \epsilon e_i)}{2\epsilon}$:
#    trivial to write, but approximate, and it needs $2N$ evaluations of $e$ for $N$ parameters.
#    The library's `gradcheck` uses exactly this formula, as
#    `autograd_core.gradcheck.numerical_grad(e, w, i, eps)`; we call it below.
# 3. **Automatically**: one forward pass and one backward pass, exact up to rounding.
#
# On the sigmoid neuron all three agree:

# %%
neuron = lambda p: (p[0] * p[1] + p[2] * p[3] + p[4]).sigmoid()
point = [2.0, -1.0, -3.0, -2.0, -3.0]
s = 1 / (1 + math.exp(-1.0))
by_hand = [p_other * s * (1 - s) for p_other in (-1.0, 2.0, -2.0, -3.0, 1.0)]


class Counted:
    """A loss of a list of floats, evaluated without recording a graph, counting its calls."""

    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, p):
        self.calls += 1
        with no_grad():
            return self.fn([Value(v) for v in p]).data


numeric = [numerical_grad(Counted(neuron), point, i, 1e-6) for i in range(len(point))]
leaves = [Value(v) for v in point]
automatic = [g.data for g in grad(neuron(leaves), leaves)]
print(f"{'':6}{'by hand':>14}{'numerical':>14}{'automatic':>14}")
for name, hh, nn_, aa in zip(["w0", "x0", "w1", "x1", "b"], by_hand, numeric, automatic):
    print(f"{name:6}{hh:14.10f}{nn_:14.10f}{aa:14.10f}")

# %% [markdown]
# ### Their cost as the parameter count grows
#
# Take a linear model with $N$ weights and a squared-error loss on four samples. One
# evaluation of the loss builds a graph of about $13N$ nodes (per sample $N$ inputs,
# $N$ products and $N$ sums, plus the $N$ shared weights). We count the work instead of
# timing it: how often each method calls the loss, and how many nodes the backward pass
# visits (`topo_order(loss)`, the order `backward()` walks).
#
# * Central differences call the loss $2N$ times, each call a full forward pass of about
#   $13N$ nodes: the work grows like $N^2$.
# * Backpropagation calls the loss once (one forward pass) and then visits each of its nodes
#   once backward: the work grows like $N$, and the number of loss calls does not grow at all.

# %%
rng = random.Random(0)
samples = 4


def make_problem(n):
    X = [[rng.uniform(-1, 1) for _ in range(n)] for _ in range(samples)]
    Y = [rng.uniform(-1, 1) for _ in range(samples)]
    w = [rng.uniform(-1, 1) for _ in range(n)]
    loss = lambda ws: sum((sum(wi * xi for wi, xi in zip(ws, row)) - t) ** 2 for row, t in zip(X, Y)) / samples
    return loss, w


rows, seconds = [], []
for n in (4, 16, 64, 128, 256):
    loss, w = make_problem(n)
    e = Counted(loss)
    t0 = time.perf_counter()
    num = [numerical_grad(e, w, i, 1e-5) for i in range(n)]
    t_num = time.perf_counter() - t0
    forward_calls = 0

    def counted_loss(ws, loss=loss):
        global forward_calls
        forward_calls += 1
        return loss(ws)

    t0 = time.perf_counter()
    ws = [Value(v) for v in w]
    out_n = counted_loss(ws)
    out_n.backward()
    t_auto = time.perf_counter() - t0
    visited = len(topo_order(out_n))
    max_err = max(abs(a_ - b_.grad) for a_, b_ in zip(num, ws))
    rows.append((n, e.calls, forward_calls, visited, max_err))
    seconds.append((t_num, t_auto))

print(f"{'N':>5}{'loss calls, numerical':>24}{'loss calls, automatic':>24}{'nodes visited backward':>25}{'max |diff|':>12}")
for n, calls_num, calls_auto, visited, err in rows:
    print(f"{n:5d}{calls_num:24d}{calls_auto:24d}{visited:25d}{err:12.1e}")

# %% [markdown]
# For illustration only, the wall-clock time of one gradient on this machine (it changes
# from run to run and machine to machine, so it is plotted, never printed or asserted; the
# project measures speed in `bench/`):

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
ns = [r[0] for r in rows]
ax.loglog(ns, [t[0] for t in seconds], "o-", label="central differences (2N loss calls)")
ax.loglog(ns, [t[1] for t in seconds], "s-", label="automatic (1 forward + 1 backward)")
ax.set_xlabel("number of parameters N")
ax.set_ylabel("seconds per gradient")
ax.legend()
ax.set_title("cost of one gradient (illustration, varies by machine)")
plt.show()

# %% [markdown]
# ## Self-check

# %%
close = lambda u, v, tol=1e-12: abs(u - v) <= tol
# (x + y) z
assert (f.data, x.grad, y.grad, z.grad) == (-8.0, 4.0, 4.0, -2.0)
# the sigmoid neuron, to the notes' three decimals, both as gates and as one primitive
assert round(out.data, 4) == 0.7311
expected = {"w0": -0.197, "x0": 0.393, "w1": -0.393, "x1": -0.590, "b": 0.197}
assert all(round(neuron_grads[k], 3) == v for k, v in expected.items()), neuron_grads
assert all(close(g.data, neuron_grads[k]) for g, k in zip(prim_grads, expected))
# a x^2 + b x + c: two paths from x add up
assert fq.data == 1.0 and quad_grads == (3.0, 2.25, 1.5, 1.0)
qe = quad_explained
assert qe.form == "paths" and qe.n_paths == 2 and qe.total == 3.0
assert [p.factors for p in qe.paths] == [(3.0, 2.0, 1.0, 1.0), (-3.0, 1.0, 1.0)]  # from x up to f
assert [p.product for p in qe.paths] == [6.0, -3.0] and sum(p.product for p in qe.paths) == xq.grad
assert str(qe).endswith("∂f/∂x = 6 + (-3) = 3")
# the steps of (x + y) z: f sends z = 4 to q and q = -2 to z, q passes 4 to x and to y
by_step = {s.name: s for s in xyz_steps}
assert [s.name for s in xyz_steps] == ["f", "z", "q", "y", "x"]
assert by_step["f"].local == (4.0, -2.0) and by_step["f"].contributions == (4.0, -2.0)
assert by_step["q"].grad == 4.0 and by_step["q"].contributions == (4.0, 4.0)
# the neuron's player: one frame per node, each gate's gradient as the notes give it
assert len(neuron_player) == len(topo_order(out)) == len(neuron_player.sources)
gate_grads = [round(s.grad, 4) for s in neuron_player.steps if s.op]
assert gate_grads == [1.0, -0.5344, -0.5344, -0.1966] + [0.1966] * 4, gate_grads  # 1/x, +1, exp, *(-1), sums, products
assert all(round(neuron_steps[k].grad, 3) == v for k, v in expected.items())
# two-layer ReLU regression
assert close(L.data, 4 / 9) and close(W1.grad, 8 / 3) and close(W2.grad, 4 / 9)
# the three ways agree
assert all(close(hh, aa) and abs(nn_ - aa) < 1e-8 for hh, nn_, aa in zip(by_hand, numeric, automatic))
# cost, counted: central differences call the loss 2N times, backpropagation once, whatever N
for n, calls_num, calls_auto, visited, err in rows:
    assert calls_num == 2 * n and calls_auto == 1 and err < 1e-6, (n, calls_num, calls_auto)
    assert 8 * n <= visited <= 16 * n + 32, (n, visited)  # the backward visits O(N) nodes
# so the numerical method does about 2N times the forward work of the automatic one
assert rows[-1][1] / rows[-1][2] == 2 * 256 and rows[0][1] / rows[0][2] == 2 * 4
