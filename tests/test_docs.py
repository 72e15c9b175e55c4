"""The API reference builds from the docstrings with no pdoc warning and no broken reference.

``.ci/api_docs.py`` (run by ``bash .ci/docs``) is the builder; this runs it into a
temporary directory on every test run, and checks that it catches what it claims to.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUILDER = ROOT / ".ci" / "api_docs.py"


def _load_builder():
    spec = importlib.util.spec_from_file_location("api_docs", BUILDER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


api_docs = _load_builder()


def test_docs_build_cleanly_for_every_public_module(tmp_path: Path) -> None:
    out = tmp_path / "api"
    run = subprocess.run([sys.executable, str(BUILDER), str(out)], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-4000:]
    assert (out / "index.html").is_file() and (out / "search.js").is_file()
    # Modules a package's __all__ leaves out are documented too.
    for page in ("autograd_core/functional", "autograd_core/ops", "autograd_core/compat/micrograd/engine", "nn/layers"):
        assert (out / f"{page}.html").is_file(), page
    html = (out / "autograd_core" / "functional.html").read_text(encoding="utf-8")
    assert 'id="hessian"' in html and "has_aux" in html


def test_docs_public_modules_skip_private_ones_and_ignore_all() -> None:
    names = api_docs.public_modules()
    assert names[:1] == ["autograd_core"] and "nn" in names and "viz" in names
    assert "autograd_core.functional" in names and "autograd_core.compat.micrograd.nn" in names
    assert not any(part.startswith("_") for n in names for part in n.split("."))


@pytest.fixture
def fake_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def make(init: str, mod: str) -> str:
        # A name per test: imported modules stay in sys.modules.
        name = "docs_fake_" + "".join(c if c.isalnum() else "_" for c in tmp_path.name)
        pkg = tmp_path / name
        pkg.mkdir()
        (pkg / "__init__.py").write_text(textwrap.dedent(init), encoding="utf-8")
        (pkg / "tools.py").write_text(textwrap.dedent(mod), encoding="utf-8")
        monkeypatch.syspath_prepend(str(tmp_path))
        return name

    return make


def test_docs_report_a_reference_that_does_not_resolve(fake_package, tmp_path: Path) -> None:
    name = fake_package(
        '"""A package; see :mod:`json` and :func:`tools.helper`."""\n',
        '''
        """Tools: :func:`helper`, :class:`Box` and :meth:`Box.open` exist, :func:`helpr` does not."""
        import dataclasses

        def helper() -> int:
            """Calls :func:`len` and :func:`json.dumps`."""
            return 1

        @dataclasses.dataclass
        class Box:
            """A box; :attr:`size` is a field, :meth:`open` a method, :meth:`shut` nothing."""
            size: int

            def open(self) -> None:
                """Opens it (see :class:`Box`)."""
        ''',
    )
    problems = api_docs.build(tmp_path / "out", api_docs.public_modules([name]))
    assert sorted(problems) == [
        f"{name}.tools.Box: :meth:`shut` does not resolve; fix the name or drop the role",
        f"{name}.tools: :func:`helpr` does not resolve; fix the name or drop the role",
    ]
    assert (tmp_path / "out" / name / "tools.html").is_file()


def test_docs_report_a_pdoc_warning(fake_package, tmp_path: Path) -> None:
    name = fake_package('"""A package."""\n__all__ = ["tools", "missing"]\n', '"""Tools."""\n')
    problems = api_docs.build(tmp_path / "out", api_docs.public_modules([name]))
    assert len(problems) == 1 and "pdoc warning" in problems[0] and "'missing'" in problems[0], problems


def test_docs_builder_exits_nonzero_on_a_problem(fake_package, tmp_path: Path, capsys) -> None:
    name = fake_package('"""See :func:`nowhere`."""\n', '"""Tools."""\n')
    monkeypatched = api_docs.public_modules
    try:
        api_docs.public_modules = lambda packages=(name,): monkeypatched([name])
        assert api_docs.main([str(tmp_path / "out")]) == 1
    finally:
        api_docs.public_modules = monkeypatched
    assert ":func:`nowhere` does not resolve" in capsys.readouterr().err
