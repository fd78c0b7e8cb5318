"""Rules about where things live in the repository."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TESTS = REPO / "tests"


def _imported_modules(path: Path) -> list[str]:
    """Every module ``path`` imports, at any depth (imports inside functions count too)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            names.append(base)
            if not base or node.level:  # "from . import test_x"
                names += [f"{base}.{alias.name}".lstrip(".") for alias in node.names]
    return names


def test_no_test_module_imports_another():
    """Shared helpers live in helper modules (tests/helpers.py, tests/e2e/app_utils.py, ...), so
    running or renaming one test file never changes another."""
    offenders = []
    for path in sorted(TESTS.rglob("test_*.py")):
        for name in _imported_modules(path):
            if name.rsplit(".", 1)[-1].startswith("test_"):
                offenders.append(f"{path.relative_to(REPO)} imports {name}")
    assert not offenders, "\n".join(offenders)


def test_no_pages_folder_next_to_app():
    """A ``pages/`` folder beside app.py switches Streamlit into its legacy pages-directory mode, in
    which an address such as /admin runs that page file without app.py's login gate."""
    assert not (REPO / "pages").exists()
    assert sorted(p.name for p in (REPO / "app_pages").glob("*.py"))
