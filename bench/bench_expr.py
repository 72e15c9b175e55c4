"""Expression parser benchmark: the issue's "within a second" for hostile inputs, measured here, not in tests.

The tests bound the parser's work structurally (nodes visited, depth reached);
this script times the worst inputs near each limit and reports the slowest
rejection or acceptance.  Run: ``.venv/bin/python bench/bench_expr.py [--reps N]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

from viz.cli.expr import MAX_LENGTH, ExpressionError, parse


def _balanced_sum(terms: list[str]) -> str:
    if len(terms) == 1:
        return terms[0]
    mid = len(terms) // 2
    return f"({_balanced_sum(terms[:mid])})+({_balanced_sum(terms[mid:])})"


CASES: dict[str, str] = {
    "9**9**9": "9**9**9",
    "5,000 nested parentheses": "(" * 5000 + "x" + ")" * 5000,
    "250 nested parentheses": "(" * 250 + "x" + ")" * 250,
    "99 unary minus": "-" * 99 + "x",
    "891-node balanced sum": _balanced_sum(["-" * 80 + "x"] * 11),
    "nested constant powers": "2**" * 99 + "2",
    "longest identifier": "x" * MAX_LENGTH,
    "pow(9, pow(9, 9))": "pow(9, pow(9, 9))",
    "one million characters": "x+" * 500_000 + "x",
}


def _time(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args(argv)
    worst = 0.0
    for name, text in CASES.items():

        def run(text: str = text) -> None:
            try:
                parse(text)
            except ExpressionError:
                pass

        times = [_time(run) for _ in range(args.reps)]
        med, top = statistics.median(times), max(times)
        worst = max(worst, top)
        print(f"{name:<28} median {med * 1e3:8.3f} ms   max {top * 1e3:8.3f} ms")
    print(f"slowest: {worst * 1e3:.3f} ms ({'within' if worst < 1.0 else 'OVER'} the issue's one second)")
    return 0 if worst < 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
