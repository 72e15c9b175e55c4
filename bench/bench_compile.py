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
TABLE  W1's step (hinge + 1e-4 L2, forward + backward + SGD, full batch) at
       larger MLPs and batches, compiled against PyTorch float64 batched,
       side by side in one subprocess per row (medians); each row's peak
       memory (``VmHWM``, else ``ru_maxrss``) measured in two more fresh subprocesses, one
       running the compiled step alone and one PyTorch alone.
GROUPS the cost of finding the linear groups (building the batched program
       of W1's tape at 2-64-64-1) in eager steps at that size (100 points).
ELEMW  an elementwise-only function (no linear structure) compiled and
       replayed on 10,000 points: it gets no linear group.
SPIRAL64 the spiral with 10,000 points and MLP(2, [64, 64, 1]) to >= 95%
       training accuracy (bounded by ``--spiral64-max-steps``), compiled
       against PyTorch doing the same training (same init, Adam lr 0.01).

Medians of repeated runs with the garbage collector on (as users run it);
engines alternate within each repetition so that drifts in machine speed hit
all alike.  A full collection runs, untimed, after each eager step: otherwise
micrograd's cyclic garbage is collected inside the next engine's step.  This
leaves part of micrograd's own collection cost untimed (in its favour).

Run: ``.venv/bin/python bench/bench_compile.py [--reps N] [--torch-threads 1]``;
``--only table`` (or w1, groups, elemw, spiral64) runs one section.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from workloads import MLP, moons, w1_step  # noqa: E402

from autograd_core import Value, compile  # noqa: E402
from autograd_core.linear import LinearGroup, find_chains  # noqa: E402
from autograd_core.tape import Tape  # noqa: E402
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


def train_spiral_compiled(X: np.ndarray, y: np.ndarray, width: int, max_steps: int) -> tuple[int, float, float, float]:
    """Full-batch Adam (lr 0.01) on the compiled path until >= 95% training accuracy (checked every 25 steps).

    Returns:
        ``(steps, accuracy, seconds in all, seconds of them tracing)``.
    """
    model = MLP(Value, 2, [width, width, 1], seed=0)
    t0 = time.perf_counter()
    loss = compile_loss(model, "hinge", 2, n_outputs=1)
    predict = compile_model(model, 2)
    args = loss.args(X, y)
    trace_time = time.perf_counter() - t0
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
    return steps, acc, time.perf_counter() - t0, trace_time


def bench_spiral(eager_steps: int, max_steps: int = 2000) -> dict[str, float]:
    """Train the spiral with the compiled path to >= 95% training accuracy; time a few eager steps."""
    X, y = spiral()
    steps, acc, compiled_time, _ = train_spiral_compiled(X, y, 16, max_steps)
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


# --------------------------------------------------------------------------
# TABLE: larger MLPs and batches, compiled against PyTorch, one subprocess per row
# --------------------------------------------------------------------------

#: (hidden width, points) per row of the table.
TABLE = [(16, 100), (16, 1000), (32, 1000), (64, 1000), (64, 10000)]


def _torch(threads: int) -> Any:
    import torch

    if threads > 0:
        torch.set_num_threads(threads)
    return torch


def run_row(width: int, points: int, mode: str, steps: int, threads: int) -> dict[str, Any]:
    """One table row in this (fresh) process: median step times, or the peak memory of one engine alone.

    ``mode``: ``both`` (compiled and torch alternating, timed), ``compiled``
    or ``torch`` (that engine alone, a few steps, for ``ru_maxrss``).
    """
    X, y = moons(points, noise=0.1, seed=1)
    engines: dict[str, Any] = {}
    if mode in ("both", "compiled"):
        engines["compiled"] = CompiledW1(MLP(Value, 2, [width, width, 1], seed=0), X, y)
    if mode in ("both", "torch"):
        engines["torch"] = TorchW1(_torch(threads), MLP(Value, 2, [width, width, 1], seed=0), X, y)
    first = {name: e.step(0) for name, e in engines.items()}
    times: dict[str, list[float]] = {name: [] for name in engines}
    for k in range(1, (steps if mode == "both" else 3) + 1):
        for name, e in engines.items():
            t = time.perf_counter()
            e.step(k)
            times[name].append(time.perf_counter() - t)
    return {
        "first": first,
        "median": {k: statistics.median(v) for k, v in times.items()},
        "min": {k: min(v) for k, v in times.items()},
        "peak": peak_memory(),
    }


def peak_memory() -> int:
    """This process's peak resident memory in bytes.

    Linux keeps ``ru_maxrss`` across ``execve``, so a child forked from a
    parent that imported PyTorch would report the parent's size; the
    kernel's ``VmHWM`` is per address space and starts afresh at ``exec``.
    Elsewhere ``ru_maxrss`` is used.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, kilobytes elsewhere
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def _subprocess_row(width: int, points: int, mode: str, steps: int, threads: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--row", f"{width},{points},{mode},{steps},{threads}"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def bench_table(steps: int, threads: int, with_torch: bool) -> None:
    print(f"TABLE W1 step (hinge + 1e-4 L2, forward + backward + SGD), median of {steps} steps per row")
    print("  MLP x points        compiled     torch   compiled/torch   peak compiled   peak torch   (fastest steps)")
    for width, points in TABLE:
        mode = "both" if with_torch else "compiled"
        timed = _subprocess_row(width, points, mode, steps, threads)
        mem = _subprocess_row(width, points, "compiled", steps, threads)
        med, best = timed["median"], timed["min"]
        line = f"  2-{width}-{width}-1 x {points:<7,d} {med['compiled'] * 1e3:8.2f} ms"
        if with_torch:
            tmem = _subprocess_row(width, points, "torch", steps, threads)
            agree = abs(timed["first"]["compiled"] - timed["first"]["torch"]) <= 1e-9 * abs(timed["first"]["torch"])
            line += (
                f" {med['torch'] * 1e3:8.2f} ms   {med['compiled'] / med['torch']:8.2f}x"
                f"      {mem['peak'] / 2**20:8.0f} MiB   {tmem['peak'] / 2**20:6.0f} MiB"
                f"   ({best['compiled'] * 1e3:.2f} / {best['torch'] * 1e3:.2f} ms = "
                f"{best['compiled'] / best['torch']:.2f}x; first losses agree: {agree})"
            )
        else:
            line += f"        -          -         {mem['peak'] / 2**20:8.0f} MiB"
        print(line, flush=True)


def eager_step_time(width: int, reps: int) -> float:
    """Median seconds of one eager W1 step at 2-width-width-1 on W1's 100 points."""
    X, y = moons(100, noise=0.1, seed=1)
    model = MLP(Value, 2, [width, width, 1], seed=0)
    out = []
    for k in range(reps):
        t = time.perf_counter()
        w1_step(Value, model, X, y, k)
        out.append(time.perf_counter() - t)
        gc.collect()
    return statistics.median(out)


def bench_groups(reps: int) -> None:
    """Finding the linear groups of W1's tape at 2-64-64-1 (and building its batched program) vs one eager step."""
    model = MLP(Value, 2, [64, 64, 1], seed=0)
    t = compile_loss(model, "hinge", 2, n_outputs=1, l2=1e-4).compiled.tape
    find, build = [], []
    for _ in range(reps):
        t0 = time.perf_counter()
        chains, _ = find_chains(t)
        find.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        tape = Tape(t.n_args, t.n_params, t.consts, t.ops, t.outputs, t.single)  # everything after the trace
        build.append(time.perf_counter() - t0)
    n_linear = sum(isinstance(g, LinearGroup) for g in tape.batch_groups())
    comp = []
    for _ in range(max(1, reps // 2)):
        model = MLP(Value, 2, [64, 64, 1], seed=0)
        t0 = time.perf_counter()
        compile_loss(model, "hinge", 2, n_outputs=1, l2=1e-4)
        comp.append(time.perf_counter() - t0)
    eager = eager_step_time(64, 3)
    f, b = statistics.median(find), statistics.median(build)
    print(
        f"GROUPS 2-64-64-1 tape of {len(t.ops)} ops, {len(chains)} chains in {n_linear} linear groups: found in "
        f"{f * 1e3:.1f} ms = {f / eager:.3f} eager steps (limit 1); whole tape program {b * 1e3:.1f} ms "
        f"= {b / eager:.3f} eager steps; compile_loss (3 traces + tape) {statistics.median(comp) * 1e3:.0f} ms; "
        f"eager step (100 points) {eager * 1e3:.0f} ms"
    )


def elementwise(x: Any, y: Any) -> Any:
    """A function with no linear structure: every op is elementwise on the arguments."""
    h = (x * y).tanh() + (x - y).exp() * x.sigmoid()
    return (h * h + y.relu()).log() - (x * y).softplus()


def bench_elementwise(reps: int) -> None:
    rng = np.random.default_rng(0)
    xs, ys = rng.uniform(-1, 1, 10000), rng.uniform(-1, 1, 10000)
    c = compile(elementwise, [0.3, 0.7])
    n_linear = sum(isinstance(g, LinearGroup) for g in c.tape.batch_groups())
    out = []
    for _ in range(reps * 10):
        t = time.perf_counter()
        c.forward_backward(xs, ys)
        out.append(time.perf_counter() - t)
    print(
        f"ELEMW elementwise-only function, {len(c.tape.ops)} ops, 10,000 points: {n_linear} linear groups, "
        f"forward_backward {statistics.median(out) * 1e3:.3f} ms (median of {len(out)})"
    )


def bench_spiral64(torch: Any, max_steps: int, points: int = 10000) -> None:
    """The spiral at 2-64-64-1 with 10,000 points to >= 95% training accuracy: compiled vs PyTorch."""
    X, y = spiral(points)
    steps, acc, compiled_time, trace_time = train_spiral_compiled(X, y, 64, max_steps)
    line = (
        f"SPIRAL64 {points:,} points, MLP(2, [64, 64, 1]), full-batch Adam lr 0.01: compiled {steps} steps to "
        f"{acc:.1%} in {compiled_time:.2f} s (of which tracing loss and predictor {trace_time:.2f} s)"
    )
    if torch is not None:
        th = TorchW1(torch, MLP(Value, 2, [64, 64, 1], seed=0), X, y)
        params = [p for W, b in th.weights for p in (W, b)]
        topt = torch.optim.Adam(params, lr=0.01)
        t0 = time.perf_counter()
        tacc, tsteps = 0.0, 0
        while tsteps < max_steps:
            h = th.X
            for i, (W, b) in enumerate(th.weights):
                h = h @ W.T + b
                if i != len(th.weights) - 1:
                    h = torch.relu(h)
            lt = torch.relu(1 - th.y * h[:, 0]).mean()
            topt.zero_grad()
            lt.backward()
            topt.step()
            tsteps += 1
            if tsteps % 25 == 0:
                tacc = float((torch.sign(h[:, 0].detach()) == th.y).double().mean())
                if tacc >= 0.95:
                    break
        torch_time = time.perf_counter() - t0
        line += f"; torch {tsteps} steps to {tacc:.1%} in {torch_time:.2f} s"
        line += f"; compiled / torch = {compiled_time / torch_time:.2f}x"
    print(line, flush=True)


def blas_info() -> str:
    """Which BLAS numpy runs and with how many threads (threadpoolctl when installed)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        cfg = np.show_config(mode="dicts")
        blas = cfg.get("Build Dependencies", {}).get("blas", {})
        return f"numpy {np.__version__} BLAS {blas.get('name')} {blas.get('version')} (threadpoolctl not installed)"
    parts = [
        f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')} kernel, {i.get('num_threads')} threads"
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    ]
    names = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS")
    env = {k: os.environ[k] for k in names if k in os.environ}
    return f"numpy {np.__version__} BLAS: {'; '.join(parts) or 'none found'}; env {env or 'none of OPENBLAS_*'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=5, help="W1 repetitions (each runs one micrograd step)")
    parser.add_argument("--inner", type=int, default=20, help="compiled/torch W1 steps per repetition")
    parser.add_argument("--eager-spiral-steps", type=int, default=3, help="eager spiral steps to extrapolate from")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even if it is installed")
    parser.add_argument("--torch-threads", type=int, default=0, help="PyTorch intra-op threads (0: its default)")
    parser.add_argument("--table-steps", type=int, default=30, help="timed steps per engine and TABLE row")
    parser.add_argument("--spiral64-max-steps", type=int, default=600, help="step bound of SPIRAL64")
    parser.add_argument(
        "--only", choices=["w1", "spiral", "table", "groups", "elemw", "spiral64"], help="run one section only"
    )
    parser.add_argument("--row", help=argparse.SUPPRESS)  # internal: one TABLE row in a fresh process
    args = parser.parse_args()
    if args.row:
        w, pts, mode, steps, threads = args.row.split(",")
        print(json.dumps(run_row(int(w), int(pts), mode, int(steps), int(threads))))
        return
    torch: Any = None
    if not args.no_torch:
        try:
            torch = _torch(args.torch_threads)
        except ImportError:
            print("PyTorch not installed: no torch column (pip install torch into .venv for the benchmark only)")
    print(blas_info())
    if torch is not None:
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, float64")

    def wanted(name: str) -> bool:
        return args.only is None or args.only == name

    if wanted("w1"):
        w1 = bench_w1(args.reps, args.inner, torch)
        mg = w1["micrograd"]
        print(f"W1 step, median of {args.reps} (micrograd, eager) / {args.reps * args.inner} (compiled, torch) runs:")
        for name, sec in w1.items():
            print(f"  {name:10s} {sec * 1e3:10.3f} ms   micrograd / this = {mg / sec:8.1f}x")
        if "torch" in w1:
            print(
                f"  compiled / torch = {w1['compiled'] / w1['torch']:.2f}x "
                f"(torch float64, batched, {torch.get_num_threads()} threads)"
            )
        tr = bench_trace(args.reps)
        print(f"TRACE compile W1: {tr * 1e3:.2f} ms = {tr / w1['eager']:.3f} eager steps (must be < 3)")
    if wanted("spiral"):
        sp = bench_spiral(args.eager_spiral_steps)
        est = sp["eager_step_s"] * sp["steps"]
        print(
            f"SPIRAL 1000 points, MLP(2, [16, 16, 1]), full-batch Adam: {int(sp['steps'])} steps to "
            f"{sp['accuracy']:.1%} training accuracy in {sp['compiled_s']:.2f} s compiled (trace included); "
            f"eager {sp['eager_step_s']:.3f} s/step (mean of {int(sp['eager_steps'])} steps) -> "
            f"{est:.0f} s extrapolated ({est / sp['compiled_s']:.0f}x)"
        )
    if wanted("table"):
        bench_table(args.table_steps, args.torch_threads, torch is not None)
    if wanted("groups"):
        bench_groups(args.reps)
    if wanted("elemw"):
        bench_elementwise(args.reps)
    if wanted("spiral64"):
        bench_spiral64(torch, args.spiral64_max_steps)


if __name__ == "__main__":
    main()
