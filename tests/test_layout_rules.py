"""Rules about where things live in the repository."""

from __future__ import annotations

import ast
import re
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


PACKAGE = REPO / "ita_dashboard"
_THAI = re.compile(r"[\u0E00-\u0E7F]")
# Files (or folders, ending in "/") whose Thai f-strings are allowed, and why.
_THAI_FSTRING_ALLOWED = {
    "ita_dashboard/texts.py": "the texts themselves",
    "ita_dashboard/demo.py": "demo data, Thai like the real data it stands for",
    "ita_dashboard/posters.py": "the poster is an official Thai document",
    "ita_dashboard/reports/": "official Thai documents (reports, tables)",
    "ita_dashboard/thai/": "Thai formatting of dates and years, Thai by design",
    "ita_dashboard/services/status_sheet/columns.py": "the sheet's column headers, which the parser reads back",
}
# report_text.py builds regular expressions with f-strings; those alone are allowed there.
_REGEX_FILE = "ita_dashboard/importers/report_text.py"
_REGEX_MARKS = ("\\s", "(?:")


def test_no_thai_fstring_outside_texts():
    """Every text the user reads comes from texts.py (TH and EN), so no f-string under
    ita_dashboard/ has Thai letters (U+0E00-U+0E7F) in its literal parts, except in the files
    listed in ``_THAI_FSTRING_ALLOWED``. In report_text.py an f-string is allowed only when its
    literal text holds a regular-expression mark (``\\s`` or ``(?:``), which no message does."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        if any(rel == p or (p.endswith("/") and rel.startswith(p)) for p in _THAI_FSTRING_ALLOWED):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if not isinstance(node, ast.JoinedStr):
                continue
            literal = "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
            if not _THAI.search(literal):
                continue
            if rel == _REGEX_FILE and any(mark in literal for mark in _REGEX_MARKS):
                continue
            offenders.append((rel, node.lineno))
    assert not offenders, "Thai f-strings outside texts.py:\n" + "\n".join(f"{f}:{n}" for f, n in sorted(set(offenders)))
