"""Fuzzing the parsers with hypothesis: whatever the bytes or text, they return a result or raise
their documented, clear error (FileProblem / StatusSheetError, ValueError subclasses with a Thai
message), never anything else.

Besides arbitrary bytes, valid files are mutated (bytes flipped, cut short, members of the zip
damaged), which reaches deeper into the xlsx/docx readers than random bytes do. The survey
parser's own byte and table fuzzing lives in test_survey_import.py; the period and date parsers'
never-raise properties in test_thai.py; these add the rest.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ita_dashboard import thai
from ita_dashboard.importers import report_text, tabular
from ita_dashboard.importers.measures import parse_measures_file
from ita_dashboard.importers.surveys import TimestampReader, parse_survey_file, split_date_text
from ita_dashboard.importers.tabular import FileProblem
from ita_dashboard.services import status_sheet
from tests import survey_files as sf

# derandomize: the same examples every run, so CI never fails on a lucky draw; explore with
# `pytest tests/test_fuzz.py --hypothesis-seed=N` (each crash found that way was fixed in the parser).
FUZZ = settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
THAI = re.compile(r"[\u0e00-\u0e7f]")


def _clear(exc: Exception) -> None:
    message = str(exc)
    assert message and THAI.search(message), repr(message)


def _docx_bytes() -> bytes:
    from docx import Document

    doc = Document()
    doc.add_paragraph("แผนมาตรการส่งเสริมคุณธรรมและความโปร่งใส ประจำปีงบประมาณ พ.ศ. 2568")
    table = doc.add_table(rows=2, cols=4)
    for i, text in enumerate(["มาตรการ", "ขั้นตอน", "ระยะเวลา", "ผู้รับผิดชอบ"]):
        table.cell(0, i).text = text
    for i, text in enumerate(["มาตรการที่ 1", "ประชุม", "ตุลาคม 2567", "กองคลัง"]):
        table.cell(1, i).text = text
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


_PLAN_ROWS = [["ลำดับ", "มาตรการ", "ขั้นตอนหรือวิธีการปฏิบัติ", "ระยะเวลาดำเนินการ", "ผู้รับผิดชอบ"],
              ["1", "จัดทำคู่มือ", "ประชุม", "ตุลาคม 2567 - กันยายน 2568", "กองคลัง"],
              ["2", "=1+1", "@x", "31/13/2568", "ทุกกอง"]]
SEEDS = {
    "plan_xlsx": sf.xlsx_bytes({"แผน": _PLAN_ROWS}),
    "plan_csv": sf.csv_bytes(_PLAN_ROWS),
    "plan_docx": _docx_bytes(),
    "survey_xlsx": sf.google_xlsx(sf.make_responses(4)),
    "survey_csv": sf.google_csv(sf.make_responses(4)),
}


@st.composite
def mutated(draw, seed_names=tuple(SEEDS)):
    """A valid file with some bytes overwritten, a slice cut out or the end cut off."""
    data = bytearray(SEEDS[draw(st.sampled_from(seed_names))])
    how = draw(st.sampled_from(["flip", "cut", "truncate"]))
    if how == "flip":
        for _ in range(draw(st.integers(1, 8))):
            i = draw(st.integers(0, len(data) - 1))
            data[i] = draw(st.integers(0, 255))
    elif how == "cut":
        i = draw(st.integers(0, len(data) - 1))
        del data[i:i + draw(st.integers(1, 200))]
    else:
        data = data[:draw(st.integers(0, len(data)))]
    return bytes(data)


@st.composite
def damaged_zip(draw, seed_names=("plan_xlsx", "plan_docx", "survey_xlsx")):
    """A well-formed zip whose members (sheets, shared strings, document.xml) hold garbage."""
    src = zipfile.ZipFile(io.BytesIO(SEEDS[draw(st.sampled_from(seed_names))]))
    names = src.namelist()
    victim = draw(st.sampled_from(names))
    junk = draw(st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode),
                          st.just(b"<?xml version='1.0'?><worksheet><sheetData><row><c t='s'><v>999</v></c></row>"
                                  b"</sheetData></worksheet>")))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for name in names:
            out.writestr(name, junk if name == victim else src.read(name))
    return buf.getvalue()


_ANY_FILE = st.one_of(st.binary(max_size=2000), mutated(), damaged_zip())


@FUZZ
@given(_ANY_FILE)
def test_read_sheets_raises_only_file_problem(data):
    try:
        sheets = tabular.read_sheets(data)
    except FileProblem as exc:
        _clear(exc)
        return
    assert sheets and all(isinstance(s.rows, list) for s in sheets)


@FUZZ
@given(_ANY_FILE, st.one_of(st.none(), st.integers(2400, 2700)))
def test_parse_measures_file_raises_only_file_problem(data, fiscal_year):
    try:
        plan = parse_measures_file(data, filename="x.xlsx", fiscal_year=fiscal_year)
    except FileProblem as exc:
        _clear(exc)
        return
    assert plan.measures


@FUZZ
@given(st.one_of(mutated(("survey_xlsx", "survey_csv")), damaged_zip(("survey_xlsx",))))
def test_parse_survey_file_on_damaged_exports_raises_only_file_problem(data):
    try:
        parsed = parse_survey_file(data, filename="x.xlsx")
    except FileProblem as exc:
        _clear(exc)
        return
    assert parsed.read_count == len(parsed.rows) + len(parsed.rejected)


@FUZZ
@given(_ANY_FILE)
def test_parse_status_workbook_raises_only_clear_errors(data):
    try:
        sheet = status_sheet.parse_status_workbook(data)
    except (FileProblem, status_sheet.StatusSheetError) as exc:
        _clear(exc)
        return
    assert sheet.read_count >= 0


_REPORT_PIECES = st.sampled_from([
    "\t", "\n", "มาตรการ", "ขั้นตอน", "ระยะเวลา", "ผู้รับผิดชอบ", "ผลการดำเนินการ", "ผลลัพธ์", "กิจกรรม",
    "ประจำปีงบประมาณ พ.ศ. 2568", "เทศบาลตำบล", "อำเภอเมือง จังหวัดน่าน", "1.", "๒.", "-", "•", "<p>", "</p>",
    "<ul><li>", "</li></ul>", "&nbsp;", "**", "ตุลาคม 2567", "31/13/2568", "ทุกกอง", "รอบ 6 เดือน", '"',
])
_REPORT_TEXT = st.one_of(st.text(max_size=400), st.lists(_REPORT_PIECES, max_size=60).map("".join))


@FUZZ
@given(_REPORT_TEXT)
def test_report_text_parser_never_crashes(text):
    parsed = report_text.parse_report_text(text)
    assert isinstance(parsed.warnings, list)
    for activity in parsed.activities:
        assert activity.date is None or isinstance(activity.date, dt.date)


@FUZZ
@given(_REPORT_TEXT)
def test_measures_parser_on_report_text_raises_only_file_problem(text):
    try:
        parse_measures_file(text.encode("utf-8"), filename="report.txt")
    except FileProblem as exc:
        _clear(exc)


_CELL = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=60), st.dates(), st.datetimes(),
    st.sampled_from(["31 มี.ค. 2568", "๓๑/๓/๒๕๖๘", "2025-02-30", "9999-99-99", "0000-01-01", "45000", "1/1/1",
                     "29 ก.พ. 2567", "29 ก.พ. 2568", "30/2/2568, 10:00:00", "ตุลาคม", "1e309", "-0"]),
)


@FUZZ
@given(_CELL)
def test_status_cell_parsers_never_crash(value):
    d = status_sheet.parse_date_cell(value)
    assert d is None or isinstance(d, dt.date)
    try:  # documented: a number in 0-100, or ValueError with a Thai reason (a rejected row)
        p = status_sheet.parse_percent(value)
        assert p is None or 0 <= p <= 100
    except ValueError as exc:
        _clear(exc)
    try:
        s = status_sheet.parse_status(value)
        assert s is None or s.value in ("not_started", "in_progress", "done", "cancelled")
    except ValueError as exc:
        _clear(exc)


@FUZZ
@given(st.lists(_CELL, max_size=8), _CELL)
def test_survey_timestamp_reader_never_crashes(column, cell):
    reader = TimestampReader(column)
    when = reader.read(cell)
    assert when is None or (isinstance(when, dt.datetime) and when.tzinfo is not None)
    parts = split_date_text(cell if isinstance(cell, str) else str(cell))
    assert parts is None or parts is not None


@FUZZ
@given(st.text(max_size=120), st.one_of(st.none(), st.integers(-10**6, 10**6)))
def test_thai_report_date_finder_never_crashes(text, year):
    found = report_text.find_date(text, default_year_be=year)
    assert found is None or isinstance(found, dt.date)
    assert isinstance(thai.find_thai_dates(text), list)


@pytest.mark.parametrize("name", list(SEEDS))
def test_seed_files_themselves_parse(name):
    """The mutation seeds are real files (else the fuzzing above would only see junk)."""
    data = SEEDS[name]
    if name.startswith("plan"):
        assert parse_measures_file(data).measures
    else:
        assert parse_survey_file(data).rows
