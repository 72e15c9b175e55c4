"""Build the API reference of autograd_core, nn and viz from their docstrings with pdoc, and check it.

Usage::

    .venv/bin/python .ci/api_docs.py [OUTPUT_DIR]      # default: out/api (ignored by git)

Every public module is documented (a dotted name with no part starting with
``_``), also those a package's ``__all__`` leaves out: pdoc alone follows
``__all__`` for submodules, which would drop ``autograd_core.functional`` and
most others.  The build fails (exit status 1, one line per problem) when pdoc
warns (a module that does not import, an ``__all__`` entry that does not
resolve, an annotation it cannot read) or when a reST role in a rendered
docstring (``:func:`x```, ``:class:`x```, ``:mod:`x```, ``:meth:`x```...)
names nothing that exists, so a rename that leaves a docstring behind is
caught.  ``tests/test_docs.py`` runs it on every test run.
"""

from __future__ import annotations

import builtins
import importlib
import pkgutil
import re
import sys
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pdoc.doc
import pdoc.render

PACKAGES = ("autograd_core", "nn", "viz")
# The reST roles pdoc turns into code references.
ROLE = re.compile(r"(?::py)?:(mod|func|data|const|class|meth|attr|exc|obj):`([^`]+)`")
_MISSING = object()


def public_modules(packages: Sequence[str] = PACKAGES) -> list[str]:
    """Every public module of ``packages``, packages first, in a stable order."""
    names: list[str] = []
    for pkg in packages:
        module = importlib.import_module(pkg)
        names.append(pkg)
        found = pkgutil.walk_packages(getattr(module, "__path__", []), prefix=f"{pkg}.")
        names.extend(sorted(m.name for m in found if not any(p.startswith("_") for p in m.name.split("."))))
    return names


def _walk(doc: pdoc.doc.Doc[Any]) -> Iterator[pdoc.doc.Doc[Any]]:
    stack: list[pdoc.doc.Doc[Any]] = [doc]
    while stack:
        d = stack.pop()
        yield d
        if isinstance(d, (pdoc.doc.Module, pdoc.doc.Class)):
            stack.extend(reversed(d.own_members))


def _lookup(scope: Any, dotted: str) -> Any:
    obj = scope
    for part in dotted.split("."):
        if isinstance(obj, ModuleType):
            obj = vars(obj).get(part, _MISSING)
        elif isinstance(obj, type) and part not in dir(obj) and _declared(obj, part):
            return True  # an instance attribute the class declares (a dataclass field, a slot)
        else:
            obj = getattr(obj, part, _MISSING)
        if obj is _MISSING:
            return _MISSING
    return obj


def _declared(cls: type, name: str) -> bool:
    for c in cls.__mro__:
        if name in vars(c).get("__annotations__", {}) or name in vars(c).get("__slots__", ()):
            return True
    return False


def _absolute(dotted: str) -> Any:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            module = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        rest = ".".join(parts[cut:])
        return _lookup(module, rest) if rest else module
    return _MISSING


def resolves(target: str, modulename: str, qualname: str) -> bool:
    """Whether the role target ``target``, written in the docstring of ``modulename.qualname``, names something.

    Looked up as Sphinx would: in the enclosing classes, then the module's
    namespace (its own and imported names), then as an absolute dotted path,
    then among the builtins.
    """
    name = target.strip().lstrip("~.").removesuffix("()")
    module = sys.modules.get(modulename) or importlib.import_module(modulename)
    scopes: list[Any] = [module]
    # Every enclosing scope, the documented object itself included: a class's
    # docstring names its own methods.
    for part in qualname.split(".") if qualname else []:
        inner = _lookup(scopes[-1], part)
        if inner is _MISSING:
            break
        scopes.append(inner)
    if any(_lookup(scope, name) is not _MISSING for scope in reversed(scopes)):
        return True
    return _absolute(name) is not _MISSING or _lookup(builtins, name) is not _MISSING


def broken_references(modules: dict[str, pdoc.doc.Module]) -> list[str]:
    """One message per reST role in a documented docstring that does not resolve."""
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    for module in modules.values():
        for d in _walk(module):
            where = d.taken_from if not isinstance(d, pdoc.doc.Module) else (d.modulename, "")
            if where in seen or not d.docstring:
                continue
            seen.add(where)
            for kind, target in ROLE.findall(d.docstring):
                if not resolves(target, *where):
                    name = ".".join(p for p in where if p)
                    problems.append(f"{name}: :{kind}:`{target}` does not resolve; fix the name or drop the role")
    return problems


def build(output: Path, names: Sequence[str]) -> list[str]:
    """Write the HTML reference of the modules ``names`` into ``output``; return the problems found (none: good)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        modules = {name: pdoc.doc.Module.from_name(name) for name in names}
        for module in modules.values():
            html = pdoc.render.html_module(module, modules)
            page = output / f"{module.fullname.replace('.', '/')}.html"
            page.parent.mkdir(parents=True, exist_ok=True)
            page.write_text(html, encoding="utf-8")
        (output / "index.html").write_text(pdoc.render.html_index(modules), encoding="utf-8")
        (output / "search.js").write_text(pdoc.render.search_index(modules), encoding="utf-8")
        problems = broken_references(modules)
    reported = [w for w in caught if not _annotation_behind_foreign_wrapper(str(w.message))]
    return [f"pdoc warning: {w.category.__name__}: {w.message}" for w in reported] + problems


def _annotation_behind_foreign_wrapper(message: str) -> bool:
    """Whether pdoc failed to read an annotation only because another library's decorator wraps the function.

    A wrapper such as hypothesis's ``@st.composite`` carries the globals of the
    library's module, in which pdoc evaluates the annotation strings, so names
    of the defining module are missing there.  The annotation itself is fine
    (mypy reads it), so this is pdoc's limit, not a documentation error.
    """
    m = re.match(r"Error parsing type annotation .* for (\S+)\. Import of \S+ failed", message, re.DOTALL)
    if not m:
        return False
    obj = _absolute(m.group(1))
    home = sys.modules.get(getattr(obj, "__module__", "") or "")
    globals_ = getattr(obj, "__globals__", None)
    return home is not None and globals_ is not None and globals_ is not vars(home)


def main(argv: list[str]) -> int:
    if len(argv) > 1:
        print("usage: api_docs.py [OUTPUT_DIR]", file=sys.stderr)
        return 2
    output = Path(argv[0] if argv else "out/api")
    output.mkdir(parents=True, exist_ok=True)
    problems = build(output, public_modules())
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"api_docs: {len(problems)} problem(s); the reference in {output} is incomplete", file=sys.stderr)
        return 1
    print(f"api_docs: wrote {output / 'index.html'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
