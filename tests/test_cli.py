"""The CLI contract (design.md): one-line results, exit codes, JSON keys, database unchanged on error.

Commands run in a real subprocess (``python -m ita_dashboard``), as admins' scripts run them.
"""

from __future__ import annotations

import json

import pytest

from tests.cli_utils import REPO, assert_one_line_error, run


@pytest.fixture
def db_url(tmp_path):
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_init_db_is_idempotent(db_url):
    for _ in range(2):
        p = run(db_url, "init-db")
        assert p.returncode == 0, p.stderr
        assert "revision" in p.stdout and len(p.stdout.strip().splitlines()) == 1


def test_add_org_and_user_then_summary_json(db_url):
    p = run(db_url, "add-org", "เทศบาลตำบลทดสอบ", "--kind", "เทศบาลตำบล", "--size", "M",
            "--departments", "สำนักปลัด,กองคลัง,กองช่าง")
    assert p.returncode == 0, p.stderr
    p = run(db_url, "add-user", "head", "--role", "department_head", "--department", "กองคลัง",
            "--org", "เทศบาลตำบลทดสอบ", "--password-stdin", stdin="finance-2568\n")
    assert p.returncode == 0, p.stderr
    p = run(db_url, "summary", "--year", "2568", "--json")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert data["organization"] == "เทศบาลตำบลทดสอบ" and data["fiscal_year"] == 2568 and data["passing_bar"] == 85
    assert set(data["measures"]) >= {"total", "done", "overdue", "by_department"}
    for inst in ("iit", "eit"):
        assert set(data["surveys"][inst]) >= {"responses", "target", "by_department", "estimated_score"}
    assert data["surveys"]["eit"]["target"] == 70  # ทต. size M minimum (ita-facts §4)
    assert data["surveys"]["iit"]["estimated_score"] is None and data["estimated_total"] is None


@pytest.mark.parametrize("args, code, contains", [
    (("add-org", "X", "--kind", "ดาวอังคาร"), 2, "invalid choice"),
    (("summary", "--year", "1999", "--json"), 2, "Buddhist-era"),
    (("summary", "--year", "2800", "--json"), 2, "Buddhist-era"),  # not "internal error"
    (("summary", "--as-of", "31/12/2025"), 2, "YYYY-MM-DD"),
    (("summary", "--json"), 1, "ยังไม่มีหน่วยงาน"),
    (("add-user", "x", "--role", "admin"), 1, "password-stdin"),
    (("import-survey", "/nonexistent.csv", "--instrument", "iit"), 1, "not found"),
    (("import-measures", "/nonexistent.xlsx"), 1, "not found"),
    (("nonsense",), 2, "invalid choice"),
])
def test_bad_input_gives_one_line_and_nonzero_exit(db_url, args, code, contains):
    assert_one_line_error(run(db_url, *args), code=code, contains=contains)


def test_failed_add_user_leaves_database_unchanged(db_url):
    run(db_url, "add-org", "อบต.ทดสอบ", "--kind", "อบต.", "--departments", "สำนักปลัด")
    p = run(db_url, "add-user", "weak", "--role", "viewer", "--org", "อบต.ทดสอบ", "--password-stdin", stdin="123\n")
    assert_one_line_error(p, contains="อย่างน้อย")
    p = run(db_url, "add-user", "head", "--role", "department_head", "--department", "กองที่ไม่มี",
            "--org", "อบต.ทดสอบ", "--password-stdin", stdin="good-pass-2568\n")
    assert_one_line_error(p, contains="department not found")
    p = run(db_url, "add-org", "อบต.ทดสอบ", "--kind", "อบต.")
    assert_one_line_error(p, contains="มีหน่วยงาน")
    from sqlalchemy import create_engine, text

    with create_engine(db_url).connect() as c:
        assert c.execute(text("select count(*) from user")).scalar() == 0
        assert c.execute(text("select count(*) from organization")).scalar() == 1


def test_import_measures_says_when_the_file_names_another_organisation(db_url):
    assert run(db_url, "add-org", "เทศบาลตำบลอื่น").returncode == 0
    p = run(db_url, "import-measures", str(REPO / "data" / "demo" / "000_17dbb9646109a181.txt"), "--year", "2566")
    assert p.returncode == 0, p.stderr
    assert "เทศบาลตำบลอื่น FY2566" in p.stdout
    assert p.stderr.startswith("note: the file names") and "--org" in p.stderr


def test_grant_a_province_officer_every_agency_of_the_province(db_url):
    for name, province in (("อบต.หนึ่ง", "เลย"), ("อบต.สอง", "เลย"), ("อบต.สาม", "น่าน"), ("อบต.สี่", "ตาก")):
        assert run(db_url, "add-org", name, "--province", province).returncode == 0
    assert run(db_url, "add-user", "officer", "--role", "viewer", "--password-stdin", stdin="long-enough-9\n").returncode == 0
    p = run(db_url, "grant", "officer", "--role", "executive", "--province", "เลย")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "officer is executive in 2 organisations of เลย"
    p = run(db_url, "grant", "officer", "--role", "viewer", "--org", "อบต.สาม")
    assert p.stdout.strip() == "officer is viewer in อบต.สาม"
    from ita_dashboard import db
    from ita_dashboard.permissions import load_actor
    from ita_dashboard.models import User
    from sqlmodel import select

    engine = db.make_engine(db_url)
    with db.session_scope(engine) as s:
        actor = load_actor(s, user_id=s.exec(select(User.id).where(User.username == "officer")).one())
    assert len(actor.org_ids) == 3 and not actor.is_admin_anywhere  # not อบต.สี่
    engine.dispose()


@pytest.mark.parametrize("args,contains", [
    (("grant", "nobody", "--role", "viewer", "--org", "อบต.หนึ่ง"), "user not found"),
    (("grant", "officer", "--role", "viewer"), "exactly one"),
    (("grant", "officer", "--role", "viewer", "--org", "ไม่มี"), "ไม่พบหน่วยงาน"),
])
def test_grant_bad_input_is_one_line(db_url, args, contains):
    assert run(db_url, "add-org", "อบต.หนึ่ง").returncode == 0
    assert run(db_url, "add-user", "officer", "--role", "viewer", "--password-stdin", stdin="long-enough-9\n").returncode == 0
    assert_one_line_error(run(db_url, *args), contains=contains)
