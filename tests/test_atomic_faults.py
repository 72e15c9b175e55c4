"""Fault injection for atomic writes: saving processes killed at random points.

Each round starts a child that saves two alternating 1 MB contents to one
target in a loop and kills it after a seeded random delay, with SIGKILL or
SIGTERM (neither runs Python's cleanup: the library installs no handler).  The
target must always be one complete version, and the next save of the target
must remove the temporary file a kill left behind.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograd_core.atomic import atomic_write

SIZE = 1_000_000
CHILD = f"""
import sys
from autograd_core.atomic import atomic_write
versions = [b"A" * {SIZE}, b"B" * {SIZE}]
print("ready", flush=True)
i = 0
while True:
    atomic_write(sys.argv[1], versions[i % 2])
    i += 1
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals (not on Windows)")
def test_atomic_write_killed_at_random_points_leaves_a_whole_file_and_no_lasting_litter(tmp_path: Path) -> None:
    rng = random.Random(12)
    target = tmp_path / "model.json"
    old = b"old" * 1000
    atomic_write(target, old)
    complete = {old, b"A" * SIZE, b"B" * SIZE, b"next"}
    kills, litter_seen = 30, 0
    start = time.monotonic()
    for _ in range(kills):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(target)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE
        )
        try:
            assert child.stdout is not None and child.stdout.readline() == b"ready\n"
            time.sleep(rng.uniform(0.0, 0.03))
        finally:
            child.send_signal(rng.choice([signal.SIGKILL, signal.SIGTERM]))  # neither runs Python cleanup
            child.wait(timeout=30)
            child.stdout.close()  # type: ignore[union-attr]
        assert target.read_bytes() in complete  # the old or a new version, whole
        litter_seen += len(os.listdir(tmp_path)) - 1
        atomic_write(target, b"next")
        assert os.listdir(tmp_path) == ["model.json"], "a killed save's temporary file survived the next save"
        assert target.read_bytes() == b"next"
    assert time.monotonic() - start < 120, "30 kills should take seconds"
    print(f"{kills} kills, {litter_seen} temporary files left by them and removed by the next save")
