"""The paired notebook forms cannot drift: ``notebooks/NN-name.py`` and its executed ``.ipynb`` hold the same cells.

The percent-format parser is the one ``notebooks/build.py`` builds with,
loaded from its path (``notebooks`` is not a package).  A source edited
without rebuilding, or a notebook edited by hand, fails here.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
EXPECTED = [
    "01-backprop-by-hand-and-by-machine",
    "02-gradient-descent",
    "03-training-an-mlp",
    "04-regularization",
    "05-vanishing-and-exploding-gradients",
    "06-beyond-first-order",
    "07-playground",
]


def _load_build():
    spec = importlib.util.spec_from_file_location("notebooks_build", NOTEBOOKS / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load_build()
SOURCES = sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]-*.py"))
NOTEBOOK_FILES = sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))


def _ipynb_cells(path: Path) -> list[tuple[str, str]]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = []
    for c in nb["cells"]:
        src = c["source"]
        cells.append((c["cell_type"], "".join(src) if isinstance(src, list) else src))
    return cells


def test_notebooks_every_source_and_notebook_is_paired():
    assert set(SOURCES) == set(NOTEBOOK_FILES), (
        f"unpaired: sources without notebook {sorted(set(SOURCES) - set(NOTEBOOK_FILES))}, "
        f"notebooks without source {sorted(set(NOTEBOOK_FILES) - set(SOURCES))}; "
        "run .venv/bin/python notebooks/build.py"
    )


def test_notebooks_all_lessons_present():
    assert SOURCES == EXPECTED


@pytest.mark.parametrize("stem", SOURCES)
def test_notebooks_cells_match_source(stem):
    src = NOTEBOOKS / f"{stem}.py"
    nb = NOTEBOOKS / f"{stem}.ipynb"
    assert nb.exists(), f"{nb.name} is missing; run .venv/bin/python notebooks/build.py {stem}"
    want = build.parse_source(src.read_text(encoding="utf-8"), str(src))
    got = _ipynb_cells(nb)
    assert [k for k, _ in got] == [k for k, _ in want], f"{nb.name}: cell types differ from {src.name}; rebuild it"
    for i, ((_, a), (_, b)) in enumerate(zip(got, want)):
        assert a == b, f"{nb.name}: cell {i} differs from {src.name}; run .venv/bin/python notebooks/build.py {stem}"


@pytest.mark.parametrize("stem", SOURCES)
def test_notebooks_are_executed_with_outputs(stem):
    nb = json.loads((NOTEBOOKS / f"{stem}.ipynb").read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, f"{stem}.ipynb has no code cell"
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), f"{stem}.ipynb was not executed top to bottom: {counts}"
    errors = [o for c in code for o in c["outputs"] if o["output_type"] == "error"]
    assert not errors, f"{stem}.ipynb holds an error output: {errors[0].get('ename')}"
    # The lesson ends with its self-check.
    last = code[-1]["source"]
    last = last if isinstance(last, str) else "".join(last)
    assert "assert " in last, f"{stem}.ipynb does not end with a cell of asserts"


def test_notebooks_parser_reads_percent_format():
    text = "\n# %% [markdown]\n# # Title\n#\n# text\n\n# %%\nx = 1\n\nprint(x)\n\n# %%\nassert x == 1\n"
    assert build.parse_source(text) == [
        ("markdown", "# Title\n\ntext"),
        ("code", "x = 1\n\nprint(x)"),
        ("code", "assert x == 1"),
    ]


@pytest.mark.parametrize(
    "text",
    ["x = 1\n# %%\ny = 2\n", "# %% [markdown]\nnot a comment\n", "# %% [raw]\nx\n", "# %%\n\n# %%\nx = 1\n", ""],
)
def test_notebooks_parser_rejects_malformed_sources(text):
    with pytest.raises(build.SourceError):
        build.parse_source(text)


def test_notebooks_edit_without_rebuild_is_detected(tmp_path):
    # The comparison this file runs, applied to a source changed after its notebook was built.
    stem = SOURCES[0]
    text = (NOTEBOOKS / f"{stem}.py").read_text(encoding="utf-8") + "\n# %%\nprint('edited')\n"
    assert build.parse_source(text) != _ipynb_cells(NOTEBOOKS / f"{stem}.ipynb")
