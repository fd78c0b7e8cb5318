"""Progress by spreadsheet: download the year's measures as a sheet to fill, upload it back.

The workbook (:func:`build_status_workbook`) lists the current measures with a key column
``รหัส`` (the measure id) and what each stands at, then empty columns to fill: สถานะ (a dropdown
of the Thai labels), ร้อยละ, หมายเหตุ, ลิงก์หลักฐาน and an optional per-row date. Above the header
sits a ``ณ วันที่`` cell (default: the date the sheet was made) that dates every row.

Reading it back (:func:`parse_status_workbook`) finds the header by its content on every sheet,
so extra sheets, moved title rows or a per-department workbook all work. Only rows with
something filled become updates; each problem becomes a rejected entry naming the sheet, the
Excel row, the column and the reason (Thai).

Applying (:func:`apply_status_sheet`) records each row through
:func:`services.measures.record_progress` (the only way progress is added: permission-checked and
audited). A row equal to the measure's state on that date adds nothing (a duplicate), so
uploading the same file twice adds nothing the second time.

Filling rules for a row (applied against the measure's state on the row's date):
- สถานะ empty, ร้อยละ given: 100 → done, 1-99 → in progress, 0 → not started (cancelled stays);
- สถานะ and ร้อยละ both empty (only a note or a link): the state stays as it is;
- ร้อยละ empty: the current percent (done is always 100);
- ลิงก์หลักฐาน empty: the current link is kept; หมายเหตุ is the text written (may be empty).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Optional

from sqlmodel import Session, col, select

from ..errors import ItaError
from .. import audit, thai
from ..importers.tabular import FileProblem, cell_text, find_header_row, is_blank, read_sheets
from ..models import ImportBatch, Measure, MeasureDepartment, ProgressUpdate, Status
from ..permissions import Actor, PermissionDenied, require_edit_measure, require_update_progress
from ..reports.measures_table import safe_cell
from . import measures as measures_svc

# ---------------------------------------------------------------- the columns

COL_KEY = "รหัส"
COL_NO = "ลำดับ"
COL_TITLE = "มาตรการ"
COL_OWNER = "ผู้รับผิดชอบ"
COL_PERIOD = "ระยะเวลา"
COL_CUR_STATUS = "สถานะปัจจุบัน"
COL_CUR_PERCENT = "ร้อยละปัจจุบัน"
COL_STATUS = "สถานะ"
COL_PERCENT = "ร้อยละ"
COL_NOTE = "หมายเหตุ"
COL_LINK = "ลิงก์หลักฐาน"
COL_DATE = "ณ วันที่"  # the per-row date column; its header carries a hint in brackets
AS_OF_LABEL = "ณ วันที่"  # the sheet-level cell above the header
_AS_OF_HINT = "← วันที่ของข้อมูลที่กรอก (แก้ได้ ใช้กับทุกแถวที่ไม่ได้ระบุวันที่ของตนเอง)"

HEADERS = (COL_KEY, COL_NO, COL_TITLE, COL_OWNER, COL_PERIOD, COL_CUR_STATUS, COL_CUR_PERCENT,
           COL_STATUS, COL_PERCENT, COL_NOTE, COL_LINK, COL_DATE)
_HEADER_TEXT = {COL_DATE: f"{COL_DATE} (ถ้าต่างจากด้านบน)"}
FILL_COLUMNS = (COL_STATUS, COL_PERCENT, COL_NOTE, COL_LINK)
_WIDTHS = {COL_KEY: 7, COL_NO: 7, COL_TITLE: 50, COL_OWNER: 24, COL_PERIOD: 22, COL_CUR_STATUS: 16,
           COL_CUR_PERCENT: 10, COL_STATUS: 18, COL_PERCENT: 10, COL_NOTE: 40, COL_LINK: 36, COL_DATE: 20}

# Thai labels as the dropdown shows them (always Thai: the sheet is a Thai document).
STATUS_LABELS: dict[Status, str] = {
    Status.not_started: "ยังไม่เริ่ม",
    Status.in_progress: "กำลังดำเนินการ",
    Status.done: "เสร็จแล้ว",
    Status.cancelled: "ยกเลิก",
}
_STATUS_WORDS: dict[str, Status] = {}
for _st, _label in STATUS_LABELS.items():
    _STATUS_WORDS[_label] = _st
    _STATUS_WORDS[_st.value] = _st
    _STATUS_WORDS[_st.value.replace("_", "")] = _st
for _word, _st in {
    "ยังไม่ดำเนินการ": Status.not_started, "notstarted": Status.not_started,
    "อยู่ระหว่างดำเนินการ": Status.in_progress, "ระหว่างดำเนินการ": Status.in_progress,
    "inprogress": Status.in_progress,
    "เสร็จ": Status.done, "เสร็จสิ้น": Status.done, "แล้วเสร็จ": Status.done,
    "ดำเนินการแล้วเสร็จ": Status.done, "ดำเนินการเสร็จแล้ว": Status.done,
    "canceled": Status.cancelled,
}.items():
    _STATUS_WORDS[_word] = _st

SHEET_NAME_SINGLE = "สถานะมาตรการ"
SHEET_NAME_UNASSIGNED = "ยังไม่ระบุกอง"
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


class StatusSheetError(ItaError, ValueError):
    """A status sheet that cannot be used as a whole; ``str(exc)`` is Thai."""


# ---------------------------------------------------------------- building the workbook


def _key(text: str) -> str:
    """A header cell as compared: spaces collapsed, a trailing "(...)" hint dropped."""
    text = " ".join(str(text or "").split())
    return re.sub(r"\s*\(.*\)\s*$", "", text).strip()


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

    from ..models import Organization
    from .orgs import departments_of

    org = session.get(Organization, organization_id)
    if org is None:
        raise StatusSheetError(f"ไม่พบหน่วยงานรหัส {organization_id}")
    states = measures_svc.measure_states(session, organization_id=organization_id, fiscal_year=fiscal_year, as_of=as_of)
    title = f"{org.name} · {thai.format_fiscal_year(fiscal_year)} · ข้อมูล ณ {thai.format_date_th(as_of)}"

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
    ws.append([safe_cell(title)])
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
        ws.append([s.id, s.number, safe_cell(s.title), safe_cell(s.owner_text), safe_cell(_period(s)),
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


# ---------------------------------------------------------------- reading it back


@dataclass
class StatusRow:
    sheet: str
    row: int  # 1-based, as Excel numbers it
    measure_id: int
    status: Optional[Status]  # None: not filled
    percent: Optional[int]  # None: not filled
    note: str
    evidence_url: Optional[str]  # None: not filled
    as_of: dt.date


@dataclass
class StatusSheet:
    rows: list[StatusRow] = field(default_factory=list)
    # [{"sheet", "row", "column", "reason"}], one per problem
    rejected: list[dict[str, Any]] = field(default_factory=list)
    sheets: list[str] = field(default_factory=list)  # the sheets that held a status table
    as_of: Optional[dt.date] = None  # the first sheet's ณ วันที่

    @property
    def rejected_row_count(self) -> int:
        return len({(r["sheet"], r["row"]) for r in self.rejected})

    @property
    def read_count(self) -> int:
        return len(self.rows) + self.rejected_row_count


def parse_status(value: Any) -> Optional[Status]:
    """A Thai label or an English code (any case, spaces ignored); None when not recognised."""
    text = re.sub(r"\s+", "", cell_text(value)).lower()
    text = re.sub(r"\(.*\)$", "", text)  # "กำลังดำเนินการ (เลยกำหนด)" copied from the current column
    return _STATUS_WORDS.get(text)


_PERCENT_RE = re.compile(r"^(?:ร้อยละ)?\s*([-+]?\d+(?:[.,]\d+)?)\s*%?$")


def parse_percent(value: Any) -> Optional[int]:
    """50, 50.0, "50%", "๕๐", "ร้อยละ 50"; a fraction below 1 (a cell Excel formatted as %) × 100.
    Raises ValueError (Thai) when not a number in 0-100."""
    if isinstance(value, bool):
        raise ValueError("ร้อยละต้องเป็นตัวเลข 0 ถึง 100")
    if isinstance(value, (int, float)):
        number = float(value)
        if 0 < number < 1:
            number *= 100
    else:
        text = thai.to_arabic_digits(cell_text(value)).replace(" ", "")
        m = _PERCENT_RE.match(text)
        if not m:
            raise ValueError(f"ร้อยละต้องเป็นตัวเลข 0 ถึง 100 (ได้ “{cell_text(value)}”)")
        number = float(m.group(1).replace(",", "."))
    if not 0 <= number <= 100:
        raise ValueError(f"ร้อยละต้องอยู่ระหว่าง 0 ถึง 100 (ได้ {number:g})")
    return int(round(number))


def _be_safe(d: dt.date) -> dt.date:
    """A date typed with a BE year into a date cell (2568-03-31) → CE."""
    if d.year > 2400:
        try:
            return d.replace(year=d.year - thai.BE_OFFSET)
        except ValueError:  # 29 Feb of a year that is not leap in CE
            return d.replace(year=d.year - thai.BE_OFFSET, day=28)
    return d


def parse_date_cell(value: Any) -> Optional[dt.date]:
    """A date cell, an Excel serial number, Thai date text ("31 มี.ค. 2568", "๓๑/๓/๒๕๖๘") or ISO."""
    if isinstance(value, dt.datetime):
        return _be_safe(value.date())
    if isinstance(value, dt.date):
        return _be_safe(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 20000 < value < 80000:
            return dt.date(1899, 12, 30) + dt.timedelta(days=int(value))
        return None
    text = thai.to_arabic_digits(cell_text(value))
    if not text:
        return None
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?", text)
    if m:
        try:
            return _be_safe(dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))))
        except ValueError:
            return None
    return thai.parse_thai_date(text)


def _header_score(row: list) -> float:
    keys = {_key(c) for c in row if not is_blank(c)}
    if COL_KEY not in keys or not keys & set(FILL_COLUMNS):
        return 0.0
    return float(len(keys & set(HEADERS)))


def _sheet_as_of(rows: list[list], header_idx: int) -> tuple[bool, Any]:
    """(found, value) of the ณ วันที่ cell above the header: the next filled cell to its right,
    or what follows the label in the same cell."""
    for row in rows[:header_idx]:
        for i, cell in enumerate(row):
            text = " ".join(cell_text(cell).split())
            if not text.startswith(AS_OF_LABEL):
                continue
            rest = text[len(AS_OF_LABEL):].strip(" :")
            if rest:
                return True, rest
            value = next((c for c in row[i + 1:] if not is_blank(c)), None)
            if value is not None and cell_text(value).startswith("←"):  # our hint: the date cell is empty
                value = None
            return True, value
    return False, None


def parse_status_workbook(data: bytes) -> StatusSheet:
    """Every filled row of every sheet holding a status table. Raises FileProblem (Thai) when no
    sheet has one."""
    result = StatusSheet()
    for sheet in read_sheets(data):
        rows = sheet.rows
        h = find_header_row(rows, _header_score, min_score=2.0)
        if h is None:
            continue
        result.sheets.append(sheet.name)
        columns: dict[str, int] = {}
        for i, cell in enumerate(rows[h]):
            k = _key(cell)
            if k in HEADERS and k not in columns:
                columns[k] = i
        found, raw_date = _sheet_as_of(rows, h)
        sheet_date = parse_date_cell(raw_date) if found and not is_blank(raw_date) else None
        if result.as_of is None and sheet_date is not None:
            result.as_of = sheet_date
        for idx in range(h + 1, len(rows)):
            _parse_row(result, sheet.name, idx + 1, rows[idx], columns, sheet_date=sheet_date,
                       sheet_date_text=cell_text(raw_date) if found else None)
    if not result.sheets:
        raise FileProblem(
            f"ไม่พบตารางสถานะมาตรการในไฟล์ (ต้องมีหัวตาราง “{COL_KEY}” และ “{COL_STATUS}”) "
            "กรุณาใช้ไฟล์ที่ดาวน์โหลดจากระบบ"
        )
    return result


def _parse_row(result: StatusSheet, sheet: str, row_no: int, row: list, columns: dict[str, int], *,
               sheet_date: Optional[dt.date], sheet_date_text: Optional[str]) -> None:
    def get(name: str) -> Any:
        i = columns.get(name)
        return row[i] if i is not None and i < len(row) else None

    if all(is_blank(get(c)) for c in FILL_COLUMNS):
        return
    problems: list[tuple[str, str]] = []

    def reject(column: str, reason: str) -> None:
        problems.append((column, reason))

    measure_id: Optional[int] = None
    key = get(COL_KEY)
    key_text = thai.to_arabic_digits(cell_text(key))
    if is_blank(key):
        reject(COL_KEY, "ไม่มีรหัสมาตรการ (อย่าลบหรือแก้คอลัมน์ “รหัส”)")
    elif re.fullmatch(r"\d+", key_text) and int(key_text) > 0:
        measure_id = int(key_text)
    else:
        reject(COL_KEY, f"รหัสมาตรการ “{cell_text(key)}” ไม่ถูกต้อง")

    status: Optional[Status] = None
    if not is_blank(get(COL_STATUS)):
        status = parse_status(get(COL_STATUS))
        if status is None:
            reject(COL_STATUS, f"ไม่รู้จักสถานะ “{cell_text(get(COL_STATUS))}” (ใช้ได้: "
                               + " / ".join(STATUS_LABELS.values()) + ")")
    percent: Optional[int] = None
    if not is_blank(get(COL_PERCENT)):
        try:
            percent = parse_percent(get(COL_PERCENT))
        except ValueError as exc:
            reject(COL_PERCENT, str(exc))
    link: Optional[str] = None
    if not is_blank(get(COL_LINK)):
        link = cell_text(get(COL_LINK))
        if not re.match(r"^https?://\S+$", link, flags=re.IGNORECASE):
            reject(COL_LINK, f"ลิงก์หลักฐานต้องขึ้นต้นด้วย http:// หรือ https:// (ได้ “{link[:80]}”)")
    note = cell_text(get(COL_NOTE)) if not is_blank(get(COL_NOTE)) else ""

    as_of: Optional[dt.date] = None
    if not is_blank(get(COL_DATE)):
        as_of = parse_date_cell(get(COL_DATE))
        if as_of is None:
            reject(COL_DATE, f"อ่านวันที่ “{cell_text(get(COL_DATE))}” ไม่ได้ (เช่น 31 มีนาคม 2568)")
    elif sheet_date is not None:
        as_of = sheet_date
    elif sheet_date_text:
        reject(AS_OF_LABEL, f"อ่านวันที่ในช่อง “{AS_OF_LABEL}” ไม่ได้ (“{sheet_date_text}”)")
    else:
        reject(AS_OF_LABEL, f"ไม่ได้ระบุวันที่ของข้อมูล (กรอกช่อง “{AS_OF_LABEL}” ด้านบนตาราง)")

    if problems:
        for column, reason in problems:
            result.rejected.append({"sheet": sheet, "row": row_no, "column": column, "reason": reason})
        return
    assert measure_id is not None and as_of is not None
    result.rows.append(StatusRow(sheet=sheet, row=row_no, measure_id=measure_id, status=status, percent=percent,
                                 note=note, evidence_url=link, as_of=as_of))


# ---------------------------------------------------------------- applying it


@dataclass
class RowOutcome:
    row: StatusRow
    outcome: str  # "import" / "duplicate" / "rejected"
    status: Optional[Status] = None
    percent: Optional[int] = None
    note: str = ""
    evidence_url: Optional[str] = None
    reason: str = ""
    column: str = ""
    fiscal_year: Optional[int] = None
    permission_denied: bool = False  # rejected because the actor may not edit this measure


def _state_on(session: Session, measure_id: int, day: dt.date) -> tuple[Status, int, str, Optional[str]]:
    last = session.exec(
        select(ProgressUpdate).where(ProgressUpdate.measure_id == measure_id, ProgressUpdate.as_of <= day)
        .order_by(col(ProgressUpdate.as_of).desc(), col(ProgressUpdate.id).desc())
    ).first()
    if last is None:
        return Status.not_started, 0, "", None
    return Status(last.status), int(last.percent), last.note or "", last.evidence_url or None


def _resolve(row: StatusRow, current: tuple[Status, int, str, Optional[str]]) -> tuple[Status, int, str, Optional[str]]:
    cur_status, cur_percent, _cur_note, cur_link = current
    status, percent = row.status, row.percent
    if status is None:
        if percent is None:
            status = cur_status
        elif percent >= 100:
            status = Status.done
        elif percent > 0:
            status = Status.in_progress
        else:
            status = Status.cancelled if cur_status == Status.cancelled else Status.not_started
    if percent is None:
        percent = cur_percent
    if status == Status.done:
        percent = 100
    link = row.evidence_url if row.evidence_url else cur_link
    return status, percent, row.note.strip(), link


def _require_can_edit_some(actor: Actor, organization_id: int) -> None:
    # The role in the organisation the sheet is for (permissions.py), not the home role.
    require_update_progress(actor, organization_id)


def check_status_sheet(
    session: Session, *, organization_id: int, sheet: StatusSheet, actor: Actor, today: Optional[dt.date] = None
) -> list[RowOutcome]:
    """What applying would do with each parsed row, without writing anything (for the preview)."""
    _require_can_edit_some(actor, organization_id)
    today = today or dt.date.today()
    outcomes: list[RowOutcome] = []
    seen: dict[int, RowOutcome] = {}
    measures: dict[int, Optional[Measure]] = {}
    for r in sheet.rows:
        if r.measure_id not in measures:
            measures[r.measure_id] = session.get(Measure, r.measure_id)
        m = measures[r.measure_id]
        if m is None or m.organization_id != organization_id:
            outcomes.append(RowOutcome(r, "rejected", column=COL_KEY,
                                       reason=f"ไม่พบมาตรการรหัส {r.measure_id} ของหน่วยงานนี้"))
            continue
        dep_ids = session.exec(select(MeasureDepartment.department_id).where(MeasureDepartment.measure_id == m.id)).all()
        try:
            require_edit_measure(actor, organization_id=m.organization_id, department_ids=dep_ids, owner_all=m.owner_all)
        except PermissionDenied as exc:
            outcomes.append(RowOutcome(r, "rejected", column=COL_KEY, reason=f"มาตรการที่ {m.number}: {exc}",
                                       permission_denied=True))
            continue
        if r.as_of > today:
            outcomes.append(RowOutcome(r, "rejected", column=AS_OF_LABEL,
                                       reason=f"วันที่ {thai.format_date_th(r.as_of)} ยังไม่ถึง (อยู่ในอนาคต)"))
            continue
        current = _state_on(session, m.id, r.as_of)
        status, percent, note, link = _resolve(r, current)
        earlier = seen.get(m.id)
        if earlier is not None:
            same = (earlier.row.as_of, earlier.status, earlier.percent, earlier.note, earlier.evidence_url) == (
                r.as_of, status, percent, note, link)
            if same:
                outcomes.append(RowOutcome(r, "duplicate", status, percent, note, link, fiscal_year=m.fiscal_year))
            else:
                outcomes.append(RowOutcome(
                    r, "rejected", column=COL_KEY,
                    reason=f"มาตรการที่ {m.number} กรอกซ้ำในไฟล์ (ชีต {earlier.row.sheet} แถว {earlier.row.row}) ด้วยค่าที่ต่างกัน",
                ))
            continue
        kind = "duplicate" if (status, percent, note, link) == current else "import"
        outcome = RowOutcome(r, kind, status, percent, note, link, fiscal_year=m.fiscal_year)
        seen[m.id] = outcome
        outcomes.append(outcome)
    return outcomes


def apply_status_sheet(
    session: Session,
    *,
    organization_id: int,
    sheet: StatusSheet,
    actor: Actor,
    file_name: str,
    file_bytes: bytes,
    today: Optional[dt.date] = None,
) -> ImportBatch:
    """Record every new row of the sheet as progress, in the caller's transaction; returns the batch.

    Rows the actor may not edit, of another organisation, dated in the future or conflicting
    within the file are rejected entries, not errors; anything unexpected raises (and the
    caller's ``session_scope`` keeps nothing).
    """
    from .uploads import check_size

    check_size(file_bytes or b"")
    outcomes = check_status_sheet(session, organization_id=organization_id, sheet=sheet, actor=actor, today=today)
    refused = [o for o in outcomes if o.outcome == "rejected" and o.permission_denied]
    if refused and not any(o.outcome in ("import", "duplicate") for o in outcomes):
        # Nothing of this sheet is the actor's to change: refused as a whole, no batch left behind.
        raise PermissionDenied(f"ไฟล์นี้ไม่มีมาตรการที่คุณแก้ไขได้ ({refused[0].reason})")
    rejected = list(sheet.rejected)
    for o in outcomes:
        if o.outcome == "rejected":
            rejected.append({"sheet": o.row.sheet, "row": o.row.row, "column": o.column, "reason": o.reason})
    years = Counter(o.fiscal_year for o in outcomes if o.fiscal_year is not None)
    batch = ImportBatch(
        organization_id=organization_id, fiscal_year=years.most_common(1)[0][0] if years else None, kind="progress",
        file_name=file_name or "", sha256=hashlib.sha256(file_bytes or b"").hexdigest(),
        size_bytes=len(file_bytes or b""), user_id=actor.user_id,
    )
    session.add(batch)
    session.flush()
    imported = 0
    for o in outcomes:
        if o.outcome != "import":
            continue
        try:
            measures_svc.record_progress(
                session, measure_id=o.row.measure_id, status=o.status, percent=o.percent, note=o.note,
                evidence_url=o.evidence_url, as_of=o.row.as_of, actor=actor, import_batch_id=batch.id,
            )
        except (measures_svc.ProgressError, PermissionDenied) as exc:  # checked above; kept as a safety net
            o.outcome = "rejected"
            rejected.append({"sheet": o.row.sheet, "row": o.row.row, "column": COL_KEY, "reason": str(exc)})
            continue
        imported += 1
    rejected.sort(key=lambda e: (e["sheet"], e["row"]))
    batch.read_count = len(sheet.rows) + sheet.rejected_row_count
    batch.imported_count = imported
    batch.duplicate_count = sum(1 for o in outcomes if o.outcome == "duplicate")
    batch.rejected_count = len({(e["sheet"], e["row"]) for e in rejected})
    batch.rejected_rows = rejected
    session.add(batch)
    audit.record(
        session, user_id=actor.user_id, username=actor.username, action="progress.import", entity="import_batch",
        entity_id=batch.id, organization_id=organization_id,
        after={"file_name": file_name, "read": batch.read_count, "imported": batch.imported_count,
               "duplicate": batch.duplicate_count, "rejected": batch.rejected_count},
    )
    session.flush()
    return batch
