"""The upload page shows the admin the rows a newer cumulative export no longer holds."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlmodel import select
from streamlit.testing.v1 import AppTest

import survey_files as sf
from ita_dashboard import db
from ita_dashboard.importers.surveys import parse_survey_file
from ita_dashboard.models import Organization, User
from ita_dashboard.services.survey_import import import_survey

from tests.helpers import make_demo_db

REPO = Path(__file__).resolve().parent.parent


def test_batch_history_lists_vanished_rows_in_bangkok_time(tmp_path, monkeypatch):
    url = make_demo_db(tmp_path / "demo.db")
    engine = db.make_engine(url)
    first = sf.make_responses(12, start=dt.datetime(2023, 1, 9, 8, 0), seed=3)  # FY 2566, the demo agency's year
    later = [*first[:4], *first[5:], sf.Response(dt.datetime(2023, 2, 1, 9, 30), first[4].department, ("มาก",) * 5)]
    with db.session_scope(engine) as s:
        org = s.exec(select(Organization).where(Organization.name.contains("นาอ้อ"))).one()
        admin = s.exec(select(User.id).where(User.username == "naoo_admin")).one()
        for name, rows in (("week1.csv", first), ("week2.csv", later)):
            data = sf.google_csv(rows)
            r = import_survey(s, organization_id=org.id, instrument="iit", parsed=parse_survey_file(data),
                              fiscal_year=None, file_name=name, file_bytes=data, user_id=admin)
    assert (r.new, r.vanished) == (1, 1)
    engine.dispose()

    monkeypatch.setenv("DATABASE_URL", url)
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.session_state["auth_user_id"] = admin
    at.run()
    at.switch_page("app_pages/upload.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert any("ไม่มีในไฟล์ล่าสุด" in w.value for w in at.warning)
    [table] = [d.value for d in at.dataframe if "เวลาที่ตอบ" in d.value.columns]
    row = table.iloc[0]
    assert (row["แถว"], row["ไฟล์"], row["กอง/ส่วนราชการ"]) == (6, "week1.csv", first[4].department)
    # Bangkok time and a Buddhist-era year: 9 ม.ค. 2566 plus the row's own minutes
    at4 = first[4].at
    assert row["เวลาที่ตอบ"].startswith(f"{at4.day} ม.ค. 2566 {at4.hour:02d}:{at4.minute:02d}")
