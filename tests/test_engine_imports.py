"""The import graph of autograd_core runs one way: no circle (lazy imports included), no private names shared."""

from __future__ import annotations

import ast
from pathlib import Path

import autograd_core

PKG = Path(autograd_core.__file__).parent


def _imports() -> dict[str, set[str]]:
    """Per module of the package, the package modules it imports anywhere (function bodies included)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(PKG.glob("*.py")):
        mod = path.stem
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    deps.add(node.module.split(".")[0])
                else:
                    deps.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("autograd_core."):
                deps.add(node.module.split(".")[1])
        graph[mod] = deps - {mod}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        path.append(m)
        for d in sorted(graph.get(m, ())):
            if state.get(d) == 1:
                return path[path.index(d) :] + [d]
            if d not in state:
                found = visit(d)
                if found:
                    return found
        state[m] = 2
        path.pop()
        return None

    for m in sorted(graph):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


def test_package_imports_have_no_cycle_lazy_imports_included() -> None:
    graph = _imports()
    assert "value" in graph and "engine" in graph
    assert _cycle(graph) is None, f"import cycle: {' -> '.join(_cycle(graph) or [])}"


def test_engine_layers_run_primitives_engine_value_ops() -> None:
    graph = _imports()
    assert graph["primitives"] == set()
    assert graph["engine"] <= {"primitives", "_state"}
    assert "engine" in graph["value"] and "primitives" in graph["value"]
    assert "value" in graph["ops"]


def test_cycle_finder_reports_a_lazy_circle() -> None:
    # The checker itself: a circle closed by a lazy import must be found.
    assert _cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_module_imports_a_private_name_of_another_module() -> None:
    offenders = []
    for path in sorted(PKG.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                offenders += [f"{path.name}: {a.name}" for a in node.names if a.name.startswith("_")]
    assert offenders == []
