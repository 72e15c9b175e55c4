"""The paired notebook forms cannot drift: ``notebooks/NN-name.py`` and its executed ``.ipynb`` hold the same cells.

The percent-format parser is the one ``notebooks/build.py`` builds with,
loaded from its path (``notebooks`` is not a package), and so is the comparison,
``build.cell_differences``.  A source edited without rebuilding, or a notebook
edited by hand, fails here.  The stored outputs are checked for errors, stderr
and unmerged streams, but not re-executed: CI runs ``pytest --nbmake notebooks``.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import nbformat
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
    problems = build.cell_differences(NOTEBOOKS / f"{stem}.py", NOTEBOOKS / f"{stem}.ipynb")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("stem", SOURCES)
def test_notebooks_are_executed_with_outputs(stem):
    nb = json.loads((NOTEBOOKS / f"{stem}.ipynb").read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, f"{stem}.ipynb has no code cell"
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), f"{stem}.ipynb was not executed top to bottom: {counts}"
    errors = [o for c in code for o in c["outputs"] if o["output_type"] == "error"]
    assert not errors, f"{stem}.ipynb holds an error output: {errors[0].get('ename')}"
    stderr = [i for i, c in enumerate(nb["cells"]) for o in c.get("outputs", []) if o.get("name") == "stderr"]
    assert not stderr, f"{stem}.ipynb: cells {stderr} wrote to stderr (a warning?); fix the cause and rebuild"
    # Streams are merged by build.py, so a rebuild does not reshuffle print output into other chunks.
    for i, c in enumerate(nb["cells"]):
        outs = c.get("outputs", [])
        for a, b in zip(outs, outs[1:]):
            split = a["output_type"] == b["output_type"] == "stream" and a["name"] == b["name"]
            assert not split, f"{stem}.ipynb: cell {i} holds consecutive {a['name']} outputs; rebuild it"
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


def _copy_pair(tmp_path, stem):
    src, nb = tmp_path / f"{stem}.py", tmp_path / f"{stem}.ipynb"
    src.write_text((NOTEBOOKS / f"{stem}.py").read_text(encoding="utf-8"), encoding="utf-8")
    nb.write_text((NOTEBOOKS / f"{stem}.ipynb").read_text(encoding="utf-8"), encoding="utf-8")
    assert build.cell_differences(src, nb) == []
    return src, nb


def test_notebooks_edit_inside_a_cell_without_rebuild_is_detected(tmp_path):
    stem = SOURCES[0]
    src, nb = _copy_pair(tmp_path, stem)
    text = src.read_text(encoding="utf-8")
    assert text.count("f = q * z\n") == 1
    src.write_text(text.replace("f = q * z\n", "f = q * z * 1\n"), encoding="utf-8")
    problems = build.cell_differences(src, nb)
    assert len(problems) == 1 and "cell 3 differs" in problems[0] and f"build.py {stem}" in problems[0], problems


def test_notebooks_hand_edited_notebook_is_detected(tmp_path):
    stem = SOURCES[0]
    src, nb = _copy_pair(tmp_path, stem)
    data = json.loads(nb.read_text(encoding="utf-8"))
    cell = data["cells"][1]
    cell["source"] = "".join(cell["source"]) + "\nprint('edited in Jupyter')"
    nb.write_text(json.dumps(data), encoding="utf-8")
    problems = build.cell_differences(src, nb)
    assert len(problems) == 1 and "cell 1 differs" in problems[0], problems


def test_notebooks_added_cell_and_changed_type_are_detected(tmp_path):
    stem = SOURCES[0]
    src, nb = _copy_pair(tmp_path, stem)
    text = src.read_text(encoding="utf-8")
    src.write_text(text.replace("# %% [markdown]\n", "# %%\n", 1) + "\n# %%\nprint('new')\n", encoding="utf-8")
    problems = build.cell_differences(src, nb)
    assert any("cells" in p for p in problems) and any("cell 0 is markdown, in" in p for p in problems), problems


def test_notebooks_missing_notebook_is_detected(tmp_path):
    src = tmp_path / "01-x.py"
    src.write_text("# %%\nx = 1\n", encoding="utf-8")
    assert "missing" in build.cell_differences(src, tmp_path / "01-x.ipynb")[0]


def test_notebooks_build_merges_consecutive_streams():
    out = nbformat.v4.new_output
    outputs = [
        out("stream", name="stdout", text="a\n"),
        out("stream", name="stdout", text=["b\n", "c\n"]),
        out("stream", name="stderr", text="w\n"),
        out("stream", name="stdout", text="d\n"),
        out("display_data", data={"text/plain": "x"}),
        out("stream", name="stdout", text="e\n"),
    ]
    merged = build.merge_streams(outputs)
    assert [(o["output_type"], o.get("name"), o.get("text")) for o in merged] == [
        ("stream", "stdout", "a\nb\nc\n"),
        ("stream", "stderr", "w\n"),
        ("stream", "stdout", "d\n"),
        ("display_data", None, None),
        ("stream", "stdout", "e\n"),
    ]
