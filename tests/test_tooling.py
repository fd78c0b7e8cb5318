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
