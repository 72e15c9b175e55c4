"""Eager engine benchmark: autograd-core against micrograd==0.1.0, side by side in one process.

W1  micrograd's demo step: MLP(2, [16, 16, 1]) with ReLU on 100 two-moons
    points, max-margin loss + 1e-4 L2, forward + backward + SGD update.
W2  deep chain: backward time per node at 1,000,000 nodes versus 10,000.
W3  memory per graph node (tracemalloc), on W1's graph.

Medians of repeated runs, garbage collector on (as users run it); the
engines alternate within each repetition so that drifts in machine speed hit
both alike.  Run: ``.venv/bin/python bench/bench_engine.py [--reps N]``.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from workloads import MLP, chain, moons, w1_step  # noqa: E402

from autograd_core import Value, topo_order  # noqa: E402

try:
    from micrograd.engine import Value as MicrogradValue
except ImportError:  # pragma: no cover - the bench says how to get it
    sys.exit("micrograd is missing: .venv/bin/pip install micrograd==0.1.0")


def time_w1(V: Any, steps: int) -> list[float]:
    X, y = moons(100, noise=0.1, seed=1)
    model = MLP(V, 2, [16, 16, 1], seed=0)
    times = []
    for k in range(steps):
        t = time.perf_counter()
        w1_step(V, model, X, y, k)
        times.append(time.perf_counter() - t)
    # Untimed, between blocks only: what this engine left for the cyclic collector
    # is collected here, never inside the other engine's timed steps.  Within a
    # block the collector runs as it does in a user's training loop.
    gc.collect()
    return times


def time_chain_backward(n: int) -> float:
    """Backward time per graph node (op nodes and their constant leaves alike)."""
    out = chain(Value, n)
    nodes = len(topo_order(out))
    t = time.perf_counter()
    out.backward()
    elapsed = time.perf_counter() - t
    del out
    return elapsed / nodes


def memory_per_node(V: Any) -> float:
    X, y = moons(100, noise=0.1, seed=1)
    model = MLP(V, 2, [16, 16, 1], seed=0)
    xs = [[float(a), float(b)] for a, b in X]
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    scores = [model(x)[0] for x in xs]
    loss = sum((1 + -float(yi) * s).relu() for yi, s in zip(y, scores))
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    n = _count_nodes(loss)
    del scores, loss
    return (after - before) / n


def _count_nodes(root: Any) -> int:
    seen = {id(root)}
    stack = [root]
    while stack:
        v = stack.pop()
        for p in getattr(v, "_prev", None) or getattr(v, "parents", ()):
            if id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
    return len(seen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="repetitions of each measurement (default 5)")
    args = parser.parse_args()
    assert gc.isenabled()

    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(args.reps):
        ours += time_w1(Value, 4)
        theirs += time_w1(MicrogradValue, 4)
    mo, mt = statistics.median(ours), statistics.median(theirs)
    print(
        f"W1 micrograd demo step   autograd-core {mo * 1e3:8.1f} ms   micrograd {mt * 1e3:8.1f} ms"
        f"   ratio {mt / mo:5.1f}x"
    )

    small = statistics.median(time_chain_backward(10_000) for _ in range(args.reps))
    large = statistics.median(time_chain_backward(1_000_000) for _ in range(max(1, args.reps // 2)))
    print(
        f"W2 deep chain backward   {small * 1e9:6.0f} ns/node at 10,000   {large * 1e9:6.0f} ns/node at 1,000,000"
        f"   ratio {large / small:4.2f} (limit 1.5)"
    )

    mem_ours = memory_per_node(Value)
    mem_theirs = memory_per_node(MicrogradValue)
    print(
        f"W3 memory per node       autograd-core {mem_ours:6.0f} B   micrograd {mem_theirs:6.0f} B"
        f"   ratio {mem_ours / mem_theirs:4.2f} (limit 0.33)"
    )


if __name__ == "__main__":
    main()
