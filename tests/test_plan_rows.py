"""Plans as people lay them out: merged cells carry their text, section and title rows inside the
table, repeated headers, signature blocks and notes under the table: every row is a measure, a
part of one, a heading, or reported as skipped with where and why; nothing is glued to a measure.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from docx import Document
from openpyxl import Workbook
from sqlmodel import Session, select

from ita_dashboard import db
from ita_dashboard.importers import report_text as rt
from ita_dashboard.importers import tabular
from ita_dashboard.importers.measures import (
    _ods_merges, _workbook_merges, holds_data, looks_like_header, parse_measures_file,
)
from ita_dashboard.importers.tabular import FileProblem
from ita_dashboard.models import AuditEvent, Department, Organization
from ita_dashboard.services.measure_import import import_plan

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"
_spec = importlib.util.spec_from_file_location("build_plans", DATA / "corpus" / "plans" / "build_plans.py")
bp = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bp)

W = bp.W_NS
G = bp.GRID  # ที่ · มาตรการ · ขั้นตอน · ผู้รับผิดชอบ · ระยะเวลา · ผลผลิต · ผลลัพธ์
HEADER = ["ที่", "มาตรการ/โครงการ/กิจกรรม", "ขั้นตอน/วิธีการปฏิบัติ", "ผู้รับผิดชอบ", "ระยะเวลาดำเนินการ",
          "ผลผลิต (output)", "ผลลัพธ์ (outcome)"]
PERIOD = "ตุลาคม ๒๕๖๗ - กันยายน ๒๕๖๘"


# ---------------------------------------------------------------- builders


def header_row(*, mark: bool = True) -> str:
    return bp.tr(*(bp.tc(h, G[i], bold=True) for i, h in enumerate(HEADER)), header=mark)


def row(*values, merge: dict | None = None) -> str:
    return bp.measure_row(*values, merge=merge)


def word(rows: list[str], *, above: list[str] = (), below: list[str] = (), tables: list[list[str]] = ()) -> bytes:
    """A Word document: paragraphs ``above``, the table of ``rows`` (raw ``w:tr`` XML as Word writes
    it, see build_plans.py), more tables, paragraphs ``below``."""
    from docx.oxml import parse_xml

    document = Document()
    body = document.element.body
    sect_pr = body[-1]
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in G)

    def add_para(text):
        sect_pr.addprevious(parse_xml(bp.para(text).replace("<w:p>", f'<w:p xmlns:w="{W}">', 1)))

    def add_table(table_rows):
        sect_pr.addprevious(parse_xml(f'<w:tbl xmlns:w="{W}"><w:tblPr><w:tblStyle w:val="TableGrid"/></w:tblPr>'
                                      f'<w:tblGrid>{grid}</w:tblGrid>{"".join(table_rows)}</w:tbl>'))

    for text in above:
        add_para(text)
    add_table(rows)
    for more in tables:
        add_para("")
        add_table(more)
    for text in below:
        add_para(text)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def xlsx(rows: dict[int, list], merges: list[str] = ()) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "แผน"
    for r, values in rows.items():
        for c, v in enumerate(values, start=1):
            if v is not None:
                ws.cell(row=r, column=c, value=v)
    for ref in merges:
        ws.merge_cells(ref)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def excel_csv(rows: list[list[str]], width: int = 6) -> bytes:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, dialect="excel", lineterminator="\r\n")
    for r in rows:
        writer.writerow((list(r) + [""] * width)[:width])
    return buf.getvalue().encode("utf-8-sig")


def skipped(plan) -> list[tuple]:
    return [(s.table, s.row, s.code) for s in plan.skipped]


def glued(plan, *words: str) -> list[str]:
    """Measures any of whose texts holds one of ``words``."""
    return [m.title for m in plan.measures for w in words
            if any(w in (t or "") for t in (m.title, m.steps, m.owner_text, m.period_text, m.output_text,
                                            m.outcome_text))]


# ---------------------------------------------------------------- Word: merged cells


def test_word_owner_merged_down_over_two_measures_is_the_owner_of_both():
    data = word([header_row(),
                 row("๑", "จัดทำคู่มือ", "ทำคู่มือ", "กองคลัง", PERIOD, "มีคู่มือ", "เข้าใจ", merge={3: "restart"}),
                 row("๒", "ประเมินความเสี่ยง", "ทำแบบประเมิน", "", PERIOD, "มีผล", "ลดความเสี่ยง", merge={3: "continue"}),
                 row("๓", "เผยแพร่ข้อมูล", "ลงเว็บ", "กองช่าง", PERIOD, "มีข้อมูล", "โปร่งใส")])
    plan = parse_measures_file(data)
    assert [(m.title, m.owner_text) for m in plan.measures] == [
        ("จัดทำคู่มือ", "กองคลัง"), ("ประเมินความเสี่ยง", "กองคลัง"), ("เผยแพร่ข้อมูล", "กองช่าง")]
    assert [m.source_place for m in plan.measures] == ["ตารางที่ 1 แถวที่ 2", "ตารางที่ 1 แถวที่ 3",
                                                       "ตารางที่ 1 แถวที่ 4"]
    assert plan.skipped == []


def test_word_owner_merged_with_python_docx_merge_api():
    """python-docx's cell.merge() writes the same restart/continue cells Word writes."""
    doc = Document()
    table = doc.add_table(rows=3, cols=4)
    for i, h in enumerate(["มาตรการ", "ขั้นตอน", "ผู้รับผิดชอบ", "ระยะเวลาดำเนินการ"]):
        table.cell(0, i).text = h
    for r, (title, steps) in enumerate([("ก", "ทำ ก"), ("ข", "ทำ ข")], start=1):
        table.cell(r, 0).text, table.cell(r, 1).text, table.cell(r, 3).text = title, steps, PERIOD
    table.cell(1, 2).merge(table.cell(2, 2)).text = "สำนักปลัด"
    buf = io.BytesIO()
    doc.save(buf)
    plan = parse_measures_file(buf.getvalue())
    assert [(m.title, m.owner_text) for m in plan.measures] == [("ก", "สำนักปลัด"), ("ข", "สำนักปลัด")]


def test_word_measure_merged_over_its_step_rows_is_one_measure():
    data = word([header_row(),
                 row("๑", "ประกาศเจตนารมณ์", "๑. ลงนามประกาศ", "สำนักปลัด", PERIOD, "มีประกาศ", "ถือปฏิบัติ",
                     merge={0: "restart", 1: "restart", 3: "restart", 4: "restart", 6: "restart"}),
                 row("", "", "๒. เผยแพร่", "", "", "ลงเว็บไซต์", "",
                     merge={0: "continue", 1: "continue", 3: "continue", 4: "continue", 6: "continue"}),
                 row("๒", "อบรม", "จัดอบรม", "กองช่าง", PERIOD, "อบรม ๑ ครั้ง", "เข้าใจ")])
    plan = parse_measures_file(data)
    m1, m2 = plan.measures
    assert (m1.title, m1.steps, m1.output_text) == ("ประกาศเจตนารมณ์", "๑. ลงนามประกาศ\n๒. เผยแพร่", "มีประกาศ\nลงเว็บไซต์")
    assert (m1.owner_text, m1.period_text, m1.outcome_text) == ("สำนักปลัด", PERIOD, "ถือปฏิบัติ")  # not doubled
    assert (m2.number, m2.title) == (2, "อบรม")


def test_word_two_level_header_merged_down_and_across():
    """"ผลการดำเนินการ" across output and outcome, the other header cells merged down."""
    top = bp.tr(*(bp.tc(h, G[i], vmerge="restart") for i, h in enumerate(HEADER[:5])),
                bp.tc("ผลการดำเนินการ", G[5] + G[6], span=2), header=True)
    sub = bp.tr(*(bp.tc("", G[i], vmerge="continue") for i in range(5)),
                bp.tc("ผลผลิต", G[5]), bp.tc("ผลลัพธ์", G[6]), header=True)
    plan = parse_measures_file(word([top, sub, row("๑", "จัดทำคู่มือ", "ทำ", "กองคลัง", PERIOD, "มีคู่มือ", "เข้าใจ")]))
    m = plan.measures[0]
    assert (m.output_text, m.outcome_text, m.owner_text) == ("มีคู่มือ", "เข้าใจ", "กองคลัง")
    assert plan.skipped == []


# ---------------------------------------------------------------- Word: section and title rows


def test_word_section_row_merged_across_right_under_the_header():
    data = word([header_row(), bp.section_row("๑. การป้องกันผลประโยชน์ทับซ้อน"),
                 row("๑", "จัดทำคู่มือ", "ทำ", "กองคลัง", PERIOD, "", ""),
                 bp.section_row("การเปิดเผยข้อมูล"),  # no number: the next one
                 row("๒", "เผยแพร่", "ทำ", "กองช่าง", PERIOD, "", ""),
                 bp.section_row("ด้านที่ ๕ การมีส่วนร่วม"),
                 row("๓", "รับฟังความเห็น", "ทำ", "กองช่าง", PERIOD, "", "")])
    plan = parse_measures_file(data)
    assert [(m.section_number, m.section_title) for m in plan.measures] == [
        (1, "การป้องกันผลประโยชน์ทับซ้อน"), (2, "การเปิดเผยข้อมูล"), (5, "ด้านที่ ๕ การมีส่วนร่วม")]


def test_word_title_rows_inside_the_table_are_recognised_not_sections():
    title = bp.section_row("มาตรการส่งเสริมคุณธรรมและความโปร่งใสภายในหน่วยงาน ประจำปีงบประมาณ พ.ศ. ๒๕๖๘")
    data = word([title, header_row(), bp.section_row("๑. ด้านความโปร่งใส"),
                 row("๑", "จัดทำคู่มือ", "ทำ", "กองคลัง", PERIOD, "", ""),
                 title, header_row(mark=False),  # the table's own heading typed again (page 2)
                 row("๒", "เผยแพร่", "ทำ", "กองช่าง", PERIOD, "", ""),
                 bp.section_row("เทศบาลตำบลคลังตัวอย่าง อำเภอเมือง จังหวัดเลย")],
                above=["เทศบาลตำบลคลังตัวอย่าง"])
    plan = parse_measures_file(data)
    assert plan.fiscal_year == 2568  # from the title row at the table's top
    assert plan.title.startswith("มาตรการส่งเสริมคุณธรรม")
    assert [(m.title, m.section_number) for m in plan.measures] == [("จัดทำคู่มือ", 1), ("เผยแพร่", 1)]
    assert skipped(plan) == [(1, 5, "title"), (1, 6, "repeated_header"), (1, 8, "title")]
    assert plan.skipped[1].reason == "หัวตารางซ้ำ" and plan.skipped[1].place == "ตารางที่ 1 แถวที่ 6"


def test_word_repeat_header_flag_is_not_a_second_header_but_a_typed_copy_is():
    """w:tblHeader marks the header Word repeats on each page (held once in the file); a header
    row typed again among the rows is skipped as a repeat, whether or not it carries the flag."""
    plain = word([header_row(mark=True), row("๑", "ก", "ทำ", "กองคลัง", PERIOD, "", ""),
                  row("๒", "ข", "ทำ", "กองช่าง", PERIOD, "", "")])
    assert [m.title for m in parse_measures_file(plain).measures] == ["ก", "ข"]
    assert parse_measures_file(plain).skipped == []
    for mark in (False, True):
        data = word([header_row(), row("๑", "ก", "ทำ", "กองคลัง", PERIOD, "", ""), header_row(mark=mark),
                     row("๒", "ข", "ทำ", "กองช่าง", PERIOD, "", "")])
        plan = parse_measures_file(data)
        assert [m.title for m in plan.measures] == ["ก", "ข"]
        assert skipped(plan) == [(1, 3, "repeated_header")]


def test_word_second_table_without_header_continues_the_first():
    data = word([header_row(), row("๑", "ก", "ทำ", "กองคลัง", PERIOD, "", "")],
                tables=[[row("๒", "ข", "ทำ", "กองช่าง", PERIOD, "", "")],
                        [header_row(), row("๓", "ค", "ทำ", "กองช่าง", PERIOD, "", "")]])
    plan = parse_measures_file(data)
    assert [(m.number, m.title, m.source_place) for m in plan.measures] == [
        (1, "ก", "ตารางที่ 1 แถวที่ 2"), (2, "ข", "ตารางที่ 2 แถวที่ 1"), (3, "ค", "ตารางที่ 3 แถวที่ 2")]
    assert skipped(plan) == [(3, 1, "repeated_header")]


# ---------------------------------------------------------------- Word: signatures


SIGNATURE = ["ลงชื่อ ........................................ ผู้จัดทำ", "(นายสมชาย ใจดี)", "ปลัดเทศบาลตำบลคลังตัวอย่าง",
             "วันที่ ........ เดือน .................... พ.ศ. ..........."]


def test_word_signature_paragraphs_under_the_table_never_join_the_last_measure():
    data = word([header_row(), row("๑", "จัดทำคู่มือ", "ทำ", "กองคลัง", PERIOD, "", "")],
                below=["", *SIGNATURE, "นายกองค์การบริหารส่วนตำบลคลังตัวอย่าง"])
    plan = parse_measures_file(data)
    assert [m.title for m in plan.measures] == ["จัดทำคู่มือ"] and not glued(plan, "ลงชื่อ", "สมชาย", "ปลัด")
    assert [(s.row, s.code, s.place) for s in plan.skipped] == [(None, "signature", "ข้อความใต้ตารางที่ 1")] * 5


def test_word_signature_rows_inside_the_table():
    span = lambda text, cols: bp.tc(text, sum(G[:cols]), span=cols)  # noqa: E731
    data = word([header_row(), row("๑", "จัดทำคู่มือ", "ทำ", "กองคลัง", PERIOD, "", ""),
                 row("", "", "", "", "", "", ""),
                 bp.tr(span("ลงชื่อ .................... ผู้จัดทำ", 3), span("ลงชื่อ .................... ผู้รับรอง", 4)),
                 bp.tr(span("(นางสาวสมศรี มีสุข)", 3), span("(นายสมชาย ใจดี)", 4)),
                 bp.tr(span("นักวิเคราะห์นโยบายและแผน", 3), span("ปลัดเทศบาล", 4)),
                 bp.tr(bp.tc("\u00a0", G[0]), bp.tc("ลงชื่อ", G[1]), bp.tc(["(นายใหญ่ ประชารักษ์)", "นายกเทศมนตรี"], G[2]))])
    plan = parse_measures_file(data)
    assert len(plan.measures) == 1 and not glued(plan, "ลงชื่อ", "สมศรี", "สมชาย", "ปลัด", "นายก")
    assert skipped(plan) == [(1, 4, "signature"), (1, 5, "signature"), (1, 6, "signature"), (1, 7, "signature")]


def test_word_one_spanning_cell_holding_the_whole_signature_block():
    cell = bp.tc(SIGNATURE, sum(G), span=7)
    plan = parse_measures_file(word([header_row(), row("๑", "ก", "ทำ", "กองคลัง", PERIOD, "", ""), bp.tr(cell)]))
    assert len(plan.measures) == 1 and skipped(plan) == [(1, 3, "signature")]


def test_measures_that_mention_signing_or_a_position_stay_measures():
    data = word([header_row(),
                 row("๑", "ประกาศเจตนารมณ์", "ผู้บริหารลงชื่อในประกาศ", "ปลัดเทศบาล", PERIOD, "", ""),
                 row("๒", "ลงชื่อปฏิบัติงาน", "ลงชื่อเข้า-ออกงานทุกวัน", "นายกเทศมนตรี", PERIOD, "", ""),
                 row("๓", "ตรวจสอบ", "ทำ", "(นายสมชาย ใจดี)", PERIOD, "", "")])
    plan = parse_measures_file(data)
    assert [(m.title, m.owner_text) for m in plan.measures] == [
        ("ประกาศเจตนารมณ์", "ปลัดเทศบาล"), ("ลงชื่อปฏิบัติงาน", "นายกเทศมนตรี"), ("ตรวจสอบ", "(นายสมชาย ใจดี)")]
    assert plan.skipped == []


# ---------------------------------------------------------------- Word: XML Word and templates write


def test_word_rows_in_content_controls_grid_before_and_nested_tables():
    sdt_row = (f"<w:sdt><w:sdtPr><w:alias w:val=\"แถวมาตรการ\"/></w:sdtPr><w:sdtContent>"
               f"{row('๒', 'ข', 'ทำ', 'กองช่าง', PERIOD, '', '')}</w:sdtContent></w:sdt>")
    nested = (f'<w:tc><w:tcPr><w:tcW w:w="{G[2]}" w:type="dxa"/></w:tcPr><w:tbl><w:tblGrid><w:gridCol/><w:gridCol/>'
              f"</w:tblGrid><w:tr>{bp.tc('ขั้นที่ ๑', 100)}{bp.tc('ประชุม', 100)}</w:tr>"
              f"<w:tr>{bp.tc('ขั้นที่ ๒', 100)}{bp.tc('ประกาศ', 100)}</w:tr></w:tbl><w:p/></w:tc>")
    nested_row = bp.tr(bp.tc("๓", G[0]), bp.tc("ค", G[1]), nested, bp.tc("กองคลัง", G[3]), bp.tc(PERIOD, G[4]))
    # a row that starts one grid column in (w:gridBefore): its cells belong one column further right
    before = (f'<w:tr><w:trPr><w:gridBefore w:val="1"/></w:trPr>{bp.tc("ง", G[1])}{bp.tc("ทำ ง", G[2])}'
              f'{bp.tc("กองคลัง", G[3])}{bp.tc(PERIOD, G[4])}</w:tr>')
    plan = parse_measures_file(word([header_row(), row("๑", "ก", "ทำ", "กองคลัง", PERIOD, "", ""), sdt_row,
                                     nested_row, before]))
    assert [(m.title, m.owner_text) for m in plan.measures] == [("ก", "กองคลัง"), ("ข", "กองช่าง"), ("ค", "กองคลัง"),
                                                                ("ง", "กองคลัง")]
    assert plan.measures[2].steps == "ขั้นที่ ๑ ประชุม\nขั้นที่ ๒ ประกาศ"
    assert plan.measures[3].steps == "ทำ ง"


# ---------------------------------------------------------------- Excel


def test_xlsx_merged_owner_section_rows_and_signature_block():
    rows = {1: ["แผนปฏิบัติการ ประจำปีงบประมาณ พ.ศ. 2568"],
            3: ["ลำดับ", "มาตรการ", "ขั้นตอน", "ผู้รับผิดชอบ", "ระยะเวลาดำเนินการ"],
            4: ["การป้องกันการทุจริต"],  # merged across, no number
            5: [1, "ก", "ทำ ก", "กองคลัง", "ตลอดปีงบประมาณ"],
            6: [2, "ข", "ทำ ข", None, "ตลอดปีงบประมาณ"],
            7: [3, "ค", "1. ขั้นแรก", "กองช่าง", "มกราคม 2568"],
            8: [None, None, "2. ขั้นสอง"],
            9: ["ด้านที่ 2 การเปิดเผยข้อมูล"],
            10: [4, "ง", "ทำ ง", "ทุกกอง", "ตลอดปีงบประมาณ"],
            12: [None, None, None, "ลงชื่อ ............................ ผู้จัดทำ"],
            13: [None, None, None, "(นางสาวสมศรี มีสุข)"],
            14: [None, "ลงชื่อ ............................ ผู้รับรอง"],
            15: [None, "(นายสมชาย ใจดี)"],
            16: [None, "ปลัดเทศบาล"]}
    data = xlsx(rows, ["A1:E1", "A4:E4", "D5:D6", "A7:A8", "B7:B8", "D7:D8", "E7:E8", "A9:E9", "D12:E12"])
    plan = parse_measures_file(data)
    assert [(m.number, m.title, m.owner_text, m.section_number, m.section_title) for m in plan.measures] == [
        (1, "ก", "กองคลัง", 1, "การป้องกันการทุจริต"), (2, "ข", "กองคลัง", 1, "การป้องกันการทุจริต"),
        (3, "ค", "กองช่าง", 1, "การป้องกันการทุจริต"), (4, "ง", "ทุกกอง", 2, "ด้านที่ 2 การเปิดเผยข้อมูล")]
    assert plan.measures[2].steps == "1. ขั้นแรก\n2. ขั้นสอง" and plan.measures[2].period_text == "มกราคม 2568"
    assert not glued(plan, "ลงชื่อ", "สมศรี", "สมชาย", "ปลัด")
    assert [(s.row, s.code, s.sheet, s.place) for s in plan.skipped] == [
        (r, "signature", "แผน", f"แถวที่ {r}") for r in (12, 13, 14, 15, 16)]


def test_xlsx_text_after_an_empty_row_note_and_total_are_not_measures():
    rows = {1: ["มาตรการ", "ขั้นตอน", "ผู้รับผิดชอบ", "ระยะเวลาดำเนินการ"],
            2: ["ก", "ทำ ก", "กองคลัง", "ตุลาคม 2567"],
            3: [None, "ทำต่อ"],  # a further row of ก
            4: ["รวม 1 มาตรการ"],
            6: [None, "จัดทำโดยงานวิเคราะห์นโยบายและแผน"],  # under the table after an empty row
            7: ["หมายเหตุ: ข้อมูล ณ วันที่ 1 ตุลาคม 2567"],
            8: ["*ปรับปรุงตามมติที่ประชุม"]}
    plan = parse_measures_file(xlsx(rows))
    assert [(m.title, m.steps) for m in plan.measures] == [("ก", "ทำ ก\nทำต่อ")]
    assert [(s.row, s.code) for s in plan.skipped] == [(4, "total"), (6, "after_table"), (7, "note"), (8, "note")]


def test_xlsx_measure_with_only_its_title_is_kept():
    rows = {1: ["มาตรการ", "ขั้นตอน", "ผู้รับผิดชอบ", "ระยะเวลาดำเนินการ"],
            2: ["ก", "ทำ ก", "กองคลัง", "ตุลาคม 2567"],
            3: ["ข (ยังไม่กำหนดรายละเอียด)"]}
    plan = parse_measures_file(xlsx(rows))
    assert [m.title for m in plan.measures] == ["ก", "ข (ยังไม่กำหนดรายละเอียด)"]


def test_xlsx_section_label_merged_down_a_column_does_not_glue_measures():
    """Column A holds the section, merged down over its measures; each row is its own measure."""
    rows = {1: ["ด้าน", "มาตรการ", "ขั้นตอน", "ผู้รับผิดชอบ", "ระยะเวลาดำเนินการ"],
            2: ["ความโปร่งใส", "ก", "ทำ ก", "กองคลัง", "ตุลาคม 2567"],
            3: [None, "ข", "ทำ ข", "กองช่าง", "ตุลาคม 2567"]}
    plan = parse_measures_file(xlsx(rows, ["A2:A3"]))
    assert [(m.title, m.steps, m.owner_text) for m in plan.measures] == [("ก", "ทำ ก", "กองคลัง"),
                                                                         ("ข", "ทำ ข", "กองช่าง")]


# ---------------------------------------------------------------- CSV


CSV_HEADER = ["ที่", "มาตรการ/โครงการ/กิจกรรม", "ขั้นตอนหรือวิธีการปฏิบัติ", "ระยะเวลาดำเนินการ", "ผู้รับผิดชอบ",
              "ผลการดำเนินการ"]


@pytest.mark.parametrize("look_alike", [
    ["2", "โครงการ/กิจกรรม: ส่งเสริมความโปร่งใส", "ขั้นตอน: ประกาศขั้นตอน", "ระยะเวลา: ตลอดปีงบประมาณ",
     "ผู้รับผิดชอบ: ทุกกอง", "ผลการดำเนินการ: ติดประกาศ"],
    ["2", "มาตรการป้องกันการรับสินบน", "ขั้นตอนการร้องเรียน", "ระยะเวลาดำเนินการ ๑๒ เดือน", "ผู้รับผิดชอบทุกกอง",
     "ผลการดำเนินการ"],
])
def test_csv_data_row_that_looks_like_the_header_is_a_measure(look_alike):
    assert looks_like_header(look_alike) and holds_data(look_alike)
    rows = [CSV_HEADER, ["1", "จัดทำแผน", "ประชุม", "ตุลาคม 2567", "กองคลัง", "มีแผน"], look_alike,
            ["3", "ประเมินผล", "สอบถาม", "มิถุนายน 2568", "กองช่าง", "รายงาน"]]
    for data in (excel_csv(rows), excel_csv([CSV_HEADER, look_alike, *rows[3:]])):  # also right under the header
        plan = parse_measures_file(data, fiscal_year=2568)
        assert "2" not in [s.row for s in plan.skipped] and plan.skipped == []
        assert any(m.number == 2 for m in plan.measures), [m.title for m in plan.measures]
    m2 = next(m for m in parse_measures_file(excel_csv(rows), fiscal_year=2568).measures if m.number == 2)
    if look_alike[1].startswith("โครงการ/กิจกรรม:"):  # the cell labels are the column's own name: taken off
        assert (m2.title, m2.owner_text, m2.period_text) == ("ส่งเสริมความโปร่งใส", "ทุกกอง", "ตลอดปีงบประมาณ")


def test_csv_header_repeated_and_a_different_header_later():
    rows = [CSV_HEADER, ["1", "ก", "ทำ", "ตุลาคม 2567", "กองคลัง", "ผล"], [],
            [f" {h} " for h in CSV_HEADER],  # the same header, spaced differently
            ["2", "ข", "ทำ", "ตุลาคม 2567", "กองช่าง", "ผล"],
            ["ลำดับ", "มาตรการ", "ผู้รับผิดชอบ", "ระยะเวลาดำเนินการ"],  # another table, other columns
            ["3", "ค", "สำนักปลัด", "ตุลาคม 2567"]]
    plan = parse_measures_file(excel_csv(rows))
    assert [(m.title, m.owner_text) for m in plan.measures] == [("ก", "กองคลัง"), ("ข", "กองช่าง"), ("ค", "สำนักปลัด")]
    assert [(s.row, s.code, s.reason) for s in plan.skipped] == [
        (4, "repeated_header", "หัวตารางซ้ำ"), (6, "new_header", rt.SKIP_REASONS["new_header"])]
    assert plan.skipped[0].sheet is None  # a CSV has no sheet names


def test_column_number_row_is_reported():
    rows = [CSV_HEADER, ["(1)", "(2)", "(3)", "(4)", "(5)", "(6)"], ["1", "ก", "ทำ", "ตุลาคม 2567", "กองคลัง", "ผล"]]
    plan = parse_measures_file(excel_csv(rows))
    assert [m.title for m in plan.measures] == ["ก"]
    assert [(s.row, s.code) for s in plan.skipped] == [(2, "column_numbers")]


# ---------------------------------------------------------------- the text export


def test_text_export_signature_lines_are_not_wrapped_cells():
    text = "\n".join([
        "มาตรการ\tขั้นตอน\tผู้รับผิดชอบ\tระยะเวลาดำเนินการ",
        "จัดทำคู่มือ\tทำคู่มือ\tกองคลัง\tตุลาคม ๒๕๖๗ - กันยายน ๒๕๖๘",
        "\tและเผยแพร่",  # a wrapped cell: continues the measure
        "",
        "\t\tลงชื่อ ........................ ผู้รายงาน",
        "\t\t(นายสมชาย ใจดี)",
        "\t\tปลัดเทศบาล",
    ])
    plan = parse_measures_file(text.encode("utf-8"))
    assert [(m.title, m.steps, m.owner_text) for m in plan.measures] == [("จัดทำคู่มือ", "ทำคู่มือ และเผยแพร่", "กองคลัง")]
    assert [(s.row, s.code, s.place) for s in plan.skipped] == [
        (5, "signature", "บรรทัดที่ 5"), (6, "signature", "บรรทัดที่ 6"), (7, "signature", "บรรทัดที่ 7")]


def test_seed_004_reports_its_repeated_header_and_nothing_else():
    plan = parse_measures_file((REPO / "data" / "demo" / "004_4d93f31d8314e9de.txt").read_bytes())
    assert len(plan.measures) == 8
    assert [(s.row, s.code) for s in plan.skipped] == [(50, "repeated_header")]
    assert parse_measures_file((REPO / "data" / "demo" / "000_17dbb9646109a181.txt").read_bytes()).skipped == []


# ---------------------------------------------------------------- the line classifiers


@pytest.mark.parametrize("cells, expected", [
    (["ลงชื่อ ................................ ผู้จัดทำ"], True),
    (["", "", "(นายสมชาย ใจดี)", "", "( นางสาวสมศรี มีสุข )"], True),
    (["ตำแหน่ง ปลัดเทศบาล"], True),
    (["ผู้รับรอง"], True),
    (["วันที่ ........ เดือน ................ พ.ศ. ........"], True),
    (["ลงชื่อ.......................ผู้รายงาน\n(นายสมชาย ใจดี)\nนายกองค์การบริหารส่วนตำบลคลังตัวอย่าง"], True),
    (["ปลัดเทศบาล"], False),  # a position alone is also an owner a plan may name
    (["ให้ผู้มาติดต่อลงชื่อในสมุดเยี่ยม"], False),
    (["ลงชื่อ ........ ผู้จัดทำ", "ตุลาคม 2567 - กันยายน 2568"], False),  # a period is no part of a signature
])
def test_is_signature(cells, expected):
    assert rt.is_signature(cells) is expected


@pytest.mark.parametrize("text, expected", [
    ("มาตรการส่งเสริมคุณธรรมและความโปร่งใสภายในหน่วยงาน ประจำปีงบประมาณ พ.ศ. ๒๕๖๘", True),
    ("แผนปฏิบัติการป้องกันการทุจริต", True),
    ("องค์การบริหารส่วนตำบลคลังตัวอย่าง อำเภอเมือง จังหวัดเลย", True),
    ("(รอบ 6 เดือน)", True),
    ("การเปิดเผยข้อมูลและการมีส่วนร่วม", False),
    ("ด้านที่ ๑ ความโปร่งใส", False),
])
def test_is_title_text(text, expected):
    assert rt.is_title_text(text) is expected


@pytest.mark.parametrize("header", [
    ["มาตรการ/แนวทาง", "ขั้นตอน/วิธีการปฏิบัติ", "หน่วยงานผู้รับผิดชอบ", "ระยะเวลาดำเนินการ", "สรุปผลการดำเนินการ",
     "ผลลัพธ์/ความสำเร็จ"],
    ["มาตรการ/โครงการ/กิจกรรม", "ขั้นตอนหรือวิธีการปฏิบัติ", "ระยะเวลา ดำเนินการ", "ผู้รับผิดชอบ",
     "ผลการดำเนินการ(output)", "ผลลัพธ์หรือผลสัมฤทธิ์ใน การดำเนินการ (outcome)"],
    ["ลำดับที่", "ชื่อมาตรการ", "ขั้นตอนการดำเนินงาน", "งบประมาณ", "ระยะเวลาดำเนินงาน", "ผู้รับผิดชอบหลัก", "หมายเหตุ"],
    ["ที่", "Measure", "Steps", "Owner", "Period"],
])
def test_real_headers_hold_no_data(header):
    assert looks_like_header(header) and not holds_data(header)


# ---------------------------------------------------------------- OpenDocument merges


def test_ods_merges_as_libreoffice_writes_them():
    ods = (DATA / "corpus" / "plans" / "plan_excel_merged_saved_as.ods").read_bytes()
    xlsx_data = (DATA / "corpus" / "plans" / "plan_excel_merged.xlsx").read_bytes()
    from_ods = _ods_merges(ods)
    assert list(from_ods) == ["แผนปี 2568"]
    assert sorted(from_ods["แผนปี 2568"]) == sorted(_workbook_merges(xlsx_data)["แผนปี 2568"])
    assert ((5, 3), (6, 3)) in from_ods["แผนปี 2568"]  # the owner merged over two measures


def test_ods_merges_repeated_rows_and_columns():
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet>'
        '<table:table table:name="A"><table:table-row table:number-rows-repeated="3">'
        '<table:table-cell table:number-columns-repeated="2"/></table:table-row>'
        '<table:table-row><table:table-cell table:number-columns-repeated="2"/>'
        '<table:table-cell table:number-rows-spanned="2"><text:p>x</text:p></table:table-cell></table:table-row>'
        '<table:table-row><table:table-cell table:number-columns-repeated="2"/><table:covered-table-cell/>'
        '</table:table-row></table:table><table:table table:name="B"><table:table-row>'
        '<table:table-cell table:number-columns-spanned="3"><text:p>y</text:p></table:table-cell>'
        '<table:covered-table-cell table:number-columns-repeated="2"/></table:table-row></table:table>'
        '</office:spreadsheet></office:body></office:document-content>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", content)
    assert _ods_merges(buf.getvalue()) == {"A": [((3, 2), (4, 2))], "B": [((0, 0), (0, 2))]}
    assert _ods_merges(b"PK\x03\x04 not a zip") == {}


def test_ods_plan_with_merged_cells_when_ods_can_be_read():
    data = (DATA / "corpus" / "plans" / "plan_excel_merged_saved_as.ods").read_bytes()
    try:
        tabular.read_sheets(data)
    except FileProblem:
        pytest.skip("this build's spreadsheet reader does not read .ods yet")
    plan = parse_measures_file(data)
    assert [(m.title, m.owner_text, m.section_number) for m in plan.measures][:2] == [
        ("จัดทำคู่มือการปฏิบัติงาน", "กองคลัง", 1), ("ตรวจสอบการใช้รถราชการ", "กองคลัง", 1)]
    assert len(plan.measures) == 4 and not glued(plan, "ลงชื่อ", "หมายเหตุ")


# ---------------------------------------------------------------- the import and the command line


def test_import_keeps_the_skipped_rows_in_its_summary_and_audit(engine):
    with db.session_scope(engine) as s:
        org = Organization(name="เทศบาลตำบลคลังตัวอย่าง", kind="เทศบาลตำบล")
        s.add(org)
        s.flush()
        s.add(Department(organization_id=org.id, name="กองคลัง", aliases=[], sort_order=0))
        org_id = org.id
    data = (DATA / "corpus" / "plans" / "plan_excel_export.csv").read_bytes()
    plan = parse_measures_file(data)
    with db.session_scope(engine) as s:
        summary = import_plan(s, organization_id=org_id, plan=plan, fiscal_year=2568, user_id=None,
                              file_name="plan.csv", file_bytes=data)
    assert [(x["row"], x["code"]) for x in summary.skipped] == [(9, "repeated_header"), (12, "signature"),
                                                                (13, "signature"), (14, "signature")]
    assert summary.skipped[0]["where"] == "แถวที่ 9" and summary.skipped[0]["reason"] == "หัวตารางซ้ำ"
    with Session(engine) as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "measures.import")).one()
    assert [x["row"] for x in event.after["skipped"]] == [9, 12, 13, 14]


def test_cli_import_measures_json(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    env.pop("ITA_DEBUG", None)

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "ita_dashboard", *args], capture_output=True, text=True,
                              env=env, cwd=REPO, timeout=300)

    assert cli("add-org", "อบต.ทดสอบ", "--departments", "สำนักปลัด,กองคลัง").returncode == 0
    seed = str(REPO / "data" / "demo" / "004_4d93f31d8314e9de.txt")
    p = cli("import-measures", seed, "--org", "อบต.ทดสอบ", "--json")
    assert p.returncode == 0, p.stderr
    result = json.loads(p.stdout)
    assert {"created", "updated", "unchanged", "unresolved_owners", "skipped", "read", "missing",
            "unparsed_periods", "sections", "warnings", "batch_id", "fiscal_year"} <= set(result)
    assert (result["read"], result["created"], result["sections"], result["fiscal_year"]) == (8, 8, 7, 2568)
    assert result["skipped"] == [{"row": 50, "where": "บรรทัดที่ 50", "reason": "หัวตารางซ้ำ",
                                  "code": "repeated_header", "text": result["skipped"][0]["text"]}]
    p = cli("import-measures", seed, "--org", "อบต.ทดสอบ")  # the plain line is unchanged
    assert p.returncode == 0 and p.stdout.strip().startswith("อบต.ทดสอบ FY2568: 0 created, 0 updated, 8 unchanged")


# ---------------------------------------------------------------- more layouts


def test_word_second_section_after_a_signature_block_starts_the_next_table():
    """A plan in two parts, each table signed under it: the heading of part two ends the block."""
    data = word([header_row(), row("๑", "ก", "ทำ", "กองคลัง", PERIOD, "", "")],
                tables=[[header_row(), row("๒", "ข", "ทำ", "กองช่าง", PERIOD, "", "")]],
                below=SIGNATURE)
    # put the first signature block and a numbered heading between the two tables
    from docx.oxml import parse_xml

    doc = Document(io.BytesIO(data))
    second = doc.element.body.findall(f"{{{W}}}tbl")[1]
    for text in ["ลงชื่อ .................... ผู้จัดทำ", "(นายสมชาย ใจดี)", "๒. ด้านการเปิดเผยข้อมูล"]:
        second.addprevious(parse_xml(bp.para(text).replace("<w:p>", f'<w:p xmlns:w="{W}">', 1)))
    buf = io.BytesIO()
    doc.save(buf)
    plan = parse_measures_file(buf.getvalue())
    assert [(m.title, m.section_number, m.section_title) for m in plan.measures] == [
        ("ก", None, None), ("ข", 2, "ด้านการเปิดเผยข้อมูล")]
    assert [s.code for s in plan.skipped] == ["signature"] * 6


def test_word_legacy_horizontal_merge_section_row():
    """Old .doc files saved as .docx merge across with w:hMerge instead of w:gridSpan."""
    cells = [f'<w:tc><w:tcPr><w:tcW w:w="{G[0]}" w:type="dxa"/><w:hMerge w:val="restart"/></w:tcPr>'
             f'{bp.para("การป้องกันการทุจริต")}</w:tc>']
    cells += [f'<w:tc><w:tcPr><w:tcW w:w="{w}" w:type="dxa"/><w:hMerge/></w:tcPr><w:p/></w:tc>' for w in G[1:]]
    data = word([header_row(), f"<w:tr>{''.join(cells)}</w:tr>", row("๑", "ก", "ทำ", "กองคลัง", PERIOD, "", "")])
    plan = parse_measures_file(data)
    assert [(m.title, m.section_number, m.section_title) for m in plan.measures] == [("ก", 1, "การป้องกันการทุจริต")]


def test_xlsx_title_typed_in_a_middle_column_and_date_lines():
    rows = {1: [None, None, "แผนปฏิบัติการ ประจำปีงบประมาณ พ.ศ. 2568"],
            2: ["มาตรการ", "ขั้นตอน", "ผู้รับผิดชอบ", "ระยะเวลาดำเนินการ"],
            3: ["ก", "ทำ ก", "กองคลัง", "ตุลาคม 2567"],
            4: [None, None, "แผนปฏิบัติการ ประจำปีงบประมาณ พ.ศ. 2568"],  # repeated for the second printed page
            5: ["ข", "ทำ ข", "กองช่าง", "ตุลาคม 2567"],
            6: ["ประกาศ ณ วันที่ 1 ตุลาคม พ.ศ. 2567"]}
    plan = parse_measures_file(xlsx(rows))
    assert [m.title for m in plan.measures] == ["ก", "ข"]
    assert plan.fiscal_year == 2568  # not 2567 from the date line
    assert [(s.row, s.code) for s in plan.skipped] == [(4, "title"), (6, "signature")]
    assert not glued(plan, "แผนปฏิบัติการ", "ประกาศ")


def test_text_export_wrapped_cell_holding_a_name_is_no_signature():
    text = "\n".join([
        "มาตรการ\tขั้นตอน\tผู้รับผิดชอบ\tระยะเวลาดำเนินการ",
        "จัดทำคู่มือ\tทำคู่มือ\tปลัดเทศบาล\tตุลาคม ๒๕๖๗ - กันยายน ๒๕๖๘",
        "\t\t(นายสมชาย ใจดี)",  # the owner cell wrapped onto a second line
        "เผยแพร่ข้อมูล\tลงเว็บไซต์\tกองคลัง\tทุกเดือน",
    ])
    plan = parse_measures_file(text.encode("utf-8"))
    assert [(m.title, m.owner_text) for m in plan.measures] == [
        ("จัดทำคู่มือ", "ปลัดเทศบาล (นายสมชาย ใจดี)"), ("เผยแพร่ข้อมูล", "กองคลัง")]
    assert plan.skipped == []


def test_word_other_table_after_the_plan_is_not_measures():
    """A photo table (two columns, captions) after the plan: no header, other columns: not the
    plan's table continued, so its rows are reported, not imported."""
    from docx.oxml import parse_xml

    data = word([header_row(), row("๑", "ก", "ทำ", "กองคลัง", PERIOD, "", "")],
                tables=[[row("๒", "ข", "ทำ", "กองช่าง", PERIOD, "", "")]])  # same columns: continues
    doc = Document(io.BytesIO(data))
    photos = parse_xml(f'<w:tbl xmlns:w="{W}"><w:tblGrid><w:gridCol w:w="6000"/><w:gridCol w:w="6000"/></w:tblGrid>'
                       f"<w:tr>{bp.tc('ภาพที่ ๑ การประชุมชี้แจง', 6000)}{bp.tc('ภาพที่ ๒ การอบรม', 6000)}</w:tr>"
                       f"<w:tr>{bp.tc('๑. ประชุมประจำเดือน', 6000)}</w:tr></w:tbl>")
    doc.element.body[-1].addprevious(photos)
    buf = io.BytesIO()
    doc.save(buf)
    plan = parse_measures_file(buf.getvalue())
    assert [m.title for m in plan.measures] == ["ก", "ข"] and plan.measures[1].section_number is None
    assert skipped(plan) == [(3, 1, "other_table"), (3, 2, "other_table")]


def test_word_note_row_merged_across_is_a_note_not_a_section():
    data = word([header_row(), row("๑", "ก", "ทำ", "กองคลัง", PERIOD, "", ""),
                 bp.section_row("หมายเหตุ: งบประมาณตามข้อบัญญัติ"),
                 bp.section_row("ด้านที่ ๙ ยังไม่มีมาตรการ")])
    plan = parse_measures_file(data)
    assert [m.title for m in plan.measures] == ["ก"]
    assert skipped(plan) == [(1, 3, "note"), (1, 4, "empty_section")]
