"""Bad and hostile input: markup, formulas, SQL, paths, huge and control-character text in every
text field the services take and in uploaded files.

What must hold: the database keeps the text verbatim (NUL, which PostgreSQL text cannot hold, is
dropped), pages show it as text (no element may render HTML, markdown gets it escaped), exported
xlsx/csv cells never start a formula, uploads are judged by content and size, and a file name is
only ever a label.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from ita_dashboard import db
from ita_dashboard.importers.measures import parse_measures_file
from ita_dashboard.importers.report_text import clean_cell
from ita_dashboard.importers.surveys import parse_survey_file
from ita_dashboard.importers.tabular import FileProblem
from ita_dashboard.models import Activity, Department, ImportBatch, Measure, ProgressUpdate, SurveyResponse, User
from ita_dashboard.services import activities, measures, orgs, status_sheet, uploads, users
from ita_dashboard.services.survey_import import rejected_rows_csv
from tests import survey_files as sf
from tests.helpers import actor_for, make_org, make_user

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "ita_dashboard"
TIMEOUT = 120
THAI = re.compile(r"[\u0e00-\u0e7f]")

SCRIPT = "<script>alert(1)</script>"
EVIL = [
    SCRIPT,
    '<img src=x onerror="alert(2)">',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2",
    "@SUM(A1)",
    "'; DROP TABLE measure; --",
    "../../etc/passwd",
    "[click](javascript:alert(3)) **bold** $x$",
    "\u202eexe.fdp\u202c ข้อความ RTL",
    "ก" * 5000,
]
NUL_TEXT = "ก่อน\x00หลัง"
FORMULA_START = ("=", "+", "-", "@")


def _measure_plan(titles: list[str]) -> bytes:
    rows = [["ลำดับ", "มาตรการ", "ขั้นตอนหรือวิธีการปฏิบัติ", "ระยะเวลาดำเนินการ", "ผู้รับผิดชอบ"]]
    for i, title in enumerate(titles, start=1):
        rows.append([str(i), title, title, "ตุลาคม 2567 - กันยายน 2568", "กองคลัง"])
    return sf.csv_bytes(rows)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A SQLite database where every text field a user or a file fills holds a hostile string."""
    path = tmp_path_factory.mktemp("hostile") / "hostile.db"
    url = f"sqlite:///{path}"
    engine = db.make_engine(url)
    db.migrate(engine)
    org = make_org(engine, name="เทศบาลตำบลทดสอบภัย",
                   departments=[("กองคลัง", 5)] + [(f"{e[:200]} กอง{i}", 1) for i, e in enumerate(EVIL)])
    admin_id = make_user(engine, username="h_admin", role="admin", org_id=org)
    admin = actor_for(engine, admin_id)
    with db.session_scope(engine) as s:
        users.create_user(s, actor=admin, username="h_viewer", password="temp-pass-2568", role="viewer",
                          organization_id=org, display_name=SCRIPT + " =HYPERLINK(\"x\")")
        s.get(User, admin_id).display_name = SCRIPT
        plan_bytes = _measure_plan(EVIL)
        summary = uploads.import_measures(s, actor=admin, organization_id=org, plan=parse_measures_file(plan_bytes),
                                          fiscal_year=2568, file_name="../../" + SCRIPT + ".csv", data=plan_bytes)
        for i, mid in enumerate(summary.measure_ids):
            measures.record_progress(s, measure_id=mid, status="in_progress", percent=50, note=EVIL[i],
                                     as_of=dt.date(2025, 1, 10), actor=admin)
            activities.add_activity(s, organization_id=org, date=dt.date(2025, 1, 10 + i % 10), title=EVIL[i][:500],
                                    text=EVIL[-1 - i], measure_id=mid, actor=admin)
        responses = sf.make_responses(len(EVIL) * 2, departments=EVIL)
        survey = sf.google_csv(responses)
        uploads.import_survey(s, actor=admin, organization_id=org, instrument="iit", parsed=parse_survey_file(survey),
                              fiscal_year=None, file_name="=HYPERLINK(\"http://x\")" + SCRIPT + ".csv", data=survey)
        bad_rows = [["Timestamp", "สังกัด"], [EVIL[2], "กองคลัง"], [SCRIPT, "กองคลัง"], ["1/14/2025 18:29:56", "กองคลัง"]]
        uploads.import_survey(s, actor=admin, organization_id=org, instrument="eit",
                              parsed=parse_survey_file(sf.csv_bytes(bad_rows)), fiscal_year=2568,
                              file_name="@evil.csv", data=sf.csv_bytes(bad_rows))
    yield {"url": url, "engine": engine, "org": org, "admin": admin, "measure_ids": summary.measure_ids}
    engine.dispose()


# --- the database keeps the text verbatim -------------------------------------------------------


def test_database_keeps_hostile_text_verbatim(hostile):
    with db.session_scope(hostile["engine"]) as s:
        titles = [s.get(Measure, mid).title for mid in hostile["measure_ids"]]
        notes = set(s.exec(select(ProgressUpdate.note)).all())
        activity_titles = set(s.exec(select(Activity.title)).all())
        written = set(s.exec(select(SurveyResponse.department_text)).all())
        files = set(s.exec(select(ImportBatch.file_name)).all())
        tables = {m.title for m in s.exec(select(Measure))}
    # the measures importer reads report exports: tags and bold markers become plain text
    assert titles == [clean_cell(e) for e in EVIL if clean_cell(e)]
    assert "alert(1)" in titles and "<script>" not in " ".join(titles)
    assert set(EVIL[:len(hostile["measure_ids"])]) <= notes
    assert {e[:500] for e in EVIL[:len(hostile["measure_ids"])]} <= activity_titles
    assert {" ".join(e.split()) for e in EVIL} <= written  # as written, spaces collapsed
    assert "../../" + SCRIPT + ".csv" in files
    assert tables  # the measure table survived "'; DROP TABLE measure; --"


def test_nul_characters_are_dropped_on_every_backend(engine):
    org = make_org(engine)
    admin = actor_for(engine, make_user(engine, username="n_admin", role="admin", org_id=org))
    with db.session_scope(engine) as s:
        dep = orgs.add_department(s, organization_id=org, name="กอง\x00ใหม่", actor=admin)
        act = activities.add_activity(s, organization_id=org, date=dt.date(2025, 1, 5), title=NUL_TEXT,
                                      text=NUL_TEXT, actor=admin)
        ids = dep.id, act.id
    with db.session_scope(engine) as s:
        assert s.get(Department, ids[0]).name == "กองใหม่"
        assert (s.get(Activity, ids[1]).title, s.get(Activity, ids[1]).text) == ("ก่อนหลัง", "ก่อนหลัง")


def test_injection_strings_in_every_text_field_on_both_backends(engine):
    """The same writes on PostgreSQL and SQLite: stored verbatim, nothing else touched."""
    org = make_org(engine)
    admin = actor_for(engine, make_user(engine, username="i_admin", role="admin", org_id=org))
    plan = _measure_plan(EVIL)
    with db.session_scope(engine) as s:
        summary = uploads.import_measures(s, actor=admin, organization_id=org, plan=parse_measures_file(plan),
                                          fiscal_year=2568, file_name=EVIL[6], data=plan)
        for i, e in enumerate(EVIL):
            orgs.add_department(s, organization_id=org, name=f"{e[:100]} {i}", actor=admin)
            users.create_user(s, actor=admin, username=f"user{i}", password="temp-pass-2568", role="viewer",
                              organization_id=org, display_name=e)
    with db.session_scope(engine) as s:
        assert [s.get(Measure, m).title for m in summary.measure_ids] == [clean_cell(e) for e in EVIL if clean_cell(e)]
        assert set(EVIL) <= set(s.exec(select(User.display_name)).all())
        assert s.exec(select(ImportBatch.file_name)).one() == EVIL[6]


# --- pages show it as text --------------------------------------------------------------------


def _elements(node):
    children = getattr(node, "children", None)
    if children:
        for child in children.values():
            yield from _elements(child)
    else:
        yield node


_MARKDOWN_KINDS = {"markdown", "caption", "title", "header", "subheader", "error", "warning", "info", "success",
                   "exception", "expander", "tab"}


def _assert_rendered_as_text(at: AppTest) -> str:
    assert not at.exception, [e.message for e in at.exception]
    seen = []
    for el in _elements(at._tree):
        proto = getattr(el, "proto", None)
        if proto is not None and getattr(proto, "allow_html", False):
            pytest.fail(f"an element renders HTML: {el}")
        kind = getattr(el, "type", "")
        value = getattr(el, "value", None)
        label = getattr(el, "label", None)
        for text in (value, label):
            if isinstance(text, str):
                seen.append(text)
                if kind in _MARKDOWN_KINDS or kind.startswith("markdown"):
                    assert "<script>" not in text and "<img" not in text, (kind, text[:200])
    return "\n".join(seen)


def _app(monkeypatch, url, user_id, page=None) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.session_state["auth_user_id"] = user_id
    at.session_state["fiscal_year"] = 2568
    at.run()
    if page:
        at.switch_page(page).run()
    return at


@pytest.mark.parametrize("page", ["app_pages/overview.py", "app_pages/measures.py", "app_pages/surveys.py", "app_pages/report.py",
                                  "app_pages/upload.py", "app_pages/admin.py", "app_pages/account.py"])
def test_pages_render_hostile_text_as_text(monkeypatch, hostile, page):
    at = _app(monkeypatch, hostile["url"], hostile["admin"].user_id, page)
    _assert_rendered_as_text(at)


def test_measure_detail_shows_a_script_title_as_text(monkeypatch, hostile):
    at = _app(monkeypatch, hostile["url"], hostile["admin"].user_id, "app_pages/measures.py")
    at.selectbox(key="measure_pick").set_value(hostile["measure_ids"][0]).run()
    body = _assert_rendered_as_text(at)
    assert SCRIPT in body or "\\<script\\>" in body


# --- exports write text, never formulas -----------------------------------------------------------


def _xlsx_cells(data: bytes):
    wb = load_workbook(io.BytesIO(data))
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is not None:
                    yield cell


def _assert_no_formula(cells) -> list[str]:
    """Every cell is a value, none a formula; text that looks like one is either behind a literal
    apostrophe or a string cell with Excel's quote prefix (kept exact, still text when edited)."""
    texts = []
    for cell in cells:
        assert cell.data_type != "f", (cell.coordinate, cell.value)
        if isinstance(cell.value, str):
            if cell.value.startswith(FORMULA_START):
                assert cell.data_type == "s" and cell.quotePrefix, (cell.coordinate, cell.value)
            texts.append(cell.value)
    return texts


def test_status_workbook_writes_formula_text_as_text(hostile):
    with db.session_scope(hostile["engine"]) as s:
        data = status_sheet.build_status_workbook(s, organization_id=hostile["org"], fiscal_year=2568,
                                                  as_of=dt.date(2025, 3, 31), per_department=True)
    texts = _assert_no_formula(_xlsx_cells(data))
    assert {"'=cmd|' /C calc'!A0", "'@SUM(A1)", "'-2"} <= set(texts)


def test_report_xlsx_writes_formula_text_as_text(hostile):
    from ita_dashboard.reports import measures_table as rpt

    with db.session_scope(hostile["engine"]) as s:
        report = rpt.build_report(s, organization_id=hostile["org"], fiscal_year=2568, round_=12)
    texts = _assert_no_formula(_xlsx_cells(rpt.to_xlsx(report)))
    assert "=cmd|' /C calc'!A0" in texts  # exact, as a quote-prefixed string cell


def test_rejected_rows_csv_and_audit_export_write_formula_text_as_text(hostile):
    from ita_dashboard import audit

    with db.session_scope(hostile["engine"]) as s:
        batch = s.exec(select(ImportBatch).where(ImportBatch.file_name == "@evil.csv")).one()
        rejected = rejected_rows_csv(batch).decode("utf-8-sig")
        exported = audit.events_csv(audit.list_events(s, organization_id=hostile["org"])).decode("utf-8-sig")
    for text in (rejected, exported):
        cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
        assert cells and not [c for c in cells if c.startswith(FORMULA_START)]
    assert "=HYPERLINK" in exported  # the file name is there, only behind an apostrophe


def test_one_formula_guard_for_every_export():
    """The leading characters that start a formula are listed once (textsafe.FORMULA_START), and
    no export keeps a guard of its own (issue 14 point 6)."""
    from ita_dashboard import textsafe

    assert set(FORMULA_START) <= set(textsafe.FORMULA_START)
    own_guard = re.compile(r"\(\s*[\"']=[\"']\s*,\s*[\"']\+[\"']|_FORMULA_START|_csv_safe|def safe_cell")
    holders = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                     if own_guard.search(p.read_text(encoding="utf-8")))
    assert holders == ["textsafe.py"]
    assert textsafe.sheet_cell("=1+1") == "'=1+1" and textsafe.sheet_cell("\t=1") == "'\t=1"
    assert textsafe.sheet_cell("กองคลัง") == "กองคลัง" and textsafe.sheet_cell(-2) == -2 and textsafe.sheet_cell(None) is None


# --- uploads judged by content and size; file names are labels ----------------------------------

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64


def _zip(members: dict[str, bytes]) -> bytes:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


BAD_UPLOADS = {
    "png named xlsx": ("report.xlsx", PNG),
    "zip of something else named xlsx": ("report.xlsx", _zip({"../../evil.sh": b"rm -rf /"})),
    "html named csv": ("report.csv", b"<html><body><script>alert(1)</script></body></html>"),
    "pdf named xlsx": ("report.xlsx", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"),
    "elf named csv": ("report.csv", b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 100),
    "empty": ("report.xlsx", b""),
}


@pytest.mark.parametrize("case", list(BAD_UPLOADS))
def test_uploads_are_judged_by_content(case):
    name, data = BAD_UPLOADS[case]
    for parse in (lambda: parse_survey_file(data, filename=name), lambda: parse_measures_file(data, filename=name)):
        with pytest.raises(FileProblem) as info:
            parse()
        assert THAI.search(str(info.value)), str(info.value)


def test_photo_judged_by_content_not_name():
    with pytest.raises(activities.ActivityError) as info:
        activities.check_photo(b"<svg onload=alert(1)>")
    assert THAI.search(str(info.value))


def test_oversize_upload_refused(monkeypatch):
    monkeypatch.setenv("ITA_MAX_UPLOAD_MB", "1")
    with pytest.raises(FileProblem) as info:
        uploads.check_size(b"x" * (1024 * 1024 + 1))
    assert "1 MB" in str(info.value) and THAI.search(str(info.value))
    uploads.check_size(b"x" * 1024)


def test_a_file_name_is_never_used_as_a_path(engine, tmp_path, monkeypatch):
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    org = make_org(engine)
    admin = actor_for(engine, make_user(engine, username="f_admin", role="admin", org_id=org))
    name = "../" * 8 + "tmp/ita_pwned_marker.csv"
    data = sf.google_csv(sf.make_responses(2))
    with db.session_scope(engine) as s:
        uploads.import_survey(s, actor=admin, organization_id=org, instrument="iit", parsed=parse_survey_file(data),
                              fiscal_year=None, file_name=name, data=data)
    assert not Path("/tmp/ita_pwned_marker.csv").exists()
    assert list(work.iterdir()) == []
    # and in the source: nothing opens a path built from an uploaded name
    pattern = re.compile(r"(open|Path|os\.path\.join|write_bytes|write_text)\([^)]*(file_name|\bfile\.name\b|filename)")
    offenders = [str(p.relative_to(REPO)) for p in PACKAGE.rglob("*.py")
                 if pattern.search(p.read_text(encoding="utf-8"))]
    offenders += [str(p.relative_to(REPO)) for p in (REPO / "app_pages").glob("*.py")
                  if pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_no_code_renders_html():
    """No unsafe_allow_html or components.html anywhere in the app; st.html only with a constant
    (an UPPER_CASE module name: the meeting view's own CSS), never with data."""
    pattern = re.compile(r"unsafe_allow_html\s*=\s*True|st\.html\((?![A-Z_]+\))|components\.v1|components\.html")
    files = [*PACKAGE.rglob("*.py"), *(REPO / "app_pages").glob("*.py"), REPO / "app.py"]
    # The one reviewed exception: the login-session cookie script, built from a fixed shape by
    # ui/common.cookie_script, which takes nothing but a token's characters (tested below).
    cookie_call = "st.html(cookie_script(kind, token), unsafe_allow_javascript=True)"
    texts = {p: p.read_text(encoding="utf-8") for p in files}
    assert texts[PACKAGE / "ui" / "common.py"].count(cookie_call) == 1
    texts[PACKAGE / "ui" / "common.py"] = texts[PACKAGE / "ui" / "common.py"].replace(cookie_call, "")
    assert [str(p) for p, text in texts.items() if pattern.search(text)] == []


@pytest.mark.parametrize("token", [SCRIPT, '"; document.location="https://evil.example', "a b", "x" * 20,
                                   "</script><script>alert(1)</script>" + "A" * 40, None, 12345])
def test_the_cookie_script_takes_only_a_token(token):
    from ita_dashboard.ui.common import cookie_script

    script = cookie_script("set", token)
    assert script == cookie_script("clear")  # anything but a token deletes the cookie instead
    good = "Ab_-" * 10
    assert f"ita_session={good}; Path=/;" in cookie_script("set", good)


def test_every_query_is_parameterised():
    """No SQL text built with f-strings, % or + from values: text() only with literal SQL.

    Two known exceptions carry no value from a user: identifiers passed through the dialect's
    quote() (backup's sequence reset) and integer PRAGMA settings (survey import's page cache).
    """
    pattern = re.compile(r"((?<![.\w])text|exec_driver_sql|\.execute)\(\s*f[\"']|"
                         r"((?<![.\w])text|\.execute)\([^)]*[\"']\s*%\s*\(|"
                         r"((?<![.\w])text|\.execute)\(\s*[\"'][^\"']*[\"']\s*\+")
    files = [*PACKAGE.rglob("*.py"), *(REPO / "app_pages").glob("*.py"), REPO / "app.py", *(REPO / "migrations").rglob("*.py")]
    found = [f"{p.relative_to(REPO)}:{i}" for p in files
             for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if pattern.search(line) and "quote(" not in line and "PRAGMA" not in line]
    assert found == []
