"""The wheel: its packages, its metadata (licence, authors, classifiers, Python versions) and one version."""

from __future__ import annotations

import email
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import autograd_core

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("autograd_core", "nn", "viz")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    # Build from a copy: setuptools leaves build/ and egg-info behind in the tree it builds.
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, src / name)
    for pkg in PACKAGES:
        shutil.copytree(ROOT / pkg, src / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"] + ["-w", str(tmp), str(src)],
        check=True,
        capture_output=True,
    )
    wheels = list(tmp.glob("autograd_core-*.whl"))
    assert len(wheels) == 1, wheels
    return zipfile.ZipFile(wheels[0])


def _metadata(wheel: zipfile.ZipFile) -> email.message.Message:
    (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    return email.message_from_bytes(wheel.read(name))


def test_wheel_contains_all_packages_and_nothing_else(wheel: zipfile.ZipFile) -> None:
    names = wheel.namelist()
    for pkg in PACKAGES:
        assert f"{pkg}/__init__.py" in names, f"{pkg} missing from {wheel.filename}"
        assert f"{pkg}/py.typed" in names
    assert "autograd_core/ops.py" in names
    assert "viz/cli/__init__.py" in names and "viz/cli/expr.py" in names
    # Subpackages are found, not listed by hand.
    assert "autograd_core/compat/micrograd/engine.py" in names and "autograd_core/compat/micrograd/nn.py" in names
    assert not any(n.startswith(("tests/", "bench/", "notebooks/", ".ci/")) for n in names)


def test_wheel_version_is_the_package_version(wheel: zipfile.ZipFile) -> None:
    meta = _metadata(wheel)
    assert meta["Version"] == autograd_core.__version__
    assert Path(wheel.filename or "").name.startswith(f"autograd_core-{autograd_core.__version__}-")


def test_version_has_one_source() -> None:
    # pyproject.toml reads autograd_core.__version__ instead of repeating it.
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert not re.search(r"(?m)^version\s*=\s*\"", text), "pyproject.toml must not repeat the version"
    assert 'dynamic = ["version"]' in text and 'version = { attr = "autograd_core.__version__" }' in text
    assert re.fullmatch(r"\d+\.\d+\.\d+", autograd_core.__version__)


def test_wheel_metadata_names_licence_authors_and_python_versions(wheel: zipfile.ZipFile) -> None:
    meta = _metadata(wheel)
    assert meta["License-Expression"] == "MIT"
    assert "LICENSE" in meta.get_all("License-File", [])
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in wheel.namelist())
    assert meta["Author"] == "autograd-core developers"
    assert meta["Requires-Python"] == ">=3.10"
    classifiers = meta.get_all("Classifier", [])
    for v in ("3.10", "3.11", "3.12", "3.13"):
        assert f"Programming Language :: Python :: {v}" in classifiers
    assert "Typing :: Typed" in classifiers
    assert "autograd" in (meta["Keywords"] or "")
    assert meta["Summary"] and meta["Description-Content-Type"] == "text/markdown"


def test_license_is_mit_for_the_project() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n") and "autograd-core developers" in text
    assert "THE SOFTWARE IS PROVIDED \"AS IS\"" in text


def test_changelog_has_an_entry_for_the_current_version() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(rf"(?m)^## \[?{re.escape(autograd_core.__version__)}\]?", text), (
        f"CHANGELOG.md has no '## {autograd_core.__version__}' section; add one when bumping the version"
    )


def test_tool_targets_follow_requires_python() -> None:
    # ruff and mypy check against the oldest supported Python, so 3.11-only syntax fails lint.
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'requires-python = ">=3.10"' in text
    assert 'target-version = "py310"' in text and 'python_version = "3.10"' in text
