"""The package's import graph: no module imports itself back through others, and the layers hold."""

from __future__ import annotations

import ast
from pathlib import Path

import molvae

ROOT = Path(molvae.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Module -> the molvae modules it imports anywhere in its code (top level or inside functions),
    with the packages whose ``__init__`` those imports run."""
    modules = {_module_name(p): p for p in ROOT.rglob("*.py")}

    def known(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                targets |= {f"{node.module}.{alias.name}" for alias in node.names}
        found = {m for t in targets if t.startswith("molvae") and (m := known(t)) and m != name}
        # Importing molvae.a.b first runs the __init__ of every package on the way (molvae.a), unless
        # the importer sits inside that package already (then it is initialised first).
        found |= {parent for m in found for parent in _parents(m) if not name.startswith(parent + ".")}
        graph[name] = found - {name}
    return graph


def _parents(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _reaches(graph: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            todo.extend(graph.get(node, ()))
    return False


def test_no_import_cycles():
    graph = _imports()
    cycles = sorted(f"{a} -> {b}" for a, targets in graph.items() for b in targets if _reaches(graph, b, a))
    assert not cycles, "import cycles: " + "; ".join(cycles)


def test_chemistry_has_no_torch_and_the_vae_core_no_chemistry():
    for path in ROOT.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if path.parent.name == "chem":
            assert "import torch" not in text, path
        if path.parent.name == "core":
            assert "rdkit" not in text and "molvae.chem" not in text, path
