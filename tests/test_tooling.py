"""The house rules that keep the layout as docs/architecture.md draws it, run with the suite:
ruff's error checks and import-linter's contracts (both configured in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
BIN = Path(sys.executable).parent


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=300)


def test_ruff_finds_nothing():
    done = _run(str(BIN / "ruff"), "check", "--no-cache", "--output-format", "concise", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_import_contracts_hold():
    done = _run(str(BIN / "lint-imports"), "--no-cache")
    assert done.returncode == 0, done.stdout + done.stderr


def _top_level_modules() -> set[str]:
    pkg = REPO / "ita_dashboard"
    names = {p.stem for p in pkg.glob("*.py") if p.stem != "__init__"}
    names |= {p.parent.name for p in pkg.glob("*/__init__.py")}
    return {f"ita_dashboard.{n}" for n in names}


def _contract(contract_id: str) -> dict:
    return next(c for c in PYPROJECT["tool"]["importlinter"]["contracts"] if c["id"] == contract_id)


def test_the_no_ui_contracts_name_every_module_outside_ui():
    """A forbidden contract only checks the modules it lists: a new module must be added, or the
    rule silently stops covering it."""
    outside_ui = _top_level_modules() - {"ita_dashboard.ui"}
    for contract_id in ("ui-only-from-pages", "streamlit-only-in-ui"):
        assert set(_contract(contract_id)["source_modules"]) == outside_ui, contract_id


def test_bare_pytest_finds_the_package(tmp_path):
    """`pythonpath` in pyproject.toml: a bare `pytest` (no `python -m`) imports the package and
    the shared test helpers."""
    probe = REPO / "tests" / "test_docs.py"
    done = subprocess.run([str(BIN / "pytest"), "-q", "--collect-only", "-p", "no:cacheprovider", str(probe)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_package_layers_name_every_module():
    """The layers contract only orders the modules it names: each top-level module has a layer."""
    layers = _contract("package-layers")["layers"]
    named = {f"ita_dashboard.{m.strip()}" for layer in layers for m in layer.split(":")}
    assert named == _top_level_modules()


def _import_circles(graph) -> list[list[str]]:
    """Groups of modules that import each other, directly or round a loop (strongly connected
    components of the import graph with more than one module), each sorted."""
    modules = sorted(graph.modules)
    known = set(modules)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m) & known) for m in modules}
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    for root in modules:  # Tarjan's algorithm, iterative (no recursion limit to meet)
        if root in order:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                order[node] = low[node] = len(order)
                stack.append(node)
                on_stack.add(node)
            if i < len(edges[node]):
                work.append((node, i + 1))
                nxt = edges[node][i]
                if nxt not in order:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], order[nxt])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == order[node]:
                group = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    group.append(m)
                    if m == node:
                        break
                if len(group) > 1:
                    circles.append(sorted(group))
    return circles


def test_no_module_imports_itself_back():
    """No import circles, not even through an import inside a function: a module's dependencies
    stand below it (docs/architecture.md), and a circle means a name lives in the wrong place."""
    import grimp

    graph = grimp.build_graph("ita_dashboard")
    assert _import_circles(graph) == []


def test_the_circle_finder_finds_a_circle():
    """The check above can fail: a small graph with a loop of three and a separate pair."""
    import grimp

    graph = grimp.ImportGraph()
    for a, b in [("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.c", "p.d"), ("p.e", "p.f"), ("p.f", "p.e")]:
        graph.add_import(importer=a, imported=b)
    assert sorted(_import_circles(graph)) == [["p.a", "p.b", "p.c"], ["p.e", "p.f"]]
