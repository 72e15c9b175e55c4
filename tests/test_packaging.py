"""The wheel holds the three import packages."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_contains_all_three_packages(tmp_path: Path) -> None:
    # Build from a copy: setuptools leaves build/ and egg-info behind in the tree it builds.
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    for pkg in ("autograd_core", "nn", "viz"):
        shutil.copytree(ROOT / pkg, src / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
        + ["-w", str(tmp_path), str(src)],
        check=True,
        capture_output=True,
    )
    wheels = list(tmp_path.glob("autograd_core-*.whl"))
    assert len(wheels) == 1, wheels
    names = zipfile.ZipFile(wheels[0]).namelist()
    for pkg in ("autograd_core", "nn", "viz"):
        assert f"{pkg}/__init__.py" in names, f"{pkg} missing from {wheels[0].name}"
    assert "autograd_core/ops.py" in names
    assert "viz/cli/__init__.py" in names and "viz/cli/expr.py" in names  # a subpackage is listed on its own
    assert not any(n.startswith(("tests/", "bench/", "notebooks/")) for n in names)
