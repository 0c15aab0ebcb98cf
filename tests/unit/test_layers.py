"""The import rules of `sim/`, read from the source with `ast`.

Every module's imports are collected — at the top and inside functions alike, since an
import tucked into a function is still an arrow between modules — and checked against
four rules:

1. no import cycle between modules of `sim`;
2. no upward import: a module imports only from its own layer or the layers below it
   (`LAYERS`, bottom to top); inside one package anything goes, cycles aside;
3. no private name (`_x`) imported from another module (a private module of a package,
   such as ``cli/_common.py``, may be imported within that package);
4. no re-export shim: no module whose only content is imports of names defined elsewhere
   (a package's `__init__` that declares `__all__` is its curated public face, not a shim).

`PENDING` would list, one by one, violations allowed while a move is under way; each must
disappear, and the test says so when one does. It is empty.

Imports under ``if TYPE_CHECKING:`` are annotations only: they run no code and so can
form no cycle, and they are left out of rules 1 and 2 (rules 3 and 4 still apply).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SIM = Path(__file__).resolve().parents[2] / "sim"

LAYERS: list[set[str]] = [
    {"types", "text"},
    {"config", "metrics", "analytic"},
    {"model"},
    {"records"},
    {"runner"},
    {"report"},
    {"results"},
    {"calibrate"},
    {"planning"},
    {"experiment"},
    {"api"},
    {"cli", "app", "__init__", "__main__"},
]
"""Layers, bottom to top (the README's "which layer may import which"): the first part of a
module's name after `sim.` places it. A result saves itself through the report's output
folders, so `results` stands above `runner` and `report`."""

RANK = {part: rank for rank, parts in enumerate(LAYERS) for part in parts}

PENDING: set[str] = set()
"""Known violations being removed, one entry each (``"cycle: a ↔ b"``, ``"upward: a imports b"``,
``"private: a imports _x from b"``); none today."""


def _check(found: dict[str, str], kind: str) -> None:
    """Fail on any violation of `kind` not in `PENDING`, and on a pending one now gone."""
    pending = {p for p in PENDING if p.startswith(f"{kind}: ")}
    new = sorted(detail for key, detail in found.items() if key not in pending)
    assert not new, "\n".join(new)
    gone = sorted(pending - set(found))
    assert not gone, "fixed, now remove from PENDING:\n" + "\n".join(gone)


def module_name(path: Path) -> str:
    """``sim/config/loader.py`` → ``sim.config.loader``; a package's ``__init__`` → the package."""
    parts = path.relative_to(SIM.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES: dict[str, Path] = {module_name(p): p for p in sorted(SIM.rglob("*.py"))}


def layer(module: str) -> str:
    """The layer key of a module: ``sim.config.loader`` → ``config``; ``sim`` → ``__init__``."""
    parts = module.split(".")
    if len(parts) == 1:
        return "__init__"
    return parts[1]


def package(module: str) -> str:
    """The package a module belongs to (a package belongs to itself)."""
    if MODULES[module].name == "__init__.py":
        return module
    return module.rpartition(".")[0]


@dataclass(frozen=True)
class Import:
    """One imported name (or module) of a module of `sim`."""

    importer: str
    target: str
    """The `sim` module the import runs (the module itself when a submodule is imported)."""
    name: str | None
    """The name taken from it (None for ``import x``)."""
    line: int
    typing_only: bool


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _type_checking_nodes(tree: ast.Module) -> set[int]:
    """Ids of the nodes inside ``if TYPE_CHECKING:`` blocks."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for stmt in node.body:
                inside.update(id(n) for n in ast.walk(stmt))
    return inside


def _resolve(importer: str, node: ast.ImportFrom) -> str:
    """The absolute module name of a ``from ... import`` (relative ones included)."""
    if not node.level:
        return node.module or ""
    base = package(importer).split(".")
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports(module: str) -> Iterator[Import]:
    """Every import of a `sim` module by `module`, wherever in the file it stands."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    typing_only = _type_checking_nodes(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "sim" and alias.name in MODULES:
                    yield Import(module, alias.name, None, node.lineno, id(node) in typing_only)
        elif isinstance(node, ast.ImportFrom):
            source = _resolve(module, node)
            if source.split(".")[0] != "sim":
                continue
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                if sub in MODULES:  # `from sim.x import y` with y a module
                    yield Import(module, sub, alias.name, node.lineno, id(node) in typing_only)
                elif source in MODULES:
                    yield Import(module, source, alias.name, node.lineno, id(node) in typing_only)


ALL_IMPORTS = [imp for m in MODULES for imp in imports(m)]


def test_the_walk_sees_the_modules_and_their_imports() -> None:
    """The walk finds the packages of every layer and imports made inside functions."""
    assert {"sim.config.loader", "sim.model.processes", "sim.runner.simulate", "sim.api"} <= set(MODULES)
    assert {layer(m) for m in MODULES} <= set(RANK), "a module of sim/ is in no layer of LAYERS"
    assert any(
        imp.importer == "sim.runner.simulate" and imp.target == "sim.model.build" for imp in ALL_IMPORTS
    )


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_cycle_finder_finds_a_cycle() -> None:
    """The cycle finder itself: a → b → c → a is one cycle; d → a is not part of it."""
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle() -> None:
    """No module of sim/ reaches itself through its imports (at run time)."""
    edges: dict[str, set[str]] = {}
    for imp in ALL_IMPORTS:
        if not imp.typing_only and imp.target != imp.importer:
            edges.setdefault(imp.importer, set()).add(imp.target)
    found = {f"cycle: {' ↔ '.join(c)}": " ↔ ".join(c) for c in _cycles(edges)}
    _check(found, "cycle")


def test_no_upward_import() -> None:
    """A module imports only from its own layer or below (see `LAYERS`)."""
    found = {
        f"upward: {imp.importer} imports {imp.target}": (
            f"{imp.importer}:{imp.line} imports {imp.target} ({layer(imp.importer)} is below {layer(imp.target)})"
        )
        for imp in ALL_IMPORTS
        if not imp.typing_only and RANK[layer(imp.target)] > RANK[layer(imp.importer)]
    }
    _check(found, "upward")


def test_no_private_name_imported_from_another_module() -> None:
    """``from sim.x import _y`` only for a private module `_y` of the importer's own package."""
    found: dict[str, str] = {}
    for imp in ALL_IMPORTS:
        if imp.name is None or not imp.name.startswith("_") or imp.name.startswith("__"):
            continue
        own_module = imp.target.endswith(f".{imp.name}") and package(imp.importer) == package(imp.target)
        if imp.target != imp.importer and not own_module:
            key = f"private: {imp.importer} imports {imp.name} from {imp.target}"
            found[key] = f"{imp.importer}:{imp.line} imports {imp.name} from {imp.target}"
    _check(found, "private")


def _is_shim(tree: ast.Module, is_package: bool = False) -> bool:
    """Only a docstring, imports and an `__all__`: nothing defined or done here.

    A package's `__init__` that declares `__all__` is a curated public face, not a shim.
    """
    body = list(tree.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    has_import = False
    for stmt in body:
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
            continue
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            has_import = True
            continue
        targets = stmt.targets if isinstance(stmt, ast.Assign) else []
        if len(targets) == 1 and isinstance(targets[0], ast.Name) and targets[0].id == "__all__":
            if is_package:
                return False
            continue
        return False
    return has_import


def test_shim_finder() -> None:
    """A module of imports and `__all__` is a shim; one that defines or does anything is not."""
    assert _is_shim(ast.parse('"""doc"""\nfrom a import b\n__all__ = ["b"]\n'))
    assert not _is_shim(ast.parse('"""doc"""\nfrom a import b\n\ndef f() -> None: ...\n'))
    assert not _is_shim(ast.parse('"""A package."""\n'))
    assert _is_shim(ast.parse("from a import b\n"), is_package=True)
    assert not _is_shim(ast.parse('from a import b\n__all__ = ["b"]\n'), is_package=True)


def test_no_re_export_shim() -> None:
    """No module of sim/ only re-exports names defined elsewhere: callers import from the definer."""
    shims = [
        m
        for m, path in MODULES.items()
        if _is_shim(ast.parse(path.read_text(encoding="utf-8")), is_package=path.name == "__init__.py")
    ]
    assert not shims, "\n".join(shims)
