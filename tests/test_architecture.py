"""The layering the code keeps (DEVELOPERS.md, "Architecture"), read from the source with `ast`.

Every import counts, top-level or inside a function: a late import that dodges a cycle is still a cycle here.
`from package import name` is an edge to package.name when that is a module, else to the package.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("i18n", "kpis", "store", "report", "ui")
FORBIDDEN = {  # importer package -> packages (ours or third-party) it must never import
    "store": ("kpis", "report", "ui", "streamlit"),
    "kpis": ("streamlit", "ui", "report"),
    "report": ("ui", "streamlit"),
    "i18n": ("kpis", "store", "report", "ui", "streamlit"),  # the languages: read by all, reading none of ours
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}


def imports(module: str) -> list[tuple[str, int]]:
    """(imported module, line) for every import statement of a module of ours, resolved as Python resolves it."""
    path = MODULES[module]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the module's own package
                package = module.split(".")[: -node.level + (path.name == "__init__.py")] or [module]
                base = ".".join(package + ([node.module] if node.module else []))
            else:
                base = node.module
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.append((full if full in MODULES else base, node.lineno))
    return found


def graph() -> dict[str, set[str]]:
    return {m: {target for target, _ in imports(m) if target in MODULES and target != m} for m in MODULES}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_modules_are_found():
    assert {"kpis.evaluate", "kpis.database", "store.schema", "report.data", "ui.db"} <= set(MODULES)


def test_no_import_cycle():
    assert cycles(graph()) == []


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layering(package):
    broken = [f"{MODULES[m].relative_to(ROOT)}:{line} imports {target}"
              for m in MODULES if m.split(".")[0] == package
              for target, line in imports(m) if target.split(".")[0] in FORBIDDEN[package]]
    assert broken == []


@pytest.mark.parametrize(("edges", "expected"), [
    ({"a": {"b"}, "b": set()}, []),
    ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
])
def test_cycle_finder(edges, expected):
    """The finder itself finds what it must (else an empty answer would prove nothing)."""
    assert cycles(edges) == expected


def test_a_late_import_counts(tmp_path, monkeypatch):
    """An import inside a function is an edge like any other."""
    (tmp_path / "kpis").mkdir()
    (tmp_path / "kpis" / "a.py").write_text("def f():\n    from kpis.b import g\n")
    (tmp_path / "kpis" / "b.py").write_text("from kpis import a\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    monkeypatch.setattr(f"{__name__}.MODULES", {"kpis.a": tmp_path / "kpis/a.py", "kpis.b": tmp_path / "kpis/b.py"})
    assert cycles(graph()) == [["kpis.a", "kpis.b"]]
