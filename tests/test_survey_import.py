"""Survey exports: parsing every accepted shape, and importing without losing or doubling rows."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from ita_dashboard import db
from ita_dashboard.importers.surveys import NotASurvey, ParsedRow, ParsedSurvey, TimestampReader, parse_survey_file, split_date_text
from ita_dashboard.importers.tabular import FileProblem
from ita_dashboard.models import (AuditEvent, Department, ImportBatch, Instrument, Organization, SurveyBatchResponse, SurveyForm,
                                  SurveyResponse)
from ita_dashboard.services import survey_forms, survey_import, survey_keys, survey_undo
from ita_dashboard.services.aliases import unresolved_names
from ita_dashboard.services.survey_forms import recall_mapping, remember_mapping
from ita_dashboard.services.survey_import import SurveyImportError, import_survey, map_department_alias, rejected_rows_csv
from ita_dashboard.services.survey_undo import undo_batch

import survey_files as sf

# shared/ sits beside the repository (here and in CI).
SAMPLES = Path(__file__).resolve().parent / "data" / "samples"  # copies of shared/samples
needs_samples = pytest.mark.skipif(not SAMPLES.exists(), reason="shared/samples not found beside the repository")
BKK = ZoneInfo("Asia/Bangkok")
THAI = re.compile(r"[ก-๙]")


# --- helpers ------------------------------------------------------------------------------------


@pytest.fixture
def org(engine) -> dict:
    """An organisation with the six departments of the sample municipality."""
    with db.session_scope(engine) as s:
        o = Organization(name="เทศบาลตำบลตัวอย่าง")
        s.add(o)
        s.flush()
        deps = {}
        for i, name in enumerate(sf.DEPARTMENTS):
            d = Department(organization_id=o.id, name=name, sort_order=i)
            s.add(d)
            s.flush()
            deps[name] = d.id
        return {"id": o.id, "deps": deps}


def do_import(engine, org, data: bytes, *, instrument="iit", fiscal_year=None, name="export.csv", mapping=None):
    parsed = parse_survey_file(data, filename=name, mapping=mapping)
    with db.session_scope(engine) as s:
        return import_survey(s, organization_id=org["id"], instrument=instrument, parsed=parsed,
                             fiscal_year=fiscal_year, file_name=name, file_bytes=data, user_id=None)


def count_by_department(engine, org, instrument="iit") -> dict[str, int]:
    with db.session_scope(engine) as s:
        rows = s.execute(
            select(Department.name, func.count(SurveyResponse.id))
            .join(Department, Department.id == SurveyResponse.department_id)
            .where(SurveyResponse.organization_id == org["id"], SurveyResponse.instrument == instrument)
            .group_by(Department.name)
        ).all()
    return dict(rows)


def response_count(engine) -> int:
    with db.session_scope(engine) as s:
        return s.execute(select(func.count(SurveyResponse.id))).scalar_one()


def local_times(parsed: ParsedSurvey) -> list[dt.datetime]:
    return [r.submitted_at.astimezone(BKK).replace(tzinfo=None) for r in parsed.rows]


# --- the real samples ---------------------------------------------------------------------------


@needs_samples
@pytest.mark.parametrize("name,instrument", [("iit_google_forms_2568.csv", "iit"), ("eit_microsoft_forms_2568.xlsx", "eit")])
def test_samples_give_expected_counts(engine, org, name, instrument):
    expected = json.loads((SAMPLES / "expected.json").read_text(encoding="utf-8"))[name]
    r = do_import(engine, org, (SAMPLES / name).read_bytes(), instrument=instrument, name=name)
    assert (r.read, r.imported, r.duplicate, r.rejected) == (expected["responses"], expected["responses"], 0, 0)
    assert r.fiscal_year == 2568
    assert r.unmatched_departments == {}
    assert count_by_department(engine, org, instrument) == expected["by_department"]
    with db.session_scope(engine) as s:
        batch = s.get(ImportBatch, r.batch_id)
        assert batch.kind == f"survey_{instrument}"
        assert (batch.read_count, batch.imported_count) == (expected["responses"],) * 2
        scores = s.execute(select(SurveyResponse.score, SurveyResponse.indicator_score_1)).all()
        assert all(sc is not None and 0 <= sc <= 100 for sc, _ in scores)
        assert any(i1 is not None for _, i1 in scores)
        event = s.execute(select(AuditEvent).where(AuditEvent.action == "survey.import")).scalar_one()
        assert event.entity_id == str(r.batch_id)


@needs_samples
def test_sample_roles():
    eit = parse_survey_file((SAMPLES / "eit_microsoft_forms_2568.xlsx").read_bytes())
    assert eit.timestamp_column == "Completion time"
    assert eit.department_column == "ส่วนราชการที่ท่านมาติดต่อ"  # not the questions mentioning หน่วยงาน
    assert eit.id_columns[0] == "ID" and "Start time" not in eit.answer_columns
    assert eit.source_format == "microsoft_forms"
    iit = parse_survey_file((SAMPLES / "iit_google_forms_2568.csv").read_bytes())
    assert (iit.timestamp_column, iit.department_column, iit.header_row) == ("Timestamp", "ท่านสังกัดส่วนราชการใด", 1)
    assert iit.rows[0].submitted_at == dt.datetime(2025, 1, 14, 18, 29, 56, tzinfo=BKK)
    assert iit.rows[0].row_number == 2


# --- formats ------------------------------------------------------------------------------------


def test_google_csv_english_locale_month_first(engine, org):
    responses = sf.make_responses(30)
    parsed = parse_survey_file(sf.google_csv(responses, locale="en"))
    assert local_times(parsed) == [r.at for r in responses]
    assert parsed.source_format == "google_forms"
    r = do_import(engine, org, sf.google_csv(responses, locale="en"))
    assert (r.imported, r.duplicate, r.rejected) == (30, 0, 0)


def test_month_first_decided_by_a_single_value_above_12():
    # Only the last value has a day above 12 ("1/13/2025"): it decides the whole column.
    base = [sf.Response(dt.datetime(2025, 1, d, 9, 0, 0), "กองคลัง", ("มาก",) * 5) for d in (2, 5, 13)]
    parsed = parse_survey_file(sf.google_csv(base, locale="en"))
    assert [t.day for t in local_times(parsed)] == [2, 5, 13]
    assert [t.month for t in local_times(parsed)] == [1, 1, 1]


def test_google_xlsx_thai_locale_buddhist_era_day_first(engine, org):
    responses = sf.make_responses(25, start=dt.datetime(2025, 2, 3, 7, 0, 0))
    data = sf.google_xlsx(responses, locale="th")
    parsed = parse_survey_file(data)
    assert parsed.timestamp_column == "ประทับเวลา"
    assert parsed.sheet_name == "การตอบกลับแบบฟอร์ม 1"
    assert local_times(parsed) == [r.at for r in responses]
    r = do_import(engine, org, data, name="th.xlsx")
    assert (r.imported, r.fiscal_year) == (25, 2568)


def test_thai_locale_day_first_even_when_no_day_above_12():
    rows = [sf.Response(dt.datetime(2025, 3, d, 10, 0, 0), "กองช่าง", ("มาก",) * 5) for d in (1, 2, 3)]
    parsed = parse_survey_file(sf.google_csv(rows, locale="th"))
    assert [(t.day, t.month, t.year) for t in local_times(parsed)] == [(1, 3, 2025), (2, 3, 2025), (3, 3, 2025)]


def test_google_xlsx_datetime_cells():
    responses = sf.make_responses(10)
    parsed = parse_survey_file(sf.google_xlsx(responses, locale="en", as_datetime=True))
    assert local_times(parsed) == [r.at for r in responses]
    assert all(r.submitted_at.tzinfo is not None for r in parsed.rows)


@pytest.mark.parametrize("thai_headers", [True, False])
def test_microsoft_forms_xlsx(engine, org, thai_headers):
    responses = sf.make_responses(12)
    data = sf.ms_forms_xlsx(responses, thai_headers=thai_headers)
    parsed = parse_survey_file(data)
    assert parsed.timestamp_column == ("เวลาที่เสร็จสมบูรณ์" if thai_headers else "Completion time")
    assert parsed.id_columns[0] == ("รหัส" if thai_headers else "ID")
    assert parsed.department_column == "ส่วนราชการที่ท่านมาติดต่อ"
    assert parsed.source_format == "microsoft_forms"
    assert local_times(parsed) == [r.at for r in responses]  # completion, not start time
    assert len(parsed.answer_columns) == len(sf.QUESTIONS)
    r = do_import(engine, org, data, instrument="eit", name="ms.xlsx")
    assert r.imported == 12


@pytest.mark.parametrize("encoding", ["cp874", "utf-8", "utf-8-sig"])
def test_csv_encodings(engine, org, encoding):
    responses = sf.make_responses(18)
    data = sf.google_csv(responses, encoding=encoding)
    parsed = parse_survey_file(data)
    assert Counter(r.department_text for r in parsed.rows) == Counter(r.department for r in responses)
    assert parsed.rows[0].answers[sf.QUESTIONS[0]] == responses[0].answers[0]
    r = do_import(engine, org, data)
    assert r.imported == 18 and sum(count_by_department(engine, org).values()) == 18


def test_title_rows_above_header():
    title = [["แบบวัดการรับรู้ของผู้มีส่วนได้ส่วนเสียภายใน (IIT) ปีงบประมาณ 2568"], ["เทศบาลตำบลตัวอย่าง"], []]
    responses = sf.make_responses(9)
    parsed = parse_survey_file(sf.google_csv(responses, title_rows=title))
    assert parsed.header_row == 4
    assert parsed.rows[0].row_number == 5
    assert len(parsed.rows) == 9
    data = sf.xlsx_bytes({"Sheet1": [*title, *sf.google_rows(responses, as_datetime=True)]})
    parsed = parse_survey_file(data)
    assert (parsed.header_row, len(parsed.rows), parsed.rows[-1].row_number) == (4, 9, 13)


def test_workbook_with_several_sheets_picks_the_responses():
    responses = sf.make_responses(15)
    data = sf.xlsx_bytes({
        "สรุป": [["ส่วนราชการ", "จำนวนผู้ตอบ"], *[[d, 3] for d in sf.DEPARTMENTS]],
        "คำชี้แจง": [["กรุณาตอบแบบสำรวจภายในวันที่ 31 ก.ค. 2568"]],
        "การตอบกลับฟอร์ม 1": sf.google_rows(responses, locale="th"),
    })
    parsed = parse_survey_file(data)
    assert parsed.sheet_name == "การตอบกลับฟอร์ม 1"
    assert len(parsed.rows) == 15


def test_generic_sheet_with_date_and_department_only(engine, org):
    responses = sf.make_responses(20)
    data = sf.generic_xlsx(responses)
    parsed = parse_survey_file(data)
    assert (parsed.timestamp_column, parsed.department_column, parsed.header_row) == ("วันที่", "สังกัด", 3)
    assert parsed.answer_columns == []
    assert "ลำดับ" in parsed.mapping_used["ignored"]
    r = do_import(engine, org, data, name="register.xlsx")
    assert (r.imported, r.rejected) == (20, 0)
    assert sum(count_by_department(engine, org).values()) == 20


def test_thai_month_names_and_digits():
    rows = [["วันที่ตอบ", "สังกัด"], ["๑๔ ม.ค. ๒๕๖๘ ๑๘:๒๙", "กองคลัง"], ["3 กุมภาพันธ์ 2568", "กองช่าง"]]
    parsed = parse_survey_file(sf.csv_bytes(rows))
    assert local_times(parsed) == [dt.datetime(2025, 1, 14, 18, 29), dt.datetime(2025, 2, 3)]


# --- every timestamp form the programs write ---------------------------------------------------

# (text as written, English header?, Bangkok time). Where the text alone leaves the day/month
# order open, the English-header flag and the locale's habits decide (see locale_day_first).
TIMESTAMP_FORMS = [
    # Google Forms' own "Download responses (.csv)": year first, 12- or 24-hour, the form's zone
    ("2026/01/05 7:18:31 AM GMT+7", True, dt.datetime(2026, 1, 5, 7, 18, 31)),
    ("2026/01/05 7:18:31 PM GMT+7", True, dt.datetime(2026, 1, 5, 19, 18, 31)),
    ("2026/01/05 12:05:40 PM GMT+7", True, dt.datetime(2026, 1, 5, 12, 5, 40)),
    ("2026/01/05 12:15:09 AM GMT+7", True, dt.datetime(2026, 1, 5, 0, 15, 9)),
    ("2026/01/05 7:18:31 AM GMT+07:00", True, dt.datetime(2026, 1, 5, 7, 18, 31)),
    ("2026/01/05 7:18:31 AM GMT+0700", True, dt.datetime(2026, 1, 5, 7, 18, 31)),
    ("2026/01/05 19:18:31 GMT+7", True, dt.datetime(2026, 1, 5, 19, 18, 31)),
    ("2026/01/05 12:18:31 AM GMT", True, dt.datetime(2026, 1, 5, 7, 18, 31)),
    ("2026/01/05 17:18:31 GMT", True, dt.datetime(2026, 1, 6, 0, 18, 31)),
    ("2026/01/05 7:18:31 pm GMT+5:30", True, dt.datetime(2026, 1, 5, 20, 48, 31)),
    ("2026/01/05 7:18:31 AM ICT", True, dt.datetime(2026, 1, 5, 7, 18, 31)),
    ("2026/01/05 7:18:31 AM EST", True, dt.datetime(2026, 1, 5, 19, 18, 31)),
    ("1/5/2026 19:18:31 GMT+7", True, dt.datetime(2026, 1, 5, 19, 18, 31)),
    # Google Sheets' CSV download: en-US month first; Thai locale day first with a comma, BE or CE
    ("1/5/2026 7:18:31", True, dt.datetime(2026, 1, 5, 7, 18, 31)),
    ("5/1/2569, 7:18:31", False, dt.datetime(2026, 1, 5, 7, 18, 31)),
    ("5/1/2569, 7:18:31", True, dt.datetime(2026, 1, 5, 7, 18, 31)),
    ("5/1/2026, 7:18:31", True, dt.datetime(2026, 1, 5, 7, 18, 31)),
    ("5/1/2026, 7:18:31", False, dt.datetime(2026, 1, 5, 7, 18, 31)),
    ("๕/๑/๒๕๖๙, ๗:๑๘:๓๑", False, dt.datetime(2026, 1, 5, 7, 18, 31)),
    # Microsoft Forms' workbook saved as CSV by Excel: en-US m/d/yy, 24- or 12-hour; Thai Excel d/m/BE
    ("1/5/26 7:18:31", True, dt.datetime(2026, 1, 5, 7, 18, 31)),
    ("1/5/26 7:18:31 AM", False, dt.datetime(2026, 1, 5, 7, 18, 31)),
    ("1/5/26 7:18 PM", True, dt.datetime(2026, 1, 5, 19, 18)),
    ("5/1/2569 7:18", False, dt.datetime(2026, 1, 5, 7, 18)),
    ("5/1/2569 7:18:31 ก่อนเที่ยง", False, dt.datetime(2026, 1, 5, 7, 18, 31)),
    ("5/1/2569 7:18:31 หลังเที่ยง", False, dt.datetime(2026, 1, 5, 19, 18, 31)),
    ("5/1/2569 12:05:00 หลังเที่ยง", False, dt.datetime(2026, 1, 5, 12, 5)),
    ("5/1/2569 ก่อนเที่ยง 7:18:31", False, dt.datetime(2026, 1, 5, 7, 18, 31)),
    # ISO 8601 (APIs, Power Automate), with and without an offset
    ("2026-01-05T00:18:31Z", True, dt.datetime(2026, 1, 5, 7, 18, 31)),
    ("2026-01-05T00:18:31.378Z", True, dt.datetime(2026, 1, 5, 7, 18, 31)),
    ("2026-01-05 07:18:31+07:00", False, dt.datetime(2026, 1, 5, 7, 18, 31)),
    ("2026-01-05 07:18:31", False, dt.datetime(2026, 1, 5, 7, 18, 31)),
    # written by hand or by custom formats
    ("5 ม.ค. 2569 07.18 น.", False, dt.datetime(2026, 1, 5, 7, 18)),
    ("วันจันทร์ที่ 5 มกราคม พ.ศ. 2569 เวลา 7:18 น.", False, dt.datetime(2026, 1, 5, 7, 18)),
    ("January 5, 2026 at 7:18:31 PM", True, dt.datetime(2026, 1, 5, 19, 18, 31)),
    ("5-Jan-2026 07:18", True, dt.datetime(2026, 1, 5, 7, 18)),
]


@pytest.mark.parametrize("text,english_header,expected", TIMESTAMP_FORMS, ids=[f[0] for f in TIMESTAMP_FORMS])
def test_timestamp_forms(text, english_header, expected):
    when = TimestampReader([text], english_header=english_header).read(text)
    assert when is not None and when.tzinfo is not None, text
    assert when.astimezone(BKK).replace(tzinfo=None) == expected


@pytest.mark.parametrize("text", [
    "", "ไม่ทราบ", "########", "31/2/2569, 10:00:00", "13/13/2025", "2026/01/05 13:18:31 AM",
    "2026/01/05 7:18:31 AM AST",  # an ambiguous zone (Atlantic or Arabia) is not guessed
    "2026/01/05 7:18:31 AM GMT+25", "08:15", "12500.00", "Sec A (id 01-81)", "=1+1", "5 Foo 2026",
])
def test_timestamp_texts_that_are_not_read(text):
    assert TimestampReader([text]).read(text) is None


def test_timestamp_order_is_decided_per_column():
    # One value above 12 decides the whole column, whatever the header says.
    column = ["1/5/2026 7:18:31", "1/13/2026 9:00:00"]
    assert TimestampReader(column, english_header=False).read(column[0]).month == 1
    column = ["5/1/2026 7:18:31", "13/1/2026 9:00:00"]
    assert TimestampReader(column, english_header=True).read(column[0]).month == 1
    # Nothing decides: an English marker means en-US, a BE year Thai, the Thai comma day first.
    assert TimestampReader(["1/5/2026 7:18 AM"]).read("1/5/2026 7:18 AM").month == 1
    assert TimestampReader(["5/1/2569 7:18"], english_header=True).read("5/1/2569 7:18").month == 1
    assert TimestampReader(["5/1/2026, 7:18:31"], english_header=True).read("5/1/2026, 7:18:31").month == 1
    assert TimestampReader(["1/5/2026 7:18:31"], english_header=True).read("1/5/2026 7:18:31").month == 1
    assert TimestampReader(["5/1/2026 7:18:31"], english_header=False).read("5/1/2026 7:18:31").month == 1


def test_split_date_text_keeps_the_zone_and_the_thai_comma():
    p = split_date_text("2026/01/05 7:18:31 PM GMT+07:00")
    assert (p.year_first, p.ampm, p.offset_minutes) == (True, "pm", 420)
    p = split_date_text("5/1/2569, 7:18:31")
    assert (p.buddhist_era, p.comma, p.offset_minutes) == (True, True, None)


def test_google_forms_download_is_read_not_refused():
    """Issue 11: Forms' own download was refused with "no Timestamp column"."""
    rows = [["Timestamp", sf.DEPARTMENT_QUESTION, *sf.QUESTIONS]]
    for r in sf.make_responses(8):
        hour = r.at.hour % 12 or 12
        rows.append([f"{r.at:%Y/%m/%d} {hour}:{r.at:%M:%S} {'AM' if r.at.hour < 12 else 'PM'} GMT+7", r.department, *r.answers])
    parsed = parse_survey_file(sf.csv_bytes(rows, encoding="utf-8"))
    assert local_times(parsed) == [r.at for r in sf.make_responses(8)]
    assert parsed.source_format == "google_forms" and parsed.rejected == []


def test_datetime_cells_typed_in_buddhist_era_are_corrected():
    # Thai users type 5/1/2569 into an Excel set to the Gregorian calendar: the cell holds year 2569.
    rows = [["ประทับเวลา", "สังกัด", "ข้อ 1"], [dt.datetime(2569, 1, 5, 7, 18, 31), "กองคลัง", "มาก"],
            [dt.datetime(2026, 1, 6, 9, 0, 0), "กองช่าง", "น้อย"]]
    parsed = parse_survey_file(sf.xlsx_bytes({"Sheet1": rows}))
    assert local_times(parsed) == [dt.datetime(2026, 1, 5, 7, 18, 31), dt.datetime(2026, 1, 6, 9, 0, 0)]


def test_excel_serial_numbers_under_a_timestamp_header():
    # A date cell that lost its format comes back as Excel's day number.
    serial = (dt.datetime(2026, 1, 5, 7, 18, 31) - dt.datetime(1899, 12, 30)).total_seconds() / 86400
    rows = [["Timestamp", "สังกัด", "ข้อ 1"], [serial, "กองคลัง", "มาก"], [serial + 1, "กองช่าง", "น้อย"]]
    parsed = parse_survey_file(sf.xlsx_bytes({"Sheet1": rows}))
    assert local_times(parsed) == [dt.datetime(2026, 1, 5, 7, 18, 31), dt.datetime(2026, 1, 6, 7, 18, 31)]


@pytest.mark.parametrize("header,value,first", [
    ("Timestamp", "########", True),  # Excel saved a too-narrow date column as CSV
    ("ประทับเวลา", "เมื่อวานตอนเช้า", True),
    ("Completion time", "45662.30452546296x", True),
])
def test_unreadable_timestamp_column_is_named_with_its_first_cell(header, value, first):
    rows = [[header, sf.DEPARTMENT_QUESTION, sf.QUESTIONS[0]]] + [[value, "กองคลัง", "มาก"] for _ in range(5)]
    with pytest.raises(FileProblem) as info:
        parse_survey_file(sf.csv_bytes(rows), filename="export.csv")
    message = str(info.value)
    assert f"พบคอลัมน์ “{header}” แต่อ่านค่าในแถวแรก “{value}”" in message
    assert "\n" not in message and "ไม่มีคอลัมน์วันเวลา" not in message


def test_unreadable_timestamp_names_the_first_value_that_fails():
    rows = [["Timestamp", sf.DEPARTMENT_QUESTION, sf.QUESTIONS[0]], ["1/14/2025 18:29:56", "กองคลัง", "มาก"]]
    rows += [["ไม่ระบุ", "กองคลัง", "มาก"] for _ in range(4)]
    with pytest.raises(FileProblem, match="พบคอลัมน์ “Timestamp” แต่อ่านค่า“ไม่ระบุ” \\(แถว 3\\)"):
        parse_survey_file(sf.csv_bytes(rows))


def test_unreadable_timestamp_is_not_replaced_by_another_date_column():
    # A birth-date answer reads as dates, but the column named Timestamp is the submitted time.
    rows = [["Timestamp", sf.DEPARTMENT_QUESTION, "วันเดือนปีเกิด", sf.QUESTIONS[0]]]
    rows += [["########", "กองคลัง", f"{d}/3/2530", "มาก"] for d in range(1, 6)]
    with pytest.raises(FileProblem, match="พบคอลัมน์ “Timestamp” แต่อ่านค่าในแถวแรก “########” \\(แถว 2\\)"):
        parse_survey_file(sf.csv_bytes(rows))


# --- not a survey ----------------------------------------------------------------------------


def _asset_register() -> bytes:
    rows = [["ลำดับ", "วันที่ได้มา", "เลขทะเบียนครุภัณฑ์", "ชื่อครุภัณฑ์", "หมายเลขเครื่อง", "ราคา (บาท)", "ส่วนราชการ"]]
    for i in range(5):
        rows.append([i + 1, dt.datetime(2025, 11, 3 + i), f"7440-001-000{i + 1}", "เครื่องคอมพิวเตอร์",
                     f"SN{48213 + 17 * i}K", f"{21000 + 450 * i:,}.00", sf.DEPARTMENTS[i]])
    return sf.xlsx_bytes({"ทะเบียนครุภัณฑ์": rows})


def _attendance() -> bytes:
    rows = [["ที่", "ชื่อ-สกุล", "ตำแหน่ง", "สังกัด", "วันที่", "เวลามา", "เวลากลับ"]]
    for i in range(10):
        rows.append([i + 1, f"ชื่อ {i}", f"ตำแหน่ง {i}", sf.DEPARTMENTS[i % 6], "5/1/2569", f"08:{i + 10}", f"16:{i + 31}"])
    return sf.csv_bytes(rows)


def _budget() -> bytes:
    rows = [["วันที่เบิก", "กอง", "รหัสงบประมาณ", "รายการ", "จำนวนเงิน", "คงเหลือ"]]
    for i in range(8):
        rows.append([f"{i + 3}/2/2569", sf.DEPARTMENTS[i % 6], f"0080{i}1234", f"ค่าวัสดุ {i}", 1234.5 * (i + 1), 98765.25 - i])
    return sf.xlsx_bytes({"Sheet1": rows})


def _payroll() -> bytes:
    rows = [["เดือน", "สังกัด", "ชื่อ-สกุล", "เลขบัญชี", "เงินเดือน", "ภาษีหัก ณ ที่จ่าย", "รับสุทธิ"]]
    for i in range(9):
        rows.append([dt.date(2026, 1, 31), sf.DEPARTMENTS[i % 6], f"พนักงาน {i}", f"020-1-{34567 + i:05d}-{i}",
                     f"{18000 + 730 * i:,}.00", f"{350 + 12.5 * i:,.2f}", f"{17650 + 717.5 * i:,.2f}"])
    return sf.xlsx_bytes({"Sheet1": rows})


def _registration_form() -> bytes:
    rows = [["Timestamp", "ชื่อ-นามสกุล", "ตำแหน่ง", "สังกัด", "เบอร์โทรศัพท์"]]
    for i, r in enumerate(sf.make_responses(7)):
        rows.append([sf.google_en(r.at), f"ชื่อ {i}", f"นักวิชาการ {i}", r.department, f"08{1234567 + i * 7919:08d}"])
    return sf.csv_bytes(rows)


def _leave_register() -> bytes:
    rows = [["วันที่ยื่น", "ชื่อ-สกุล", "สังกัด", "ประเภทการลา", "ตั้งแต่วันที่", "ถึงวันที่", "จำนวนวัน"]]
    for i in range(8):
        start = dt.date(2026, 2, 2 + i)
        rows.append([dt.datetime(2026, 1, 16 + i, 9), f"พนักงาน {i}", sf.DEPARTMENTS[i % 6], ("ลาป่วย", "ลากิจ")[i % 2],
                     start, start + dt.timedelta(days=i % 3), 1 + i % 3])
    return sf.xlsx_bytes({"ทะเบียนการลา": rows})


def _complaints() -> bytes:
    rows = [["วันที่รับเรื่อง", "เลขที่รับ", "ผู้ร้องเรียน", "เรื่อง", "หน่วยงานที่รับผิดชอบ", "ผลการดำเนินการ"]]
    for i in range(7):
        rows.append([f"{i + 2} ก.พ. 2569", f"{i + 14}/2569", f"นาย ก. {i}", f"ถนนชำรุดบริเวณหมู่ที่ {i + 1} ขอให้ซ่อมแซมโดยด่วน",
                     sf.DEPARTMENTS[i % 6], ("ดำเนินการแล้ว", "อยู่ระหว่างดำเนินการ")[i % 2]])
    return sf.csv_bytes(rows)


NOT_SURVEYS = {"asset register": _asset_register, "attendance list": _attendance, "budget": _budget,
               "payroll": _payroll, "training registration form": _registration_form,
               "leave register": _leave_register, "complaints register": _complaints}


@pytest.mark.parametrize("kind", list(NOT_SURVEYS))
def test_files_that_are_not_surveys_are_refused(kind):
    data = NOT_SURVEYS[kind]()
    with pytest.raises(NotASurvey) as info:
        parse_survey_file(data, filename=f"{kind}.xlsx")
    assert isinstance(info.value, FileProblem)
    assert "ไม่ใช่คำตอบแบบสำรวจ" in str(info.value) and "\n" not in str(info.value)
    parsed = parse_survey_file(data, allow_non_survey=True)  # the upload page's "import anyway"
    assert parsed.not_a_survey_reason == str(info.value)
    assert parsed.rows


def test_survey_with_comments_and_respondent_details_is_a_survey():
    rows = [["Timestamp", "เพศ", "อายุ", "เบอร์โทรติดต่อกลับ (ถ้ามี)", sf.DEPARTMENT_QUESTION, *sf.QUESTIONS,
             "ข้อเสนอแนะเพิ่มเติม", "ความคิดเห็นอื่น ๆ"]]
    for i, r in enumerate(sf.make_responses(20)):
        comment = f"ความเห็นที่ {i}: ควรปรับปรุงการให้บริการ ลดขั้นตอน และประชาสัมพันธ์ให้ทั่วถึงมากขึ้น" if i % 3 else ""
        rows.append([sf.google_en(r.at), "ชาย" if i % 2 else "หญิง", 23 + i * 2, f"08{1000000 + i * 7919:08d}",
                     r.department, *r.answers, comment, f"อื่น ๆ {i}" if i % 4 == 0 else ""])
    parsed = parse_survey_file(sf.csv_bytes(rows))
    assert parsed.not_a_survey_reason is None and len(parsed.rows) == 20


def test_builder_surveys_are_surveys():
    responses = sf.make_responses(12)
    for data in (sf.google_csv(responses), sf.google_xlsx(responses), sf.ms_forms_xlsx(responses),
                 sf.ms_forms_xlsx(responses, thai_headers=True), sf.generic_xlsx(responses)):
        assert parse_survey_file(data).not_a_survey_reason is None


def test_demo_exports_are_surveys(engine):
    from ita_dashboard.demo import load_demo

    with db.session_scope(engine) as s:
        result = load_demo(s)  # pushes its generated exports through parse_survey_file
    assert result is not None
    assert response_count(engine) > 0


# --- nothing lost, nothing doubled ------------------------------------------------------------


def test_cumulative_reexport_imports_only_new_rows(engine, org):
    week1 = sf.make_responses(40, start=dt.datetime(2025, 1, 6, 8, 0), step_minutes=60)
    week2 = sf.make_responses(25, start=dt.datetime(2025, 1, 13, 8, 0), step_minutes=60, seed=2)
    r1 = do_import(engine, org, sf.google_csv(week1))
    r2 = do_import(engine, org, sf.google_csv(week1 + week2))
    assert (r1.imported, r1.duplicate) == (40, 0)
    assert (r2.read, r2.imported, r2.duplicate) == (65, 25, 40)
    assert response_count(engine) == 65


def test_same_responses_as_csv_then_xlsx_are_not_doubled(engine, org):
    responses = sf.make_responses(10)
    do_import(engine, org, sf.google_csv(responses, locale="en"))
    r = do_import(engine, org, sf.google_xlsx(responses, locale="en", as_datetime=True), name="again.xlsx")
    assert (r.imported, r.duplicate) == (0, 10)


def test_same_file_twice_imports_nothing(engine, org):
    data = sf.google_csv(sf.make_responses(20))
    do_import(engine, org, data)
    r = do_import(engine, org, data)
    assert (r.read, r.imported, r.duplicate, r.rejected) == (20, 0, 20, 0)
    assert response_count(engine) == 20
    with db.session_scope(engine) as s:
        assert s.execute(select(func.count(ImportBatch.id))).scalar_one() == 2


def test_identical_rows_in_one_file_are_one_response(engine, org):
    one = sf.make_responses(1)[0]
    r = do_import(engine, org, sf.google_csv([one, one, one]))
    assert (r.read, r.imported, r.duplicate) == (3, 1, 2)


def test_identical_rows_with_a_date_only_are_each_a_response(engine, org):
    """Paper forms keyed with the date only: the same answers on the same day are different people.
    The same file again adds none; a longer cumulative sheet adds only its new repeats."""
    one = sf.make_responses(1)[0]
    day = f"{one.at.day}/{one.at.month}/{one.at.year + 543}"
    header = ["วันที่", sf.DEPARTMENT_QUESTION, *sf.QUESTIONS]
    three = [header, *([day, one.department, *one.answers] for _ in range(3))]
    r = do_import(engine, org, sf.csv_bytes(three))
    assert (r.read, r.imported, r.duplicate) == (3, 3, 0)
    r = do_import(engine, org, sf.csv_bytes(three), name="again.csv")
    assert (r.read, r.imported, r.duplicate) == (3, 0, 3)
    r = do_import(engine, org, sf.csv_bytes([*three, [day, one.department, *one.answers]]), name="more.csv")
    assert (r.read, r.imported, r.duplicate, r.new) == (4, 1, 3, 1)
    assert response_count(engine) == 4


def test_repeat_keys_leave_first_keys_as_they_were():
    """Keys already stored were made by respondent_key: a file's first occurrence keeps that key."""
    at = dt.datetime(2025, 1, 6, tzinfo=ZoneInfo("Asia/Bangkok"))
    row = ParsedRow(2, at, "กองคลัง", {"q1": "มาก"})
    timed = ParsedRow(3, at.replace(hour=9), "กองคลัง", {"q1": "มาก"})
    unique, keys = survey_keys.unique_rows([row, row, row, timed, timed])
    first = survey_keys.respondent_key(row)
    assert keys == [first, survey_keys.repeat_key(first, 2), survey_keys.repeat_key(first, 3),
                    survey_keys.respondent_key(timed)]
    assert len(set(keys)) == 4 and len(unique) == 4


def _with_notes(rows: list[list], notes: dict[int, str]) -> list[list]:
    """A Google Sheet's rows after its owner added a note column at the right (notes by row index)."""
    return [[*rows[0], "หมายเหตุ (เจ้าหน้าที่)"], *([*r, notes.get(i, "")] for i, r in enumerate(rows[1:]))]


def test_columns_added_at_the_right_do_not_count_rows_twice(engine, org):
    """The owner adds a note column to the Sheet: the next download is another form, and its rows
    that the first form holds stay one response each, notes or not, now and in later downloads."""
    responses = sf.make_responses(12)
    do_import(engine, org, sf.csv_bytes(sf.google_rows(responses[:10])))
    noted = _with_notes(sf.google_rows(responses), {0: "โทรยืนยันแล้ว", 3: "ตรวจแล้ว"})
    r = do_import(engine, org, sf.csv_bytes(noted), name="notes.csv")
    assert (r.read, r.imported, r.duplicate) == (12, 2, 10)
    renoted = _with_notes(sf.google_rows(responses), {0: "ติดตามแล้ว", 5: "ตรวจแล้ว", 11: "ใหม่"})
    r = do_import(engine, org, sf.csv_bytes(renoted), name="notes-again.csv")
    assert (r.read, r.imported, r.duplicate) == (12, 0, 12)
    assert count_by_department(engine, org) == Counter(x.department for x in responses)
    with db.session_scope(engine) as s:
        forms = s.execute(select(SurveyForm).order_by(SurveyForm.id)).scalars().all()
        assert [f.key_columns for f in forms] == [None, sorted(sf.QUESTIONS)]


def test_a_known_form_keeps_the_key_columns_it_was_made_with(engine, org):
    """A file of a known form makes its keys as that form's stored keys were made: of the columns
    recorded with the form, or of every column when ``key_columns`` is NULL (every form made
    before the rule, as the migration leaves them)."""
    responses = sf.make_responses(8)
    do_import(engine, org, sf.csv_bytes(sf.google_rows(responses[:6])))
    noted = sf.csv_bytes(_with_notes(sf.google_rows(responses), {1: "โทรยืนยันแล้ว"}))
    do_import(engine, org, noted, name="notes.csv")
    parsed = parse_survey_file(noted, filename="notes.csv")

    def cut(s):
        return survey_import._key_columns(s, organization_id=org["id"], fiscal_year=2568, instrument=Instrument.iit,
                                          signature=parsed.signature, columns=parsed.answer_columns)

    with db.session_scope(engine) as s:
        assert cut(s) == frozenset(sf.QUESTIONS)
        form = s.execute(select(SurveyForm).where(SurveyForm.signature == parsed.signature)).scalar_one()
        form.key_columns = None
    with db.session_scope(engine) as s:
        assert cut(s) is None


@pytest.mark.parametrize("earlier, expected", [
    ([(["q1", "q2", "q3"], None)], {"q1", "q2", "q3"}),  # a note column added at the right
    ([(["q1", "q2", "q3", "n1"], None)], None),  # the same columns: nothing added
    ([(["q1", "q2"], None), (["q1", "q2", "q3"], None)], {"q1", "q2", "q3"}),  # the direct predecessor
    ([(["q1", "q2", "q3"], ["q1", "q2"])], {"q1", "q2"}),  # keyed as that form keys its own rows
    ([(["q2", "q1", "q3"], None)], None),  # not the file's first columns in order
    ([(["x1", "q1"], None)], None),  # another form (a question this file lacks)
    ([(["q1"], None)], None),  # a form of far fewer questions (a partial sheet): not a predecessor
    ([([], None)], None),
])
def test_key_columns(earlier, expected):
    got = survey_keys.key_columns(["q1", "q2", "q3", "n1"], earlier)
    assert got == (frozenset(expected) if expected is not None else None)


def test_a_partial_form_does_not_narrow_the_keys_of_the_next_download(engine, org):
    """A short form of the year (a partial sheet, undone or not) is no predecessor: the next download
    with a note column is keyed as the full form it extends, and nothing counts twice."""
    responses = sf.make_responses(10)
    do_import(engine, org, sf.csv_bytes(sf.google_rows(responses)))
    partial = [r[:4] for r in sf.google_rows(sf.make_responses(2, seed=9))]  # time, department, 2 questions
    undo_batch_id = do_import(engine, org, sf.csv_bytes(partial), name="partial.csv").batch_id
    with db.session_scope(engine) as s:
        undo_batch(s, batch_id=undo_batch_id, user_id=None)
    noted = _with_notes(sf.google_rows([*responses, *sf.make_responses(2, seed=11)]), {0: "โทรยืนยันแล้ว"})
    r = do_import(engine, org, sf.csv_bytes(noted), name="notes.csv")
    assert (r.read, r.imported, r.duplicate) == (12, 2, 10)
    assert response_count(engine) == 12


def test_identical_date_only_rows_with_one_response_id_are_one_response(engine, org):
    """The repeat rule is for rows that name no respondent: the same ID twice is one response."""
    one = sf.make_responses(1)[0]
    day = f"{one.at.day}/{one.at.month}/{one.at.year + 543}"
    rows = [["วันที่", "อีเมล", sf.DEPARTMENT_QUESTION, *sf.QUESTIONS],
            *([day, "staff1@test.go.th", one.department, *one.answers] for _ in range(2))]
    r = do_import(engine, org, sf.csv_bytes(rows))
    assert (r.read, r.imported, r.duplicate) == (2, 1, 1)


def test_ms_forms_id_separates_identical_answers(engine, org):
    one = sf.make_responses(1)[0]
    r = do_import(engine, org, sf.ms_forms_xlsx([one, one]), instrument="eit", name="ms.xlsx")
    assert (r.imported, r.duplicate) == (2, 0)  # two submissions: IDs 1 and 2


def test_bad_timestamps_are_rejected_with_row_and_column(engine, org):
    good = sf.make_responses(3)
    rows = sf.google_rows(good, locale="th")
    rows.insert(2, ["ไม่ทราบ", "กองคลัง", *good[0].answers])  # file row 3
    rows.insert(3, ["", "กองช่าง", *good[1].answers])  # file row 4
    rows.insert(4, ["31/2/2568, 10:00:00", "กองช่าง", *good[1].answers])  # file row 5: no 31 Feb
    rows.append([])  # trailing blank lines are not rows
    r = do_import(engine, org, sf.csv_bytes(rows))
    assert (r.read, r.imported, r.rejected) == (6, 3, 3)
    assert [x["row"] for x in r.rejected_rows] == [3, 4, 5]
    assert {x["column"] for x in r.rejected_rows} == {"ประทับเวลา"}
    assert all(THAI.search(x["reason"]) for x in r.rejected_rows)
    assert "ไม่ทราบ" in r.rejected_rows[0]["reason"]
    with db.session_scope(engine) as s:
        batch = s.get(ImportBatch, r.batch_id)
        assert batch.rejected_count == 3 and [x["row"] for x in batch.rejected_rows] == [3, 4, 5]
        out = rejected_rows_csv(batch)
    assert out.startswith("\ufeff".encode())
    assert out.decode("utf-8-sig").splitlines()[0] == "แถว,คอลัมน์,เหตุผล"


def test_rows_outside_the_fiscal_year_are_rejected(engine, org):
    inside = sf.make_responses(5, start=dt.datetime(2025, 9, 29, 8, 0), step_minutes=60)
    outside = sf.make_responses(2, start=dt.datetime(2025, 10, 2, 8, 0), seed=3)  # FY 2569
    r = do_import(engine, org, sf.google_csv(inside + outside))
    assert (r.fiscal_year, r.imported, r.rejected) == (2568, 5, 2)
    assert all("ปีงบประมาณ 2568" in x["reason"] for x in r.rejected_rows)
    r = do_import(engine, org, sf.google_csv(inside + outside), fiscal_year=2569)
    assert (r.fiscal_year, r.imported, r.rejected) == (2569, 2, 5)


def test_rejected_rows_csv_neutralises_formulas():
    batch = ImportBatch(organization_id=1, kind="survey_iit", file_name="x", sha256="0",
                        rejected_rows=[{"row": 2, "column": "=HYPERLINK(\"x\")", "reason": "+1"},
                                       {"row": 3, "column": "@SUM(A1)", "reason": "-2"}])
    text = rejected_rows_csv(batch).decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'@SUM" in text and "'+1" in text and "'-2" in text


# --- departments --------------------------------------------------------------------------------


def test_unknown_department_kept_then_mapped_by_alias(engine, org):
    responses = sf.make_responses(6)
    odd = [sf.Response(r.at, "งานยุทธศาสตร์", r.answers) for r in sf.make_responses(4, seed=9, start=dt.datetime(2025, 2, 1))]
    blank = [sf.Response(dt.datetime(2025, 3, 1, 9, 0), "", ("มาก",) * 5)]
    r = do_import(engine, org, sf.google_csv(responses + odd + blank))
    assert r.imported == 11
    assert r.unmatched_departments == {"งานยุทธศาสตร์": 4, "(ไม่ระบุ)": 1}
    with db.session_scope(engine) as s:  # the admin page's list of names to map: blanks are not a name
        assert unresolved_names(s, organization_id=org["id"], fiscal_year=r.fiscal_year) == {"งานยุทธศาสตร์": 4}
    with db.session_scope(engine) as s:
        rows = s.execute(select(SurveyResponse.department_id).where(SurveyResponse.department_text == "งานยุทธศาสตร์")).scalars().all()
        assert rows == [None] * 4
        n = map_department_alias(s, organization_id=org["id"], written="งานยุทธศาสตร์", department_id=org["deps"]["สำนักปลัดเทศบาล"])
    assert n == 4
    assert count_by_department(engine, org)["สำนักปลัดเทศบาล"] == 1 + 4
    with db.session_scope(engine) as s:
        dep = s.get(Department, org["deps"]["สำนักปลัดเทศบาล"])
        assert dep.aliases == ["งานยุทธศาสตร์"]
        assert s.execute(select(AuditEvent).where(AuditEvent.action == "department.alias")).scalar_one()
        with pytest.raises(SurveyImportError):
            map_department_alias(s, organization_id=org["id"], written="  ", department_id=dep.id)
    # The next upload resolves the spelling by itself.
    more = [sf.Response(dt.datetime(2025, 4, 1, 9, 0), "งานยุทธศาสตร์", ("มาก",) * 5)]
    r = do_import(engine, org, sf.google_csv(more))
    assert r.unmatched_departments == {}


def test_two_overlapping_uploads_at_the_same_moment_lose_and_double_nothing(engine, org):
    """Two admins upload overlapping exports at once: both succeed, every row is stored once."""
    import threading

    responses = sf.make_responses(300, seed=21)
    files = [sf.google_csv(responses[:200]), sf.google_csv(responses[100:])]
    barrier = threading.Barrier(2)
    results, errors = [], []

    def upload(data: bytes) -> None:
        parsed = parse_survey_file(data, filename="export.csv")
        barrier.wait()
        try:
            with db.session_scope(engine) as s:
                results.append(import_survey(s, organization_id=org["id"], instrument="iit", parsed=parsed,
                                             fiscal_year=None, file_name="export.csv", file_bytes=data, user_id=None))
        except Exception as exc:  # noqa: BLE001 -- the assertion below reports it
            errors.append(repr(exc))

    threads = [threading.Thread(target=upload, args=(f,)) for f in files]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert sum(count_by_department(engine, org).values()) == 300
    assert sorted((r.imported, r.duplicate) for r in results) == [(100, 100), (200, 0)]


# --- undo and atomicity -------------------------------------------------------------------------


def test_undo_removes_the_batch_responses(engine, org):
    r1 = do_import(engine, org, sf.google_csv(sf.make_responses(10)))
    r2 = do_import(engine, org, sf.google_csv(sf.make_responses(5, seed=7, start=dt.datetime(2025, 5, 1))))
    with db.session_scope(engine) as s:
        assert undo_batch(s, batch_id=r1.batch_id, user_id=None) == 10
    assert response_count(engine) == 5
    with db.session_scope(engine) as s:
        batch = s.get(ImportBatch, r1.batch_id)
        assert batch.undone_at is not None
        with pytest.raises(SurveyImportError, match="ยกเลิกไปแล้ว"):
            undo_batch(s, batch_id=r1.batch_id, user_id=None)
        assert s.execute(select(AuditEvent).where(AuditEvent.action == "survey.undo")).scalar_one()
    # After the undo the same file imports again.
    again = do_import(engine, org, sf.google_csv(sf.make_responses(10)))
    assert again.imported == 10
    assert r2.imported == 5


def test_failure_half_way_leaves_nothing(engine, org, monkeypatch):
    monkeypatch.setattr(survey_import, "CHUNK_SIZE", 10)
    real = survey_import._insert_chunk
    calls = []

    def failing(session, params):
        calls.append(len(params))
        if len(calls) == 2:
            raise RuntimeError("disk full")
        real(session, params)

    monkeypatch.setattr(survey_import, "_insert_chunk", failing)
    data = sf.google_csv(sf.make_responses(35))
    parsed = parse_survey_file(data)
    with pytest.raises(RuntimeError):
        with db.session_scope(engine) as s:
            import_survey(s, organization_id=org["id"], instrument="iit", parsed=parsed, fiscal_year=None,
                          file_name="x.csv", file_bytes=data, user_id=None)
    assert calls == [10, 10]
    with db.session_scope(engine) as s:
        assert s.execute(select(func.count(ImportBatch.id))).scalar_one() == 0
        assert s.execute(select(func.count(SurveyResponse.id))).scalar_one() == 0
        assert s.execute(select(func.count(AuditEvent.id)).where(AuditEvent.action == "survey.import")).scalar_one() == 0
    monkeypatch.setattr(survey_import, "_insert_chunk", real)
    assert do_import(engine, org, data).imported == 35  # chunks of 10 work


def test_unknown_instrument_is_refused(engine, org):
    parsed = parse_survey_file(sf.google_csv(sf.make_responses(2)))
    with db.session_scope(engine) as s:
        with pytest.raises(SurveyImportError):
            import_survey(s, organization_id=org["id"], instrument="oit", parsed=parsed, fiscal_year=None,
                          file_name="x", file_bytes=b"x", user_id=None)


# --- mappings -----------------------------------------------------------------------------------


def test_mapping_can_be_forced_remembered_and_recalled(engine, org):
    # A register where the department column has an unhelpful header: nothing says สังกัด.
    rows = [["เวลา", "ที่มา", "หมายเหตุ"]]
    for r in sf.make_responses(8):
        rows.append([sf.google_th(r.at), r.department, "ok"])
    data = sf.csv_bytes(rows)
    auto = parse_survey_file(data)
    mapping = dict(auto.mapping_used, department="ที่มา", answers=["หมายเหตุ"])
    forced = parse_survey_file(data, mapping=mapping)
    assert forced.department_column == "ที่มา" and forced.answer_columns == ["หมายเหตุ"]
    assert Counter(r.department_text for r in forced.rows) == Counter(r.department for r in sf.make_responses(8))
    with db.session_scope(engine) as s:
        remember_mapping(s, organization_id=org["id"], signature=forced.signature, mapping=forced.mapping_used)
        remember_mapping(s, organization_id=org["id"], signature=forced.signature, mapping=forced.mapping_used)
    # A longer re-export of the same form has the same signature.
    rows.append([sf.google_th(dt.datetime(2025, 6, 1, 9, 0)), "กองคลัง", "ok"])
    again = parse_survey_file(sf.csv_bytes(rows))
    assert again.signature == auto.signature
    with db.session_scope(engine) as s:
        assert recall_mapping(s, organization_id=org["id"], signature=again.signature) == forced.mapping_used
        assert recall_mapping(s, organization_id=org["id"], signature="nope") is None
    with pytest.raises(FileProblem, match="ไม่พบคอลัมน์"):
        parse_survey_file(data, mapping={"timestamp": "ไม่มีคอลัมน์นี้"})


# --- bad files ----------------------------------------------------------------------------------


def _corrupt_xlsx() -> bytes:
    good = sf.google_xlsx(sf.make_responses(3))
    return good[: len(good) // 2]


def _zip_with_broken_sheet() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<not really")
    return buf.getvalue()


BAD_FILES = {
    "empty": b"",
    "truncated xlsx": _corrupt_xlsx(),
    "zip with broken workbook": _zip_with_broken_sheet(),
    "pdf": b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF",
    "random binary": bytes(range(256)) * 8,
    "csv header only": sf.csv_bytes([["Timestamp", sf.DEPARTMENT_QUESTION, *sf.QUESTIONS]]),
    "sheet without dates": sf.xlsx_bytes({"Sheet1": [["ชื่อ", "สังกัด", "คะแนน"], ["ก", "กองคลัง", 5], ["ข", "กองช่าง", 4]]}),
    "blank lines": b"\r\n\r\n ,, \r\n",
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_bad_files_give_a_thai_reason(name):
    with pytest.raises(FileProblem) as info:
        parse_survey_file(BAD_FILES[name], filename=name)
    assert THAI.search(str(info.value)), str(info.value)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_fuzz_bytes_raise_only_file_problem(data):
    try:
        parsed = parse_survey_file(data)
    except FileProblem:
        return
    assert parsed.read_count >= 1


_cell = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["Timestamp", "ประทับเวลา", "สังกัด", "กองคลัง", "มาก", "1/14/2025 18:29:56",
                     "14/1/2568, 18:29:56", "31/2/2568", "13/13/2025", "2025-01-14T10:00:00Z", "", "=1+1"]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_cell, max_size=6), max_size=12), st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
def test_fuzz_tables_raise_only_file_problem(rows, encoding):
    data = sf.csv_bytes(rows, encoding=encoding)
    try:
        parsed = parse_survey_file(data)
    except FileProblem:
        return
    assert parsed.read_count == len(parsed.rows) + len(parsed.rejected)
    for r in parsed.rows:
        assert r.submitted_at.tzinfo is not None


def test_answer_codes_give_back_every_answer():
    """Answers are stored as codes against the form: every answer (labels, free text, odd values)
    comes back as it was, and the column-wise JSON the import writes is json.dumps of the codes."""
    from ita_dashboard.models import SurveyForm, decode_answers

    form = SurveyForm(organization_id=1, fiscal_year=2568, instrument="iit", signature="x")
    book = survey_forms.Codebook(form)
    samples = [
        {"1. คำถาม [ก]": "มาก", 'quote "q"': "น้อย"},
        {"1. คำถาม [ก]": "มาก", 'quote "q"': "น้อย"},  # now from the scale
        {"ความคิดเห็น": "ยาว" * 100, "x\\y": "\n"},  # free text stays text
        {"list": ["not", "hashable"], "n": 5, "none": None, "empty": ""},
        {},
    ]
    coded = [book.encode(a) for a in samples]
    assert form.questions == [] and book.changed  # the form takes the lists on save()
    saved = SurveyForm(questions=book.questions, scales=book.scales)
    for a, codes in zip(samples, coded):
        assert decode_answers(json.loads(json.dumps(codes)), saved) == a
    assert book.scales[book.position["ความคิดเห็น"]] == []  # long free text is not a scale label
    questions = ["1. คำถาม [ก]", "ความคิดเห็น"]
    columns = [["มาก", None, "น้อยที่สุด"], ["ดี", "ยาว" * 100, None]]
    tokens = [book.column_tokens(q, c) for q, c in zip(questions, columns)]
    for i in range(3):
        answers = {q: c[i] for q, c in zip(questions, columns) if c[i] is not None}
        by_position = ["0"] * len(book.questions)
        for q, t in zip(questions, tokens):
            by_position[book.position[q]] = t[i]
        text = "[" + ",".join(by_position) + "]"
        assert decode_answers(json.loads(text), SurveyForm(questions=book.questions, scales=book.scales)) == answers


def test_sqlite_page_cache_is_restored_after_import(engine, org, monkeypatch):
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    data = sf.google_csv(sf.make_responses(3))
    parsed = parse_survey_file(data)

    def fail(session, params):
        raise RuntimeError("boom")

    for insert_chunk in (survey_import._insert_chunk, fail):
        monkeypatch.setattr(survey_import, "_insert_chunk", insert_chunk)
        with db.session_scope(engine) as s:
            before = s.connection().exec_driver_sql("PRAGMA cache_size").scalar()
            try:
                import_survey(s, organization_id=org["id"], instrument="iit", parsed=parsed, fiscal_year=None,
                              file_name="x.csv", file_bytes=data, user_id=None)
            except RuntimeError:
                pass
            assert s.connection().exec_driver_sql("PRAGMA cache_size").scalar() == before
            s.rollback()


# --- cumulative exports: a newer export is the form's whole state -------------------------------
#
# Google Forms lets a respondent edit an answer, and admins fix rows in the Sheet: the next
# cumulative export holds the edited row (a new timestamp, no ID) instead of the old one.


def _edited(r: sf.Response, *, at: dt.datetime, answer: str = "น้อยที่สุดหรือไม่มีเลย") -> sf.Response:
    """The same respondent's row after an edit: one answer changed, the Timestamp the edit's."""
    answers = (answer if r.answers[0] != answer else "มาก",) + r.answers[1:]
    return sf.Response(at, r.department, answers)


def counted_keys(engine, org, instrument="iit") -> set[str]:
    from ita_dashboard.models import counted

    with db.session_scope(engine) as s:
        return set(s.execute(select(SurveyResponse.respondent_key).where(
            SurveyResponse.organization_id == org["id"], SurveyResponse.instrument == instrument, counted())).scalars())


def summary_count(engine, org, instrument="iit") -> int:
    from ita_dashboard.services.surveys import instrument_status

    with db.session_scope(engine) as s:
        return instrument_status(s, organization_id=org["id"], fiscal_year=2568, instrument=instrument).responses


WEEK1 = sf.make_responses(114, start=dt.datetime(2025, 1, 6, 8, 0), step_minutes=50, seed=31)
EDIT_AT = dt.datetime(2025, 1, 12, 9, 15, 7)  # after every row of WEEK1
WEEK1_EDITED = [*WEEK1[:56], *WEEK1[57:], _edited(WEEK1[56], at=EDIT_AT)]  # Google Forms moves an edit down


def test_edited_response_replaces_its_old_version(engine, org):
    r1 = do_import(engine, org, sf.google_csv(WEEK1), name="week1.csv")
    r2 = do_import(engine, org, sf.google_csv(WEEK1_EDITED), name="week1-edited.csv")
    assert (r1.new, r1.imported, r1.vanished) == (114, 114, 0)
    assert (r2.read, r2.imported, r2.duplicate, r2.rejected) == (114, 1, 113, 0)
    assert (r2.new, r2.changed, r2.unchanged, r2.vanished) == (1, 0, 113, 1)
    assert summary_count(engine, org) == 114  # not 115
    assert response_count(engine) == 115  # the old version is kept, flagged
    [gone] = r2.vanished_rows
    assert (gone.row, gone.file_name, gone.batch_id) == (58, "week1.csv", r1.batch_id)  # row 58 of the older file
    assert gone.submitted_at.astimezone(BKK).replace(tzinfo=None) == WEEK1[56].at
    assert gone.department_text == WEEK1[56].department
    with db.session_scope(engine) as s:
        assert [v.response_id for v in survey_undo.vanished_responses(s, organization_id=org["id"])] == [gone.response_id]
        batch = s.get(ImportBatch, r2.batch_id)
        assert (batch.new_count, batch.changed_count, batch.unchanged_count, batch.vanished_count) == (1, 0, 113, 1)
        assert s.get(SurveyResponse, gone.response_id).vanished_by == r2.batch_id
        event = s.execute(select(AuditEvent).where(AuditEvent.entity_id == str(r2.batch_id),
                                                   AuditEvent.action == "survey.import")).scalar_one()
        assert event.after["vanished"] == 1 and event.after["vanished_rows"][0]["row"] == 58
    # The same export again changes nothing; a later one with new rows adds them.
    r3 = do_import(engine, org, sf.google_csv(WEEK1_EDITED), name="again.csv")
    assert (r3.new, r3.changed, r3.unchanged, r3.vanished, r3.imported, r3.duplicate) == (0, 0, 114, 0, 0, 114)
    more = sf.make_responses(6, start=dt.datetime(2025, 1, 13, 8, 0), seed=32)
    r4 = do_import(engine, org, sf.google_csv(WEEK1_EDITED + more), name="week2.csv")
    assert (r4.new, r4.unchanged, r4.vanished) == (6, 114, 0)
    assert summary_count(engine, org) == 120


def test_vanished_rows_are_counted_nowhere(engine, org):
    from ita_dashboard.services import rollup, summary
    from ita_dashboard.services.aliases import unresolved_names
    from ita_dashboard.services.surveys import fiscal_years_with_data, responses_by_day

    odd = sf.Response(dt.datetime(2025, 1, 7, 10, 0, 1), "งานที่ไม่มีในทะเบียน", ("มาก",) * 5)
    do_import(engine, org, sf.google_csv([*WEEK1, odd]))
    r = do_import(engine, org, sf.google_csv(WEEK1_EDITED))  # the odd row is gone from the newer export
    assert r.vanished == 2
    with db.session_scope(engine) as s:
        assert sum(n for _, n in responses_by_day(s, organization_id=org["id"], fiscal_year=2568, instrument="iit")) == 114
        assert unresolved_names(s, organization_id=org["id"], fiscal_year=2568) == {}
        assert fiscal_years_with_data(s, organization_id=org["id"]) == [2568]
        data = summary.build_summary(s, organization_id=org["id"], fiscal_year=2568, as_of=dt.date(2025, 9, 30))
        assert data.iit.responses == 114
        rows = rollup.rollup(s, actor=_admin_actor(), fiscal_year=2568, as_of=dt.date(2025, 9, 30))
        assert [row.iit_responses for row in rows] == [114]


def _admin_actor():
    from ita_dashboard.permissions import Actor

    return Actor.system()


def test_microsoft_forms_edit_with_the_same_id_is_changed(engine, org):
    first = sf.make_responses(20, seed=41)
    rows = sf.ms_forms_rows(first)
    data1 = sf.xlsx_bytes({"Sheet1": rows})
    edited = [list(r) for r in rows]
    edited[6][7] = "น้อยที่สุดหรือไม่มีเลย" if edited[6][7] != "น้อยที่สุดหรือไม่มีเลย" else "มาก"  # ID 6 edits an answer
    later = sf.ms_forms_rows(sf.make_responses(2, seed=42, start=dt.datetime(2025, 3, 1)))[1:]
    extra = [[20 + i, *row[1:]] for i, row in enumerate(later, start=1)]  # IDs 21, 22 are new
    data2 = sf.xlsx_bytes({"Sheet1": [*edited, *extra]})
    r1 = do_import(engine, org, data1, instrument="eit", name="ms1.xlsx")
    r2 = do_import(engine, org, data2, instrument="eit", name="ms2.xlsx")
    assert r1.new == 20
    assert (r2.new, r2.changed, r2.unchanged, r2.vanished) == (2, 1, 19, 0)
    assert (r2.imported, r2.duplicate) == (3, 19)
    assert summary_count(engine, org, "eit") == 22
    with db.session_scope(engine) as s:
        refs = s.execute(select(SurveyResponse.respondent_ref, SurveyResponse.vanished_by)
                         .where(SurveyResponse.respondent_ref == "id:6")).all()
        assert sorted(refs, key=lambda x: x[1] is None) == [("id:6", r2.batch_id), ("id:6", None)]


def test_anonymous_email_identifies_nobody(engine, org):
    # Microsoft Forms writes "anonymous" in every row: not an identity (two rows are two people).
    refs = survey_keys.response_refs(parse_survey_file(sf.ms_forms_xlsx(sf.make_responses(3))).rows, ["Email"])
    assert refs == [None, None, None]
    parsed = parse_survey_file(sf.google_csv(sf.make_responses(2)))
    assert survey_keys.response_refs(parsed.rows, []) == [None, None]


def _paper_csv(responses) -> bytes:
    """The paper form keyed in by hand: another header, hence another form of the same instrument."""
    rows = [["วันที่กรอก", "สังกัด", *[f"ข้อ {i}" for i in range(1, 6)]]]
    rows += [[sf.google_th(r.at), r.department, *r.answers] for r in responses]
    return sf.csv_bytes(rows)


def test_online_and_paper_forms_add_up(engine, org):
    paper = sf.make_responses(30, start=dt.datetime(2025, 1, 8, 8, 0), seed=51)
    r_online = do_import(engine, org, sf.google_csv(WEEK1), name="online.csv")
    r_paper = do_import(engine, org, _paper_csv(paper), name="paper.csv")
    assert (r_paper.new, r_paper.vanished) == (30, 0)
    assert summary_count(engine, org) == 144
    # A newer online export (with an edit) replaces only the online form's state.
    r = do_import(engine, org, sf.google_csv(WEEK1_EDITED), name="online2.csv")
    assert (r.new, r.unchanged, r.vanished) == (1, 113, 1)
    assert summary_count(engine, org) == 144
    more_paper = sf.make_responses(5, start=dt.datetime(2025, 2, 8, 8, 0), seed=52)
    r = do_import(engine, org, _paper_csv(paper + more_paper), name="paper2.csv")
    assert (r.new, r.unchanged, r.vanished) == (5, 30, 0)
    assert summary_count(engine, org) == 149
    with db.session_scope(engine) as s:
        forms = {s.get(ImportBatch, b).form_id for b in (r_online.batch_id, r_paper.batch_id)}
    assert len(forms) == 2


def test_older_export_after_a_newer_one_changes_nothing(engine, org):
    do_import(engine, org, sf.google_csv(WEEK1_EDITED + sf.make_responses(3, start=dt.datetime(2025, 1, 20), seed=61)))
    assert summary_count(engine, org) == 117
    r = do_import(engine, org, sf.google_csv(WEEK1), name="old.csv")  # an older download, found later
    assert (r.new, r.changed, r.unchanged, r.vanished, r.imported) == (0, 0, 113, 1, 0)
    assert r.vanished_rows[0].row == 58 and r.vanished_rows[0].file_name == "old.csv"
    assert summary_count(engine, org) == 117
    assert r.read == r.imported + r.duplicate + r.rejected


def test_extract_sharing_no_row_adds_up(engine, org):
    do_import(engine, org, sf.google_csv(WEEK1))
    weekly = sf.make_responses(12, start=dt.datetime(2025, 1, 20, 8, 0), seed=71)  # hand-made extract
    r = do_import(engine, org, sf.google_csv(weekly), name="week3-only.csv")
    assert (r.new, r.unchanged, r.vanished) == (12, 0, 0)
    assert summary_count(engine, org) == 126


def _state_of(engine, org) -> set[str]:
    return counted_keys(engine, org)


def _fresh(tmp_path, org_template, files) -> set[str]:
    """The counted keys of a new SQLite database into which only ``files`` were imported."""
    engine = db.make_engine(f"sqlite:///{tmp_path / f'fresh{len(files)}.db'}")
    db.migrate(engine)
    with db.session_scope(engine) as s:
        o = Organization(name="เทศบาลตำบลตัวอย่าง")
        s.add(o)
        s.flush()
        for i, name in enumerate(sf.DEPARTMENTS):
            s.add(Department(organization_id=o.id, name=name, sort_order=i))
        org = {"id": o.id}
    for data in files:
        do_import(engine, org, data)
    keys = counted_keys(engine, org)
    engine.dispose()
    return keys


def test_undo_of_the_newest_batch_brings_back_what_it_replaced(engine, org, tmp_path):
    week1, edited = sf.google_csv(WEEK1), sf.google_csv(WEEK1_EDITED)
    do_import(engine, org, week1)
    before = _state_of(engine, org)
    r2 = do_import(engine, org, edited)
    with db.session_scope(engine) as s:
        assert undo_batch(s, batch_id=r2.batch_id, user_id=None) == 1  # the edited row, stored by it alone
    assert _state_of(engine, org) == before
    assert summary_count(engine, org) == response_count(engine) == 114
    with db.session_scope(engine) as s:
        assert survey_undo.vanished_responses(s, organization_id=org["id"]) == []
        event = s.execute(select(AuditEvent).where(AuditEvent.action == "survey.undo")).scalar_one()
        assert event.after["counted_again"] == 1


def test_undo_of_a_middle_or_first_batch_is_exact(engine, org, tmp_path):
    w1 = sf.make_responses(40, start=dt.datetime(2025, 1, 6, 8, 0), step_minutes=60, seed=81)
    w2 = w1 + sf.make_responses(25, start=dt.datetime(2025, 1, 13, 8, 0), step_minutes=60, seed=82)
    w3 = [*w2[:10], *w2[11:], *sf.make_responses(15, start=dt.datetime(2025, 1, 20, 8, 0), seed=83),
          _edited(w2[10], at=dt.datetime(2025, 1, 26, 8, 0))]
    files = [sf.google_csv(w) for w in (w1, w2, w3)]
    results = [do_import(engine, org, f) for f in files]
    assert summary_count(engine, org) == 80
    assert [(r.new, r.unchanged, r.vanished) for r in results] == [(40, 0, 0), (25, 40, 0), (16, 64, 1)]
    with db.session_scope(engine) as s:  # the middle batch: its rows are in the newest export too
        assert undo_batch(s, batch_id=results[1].batch_id, user_id=None) == 0
    assert _state_of(engine, org) == _fresh(tmp_path, org, [files[0], files[2]])
    assert summary_count(engine, org) == 80
    with db.session_scope(engine) as s:  # the first batch: today's bug lost the rows the later export skipped
        # Deleted: only the edited row's old version, which no remaining file holds.
        assert undo_batch(s, batch_id=results[0].batch_id, user_id=None) == 1
    assert _state_of(engine, org) == _fresh(tmp_path, org, [files[2]])
    assert summary_count(engine, org) == response_count(engine) == 80
    with db.session_scope(engine) as s:  # the last one: nothing left
        assert undo_batch(s, batch_id=results[2].batch_id, user_id=None) == 80
    assert response_count(engine) == 0


def test_undo_hands_rows_to_the_form_that_still_holds_them(engine, org):
    # A header change (a question added) makes a new form; its export also holds the old rows,
    # stored under the first form. Undoing the first batch keeps them, answers intact.
    first = sf.make_responses(8, seed=91)
    r1 = do_import(engine, org, sf.google_csv(first))
    rows = [[*sf.google_rows(first)[0], "ข้อเสนอแนะ"], *[[*row, ""] for row in sf.google_rows(first)[1:]]]
    rows.append([sf.google_en(dt.datetime(2025, 3, 1, 9, 0)), "กองคลัง", *first[0].answers, "ดีมาก"])
    r2 = do_import(engine, org, sf.csv_bytes(rows), name="with-new-question.csv")
    assert (r2.new, r2.unchanged) == (1, 8)
    with db.session_scope(engine) as s:
        before = {x.respondent_key: x.answers for x in s.execute(select(SurveyResponse)).scalars()}
        assert undo_batch(s, batch_id=r1.batch_id, user_id=None) == 0
    with db.session_scope(engine) as s:
        after = {x.respondent_key: x.answers for x in s.execute(select(SurveyResponse)).scalars()}
        forms = set(s.execute(select(SurveyResponse.form_id)).scalars())
    assert after == before and len(after) == 9
    assert len(forms) == 1
    assert summary_count(engine, org) == 9


def test_stored_answers_and_scores_come_back(engine, org):
    responses = sf.make_responses(12, seed=95)
    r = do_import(engine, org, sf.google_csv(responses))
    with db.session_scope(engine) as s:
        got = s.execute(select(SurveyResponse).order_by(SurveyResponse.submitted_at)).scalars().all()
        assert [x.answers for x in got] == [dict(zip(sf.QUESTIONS, x.answers)) for x in responses]
        assert all(survey_forms.response_answers(s, x) == x.answers for x in got)
        form = s.get(SurveyForm, s.get(ImportBatch, r.batch_id).form_id)
        assert form.questions == list(sf.QUESTIONS)
        assert set(form.scales[0]) <= set(sf.SCALE) and set(form.scales[2]) <= set(sf.YES_NO)
        assert all(x.score is not None for x in got)


def _file_import(engine, org, data: bytes, *, name="export.csv", reuse=True, instrument="iit"):
    with db.session_scope(engine) as s:
        return survey_import.import_survey_file(s, organization_id=org["id"], instrument=instrument, data=data,
                                                file_name=name, user_id=None, reuse=reuse)


def _comparable(r) -> tuple:
    return (r.read, r.imported, r.duplicate, r.rejected, r.new, r.changed, r.unchanged, r.vanished,
            r.unmatched_departments, r.fiscal_year, r.rejected_rows, [(v.row, v.file_name, v.submitted_at) for v in r.vanished_rows])


def test_a_file_imported_before_is_not_read_again_and_counts_the_same(engine, org, tmp_path, monkeypatch):
    """The same bytes again (the command line's import_survey_file) give exactly what reading
    them again gives, without reading them: the same counts, rows, vanished rows and state."""
    odd = sf.Response(dt.datetime(2025, 1, 7, 10, 0, 1), "งานที่ไม่มีในทะเบียน", ("มาก",) * 5)
    rows = sf.google_rows([*WEEK1, odd])
    rows.insert(5, ["ไม่ทราบ", "กองคลัง", *WEEK1[0].answers])  # a rejected row
    week1, edited = sf.csv_bytes(rows), sf.google_csv(WEEK1_EDITED)
    sequence = [("week1.csv", week1), ("edited.csv", edited), ("week1-again.csv", week1), ("edited-again.csv", edited)]
    by_path = {}
    for reuse in (False, True):
        engine_ = db.make_engine(f"sqlite:///{tmp_path / f'reuse{reuse}.db'}") if reuse is False else engine
        if reuse is False:
            db.migrate(engine_)
            with db.session_scope(engine_) as s:
                o = Organization(name="เทศบาลตำบลตัวอย่าง")
                s.add(o)
                s.flush()
                for i, name in enumerate(sf.DEPARTMENTS):
                    s.add(Department(organization_id=o.id, name=name, sort_order=i))
                org_ = {"id": o.id}
        else:
            org_ = org
        if reuse:
            reads = []
            real = survey_import.import_survey
            monkeypatch.setattr(survey_import, "import_survey", lambda *a, **k: reads.append(1) or real(*a, **k))  # noqa: B023 - called within this iteration
        results = [_file_import(engine_, org_, data, name=name, reuse=reuse) for name, data in sequence]
        by_path[reuse] = ([_comparable(r) for r in results], counted_keys(engine_, org_))
        if reuse:
            assert len(reads) == 2  # the two files were read once each
        else:
            engine_.dispose()
    assert by_path[True] == by_path[False]
    counts = [(c[4], c[6], c[7], c[3]) for c in by_path[True][0]]  # new, unchanged, vanished, rejected
    assert counts == [(115, 0, 0, 1), (1, 113, 2, 0), (0, 113, 2, 1), (0, 114, 0, 0)]
    with db.session_scope(engine) as s:  # the batches of the same file hold the same rows
        batches = s.execute(select(ImportBatch.id).order_by(ImportBatch.id)).scalars().all()
        members = [sorted(s.execute(select(SurveyBatchResponse.response_id, SurveyBatchResponse.row_number)
                                    .where(SurveyBatchResponse.batch_id == b)).all()) for b in batches]
    assert members[0] == members[2] and members[1] == members[3]


def test_an_undone_file_is_read_again(engine, org):
    data = sf.google_csv(sf.make_responses(15))
    r1 = _file_import(engine, org, data)
    with db.session_scope(engine) as s:
        undo_batch(s, batch_id=r1.batch_id, user_id=None)
    r2 = _file_import(engine, org, data)
    assert (r2.imported, r2.new) == (15, 15)
    assert summary_count(engine, org) == 15


def test_bulk_keys_are_respondent_keys():
    from ita_dashboard.importers.surveys import ParsedRow

    utc = dt.timezone.utc
    rows = [ParsedRow(2, dt.datetime(2025, 1, 6, 8, 0, 1, tzinfo=BKK), "กองคลัง", {"ข้อ 1": "มาก"}),
            ParsedRow(3, dt.datetime(2025, 1, 6, 1, 0, 2, 999999, tzinfo=utc), "", {}, {"ID": "7"}),
            ParsedRow(4, dt.datetime(2025, 1, 6, 8, 0, 3), "กองช่าง", {"ข้อ 1": "น้อย", "ข้อ 2": "x"})]
    unique, keys = survey_keys.unique_rows(rows + rows[:1])
    assert unique == rows and keys == [survey_keys.respondent_key(r) for r in rows]


def test_a_changed_survey_reader_reads_every_file_afresh():
    """``parse_key`` fingerprints the reader's code: the survey reader lives in the sub-package
    ``importers/surveys/`` (and reads dates and digits through ``thai/``), so a fix there must
    change the key, or a file imported before would keep the rows the old reader made."""
    from pathlib import Path

    package = Path(survey_import.__file__).resolve().parent.parent
    sources = {p.relative_to(package).as_posix() for p in survey_import.parser_sources()}
    assert {"importers/surveys/parse.py", "importers/surveys/timestamps.py", "importers/tabular.py",
            "thai/fiscal.py"} <= sources
    every_reader_module = {p.relative_to(package).as_posix()
                           for folder in ("importers", "thai") for p in (package / folder).rglob("*.py")}
    # which rows of a file are one response (a repeat written with a date only is another) counts too
    assert sources == every_reader_module | {"services/survey_keys.py"}
