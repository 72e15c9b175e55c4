"""The paired notebook forms cannot drift: ``notebooks/NN-name.py`` and its executed ``.ipynb`` hold the same cells.

The sources are jupytext "percent" files paired with their notebooks by
``notebooks/jupytext.toml``; they are read here with jupytext itself, so a
source edited without rebuilding, or a notebook edited by hand, fails.  The
stored outputs are checked for errors, stderr and unmerged streams, but not
re-executed here: tests/test_notebooks_run.py does that.  One test runs the rebuild
command of ``notebooks/README.md`` on a small notebook.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest
from jupytext.config import load_jupytext_config

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
SOURCES = sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]-*.py"))
NOTEBOOK_FILES = sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))
BIN = Path(sys.executable).parent


def rebuild_command(stem: str) -> str:
    return (
        f".venv/bin/jupytext --to ipynb --update notebooks/{stem}.py && .venv/bin/jupyter nbconvert "
        f"--config notebooks/jupyter_nbconvert_config.json --to notebook --execute --inplace notebooks/{stem}.ipynb"
    )


def cell_differences(src: Path, ipynb: Path) -> list[str]:
    """How the notebook ``ipynb`` differs from its source ``src`` (cell count, types, sources); empty: in sync."""
    rebuild = f"rebuild it: {rebuild_command(src.stem)}"
    if not ipynb.exists():
        return [f"{ipynb.name} is missing; {rebuild}"]
    want = [(c.cell_type, c.source) for c in jupytext.read(src, fmt="py:percent").cells]
    got = [(c.cell_type, c.source) for c in nbformat.read(ipynb, as_version=4).cells]
    problems = []
    if len(got) != len(want):
        problems.append(f"{ipynb.name} has {len(got)} cells, {src.name} has {len(want)}")
    for i, ((gk, gs), (wk, ws)) in enumerate(zip(got, want)):
        if gk != wk:
            problems.append(f"{ipynb.name}: cell {i} is {gk}, in {src.name} it is {wk}")
        elif gs != ws:
            problems.append(f"{ipynb.name}: cell {i} differs from {src.name}")
    return [f"{m}; {rebuild}" for m in problems]


def test_notebooks_every_source_and_notebook_is_paired() -> None:
    assert set(SOURCES) == set(NOTEBOOK_FILES), (
        f"unpaired: sources without notebook {sorted(set(SOURCES) - set(NOTEBOOK_FILES))}, "
        f"notebooks without source {sorted(set(NOTEBOOK_FILES) - set(SOURCES))}"
    )


def test_notebooks_all_lessons_present() -> None:
    assert SOURCES == EXPECTED


def test_notebooks_jupytext_config_pairs_ipynb_with_percent_sources() -> None:
    config = load_jupytext_config(str(NOTEBOOKS))
    assert config is not None, "notebooks/jupytext.toml is missing"
    assert config.formats in ("ipynb,py:percent", ["ipynb,py:percent"])
    # Magics stay as written (`%matplotlib inline`), and no header is added to the sources.
    assert config.comment_magics is False and config.notebook_metadata_filter == "-all"


@pytest.mark.parametrize("stem", SOURCES)
def test_notebooks_cells_match_source(stem: str) -> None:
    problems = cell_differences(NOTEBOOKS / f"{stem}.py", NOTEBOOKS / f"{stem}.ipynb")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("stem", SOURCES)
def test_notebooks_source_written_back_by_jupytext_holds_the_same_cells(stem: str) -> None:
    # What `jupytext --sync` would write from the notebook reads back as the same cells.
    config = load_jupytext_config(str(NOTEBOOKS))
    nb = nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4)
    text = jupytext.writes(nb, fmt="py:percent", config=config)
    assert not text.startswith("# ---"), "a jupytext header would be added to the source"
    again = jupytext.reads(text, fmt="py:percent")
    assert [(c.cell_type, c.source) for c in again.cells] == [(c.cell_type, c.source) for c in nb.cells]


@pytest.mark.parametrize("stem", SOURCES)
def test_notebooks_are_executed_with_outputs(stem: str) -> None:
    nb = json.loads((NOTEBOOKS / f"{stem}.ipynb").read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, f"{stem}.ipynb has no code cell"
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), f"{stem}.ipynb was not executed top to bottom: {counts}"
    errors = [o for c in code for o in c["outputs"] if o["output_type"] == "error"]
    assert not errors, f"{stem}.ipynb holds an error output: {errors[0].get('ename')}"
    stderr = [i for i, c in enumerate(nb["cells"]) for o in c.get("outputs", []) if o.get("name") == "stderr"]
    assert not stderr, f"{stem}.ipynb: cells {stderr} wrote to stderr (a warning?); fix the cause and rebuild"
    # Streams are coalesced by the rebuild, so a rebuild does not reshuffle print output into other chunks.
    for i, c in enumerate(nb["cells"]):
        outs = c.get("outputs", [])
        for a, b in zip(outs, outs[1:]):
            split = a["output_type"] == b["output_type"] == "stream" and a["name"] == b["name"]
            assert not split, f"{stem}.ipynb: cell {i} holds consecutive {a['name']} outputs; rebuild it"
        assert "execution" not in c.get("metadata", {}), f"{stem}.ipynb: cell {i} stores timings; rebuild it"
    # The lesson ends with its self-check.
    last = code[-1]["source"]
    last = last if isinstance(last, str) else "".join(last)
    assert "assert " in last, f"{stem}.ipynb does not end with a cell of asserts"


def _copy_pair(tmp_path: Path, stem: str) -> tuple[Path, Path]:
    src, nb = tmp_path / f"{stem}.py", tmp_path / f"{stem}.ipynb"
    shutil.copy2(NOTEBOOKS / f"{stem}.py", src)
    shutil.copy2(NOTEBOOKS / f"{stem}.ipynb", nb)
    assert cell_differences(src, nb) == []
    return src, nb


def test_notebooks_edit_inside_a_cell_without_rebuild_is_detected(tmp_path: Path) -> None:
    stem = SOURCES[0]
    src, nb = _copy_pair(tmp_path, stem)
    text = src.read_text(encoding="utf-8")
    assert text.count("f = q * z\n") == 1
    src.write_text(text.replace("f = q * z\n", "f = q * z * 1\n"), encoding="utf-8")
    problems = cell_differences(src, nb)
    assert len(problems) == 1 and "cell 3 differs" in problems[0] and f"--update notebooks/{stem}.py" in problems[0]


def test_notebooks_hand_edited_notebook_is_detected(tmp_path: Path) -> None:
    src, nb = _copy_pair(tmp_path, SOURCES[0])
    data = json.loads(nb.read_text(encoding="utf-8"))
    cell = data["cells"][1]
    cell["source"] = "".join(cell["source"]) + "\nprint('edited in Jupyter')"
    nb.write_text(json.dumps(data), encoding="utf-8")
    problems = cell_differences(src, nb)
    assert len(problems) == 1 and "cell 1 differs" in problems[0], problems


def test_notebooks_added_cell_and_changed_type_are_detected(tmp_path: Path) -> None:
    src, nb = _copy_pair(tmp_path, SOURCES[0])
    text = src.read_text(encoding="utf-8")
    src.write_text(text.replace("# %% [markdown]\n", "# %%\n", 1) + "\n# %%\nprint('new')\n", encoding="utf-8")
    problems = cell_differences(src, nb)
    assert any("cells" in p for p in problems) and any("cell 0 is markdown, in" in p for p in problems), problems


def test_notebooks_missing_notebook_is_detected(tmp_path: Path) -> None:
    src = tmp_path / "01-x.py"
    src.write_text("# %%\nx = 1\n", encoding="utf-8")
    assert "missing" in cell_differences(src, tmp_path / "01-x.ipynb")[0]


def test_notebooks_rebuild_command_updates_executes_and_coalesces(tmp_path: Path) -> None:
    # The README's command on a two-cell lesson: the notebook follows its edited source, keeps
    # the stored outputs' form (no timings) and joins the chunks of a cell's printing.
    for name in ("jupytext.toml", "jupyter_nbconvert_config.json"):
        shutil.copy2(NOTEBOOKS / name, tmp_path / name)
    src = tmp_path / "01-tiny.py"
    src.write_text("# %% [markdown]\n# # Tiny\n\n# %%\nimport time\nprint('a', flush=True)\n", encoding="utf-8")
    jupytext_bin, jupyter_bin = BIN / "jupytext", BIN / "jupyter"
    if not (jupytext_bin.exists() and jupyter_bin.exists()):
        if os.environ.get("CI") == "true":
            pytest.fail(f"jupytext or jupyter is missing next to {sys.executable}; install the dev extras")
        pytest.skip("jupytext and jupyter are not installed next to this Python (dev extras)")
    pair = [str(jupytext_bin), "--to", "ipynb", "--update", src.name]
    subprocess.run(pair, cwd=tmp_path, check=True, capture_output=True)
    # Edit the source: a second print after a pause, which the kernel sends as a second chunk.
    src.write_text(src.read_text(encoding="utf-8") + "time.sleep(0.5)\nprint('b')\n", encoding="utf-8")
    nb = tmp_path / "01-tiny.ipynb"
    subprocess.run(pair, cwd=tmp_path, check=True, capture_output=True)
    execute = [str(jupyter_bin), "nbconvert", "--config", "jupyter_nbconvert_config.json"]
    execute += ["--to", "notebook", "--execute", "--inplace", nb.name]
    run = subprocess.run(execute, cwd=tmp_path, check=True, capture_output=True, text=True)
    # The kernel's log stays quiet (it warned of unencrypted TCP on every build before).
    assert "WARNING" not in run.stderr and "without encryption" not in run.stderr, run.stderr
    assert cell_differences(src, nb) == []
    code = [c for c in nbformat.read(nb, as_version=4).cells if c.cell_type == "code"]
    assert [(o.output_type, o.name, o.text) for o in code[0].outputs] == [("stream", "stdout", "a\nb\n")]
    assert "execution" not in code[0].metadata
