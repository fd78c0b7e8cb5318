"""Read any uploaded spreadsheet into plain grids of cells.

The type is decided from the content, never from the file name: an xlsx is a zip holding
``xl/``; an ods (LibreOffice, OpenDocument) a zip whose ``mimetype`` member says
``application/vnd.oasis.opendocument.spreadsheet``; an old .xls an OLE2 file; anything else must
decode as text (UTF-8 with or without
BOM, UTF-16 with BOM, or cp874/TIS-620 as Thai Excel saves CSV) and is read as CSV with a
sniffed delimiter. Cells keep their native types from xlsx/ods/xls (datetime, float, ...) and
are strings from CSV. Before any reader runs, :func:`ita_dashboard.importers.guard.check_upload`
refuses decompression bombs and sheets whose extent would exhaust memory. Every failure is a :class:`FileProblem` (importers/problems.py, importable from here too) whose message is plain Thai.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from .guard import check_upload, ole_has_stream
from .problems import FileProblem

Cell = Any
Row = list[Cell]

XLSX = "xlsx"
XLS = "xls"
ODS = "ods"
ODT = "odt"
CSV = "csv"
DOCX = "docx"
DOC = "doc"


@dataclass
class Sheet:
    name: str
    rows: list[Row] = field(default_factory=list)


def sniff_kind(data: bytes) -> str:
    """xlsx / ods / xls / docx / doc / csv from the first bytes and, for zips, the member names."""
    if not data:
        raise FileProblem(code="tabular_empty")
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = zf.namelist()
                mimetype = b""
                if "mimetype" in names and zf.getinfo("mimetype").file_size < 200:
                    mimetype = zf.read("mimetype").strip()
        except Exception as exc:  # BadZipFile, and odd headers raise ValueError/NotImplementedError/...
            raise FileProblem(code="guard_zip_broken") from exc
        if any(n.startswith("xl/") for n in names):
            return XLSX
        if any(n.startswith("word/") for n in names):
            return DOCX
        if "content.xml" in names and mimetype.startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
            return ODS
        if "content.xml" in names and mimetype.startswith(b"application/vnd.oasis.opendocument.text"):
            return ODT
        raise FileProblem(code="tabular_unknown_zip")
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return DOC if ole_has_stream(data, "WordDocument") else XLS
    if data[:5] == b"%PDF-":
        raise FileProblem(code="tabular_pdf")
    head = data[:4096]
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileProblem(code="tabular_binary")
    return CSV


def decode_text(data: bytes) -> str:
    """UTF-8 (BOM or not), UTF-16 with BOM, else cp874 (Thai Windows / TIS-620)."""
    try:
        if data.startswith(b"\xef\xbb\xbf"):
            return data[3:].decode("utf-8", errors="strict")
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return data.decode("utf-16")
    except UnicodeDecodeError as exc:  # a BOM promises an encoding the bytes then break
        raise FileProblem(code="tabular_bad_bom", offset=exc.start) from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp874")
    except UnicodeDecodeError as exc:
        raise FileProblem(code="tabular_bad_encoding", offset=exc.start) from exc


def read_csv_text(text: str) -> list[Row]:
    sample = text[:20000]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return [row for row in reader]
    except csv.Error as exc:
        raise FileProblem(code="tabular_bad_csv", line=reader.line_num, detail=str(exc)) from exc


def read_workbook(data: bytes) -> list[Sheet]:
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = []
        for name in wb.sheet_names:
            rows = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
            sheets.append(Sheet(name=name, rows=[list(r) for r in rows]))
        return sheets
    except FileProblem:
        raise
    except Exception as exc:  # calamine raises its own error types for broken workbooks
        raise FileProblem(code="tabular_workbook_broken", error=type(exc).__name__) from exc


WORKBOOKS = (XLSX, XLS, ODS)


def not_a_spreadsheet(kind: str) -> FileProblem:
    """The refusal for a document that is not a table (Word, ODF text)."""
    if kind == ODT:
        return FileProblem(code="tabular_odt")
    return FileProblem(code="tabular_word")


def read_sheets(data: bytes) -> list[Sheet]:
    """All sheets of an xlsx/ods/xls, or the one sheet of a CSV. Raises FileProblem."""
    check_upload(data)
    kind = sniff_kind(data)
    if kind in WORKBOOKS:
        sheets = read_workbook(data)
    elif kind == CSV:
        sheets = [Sheet(name="CSV", rows=read_csv_text(decode_text(data)))]
    else:
        raise not_a_spreadsheet(kind)
    sheets = [Sheet(s.name, trim_rows(s.rows)) for s in sheets]
    if not any(s.rows for s in sheets):
        raise FileProblem(code="tabular_no_data")
    return sheets


def is_blank(cell: Cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def trim_rows(rows: list[Row]) -> list[Row]:
    """Drop trailing empty cells of each row and trailing empty rows (keeps row numbering)."""
    out: list[Row] = []
    for r in rows:
        end = len(r)
        while end and is_blank(r[end - 1]):
            end -= 1
        out.append(list(r[:end]))
    while out and not out[-1]:
        out.pop()
    return out


def find_header_row(
    rows: list[Row], score: Callable[[Row], float], *, max_scan: int = 30, min_score: float = 1.0
) -> Optional[int]:
    """Index of the best-scoring row among the first ``max_scan`` (title rows sit above headers)."""
    best, best_i = min_score - 1e-9, None
    for i, row in enumerate(rows[:max_scan]):
        s = score(row)
        if s > best:
            best, best_i = s, i
    return best_i


def cell_text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()
