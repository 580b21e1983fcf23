"""The package's module-level imports form no cycle (credentials/hookspecs/plugins had one).

Read from the source with ``ast``: imports inside functions (deliberately lazy) and under
``if TYPE_CHECKING:`` (annotations only) do not run at import time and are not edges. Edges to
the top-level ``pixcut`` package are left out: every submodule import runs it first anyway.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "core" / "pixcut"


def module_names() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        if "bundled" in path.relative_to(PACKAGE).parts:
            continue  # the GIMP/Krita plug-ins' own code, never imported by pixcut
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def runtime_imports(tree: ast.Module) -> set[str]:
    names: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.If):
                if "TYPE_CHECKING" not in ast.unparse(node.test):
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                visit(node.orelse)
                visit(node.finalbody)
                for handler in node.handlers:
                    visit(handler.body)
            elif isinstance(node, ast.ClassDef | ast.With):
                visit(node.body)

    visit(tree.body)
    return names


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, str] = {}

    def walk(node: str, path: list[str]) -> list[str] | None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := walk(nxt, [*path, nxt])):
                return cycle
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state and (cycle := walk(start, [start])):
            return cycle
    return None


def import_graph() -> dict[str, set[str]]:
    modules = module_names()
    return {
        name: {m for m in runtime_imports(ast.parse(path.read_text())) if m in modules and m not in (name, "pixcut")}
        for name, path in modules.items()
    }


def test_no_import_cycle_in_the_package() -> None:
    graph = import_graph()
    assert "pixcut.plugins" in graph["pixcut.credentials"]  # the lookup needs the manager...
    assert "pixcut.credentials" not in graph["pixcut.plugins"] | graph["pixcut.hookspecs"]  # ...and nothing back
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_the_cycle_finder_finds_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
