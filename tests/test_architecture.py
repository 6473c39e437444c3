"""The import graph: no cycle among the package's modules (the layers themselves are
import-linter contracts in pyproject.toml, run by `make lint`)."""

from __future__ import annotations

import sys
from pathlib import Path

import grimp


def import_cycles(package: str) -> list[list[str]]:
    """Every strongly connected group of modules (Tarjan), ignoring `TYPE_CHECKING` imports
    (the back-references between models)."""
    graph = grimp.build_graph(package, exclude_type_checking_imports=True)
    modules = sorted(graph.modules)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in modules:
        if module not in index:
            visit(module)
    return cycles


def test_no_import_cycle() -> None:
    assert import_cycles("instagram_service") == []


def test_the_check_finds_a_cycle(tmp_path: Path) -> None:
    """A check that cannot fail proves nothing: a two-module circle is found."""
    root = tmp_path / "circle"
    root.mkdir()
    (root / "__init__.py").write_text("")
    (root / "a.py").write_text("from circle import b\n")
    (root / "b.py").write_text("from circle import a\n")
    (root / "c.py").write_text("from circle import a\n")
    sys.path.insert(0, str(tmp_path))
    try:
        assert import_cycles("circle") == [["circle.a", "circle.b"]]
    finally:
        sys.path.remove(str(tmp_path))
