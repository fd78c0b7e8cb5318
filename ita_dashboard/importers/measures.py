"""Read a measures plan or report (xlsx / csv / docx / the tab-separated report text) into a ParsedPlan.

Every format is first turned into the same thing: a sequence of "lines" of cells (a paragraph
is a one-cell line, a table row a many-cell line). :mod:`.report_text` then finds the title
lines, section headings, table headers, continuation rows and the activities block; this
module decides which column is which (by header words, then by content), fixes rows whose
period and owner sit in each other's columns, numbers the measures and works out the year.

Nothing here touches the database; :mod:`ita_dashboard.services.measure_import` writes.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Optional

from .. import thai
from . import report_text as rt
from . import tabular
from .tabular import FileProblem

# ---------------------------------------------------------------- result types


@dataclass
class ParsedMeasure:
    number: int
    title: str
    steps: str = ""
    owner_text: str = ""
    period_text: str = ""
    output_text: str = ""
    outcome_text: str = ""
    section_number: Optional[int] = None
    section_title: Optional[str] = None
    source_row: int = 0  # 1-based row (line) in the file, for messages


@dataclass
class ParsedActivity:
    date: Optional[dt.date]
    title: str
    text: str = ""


@dataclass
class ParsedPlan:
    organization_name: str = ""
    district: str = ""
    province: str = ""
    fiscal_year: Optional[int] = None
    round: Optional[int] = None  # 6 / 12 / None
    title: str = ""
    measures: list[ParsedMeasure] = field(default_factory=list)
    activities: list[ParsedActivity] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- column vocabulary

NUMBER, TITLE, STEPS, OWNER, PERIOD, OUTPUT, OUTCOME = "number", "title", "steps", "owner", "period", "output", "outcome"
TEXT_ROLES = (TITLE, STEPS, OWNER, PERIOD, OUTPUT, OUTCOME)

# Checked in this order: the first role whose word appears in the header wins, so
# "ผลลัพธ์หรือผลสัมฤทธิ์ในการดำเนินการ" is an outcome before it is an output, and
# "ขั้นตอนการดำเนินมาตรการ" is steps before it is a title.
_ROLE_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (OUTCOME, ("ผลลัพธ์", "ผลสัมฤทธิ์", "ความสำเร็จ", "outcome", "result")),
    (OUTPUT, ("ผลการดำเนินการ", "ผลการดำเนินงาน", "ผลการปฏิบัติ", "สรุปผล", "ผลผลิต", "output")),
    (PERIOD, ("ระยะเวลา", "ช่วงเวลา", "กำหนดเวลา", "ห้วงเวลา", "วันที่ดำเนินการ", "period", "timeline",
              "duration", "schedule")),
    (OWNER, ("รับผิดชอบ", "ผู้ดำเนินการ", "owner", "responsible")),
    (STEPS, ("ขั้นตอน", "วิธีการ", "วิธีปฏิบัติ", "วิธีดำเนินการ", "steps", "step", "actions")),
    (TITLE, ("มาตรการ", "แนวทาง", "โครงการ", "กิจกรรม", "measure", "title", "project")),
)
_NUMBER_WORDS = {"ที่", "ลำดับ", "ลำดับที่", "ข้อ", "ข้อที่", "no", "#", "number", "item"}
_ROLE_NAMES_TH = {
    NUMBER: "ลำดับ", TITLE: "มาตรการ", STEPS: "ขั้นตอน/วิธีการปฏิบัติ", OWNER: "ผู้รับผิดชอบ",
    PERIOD: "ระยะเวลาดำเนินการ", OUTPUT: "ผลการดำเนินการ (output)", OUTCOME: "ผลลัพธ์ (outcome)",
}
_MAX_HEADER_CHARS = 90


def _header_key(text: str) -> str:
    s = unicodedata.normalize("NFC", str(text or "")).lower()
    return re.sub(r"[\s\u200b\u00a0]+", "", s)


def role_of(header_cell: str) -> Optional[str]:
    """The column role a header cell names, or None."""
    key = _header_key(header_cell)
    if not key or len(key) > _MAX_HEADER_CHARS:
        return None
    if key.strip(".:()") in _NUMBER_WORDS:
        return NUMBER
    for role, words in _ROLE_WORDS:
        if any(w in key for w in words):
            return role
    return None


def header_roles(cells: list[str]) -> dict[str, int]:
    """role -> column index; the first column naming a role keeps it."""
    roles: dict[str, int] = {}
    for i, cell in enumerate(cells):
        role = role_of(cell)
        if role and role not in roles:
            roles[role] = i
    return roles


def looks_like_header(cells: list[str]) -> bool:
    """A measure-table header: a measure column plus at least one other known column, and
    mostly header words (so a data row that happens to say "โครงการ" is not taken for one)."""
    filled = [c for c in cells if c and c.strip()]
    if not filled or any(len(_header_key(c)) > _MAX_HEADER_CHARS * 2 for c in filled):
        return False
    roles = header_roles(cells)
    named = [c for c in filled if role_of(c)]
    return TITLE in roles and len(set(roles) - {NUMBER}) >= 2 and len(named) * 2 >= len(filled)


# ---------------------------------------------------------------- content tests


@lru_cache(maxsize=4096)
def _period_parse(text: str, fiscal_year: Optional[int]) -> thai.PeriodParse:
    return thai.parse_period(text, fiscal_year=fiscal_year)


def reads_as_period(text: str, *, fiscal_year: Optional[int] = None) -> bool:
    """True when the text says when (a date range, "ทุกเดือน", "ตลอดปีงบประมาณ", ...).

    Without a known fiscal year a placeholder one is used: the question is only "is this
    a period at all", and yearless rhythms like "ทุกเดือน" need some year to read as one.
    """
    if not text or not text.strip():
        return False
    return _period_parse(text, fiscal_year or 2568).ok


_UNIT_RE = re.compile(r"ทุก|กอง|สำนัก|ฝ่าย|งาน|เจ้าหน้าที่|ส่วนราชการ|หัวหน้า|คณะ|ปลัด|นิติ|ผู้อำนวยการ|อบต|เทศบาล")


def names_units(text: str, *, fiscal_year: Optional[int] = None) -> bool:
    """An owner-looking cell: names units (ทุก…, กอง, สำนัก, ฝ่าย, งาน, เจ้าหน้าที่) and is no period."""
    return bool(text) and bool(_UNIT_RE.search(text)) and not reads_as_period(text, fiscal_year=fiscal_year)


_NUMBER_CELL_RE = re.compile(r"^\(?\s*([0-9๐-๙]{1,3})\s*[.)]?\s*$")


def _as_number(text: str) -> Optional[int]:
    m = _NUMBER_CELL_RE.match(text or "")
    return int(thai.to_arabic_digits(m.group(1))) if m else None


# ---------------------------------------------------------------- column mapping per table


@dataclass
class _Columns:
    roles: dict[str, int]
    header_line: int

    def get(self, cells: list[str], role: str) -> str:
        i = self.roles.get(role)
        return cells[i].strip() if i is not None and i < len(cells) else ""


def _merge_subheader(roles: dict[str, int], table: rt.ReportTable) -> dict[str, int]:
    """A second header row refines the first (its words win for their columns)."""
    for row in table.subheader_rows[:2]:
        for i, cell in enumerate(row.cells):
            role = role_of(cell)
            if role and role != NUMBER:
                roles = {r: c for r, c in roles.items() if c != i and r != role}
                roles[role] = i
    return roles


def _fill_by_content(roles: dict[str, int], table: rt.ReportTable, fiscal_year: Optional[int]) -> dict[str, int]:
    """Columns the header did not name: a column of small numbers left of the title is the
    numbering; a column mostly of periods is the period; mostly of units, the owner."""
    width = max((len(r.cells) for r in table.rows), default=0)
    taken = set(roles.values())
    for i in range(width):
        if i in taken:
            continue
        values = [r.cells[i] for r in table.rows if i < len(r.cells) and r.cells[i].strip()]
        if not values:
            continue
        share = lambda pred: sum(1 for v in values if pred(v)) / len(values)  # noqa: E731
        if NUMBER not in roles and i < roles.get(TITLE, 0) and share(lambda v: _as_number(v) is not None) == 1:
            roles[NUMBER] = i
        elif PERIOD not in roles and share(lambda v: reads_as_period(v, fiscal_year=fiscal_year)) >= 0.6:
            roles[PERIOD] = i
        elif OWNER not in roles and share(lambda v: names_units(v, fiscal_year=fiscal_year)) >= 0.6:
            roles[OWNER] = i
    return roles


def _columns_for(table: rt.ReportTable, fiscal_year: Optional[int]) -> _Columns:
    roles = _merge_subheader(header_roles(table.header), table)
    roles = _fill_by_content(roles, table, fiscal_year)
    return _Columns(roles=roles, header_line=table.header_line)


# ---------------------------------------------------------------- rows to measures


def _is_column_number_row(cells: list[str]) -> bool:
    """"(1) (2) (3) ..." under a header (government forms number their columns)."""
    filled = [c for c in cells if c.strip()]
    return len(filled) >= 2 and all(_as_number(c) is not None for c in filled)


def _measure_from_row(row: rt.ReportRow, cols: _Columns, table: rt.ReportTable) -> ParsedMeasure:
    get = lambda role: cols.get(row.cells, role)  # noqa: E731
    return ParsedMeasure(
        number=0,
        title=get(TITLE),
        steps=get(STEPS),
        owner_text=get(OWNER),
        period_text=get(PERIOD),
        output_text=get(OUTPUT),
        outcome_text=get(OUTCOME),
        section_number=table.section_number,
        section_title=table.section_title,
        source_row=row.line,
    )


def _append_continuation(measure: ParsedMeasure, row: rt.ReportRow, cols: _Columns) -> None:
    for role, attr in ((STEPS, "steps"), (OWNER, "owner_text"), (PERIOD, "period_text"),
                       (OUTPUT, "output_text"), (OUTCOME, "outcome_text")):
        more = cols.get(row.cells, role)
        setattr(measure, attr, rt.join_continuation(getattr(measure, attr), more))


def _table_measures(table: rt.ReportTable, *, fiscal_year: Optional[int], warnings: list[str]) -> list[ParsedMeasure]:
    cols = _columns_for(table, fiscal_year)
    if TITLE not in cols.roles:
        raise FileProblem(_missing_title_message(table.header, table.header_line))
    _check_subheader_rows(table, cols)
    measures: list[ParsedMeasure] = []
    number_cells: list[str] = []
    for row in table.rows:
        if _is_column_number_row(row.cells) or looks_like_header(row.cells):
            continue
        if not cols.get(row.cells, TITLE):
            if measures:
                _append_continuation(measures[-1], row, cols)
                continue
            raise FileProblem(_no_title_row_message(row, table, cols))
        measures.append(_measure_from_row(row, cols, table))
        number_cells.append(cols.get(row.cells, NUMBER))
    for m, cell in zip(measures, number_cells):
        _fix_swapped_period_owner(m, fiscal_year=fiscal_year, warnings=warnings)
        m.number = _as_number(cell) or 0  # 0: decided later from the title or the order
    return measures


def _check_subheader_rows(table: rt.ReportTable, cols: _Columns) -> None:
    """Rows under the header with an empty first cell are a second header row, column numbers,
    or data that lacks its measure: the last is an error the user must fix."""
    for row in table.subheader_rows:
        if any(role_of(c) for c in row.cells) or _is_column_number_row(row.cells):
            continue
        raise FileProblem(_no_title_row_message(row, table, cols))


def _no_title_row_message(row: rt.ReportRow, table: rt.ReportTable, cols: _Columns) -> str:
    return (
        f"แถวที่ {row.line}: มีข้อมูลแต่ไม่มีชื่อมาตรการในคอลัมน์ "
        f"\"{table.header[cols.roles[TITLE]]}\" กรุณาใส่ชื่อมาตรการหรือลบแถวนี้"
    )


def _fix_swapped_period_owner(m: ParsedMeasure, *, fiscal_year: Optional[int], warnings: list[str]) -> None:
    """Decide per row by content: a period in the owner column and a non-period in the period
    column means the two were written in each other's place (seed 004 does this)."""
    if reads_as_period(m.period_text, fiscal_year=fiscal_year):
        return
    owner_is_period = reads_as_period(m.owner_text, fiscal_year=fiscal_year)
    unit_in_period_col = names_units(m.period_text, fiscal_year=fiscal_year)
    if owner_is_period or (unit_in_period_col and m.owner_text and not _UNIT_RE.search(m.owner_text)):
        m.period_text, m.owner_text = m.owner_text, m.period_text
        warnings.append(
            f"แถวที่ {m.source_row}: ช่องระยะเวลากับผู้รับผิดชอบสลับกัน ระบบสลับให้ตามเนื้อหาแล้ว"
        )


def _number_measures(measures: list[ParsedMeasure], warnings: list[str]) -> None:
    """Numbers from the numbering column or the title's "๑." when every measure has a distinct
    one; otherwise 1..n in file order. The title's number prefix is always removed."""
    for m in measures:
        from_title, rest = rt.split_number(m.title)
        if from_title is not None:
            m.title = rest
            m.number = m.number or from_title
    numbers = [m.number for m in measures]
    if all(numbers) and len(set(numbers)) == len(numbers):
        return
    if any(numbers):
        warnings.append("เลขลำดับมาตรการในไฟล์ซ้ำกันหรือไม่ครบ ระบบจึงเรียงเลขใหม่ตามลำดับในไฟล์")
    for i, m in enumerate(measures, start=1):
        m.number = i


# ---------------------------------------------------------------- problems, in plain Thai


def _missing_title_message(header: list[str], line: int) -> str:
    found = [f"\"{c}\"" for c in header if role_of(c)]
    return (
        f"พบหัวตารางที่แถว {line} แต่ไม่มีคอลัมน์ชื่อมาตรการ "
        f"(เช่น \"มาตรการ/แนวทาง\" หรือ \"มาตรการ/โครงการ/กิจกรรม\")"
        + (f" — คอลัมน์ที่พบ: {', '.join(found)}" if found else "")
    )


def _no_table_message(lines: list[tuple[int, list[str]]]) -> str:
    best: tuple[int, int, list[str]] = (0, 0, [])
    for line_no, cells in lines:
        roles = header_roles([rt.clean_cell(c) for c in cells]) if len(cells) >= 2 else {}
        if len(roles) > best[0]:
            best = (len(roles), line_no, cells)
    if best[0] >= 2:
        roles = header_roles([rt.clean_cell(c) for c in best[2]])
        missing = [_ROLE_NAMES_TH[r] for r in (TITLE, STEPS, OWNER, PERIOD) if r not in roles]
        if TITLE not in roles:
            return _missing_title_message([rt.clean_cell(c) for c in best[2]], best[1])
        return f"หัวตารางที่แถว {best[1]} ขาดคอลัมน์: {', '.join(missing)}"
    return (
        "ไม่พบตารางมาตรการในไฟล์: ต้องมีแถวหัวตารางที่มีคอลัมน์ \"มาตรการ\" และอย่างน้อยหนึ่งในคอลัมน์ "
        "\"ขั้นตอน/วิธีการปฏิบัติ\", \"ผู้รับผิดชอบ\", \"ระยะเวลาดำเนินการ\", \"ผลการดำเนินการ\""
    )


# ---------------------------------------------------------------- from lines to a plan


def _plan_from_lines(
    lines: list[tuple[int, list[str]]], *, fiscal_year: Optional[int], source: str = ""
) -> Optional[tuple[rt.ReportText, list[ParsedMeasure]]]:
    """Parse one stream of lines; None when it holds no measure table."""
    report = rt.parse_lines(lines, is_header=looks_like_header, fiscal_year=fiscal_year)
    if not report.tables:
        return None
    report.warnings = [f"{source}{w}" for w in report.warnings]
    year = fiscal_year or report.info.fiscal_year
    measures: list[ParsedMeasure] = []
    for table in report.tables:
        measures.extend(_table_measures(table, fiscal_year=year, warnings=report.warnings))
    return report, measures


def _year_from_periods(measures: list[ParsedMeasure]) -> Optional[int]:
    """The fiscal year that contains most of the periods that read without help."""
    years = Counter()
    for m in measures:
        p = _period_parse(m.period_text, None) if m.period_text else None
        if p and p.ok:
            years[thai.fiscal_year_of(p.start)] += 1
    return years.most_common(1)[0][0] if years else None


def _finish(
    parts: list[tuple[rt.ReportText, list[ParsedMeasure]]], *, fiscal_year: Optional[int], all_lines
) -> ParsedPlan:
    if not parts:
        raise FileProblem(_no_table_message(all_lines))
    plan = ParsedPlan()
    for report, measures in parts:
        info = report.info
        plan.title = plan.title or info.title
        plan.organization_name = plan.organization_name or info.organization_name
        plan.district = plan.district or info.district
        plan.province = plan.province or info.province
        plan.fiscal_year = plan.fiscal_year or info.fiscal_year
        plan.round = plan.round or info.round
        plan.measures.extend(measures)
        plan.activities.extend(ParsedActivity(date=a.date, title=a.title, text=a.text) for a in report.activities)
        plan.warnings.extend(report.warnings)
    if not plan.measures:
        header_line = parts[0][0].tables[0].header_line
        raise FileProblem(f"พบหัวตารางที่แถว {header_line} แต่ไม่มีมาตรการใต้หัวตาราง")
    if plan.round not in (None, 6, 12):
        plan.warnings.append(f"รอบการรายงาน {plan.round} เดือน ไม่ใช่รอบ 6 หรือ 12 เดือน จึงไม่ได้บันทึกรอบ")
        plan.round = None
    plan.fiscal_year = fiscal_year or plan.fiscal_year or _year_from_periods(plan.measures)
    _number_measures(plan.measures, plan.warnings)
    return plan


# ---------------------------------------------------------------- readers per format


def _text_lines(text: str) -> list[tuple[int, list[str]]]:
    return [(i + 1, cells) for i, cells in enumerate(rt.split_lines(text))]


def _is_report_text(text: str) -> bool:
    """Tab-separated lines with a measure header and no CSV quoting: the report export.
    (Quoted cells can hold tabs and line breaks; those go to the CSV reader instead.)"""
    if re.search(r'(^|\t)"', text, re.M):
        return False
    return rt.has_header_line(text, is_header=looks_like_header)


def _cell_str(cell: object) -> str:
    if isinstance(cell, dt.datetime):
        cell = cell.date()
    if isinstance(cell, dt.date):
        return thai.format_date_th(cell)
    return tabular.cell_text(cell)


def _sheet_lines(sheet: tabular.Sheet) -> list[tuple[int, list[str]]]:
    return [(i + 1, [_cell_str(c) for c in row] or [""]) for i, row in enumerate(sheet.rows)]


def _parse_sheets(data: bytes, *, fiscal_year: Optional[int]) -> ParsedPlan:
    sheets = tabular.read_sheets(data)
    parts, all_lines = [], []
    for sheet in sheets:
        lines = _sheet_lines(sheet)
        all_lines.extend(lines)
        prefix = f"ชีต {sheet.name}: " if len(sheets) > 1 else ""
        part = _plan_from_lines(lines, fiscal_year=fiscal_year, source=prefix)
        if part:
            parts.append((sheet.name, part))
    if len(parts) > 1:  # one sheet per section, unless the sheets name their own sections
        for k, (name, (_report, measures)) in enumerate(parts, start=1):
            for m in measures:
                if m.section_title is None:
                    m.section_number, m.section_title = k, name
    plan = _finish([p for _, p in parts], fiscal_year=fiscal_year, all_lines=all_lines)
    if len(parts) > 1:
        plan.warnings.insert(0, "นำเข้ามาตรการจากชีต: " + ", ".join(name for name, _ in parts))
    return plan


# -- docx


def _docx_list_prefix(paragraph, counters: dict) -> str:
    """The number or bullet Word draws in front of a list paragraph (it is not in the text)."""
    style = (paragraph.style.name if paragraph.style is not None else "") or ""
    ppr = paragraph._p.pPr
    num_pr = ppr.numPr if ppr is not None else None
    if num_pr is None and not style.startswith(("List Number", "List Bullet")):
        return ""
    bullet = style.startswith("List Bullet")
    key = style
    if num_pr is not None and num_pr.numId is not None:
        key = f"num{num_pr.numId.val}:{num_pr.ilvl.val if num_pr.ilvl is not None else 0}"
        bullet = bullet or _docx_is_bullet(paragraph, num_pr)
    if bullet:
        return "- "
    counters[key] = counters.get(key, 0) + 1
    return f"{counters[key]}. "


def _docx_is_bullet(paragraph, num_pr) -> bool:
    try:
        numbering = paragraph.part.numbering_part.element
        num_id, ilvl = num_pr.numId.val, (num_pr.ilvl.val if num_pr.ilvl is not None else 0)
        ns = {"w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main"}
        abstract = numbering.xpath(f'./w:num[@w:numId="{num_id}"]/w:abstractNumId/@w:val', namespaces=ns)
        if not abstract:
            return False
        fmt = numbering.xpath(
            f'./w:abstractNum[@w:abstractNumId="{abstract[0]}"]/w:lvl[@w:ilvl="{ilvl}"]/w:numFmt/@w:val',
            namespaces=ns,
        )
        return bool(fmt) and fmt[0] == "bullet"
    except (AttributeError, KeyError, NotImplementedError):
        return False


def _docx_cell_text(cell) -> str:
    counters: dict = {}
    parts = []
    for p in cell.paragraphs:
        text = p.text.strip()
        if text:
            prefix = _docx_list_prefix(p, counters)
            if prefix and rt.starts_item(text):
                prefix = ""
            parts.append(prefix + text)
    return "\n".join(parts)


def _docx_table_lines(table, start: int) -> list[tuple[int, list[str]]]:
    """Rows of one Word table; a merged cell counts once (python-docx repeats it)."""
    out, above = [], []
    for r, row in enumerate(table.rows):
        tcs = [c._tc for c in row.cells]
        cells = []
        for i, cell in enumerate(row.cells):
            repeat = (i > 0 and tcs[i] is tcs[i - 1]) or (i < len(above) and tcs[i] is above[i])
            cells.append("" if repeat else _docx_cell_text(cell))
        above = tcs
        while len(cells) > 1 and not cells[-1]:
            cells.pop()
        out.append((start + r, cells))
    return out


def _docx_lines(data: bytes) -> list[tuple[int, list[str]]]:
    import docx  # python-docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several types for broken packages
        raise FileProblem(f"เปิดไฟล์ Word ไม่ได้ ไฟล์อาจเสียหาย ({type(exc).__name__})") from exc
    lines: list[tuple[int, list[str]]] = []
    has_table = False
    try:  # parts are read lazily: a damaged body or member only shows here
        for child in document.element.body.iterchildren():
            tag = child.tag.rsplit("}", 1)[-1]
            if tag == "p":
                lines.append((len(lines) + 1, [Paragraph(child, document).text]))
            elif tag == "tbl":
                has_table = True
                lines.extend(_docx_table_lines(Table(child, document), len(lines) + 1))
    except Exception as exc:
        raise FileProblem(f"อ่านเนื้อหาไฟล์ Word ไม่ได้ ไฟล์อาจเสียหาย ({type(exc).__name__})") from exc
    if not has_table:
        raise FileProblem("ไม่พบตารางในเอกสาร Word: มาตรการต้องอยู่ในตาราง (มาตรการ, ขั้นตอน, ผู้รับผิดชอบ, ระยะเวลา)")
    return lines


# ---------------------------------------------------------------- entry point


def parse_measures_file(data: bytes, *, filename: str = "", fiscal_year: Optional[int] = None) -> ParsedPlan:
    """Read a measures plan/report of any supported format; raises FileProblem (Thai) when it
    cannot be read or holds no measure table. ``filename`` is only used in messages: the
    format is decided from the content."""
    from .guard import check_upload

    check_upload(data)
    kind = tabular.sniff_kind(data)
    if kind == tabular.DOCX:
        lines = _docx_lines(data)
        part = _plan_from_lines(lines, fiscal_year=fiscal_year)
        return _finish([part] if part else [], fiscal_year=fiscal_year, all_lines=lines)
    if kind == tabular.CSV:
        text = tabular.decode_text(data)
        if not text.strip():
            raise FileProblem("ไฟล์ว่างเปล่า ไม่มีข้อมูล")
        if _is_report_text(text):
            lines = _text_lines(text)
            part = _plan_from_lines(lines, fiscal_year=fiscal_year)
            return _finish([part] if part else [], fiscal_year=fiscal_year, all_lines=lines)
    return _parse_sheets(data, fiscal_year=fiscal_year)


__all__ = [
    "FileProblem", "ParsedActivity", "ParsedMeasure", "ParsedPlan", "header_roles", "looks_like_header",
    "names_units", "parse_measures_file", "reads_as_period", "role_of",
]
