"""Reading a filled status workbook back: the header found by its content on every sheet, one
StatusRow per filled row, one rejected entry per problem (sheet, Excel row, column, Thai reason)."""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar, Optional

from ... import thai
from ...importers.tabular import FileProblem, cell_text, find_header_row, is_blank, read_sheets
from ...models import Status
from ...texts import t
from .columns import (AS_OF_LABEL, COL_DATE, COL_KEY, COL_LINK, COL_NOTE, COL_PERCENT, COL_STATUS, FILL_COLUMNS,
                      HEADERS, STATUS_LABELS, _STATUS_WORDS, _key)


class NoStatusTable(FileProblem):
    """A file without a status table on any sheet (the :class:`FileProblem` the sheet's reader raises)."""

    codes: ClassVar[tuple[str, ...]] = (
        "status_sheet_no_table",
    )


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


def parse_percent(value: Any, *, percent_format: bool = False) -> Optional[int]:
    """50, 50.0, "50%", "๕๐", "ร้อยละ 50"; a fraction below 1 (a cell Excel formatted as %) × 100,
    and any number of a cell shown as a percentage (``percent_format``: "100%" typed is stored as 1).
    Raises ValueError (Thai) when not a number in 0-100."""
    if isinstance(value, bool):
        raise ValueError(t("sheet_reject_percent_kind"))
    if isinstance(value, (int, float)):
        number = float(value)
        if percent_format or 0 < number < 1:
            number *= 100
    else:
        text = thai.to_arabic_digits(cell_text(value)).replace(" ", "")
        m = _PERCENT_RE.match(text)
        if not m:
            raise ValueError(t("sheet_reject_percent_not_number", value=cell_text(value)))
        number = float(m.group(1).replace(",", "."))
    if not 0 <= number <= 100:
        raise ValueError(t("sheet_reject_percent_range", value=number))
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


_ODS_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_ODS_VALUE_TYPE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}value-type"
_FORMAT_LITERALS = re.compile(r'"[^"]*"|\\.')  # "text" and \x in a number format show as written


def _scales_by_100(number_format: Any) -> bool:
    """Whether an Excel number format shows its value times 100: a ``%`` that is not written
    literally (``0"%"`` and ``0\\%`` show 50 as "50%" without scaling it)."""
    return isinstance(number_format, str) and "%" in _FORMAT_LITERALS.sub("", number_format)


def _percent_cells(data: bytes) -> dict[str, set[tuple[int, int]]]:
    """(row, column), 0-based, of the number cells shown as a percentage, per sheet name (xlsx:
    a number format with "%"; ods: ``office:value-type="percentage"``). The sheet readers give
    the stored number only, and "100%" typed in Excel or LibreOffice is stored as 1. Best effort:
    {} for other files or when the formats cannot be read."""
    if data[:4] != b"PK\x03\x04":
        return {}
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
            if any(n.startswith("xl/") for n in names):
                return _xlsx_percent_cells(data)
            if "content.xml" in names:
                with zf.open("content.xml") as f:
                    return _ods_percent_cells(f)
    except Exception:  # noqa: BLE001 - formats only refine the reading; the sheet reader reports real damage
        return {}
    return {}


def _xlsx_percent_cells(data: bytes) -> dict[str, set[tuple[int, int]]]:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)  # a formula's stored value
    try:
        return {ws.title: {(c.row - 1, c.column - 1) for row in ws.iter_rows() for c in row
                           if isinstance(c.value, (int, float)) and _scales_by_100(getattr(c, "number_format", None))}
                for ws in wb.worksheets}
    finally:
        wb.close()


def _ods_percent_cells(content: Any) -> dict[str, set[tuple[int, int]]]:
    """From an ods ``content.xml``: repeated columns and rows (``number-*-repeated``) counted, as
    calamine lays them out."""
    import xml.etree.ElementTree as ET

    out: dict[str, set[tuple[int, int]]] = {}
    cells: set[tuple[int, int]] = set()
    row = col = 0
    in_row: list[int] = []  # the percentage columns of the row being read
    cell_tags = (_ODS_TABLE + "table-cell", _ODS_TABLE + "covered-table-cell")
    for event, el in ET.iterparse(content, events=("start", "end")):
        tag = el.tag
        if event == "end":
            if tag == _ODS_TABLE + "table-row":
                repeat = int(el.get(_ODS_TABLE + "number-rows-repeated") or 1)
                # identical rows written once: each copy has the same percentage cells
                cells.update((row + k, c) for k in range(min(repeat, 2000)) for c in in_row)
                row += repeat
            el.clear()
        elif tag == _ODS_TABLE + "table":
            cells = out.setdefault(el.get(_ODS_TABLE + "name") or "", set())
            row = 0
        elif tag == _ODS_TABLE + "table-row":
            col, in_row = 0, []
        elif tag in cell_tags:
            repeat = int(el.get(_ODS_TABLE + "number-columns-repeated") or 1)
            if el.get(_ODS_VALUE_TYPE) == "percentage":
                in_row.extend(col + k for k in range(min(repeat, 2000)))
            col += repeat
    return out


def parse_status_workbook(data: bytes) -> StatusSheet:
    """Every filled row of every sheet holding a status table. Raises FileProblem (Thai) when no
    sheet has one."""
    result = StatusSheet()
    percent_cells: Optional[dict[str, set[tuple[int, int]]]] = None  # read once, when a number needs it
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
        pc = columns.get(COL_PERCENT)
        percents: set[int] = set()
        if pc is not None and any(pc < len(r) and isinstance(r[pc], (int, float)) and not isinstance(r[pc], bool)
                                  for r in rows[h + 1:]):
            if percent_cells is None:
                percent_cells = _percent_cells(data)
            percents = {r for r, c in percent_cells.get(sheet.name, ()) if c == pc}
        for idx in range(h + 1, len(rows)):
            _parse_row(result, sheet.name, idx + 1, rows[idx], columns, sheet_date=sheet_date,
                       sheet_date_text=cell_text(raw_date) if found else None, percent_format=idx in percents)
    if not result.sheets:
        raise NoStatusTable(code="status_sheet_no_table", key_column=COL_KEY, status_column=COL_STATUS)
    return result


def _parse_row(result: StatusSheet, sheet: str, row_no: int, row: list, columns: dict[str, int], *,
               sheet_date: Optional[dt.date], sheet_date_text: Optional[str], percent_format: bool = False) -> None:
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
        reject(COL_KEY, t("sheet_reject_no_key"))
    elif re.fullmatch(r"\d+", key_text) and int(key_text) > 0:
        measure_id = int(key_text)
    else:
        reject(COL_KEY, t("sheet_reject_bad_key", value=cell_text(key)))

    status: Optional[Status] = None
    if not is_blank(get(COL_STATUS)):
        status = parse_status(get(COL_STATUS))
        if status is None:
            reject(COL_STATUS, t("sheet_reject_bad_status", value=cell_text(get(COL_STATUS)),
                                 choices=" / ".join(STATUS_LABELS.values())))
    percent: Optional[int] = None
    if not is_blank(get(COL_PERCENT)):
        try:
            percent = parse_percent(get(COL_PERCENT), percent_format=percent_format)
        except ValueError as exc:
            reject(COL_PERCENT, str(exc))
    link: Optional[str] = None
    if not is_blank(get(COL_LINK)):
        link = cell_text(get(COL_LINK))
        if not re.match(r"^https?://\S+$", link, flags=re.IGNORECASE):
            reject(COL_LINK, t("sheet_reject_bad_link", value=link[:80]))
    note = cell_text(get(COL_NOTE)) if not is_blank(get(COL_NOTE)) else ""

    as_of: Optional[dt.date] = None
    if not is_blank(get(COL_DATE)):
        as_of = parse_date_cell(get(COL_DATE))
        if as_of is None:
            reject(COL_DATE, t("sheet_reject_bad_date", value=cell_text(get(COL_DATE))))
    elif sheet_date is not None:
        as_of = sheet_date
    elif sheet_date_text:
        reject(AS_OF_LABEL, t("sheet_reject_bad_sheet_date", label=AS_OF_LABEL, value=sheet_date_text))
    else:
        reject(AS_OF_LABEL, t("sheet_reject_no_date", label=AS_OF_LABEL))

    if problems:
        for column, reason in problems:
            result.rejected.append({"sheet": sheet, "row": row_no, "column": column, "reason": reason})
        return
    assert measure_id is not None and as_of is not None
    result.rows.append(StatusRow(sheet=sheet, row=row_no, measure_id=measure_id, status=status, percent=percent,
                                 note=note, evidence_url=link, as_of=as_of))
