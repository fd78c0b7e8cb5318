"""Building the status workbook: the year's measures with their state on a date and empty,
yellow columns to fill (see the package docstring)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Optional

from sqlmodel import Session

from ... import thai
from ...texts import t
from ...textsafe import sheet_cell
from .. import measures as measures_svc
from .columns import (AS_OF_LABEL, COL_DATE, COL_KEY, COL_LINK, COL_NOTE, COL_PERCENT, COL_STATUS, FILL_COLUMNS,
                      HEADERS, SHEET_NAME_SINGLE, SHEET_NAME_UNASSIGNED, STATUS_LABELS, StatusSheetError,
                      _AS_OF_HINT, _HEADER_TEXT, _SHEET_FORBIDDEN, _WIDTHS)

def _safe(text: str) -> str:
    """The one place this workbook's text cells pass the spreadsheet-formula guard."""
    return sheet_cell(text)


def sheet_title(name: str, taken: set[str]) -> str:
    """A valid, unique (case-insensitively) Excel sheet name: ≤31 characters, none of []:*?/\\."""
    base = _SHEET_FORBIDDEN.sub("-", " ".join((name or "").split())).strip("'").strip() or "ชีต"
    if base.lower() == "history":  # reserved by Excel
        base = "History-"
    candidate, n = base[:31], 1
    while candidate.lower() in taken:
        n += 1
        suffix = f" ({n})"
        candidate = base[: 31 - len(suffix)] + suffix
    taken.add(candidate.lower())
    return candidate


def _period(s: measures_svc.MeasureState) -> str:
    if s.period_text.strip():
        return s.period_text
    if s.start and s.end:
        return thai.format_period_th(s.start, s.end)
    return ""


def build_status_workbook(
    session: Session, *, organization_id: int, fiscal_year: int, as_of: dt.date, per_department: bool
) -> bytes:
    """The year's measures with their state on ``as_of`` and empty columns to fill (xlsx bytes).

    ``per_department``: one sheet per department (a measure of every department appears in each;
    measures placed in no department get a sheet of their own), else one sheet.
    """
    from openpyxl import Workbook

    from ...models import Organization
    from ..orgs import departments_of

    org = session.get(Organization, organization_id)
    if org is None:
        raise StatusSheetError(code="status_sheet_org_not_found", organization_id=organization_id)
    states = measures_svc.measure_states(session, organization_id=organization_id, fiscal_year=fiscal_year, as_of=as_of)
    title = t("sheet_title", org=org.name, year=thai.format_fiscal_year(fiscal_year), date=thai.format_date_th(as_of))

    groups: list[tuple[str, Optional[str], list[measures_svc.MeasureState]]] = []
    if per_department:
        for dep in departments_of(session, organization_id=organization_id):
            mine = [s for s in states if s.owner_all or dep.id in s.department_ids]
            groups.append((dep.name, dep.name, mine))
        nowhere = [s for s in states if not s.owner_all and not s.department_ids]
        if nowhere or not groups:
            groups.append((SHEET_NAME_UNASSIGNED if groups else SHEET_NAME_SINGLE, None, nowhere if groups else states))
    else:
        groups.append((SHEET_NAME_SINGLE, None, states))

    wb = Workbook()
    wb.remove(wb.active)
    taken: set[str] = set()
    for name, dep_name, rows in groups:
        ws = wb.create_sheet(sheet_title(name, taken))
        _write_sheet(ws, title=title + (f" · {dep_name}" if dep_name else ""), as_of=as_of, states=rows)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _write_sheet(ws, *, title: str, as_of: dt.date, states: list[measures_svc.MeasureState]) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    ncols = len(HEADERS)
    ws.append([_safe(title)])
    ws.cell(1, 1).font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncols)
    ws.append([AS_OF_LABEL, None, None, thai.format_date_th(as_of)])
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=3)
    ws.cell(2, 1).font = Font(bold=True)
    ws.cell(2, 1).alignment = Alignment(horizontal="right")
    ws.cell(2, 4).font = Font(bold=True, color="1F4E79")
    ws.cell(2, 4).fill = PatternFill("solid", fgColor="FFF2CC")
    ws.cell(2, 5, _AS_OF_HINT).font = Font(italic=True, color="808080")
    ws.append(["กรอกเฉพาะคอลัมน์สีเหลือง (สถานะ ร้อยละ หมายเหตุ ลิงก์หลักฐาน) ของมาตรการที่มีความคืบหน้า "
               "แล้วอัปโหลดไฟล์กลับที่หน้า “มาตรการ” · ห้ามแก้คอลัมน์ “รหัส”"])
    ws.cell(3, 1).font = Font(italic=True, color="808080")
    ws.merge_cells(start_row=3, start_column=1, end_row=3, end_column=ncols)
    header_row = 4
    ws.append([_HEADER_TEXT.get(h, h) for h in HEADERS])
    fill = PatternFill("solid", fgColor="FFF2CC")
    grey = Font(color="808080")
    for i, h in enumerate(HEADERS, start=1):
        c = ws.cell(header_row, i)
        c.font = Font(bold=True)
        c.alignment = Alignment(wrap_text=True, vertical="center")
        if h in FILL_COLUMNS or h == COL_DATE:
            c.fill = fill
        ws.column_dimensions[get_column_letter(i)].width = _WIDTHS[h]

    for s in states:
        status = STATUS_LABELS[s.status] + (" (เลยกำหนด)" if s.overdue else "")
        ws.append([s.id, s.number, _safe(s.title), _safe(s.owner_text), _safe(_period(s)),
                   status, s.percent, None, None, None, None, None])
        r = ws.max_row
        for i, h in enumerate(HEADERS, start=1):
            c = ws.cell(r, i)
            c.alignment = Alignment(wrap_text=True, vertical="top")
            if h == COL_KEY:
                c.font = grey
            elif h in FILL_COLUMNS or h == COL_DATE:
                c.fill = fill
                c.number_format = "@" if h in (COL_NOTE, COL_LINK) else "General"

    first, last = header_row + 1, max(ws.max_row, header_row + 1)
    letter = {h: get_column_letter(i) for i, h in enumerate(HEADERS, start=1)}
    dv_status = DataValidation(type="list", formula1='"' + ",".join(STATUS_LABELS.values()) + '"', allow_blank=True,
                               showErrorMessage=True, errorTitle="สถานะไม่ถูกต้อง",
                               error="เลือกสถานะจากรายการ: " + " / ".join(STATUS_LABELS.values()))
    dv_percent = DataValidation(type="decimal", operator="between", formula1="0", formula2="100", allow_blank=True,
                                showErrorMessage=True, errorTitle="ร้อยละไม่ถูกต้อง", error="ใส่ตัวเลข 0 ถึง 100")
    dv_status.add(f"{letter[COL_STATUS]}{first}:{letter[COL_STATUS]}{last}")
    dv_percent.add(f"{letter[COL_PERCENT]}{first}:{letter[COL_PERCENT]}{last}")
    ws.add_data_validation(dv_status)
    ws.add_data_validation(dv_percent)
    ws.freeze_panes = ws.cell(header_row + 1, 3)
    ws.row_dimensions[header_row].height = 32
