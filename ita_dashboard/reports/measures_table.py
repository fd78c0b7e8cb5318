"""The six-column measures table of the yearly report, shared by the xlsx and (later) docx writers.

Columns as the seeds have them: มาตรการ · ขั้นตอน/วิธีการปฏิบัติ · ผู้รับผิดชอบ · ระยะเวลาดำเนินการ ·
ผลการดำเนินการ · ผลลัพธ์, one row per measure, grouped by section where measures have sections.
"""

from __future__ import annotations

import datetime as dt

import io
from dataclasses import dataclass
from typing import Optional

from .. import thai

HEADERS = ("มาตรการ", "ขั้นตอน/วิธีการปฏิบัติ", "ผู้รับผิดชอบ", "ระยะเวลาดำเนินการ", "ผลการดำเนินการ", "ผลลัพธ์")


@dataclass
class ReportRow:
    section: Optional[str]
    cells: tuple[str, str, str, str, str, str]


def round_as_of(*, fiscal_year: int, round_: int, today: Optional[dt.date] = None) -> dt.date:
    """The date a round's report describes: the round's last day, or today while it is running."""
    _, end = thai.round_bounds(fiscal_year, round_)
    return min(end, today or dt.date.today())


def report_rows(states, *, round_: int, fiscal_year: int) -> list[ReportRow]:
    """Measures active in the round (6: Oct–Mar, 12: the whole year), numbered as in the plan."""
    lo, hi = thai.round_bounds(fiscal_year, round_)
    rows = []
    for s in states:
        if s.start and s.end and not (s.start <= hi and s.end >= lo):
            continue
        section = f"{s.section_number}. {s.section_title}" if s.section_title else None
        rows.append(ReportRow(section, (f"{s.number}. {s.title}", s.steps, s.owner_text, s.period_text,
                                        s.output_text, s.outcome_text)))
    return rows


def safe_cell(value):
    """Text that a spreadsheet would run as a formula (= + - @) is written as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_xlsx(rows: list[ReportRow], *, title_lines: list[str]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = "รายงาน"
    for line in title_lines:
        ws.append([safe_cell(line)])
        ws.cell(ws.max_row, 1).font = Font(bold=True, size=14)
    ws.append([])
    ws.append(list(HEADERS))
    for c in ws[ws.max_row]:
        c.font = Font(bold=True)
    current = None
    for r in rows:
        if r.section and r.section != current:
            current = r.section
            ws.append([safe_cell(r.section)])
            ws.cell(ws.max_row, 1).font = Font(bold=True)
        ws.append([safe_cell(c) for c in r.cells])
        for c in ws[ws.max_row]:
            c.alignment = Alignment(wrap_text=True, vertical="top")
    for col, width in zip("ABCDEF", (40, 50, 25, 25, 50, 40)):
        ws.column_dimensions[col].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def title_lines(*, org_name: str, district: Optional[str], province: Optional[str], fiscal_year: int, round_: int) -> list[str]:
    place = " ".join(x for x in (f"อำเภอ{district}" if district else "", f"จังหวัด{province}" if province else "") if x)
    return [
        "รายงานผลการดำเนินการเพื่อส่งเสริมคุณธรรมและความโปร่งใสภายในหน่วยงาน",
        f"ประจำปีงบประมาณ พ.ศ. {fiscal_year} (รอบ {round_} เดือน)",
        org_name + (f" {place}" if place else ""),
    ]


