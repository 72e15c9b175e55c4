"""Build the lecture notebooks: ``NN-name.py`` (percent format) -> executed ``NN-name.ipynb``.

Usage::

    .venv/bin/python notebooks/build.py                 # every notebook
    .venv/bin/python notebooks/build.py 06 01-backprop   # names or prefixes

The source format is a small subset of jupytext's "percent" format:

* a line ``# %%`` starts a code cell, ``# %% [markdown]`` a markdown cell;
* every line of a markdown cell is ``# text`` (or a bare ``#`` for an empty line);
* blank lines at the start and end of a cell are dropped; lines before the
  first marker must be blank.

Each notebook is executed with nbclient (kernel ``python3``, working directory
``notebooks/``, 120 s per cell) and written atomically with its outputs.  What
changes run to run (timings, kernel versions, memory addresses, the chunking of
printed output) is stripped or normalised, cell ids are derived from the cell
index, so rebuilding an unchanged source gives the same file (unless a cell
prints something that varies, such as a timing: keep those in plots).
:func:`parse_source`, :func:`notebook_cells`, :func:`merge_streams` and
:func:`cell_differences` are shared with ``tests/test_notebooks_sync.py``.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from autograd_core.atomic import atomic_write

HERE = Path(__file__).resolve().parent
CELL_TIMEOUT = 120
MARKER = "# %%"
MARKDOWN_MARKER = "# %% [markdown]"

Cell = tuple[str, str]  # (cell type, source)
# Default object reprs ("<viz.dot.DotGraph at 0x7f...>") differ run to run.
ADDRESS = re.compile(r" at 0x[0-9a-f]+>")


class SourceError(ValueError):
    """A notebook source does not follow the percent format."""


def _trim(lines: list[str]) -> str:
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)


def _markdown_line(path: str, lineno: int, line: str) -> str:
    if line == "#":
        return ""
    if line.startswith("# "):
        return line[2:]
    if not line.strip():
        return ""
    raise SourceError(f"{path}:{lineno}: a markdown line must start with '# ' (or be a bare '#'), got {line!r}")


def parse_source(text: str, path: str = "<source>") -> list[Cell]:
    """The cells of a percent-format source as ``(cell_type, source)`` pairs.

    Raises:
        SourceError: naming the file and line that break the format.
    """
    cells: list[Cell] = []
    kind: str | None = None
    body: list[str] = []

    def flush() -> None:
        if kind is not None:
            cells.append((kind, _trim(body)))

    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.rstrip()
        if stripped == MARKDOWN_MARKER or stripped == MARKER:
            flush()
            kind = "markdown" if stripped == MARKDOWN_MARKER else "code"
            body = []
        elif stripped.startswith(MARKER):
            raise SourceError(f"{path}:{lineno}: unknown cell marker {stripped!r}; use '# %%' or '# %% [markdown]'")
        elif kind is None:
            if stripped:
                raise SourceError(f"{path}:{lineno}: text before the first '# %%' marker: {line!r}")
        elif kind == "markdown":
            body.append(_markdown_line(path, lineno, stripped))
        else:
            body.append(stripped)
    flush()
    if not cells:
        raise SourceError(f"{path}: no cells (no '# %%' marker)")
    for i, (k, src) in enumerate(cells):
        if not src:
            raise SourceError(f"{path}: cell {i} ({k}) is empty")
    return cells


def notebook_cells(nb: nbformat.NotebookNode) -> list[Cell]:
    """The ``(cell_type, source)`` pairs of a notebook."""
    return [(c.cell_type, c.source) for c in nb.cells]


def cell_differences(src: Path, ipynb: Path) -> list[str]:
    """How the notebook ``ipynb`` differs from its source ``src``, one message per difference (empty: in sync).

    Compares cell count, types and sources; outputs are not compared.
    """
    rebuild = f"run .venv/bin/python notebooks/build.py {src.stem}"
    if not ipynb.exists():
        return [f"{ipynb.name} is missing; {rebuild}"]
    want = parse_source(src.read_text(encoding="utf-8"), str(src))
    got = notebook_cells(nbformat.reads(ipynb.read_text(encoding="utf-8"), as_version=4))
    problems = []
    if len(got) != len(want):
        problems.append(f"{ipynb.name} has {len(got)} cells, {src.name} has {len(want)}")
    for i, ((gk, gs), (wk, ws)) in enumerate(zip(got, want)):
        if gk != wk:
            problems.append(f"{ipynb.name}: cell {i} is {gk}, in {src.name} it is {wk}")
        elif gs != ws:
            problems.append(f"{ipynb.name}: cell {i} differs from {src.name}")
    return [f"{m}; {rebuild}" for m in problems]


def to_notebook(cells: list[Cell]) -> nbformat.NotebookNode:
    """An unexecuted notebook with deterministic cell ids."""
    nb = nbformat.v4.new_notebook()
    for i, (kind, src) in enumerate(cells):
        make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        nb.cells.append(make(src, id=f"cell-{i:02d}"))
    nb.metadata = _metadata()
    return nb


def _metadata() -> nbformat.NotebookNode:
    return nbformat.from_dict(
        {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        }
    )


def merge_streams(outputs: list[nbformat.NotebookNode]) -> list[nbformat.NotebookNode]:
    """``outputs`` with each run of consecutive stream outputs of the same name joined into one.

    The kernel flushes ``print`` output in chunks whose boundaries depend on timing, so the
    same cell gives one ``stdout`` output in one run and three in the next.
    """
    merged: list[nbformat.NotebookNode] = []
    for out in outputs:
        prev = merged[-1] if merged else None
        if (
            out.get("output_type") == "stream"
            and prev is not None
            and prev.get("output_type") == "stream"
            and prev.get("name") == out.get("name")
        ):
            prev["text"] = _text(prev["text"]) + _text(out["text"])
        else:
            merged.append(out)
    return merged


def _text(text: str | list[str]) -> str:
    return text if isinstance(text, str) else "".join(text)


def _scrub(nb: nbformat.NotebookNode) -> None:
    """Drop what changes from run to run: timings, kernel versions, memory addresses in reprs, stream chunking."""
    nb.metadata = _metadata()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if "outputs" in cell:
            cell.outputs = merge_streams(cell.outputs)
        for out in cell.get("outputs", []):
            if "metadata" in out:
                out.metadata.pop("execution", None)
            text = out.get("data", {}).get("text/plain")
            if isinstance(text, str):
                out.data["text/plain"] = ADDRESS.sub(">", text)


def sources(names: list[str] | None = None) -> list[Path]:
    """The notebook sources (``NN-*.py``), all or those whose name starts with one of ``names``."""
    found = sorted(p for p in HERE.glob("[0-9][0-9]-*.py"))
    if not names:
        return found
    chosen = []
    for name in names:
        stem = Path(name).name.removesuffix(".py").removesuffix(".ipynb")
        hits = [p for p in found if p.stem.startswith(stem)]
        if not hits:
            raise SystemExit(f"build.py: no notebook source matches {name!r}; have: {', '.join(p.stem for p in found)}")
        chosen.extend(h for h in hits if h not in chosen)
    return chosen


def build(src: Path) -> float:
    """Execute ``src`` as a notebook and write ``src.with_suffix('.ipynb')``; return the run time in seconds."""
    cells = parse_source(src.read_text(encoding="utf-8"), str(src))
    nb = to_notebook(cells)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(HERE)}},
        record_timing=False,
    )
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    _scrub(nb)
    nbformat.validate(nb)
    atomic_write(src.with_suffix(".ipynb"), nbformat.writes(nb) + "\n")
    return elapsed


def main(argv: list[str]) -> int:
    failed = 0
    for src in sources(argv):
        try:
            elapsed = build(src)
        except Exception as e:  # report and go on with the next notebook
            failed += 1
            print(f"FAILED {src.name}: {type(e).__name__}: {str(e)[-2000:]}", file=sys.stderr)
        else:
            print(f"built {src.with_suffix('.ipynb').name} in {elapsed:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
