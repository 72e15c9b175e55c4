# %% [markdown]
# # 6. Beyond first order
#
# Backpropagation gives the gradient of a scalar output. Because every derivative
# rule in `autograd_core` is written with the same differentiable operations as the
# forward pass, the gradient can itself be a computation graph, and we can
# differentiate it again. This lesson covers:
#
# 1. gradients of gradients (`grad(..., create_graph=True)` and the functional `grad(grad(f))`);
# 2. a Hessian, and what second-order information buys: Newton's method against gradient descent;
# 3. checking gradients numerically with `gradcheck` and `gradgradcheck`;
# 4. property-based checks with the shipped hypothesis strategies;
# 5. registering a custom op and checking it the same way.

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
from hypothesis import given, settings

import viz
from autograd_core import GradcheckError, Value, grad, gradcheck, gradgradcheck, ops
from autograd_core.functional import grad as fgrad
from autograd_core.functional import hessian, value_and_grad
from autograd_core.testing import expressions, op_points
from autograd_core.value import applier

# %% [markdown]
# ## 1. Gradients of gradients
#
# For $f(t) = t^3$ the derivatives are $3t^2$, $6t$ and $6$; at $t = 2$ that is 12, 12 and 6.
# `grad(out, [t], create_graph=True)` returns the first derivative as a graph node,
# which we differentiate again.

# %%
t = Value(2.0, "t")
f = t**3
(d1,) = grad(f, [t], create_graph=True)
(d2,) = grad(d1, [t], create_graph=True)
(d3,) = grad(d2, [t])
print(f"f = {f.data}, f' = {d1.data}, f'' = {d2.data}, f''' = {d3.data}")

# %% [markdown]
# The first derivative is an ordinary graph, so it can be drawn like any other.
# It is built from the derivative rules of `**3`: $3 t^2$ times the upstream gradient.

# %%
viz.draw_dot(d1, show_grad=False)

# %% [markdown]
# The functional transforms compose the same way, JAX-style: `fgrad(fgrad(f))` is the
# second derivative as a function of plain floats. Here are $\tanh$ and its first three
# derivatives, each computed by nesting `fgrad`.

# %%
tanh = lambda x: x.tanh()
derivs = [tanh, fgrad(tanh), fgrad(fgrad(tanh)), fgrad(fgrad(fgrad(tanh)))]
xs = np.linspace(-3, 3, 121)
fig, ax = plt.subplots(figsize=(6, 3.5))
for k, d in enumerate(derivs):
    ys = [d(Value(float(x))).data if k == 0 else d(float(x)) for x in xs]
    ax.plot(xs, ys, label=["tanh", "tanh'", "tanh''", "tanh'''"][k])
ax.axhline(0, color="grey", lw=0.5)
ax.legend()
ax.set_title("tanh and its derivatives, by nested automatic differentiation")
plt.show()

# %% [markdown]
# Check against the closed forms: $\tanh' = 1 - \tanh^2$, $\tanh'' = -2\tanh(1-\tanh^2)$.

# %%
x0 = 0.7
th = math.tanh(x0)
closed = [1 - th**2, -2 * th * (1 - th**2), -2 * (1 - th**2) ** 2 + 4 * th**2 * (1 - th**2)]
auto = [derivs[1](x0), derivs[2](x0), derivs[3](x0)]
for k, (a, c) in enumerate(zip(auto, closed), 1):
    print(f"order {k}: automatic {a:+.12f}   closed form {c:+.12f}")

# %% [markdown]
# ## 2. A Hessian, and Newton's method
#
# For $f(x, y) = x^3 y + y^2$ the Hessian is
# $\begin{pmatrix} 6xy & 3x^2 \\ 3x^2 & 2 \end{pmatrix}$, which at $(1, 2)$ is
# $\begin{pmatrix} 12 & 3 \\ 3 & 2 \end{pmatrix}$.

# %%
poly = lambda x, y: x**3 * y + y**2
H = hessian(poly)(1.0, 2.0)
print(np.array(H))

# %% [markdown]
# Gradient descent uses only the slope, so on a badly scaled valley such as
# Rosenbrock's $f(x, y) = (1 - x)^2 + 100 (y - x^2)^2$ it crawls. Newton's method
# uses the curvature too: it solves $H \, \Delta = -\nabla f$ at each step, and from the
# classic start $(-1.2, 1)$ it reaches the minimum at $(1, 1)$ in a handful of steps.
#
# That is not guaranteed. Pure Newton jumps to the stationary point of the local quadratic
# model, which is a minimum only where the Hessian is positive definite. Rosenbrock's
# Hessian is indefinite wherever $y > x^2 + 0.005$ (its determinant is
# $80000\,(x^2 - y) + 400$); there the step can head for a saddle or uphill, and from a far
# start the quadratic model can be so wrong that the steps overshoot and diverge. Practical
# second-order methods therefore guard the step: a line search, a trust region, or a damped
# Hessian $H + \mu I$ (Levenberg-Marquardt).

# %%
rosen = lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2
rosen_vg = value_and_grad(rosen, argnums=(0, 1))
rosen_h = hessian(rosen)


def run_newton(p, steps):
    path = [p]
    for _ in range(steps):
        _, g = rosen_vg(*p)
        p = tuple(np.array(p) - np.linalg.solve(np.array(rosen_h(*p)), np.array(g)))
        path.append(p)
    return path


def run_gd(p, steps, lr):
    path = [p]
    for _ in range(steps):
        _, g = rosen_vg(*p)
        p = (p[0] - lr * g[0], p[1] - lr * g[1])
        path.append(p)
    return path


start = (-1.2, 1.0)
newton = run_newton(start, 8)
gd = run_gd(start, 2000, lr=1e-3)
loss = lambda path: [rosen(Value(a), Value(b)).data for a, b in path]
print(f"Newton after {len(newton) - 1} steps: ({newton[-1][0]:.6f}, {newton[-1][1]:.6f}), f = {loss(newton)[-1]:.2e}")
print(f"GD     after {len(gd) - 1} steps: ({gd[-1][0]:.6f}, {gd[-1][1]:.6f}), f = {loss(gd)[-1]:.2e}")

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
gx, gy = np.meshgrid(np.linspace(-1.5, 1.5, 200), np.linspace(-3.5, 2.0, 200))
ax1.contour(gx, gy, (1 - gx) ** 2 + 100 * (gy - gx**2) ** 2, levels=np.logspace(-1, 3, 12), cmap="Greys")
ax1.plot(*zip(*gd), ".-", ms=2, lw=0.8, label="gradient descent (2000 steps)")
ax1.plot(*zip(*newton), "o-", label="Newton (8 steps)")
ax1.plot(1, 1, "r*", ms=12)
ax1.legend(fontsize=8)
ax1.set_title("paths on Rosenbrock's valley")
ax2.loglog(range(1, len(gd) + 1), loss(gd), label="gradient descent")
ax2.loglog(range(1, len(newton) + 1), loss(newton), "o-", label="Newton")
ax2.set_xlabel("step + 1")
ax2.set_ylabel("f")
ax2.legend()
ax2.set_title("loss")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 3. Gradient checking
#
# `gradcheck(f, inputs)` compares every partial derivative with the central difference
# $\frac{f(x + \epsilon e_i) - f(x - \epsilon e_i)}{2\epsilon}$; `gradgradcheck` does the
# same for every second derivative. Both return `True` or raise `GradcheckError`
# naming the input and both values.

# %%
neuron = lambda w0, x0, w1, x1, b: (w0 * x0 + w1 * x1 + b).sigmoid()
point = [2.0, -1.0, -3.0, -2.0, -3.0]
print("gradcheck:", gradcheck(neuron, point))
print("gradgradcheck:", gradgradcheck(neuron, point))

# %% [markdown]
# ## 4. Property-based checks
#
# A handful of points proves little. `autograd_core.testing` ships hypothesis
# strategies built from the op registry: `op_points()` draws an op and a point inside
# its smooth domain, `expressions()` draws whole random expression graphs with shared
# subexpressions. Running `gradcheck` on each draw checks every rule and every way of
# combining them. `derandomize=True` makes the draws the same on every run.

# %%
checked_ops = {}


def check_op(name, n=20):
    @settings(derandomize=True, max_examples=n, deadline=None, database=None)
    @given(op_points(ops.get(name)))
    def passes_at_random_points(drawn):
        spec, inputs, params = drawn
        apply = applier(spec)
        f = lambda *xs: apply(*xs, *params)
        assert gradcheck(f, list(inputs)) and gradgradcheck(f, list(inputs))
        checked_ops[name] = checked_ops.get(name, 0) + 1

    passes_at_random_points()


for name in ops.names():
    check_op(name)
print(f"{len(checked_ops)} ops passed gradcheck and gradgradcheck at {sum(checked_ops.values())} random points:")
print(", ".join(checked_ops))

# %% [markdown]
# Whole graphs: each draw is an `Expression` with a function `e.fn` of Values and a point
# `e.inputs` inside every op's domain. Here is one of them, and then a hundred checked.

# %%
drawn_graphs = []


@settings(derandomize=True, max_examples=100, deadline=None, database=None)
@given(expressions(max_inputs=3, max_ops=8))
def random_graphs_pass_gradcheck(e):
    assert gradcheck(e.fn, e.inputs)
    drawn_graphs.append(e)


random_graphs_pass_gradcheck()
biggest = max(drawn_graphs, key=lambda e: len(e.steps))
print(f"{len(drawn_graphs)} random graphs passed; the largest has {len(biggest.steps)} ops:")
print(biggest)

# %%
xs_big = [Value(v, f"x{i}") for i, v in enumerate(biggest.inputs)]
out_big = biggest.fn(*xs_big)
out_big.backward()
viz.draw_dot(out_big)

# %% [markdown]
# ## 5. A custom op, checked like a built-in
#
# Register swish, $\mathrm{swish}(x) = x\,\sigma(x)$, as one primitive. Its derivative is
# $\sigma(x) + x\,\sigma(x)(1 - \sigma(x))$. Written with arithmetic and the `ops.sigmoid`
# helper, the same rule runs on floats (fast first-order backward) and on Values
# (so second derivatives work too).

# %%
def swish_forward(x):
    return x * ops.f_sigmoid(x)


def swish_rule(g, out, x):
    s = ops.sigmoid(x)
    return (g * (s + x * s * (1 - s)),)


swish = ops.register(
    "swish", swish_forward, swish_rule, arity=1, label="swish", formula="d swish(x) = (s + x s (1 - s)) dx, s = sigmoid(x)"
)
print("swish(1) =", swish(Value(1.0)).data)
print("gradcheck:", gradcheck(swish, [1.3]), " gradgradcheck:", gradgradcheck(swish, [1.3]))
print("swish'' at 0 by nested fgrad:", fgrad(fgrad(swish))(0.0))

# %% [markdown]
# A rule with a mistake is caught, and the message says where. Here the product-rule term
# $x\,\sigma(x)(1 - \sigma(x))$ is forgotten:

# %%
bad_swish = ops.register("bad_swish", swish_forward, lambda g, out, x: (g * ops.sigmoid(x),), arity=1)
try:
    gradcheck(bad_swish, [1.3])
    caught = None
except GradcheckError as e:
    caught = str(e)
print(caught)

# %% [markdown]
# The registered op is drawn by the strategies like any built-in, so property tests
# cover it without listing it anywhere else:

# %%
swish_graphs = []


@settings(derandomize=True, max_examples=60, deadline=None, database=None)
@given(expressions(max_inputs=2, max_ops=6, op_names=["swish", "mul", "add", "tanh"]))
def graphs_with_swish_pass(e):
    assert gradcheck(e.fn, e.inputs)
    assert gradgradcheck(e.fn, e.inputs)
    swish_graphs.append(sum(s.spec.name == "swish" for s in e.steps))


graphs_with_swish_pass()
print(f"{len(swish_graphs)} graphs checked, {sum(swish_graphs)} swish nodes among them")

# %% [markdown]
# ## Self-check

# %%
assert (f.data, d1.data, d2.data, d3.data) == (8.0, 12.0, 12.0, 6.0)
assert all(abs(a - c) < 1e-12 for a, c in zip(auto, closed))
assert H == [[12.0, 3.0], [3.0, 2.0]]
assert abs(newton[-1][0] - 1) < 1e-9 and abs(newton[-1][1] - 1) < 1e-9
assert loss(newton)[-1] < 1e-12 < loss(gd)[-1]
assert abs(gd[-1][0] - 1) > 1e-3  # first order is still on its way after 2000 steps
assert min(np.linalg.eigvalsh(np.array(rosen_h(0.0, 1.0)))) < 0 < min(np.linalg.eigvalsh(np.array(rosen_h(*start))))  # indefinite above y = x^2
assert set(checked_ops) == set(ops.names()) - {"swish", "bad_swish"} and min(checked_ops.values()) == 20
assert len(drawn_graphs) == 100 and len(swish_graphs) == 60 and sum(swish_graphs) > 0
assert abs(swish(Value(1.0)).data - 1 / (1 + math.exp(-1))) < 1e-15
assert abs(fgrad(fgrad(swish))(0.0) - 0.5) < 1e-12  # swish''(0) = 2 s'(0) = 1/2
assert caught is not None and caught.startswith("first derivative: input 0")
