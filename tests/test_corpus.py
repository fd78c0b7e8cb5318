"""The importers' corpus: every real input shape through the CLI, as an admin's script runs it.

Each ``tests/data/corpus/**/NAME.expected.json`` names one input file and what must come of it
(see ``tests/data/corpus/README.md``). A refusal must be one line on stderr, a non-zero exit and an
unchanged database; an accepted file must give the expected counts per department or measures.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "data" / "corpus"
ORG = "เทศบาลตำบลคลังตัวอย่าง"
DEFAULT_DEPARTMENTS = (
    "สำนักปลัดเทศบาล", "กองคลัง", "กองช่าง", "กองการศึกษา", "กองสาธารณสุขและสิ่งแวดล้อม", "กองสวัสดิการสังคม",
)


def _cases() -> list[Path]:
    return sorted(CORPUS.rglob("*.expected.json"))


def run_cli(db_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": db_url}
    env.pop("ITA_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "ita_dashboard", *args], capture_output=True, text=True,
                          env=env, cwd=REPO, timeout=300)


def fingerprint(db_path: Path) -> list[str]:
    """Every row of every table, as SQL text: equal before and after means nothing was written."""
    con = sqlite3.connect(db_path)
    try:
        return list(con.iterdump())
    finally:
        con.close()


def _kind(case: Path, expected: dict[str, Any]) -> str:
    return expected.get("kind") or ("plan" if "plans" in case.parts else "survey")


def _import_args(kind: str, path: Path, expected: dict[str, Any]) -> list[str]:
    year = ["--year", str(expected["year"])] if expected.get("year") else []
    if kind == "survey":
        return ["import-survey", str(path), "--instrument", expected["instrument"], "--json", *year]
    return ["import-measures", str(path), "--json", *year]


def _check_refused(p: subprocess.CompletedProcess, expected: dict[str, Any], before: list[str], db_path: Path) -> None:
    assert p.returncode != 0, f"accepted a file that must be refused: {p.stdout}"
    lines = [line for line in p.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in p.stderr, p.stderr
    assert expected.get("stderr_contains", "") in lines[0], lines[0]
    assert fingerprint(db_path) == before, "a refused file changed the database"


def _check_survey(db_url: str, result: dict[str, Any], expected: dict[str, Any]) -> None:
    for key, value in expected.get("counts", {}).items():
        assert result.get(key) == value, (key, result)
    if "unmatched" in expected:
        assert result.get("unmatched_departments") == expected["unmatched"], result
    if "responses" in expected or "by_department" in expected:
        args = ["summary", "--json", "--org", ORG] + (["--year", str(expected["year"])] if expected.get("year") else [])
        p = run_cli(db_url, *args)
        assert p.returncode == 0, p.stderr
        survey = json.loads(p.stdout)["surveys"][expected["instrument"]]
        if "responses" in expected:
            assert survey["responses"] == expected["responses"], survey
        for name, n in expected.get("by_department", {}).items():
            got = survey["by_department"].get(name, {}).get("responses", 0)
            assert got == n, (name, got, n, survey["by_department"])


def _check_plan(db_url: str, result: dict[str, Any], expected: dict[str, Any]) -> None:
    for key, value in expected.get("counts", {}).items():
        assert result.get(key) == value, (key, result)
    skipped = result.get("skipped", [])
    for want in expected.get("skipped", []):
        assert any(s.get("row") == want["row"] and want.get("reason_contains", "") in s.get("reason", "")
                   for s in skipped), (want, skipped)
    args = ["list-measures", "--json", "--org", ORG] + (["--year", str(expected["year"])] if expected.get("year") else [])
    p = run_cli(db_url, *args)
    assert p.returncode == 0, p.stderr
    measures = json.loads(p.stdout)
    if "measures" in expected:
        assert len(measures) == expected["measures"], [m["title"][:40] for m in measures]
    by_number = {m["number"]: m for m in measures}
    for check in expected.get("measure_checks", []):
        m = by_number.get(check["number"])
        assert m is not None, (check["number"], sorted(by_number))
        if "title" in check:
            assert m["title"] == check["title"], m["title"]
        if "title_startswith" in check:
            assert m["title"].startswith(check["title_startswith"]), m["title"]
        if "title_not_contains" in check:
            for text in check["title_not_contains"]:
                assert text not in m["title"], (text, m["title"])
        if "section" in check:
            assert m["section"] == check["section"], (m["number"], m["section"], m["section_title"])
        if "departments" in check:
            assert sorted(m["departments"]) == sorted(check["departments"]), (m["number"], m["departments"], m["owner_text"])
        for key in ("owner_all", "start", "end", "unresolved_owners"):
            if key in check:
                assert m[key] == check[key], (m["number"], key, m[key])


@pytest.fixture(scope="module")
def empty_org_db(tmp_path_factory):
    """A database file holding only the organisation, made through the CLI once per (kind,
    departments) and copied for each case: ``add-org`` is the same for most cases."""
    made: dict[tuple[str, tuple[str, ...]], Path] = {}

    def copy_to(target: Path, *, kind: str, departments: tuple[str, ...]) -> None:
        key = (kind, departments)
        if key not in made:
            path = tmp_path_factory.mktemp("corpus-org") / "org.db"
            p = run_cli(f"sqlite:///{path}", "add-org", ORG, "--kind", kind, "--size", "M",
                        "--departments", ",".join(departments))
            assert p.returncode == 0, p.stderr
            made[key] = path
        shutil.copyfile(made[key], target)

    return copy_to


@pytest.mark.parametrize("case", _cases(), ids=lambda p: str(p.relative_to(CORPUS)).removesuffix(".expected.json"))
def test_corpus_file_through_the_cli(case: Path, tmp_path: Path, empty_org_db) -> None:
    expected = json.loads(case.read_text(encoding="utf-8"))
    kind = _kind(case, expected)
    db_path = tmp_path / "corpus.db"
    db_url = f"sqlite:///{db_path}"
    empty_org_db(db_path, kind=expected.get("org_kind", "เทศบาลตำบล"),
                 departments=tuple(expected.get("departments", DEFAULT_DEPARTMENTS)))
    for earlier in expected.get("before", []):
        p = run_cli(db_url, *_import_args(kind, case.parent / earlier, expected))
        assert p.returncode == 0, (earlier, p.stderr)
    before = fingerprint(db_path)
    p = run_cli(db_url, *_import_args(kind, case.parent / expected["file"], expected))
    if expected.get("refused"):
        _check_refused(p, expected, before, db_path)
        return
    assert p.returncode == 0, p.stderr
    assert "Traceback" not in p.stderr
    result = json.loads(p.stdout)
    if kind == "survey":
        _check_survey(db_url, result, expected)
    else:
        _check_plan(db_url, result, expected)


def test_every_corpus_input_has_its_expected_result() -> None:
    """A file dropped into the corpus without its expected result would never be tested."""
    named = {(case.parent / json.loads(case.read_text(encoding="utf-8"))["file"]).resolve() for case in _cases()}
    inputs = {p.resolve() for p in CORPUS.rglob("*")
              if p.is_file() and not p.name.endswith((".expected.json", ".md", ".py")) and "__pycache__" not in p.parts}
    used_before = {(case.parent / f).resolve() for case in _cases()
                   for f in json.loads(case.read_text(encoding="utf-8")).get("before", [])}
    assert inputs <= named | used_before, sorted(str(p) for p in inputs - named - used_before)
    for case in _cases():
        expected = json.loads(case.read_text(encoding="utf-8"))
        assert (case.parent / expected["file"]).is_file(), case
        assert expected.get("shape"), f"{case}: say which real program writes this shape"
