"""``render_svg``: write a computation graph as ``.dot`` and ``.svg`` files.

The DOT source is always written (atomically); the SVG needs Graphviz's
``dot`` binary, run as a subprocess with an argument list (no shell); it
reads the DOT source on standard input and writes to ``-o`` joined to an
absolute path, so no file name (``-V.svg``, ``-ofoo.svg``) can become an
option.  When
``dot`` is missing, :class:`GraphvizNotFoundError` says how to install it and
gives the exact command that turns the ``.dot`` file already written into SVG.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import graphviz

from autograd_core import Value
from autograd_core.atomic import atomic_path, atomic_write, check_name
from autograd_core.messages import shorten, show_name, show_value

from .dot import draw_dot

__all__ = ["render_svg", "GraphvizNotFoundError"]


class GraphvizNotFoundError(RuntimeError):
    """Graphviz's ``dot`` binary is not on PATH.

    Attributes:
        dot_path: the ``.dot`` file that was written anyway.
        command: the command that renders it once Graphviz is installed.
    """

    def __init__(self, dot_path: Path, svg_path: Path) -> None:
        self.dot_path = dot_path
        # Names that start with "-" would be read by dot as options: "./" keeps them names.
        self.command = shlex.join(["dot", "-Tsvg", _not_an_option(dot_path), "-o", _not_an_option(svg_path)])
        super().__init__(
            "Graphviz's 'dot' program was not found on PATH, so no SVG was written "
            f"(the DOT source is in {show_name(dot_path)}).\n"
            "Install Graphviz:\n"
            "  Debian/Ubuntu: sudo apt-get install graphviz\n"
            "  macOS:         brew install graphviz\n"
            "  conda:         conda install -c conda-forge graphviz\n"
            f"then run: {self.command}"
        )


def render_svg(
    root_or_digraph: Value | graphviz.Digraph, path: str | os.PathLike[str], *, timeout: float = 60.0, **options: Any
) -> Path:
    """Write the graph as SVG at ``path`` and its DOT source beside it (same name, ``.dot``).

    Args:
        root_or_digraph: a Value (drawn with :func:`viz.draw_dot` and ``options``)
            or a digraph that :func:`viz.draw_dot` returned.
        path: the SVG file to write, ending in ``.svg``; its directory must exist.
        timeout: seconds to allow ``dot``.
        **options: keyword options of :func:`viz.draw_dot` (only with a Value).

    Returns:
        The path of the SVG file.

    Raises:
        GraphvizNotFoundError: if ``dot`` is not on PATH (the ``.dot`` file is written).
        RuntimeError: if ``dot`` fails or times out, with its message.
        TypeError: for an object that is neither a Value nor a digraph, or
            options given with a digraph.
        ValueError: if ``path`` does not end in ``.svg``, or its name is longer than the directory allows.
        FileNotFoundError: if the directory of ``path`` does not exist.
        IsADirectoryError: if ``path``, or the ``.dot`` path beside it, is a
            directory (checked before anything is written).
    """
    if isinstance(root_or_digraph, Value):
        graph = draw_dot(root_or_digraph, **options)
    elif isinstance(root_or_digraph, graphviz.Digraph):
        if options:
            raise TypeError(f"draw_dot options ({', '.join(sorted(options))}) only apply to a Value, not a digraph")
        graph = root_or_digraph
    else:
        raise TypeError(f"render_svg() needs a Value or a graphviz.Digraph, got {type(root_or_digraph).__name__}")
    svg_path = Path(path)
    if svg_path.suffix.lower() != ".svg":
        got = show_value(svg_path.suffix) if svg_path.suffix else "no suffix"
        raise ValueError(
            f"render_svg() writes SVG: the path must end in .svg, got {got} in {show_name(svg_path)} "
            "(for the DOT source alone, write draw_dot(...).source)"
        )
    dot_path = svg_path.with_suffix(".dot")
    for p in (svg_path, dot_path):
        check_name(p)  # a missing directory or an overlong name, before anything is written
        if p.is_dir():
            raise IsADirectoryError(f"{show_name(p)} is a directory; choose another file name for the SVG")
    atomic_write(dot_path, graph.source)
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizNotFoundError(dot_path, svg_path)
    with atomic_path(svg_path) as tmp:
        # No file name is ever an argument dot could read as an option: the DOT source
        # goes in on standard input and the output is "-o" glued to an absolute path.
        try:
            proc = subprocess.run(
                [exe, "-Tsvg", f"-o{os.path.abspath(tmp)}"],
                input=graph.source,
                capture_output=True,
                text=True,
                encoding="utf-8",
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise RuntimeError(
                f"dot did not finish within {timeout:g} s on {show_name(dot_path)}; draw a smaller graph"
            ) from None
        if proc.returncode != 0:
            raise RuntimeError(
                shorten(f"dot failed with status {proc.returncode} on {show_name(dot_path)}: {proc.stderr.strip()}")
            )
    return svg_path


def _not_an_option(path: Path) -> str:
    """``path`` as a command-line word that no program reads as an option."""
    text = str(path)
    return f".{os.sep}{text}" if text.startswith("-") else text
