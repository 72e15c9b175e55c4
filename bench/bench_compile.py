"""Compiled-execution benchmark: trace once, replay a whole batch with numpy.

W1     micrograd's demo step (MLP(2, [16, 16, 1]) with ReLU, 100 two-moons
       points wrapped as Values as micrograd's demo does, max-margin loss
       ``mean(relu(1 - y*score))`` + 1e-4 * sum of squared params, forward +
       backward + SGD with lr = 1.0 - 0.9*k/100), side by side in one
       process: ``micrograd==0.1.0`` eager and autograd-core eager (both
       ``workloads.w1_step``), autograd-core compiled and batched (each
       sample's inputs and target are Value arguments of the traced loss),
       and PyTorch CPU batched in float64 when ``import torch`` works.
TRACE  the cost of ``compile`` for W1 (two traces, for the control-flow
       check, plus building the tape), in eager W1 steps.
SPIRAL a 2-arm spiral of 1,000 points trained to >= 95% training accuracy
       (on the same 1,000 points; there is no test split) with the compiled
       path (full batch, Adam), wall time recorded; the eager engine runs
       ``--eager-spiral-steps`` of the same steps (inputs wrapped as Values,
       as in W1) and its time to the same step count is extrapolated.

Medians of repeated runs with the garbage collector on (as users run it);
engines alternate within each repetition so that drifts in machine speed hit
all alike.  A full collection runs, untimed, after each eager step: otherwise
micrograd's cyclic garbage is collected inside the next engine's step.  This
leaves part of micrograd's own collection cost untimed (in its favour).

Run: ``.venv/bin/python bench/bench_compile.py [--reps N]``.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from workloads import MLP, moons, w1_step  # noqa: E402

from autograd_core import Value  # noqa: E402
from nn.compiled import compile_loss, compile_model  # noqa: E402
from nn.optim import Adam  # noqa: E402

try:
    from micrograd.engine import Value as MicrogradValue
except ImportError:  # pragma: no cover - the bench says how to get it
    sys.exit("micrograd is missing: .venv/bin/pip install micrograd==0.1.0")


# --------------------------------------------------------------------------
# W1, one step per engine
# --------------------------------------------------------------------------


class CompiledW1:
    """W1 with the compiled path: the per-sample loss traced once, each step one batched call."""

    def __init__(self, model: MLP, X: np.ndarray, y: np.ndarray) -> None:
        self.params = model.parameters()
        # hinge per sample = relu(1 - y*score), plus 1e-4 * sum(p*p) computed once per batch.
        self.loss = compile_loss(model, "hinge", 2, n_outputs=1, l2=1e-4)
        self.args = self.loss.args(X, y)

    def step(self, k: int) -> float:
        for p in self.params:
            p.grad = 0.0
        loss, grads = self.loss.compiled.value_and_grad(self.args)
        lr = 1.0 - 0.9 * k / 100
        for p in self.params:
            p.data -= lr * p.grad
        return loss


class TorchW1:
    """W1 in PyTorch, batched, float64, from the same initial weights."""

    def __init__(self, torch: Any, model: MLP, X: np.ndarray, y: np.ndarray) -> None:
        self.torch = torch
        self.weights = []
        for layer in model.layers:
            W = torch.tensor([[w.data for w in ws] for ws, _ in layer], dtype=torch.float64, requires_grad=True)
            b = torch.tensor([b.data for _, b in layer], dtype=torch.float64, requires_grad=True)
            self.weights.append((W, b))
        self.X = torch.tensor(X, dtype=torch.float64)
        self.y = torch.tensor(y, dtype=torch.float64)

    def step(self, k: int) -> float:
        torch = self.torch
        h = self.X
        last = len(self.weights) - 1
        for i, (W, b) in enumerate(self.weights):
            h = h @ W.T + b
            if i != last:
                h = torch.relu(h)
        data_loss = torch.relu(1 - self.y * h[:, 0]).mean()
        reg = sum((W * W).sum() + (b * b).sum() for W, b in self.weights)
        loss = data_loss + 1e-4 * reg
        for W, b in self.weights:
            W.grad = None
            b.grad = None
        loss.backward()
        lr = 1.0 - 0.9 * k / 100
        with torch.no_grad():
            for W, b in self.weights:
                W -= lr * W.grad
                b -= lr * b.grad
        return loss.item()


def bench_w1(reps: int, inner: int, torch: Any) -> dict[str, float]:
    """Median seconds per W1 step of each engine; also checks that the engines agree."""
    X, y = moons(100, noise=0.1, seed=1)
    mg_model = MLP(MicrogradValue, 2, [16, 16, 1], seed=0)
    ea_model = MLP(Value, 2, [16, 16, 1], seed=0)
    co_model = MLP(Value, 2, [16, 16, 1], seed=0)
    compiled = CompiledW1(co_model, X, y)
    th = TorchW1(torch, MLP(Value, 2, [16, 16, 1], seed=0), X, y) if torch is not None else None
    # Same weights, same data: the first step's losses agree.
    first = {
        "micrograd": w1_step(MicrogradValue, mg_model, X, y, 0),
        "eager": w1_step(Value, ea_model, X, y, 0),
        "compiled": compiled.step(0),
    }
    if th is not None:
        first["torch"] = th.step(0)
    print("W1 first-step loss: " + "  ".join(f"{k} {v:.15f}" for k, v in first.items()))
    times: dict[str, list[float]] = {k: [] for k in first}
    for r in range(reps):
        k = 1 + r
        t = time.perf_counter()
        w1_step(MicrogradValue, mg_model, X, y, k)
        times["micrograd"].append(time.perf_counter() - t)
        # Untimed: micrograd's graphs are cycles, and collecting them inside the
        # next engine's step would bill that engine for micrograd's garbage.
        gc.collect()
        t = time.perf_counter()
        w1_step(Value, ea_model, X, y, k)
        times["eager"].append(time.perf_counter() - t)
        gc.collect()
        for _ in range(inner):
            t = time.perf_counter()
            compiled.step(k)
            times["compiled"].append(time.perf_counter() - t)
            if th is not None:
                t = time.perf_counter()
                th.step(k)
                times["torch"].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in times.items()}


def bench_trace(reps: int) -> float:
    """Median seconds to compile W1 (two traces and the tape)."""
    X, y = moons(100, noise=0.1, seed=1)
    out = []
    for _ in range(reps):
        model = MLP(Value, 2, [16, 16, 1], seed=0)
        t = time.perf_counter()
        CompiledW1(model, X, y)
        out.append(time.perf_counter() - t)
    return statistics.median(out)


# --------------------------------------------------------------------------
# SPIRAL
# --------------------------------------------------------------------------


def spiral(n: int = 1000, turns: float = 1.25, noise: float = 0.03, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved spiral arms, labels -1/+1; points denser near the centre."""
    rng = np.random.default_rng(seed)
    arm = np.arange(n) % 2
    t = np.sqrt(rng.uniform(0.02, 1.0, n)) * turns * 2 * np.pi
    r = t / (turns * 2 * np.pi)
    a = t + np.pi * arm
    X = np.column_stack([r * np.cos(a), r * np.sin(a)]) + rng.normal(scale=noise, size=(n, 2))
    return X, np.where(arm == 1, 1.0, -1.0)


def eager_spiral_step(model: MLP, X: np.ndarray, y: np.ndarray, opt: Adam) -> float:
    """One full-batch eager step of the spiral task (the same loss as the compiled one).

    Inputs are wrapped as Values, as ``workloads.w1_step`` and micrograd's demo do.
    """
    losses = [(1.0 - float(t) * model([Value(float(a)), Value(float(b))])[0]).relu() for (a, b), t in zip(X, y)]
    total = losses[0]
    for term in losses[1:]:
        total = total + term
    loss = total * (1.0 / len(losses))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.data


def bench_spiral(eager_steps: int, max_steps: int = 2000) -> dict[str, float]:
    """Train the spiral with the compiled path to >= 95% training accuracy; time a few eager steps."""
    X, y = spiral()
    model = MLP(Value, 2, [16, 16, 1], seed=0)
    t0 = time.perf_counter()
    loss = compile_loss(model, "hinge", 2, n_outputs=1)
    predict = compile_model(model, 2)
    args = loss.args(X, y)
    opt = Adam(model.parameters(), lr=0.01)
    acc, steps = 0.0, 0
    while steps < max_steps:
        opt.zero_grad()
        loss.compiled.value_and_grad(args)
        opt.step()
        steps += 1
        if steps % 25 == 0:
            acc = float(np.mean(np.sign(predict(X[:, 0], X[:, 1])[0]) == y))
            if acc >= 0.95:
                break
    compiled_time = time.perf_counter() - t0
    emodel = MLP(Value, 2, [16, 16, 1], seed=0)
    eopt = Adam(emodel.parameters(), lr=0.01)
    t0 = time.perf_counter()
    for _ in range(eager_steps):
        eager_spiral_step(emodel, X, y, eopt)
    eager_step = (time.perf_counter() - t0) / eager_steps
    return {
        "steps": steps,
        "accuracy": acc,
        "compiled_s": compiled_time,
        "eager_step_s": eager_step,
        "eager_steps": eager_steps,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=5, help="W1 repetitions (each runs one micrograd step)")
    parser.add_argument("--inner", type=int, default=20, help="compiled/torch W1 steps per repetition")
    parser.add_argument("--eager-spiral-steps", type=int, default=3, help="eager spiral steps to extrapolate from")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even if it is installed")
    parser.add_argument("--torch-threads", type=int, default=0, help="PyTorch intra-op threads (0: its default)")
    args = parser.parse_args()
    torch: Any = None
    if not args.no_torch:
        try:
            import torch

            if args.torch_threads > 0:
                torch.set_num_threads(args.torch_threads)
        except ImportError:
            print("PyTorch not installed: no torch column (pip install torch into .venv for the benchmark only)")
    w1 = bench_w1(args.reps, args.inner, torch)
    mg = w1["micrograd"]
    print(f"W1 step, median of {args.reps} (micrograd, eager) / {args.reps * args.inner} (compiled, torch) runs:")
    for name, sec in w1.items():
        print(f"  {name:10s} {sec * 1e3:10.3f} ms   micrograd / this = {mg / sec:8.1f}x")
    if "torch" in w1:
        print(
            f"  compiled / torch = {w1['compiled'] / w1['torch']:.1f}x "
            f"(torch float64, batched, {torch.get_num_threads()} threads)"
        )
    tr = bench_trace(args.reps)
    print(f"TRACE compile W1: {tr * 1e3:.2f} ms = {tr / w1['eager']:.3f} eager steps (must be < 3)")
    sp = bench_spiral(args.eager_spiral_steps)
    est = sp["eager_step_s"] * sp["steps"]
    print(
        f"SPIRAL 1000 points, MLP(2, [16, 16, 1]), full-batch Adam: {int(sp['steps'])} steps to "
        f"{sp['accuracy']:.1%} training accuracy in {sp['compiled_s']:.2f} s compiled (trace included); "
        f"eager {sp['eager_step_s']:.3f} s/step (mean of {int(sp['eager_steps'])} steps) -> "
        f"{est:.0f} s extrapolated ({est / sp['compiled_s']:.0f}x)"
    )


if __name__ == "__main__":
    main()
