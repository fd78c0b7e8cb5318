"""AppTest of the measures page's progress-by-Excel and activities sections on the demo data."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from ita_dashboard import db, thai
from tests.helpers import make_demo_db
from ita_dashboard.models import Activity, Measure, Organization, User
from ita_dashboard.permissions import Actor
from ita_dashboard.services import activities as act_svc
from tests.helpers import tiny_png
from tests.apptest_utils import REPO, TIMEOUT, texts, user_id

PAGE = "app_pages/measures.py"
SHEET_EXPANDER = "อัปเดตความคืบหน้าด้วยไฟล์ Excel"


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    url = make_demo_db(tmp_path_factory.mktemp("progress_pages") / "demo.db")
    engine = db.make_engine(url)
    with db.session_scope(engine) as s:
        org = s.exec(select(Organization).where(Organization.name == "เทศบาลตำบลนาอ้อ")).one()
        measure = s.exec(select(Measure).where(Measure.organization_id == org.id).order_by(Measure.number)).first()
        admin = s.exec(select(User).where(User.username == "naoo_admin")).one()
        lo, _ = thai.fiscal_year_bounds(measure.fiscal_year)
        act_svc.add_activity(s, organization_id=org.id, date=lo + dt.timedelta(days=40), title="<b>กิจกรรมมีรูป</b>",
                             text="[ลิงก์](javascript:alert(1))", measure_id=measure.id, photo=tiny_png(),
                             actor=Actor.of(admin))
    engine.dispose()
    return url


def picked_date(at: AppTest, key: str) -> dt.date:
    """The date shown by the BE day / Thai month / BE year pickers ``key``."""
    return dt.date(at.selectbox(key=f"{key}_year").value - 543, at.selectbox(key=f"{key}_month").value,
                   at.selectbox(key=f"{key}_day").value)


def open_measures(monkeypatch, url: str, username: str) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.session_state["auth_user_id"] = user_id(url, username)
    at.run()
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_admin_sees_excel_section_and_activities(monkeypatch, demo_url):
    at = open_measures(monkeypatch, demo_url, "naoo_admin")
    assert SHEET_EXPANDER in [e.label for e in at.expander]
    assert "เพิ่มกิจกรรม" in [e.label for e in at.expander]
    assert [r.options for r in at.radio if r.key == "progress_sheet_layout"] == [["แผ่นเดียว", "แยกตามกอง"]]
    assert "กิจกรรม" in [s.value for s in at.subheader]
    # user text is shown as plain text, not markdown/HTML
    assert "<b>กิจกรรมมีรูป</b>" in [x.value for x in at.text]
    assert "[ลิงก์](javascript:alert(1))" in [x.value for x in at.text]
    assert "กิจกรรมมีรูป" not in "\n".join(m.value for m in at.markdown)
    assert len(at.image) == 1  # the photo's thumbnail
    [download] = at.get("download_button")
    assert "ดาวน์โหลดไฟล์สำหรับกรอก" in str(download.proto)
    # per-department layout builds too
    at.radio(key="progress_sheet_layout").set_value("per_department").run()
    assert not at.exception, [e.message for e in at.exception]


def test_admin_adds_an_activity_through_the_form(monkeypatch, demo_url):
    at = open_measures(monkeypatch, demo_url, "naoo_admin")
    at.text_input(key="activity_title").input("ประชุมประชาคมหมู่บ้าน")
    at.text_area(key="activity_text").input("ผู้เข้าร่วม 35 คน")
    when = picked_date(at, "activity_date")
    at.file_uploader(key="activity_photo").set_value(("รูป.png", tiny_png(), "image/png"))
    at.button(key="FormSubmitter:activity_add_form-บันทึก").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert "เพิ่มกิจกรรมแล้ว" in texts(at)
    assert "ประชุมประชาคมหมู่บ้าน" in [x.value for x in at.text]
    engine = db.make_engine(demo_url)
    with db.session_scope(engine) as s:
        row = s.exec(select(Activity).where(Activity.title == "ประชุมประชาคมหมู่บ้าน")).one()
        assert (row.date, row.text, bytes(row.photo), row.photo_mime) == (when, "ผู้เข้าร่วม 35 คน", tiny_png(), "image/png")
    engine.dispose()


def test_month_filter(monkeypatch, demo_url):
    at = open_measures(monkeypatch, demo_url, "naoo_admin")
    months = at.selectbox(key="activities_month").options
    assert months[0] == "ทั้งหมด" and len(months) == 13
    at.selectbox(key="activities_month").select_index(1).run()
    assert not at.exception


def test_department_head_sees_both_with_a_note(monkeypatch, demo_url):
    at = open_measures(monkeypatch, demo_url, "naoo_finance")
    assert SHEET_EXPANDER in [e.label for e in at.expander]
    assert "เพิ่มกิจกรรม" in [e.label for e in at.expander]
    assert "หัวหน้าส่วนบันทึกได้เฉพาะมาตรการ" in texts(at)
    assert not [b for b in at.button if (b.key or "").startswith("activity_delete_")]


@pytest.mark.parametrize("username", ["naoo_viewer", "naoo_mayor"])
def test_viewers_see_activities_only(monkeypatch, demo_url, username):
    at = open_measures(monkeypatch, demo_url, username)
    labels = [e.label for e in at.expander]
    assert SHEET_EXPANDER not in labels and "เพิ่มกิจกรรม" not in labels
    assert "กิจกรรม" in [s.value for s in at.subheader]
    assert "<b>กิจกรรมมีรูป</b>" in [x.value for x in at.text]


def test_fake_photo_is_refused_in_the_form(monkeypatch, demo_url):
    at = open_measures(monkeypatch, demo_url, "naoo_admin")
    at.text_input(key="activity_title").input("กิจกรรมรูปปลอม")
    at.file_uploader(key="activity_photo").set_value(("รูป.png", b"just text, not a picture", "image/png"))
    at.button(key="FormSubmitter:activity_add_form-บันทึก").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert any("ไม่ใช่รูปภาพ" in e.value for e in at.error)


def test_upload_filled_sheet_preview_and_confirm(monkeypatch, tmp_path):
    from tests.status_sheet_utils import fill
    from ita_dashboard.models import ProgressUpdate
    from ita_dashboard.services import status_sheet

    url = make_demo_db(tmp_path / "upload.db")
    engine = db.make_engine(url)
    with db.session_scope(engine) as s:
        org = s.exec(select(Organization).where(Organization.name == "เทศบาลตำบลนาอ้อ")).one()
        ids = s.exec(select(Measure.id).where(Measure.organization_id == org.id).order_by(Measure.number)).all()
        year = s.exec(select(Measure.fiscal_year).where(Measure.id == ids[0])).one()
        _, fy_end = thai.fiscal_year_bounds(year)
        data = status_sheet.build_status_workbook(s, organization_id=org.id, fiscal_year=year,
                                                  as_of=min(fy_end, dt.date.today()), per_department=False)
        before = len(s.exec(select(ProgressUpdate)).all())
    data = fill(data, {ids[0]: {"หมายเหตุ": "อัปเดตจากไฟล์"}, ids[1]: {"สถานะ": "เกือบเสร็จ"}})

    at = open_measures(monkeypatch, url, "naoo_admin")
    at.file_uploader(key="progress_sheet_file_0").set_value(("สถานะ.xlsx", data, "application/octet-stream"))
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["อ่าน"], metrics["จะบันทึก"], metrics["ปฏิเสธ"]) == ("2", "1", "1")
    assert any("ไม่รู้จักสถานะ" in str(d.value) for d in at.dataframe)
    at.button(key="progress_sheet_confirm").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert any("บันทึกความคืบหน้าจากไฟล์แล้ว" in x.value for x in at.success)
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["นำเข้า"], metrics["ปฏิเสธ"]) == ("1", "1")
    with db.session_scope(engine) as s:
        rows = s.exec(select(ProgressUpdate)).all()
    assert len(rows) == before + 1 and rows[-1].note == "อัปเดตจากไฟล์" and rows[-1].import_batch_id
    engine.dispose()
