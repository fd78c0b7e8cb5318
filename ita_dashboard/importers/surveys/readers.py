"""Reading an uploaded file into tables (sheets of a workbook, or one CSV table), read lazily."""

from __future__ import annotations

import csv
import io
import itertools
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Sequence

from .. import tabular
from ..tabular import FileProblem

HEAD_ROWS = 80  # rows read per sheet to find the header and judge the columns' content


@dataclass
class _Table:
    """One sheet: its first rows for judging, and a way to get every row (read lazily)."""

    name: str
    head: list[list[Any]]
    all_rows: Callable[[], Iterator[list[Any]]]
    column_offset: int = 0  # calamine drops empty leading columns; for column letters


def _intern_rows(rows: Iterable[Sequence[Any]]) -> Iterator[list[Any]]:
    """Yield rows whose equal strings are one object: 100,000 "มาก" cost one string, not 100,000.

    Equal-comparing cells of other types are shared too (1 == 1.0 == True): harmless here, as
    every cell is turned into text and a survey column does not mix booleans with numbers.
    """
    pool: dict[Any, Any] = {}
    setdefault = pool.setdefault
    for r in rows:
        # Every cell type calamine/csv give is hashable; map() keeps the loop in C.
        yield list(map(setdefault, r, r))


def _xlsx_tables(data: bytes) -> list[_Table]:
    """Every sheet of an xlsx, ods or xls (calamine reads all three)."""
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        tables = []
        for name in wb.sheet_names:
            sheet = wb.get_sheet_by_name(name)
            head = [list(r) for r in itertools.islice(sheet.iter_rows(), HEAD_ROWS)]
            offset = sheet.start[1] if sheet.start else 0
            tables.append(_Table(name, head, _sheet_rows(sheet), offset))
        return tables
    except FileProblem:
        raise
    except Exception as exc:  # calamine raises its own error types for broken workbooks
        raise FileProblem(code="tabular_workbook_broken", error=type(exc).__name__) from exc


def _sheet_rows(sheet: Any) -> Callable[[], Iterator[list[Any]]]:
    def rows() -> Iterator[list[Any]]:
        try:
            yield from sheet.iter_rows()
        except Exception as exc:
            raise FileProblem(code="survey_sheet_broken", sheet=sheet.name, error=type(exc).__name__) from exc

    return rows


def _csv_tables(data: bytes) -> list[_Table]:
    try:
        text = tabular.decode_text(data)
    except UnicodeError as exc:  # e.g. a UTF-16 BOM followed by an odd number of bytes
        raise FileProblem(code="survey_bad_encoding") from exc
    if "\x00" in text:
        raise FileProblem(code="survey_control_chars")
    rows = _read_csv(text)
    del text
    return [_Table("CSV", rows[:HEAD_ROWS], lambda: iter(rows))]


def _read_csv(text: str) -> list[list[Any]]:
    """Rows of a CSV text, strings de-duplicated as they are read (as tabular.read_csv_text
    decides the delimiter, but without holding a second, un-shared copy of every cell)."""
    sample = text[:20000]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return list(_intern_rows(reader))
    except csv.Error as exc:
        raise FileProblem(code="tabular_bad_csv", line=reader.line_num, detail=str(exc)) from exc


def read_tables(data: bytes) -> list[_Table]:
    """The file's sheets (xlsx, ods, xls) or its one CSV/text table, after the upload guard."""
    from ..guard import check_upload

    check_upload(data)
    kind = tabular.sniff_kind(data)
    if kind in tabular.WORKBOOKS:
        tables = _xlsx_tables(data)
    elif kind == tabular.CSV:
        tables = _csv_tables(data)
    elif kind == tabular.ODT:
        raise tabular.not_a_spreadsheet(kind)
    else:
        raise FileProblem(code="survey_word_file")
    if not any(any(not tabular.is_blank(c) for c in r) for t in tables for r in t.head):
        raise FileProblem(code="tabular_no_data")
    return tables
