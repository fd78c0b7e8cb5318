"""Measures plans in every format (xlsx, csv, docx, report text) and their import into the database."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
from docx import Document
from openpyxl import Workbook
from sqlmodel import Session, func, select

from ita_dashboard import db
from ita_dashboard.importers.measures import ParsedMeasure, ParsedPlan, parse_measures_file
from ita_dashboard.importers.tabular import FileProblem
from ita_dashboard.models import (
    Activity, AuditEvent, Department, ImportBatch, Measure, MeasureDepartment, Organization,
)
from ita_dashboard.services import measure_import
from ita_dashboard.services.measure_import import (
    MeasureImportError, create_activities, import_plan, map_owner_alias,
)

DEMO = Path(__file__).resolve().parent.parent / "data" / "demo"
SEED_000 = DEMO / "000_17dbb9646109a181.txt"
SEED_004 = DEMO / "004_4d93f31d8314e9de.txt"

HEADER_TH = ["ลำดับ", "มาตรการ/โครงการ/กิจกรรม", "ขั้นตอนหรือวิธีการปฏิบัติ", "ระยะเวลาดำเนินการ",
             "ผู้รับผิดชอบ", "ผลการดำเนินการ(output)", "ผลลัพธ์หรือผลสัมฤทธิ์ (outcome)"]
ROWS_TH = [
    ["๑", "จัดทำคู่มือบริการประชาชน", "๑. จัดทำคู่มือ\n๒. เผยแพร่", "ตุลาคม ๒๕๖๗ - กันยายน ๒๕๖๘",
     "ทุกกอง", "มีคู่มือ", "ประชาชนทราบขั้นตอน"],
    ["๒", "เปิดเผยข้อมูลจัดซื้อจัดจ้าง", "เผยแพร่แผนจัดซื้อ", "กองคลัง",  # swapped in this row
     "๑ มกราคม - ๓๑ มีนาคม ๒๕๖๘", "ประกาศบนเว็บไซต์", "โปร่งใส"],
    ["๓", "ประชุมชี้แจง IIT", "ประชุมประจำเดือน", "ทุกเดือน", "สำนักปลัด", "ประชุม 12 ครั้ง", "บุคลากรเข้าใจ"],
]
TITLE_ROWS = [["แผนมาตรการส่งเสริมคุณธรรมและความโปร่งใสภายในหน่วยงาน"],
              ["ประจำปีงบประมาณ พ.ศ. ๒๕๖๘"],
              ["องค์การบริหารส่วนตำบลบ้านทดสอบ อำเภอเมือง จังหวัดน่าน"], []]


# ---------------------------------------------------------------- file builders


def xlsx_bytes(sheets: dict[str, list[list]]) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row if row else [None])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_bytes(rows: list[list], *, encoding: str) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode(encoding)


def docx_bytes(*, header: list[str], rows: list[list], title: list[str] = (), section: str = "",
               more_tables: list[tuple[str, list[list]]] = ()) -> bytes:
    """Cells given as lists become several paragraphs; ("num", [...]) a Word numbered list."""
    doc = Document()
    for line in title:
        doc.add_paragraph(line)
    for heading, table_rows in [(section, rows), *more_tables]:
        if heading:
            doc.add_paragraph(heading)
        table = doc.add_table(rows=1, cols=len(header))
        for i, h in enumerate(header):
            table.rows[0].cells[i].text = h
        for row in table_rows:
            cells = table.add_row().cells
            for i, value in enumerate(row):
                _fill_docx_cell(cells[i], value)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _fill_docx_cell(cell, value) -> None:
    if isinstance(value, tuple) and value[0] == "num":
        cell.paragraphs[0].text = value[1][0]
        cell.paragraphs[0].style = "List Number"
        for item in value[1][1:]:
            cell.add_paragraph(item, style="List Number")
    elif isinstance(value, list):
        cell.paragraphs[0].text = value[0]
        for item in value[1:]:
            cell.add_paragraph(item)
    else:
        cell.text = value


# ---------------------------------------------------------------- xlsx


def test_xlsx_title_rows_thai_digit_numbers_and_swapped_row():
    data = xlsx_bytes({"แผน": [*TITLE_ROWS, HEADER_TH, *ROWS_TH]})
    plan = parse_measures_file(data, filename="plan.xlsx")
    assert plan.fiscal_year == 2568
    assert plan.organization_name == "องค์การบริหารส่วนตำบลบ้านทดสอบ"
    assert (plan.district, plan.province) == ("เมือง", "น่าน")
    assert [m.number for m in plan.measures] == [1, 2, 3]
    m1, m2, m3 = plan.measures
    assert m1.steps == "๑. จัดทำคู่มือ\n๒. เผยแพร่"
    assert (m2.period_text, m2.owner_text) == ("๑ มกราคม - ๓๑ มีนาคม ๒๕๖๘", "กองคลัง")
    assert (m3.period_text, m3.owner_text) == ("ทุกเดือน", "สำนักปลัด")
    assert m1.source_row == 6
    assert any("แถวที่ 7" in w for w in plan.warnings)


def test_xlsx_owner_column_before_period_and_other_header_names():
    header = ["ที่", "มาตรการ", "ขั้นตอน/วิธีการปฏิบัติ", "หน่วยงานผู้รับผิดชอบ", "ระยะเวลา ดำเนินการ",
              "สรุปผลการดำเนินการ", "ผลลัพธ์/ความสำเร็จ"]
    rows = [["1", "มาตรการ ก", "ขั้นตอน ก", "กองช่าง", "ต.ค. 67 - ธ.ค. 67", "ผล ก", "ลัพธ์ ก"],
            ["2", "มาตรการ ข", "ขั้นตอน ข", "มกราคม - มีนาคม ๒๕๖๘", "กองคลัง", "ผล ข", "ลัพธ์ ข"]]
    plan = parse_measures_file(xlsx_bytes({"Sheet1": [header, *rows]}), fiscal_year=2568)
    assert [(m.owner_text, m.period_text) for m in plan.measures] == [
        ("กองช่าง", "ต.ค. 67 - ธ.ค. 67"), ("กองคลัง", "มกราคม - มีนาคม ๒๕๖๘")]
    assert [(m.output_text, m.outcome_text) for m in plan.measures] == [("ผล ก", "ลัพธ์ ก"), ("ผล ข", "ลัพธ์ ข")]


def test_xlsx_several_sheets_cover_sheet_ignored_and_sections_by_sheet():
    cover = [["คำชี้แจง"], ["กรอกแผนในชีตถัดไป"]]
    header = ["มาตรการ", "ขั้นตอน", "ผู้รับผิดชอบ", "ระยะเวลาดำเนินการ"]
    sheet_a = [header, ["๑. มาตรการแรก", "ทำ", "กองคลัง", "ตุลาคม ๒๕๖๗"]]
    sheet_b = [header, ["๒. มาตรการสอง", "ทำ", "กองช่าง", "พฤศจิกายน ๒๕๖๗"],
               [None, "ทำต่อ", None, None]]
    plan = parse_measures_file(xlsx_bytes({"คำชี้แจง": cover, "ด้านที่ 1": sheet_a, "ด้านที่ 2": sheet_b}))
    assert [m.title for m in plan.measures] == ["มาตรการแรก", "มาตรการสอง"]
    assert [m.section_title for m in plan.measures] == ["ด้านที่ 1", "ด้านที่ 2"]
    assert plan.measures[1].steps == "ทำ\nทำต่อ"  # a further row of the measure: a line of its own
    assert plan.fiscal_year == 2568  # from the periods: both fall in FY 2568


def test_xlsx_section_rows_and_column_number_row():
    header = ["ลำดับ", "มาตรการ/แนวทาง", "ขั้นตอน/วิธีการปฏิบัติ", "ผู้รับผิดชอบ", "ระยะเวลาดำเนินการ"]
    rows = [header, ["(1)", "(2)", "(3)", "(4)", "(5)"],
            ["๑. ด้านความโปร่งใส"],
            ["1", "เปิดเผยข้อมูล", "ลงเว็บไซต์", "สำนักปลัด", "ตลอดปีงบประมาณ"],
            ["๒. ด้านการป้องกันการทุจริต"],
            ["2", "ประเมินความเสี่ยง", "ทำแบบประเมิน", "นิติการ", "ไตรมาสที่ 1"]]
    plan = parse_measures_file(xlsx_bytes({"plan": rows}), fiscal_year=2568)
    assert [(m.number, m.section_number, m.section_title) for m in plan.measures] == [
        (1, 1, "ด้านความโปร่งใส"), (2, 2, "ด้านการป้องกันการทุจริต")]


def test_xlsx_english_headers():
    rows = [["Measure", "Steps", "Owner", "Period", "Output", "Outcome"],
            ["Publish the procurement plan", "1. draft\n2. publish", "Finance", "October 2567", "plan online", "trust"]]
    plan = parse_measures_file(xlsx_bytes({"en": rows}), fiscal_year=2568)
    m = plan.measures[0]
    assert (m.title, m.owner_text, m.output_text, m.outcome_text) == (
        "Publish the procurement plan", "Finance", "plan online", "trust")


# ---------------------------------------------------------------- csv


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp874"])
def test_csv_encodings(encoding):
    data = csv_bytes([*TITLE_ROWS, HEADER_TH, *ROWS_TH], encoding=encoding)
    plan = parse_measures_file(data, filename="plan.csv")
    assert plan.fiscal_year == 2568
    assert [m.title for m in plan.measures] == [r[1] for r in ROWS_TH]
    assert plan.measures[1].owner_text == "กองคลัง"
    assert plan.measures[0].steps == "๑. จัดทำคู่มือ\n๒. เผยแพร่"


def test_tsv_with_quoted_multiline_cells_goes_through_csv_reader():
    rows = [HEADER_TH, ROWS_TH[0]]
    buf = io.StringIO()
    csv.writer(buf, delimiter="\t", quoting=csv.QUOTE_ALL).writerows(rows)
    plan = parse_measures_file(buf.getvalue().encode("utf-8"), fiscal_year=2568)
    assert plan.measures[0].steps == "๑. จัดทำคู่มือ\n๒. เผยแพร่"


# ---------------------------------------------------------------- docx


def test_docx_paragraph_cells_numbered_lists_and_title():
    header = ["มาตรการ/แนวทาง", "ขั้นตอน/วิธีการปฏิบัติ", "หน่วยงานผู้รับผิดชอบ", "ระยะเวลาดำเนินการ",
              "สรุปผลการดำเนินการ", "ผลลัพธ์/ความสำเร็จ"]
    rows = [
        ["๑. จัดทำคู่มือ", ("num", ["จัดทำคู่มือ", "ประชาสัมพันธ์"]), "ทุกส่วนราชการ",
         "ตุลาคม ๒๕๖๕ - เมษายน ๒๕๖๖", ["๑. ประชุมชี้แจง", "๒. มอบหมายงาน"], "ประชาชนรับรู้"],
        ["๒. ป้องกันผลประโยชน์ทับซ้อน", "ประเมินความเสี่ยง", "๑ มกราคม - ๓๐ มิถุนายน ๒๕๖๖", "นิติการ",
         "มีการประเมิน", "ลดความเสี่ยง"],
    ]
    data = docx_bytes(header=header, rows=rows,
                      title=["รายงานผลการดำเนินการเพื่อส่งเสริมคุณธรรม", "ประจำปีงบประมาณ พ.ศ.2566",
                             "(รอบ 6 เดือน)", "เทศบาลตำบลทดสอบ", "อำเภอเมืองเลย จังหวัดเลย"])
    plan = parse_measures_file(data, filename="report.docx")
    assert (plan.fiscal_year, plan.round, plan.organization_name, plan.province) == (2566, 6, "เทศบาลตำบลทดสอบ", "เลย")
    m1, m2 = plan.measures
    assert (m1.number, m1.title) == (1, "จัดทำคู่มือ")
    assert m1.steps == "1. จัดทำคู่มือ\n2. ประชาสัมพันธ์"
    assert m1.output_text == "๑. ประชุมชี้แจง\n๒. มอบหมายงาน"
    assert (m2.owner_text, m2.period_text) == ("นิติการ", "๑ มกราคม - ๓๐ มิถุนายน ๒๕๖๖")


def test_docx_sections_between_tables_and_merged_cells():
    header = ["มาตรการ/โครงการ/กิจกรรม", "ขั้นตอนหรือวิธีการปฏิบัติ", "ระยะเวลาดำเนินการ", "ผู้รับผิดชอบ"]
    data = docx_bytes(header=header, section="๑. กระบวนการปฏิบัติงาน",
                      rows=[["จัดทำคู่มือ", "ทำคู่มือ", "ตุลาคม ๒๕๖๗ - กันยายน ๒๕๖๘", "ทุกสำนัก/ กอง"]],
                      more_tables=[("๒. การใช้บริการ E-service",
                                    [["พัฒนา E-Service", "ขั้นที่ ๑", "ทุกสำนัก/ กอง", "ตุลาคม ๒๕๖๗ - กันยายน ๒๕๖๘"],
                                     ["พัฒนา E-Service", "ขั้นที่ ๒", "ทุกสำนัก/ กอง", "ตุลาคม ๒๕๖๗ - กันยายน ๒๕๖๘"]])])
    # merge the title cell of the last two rows vertically, as Word users do
    doc = Document(io.BytesIO(data))
    t = doc.tables[1]
    for col in (0, 2, 3):
        text = t.cell(1, col).text
        t.cell(1, col).merge(t.cell(2, col)).text = text  # merge() joins both texts; keep one
    buf = io.BytesIO()
    doc.save(buf)
    plan = parse_measures_file(buf.getvalue())
    assert [(m.section_number, m.title) for m in plan.measures] == [(1, "จัดทำคู่มือ"), (2, "พัฒนา E-Service")]
    assert plan.measures[1].steps.split() == ["ขั้นที่", "๑", "ขั้นที่", "๒"]
    assert plan.measures[1].owner_text == "ทุกสำนัก/ กอง"
    assert plan.measures[1].period_text.startswith("ตุลาคม ๒๕๖๗")
    assert plan.fiscal_year == 2568


# ---------------------------------------------------------------- bad files


def _problem(data: bytes, **kw) -> str:
    with pytest.raises(FileProblem) as exc:
        parse_measures_file(data, **kw)
    return str(exc.value)


def test_bad_files_have_plain_thai_messages():
    assert "ว่าง" in _problem(b"")
    assert "ว่าง" in _problem(b"  \n\n")
    assert "เสียหาย" in _problem(b"PK\x03\x04" + b"\x00garbage" * 20)
    assert "PDF" in _problem(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj")


def test_corrupt_workbook_inside_a_valid_zip():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("xl/workbook.xml", "not xml at all")
    assert "Excel" in _problem(buf.getvalue())


def test_table_without_measure_column_names_what_was_found():
    rows = [["ขั้นตอน/วิธีการปฏิบัติ", "ผู้รับผิดชอบ", "ระยะเวลาดำเนินการ"], ["ทำ", "กองคลัง", "ตุลาคม ๒๕๖๗"]]
    msg = _problem(csv_bytes(rows, encoding="utf-8"))
    assert "ไม่มีคอลัมน์ชื่อมาตรการ" in msg and "แถว 1" in msg and "ผู้รับผิดชอบ" in msg


def test_no_table_at_all():
    msg = _problem(csv_bytes([["ชื่อ", "นามสกุล"], ["สมชาย", "ใจดี"]], encoding="utf-8"))
    assert "ไม่พบตารางมาตรการ" in msg


def test_header_without_measures():
    msg = _problem(xlsx_bytes({"s": [HEADER_TH]}))
    assert "ไม่มีมาตรการใต้หัวตาราง" in msg


def test_data_before_any_measure_names_the_row():
    header = ["มาตรการ", "ขั้นตอน", "ผู้รับผิดชอบ", "ระยะเวลาดำเนินการ"]
    data = xlsx_bytes({"s": [["แผนมาตรการ"], header, [None, "ทำโดยไม่มีชื่อ", "กองคลัง", "ตุลาคม ๒๕๖๗"],
                             ["ชื่อ", "ทำ", "กองคลัง", "ตุลาคม ๒๕๖๗"]]})
    msg = _problem(data)
    assert "แถวที่ 3" in msg and "ไม่มีชื่อมาตรการ" in msg
    header2 = ["ลำดับ", "มาตรการ", "ขั้นตอน", "ผู้รับผิดชอบ"]
    msg = _problem(xlsx_bytes({"s": [header2, ["1", None, "ทำโดยไม่มีชื่อ", "กองคลัง"]]}))
    assert "แถวที่ 2" in msg and "ไม่มีชื่อมาตรการ" in msg


def test_docx_without_table():
    doc = Document()
    doc.add_paragraph("มาตรการ ๑ ทำอะไรบางอย่าง")
    buf = io.BytesIO()
    doc.save(buf)
    assert "ไม่พบตาราง" in _problem(buf.getvalue())


# ---------------------------------------------------------------- import into the database


def _org(engine, *, name="อบต.ทดสอบ", departments=(("สำนักปลัด", ["สำนักปลัด อบต."]), ("กองคลัง", []),
                                                      ("กองช่าง", [])), ) -> tuple[int, dict[str, int]]:
    with db.session_scope(engine) as s:
        org = Organization(name=name, kind="อบต.")
        s.add(org)
        s.flush()
        ids = {}
        for i, (dep_name, aliases) in enumerate(departments):
            d = Department(organization_id=org.id, name=dep_name, aliases=list(aliases), sort_order=i)
            s.add(d)
            s.flush()
            ids[dep_name] = d.id
        return org.id, ids


def _import(engine, org_id, plan, *, year=None, data=b"x", name="plan.xlsx"):
    with db.session_scope(engine) as s:
        return import_plan(s, organization_id=org_id, plan=plan, fiscal_year=year or plan.fiscal_year, user_id=None,
                           file_name=name, file_bytes=data)


def _measures(engine, org_id, year):
    with Session(engine) as s:
        rows = s.exec(select(Measure).where(Measure.organization_id == org_id, Measure.fiscal_year == year)
                      .order_by(Measure.number)).all()
        links = {m.id: sorted(s.exec(select(MeasureDepartment.department_id)
                                     .where(MeasureDepartment.measure_id == m.id)).all()) for m in rows}
        return rows, links


def _count(engine, model) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def _plan(*titles_owners, year=2568) -> ParsedPlan:
    return ParsedPlan(fiscal_year=year, measures=[
        ParsedMeasure(number=i, title=t, owner_text=o, period_text=p, source_row=i + 1)
        for i, (t, o, p) in enumerate(titles_owners, start=1)])


def test_import_seed_004_resolves_owners_and_periods(engine):
    org_id, deps = _org(engine)
    data = SEED_004.read_bytes()
    plan = parse_measures_file(data)
    summary = _import(engine, org_id, plan, data=data, name=SEED_004.name)
    assert (summary.created, summary.updated, summary.unchanged) == (8, 0, 0)
    assert summary.unresolved_owners == []
    rows, links = _measures(engine, org_id, 2568)
    assert len(rows) == 8
    everyone = sorted(deps.values())
    assert [r.owner_all for r in rows] == [True, True, False, False, False, True, True, False]
    assert links[rows[0].id] == everyone  # ทุกสำนัก/ กอง
    assert links[rows[2].id] == [deps["สำนักปลัด"]]  # "สำนักปลัด อบต." via the alias
    assert links[rows[4].id] == [deps["กองคลัง"]]
    assert all((r.start_date, r.end_date) == (dt.date(2024, 10, 1), dt.date(2025, 9, 30)) for r in rows)
    assert not any(r.period_unparsed for r in rows)
    assert rows[0].section_number == 1 and rows[7].section_number == 7
    with Session(engine) as s:
        batch = s.get(ImportBatch, summary.batch_id)
        assert (batch.kind, batch.read_count, batch.imported_count, batch.file_name) == ("measures", 8, 8, SEED_004.name)
        assert batch.size_bytes == len(data) and len(batch.sha256) == 64
        events = s.exec(select(AuditEvent).where(AuditEvent.action == "measures.import")).all()
        assert len(events) == 1 and events[0].after["created"] == 8


def test_reimport_updates_instead_of_duplicating(engine):
    org_id, _ = _org(engine)
    data = SEED_004.read_bytes()
    _import(engine, org_id, parse_measures_file(data), data=data)
    again = _import(engine, org_id, parse_measures_file(data), data=data)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 8)
    assert _count(engine, Measure) == 8
    assert _count(engine, ImportBatch) == 2

    plan = parse_measures_file(data)
    plan.measures[2].steps = "ขั้นตอนที่แก้ไขแล้ว"
    plan.measures[4].title = "การเผยแพร่ประกาศจัดซื้อจัดจ้าง (แก้ชื่อ)"  # same number: matched by number
    third = _import(engine, org_id, plan, data=data + b" ")
    assert (third.created, third.updated, third.unchanged) == (0, 2, 6)
    rows, _ = _measures(engine, org_id, 2568)
    assert len(rows) == 8
    assert rows[2].steps == "ขั้นตอนที่แก้ไขแล้ว" and rows[2].source_batch_id == third.batch_id
    assert rows[4].title == "การเผยแพร่ประกาศจัดซื้อจัดจ้าง (แก้ชื่อ)"


def test_reimport_reordered_and_shorter_plan_keeps_missing_measures(engine):
    org_id, _ = _org(engine)
    _import(engine, org_id, _plan(("มาตรการ ก", "กองคลัง", "ตุลาคม 2567"), ("มาตรการ ข", "กองช่าง", "ตุลาคม 2567"),
                                  ("มาตรการ ค", "สำนักปลัด", "ตุลาคม 2567")))
    with Session(engine) as s:
        ids = {m.title: m.id for m in s.exec(select(Measure))}
    summary = _import(engine, org_id, _plan(("มาตรการ ค", "สำนักปลัด", "ตุลาคม 2567"),
                                            ("มาตรการ ก", "กองคลัง", "ตุลาคม 2567")))
    assert (summary.created, summary.updated) == (0, 2)  # renumbered, same rows
    assert summary.missing == ["4. มาตรการ ข"]
    rows, _ = _measures(engine, org_id, 2568)
    assert [(r.number, r.title, r.id) for r in rows] == [
        (1, "มาตรการ ค", ids["มาตรการ ค"]), (2, "มาตรการ ก", ids["มาตรการ ก"]), (4, "มาตรการ ข", ids["มาตรการ ข"])]


def test_unresolved_owners_kept_and_alias_mapping_reresolves(engine):
    org_id, deps = _org(engine, name="เทศบาลตำบลนาอ้อ",
                        departments=(("สำนักปลัดเทศบาล", []), ("กองคลัง", []), ("กองช่าง", [])))
    data = SEED_000.read_bytes()
    summary = _import(engine, org_id, parse_measures_file(data), data=data)
    assert summary.created == 7
    assert summary.unresolved_owners == ["นิติการ", "คณะทำงาน สนับสนุน การ ประเมิน ITA",
                                         "เจ้าหน้าที่ฝ่ายประชาสัมพันธ์", "ฝ่ายนิติการ"]
    rows, links = _measures(engine, org_id, 2566)
    assert [r.owner_all for r in rows] == [True, False, True, False, True, True, False]
    assert rows[1].unresolved_owners == ["นิติการ"] and links[rows[1].id] == []
    assert rows[1].owner_text == "นิติการ"  # as written
    assert rows[2].recurrence == "monthly,quarterly,semiannual"
    assert (rows[3].start_date, rows[3].end_date) == (dt.date(2023, 1, 1), dt.date(2023, 6, 30))

    with db.session_scope(engine) as s:
        changed = map_owner_alias(s, organization_id=org_id, written="นิติการ", department_id=deps["สำนักปลัดเทศบาล"])
    # measure 2 ("นิติการ") and measure 7 ("ฝ่ายนิติการ" now contains a known name)
    assert changed == 2
    rows, links = _measures(engine, org_id, 2566)
    assert rows[1].unresolved_owners == [] and links[rows[1].id] == [deps["สำนักปลัดเทศบาล"]]
    assert rows[6].unresolved_owners == ["เจ้าหน้าที่ฝ่ายประชาสัมพันธ์"]
    with Session(engine) as s:
        assert s.get(Department, deps["สำนักปลัดเทศบาล"]).aliases == ["นิติการ"]
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "department.alias_map")).one().after["written"] == "นิติการ"
    # a re-import now resolves it from the start, and mapping again changes nothing
    again = _import(engine, org_id, parse_measures_file(data), data=data)
    assert "นิติการ" not in again.unresolved_owners and again.updated == 0
    with db.session_scope(engine) as s:
        assert map_owner_alias(s, organization_id=org_id, written="นิติการ", department_id=deps["สำนักปลัดเทศบาล"]) == 0
        assert s.get(Department, deps["สำนักปลัดเทศบาล"]).aliases == ["นิติการ"]


def test_alias_for_another_organisations_department_is_refused(engine):
    org_a, _ = _org(engine, name="ก")
    _, deps_b = _org(engine, name="ข")
    with pytest.raises(MeasureImportError):
        with db.session_scope(engine) as s:
            map_owner_alias(s, organization_id=org_a, written="นิติการ", department_id=deps_b["กองคลัง"])


def test_unreadable_period_is_flagged_and_kept(engine):
    org_id, _ = _org(engine)
    _import(engine, org_id, _plan(("มาตรการ ก", "กองคลัง", "เมื่อมีเรื่องร้องเรียน"),
                                  ("มาตรการ ข", "กองคลัง", "ไตรมาสที่ 2")))
    rows, _ = _measures(engine, org_id, 2568)
    assert rows[0].period_unparsed and rows[0].start_date is None and rows[0].period_text == "เมื่อมีเรื่องร้องเรียน"
    assert not rows[1].period_unparsed and rows[1].start_date == dt.date(2025, 1, 1)


def test_failing_import_leaves_database_unchanged(engine, monkeypatch):
    org_id, _ = _org(engine)
    data = SEED_004.read_bytes()
    _import(engine, org_id, parse_measures_file(data), data=data)
    before = {m: _count(engine, m) for m in (Measure, MeasureDepartment, ImportBatch, AuditEvent)}
    rows_before, links_before = _measures(engine, org_id, 2568)

    real = measure_import.resolve_owners
    calls = {"n": 0}

    def flaky(text, *, resolver):
        calls["n"] += 1
        if calls["n"] == 5:
            raise RuntimeError("disk full")
        return real(text, resolver=resolver)

    monkeypatch.setattr(measure_import, "resolve_owners", flaky)
    plan = parse_measures_file(data)
    plan.measures.reverse()  # forces renumbering, so half-done work would show
    for i, m in enumerate(plan.measures, start=1):
        m.number, m.steps = i, m.steps + " (แก้)"
    plan.measures.append(ParsedMeasure(number=9, title="มาตรการใหม่", owner_text="กองช่าง"))
    with pytest.raises(RuntimeError):
        _import(engine, org_id, plan, data=data + b"!")
    assert {m: _count(engine, m) for m in before} == before
    rows_after, links_after = _measures(engine, org_id, 2568)
    assert [(r.id, r.number, r.steps) for r in rows_after] == [(r.id, r.number, r.steps) for r in rows_before]
    assert links_after == links_before


def test_bad_plans_are_refused_before_writing(engine):
    org_id, _ = _org(engine)
    dup = _plan(("ก", "กองคลัง", ""), ("ข", "กองคลัง", ""))
    dup.measures[1].number = 1
    with pytest.raises(MeasureImportError, match="ซ้ำ"):
        _import(engine, org_id, dup)
    with pytest.raises(MeasureImportError, match="ปีงบประมาณ"):
        _import(engine, org_id, _plan(("ก", "", "")), year=2025)
    with pytest.raises(MeasureImportError, match="ไม่มีมาตรการ"):
        _import(engine, org_id, ParsedPlan(fiscal_year=2568))
    with pytest.raises(MeasureImportError, match="ไม่พบหน่วยงาน"):
        _import(engine, org_id + 99, _plan(("ก", "", "")))
    assert _count(engine, Measure) == 0 and _count(engine, ImportBatch) == 0


def test_activities_created_once(engine):
    org_id, _ = _org(engine)
    plan = parse_measures_file(SEED_000.read_bytes())
    with db.session_scope(engine) as s:
        first = create_activities(s, organization_id=org_id, fiscal_year=2566, activities=plan.activities)
    with db.session_scope(engine) as s:
        second = create_activities(s, organization_id=org_id, fiscal_year=2566, activities=plan.activities)
    assert (first.created, second.created, second.duplicates) == (2, 0, 2)
    with Session(engine) as s:
        acts = s.exec(select(Activity).order_by(Activity.date)).all()
    assert [a.date for a in acts] == [dt.date(2023, 3, 7), dt.date(2023, 4, 2)]
    assert acts[1].title == "การตอบแบบวัดการรับรู้ (IIT) และ (EIT)"


def test_activity_without_date_is_skipped_and_measure_checked(engine):
    org_id, _ = _org(engine)
    other_org, _ = _org(engine, name="อื่น")
    _import(engine, other_org, _plan(("ก", "", "")))
    with Session(engine) as s:
        foreign_measure = s.exec(select(Measure)).first().id
    from ita_dashboard.importers.measures import ParsedActivity

    with db.session_scope(engine) as s:
        res = create_activities(s, organization_id=org_id, fiscal_year=2568,
                                activities=[ParsedActivity(date=None, title="ไม่มีวันที่")])
    assert res.created == 0 and res.skipped_undated == ["ไม่มีวันที่"]
    with pytest.raises(MeasureImportError):
        with db.session_scope(engine) as s:
            create_activities(s, organization_id=org_id, fiscal_year=2568, measure_id=foreign_measure,
                              activities=[ParsedActivity(date=dt.date(2025, 1, 1), title="x")])


def test_renumbering_warning_follows_the_language(monkeypatch):
    """A number typed twice: the plan is numbered again in file order, and the warning saying so
    comes from texts.py in the reader's language."""
    rows = [["ที่", "มาตรการ/กิจกรรม", "วิธีการดำเนินการ", "ผู้รับผิดชอบ", "ระยะเวลา"],
            ["1", "เผยแพร่แผนการจัดซื้อจัดจ้าง", "ประกาศบนเว็บไซต์", "กองคลัง", "ตุลาคม 2568"],
            ["2", "อบรมผลประโยชน์ทับซ้อน", "จัดอบรม", "กองช่าง", "มกราคม 2569"],
            ["2", "จัดทำคู่มือ", "จัดทำคู่มือ", "กองช่าง", "พฤศจิกายน 2568"]]
    data = xlsx_bytes({"Sheet1": rows})
    monkeypatch.setenv("ITA_LANG", "en")
    plan = parse_measures_file(data, fiscal_year=2569)
    assert [m.number for m in plan.measures] == [1, 2, 3]
    assert any(w.startswith("The measures' numbers in the file repeat") for w in plan.warnings), plan.warnings
