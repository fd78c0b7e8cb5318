"""The yearly measures report's content, shared by the xlsx writer (here) and the docx writer.

Columns as the seeds have them: มาตรการ · ขั้นตอน/วิธีการปฏิบัติ · ผู้รับผิดชอบ · ระยะเวลาดำเนินการ ·
ผลการดำเนินการ · ผลลัพธ์, one row per measure, grouped by section where measures have sections;
then the activities dated inside the round. The layout follows seed 004 (a section heading line,
then the table under its own header), which is what ``import-measures`` reads back: a generated
report imports as the same measures.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field
from typing import Optional

from .. import thai
from ..importers.report_text import starts_item
from ..textsafe import starts_formula

HEADERS = ("มาตรการ", "ขั้นตอน/วิธีการปฏิบัติ", "ผู้รับผิดชอบ", "ระยะเวลาดำเนินการ", "ผลการดำเนินการ", "ผลลัพธ์")
REPORT_TITLE = "รายงานผลการดำเนินการเพื่อส่งเสริมคุณธรรมและความโปร่งใสภายในหน่วยงาน"
ACTIVITIES_HEADING = "กิจกรรม"  # the word the importer (report_text) recognises as the activities block
ACTIVITY_HEADERS = ("วันที่", "กิจกรรม", "รายละเอียด", "มาตรการที่เกี่ยวข้อง", "รูปภาพ")
NUMBERED_COLUMNS = (1, 4, 5)  # steps, output, outcome: one numbered item per line
COLUMN_WIDTHS_MM = (45, 62, 30, 32, 48, 40)  # per HEADERS column; 257 mm: A4 landscape minus 2 cm margins


@dataclass
class ReportRow:
    section: Optional[str]
    cells: tuple[str, str, str, str, str, str]  # multi-line cells are joined with "\n"


@dataclass
class ReportActivity:
    date: dt.date
    date_text: str  # "7 มีนาคม 2568" (Thai digits when asked)
    title: str
    text: str
    measure: str  # "3. title" of the linked measure, or ""
    photo: Optional[bytes] = None
    photo_mime: Optional[str] = None


@dataclass
class Report:
    organization: str
    fiscal_year: int
    round: int
    as_of: dt.date
    title_lines: list[str]
    rows: list[ReportRow]
    activities: list[ReportActivity] = field(default_factory=list)
    thai_digits: bool = False


def round_as_of(*, fiscal_year: int, round_: int, today: Optional[dt.date] = None) -> dt.date:
    """The date a round's report describes: the round's last day, or today while it is running."""
    _, end = thai.round_bounds(fiscal_year, round_)
    return min(end, today or dt.date.today())


_URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.I)


def digits(text: str, *, thai_digits: bool) -> str:
    """Arabic digits turned Thai (๑๒๓) when asked; web addresses are left as written so they still work."""
    if not thai_digits or not text:
        return text
    out, pos = [], 0
    for m in _URL_RE.finditer(text):
        out.append(thai.to_thai_digits(text[pos:m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(thai.to_thai_digits(text[pos:]))
    return "".join(out)


def numbered_lines(text: str) -> list[str]:
    """A cell's items, one per line. Lines already numbered or bulleted ("๑.", "2)", "-") stay as
    written; several plain lines are numbered 1., 2., ... (the seeds number steps and results)."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if len(lines) > 1 and not any(starts_item(line) for line in lines):
        return [f"{i}. {line}" for i, line in enumerate(lines, start=1)]
    return lines


def report_rows(states, *, round_: int, fiscal_year: int, thai_digits: bool = False) -> list[ReportRow]:
    """Measures active in the round (6: Oct–Mar, 12: the whole year), numbered as in the plan."""
    lo, hi = thai.round_bounds(fiscal_year, round_)
    d = lambda s: digits(s or "", thai_digits=thai_digits)  # noqa: E731
    rows = []
    for s in states:
        if s.start and s.end and not (s.start <= hi and s.end >= lo):
            continue
        section = d(f"{s.section_number}. {s.section_title}") if s.section_title else None
        cells = [f"{s.number}. {s.title}", s.steps, s.owner_text, s.period_text, s.output_text, s.outcome_text]
        for i in NUMBERED_COLUMNS:
            cells[i] = "\n".join(numbered_lines(cells[i]))
        rows.append(ReportRow(section, tuple(d(c) for c in cells)))
    return rows


def title_lines(*, org_name: str, district: Optional[str], province: Optional[str], fiscal_year: int, round_: int,
                thai_digits: bool = False) -> list[str]:
    place = " ".join(x for x in (f"อำเภอ{district}" if district else "", f"จังหวัด{province}" if province else "") if x)
    lines = [
        REPORT_TITLE,
        f"ประจำปีงบประมาณ พ.ศ. {fiscal_year} (รอบ {round_} เดือน)",
        org_name + (f" {place}" if place else ""),
    ]
    return [digits(line, thai_digits=thai_digits) for line in lines]


def report_activities(session, *, organization_id: int, fiscal_year: int, round_: int, thai_digits: bool = False,
                      with_photos: bool = True) -> list[ReportActivity]:
    """The activities dated inside the round, oldest first, with Thai BE dates."""
    from ..services.activities import list_activities

    lo, hi = thai.round_bounds(fiscal_year, round_)
    items = list_activities(session, organization_id=organization_id, fiscal_year=fiscal_year, with_photos=with_photos)
    out = []
    for a in sorted(items, key=lambda a: (a.date, a.id)):
        if not lo <= a.date <= hi:
            continue
        measure = f"{a.measure_number}. {a.measure_title}" if a.measure_number is not None else ""
        out.append(ReportActivity(
            date=a.date, date_text=thai.format_date_th(a.date, thai_digits=thai_digits),
            title=digits(a.title, thai_digits=thai_digits), text=digits(a.text or "", thai_digits=thai_digits),
            measure=digits(measure, thai_digits=thai_digits), photo=a.photo, photo_mime=a.photo_mime,
        ))
    return out


def build_report(session, *, organization_id: int, fiscal_year: int, round_: int, thai_digits: bool = False,
                 with_photos: bool = True, today: Optional[dt.date] = None) -> Report:
    """Everything the report shows: measures in their state at the round's end (or today while
    the round runs) and the round's activities. Read-only."""
    from ..models import Organization
    from ..services.measures import measure_states

    org = session.get(Organization, organization_id)
    if org is None:
        raise LookupError(f"organization {organization_id} not found")
    as_of = round_as_of(fiscal_year=fiscal_year, round_=round_, today=today)
    states = measure_states(session, organization_id=organization_id, fiscal_year=fiscal_year, as_of=as_of)
    return Report(
        organization=org.name, fiscal_year=fiscal_year, round=round_, as_of=as_of,
        title_lines=title_lines(org_name=org.name, district=org.district, province=org.province,
                                fiscal_year=fiscal_year, round_=round_, thai_digits=thai_digits),
        rows=report_rows(states, round_=round_, fiscal_year=fiscal_year, thai_digits=thai_digits),
        activities=report_activities(session, organization_id=organization_id, fiscal_year=fiscal_year,
                                     round_=round_, thai_digits=thai_digits, with_photos=with_photos),
        thai_digits=thai_digits,
    )


def sections(rows: list[ReportRow]) -> list[tuple[Optional[str], list[ReportRow]]]:
    """Consecutive rows grouped by section (one group with section None when there are none)."""
    groups: list[tuple[Optional[str], list[ReportRow]]] = []
    for r in rows:
        if not groups or groups[-1][0] != r.section:
            groups.append((r.section, []))
        groups[-1][1].append(r)
    return groups


def _put_text(ws, row: int, column: int, value: str):
    """Write text exactly as given and never as a formula: openpyxl would store "=..." as one,
    so the cell is typed as a string (and quote-prefixed, so editing it in Excel keeps it text)."""
    cell = ws.cell(row=row, column=column, value=value)
    if starts_formula(value):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


class _Rows:
    """Appends rows of exact text to a worksheet, keeping count (blank rows included)."""

    def __init__(self, ws):
        self.ws, self.row = ws, 0

    def add(self, values=()) -> list:
        self.row += 1
        return [_put_text(self.ws, self.row, i, v) for i, v in enumerate(values, start=1) if v not in (None, "")]


# Excel column widths are in characters of the default font (Calibri 11: about 2 mm each), so
# the Word report's millimetres (COLUMN_WIDTHS_MM, 257 mm = A4 landscape minus 2 cm
# margins) divided by 2 give the same columns on paper.
MM_PER_CHAR = 2.0
ACTIVITY_WIDTHS_MM = (30, 60, 107, 50, 10)  # 257 mm too
MARGIN_INCH = 0.79  # 2 cm, as the Word report


def _print_setup(ws, *, title_row: int, widths_mm) -> None:
    """A4 landscape, one page wide (as many tall as needed), 2 cm margins, ``title_row`` (the
    table's header) repeated on every page, the columns as wide as in the Word report."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.properties import PageSetupProperties

    for i, mm in enumerate(widths_mm, start=1):
        ws.column_dimensions[get_column_letter(i)].width = round(mm / MM_PER_CHAR, 1)
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages tall as the rows need
    ws.page_margins.left = ws.page_margins.right = MARGIN_INCH
    ws.page_margins.top = ws.page_margins.bottom = MARGIN_INCH
    ws.print_options.horizontalCentered = True
    ws.print_title_rows = f"{title_row}:{title_row}"


def to_xlsx(report: Report) -> bytes:
    """Sheet "รายงาน": title lines, the six-column header (repeated on every printed page), then
    per section a heading row across the table and its measures; sheet "กิจกรรม": the round's
    activities (photos stay in the Word file). Both print on A4 landscape, one page wide, with
    wrapped text and the Word report's column widths."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    wb = Workbook()
    ws = wb.active
    ws.title = "รายงาน"
    out = _Rows(ws)
    for line in report.title_lines:
        for c in out.add([line]):
            c.font = Font(bold=True, size=14)
    out.add()
    header_fill = PatternFill("solid", fgColor="D9D9D9")
    thin = Side(style="thin", color="808080")
    grid = Border(left=thin, right=thin, top=thin, bottom=thin)
    top = Alignment(wrap_text=True, vertical="top")
    for c in out.add(HEADERS):
        c.font, c.fill, c.border = Font(bold=True), header_fill, grid
        c.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
    header_row = out.row
    for section, rows in sections(report.rows):
        if section:
            for c in out.add([section]):
                c.font, c.alignment = Font(bold=True), top
            ws.merge_cells(start_row=out.row, start_column=1, end_row=out.row, end_column=len(HEADERS))
        for row in rows:
            out.add(row.cells)
            for col in range(1, len(HEADERS) + 1):  # empty cells get the grid too
                cell = ws.cell(row=out.row, column=col)
                cell.alignment, cell.border = top, grid
    _print_setup(ws, title_row=header_row, widths_mm=COLUMN_WIDTHS_MM)

    wa = wb.create_sheet(ACTIVITIES_HEADING)
    act = _Rows(wa)
    for c in act.add(ACTIVITY_HEADERS):
        c.font, c.fill, c.border = Font(bold=True), header_fill, grid
        c.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
    for a in report.activities:
        act.add([a.date_text, a.title, a.text, a.measure, "มี" if a.photo_mime else ""])
        for col in range(1, len(ACTIVITY_HEADERS) + 1):
            cell = wa.cell(row=act.row, column=col)
            cell.alignment, cell.border = top, grid
    _print_setup(wa, title_row=1, widths_mm=ACTIVITY_WIDTHS_MM)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
