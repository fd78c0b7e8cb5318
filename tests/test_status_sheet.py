"""Progress by spreadsheet: build the status workbook, fill it like a user would, read it back, apply."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from ita_dashboard import db
from ita_dashboard.importers.tabular import FileProblem
from ita_dashboard.models import AuditEvent, ImportBatch, ProgressUpdate, Status
from ita_dashboard.permissions import Actor, PermissionDenied
from ita_dashboard.services import measures as measures_svc
from ita_dashboard.services import status_sheet as ss
from tests.helpers import actor_for, make_measure, make_org, make_user
from tests.status_sheet_utils import fill, header_map

AS_OF = dt.date(2025, 3, 31)
TODAY = dt.date(2025, 4, 10)


@pytest.fixture
def setup(engine):
    org = make_org(engine)
    finance = make_measure(engine, org_id=org, number=1, title="เผยแพร่แผนจัดซื้อจัดจ้าง", departments=["กองคลัง"])
    works = make_measure(engine, org_id=org, number=2, title="ตรวจรับงานจ้าง", departments=["กองช่าง"])
    shared = make_measure(engine, org_id=org, number=3, title="ประชุมชี้แจงบุคลากร", owner_all=True)
    admin = actor_for(engine, make_user(engine, username="admin", role="admin", org_id=org))
    head = actor_for(engine, make_user(engine, username="head", role="department_head", org_id=org,
                                       department="กองคลัง"))
    return engine, org, {"finance": finance, "works": works, "shared": shared}, admin, head


def build(engine, org, *, per_department=False, as_of=AS_OF) -> bytes:
    with db.session_scope(engine) as s:
        return ss.build_status_workbook(s, organization_id=org, fiscal_year=2568, as_of=as_of,
                                        per_department=per_department)


def apply(engine, org, data: bytes, actor: Actor, *, name="สถานะ.xlsx") -> ImportBatch:
    sheet = ss.parse_status_workbook(data)
    with db.session_scope(engine) as s:
        return ss.apply_status_sheet(s, organization_id=org, sheet=sheet, actor=actor, file_name=name,
                                     file_bytes=data, today=TODAY)


def updates(engine, measure_id=None) -> list[ProgressUpdate]:
    with db.session_scope(engine) as s:
        q = select(ProgressUpdate).order_by(ProgressUpdate.id)
        if measure_id is not None:
            q = q.where(ProgressUpdate.measure_id == measure_id)
        return list(s.exec(q))


def test_round_trip_records_progress_with_the_sheet_date(setup):
    engine, org, m, admin, _ = setup
    data = fill(build(engine, org), {
        m["finance"]: {"สถานะ": "กำลังดำเนินการ", "ร้อยละ": 40, "หมายเหตุ": "ประกาศแล้ว 2 รายการ"},
        m["works"]: {"สถานะ": "done", "ลิงก์หลักฐาน": "https://example.go.th/report.pdf"},
        m["shared"]: {"ร้อยละ": 60, "ณ วันที่": dt.datetime(2025, 2, 1)},  # per-row date overrides
    }, as_of_cell="15 มีนาคม 2568")
    parsed = ss.parse_status_workbook(data)
    assert parsed.as_of == dt.date(2025, 3, 15) and parsed.rejected == []
    batch = apply(engine, org, data, admin)
    assert (batch.kind, batch.read_count, batch.imported_count, batch.duplicate_count, batch.rejected_count) == (
        "progress", 3, 3, 0, 0)
    assert batch.fiscal_year == 2568
    rows = {u.measure_id: u for u in updates(engine)}
    assert (rows[m["finance"]].status, rows[m["finance"]].percent, rows[m["finance"]].note) == (
        Status.in_progress, 40, "ประกาศแล้ว 2 รายการ")
    assert rows[m["finance"]].as_of == dt.date(2025, 3, 15)
    assert (rows[m["works"]].status, rows[m["works"]].percent) == (Status.done, 100)
    assert rows[m["works"]].evidence_url == "https://example.go.th/report.pdf"
    assert (rows[m["shared"]].status, rows[m["shared"]].percent, rows[m["shared"]].as_of) == (
        Status.in_progress, 60, dt.date(2025, 2, 1))
    assert {u.import_batch_id for u in rows.values()} == {batch.id}
    assert {u.user_id for u in rows.values()} == {admin.user_id}
    with db.session_scope(engine) as s:
        states = {x.id: x for x in measures_svc.measure_states(s, organization_id=org, fiscal_year=2568, as_of=AS_OF)}
        events = s.exec(select(AuditEvent).where(AuditEvent.action == "progress.import")).all()
        per_measure = s.exec(select(AuditEvent).where(AuditEvent.action == "measure.progress")).all()
    assert states[m["works"]].status == Status.done and states[m["finance"]].percent == 40
    assert len(events) == 1 and events[0].after["imported"] == 3 and len(per_measure) == 3

    # The next download shows the new state in the "current" columns.
    ws = load_workbook(io.BytesIO(build(engine, org))).worksheets[0]
    h, cols = header_map(ws)
    current = {ws.cell(r, cols["รหัส"]).value: (ws.cell(r, cols["สถานะปัจจุบัน"]).value,
                                                 ws.cell(r, cols["ร้อยละปัจจุบัน"]).value)
               for r in range(h + 1, ws.max_row + 1)}
    assert current[m["works"]] == ("เสร็จแล้ว", 100) and current[m["finance"]] == ("กำลังดำเนินการ", 40)


def test_workbook_layout_dropdown_and_as_of_cell(setup):
    engine, org, m, *_ = setup
    wb = load_workbook(io.BytesIO(build(engine, org)))
    assert len(wb.worksheets) == 1
    ws = wb.worksheets[0]
    title = ws["A1"].value
    assert "เทศบาลตำบลทดสอบ" in title and "2568" in title and "ข้อมูล ณ 31 มีนาคม 2568" in title
    assert ws["A2"].value == "ณ วันที่" and ws["D2"].value == "31 มีนาคม 2568"
    h, cols = header_map(ws)
    assert list(cols)[:11] == ["รหัส", "ลำดับ", "มาตรการ", "ผู้รับผิดชอบ", "ระยะเวลา", "สถานะปัจจุบัน",
                               "ร้อยละปัจจุบัน", "สถานะ", "ร้อยละ", "หมายเหตุ", "ลิงก์หลักฐาน"]
    assert ws.freeze_panes == f"C{h + 1}"
    assert sorted(ws.cell(r, 1).value for r in range(h + 1, ws.max_row + 1)) == sorted(m.values())
    lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert lists and lists[0].formula1 == '"ยังไม่เริ่ม,กำลังดำเนินการ,เสร็จแล้ว,ยกเลิก"'
    decimals = [dv for dv in ws.data_validations.dataValidation if dv.type == "decimal"]
    assert (decimals[0].formula1, decimals[0].formula2) == ("0", "100")
    assert ws.cell(h + 1, cols["มาตรการ"]).alignment.wrap_text
    assert ws.column_dimensions["C"].width >= 40


def test_unfilled_sheet_imports_nothing(setup):
    engine, org, _, admin, _ = setup
    batch = apply(engine, org, build(engine, org), admin)
    assert (batch.read_count, batch.imported_count, batch.rejected_count) == (0, 0, 0)
    assert updates(engine) == []


@pytest.mark.parametrize("value, expected", [
    ("๕๐", 50), ("๗๕%", 75), ("50%", 50), ("ร้อยละ ๓๐", 30), (40.0, 40), (0.25, 25), (100, 100), (0, 0), ("12.6", 13),
])
def test_percent_forms(value, expected):
    assert ss.parse_percent(value) == expected


@pytest.mark.parametrize("value", ["ครึ่งหนึ่ง", 150, "-5", "101%"])
def test_bad_percent(value):
    with pytest.raises(ValueError, match="ร้อยละ"):
        ss.parse_percent(value)


@pytest.mark.parametrize("value, expected", [
    ("กำลังดำเนินการ", Status.in_progress), ("เสร็จแล้ว", Status.done), ("ยกเลิก", Status.cancelled),
    ("ยังไม่เริ่ม", Status.not_started), ("DONE", Status.done), ("in_progress", Status.in_progress),
    ("  เสร็จแล้ว ", Status.done), ("กำลังดำเนินการ (เลยกำหนด)", Status.in_progress), ("เกือบเสร็จ", None),
])
def test_status_forms(value, expected):
    assert ss.parse_status(value) == expected


@pytest.mark.parametrize("value, expected", [
    (dt.datetime(2025, 3, 31, 0, 0), dt.date(2025, 3, 31)),
    (dt.date(2568, 3, 31), dt.date(2025, 3, 31)),  # a BE year typed into a date cell
    ("๓๑ มี.ค. ๒๕๖๘", dt.date(2025, 3, 31)),
    ("2025-03-31", dt.date(2025, 3, 31)),
    ("31/3/2568", dt.date(2025, 3, 31)),
    (45747, dt.date(2025, 3, 31)),  # an Excel serial without a date format
    ("เร็ว ๆ นี้", None),
])
def test_date_forms(value, expected):
    assert ss.parse_date_cell(value) == expected


def test_thai_digit_percent_through_the_workbook(setup):
    engine, org, m, admin, _ = setup
    data = fill(build(engine, org), {m["finance"]: {"ร้อยละ": "๗๕"}, m["shared"]: {"ร้อยละ": "๑๐๐%"}},
                as_of_cell="๑ มีนาคม ๒๕๖๘")
    batch = apply(engine, org, data, admin)
    assert batch.imported_count == 2
    rows = {u.measure_id: u for u in updates(engine)}
    # No status written: the percent decides it.
    assert (rows[m["finance"]].status, rows[m["finance"]].percent) == (Status.in_progress, 75)
    assert (rows[m["shared"]].status, rows[m["shared"]].percent) == (Status.done, 100)
    assert rows[m["finance"]].as_of == dt.date(2025, 3, 1)


def _percent_cells_typed(engine, org, cells: dict[int, tuple[float, str]]) -> tuple[bytes, dict[int, int]]:
    """The built workbook with the percent cells of these measures typed (value, number format),
    and each measure's row: {measure id: sheet row}."""
    wb = load_workbook(io.BytesIO(build(engine, org)))
    ws = wb.worksheets[0]
    h, cols = header_map(ws)
    rows = {ws.cell(r, cols["รหัส"]).value: r for r in range(h + 1, ws.max_row + 1)}
    for mid, (value, fmt) in cells.items():
        cell = ws.cell(rows[mid], cols["ร้อยละ"])
        cell.value, cell.number_format = value, fmt
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue(), rows


def test_percentages_typed_with_a_percent_sign_in_excel_and_libreoffice(setup, tmp_path):
    # Excel and LibreOffice store "80%" typed into a cell as 0.8 and "100%" as 1, shown with a
    # percent format; "100%" was read as 1 per cent (in progress), "150%" as 2.
    engine, org, m, admin, _ = setup
    xlsx, rows = _percent_cells_typed(engine, org, {m["finance"]: (0.8, "0%"), m["works"]: (1, "0%"),
                                                    m["shared"]: (1.5, "0%")})
    # The same cells as LibreOffice writes them in an .ods: office:value-type="percentage".
    ods = _ods_with_percent_cells(tmp_path, xlsx)
    for data in (xlsx, ods):
        parsed = ss.parse_status_workbook(data)
        got = {r.measure_id: r.percent for r in parsed.rows}
        assert got == {m["finance"]: 80, m["works"]: 100}, got
        assert [(e["row"], e["column"]) for e in parsed.rejected] == [(rows[m["shared"]], "ร้อยละ")]
        assert "150" in parsed.rejected[0]["reason"]


def test_the_survey_reader_knows_the_status_workbooks_own_headers():
    # importers may not import services: the survey reader keeps its own copy of the headers that
    # only this workbook writes, which must stay those of status_sheet/columns.py.
    from ita_dashboard.importers.surveys import parse as survey_parse
    from ita_dashboard.services.status_sheet import columns

    assert survey_parse._STATUS_SHEET_COLUMNS == {columns.COL_CUR_STATUS, columns.COL_CUR_PERCENT, columns.COL_LINK}


def test_a_percent_sign_written_literally_in_the_format_is_not_a_percentage(setup):
    # A custom format 0"%" (or 0\%) shows 50 as "50%" without scaling it: the value is 50 per cent.
    # A formula whose result is shown as a percentage is read from its stored value, as typed ones.
    engine, org, m, admin, _ = setup
    xlsx, _ = _percent_cells_typed(engine, org, {m["finance"]: (50, '0"%"'), m["works"]: (60, "0\\%")})
    parsed = ss.parse_status_workbook(xlsx)
    assert {r.measure_id: r.percent for r in parsed.rows} == {m["finance"]: 50, m["works"]: 60}
    assert parsed.rejected == []


def test_percentage_cells_keep_their_rows_below_rows_written_once_for_several(setup, tmp_path):
    # LibreOffice writes identical rows once with table:number-rows-repeated (blank rows above a
    # table, say): the percentage cells below are found at the rows calamine gives them.
    import zipfile

    engine, org, m, admin, _ = setup
    xlsx, _ = _percent_cells_typed(engine, org, {m["finance"]: (1, "0%")})
    ods = _ods_with_percent_cells(tmp_path, xlsx)
    with zipfile.ZipFile(io.BytesIO(ods)) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    content = members["content.xml"].decode()
    # A blank row written twice as one, above the header: every later row moves down by one.
    content = content.replace("<table:table-row>", '<table:table-row table:number-rows-repeated="2">'
                              "<table:table-cell/></table:table-row><table:table-row>", 1)
    members["content.xml"] = content.encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), members.pop("mimetype"))
        for name, body in members.items():
            zf.writestr(name, body, compress_type=zipfile.ZIP_DEFLATED)
    parsed = ss.parse_status_workbook(out.getvalue())
    assert {r.measure_id: r.percent for r in parsed.rows} == {m["finance"]: 100}


def _ods_with_percent_cells(tmp_path, xlsx: bytes) -> bytes:
    """The workbook's sheet as a minimal .ods: the header row and the filled rows, percent cells
    typed as LibreOffice stores them."""
    import zipfile
    from xml.sax.saxutils import escape

    from python_calamine import CalamineWorkbook

    wb = load_workbook(io.BytesIO(xlsx))
    ws = wb.worksheets[0]
    body = []
    for row in ws.iter_rows():
        cells = []
        for c in row:
            v = c.value
            if v is None:
                cells.append("<table:table-cell/>")
            elif isinstance(v, (int, float)) and "%" in c.number_format:
                cells.append(f'<table:table-cell office:value-type="percentage" office:value="{v}"><text:p>{v:.0%}</text:p></table:table-cell>')
            elif isinstance(v, (int, float)):
                cells.append(f'<table:table-cell office:value-type="float" office:value="{v}"><text:p>{v}</text:p></table:table-cell>')
            else:
                cells.append(f'<table:table-cell office:value-type="string"><text:p>{escape(str(v))}</text:p></table:table-cell>')
        body.append("<table:table-row>" + "".join(cells) + "</table:table-row>")
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content '
               'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
               f'<office:body><office:spreadsheet><table:table table:name="{ws.title}">' + "".join(body)
               + "</table:table></office:spreadsheet></office:body></office:document-content>")
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>')
    path = tmp_path / "sheet.ods"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED)
        zf.writestr("content.xml", content)
        zf.writestr("META-INF/manifest.xml", manifest)
    data = path.read_bytes()
    assert CalamineWorkbook.from_filelike(io.BytesIO(data)).sheet_names == [ws.title]
    return data


def test_bad_rows_are_rejected_with_sheet_row_column_reason(setup):
    engine, org, m, admin, _ = setup
    data = fill(build(engine, org), {
        m["finance"]: {"สถานะ": "เกือบเสร็จ"},
        m["works"]: {"ร้อยละ": 150},
        m["shared"]: {"สถานะ": "กำลังดำเนินการ", "ลิงก์หลักฐาน": "javascript:alert(1)"},
    }, extra_rows=[
        {"รหัส": 999999, "สถานะ": "เสร็จแล้ว"},
        {"รหัส": "abc", "หมายเหตุ": "x"},
        {"รหัส": None, "ร้อยละ": 10},
    ])
    wb = load_workbook(io.BytesIO(data))
    ws = wb.worksheets[0]
    h, cols = header_map(ws)
    row_of = {ws.cell(r, cols["รหัส"]).value: r for r in range(h + 1, ws.max_row + 1)}
    sheet_name = ws.title
    parsed = ss.parse_status_workbook(data)
    by_row = {(e["row"], e["column"]): e for e in parsed.rejected}
    assert all(e["sheet"] == sheet_name for e in parsed.rejected)
    assert "ไม่รู้จักสถานะ" in by_row[(row_of[m["finance"]], "สถานะ")]["reason"]
    assert "0 ถึง 100" in by_row[(row_of[m["works"]], "ร้อยละ")]["reason"]
    assert "http" in by_row[(row_of[m["shared"]], "ลิงก์หลักฐาน")]["reason"]
    assert "ไม่ถูกต้อง" in by_row[(row_of["abc"], "รหัส")]["reason"]
    assert "ไม่มีรหัส" in by_row[(ws.max_row, "รหัส")]["reason"]
    assert [r.measure_id for r in parsed.rows] == [999999]  # unknown ids are found when applying

    batch = apply(engine, org, data, admin)
    assert (batch.read_count, batch.imported_count, batch.rejected_count) == (6, 0, 6)
    unknown = next(e for e in batch.rejected_rows if e["row"] == row_of[999999])
    assert unknown["column"] == "รหัส" and "ไม่พบมาตรการรหัส 999999" in unknown["reason"]
    assert updates(engine) == []


def test_missing_or_unreadable_date_rejects_rows(setup):
    engine, org, m, admin, _ = setup
    for cell, words in (("", "ไม่ได้ระบุวันที่"), ("เมื่อวาน", "อ่านวันที่")):
        data = fill(build(engine, org), {m["finance"]: {"ร้อยละ": 10}}, as_of_cell=cell)
        parsed = ss.parse_status_workbook(data)
        assert parsed.rows == []
        [entry] = parsed.rejected
        assert entry["column"] == "ณ วันที่" and words in entry["reason"] and entry["row"] == 5


def test_future_date_is_rejected(setup):
    engine, org, m, admin, _ = setup
    data = fill(build(engine, org), {m["finance"]: {"ร้อยละ": 10}}, as_of_cell="1 มิถุนายน 2568")
    batch = apply(engine, org, data, admin)
    assert batch.rejected_count == 1 and "อนาคต" in batch.rejected_rows[0]["reason"]


@pytest.mark.parametrize("typed", ["15/3/25", "15 มีนาคม 2567"])
def test_date_before_the_fiscal_year_is_rejected(setup, typed):
    # "15/3/25" typed for 15 March 2025 reads as BE 2525 (1982), like every two-digit year here;
    # the progress form only offers dates of the measure's fiscal year, so neither may be recorded.
    engine, org, m, admin, _ = setup
    data = fill(build(engine, org), {m["finance"]: {"ร้อยละ": 10}}, as_of_cell=typed)
    batch = apply(engine, org, data, admin)
    assert (batch.imported_count, batch.rejected_count) == (0, 1)
    entry = batch.rejected_rows[0]
    assert entry["column"] == "ณ วันที่" and "2568" in entry["reason"], entry
    assert updates(engine) == []


def test_same_file_twice_adds_nothing_the_second_time(setup):
    engine, org, m, admin, _ = setup
    data = fill(build(engine, org), {
        m["finance"]: {"สถานะ": "กำลังดำเนินการ", "ร้อยละ": 40},
        m["works"]: {"ร้อยละ": 20},  # status derived from the percent
        m["shared"]: {"หมายเหตุ": "จัดประชุมแล้ว"},  # a note only: state kept
    })
    first = apply(engine, org, data, admin)
    assert (first.imported_count, first.duplicate_count) == (3, 0)
    second = apply(engine, org, data, admin)
    assert (second.read_count, second.imported_count, second.duplicate_count, second.rejected_count) == (3, 0, 3, 0)
    assert len(updates(engine)) == 3
    with db.session_scope(engine) as s:
        assert len(s.exec(select(ImportBatch).where(ImportBatch.kind == "progress")).all()) == 2


def test_row_equal_to_current_state_is_a_duplicate(setup):
    engine, org, m, admin, _ = setup
    with db.session_scope(engine) as s:
        measures_svc.record_progress(s, measure_id=m["finance"], status="in_progress", percent=50,
                                     as_of=dt.date(2025, 3, 1), actor=admin)
    data = fill(build(engine, org), {m["finance"]: {"สถานะ": "กำลังดำเนินการ", "ร้อยละ": "50"},
                                     m["works"]: {"สถานะ": "ยังไม่เริ่ม", "ร้อยละ": 0}})
    batch = apply(engine, org, data, admin)
    assert (batch.imported_count, batch.duplicate_count) == (0, 2)


def test_department_head_other_departments_measure_is_rejected_not_aborted(setup):
    engine, org, m, _, head = setup
    other_org = make_org(engine, name="อบต.อื่น", kind="อบต.")
    foreign = make_measure(engine, org_id=other_org, number=1, title="มาตรการของที่อื่น")
    data = fill(build(engine, org), {
        m["finance"]: {"สถานะ": "เสร็จแล้ว"},
        m["works"]: {"สถานะ": "เสร็จแล้ว"},
        m["shared"]: {"ร้อยละ": 30},
    }, extra_rows=[{"รหัส": foreign, "สถานะ": "เสร็จแล้ว"}])
    batch = apply(engine, org, data, head)
    assert (batch.read_count, batch.imported_count, batch.rejected_count) == (4, 2, 2)
    reasons = {e["row"]: e["reason"] for e in batch.rejected_rows}
    assert any("คุณแก้ไขได้เฉพาะมาตรการของกอง" in r for r in reasons.values())
    assert any(f"ไม่พบมาตรการรหัส {foreign}" in r for r in reasons.values())
    assert {u.measure_id for u in updates(engine)} == {m["finance"], m["shared"]}
    assert updates(engine, foreign) == []


@pytest.mark.parametrize("role", ["viewer", "executive"])
def test_viewers_and_executives_cannot_apply(setup, role):
    engine, org, m, *_ = setup
    actor = actor_for(engine, make_user(engine, username=f"u_{role}", role=role, org_id=org))
    data = fill(build(engine, org), {m["finance"]: {"ร้อยละ": 10}})
    with pytest.raises(PermissionDenied):
        apply(engine, org, data, actor)
    with db.session_scope(engine) as s:
        assert s.exec(select(ImportBatch)).all() == []


def test_admin_of_another_organisation_is_refused(setup):
    engine, org, m, *_ = setup
    other = make_org(engine, name="อบต.อื่น", kind="อบต.")
    other_admin = actor_for(engine, make_user(engine, username="other_admin", role="admin", org_id=other))
    data = fill(build(engine, org), {m["finance"]: {"ร้อยละ": 10}})
    with pytest.raises(PermissionDenied):
        apply(engine, org, data, other_admin)
    # ... and applying into their own organisation rejects the row (not their measure).
    batch = apply(engine, other, data, other_admin)
    assert (batch.imported_count, batch.rejected_count) == (0, 1)


def test_per_department_workbook_sheet_names(engine):
    long_a = "กองการศึกษา ศาสนาและวัฒนธรรม/กีฬา: [งานพิเศษ]? สำหรับเยาวชน*"
    long_b = "กองการศึกษา ศาสนาและวัฒนธรรม/กีฬา: [งานพิเศษ]? สำหรับผู้สูงอายุ"
    org = make_org(engine, departments=[("สำนักปลัด", 3), (long_a, 2), (long_b, 2)])
    own = make_measure(engine, org_id=org, number=1, title="มาตรการสำนักปลัด", departments=["สำนักปลัด"])
    everyone = make_measure(engine, org_id=org, number=2, title="มาตรการทุกกอง", owner_all=True)
    loose = make_measure(engine, org_id=org, number=3, title="มาตรการที่ยังไม่ระบุกอง")
    data = build(engine, org, per_department=True)
    wb = load_workbook(io.BytesIO(data))
    names = wb.sheetnames
    assert len(names) == 4 and names[0] == "สำนักปลัด" and names[-1] == "ยังไม่ระบุกอง"
    assert len({n.lower() for n in names}) == len(names)
    for n in names:
        assert len(n) <= 31 and not set(n) & set("[]:*?/\\")
    ids = {}
    for ws in wb.worksheets:
        h, cols = header_map(ws)
        ids[ws.title] = {ws.cell(r, cols["รหัส"]).value for r in range(h + 1, ws.max_row + 1)}
        if ws.title != "ยังไม่ระบุกอง":  # the title names the department in full
            assert ws["A1"].value.split(" · ")[-1] in ("สำนักปลัด", long_a, long_b)
    assert ids["สำนักปลัด"] == {own, everyone}
    assert ids[names[1]] == {everyone} and ids[names[2]] == {everyone}
    assert ids["ยังไม่ระบุกอง"] == {loose}
    # Reading back covers every sheet.
    assert ss.parse_status_workbook(data).sheets == names


def test_sheet_title_rules():
    taken: set[str] = set()
    assert ss.sheet_title("กอง:คลัง/พัสดุ", taken) == "กอง-คลัง-พัสดุ"
    a = ss.sheet_title("x" * 40, taken)
    b = ss.sheet_title("X" * 40, taken)  # Excel compares names without case
    assert len(a) == 31 and len(b) == 31 and a.lower() != b.lower() and b.endswith("(2)")
    assert ss.sheet_title("", taken) == "ชีต"
    assert ss.sheet_title("history", taken) != "history"


def test_shared_measure_filled_in_two_department_sheets(setup):
    engine, org, m, admin, _ = setup
    data = build(engine, org, per_department=True)
    same = fill(fill(data, {m["shared"]: {"ร้อยละ": 30}}, sheet="กองคลัง"), {m["shared"]: {"ร้อยละ": 30}}, sheet="กองช่าง")
    batch = apply(engine, org, same, admin)
    assert (batch.read_count, batch.imported_count, batch.duplicate_count) == (2, 1, 1)

    clash = fill(fill(data, {m["shared"]: {"ร้อยละ": 40}}, sheet="กองคลัง"), {m["shared"]: {"ร้อยละ": 50}},
                 sheet="กองช่าง")
    batch = apply(engine, org, clash, admin)
    assert (batch.imported_count, batch.rejected_count) == (1, 1)
    assert "กรอกซ้ำในไฟล์" in batch.rejected_rows[0]["reason"] and batch.rejected_rows[0]["sheet"] == "กองช่าง"


def test_formula_like_text_is_written_as_text(engine):
    org = make_org(engine)
    mid = make_measure(engine, org_id=org, number=1, title="=HYPERLINK(\"http://evil\",\"คลิก\")", departments=["กองคลัง"])
    with db.session_scope(engine) as s:
        from ita_dashboard.models import Measure
        measure = s.get(Measure, mid)
        measure.owner_text = "+กองคลัง"
        measure.period_text = "@ทุกไตรมาส"
        s.add(measure)
    ws = load_workbook(io.BytesIO(build(engine, org))).worksheets[0]
    h, cols = header_map(ws)
    row = [ws.cell(h + 1, c) for c in range(1, len(cols) + 1)]
    assert all(c.data_type != "f" for r in ws.iter_rows() for c in r)
    assert row[cols["มาตรการ"] - 1].value == "'=HYPERLINK(\"http://evil\",\"คลิก\")"
    assert row[cols["ผู้รับผิดชอบ"] - 1].value == "'+กองคลัง"
    assert row[cols["ระยะเวลา"] - 1].value == "'@ทุกไตรมาส"


@pytest.mark.parametrize("per_department", [False, True])
def test_the_filled_workbook_is_refused_as_a_survey_export(setup, per_department):
    # The admin picks the survey uploader for the progress workbook: its per-row date column looked
    # like answer times and its departments like the respondents', so the rows with a date became
    # IIT/EIT responses (5 of 15 in the probe), also after "read anyway".
    from ita_dashboard.importers.surveys import parse_survey_file

    engine, org, m, *_ = setup
    data = fill(build(engine, org, per_department=per_department), {
        m["finance"]: {"สถานะ": "กำลังดำเนินการ", "ร้อยละ": 40, "ณ วันที่": dt.datetime(2025, 3, 10)},
        m["works"]: {"สถานะ": "เสร็จแล้ว", "หมายเหตุ": "ตรวจรับแล้ว", "ณ วันที่": dt.datetime(2025, 3, 12)},
        m["shared"]: {"ร้อยละ": 60, "ณ วันที่": dt.datetime(2025, 3, 14)},
    })
    for allow in (False, True):
        with pytest.raises(FileProblem) as info:
            parse_survey_file(data, filename="สถานะ.xlsx", allow_non_survey=allow)
        assert info.value.code == "survey_is_status_sheet" and "มาตรการ" in str(info.value)
    from ita_dashboard.importers.surveys.parse import _STATUS_SHEET_COLUMNS
    from ita_dashboard.services.status_sheet import columns

    assert _STATUS_SHEET_COLUMNS <= set(columns.HEADERS)  # the two modules name the same columns


def test_a_file_without_the_table_is_a_file_problem(setup):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["ชื่อ", "คะแนน"])
    wb.active.append(["ก", 1])
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(FileProblem, match="รหัส"):
        ss.parse_status_workbook(buf.getvalue())
    with pytest.raises(FileProblem):
        ss.parse_status_workbook(b"")


def test_csv_export_of_the_sheet_is_read_too(setup):
    engine, org, m, admin, _ = setup
    csv_text = (
        "ข้อมูลสถานะ\n"
        "ณ วันที่,,,31 มี.ค. 2568\n"
        "รหัส,ลำดับ,มาตรการ,สถานะ,ร้อยละ,หมายเหตุ,ลิงก์หลักฐาน\n"
        f"{m['finance']},1,เผยแพร่แผน,กำลังดำเนินการ,๔๐%,,\n"
    )
    batch = apply(engine, org, csv_text.encode("utf-8-sig"), admin, name="สถานะ.csv")
    assert batch.imported_count == 1
    [u] = updates(engine)
    assert (u.percent, u.as_of) == (40, dt.date(2025, 3, 31))
