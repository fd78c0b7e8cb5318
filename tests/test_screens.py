"""Issue 12, the screens as people use them: wording and state rules (AppTest on the demo), the
Buddhist-era date pickers, the audit trail in plain Thai, survey completion that tells the truth.

The browser half (screenshots of every page for every role, the meeting slides at 1280x720)
is tests/e2e/test_screens_browser.py and tests/e2e/test_meeting_slides.py.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from ita_dashboard import audit_text, backup, db, thai
from ita_dashboard.models import (AuditEvent, Department, ImportBatch, Instrument, Organization,
                                  ProgressUpdate, SurveyResponse, SurveyTarget, User)
from ita_dashboard.services.summary import build_summary, department_ranking, unmatched_names
from ita_dashboard.services.summary_types import Summary
from tests.helpers import make_demo_db
from tests.apptest_utils import REPO, TIMEOUT, texts, user_id

NAOO = "เทศบาลตำบลนาอ้อ"


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    """The demo, plus what the screens must tell the truth about: กองคลัง with fewer eligible staff
    than IIT responses, กองช่าง with an explicit target below its responses, and IIT responses
    under a name that is no department of the organisation."""
    url = make_demo_db(tmp_path_factory.mktemp("screens") / "demo.db")
    engine = db.make_engine(url)
    with db.session_scope(engine) as s:
        org = s.exec(select(Organization).where(Organization.name == NAOO)).one()
        deps = {d.name: d for d in s.exec(select(Department).where(Department.organization_id == org.id))}
        deps["กองคลัง"].iit_eligible_staff = 5
        s.add(deps["กองคลัง"])
        s.add(SurveyTarget(organization_id=org.id, fiscal_year=2566, instrument=Instrument.iit,
                           department_id=deps["กองช่าง"].id, target=5))
        for i in range(3):
            when = dt.datetime(2023, 2, 1 + i, 3, 0, tzinfo=dt.timezone.utc)
            s.add(SurveyResponse(organization_id=org.id, fiscal_year=2566, instrument=Instrument.iit,
                                 submitted_at=when, submitted_on=when.date(), department_id=None,
                                 department_text="กองที่ไม่มีจริง", respondent_key=f"screens-{i}"))
    engine.dispose()
    return url


def open_page(monkeypatch, url: str, username: str, page: str) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.session_state["auth_user_id"] = user_id(url, username)
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def frames(at: AppTest) -> str:
    return "\n".join(d.value.to_string() for d in at.dataframe)


def naoo_summary(url: str, as_of: dt.date = dt.date(2023, 9, 30)) -> Summary:
    engine = db.make_engine(url)
    with db.session_scope(engine) as s:
        org_id = s.exec(select(Organization.id).where(Organization.name == NAOO)).one()
        data = build_summary(s, organization_id=org_id, fiscal_year=2566, as_of=as_of)
    engine.dispose()
    return data


# --- dates the Thai way ---------------------------------------------------------------------


def test_date_from_parts_reads_be_and_refuses_what_is_no_date():
    assert thai.date_from_parts(30, 9, 2566) == dt.date(2023, 9, 30)
    assert thai.date_from_parts(29, 2, 2567) == dt.date(2024, 2, 29)  # 2024 is a leap year
    with pytest.raises(ValueError, match="กุมภาพันธ์ 2566 มี 28 วัน"):
        thai.date_from_parts(29, 2, 2566)
    with pytest.raises(ValueError, match="ตั้งแต่ 1 ตุลาคม 2565"):
        thai.date_from_parts(30, 9, 2565, lo=dt.date(2022, 10, 1))
    with pytest.raises(ValueError, match="ได้ถึง"):
        thai.date_from_parts(1, 10, 2566, hi=dt.date(2023, 9, 30))
    assert thai.be_years_between(dt.date(2022, 10, 1), dt.date(2023, 9, 30)) == [2565, 2566]


def test_file_names_carry_buddhist_era_dates():
    assert thai.file_date(dt.date(2023, 3, 31)) == "2566-03-31"
    name = backup.default_file_name(dt.datetime(2025, 11, 30, 14, 23))
    assert name == "ita-backup-2568-11-30-1423.zip"


def test_progress_form_picks_a_be_date_and_saves_next_to_the_form(monkeypatch, demo_url):
    at = open_page(monkeypatch, demo_url, "naoo_admin", "app_pages/measures.py")
    assert not at.date_input  # no Christian-era date picker anywhere on the page
    mid = at.selectbox(key="measure_pick").value
    keys = {s.key for s in at.selectbox}
    assert {f"progress_when_{mid}_0_day", f"progress_when_{mid}_0_month", f"progress_when_{mid}_0_year"} <= keys
    year = at.selectbox(key=f"progress_when_{mid}_0_year")
    assert year.options == ["2565", "2566"]  # BE years of FY 2566
    assert at.selectbox(key=f"progress_when_{mid}_0_month").options[0] == "มกราคม"

    # a day the month does not have: said next to the pickers, nothing saved
    at.selectbox(key=f"progress_when_{mid}_0_day").set_value(31)
    at.selectbox(key=f"progress_when_{mid}_0_month").set_value(2)
    at.text_area(key=f"progress_note_{mid}_0").input("ไม่ควรถูกบันทึก")
    at.button(key=f"FormSubmitter:progress_{mid}_0-บันทึก").click().run()
    assert any("ไม่มีวันที่ 31" in e.value for e in at.error)
    engine = db.make_engine(demo_url)
    with db.session_scope(engine) as s:
        assert not s.exec(select(ProgressUpdate).where(ProgressUpdate.note == "ไม่ควรถูกบันทึก")).all()

    # 15 กุมภาพันธ์ 2566: saved with that date; the confirmation is next to the form (and a toast);
    # the form is empty again (new widget keys)
    at.selectbox(key=f"progress_when_{mid}_0_day").set_value(15)
    at.text_area(key=f"progress_note_{mid}_0").input("บันทึกจากแบบฟอร์ม")
    at.button(key=f"FormSubmitter:progress_{mid}_0-บันทึก").click().run()
    assert not at.exception, [e.message for e in at.exception]
    with db.session_scope(engine) as s:
        row = s.exec(select(ProgressUpdate).where(ProgressUpdate.note == "บันทึกจากแบบฟอร์ม")).one()
        assert row.as_of == dt.date(2023, 2, 15)
    engine.dispose()
    saved = [x.value for x in at.success if "บันทึกความคืบหน้ามาตรการที่" in x.value]
    assert saved and "15 กุมภาพันธ์ 2566" in saved[0]
    assert any("บันทึกความคืบหน้ามาตรการที่" in x.value for x in at.toast)
    assert at.text_area(key=f"progress_note_{mid}_1").value == ""
    assert "flash" not in at.session_state  # nothing waits for the top of the page


def test_activity_form_confirms_in_place_and_clears(monkeypatch, demo_url):
    at = open_page(monkeypatch, demo_url, "naoo_admin", "app_pages/measures.py")
    at.text_input(key="activity_title").input("ประชุมชี้แจงมาตรการ")
    at.button(key="FormSubmitter:activity_add_form-บันทึก").click().run()
    assert not at.exception, [e.message for e in at.exception]
    expander = next(e for e in at.expander if e.label == "เพิ่มกิจกรรม")
    assert any("เพิ่มกิจกรรมแล้ว: ประชุมชี้แจงมาตรการ" in x.value for x in expander.success)
    assert any("เพิ่มกิจกรรมแล้ว" in x.value for x in at.toast)
    assert at.text_input(key="activity_title_1").value == ""


# --- wording --------------------------------------------------------------------------------


@pytest.mark.parametrize("username,role", [("naoo_viewer", "ผู้ดู"), ("naoo_mayor", "ผู้บริหาร")])
def test_roles_without_a_department_are_told_why_they_cannot_edit(monkeypatch, demo_url, username, role):
    at = open_page(monkeypatch, demo_url, username, "app_pages/measures.py")
    text = texts(at)
    assert f"บทบาท “{role}” ใช้ดูข้อมูลเท่านั้น" in text
    assert "คุณแก้ไขได้เฉพาะมาตรการของกอง" not in text


def test_head_without_a_department_is_asked_to_get_one(monkeypatch, demo_url):
    engine = db.make_engine(demo_url)
    with db.session_scope(engine) as s:
        head = s.exec(select(User).where(User.username == "naoo_finance")).one()
        dep, head.department_id = head.department_id, None
        s.add(head)
    try:
        at = open_page(monkeypatch, demo_url, "naoo_finance", "app_pages/measures.py")
        assert "บัญชีของคุณยังไม่ได้ระบุกอง/ส่วนราชการ" in texts(at)
        assert "คุณแก้ไขได้เฉพาะมาตรการของกอง" not in texts(at)
    finally:
        with db.session_scope(engine) as s:
            head = s.exec(select(User).where(User.username == "naoo_finance")).one()
            head.department_id = dep
            s.add(head)
        engine.dispose()


def test_a_measure_due_on_the_as_of_date_is_due_today(monkeypatch, demo_url):
    # measure 7 ends on 30 Sep 2566, the as-of date of the year's last month
    at = open_page(monkeypatch, demo_url, "naoo_admin", "app_pages/overview.py")
    due = [m.value for m in at.markdown if m.value.startswith("**7.**")]
    assert due and "ครบกำหนดวันนี้" in due[0] and "เดือนถัดไป" not in due[0]


def test_a_year_without_a_plan_says_so_and_points_to_the_import_page(monkeypatch, demo_url):
    at = open_page(monkeypatch, demo_url, "naoo_admin", "app_pages/overview.py")
    at.selectbox(key="_w_fiscal_year").set_value(thai.fiscal_year_of(dt.date.today())).run()
    assert not at.exception
    text = texts(at)
    assert "ปีงบประมาณนี้ยังไม่มีแผนมาตรการ" in text
    assert "ไม่มีมาตรการที่เลยกำหนด" not in text  # no green "nothing overdue" for a year with nothing
    assert any(p.proto.page == "upload" for p in at.get("page_link"))


def test_the_period_switch_is_not_called_the_measures_period(monkeypatch, demo_url):
    at = open_page(monkeypatch, demo_url, "naoo_admin", "app_pages/measures.py")
    switch = at.radio(key="period_granularity")
    assert switch.label == "แสดงเป็น" and switch.options == ["รายเดือน", "รายไตรมาส", "รอบ 6/12 เดือน"]


# --- survey completion ------------------------------------------------------------------------


def test_ranking_marks_met_targets_and_leaves_unmatched_names_out(demo_url):
    data = naoo_summary(demo_url)
    rows = {r.name: r for r in department_ranking(data)}
    assert "กองที่ไม่มีจริง" not in rows and "คณะทำงาน สนับสนุน การ ประเมิน ITA" not in rows
    assert rows["กองช่าง"].iit_met and not rows["กองช่าง"].behind  # 9 responses, target 5: met
    assert rows["กองคลัง"].iit_over_eligible  # more responses than the 5 eligible staff
    names = {e.name: e for e in unmatched_names(data)}
    assert names["กองที่ไม่มีจริง"].iit == 3
    assert names["คณะทำงาน สนับสนุน การ ประเมิน ITA"].measures == 1


def test_overview_department_table_tells_the_truth(monkeypatch, demo_url):
    at = open_page(monkeypatch, demo_url, "naoo_admin", "app_pages/overview.py")
    table = next(d.value for d in at.dataframe if "กอง/ส่วนราชการ" in d.value.columns)
    table = table.data if hasattr(table, "data") else table  # a Styler
    by_name = {r["กอง/ส่วนราชการ"]: r for r in table.to_dict("records")}
    assert set(by_name) == {"สำนักปลัดเทศบาล", "กองคลัง", "กองช่าง", "กองการศึกษา", "กองสาธารณสุขและสิ่งแวดล้อม",
                            "กองสวัสดิการสังคม"}  # departments only
    assert by_name["กองช่าง"]["สถานะ"] == "✓ ครบเป้าหมาย" and by_name["กองช่าง"]["IIT ร้อยละของเป้า"] == "✓ 180%"
    assert by_name["กองคลัง"]["สถานะ"] == "⚠ ตรวจจำนวน"
    warning = [w.value for w in at.warning if "มากกว่าจำนวนบุคลากรที่มีสิทธิ์ตอบ" in w.value]
    assert warning and "ผู้ตอบซ้ำ" in warning[0]  # says what to check
    assert "กองคลัง: ผู้ตอบ 9 คน บุคลากรที่มีสิทธิ์ตอบ 5 คน" in [x.value for x in at.text]
    unmatched = [i.value for i in at.info if "ยังจับคู่กับกอง/ส่วนราชการไม่ได้" in i.value]
    assert len(unmatched) == 1
    assert any("กองที่ไม่มีจริง (ผู้ตอบ IIT 3)" in x.value for x in at.text)
    assert any(p.proto.page == "admin" for p in at.get("page_link"))


def test_surveys_page_lists_unmatched_names_once_and_not_as_a_department(monkeypatch, demo_url):
    at = open_page(monkeypatch, demo_url, "naoo_mayor", "app_pages/surveys.py")
    assert len([i for i in at.info if "ยังจับคู่กับกอง/ส่วนราชการไม่ได้" in i.value]) == 1
    assert len([x for x in at.text if "กองที่ไม่มีจริง" in x.value]) == 1
    assert not at.get("page_link")  # not an admin: told who maps them instead
    assert "ผู้ดูแลระบบจับคู่ชื่อเหล่านี้" in texts(at)


# --- admin screens in plain Thai ----------------------------------------------------------------


def test_admin_screens_show_thai_words_not_codes(monkeypatch, demo_url):
    at = open_page(monkeypatch, demo_url, "naoo_admin", "app_pages/admin.py")
    shown = frames(at)
    for code in ("login.success", "user.create", "survey_iit", "None", "{'", '{"'):
        assert code not in shown, code
    assert "เพิ่มผู้ใช้" in shown and "บทบาท: ผู้ดูแลระบบ" in shown
    for d in at.dataframe:
        assert "id" not in list(d.value.columns)
    # the framework's sources are behind "แหล่งที่มา", in Thai; its English notes are not on screen
    sources = next(e for e in at.expander if e.label == "แหล่งที่มา")
    assert "เอกสารอ้างอิง S1" in "\n".join(d.value.to_string() for d in sources.dataframe)
    assert "assumed from" not in shown and "confidence" not in shown


def test_audit_trail_describes_changes_in_thai():
    before = {"id": 3, "measure_id": 1, "as_of": "2023-01-31", "status": "not_started", "percent": 0, "note": ""}
    after = {"id": 4, "measure_id": 1, "as_of": "2023-02-28", "status": "in_progress", "percent": 40,
             "note": "เริ่มแล้ว", "created_at": "2023-02-28T03:00:00+00:00"}
    text = audit_text.describe_change(before, after)
    assert text.splitlines() == ["สถานะ: ยังไม่เริ่ม → กำลังดำเนินการ", "ร้อยละ: 0% → 40%",
                                 "ณ วันที่: 31 ม.ค. 2566 → 28 ก.พ. 2566", "หมายเหตุ: – → เริ่มแล้ว"]
    assert audit_text.describe_change(None, {"target": 12, "department_id": 5, "instrument": "iit"},
                                      department_names={5: "กองคลัง"}) == "กอง/ส่วนราชการ: กองคลัง\nเป้าหมาย: 12\nแบบวัด: IIT"
    assert audit_text.action_label("login.success") == "เข้าสู่ระบบสำเร็จ"
    assert audit_text.action_label("something.new") == "something.new"  # never blank


def test_every_recorded_action_has_a_thai_name(demo_url):
    engine = db.make_engine(demo_url)
    with db.session_scope(engine) as s:
        actions = set(s.exec(select(AuditEvent.action)).all())
    engine.dispose()
    assert actions and all(audit_text.action_label(a) != a for a in actions), actions


def test_import_history_in_thai_words_and_bangkok_time(monkeypatch, demo_url):
    from ita_dashboard.ui.common import local_time

    engine = db.make_engine(demo_url)
    with db.session_scope(engine) as s:
        org_id = s.exec(select(Organization.id).where(Organization.name == NAOO)).one()
        batch = s.exec(select(ImportBatch).where(ImportBatch.organization_id == org_id,
                                                 ImportBatch.kind == "survey_iit")).first()
        expected = thai.format_datetime_th(local_time(batch.created_at))
    engine.dispose()
    at = open_page(monkeypatch, demo_url, "naoo_admin", "app_pages/upload.py")
    labels = [e.label for e in at.expander]
    assert not [x for x in labels if "survey_iit" in x or "#" in x]
    assert any(x.startswith("ผลแบบวัด IIT") and expected in x for x in labels), (labels, expected)


def test_measures_table_puts_state_first(monkeypatch, demo_url):
    at = open_page(monkeypatch, demo_url, "naoo_admin", "app_pages/measures.py")
    table = at.dataframe[0].value
    assert list(table.columns)[:6] == ["ที่", "มาตรการ", "สถานะ", "ร้อยละ", "สิ้นสุด", "อัปเดตล่าสุด"]
    assert "ระยะเวลาดำเนินการ" not in table.columns  # long texts are in the detail view


def test_every_action_the_code_records_has_a_thai_name():
    """Also the actions the demo never records (OIT edits, link checks, backups, a restore...)."""
    import re
    from pathlib import Path

    package = Path(audit_text.__file__).resolve().parent
    actions = {m for p in package.rglob("*.py") for m in re.findall(r'action="([a-z_]+\.[a-z_.]+)"', p.read_text("utf-8"))}
    actions |= {"organization.itas_code", "organization.website"}  # org_settings writes action=f"organization.{field}"
    assert len(actions) > 30
    assert [a for a in sorted(actions) if audit_text.action_label(a) == a] == []
