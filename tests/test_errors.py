"""Errors and texts (issue 14): one ItaError base with a code and params, its text in texts.py in
Thai and English; only the edges (CLI, ui/) turn it into a message, and an unexpected exception
at the CLI is shown as an internal error, not dressed up as the user's mistake."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
import string
from pathlib import Path

import pytest

import ita_dashboard
from ita_dashboard import cli, texts
from ita_dashboard.errors import ItaError

PKG = Path(ita_dashboard.__file__).resolve().parent
THAI = re.compile(r"[\u0E00-\u0E7F]")


def _all_error_classes() -> list[type[ItaError]]:
    for mod in pkgutil.walk_packages([str(PKG)], prefix="ita_dashboard."):
        if mod.name.startswith("ita_dashboard.ui") or mod.name.endswith("__main__"):
            continue
        importlib.import_module(mod.name)
    found, todo = [], [ItaError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_error_code_has_a_thai_and_an_english_text():
    classes = _all_error_classes()
    names = {c.__name__ for c in classes}
    assert {"BackupError", "FileProblem", "NotASurvey", "PermissionDenied", "AuthError", "OrgError", "CliError",
            "DatabaseBusy", "SurveyImportError", "MeasureImportError", "StatusSheetError"} <= names
    checked = 0
    for cls in classes:
        for code in cls.codes:
            key = f"{cls.text_prefix}{code}"
            assert texts.TH.get(key), (cls.__name__, key)
            assert THAI.search(texts.TH[key]), (key, "the Thai text is not Thai")
            assert texts.EN.get(key), (cls.__name__, key, "no English text")
            assert _fields(texts.TH[key]) == _fields(texts.EN[key]), key
            checked += 1
    assert checked >= 20


def test_every_code_raised_is_declared_by_its_class():
    """A ``raise X(code="...")`` (BackupError: its first argument) names a code of X's ``codes``."""
    classes = {c.__name__: c for c in _all_error_classes()}
    raised = []
    for path in PKG.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute))):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
            cls = classes.get(name)
            if cls is None:
                continue
            codes = [k.value.value for k in node.keywords if k.arg == "code" and isinstance(k.value, ast.Constant)]
            if name == "BackupError" and node.args and isinstance(node.args[0], ast.Constant):
                codes.append(node.args[0].value)
            for code in codes:
                raised.append((name, code))
                assert code in cls.codes, f"{path.name}: {name}(code={code!r}) is not in {name}.codes"
    assert len(raised) >= 20


def test_message_follows_the_language(monkeypatch):
    from ita_dashboard.demo import DemoError

    exc = DemoError(code="demo_org_exists", name="เทศบาลตำบลนาอ้อ")
    assert str(exc) == exc.message() == "มีหน่วยงานชื่อ เทศบาลตำบลนาอ้อ อยู่แล้ว จึงโหลดข้อมูลตัวอย่างไม่ได้"
    assert exc.code == "demo_org_exists" and exc.params == {"name": "เทศบาลตำบลนาอ้อ"}
    monkeypatch.setenv("ITA_LANG", "en")
    assert exc.message().startswith("An organisation named เทศบาลตำบลนาอ้อ exists already")


def test_backup_error_keeps_its_english_cli_line_and_shows_thai_on_screen():
    from ita_dashboard.backup import BackupError

    exc = BackupError("exists", "file exists (use --force to overwrite): x.zip", path="x.zip")
    assert isinstance(exc, ItaError) and isinstance(exc, ValueError)
    assert str(exc) == "file exists (use --force to overwrite): x.zip"
    assert exc.message() == texts.t("backup_error_exists", path="x.zip") == "มีไฟล์ x.zip อยู่แล้ว"


def test_older_raise_sites_keep_their_sentence():
    from ita_dashboard.permissions import PermissionDenied
    from ita_dashboard.services.orgs import OrgError

    assert OrgError("มีหน่วยงานนี้แล้ว").message() == "มีหน่วยงานนี้แล้ว"
    exc = PermissionDenied("ไม่มีสิทธิ์")
    assert isinstance(exc, PermissionError) and isinstance(exc, ItaError) and exc.message() == "ไม่มีสิทธิ์"


@pytest.fixture
def cli_db(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.delenv("ITA_DEBUG", raising=False)
    monkeypatch.delenv("ITA_LANG", raising=False)


def _stderr_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_cli_shows_a_service_error_in_thai(cli_db, monkeypatch, capsys):
    from ita_dashboard import demo

    def refuse(session):
        raise demo.DemoError(code="demo_loaded")

    monkeypatch.setattr(demo, "load_demo", refuse)
    assert cli.main(["demo"]) == 1
    assert _stderr_line(capsys) == "error: ข้อมูลตัวอย่างถูกโหลดไว้แล้ว"


def test_cli_does_not_dress_up_an_unexpected_value_error(cli_db, monkeypatch, capsys):
    from ita_dashboard import demo

    def bug(session):
        raise ValueError("invalid literal for int() with base 10: 'x'")

    monkeypatch.setattr(demo, "load_demo", bug)
    assert cli.main(["demo"]) == 1  # still the documented failure code, one line, no traceback
    line = _stderr_line(capsys)
    assert line == "error: internal error: ValueError: invalid literal for int() with base 10: 'x'"


def test_nothing_outside_ui_imports_ui():
    offenders = []
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG)
        if rel.parts[0] == "ui":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                target = "." * node.level + (node.module or "")
                if re.match(r"^(ita_dashboard\.ui|\.+ui)(\.|$)", target) or (
                        node.level and not node.module and any(a.name == "ui" for a in node.names)):
                    offenders.append(f"{rel}: from {target} import ...")
            elif isinstance(node, ast.Import):
                offenders += [f"{rel}: import {a.name}" for a in node.names if a.name.startswith("ita_dashboard.ui")]
    assert not offenders, offenders


def test_ui_holds_no_inline_thai():
    """Screen texts live in texts.py; ui/ code holds keys. Docstrings and comments may quote Thai."""
    found = []
    for path in sorted((PKG / "ui").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                      if isinstance(n, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                      and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str) and THAI.search(node.value)
                    and id(node) not in docstrings):
                found.append(f"{path.name}:{node.lineno}: {node.value[:40]}")
    assert not found, found


def test_no_error_is_raised_with_a_thai_sentence():
    """Services raise codes; the Thai (and English) text lives in texts.py. A call to an ItaError
    class with Thai in its arguments writes the user's text in the wrong place."""
    names = {c.__name__ for c in _all_error_classes()}
    found = []
    for path in PKG.rglob("*.py"):
        if "ui" in path.relative_to(PKG).parts:
            continue
        source = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
                name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
                if name in names and any(THAI.search(ast.get_source_segment(source, a) or "") for a in node.args):
                    found.append(f"{path.relative_to(PKG)}:{node.lineno} {name}")
    assert found == []
