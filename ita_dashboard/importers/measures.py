"""Read a measures plan or report (xlsx / csv / docx / the tab-separated report text) into a ParsedPlan.

Every format is first turned into the same thing: a sequence of :class:`.report_text.Line`
(a paragraph is a one-cell line, a table row a many-cell line), each knowing where the user
sees it (sheet row, Word table and row, text line). Merged cells are resolved here, from the
file itself: a Word ``w:vMerge`` or a sheet's merged range carries its text to every row it
spans (marked ``carried``), a cell merged across the table marks a section or title row.
:mod:`.report_text` then finds the title lines, section headings, table headers, continuation
rows, signature blocks and the activities block, and lists every other line with text as
skipped, with why; this module decides which column is which (by header words, then by
content), fixes rows whose period and owner sit in each other's columns, numbers the measures
and works out the year.

Nothing here touches the database; :mod:`ita_dashboard.services.measure_import` writes.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Optional

from .. import thai
from ..texts import t
from . import report_text as rt
from . import tabular
from .measure_columns import (
    NUMBER, OUTCOME, OUTPUT, OWNER, PERIOD, ROLE_NAMES_TH, STEPS, TITLE, UNIT_RE, as_number, header_columns,
    header_residue, header_roles, holds_data, looks_like_header, names_units, period_parse, reads_as_period, role_of,
)
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
    source_row: int = 0  # the row as the user sees it: sheet row, Word table row, text line
    source_place: str = ""  # the same in words, naming the table ("ตารางที่ 2 แถวที่ 4")


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
    # Lines with text that did not become (part of) a measure: a repeated header, a signature
    # block, a title row inside the table, a note under it ... each with where and why.
    skipped: list[rt.SkippedRow] = field(default_factory=list)


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
        share = lambda pred, values=values: sum(1 for v in values if pred(v)) / len(values)  # noqa: E731
        if NUMBER not in roles and i < roles.get(TITLE, 0) and share(lambda v: as_number(v) is not None) == 1:
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
    return len(filled) >= 2 and all(as_number(c) is not None for c in filled)


_LABEL_RE = re.compile(r"^\s*([^:：\n]{1,40}?)\s*[:：]\s*(\S.*)$", re.S)


def _strip_label(text: str) -> str:
    """"ผู้รับผิดชอบ: ทุกกอง" -> "ทุกกอง": some agencies label every cell with its column's name."""
    m = _LABEL_RE.match(text or "")
    if m and role_of(m.group(1)) and not header_residue(m.group(1)):
        return m.group(2).strip()
    return text


def _measure_from_row(row: rt.ReportRow, cols: _Columns, table: rt.ReportTable) -> ParsedMeasure:
    get = lambda role: _strip_label(cols.get(row.cells, role))  # noqa: E731
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
        source_place=row.place,
    )


def _append_continuation(measure: ParsedMeasure, row: rt.ReportRow, cols: _Columns) -> None:
    join = rt.join_rows if row.kind == rt.ROW else rt.join_continuation
    for role, attr in ((STEPS, "steps"), (OWNER, "owner_text"), (PERIOD, "period_text"),
                       (OUTPUT, "output_text"), (OUTCOME, "outcome_text")):
        more = cols.get(row.cells, role)
        setattr(measure, attr, join(getattr(measure, attr), more))


def _table_measures(table: rt.ReportTable, *, fiscal_year: Optional[int], warnings: list[str],
                    skipped: list[rt.SkippedRow]) -> list[ParsedMeasure]:
    cols = _columns_for(table, fiscal_year)
    if TITLE not in cols.roles:
        raise _missing_title(table.header, _at(table.header_place, table.header_line, in_table=table.header_in_table))
    _check_subheader_rows(table, cols)
    measures: list[ParsedMeasure] = []
    number_cells: list[str] = []
    for row in table.rows:
        if _is_column_number_row(row.cells):
            skipped.append(rt.SkippedRow(row=row.line, place=row.place, code="column_numbers",
                                         text=" ".join(c for c in row.cells if c)))
            continue
        if not cols.get(row.cells, TITLE):
            if measures:
                _append_continuation(measures[-1], row, cols)
                continue
            raise _no_title_row(row, table, cols)
        measures.append(_measure_from_row(row, cols, table))
        number_cells.append(cols.get(row.cells, NUMBER))
    for m, cell in zip(measures, number_cells):
        _fix_swapped_period_owner(m, fiscal_year=fiscal_year, warnings=warnings)
        m.number = as_number(cell) or 0  # 0: decided later from the title or the order
    return measures


def _check_subheader_rows(table: rt.ReportTable, cols: _Columns) -> None:
    """Rows under the header with an empty first cell are a second header row, column numbers,
    or data that lacks its measure: the last is an error the user must fix."""
    for row in table.subheader_rows:
        if any(role_of(c) for c in row.cells) or _is_column_number_row(row.cells):
            continue
        raise _no_title_row(row, table, cols)


def _no_title_row(row: rt.ReportRow, table: rt.ReportTable, cols: _Columns) -> FileProblem:
    column = table.header[cols.roles[TITLE]]
    if row.place:
        return FileProblem(code="measures_file_row_no_title", place=row.place, column=column)
    return FileProblem(code="measures_file_line_no_title", line=row.line, column=column)


def _fix_swapped_period_owner(m: ParsedMeasure, *, fiscal_year: Optional[int], warnings: list[str]) -> None:
    """Decide per row by content: a period in the owner column and a non-period in the period
    column means the two were written in each other's place (seed 004 does this)."""
    if reads_as_period(m.period_text, fiscal_year=fiscal_year):
        return
    owner_is_period = reads_as_period(m.owner_text, fiscal_year=fiscal_year)
    unit_in_period_col = names_units(m.period_text, fiscal_year=fiscal_year)
    if owner_is_period or (unit_in_period_col and m.owner_text and not UNIT_RE.search(m.owner_text)):
        m.period_text, m.owner_text = m.owner_text, m.period_text
        warnings.append(t("measures_warn_swapped", place=m.source_place or t("report_place_row", row=m.source_row)))


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
        warnings.append(t("measures_warn_renumbered"))
    for i, m in enumerate(measures, start=1):
        m.number = i


# ---------------------------------------------------------------- problems, in plain Thai


def _at(place: str, row: Optional[int], *, in_table: bool) -> str:
    """"ที่แถว 5" for a sheet or text row, "ในตารางที่ 1 แถวที่ 2" for a Word table row."""
    return t("measures_part_in_place", place=place) if in_table else t("measures_part_at_row", row=row)


def _missing_title(header: list[str], where: str) -> FileProblem:
    found = [f"\"{c}\"" for c in header if role_of(c)]
    if found:
        return FileProblem(code="measures_file_no_title_column_found", where=where, found=", ".join(found))
    return FileProblem(code="measures_file_no_title_column", where=where)


def _no_table(lines: list[rt.Line]) -> FileProblem:
    best: tuple[int, str, list[str]] = (0, "", [])
    for line in lines:
        cells = line.cells
        roles = header_roles([rt.clean_cell(c) for c in cells]) if len(cells) >= 2 else {}
        if len(roles) > best[0]:
            best = (len(roles), _at(line.place, line.row, in_table=line.in_table), cells)
    if best[0] >= 2:
        roles = header_roles([rt.clean_cell(c) for c in best[2]])
        missing = [ROLE_NAMES_TH[r] for r in (TITLE, STEPS, OWNER, PERIOD) if r not in roles]
        if TITLE not in roles:
            return _missing_title([rt.clean_cell(c) for c in best[2]], best[1])
        return FileProblem(code="measures_file_missing_columns", where=best[1], missing=", ".join(missing))
    return FileProblem(code="measures_file_no_table")


# ---------------------------------------------------------------- from lines to a plan


def _plan_from_lines(
    lines: list[rt.Line], *, fiscal_year: Optional[int], source: str = ""
) -> Optional[tuple[rt.ReportText, list[ParsedMeasure]]]:
    """Parse one stream of lines; None when it holds no measure table."""
    report = rt.parse_lines(lines, is_header=looks_like_header, holds_data=holds_data, columns=header_columns,
                            fiscal_year=fiscal_year)
    if not report.tables:
        return None
    report.warnings = [f"{source}{w}" for w in report.warnings]
    year = fiscal_year or report.info.fiscal_year
    measures: list[ParsedMeasure] = []
    for table in report.tables:
        measures.extend(_table_measures(table, fiscal_year=year, warnings=report.warnings, skipped=report.skipped))
    return report, measures


def _skip_order(s: rt.SkippedRow) -> tuple:
    """File order: by table, then row (paragraphs under a table after its rows)."""
    return (s.table or 0, s.row is None, s.row or 0)


def _year_from_periods(measures: list[ParsedMeasure]) -> Optional[int]:
    """The fiscal year that contains most of the periods that read without help."""
    years = Counter()
    for m in measures:
        p = period_parse(m.period_text, None) if m.period_text else None
        if p and p.ok:
            years[thai.fiscal_year_of(p.start)] += 1
    return years.most_common(1)[0][0] if years else None


def _finish(
    parts: list[tuple[rt.ReportText, list[ParsedMeasure]]], *, fiscal_year: Optional[int], all_lines
) -> ParsedPlan:
    if not parts:
        raise _no_table(all_lines)
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
        plan.skipped.extend(sorted(report.skipped, key=_skip_order))
    if not plan.measures:
        first = parts[0][0].tables[0]
        raise FileProblem(code="measures_file_no_rows",
                          where=_at(first.header_place, first.header_line, in_table=first.header_in_table))
    if plan.round not in (None, 6, 12):
        plan.warnings.append(t("measures_warn_round", round=plan.round))
        plan.round = None
    plan.fiscal_year = fiscal_year or plan.fiscal_year or _year_from_periods(plan.measures)
    _number_measures(plan.measures, plan.warnings)
    return plan


# ---------------------------------------------------------------- readers per format


def _text_lines(text: str) -> list[rt.Line]:
    return [rt.Line(row=i + 1, cells=cells) for i, cells in enumerate(rt.split_lines(text))]


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


# -- merged cells in sheets

Merge = tuple[tuple[int, int], tuple[int, int]]  # ((first row, first col), (last row, last col)), 0-based


def _workbook_merges(data: bytes) -> dict[str, list[Merge]]:
    """Merged ranges per sheet name. Readers give a merged range's text only in its top-left
    cell, so the ranges are read here to carry it. Best effort: {} when they cannot be read."""
    if data[:4] != b"PK\x03\x04" and data[:8] != b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return {}  # CSV and text have no merged cells
    out: dict[str, list[Merge]] = {}
    try:
        from python_calamine import CalamineWorkbook

        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        for name in wb.sheet_names:
            ranges = wb.get_sheet_by_name(name).merged_cell_ranges
            if ranges:
                out[name] = [((int(r0), int(c0)), (int(r1), int(c1))) for (r0, c0), (r1, c1) in ranges]
    except Exception:  # noqa: BLE001 - merges only refine the reading; the sheet reader reports real damage
        out = {}
    if not out and data[:4] == b"PK\x03\x04":
        out = _ods_merges(data)
    return out


_ODS_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"


def _ods_merges(data: bytes) -> dict[str, list[Merge]]:
    """Merged ranges of an OpenDocument spreadsheet (LibreOffice writes ``table:number-rows-spanned``
    / ``number-columns-spanned`` on the first cell and ``covered-table-cell`` for the rest);
    calamine does not report them for .ods. Streamed: only the spans are kept."""
    import xml.etree.ElementTree as ET
    import zipfile

    out: dict[str, list[Merge]] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if "content.xml" not in zf.namelist():
                return {}
            with zf.open("content.xml") as f:
                ranges: list[Merge] = []
                row = col = 0
                for event, el in ET.iterparse(f, events=("start", "end")):
                    tag = el.tag
                    if event == "start":
                        if tag == _ODS_TABLE + "table":
                            ranges = out.setdefault(el.get(_ODS_TABLE + "name") or "", [])
                            row = 0
                        elif tag == _ODS_TABLE + "table-row":
                            col = 0
                        elif tag in (_ODS_TABLE + "table-cell", _ODS_TABLE + "covered-table-cell"):
                            rows = int(el.get(_ODS_TABLE + "number-rows-spanned") or 1)
                            cols = int(el.get(_ODS_TABLE + "number-columns-spanned") or 1)
                            if tag.endswith("}table-cell") and (rows > 1 or cols > 1):
                                ranges.append(((row, col), (row + rows - 1, col + cols - 1)))
                            col += int(el.get(_ODS_TABLE + "number-columns-repeated") or 1)
                    else:
                        if tag == _ODS_TABLE + "table-row":
                            row += int(el.get(_ODS_TABLE + "number-rows-repeated") or 1)
                        el.clear()
    except Exception:  # noqa: BLE001 - best effort, as above
        return {}
    return {name: r for name, r in out.items() if r}


def _spans_all(span: int, width: int) -> bool:
    """A cell merged across (nearly) the whole table: a section or title row."""
    return width >= 2 and span >= max(2, -(-width * 3 // 5))


def _sheet_lines(sheet: tabular.Sheet, merges: list[Merge] = (), *, name: Optional[str] = None) -> list[rt.Line]:
    """Rows of a sheet as lines; a merged range's text is carried to every row it spans
    (``carried``), and a row that is one range merged across the table ``spans_all``."""
    texts = [[_cell_str(c) for c in row] for row in sheet.rows]
    width = max((len(r) for r in texts), default=0)
    carried: dict[int, set[int]] = {}
    spans: dict[int, int] = {}  # row -> the widest horizontal merge starting at its first filled cell
    for (r0, c0), (r1, c1) in merges:
        if r0 >= len(texts) or r0 < 0 or c0 < 0:
            continue
        value = texts[r0][c0] if c0 < len(texts[r0]) else ""
        if c1 > c0:
            filled = [i for i, v in enumerate(texts[r0]) if v.strip()]
            if filled == [c0]:
                spans[r0] = max(spans.get(r0, 0), c1 - c0 + 1)
        if not value.strip():
            continue
        for r in range(r0 + 1, min(r1, len(texts) - 1) + 1):
            row = texts[r]
            if len(row) <= c0:
                row.extend([""] * (c0 + 1 - len(row)))
            if row[c0].strip():  # a reader that repeats the value: nothing to carry
                continue
            row[c0] = value
            carried.setdefault(r, set()).update(range(c0, min(c1, width - 1) + 1))
    lines = []
    for i, cells in enumerate(texts):
        lines.append(rt.Line(row=i + 1, cells=cells or [""], kind=rt.ROW, sheet=name,
                             carried=frozenset(carried.get(i, ())), spans_all=_spans_all(spans.get(i, 0), width)))
    return lines


def _parse_sheets(data: bytes, *, fiscal_year: Optional[int]) -> ParsedPlan:
    sheets = tabular.read_sheets(data)
    merges = _workbook_merges(data)
    workbook = tabular.sniff_kind(data) != tabular.CSV
    parts, all_lines = [], []
    for sheet in sheets:
        lines = _sheet_lines(sheet, merges.get(sheet.name, []), name=sheet.name if workbook else None)
        all_lines.extend(lines)
        prefix = t("measures_sheet_prefix", sheet=sheet.name) if len(sheets) > 1 else ""
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

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


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


def _docx_children(element, tags: tuple[str, ...]):
    """Children with the given tags, also those wrapped in content controls (``w:sdt``, which
    government templates use for fill-in fields) or custom XML."""
    for child in element:
        tag = child.tag
        if tag in tags:
            yield child
        elif tag == _W + "sdt":
            content = child.find(_W + "sdtContent")
            if content is not None:
                yield from _docx_children(content, tags)
        elif tag in (_W + "customXml", _W + "smartTag"):
            yield from _docx_children(child, tags)


def _docx_cell_text(tc, document) -> str:
    """A cell's paragraphs, one per line, with Word's list numbers; a table nested in the cell
    gives one line per row."""
    from docx.text.paragraph import Paragraph

    counters: dict = {}
    parts = []
    for child in _docx_children(tc, (_W + "p", _W + "tbl")):
        if child.tag == _W + "tbl":
            for tr in _docx_children(child, (_W + "tr",)):
                row = [_docx_cell_text(inner, document) for inner in _docx_children(tr, (_W + "tc",))]
                line = " ".join(" ".join(x.split()) for x in row if x.strip())
                if line:
                    parts.append(line)
            continue
        p = Paragraph(child, document)
        text = p.text.strip()
        if text:
            prefix = _docx_list_prefix(p, counters)
            if prefix and rt.starts_item(text):
                prefix = ""
            parts.append(prefix + text)
    return "\n".join(parts)


def _w_int(element, tag: str, default: int) -> int:
    found = element.find(_W + tag) if element is not None else None
    try:
        return max(0, int(found.get(_W + "val"))) if found is not None else default
    except (TypeError, ValueError):
        return default


def _w_on(element, tag: str) -> bool:
    """An on/off property (``<w:tblHeader/>``, ``w:val="true"/"1"/"on"``) is present and on."""
    found = element.find(_W + tag) if element is not None else None
    return found is not None and (found.get(_W + "val") or "true").lower() not in ("0", "false", "off")


def _docx_table_lines(tbl, document, number: int) -> list[rt.Line]:
    """Rows of one Word table read from its XML, one cell per grid column.

    A cell spanning columns (``w:gridSpan``) gives its text to its first column; a vertical
    merge continues on each row below as a cell whose ``w:vMerge`` has no ``w:val="restart"``
    (Word writes ``<w:vMerge/>`` and an empty paragraph there): the text of the cell where the
    merge started is carried into it and the column is marked ``carried``. ``w:gridBefore``
    (rows that start further right) and the legacy ``w:hMerge`` are honoured too.
    """
    grid = tbl.find(_W + "tblGrid")
    width = len(grid.findall(_W + "gridCol")) if grid is not None else 0
    rows = []
    for tr in _docx_children(tbl, (_W + "tr",)):
        tr_pr = tr.find(_W + "trPr")
        cells = []
        for tc in _docx_children(tr, (_W + "tc",)):
            tc_pr = tc.find(_W + "tcPr")
            vmerge = tc_pr.find(_W + "vMerge") if tc_pr is not None else None
            hmerge = tc_pr.find(_W + "hMerge") if tc_pr is not None else None
            cells.append({
                "span": max(1, _w_int(tc_pr, "gridSpan", 1)),
                "continues": vmerge is not None and (vmerge.get(_W + "val") or "continue") != "restart",
                "h_continues": hmerge is not None and (hmerge.get(_W + "val") or "continue") != "restart",
                "tc": tc,
            })
        rows.append((tr_pr, cells))
        width = max(width, _w_int(tr_pr, "gridBefore", 0) + sum(c["span"] for c in cells))

    lines: list[rt.Line] = []
    above: list[str] = [""] * width
    for r, (tr_pr, cells) in enumerate(rows, start=1):
        texts = [""] * width
        carried: set[int] = set()
        col = _w_int(tr_pr, "gridBefore", 0)
        own_spans = []  # (span, has text) of the row's own cells
        for c in cells:
            span, end = c["span"], min(width, col + c["span"])
            if c["continues"]:
                for i in range(col, end):
                    texts[i] = above[i]
                    if above[i]:
                        carried.add(i)
            elif c["h_continues"] and col > 0:  # the legacy horizontal merge: part of the cell to its left
                if own_spans:
                    own_spans[-1] = (own_spans[-1][0] + span, own_spans[-1][1])
            elif col < width:
                text = _docx_cell_text(c["tc"], document)
                texts[col] = text
                own_spans.append((span, bool(text.strip())))
            col += span
        above = texts
        filled = [s for s, has in own_spans if has]
        spans_all = len(filled) == 1 and not carried and _spans_all(filled[0], width)
        cells_out = list(texts)
        while len(cells_out) > 1 and not cells_out[-1]:
            cells_out.pop()
        lines.append(rt.Line(row=r, cells=cells_out, kind=rt.ROW, table=number, carried=frozenset(carried),
                             spans_all=spans_all, header_mark=_w_on(tr_pr, "tblHeader"), width=width))
    return lines


def _docx_lines(data: bytes) -> list[rt.Line]:
    import docx  # python-docx
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several types for broken packages
        raise FileProblem(code="measures_file_docx_broken", error=type(exc).__name__) from exc
    lines: list[rt.Line] = []
    tables = paragraphs = 0
    try:  # parts are read lazily: a damaged body or member only shows here
        for child in _docx_children(document.element.body, (_W + "p", _W + "tbl")):
            if child.tag == _W + "p":
                paragraphs += 1
                lines.append(rt.Line(row=paragraphs, cells=[Paragraph(child, document).text], kind=rt.PARAGRAPH,
                                     table=tables or None))
            else:
                tables += 1
                lines.extend(_docx_table_lines(child, document, tables))
    except Exception as exc:
        raise FileProblem(code="measures_file_docx_unreadable", error=type(exc).__name__) from exc
    if not tables:
        raise FileProblem(code="measures_file_no_docx_table")
    return lines


# ---------------------------------------------------------------- entry point


def parse_measures_file(data: bytes, *, filename: str = "", fiscal_year: Optional[int] = None) -> ParsedPlan:
    """Read a measures plan/report of any supported format; raises FileProblem (Thai) when it
    cannot be read or holds no measure table. ``filename`` is only used in messages: the
    format is decided from the content."""
    from .guard import check_upload

    check_upload(data)
    kind = tabular.sniff_kind(data)
    if kind == tabular.DOC:
        raise FileProblem(code="measures_file_doc")
    if kind == tabular.DOCX:
        lines = _docx_lines(data)
        part = _plan_from_lines(lines, fiscal_year=fiscal_year)
        return _finish([part] if part else [], fiscal_year=fiscal_year, all_lines=lines)
    if kind == tabular.CSV:
        text = tabular.decode_text(data)
        if not text.strip():
            raise FileProblem(code="tabular_empty")
        if _is_report_text(text):
            lines = _text_lines(text)
            part = _plan_from_lines(lines, fiscal_year=fiscal_year)
            return _finish([part] if part else [], fiscal_year=fiscal_year, all_lines=lines)
    return _parse_sheets(data, fiscal_year=fiscal_year)


__all__ = [
    "FileProblem", "ParsedActivity", "ParsedMeasure", "ParsedPlan", "header_roles", "holds_data", "looks_like_header",
    "names_units", "parse_measures_file", "reads_as_period", "role_of",
]
