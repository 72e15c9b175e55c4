"""autograd_core.testing: what importing it says when hypothesis is missing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Runs in a child so that hiding hypothesis cannot disturb this process's imports.
_CHILD = """
import sys
class NoHypothesis:
    def find_spec(self, name, path=None, target=None):
        if name == "hypothesis" or name.startswith("hypothesis."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, NoHypothesis())
try:
    import autograd_core.testing
except ModuleNotFoundError as e:
    print(type(e).__name__, e.name, e)
import autograd_core  # the engine itself needs no hypothesis
print("engine ok")
"""


def test_testing_without_hypothesis_names_the_extra_to_install() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD], capture_output=True, text=True, cwd=ROOT, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    first, second = proc.stdout.splitlines()
    assert first.startswith("ModuleNotFoundError hypothesis ")
    assert "pip install 'autograd-core[testing]'" in first
    assert second == "engine ok"
