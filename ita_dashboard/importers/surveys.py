"""Survey response exports (IIT/EIT) into plain rows: who answered when, for which department.

Accepted shapes, all decided from the content and never from the file name:

- Google Forms CSV/xlsx in the English or Thai locale (``Timestamp`` / ``ประทับเวลา``); English
  exports write timestamps month-first ("1/14/2025 18:29:56"), Thai ones day-first with a
  Buddhist-era year ("14/1/2568, 18:29:56"); grid questions arrive as ``Question [Row]``;
- Microsoft Forms xlsx (``ID``, ``Start time``, ``Completion time``, ``Email``, ``Name``, ...,
  possibly translated to Thai); the completion time is the submitted time;
- CSV saved by Thai Excel (cp874) or UTF-8 with or without BOM; workbooks with title rows above
  the header or several sheets; any other sheet with a date column and a department column.

The timestamp, department and answer columns are recognised by header words *and* content: an
EIT question such as "เจ้าหน้าที่ของหน่วยงานที่ท่านติดต่อ ..." contains "หน่วยงาน" but its answers
are scale labels, not unit names. The admin can correct the roles: :attr:`ParsedSurvey.mapping_used`
passed back as ``mapping=`` forces them, and is remembered per :attr:`ParsedSurvey.signature`.

Every problem with the file as a whole is a :class:`~ita_dashboard.importers.tabular.FileProblem`
with a plain-Thai message; problems with single rows are listed in :attr:`ParsedSurvey.rejected`.

Speed matters (a province office may upload 100,000 rows): xlsx is read once through calamine,
cell strings are de-duplicated while reading (answers repeat a handful of labels), and columns
are normalised by their distinct values rather than cell by cell.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import itertools
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Optional, Sequence
from zoneinfo import ZoneInfo

from . import tabular
from .tabular import FileProblem

BANGKOK = ZoneInfo("Asia/Bangkok")
NO_DEPARTMENT = "(ไม่ระบุ)"  # how an empty department is shown

HEAD_ROWS = 80  # rows read per sheet to find the header and judge the columns' content
MAX_HEADER_SCAN = 30  # title rows may sit above the header, but not more than this

# ---------------------------------------------------------------------------------------------
# Result types


@dataclass(slots=True)
class ParsedRow:
    row_number: int  # 1-based, as the spreadsheet program shows it
    submitted_at: dt.datetime  # aware, Asia/Bangkok, to the second
    department_text: str  # as written ("" when empty)
    answers: dict[str, str]  # question header -> answer text, non-empty answers in column order
    ids: dict[str, str] = field(default_factory=dict)  # MS Forms ID / email / name, when present


@dataclass
class ParsedSurvey:
    timestamp_column: str
    department_column: Optional[str]
    answer_columns: list[str]
    id_columns: list[str]
    header_row: int  # 1-based
    sheet_name: str
    rows: list[ParsedRow]
    rejected: list[dict[str, Any]]  # {"row": n, "column": header, "reason": Thai text}
    signature: str  # stable hash of the normalised header list
    mapping_used: dict[str, Any]  # column roles; pass back as ``mapping=`` to force them
    source_format: str = "generic"  # google_forms / microsoft_forms / generic
    warnings: list[str] = field(default_factory=list)  # Thai, for the preview

    @property
    def read_count(self) -> int:
        """Rows with any content below the header: accepted plus rejected."""
        return len(self.rows) + len(self.rejected)


# ---------------------------------------------------------------------------------------------
# Text helpers

_WS_RE = re.compile(r"[\s\u200b\u00a0\ufeff]+")
_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")


def clean_text(cell: Any) -> str:
    """A cell as trimmed text with single spaces (NFC); integral floats lose their ``.0``."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, float):
        if cell != cell:  # NaN
            return ""
        if cell.is_integer():
            return str(int(cell))
        return repr(cell)
    if isinstance(cell, dt.datetime):
        return cell.isoformat(sep=" ")
    if isinstance(cell, (dt.date, dt.time)):
        return cell.isoformat()
    s = str(cell).replace("\x00", "")  # an xlsx may encode NUL (_x0000_); PostgreSQL text cannot hold it
    if not s.isascii():
        s = unicodedata.normalize("NFC", s)
    return _WS_RE.sub(" ", s).strip()


def _key(text: str) -> str:
    """Comparison form of a header: lower case, no spaces, Arabic digits."""
    return _WS_RE.sub("", text.translate(_THAI_DIGITS)).lower()


def header_signature(headers: Sequence[str]) -> str:
    """Stable hash of the normalised header list: the same form exported again gives the same value."""
    joined = "\x1f".join(_key(unicodedata.normalize("NFC", h)) for h in headers)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


# ---------------------------------------------------------------------------------------------
# Timestamps

_DATE_RE = re.compile(
    r"""^(?P<a>\d{1,4})\s*[/\-.]\s*(?P<b>\d{1,2})\s*[/\-.]\s*(?P<c>\d{1,4})
        (?:\s*,?\s*(?:T|\s)\s*(?P<H>\d{1,2})[:.](?P<M>\d{2})(?:[:.](?P<S>\d{2})(?:\.(?P<f>\d{1,6})\d*)?)?
           \s*(?P<ampm>[AaPp]\.?\s?[Mm]\.?|น\.)?
           \s*(?P<tz>Z|[+\-]\d{2}:?\d{2})?)?$""",
    re.X,
)
_THAI_MONTHS = {
    "มกราคม": 1, "มค": 1, "กุมภาพันธ์": 2, "กพ": 2, "มีนาคม": 3, "มีค": 3, "เมษายน": 4, "เมย": 4,
    "พฤษภาคม": 5, "พค": 5, "มิถุนายน": 6, "มิย": 6, "กรกฎาคม": 7, "กค": 7, "สิงหาคม": 8, "สค": 8,
    "กันยายน": 9, "กย": 9, "ตุลาคม": 10, "ตค": 10, "พฤศจิกายน": 11, "พย": 11, "ธันวาคม": 12, "ธค": 12,
}
_THAI_DATE_RE = re.compile(
    r"^(?P<d>\d{1,2})\s*(?P<mon>[ก-๙.]+?)\s*(?P<y>\d{2,4})"
    r"(?:\s*,?\s*(?:เวลา)?\s*(?P<H>\d{1,2})[:.](?P<M>\d{2})(?:[:.](?P<S>\d{2}))?\s*(?:น\.)?)?$"
)
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)


@dataclass(frozen=True, slots=True)
class _DateParts:
    """A date string split up; ``a``/``b`` are day and month in an order decided per column."""

    a: int
    b: int
    year: int
    year_first: bool
    hour: int = 0
    minute: int = 0
    second: int = 0
    micro: int = 0
    ampm: str = ""
    tz: str = ""
    buddhist_era: bool = False  # the year was written in BE (Thai locale)


def _full_year(y: int) -> tuple[int, bool]:
    """(CE year, written in BE). Two-digit years: 00-59 are CE 20xx, 60-99 are BE 25xx ("68" = 2568)."""
    if y < 100:
        y = 2000 + y if y < 60 else 2500 + y
    if y > 2400:
        return y - 543, True
    return y, False


def split_date_text(text: str) -> Optional[_DateParts]:
    """Split "14/1/2568, 18:29:56", "1/14/2025 6:29:56 PM", "2025-01-14T18:29:56", "14 ม.ค. 2568"."""
    s = text.strip().translate(_THAI_DIGITS)
    m = _DATE_RE.match(s)
    if m:
        a, b, c = m.group("a"), m.group("b"), m.group("c")
        year_first = len(a) == 4
        if year_first:
            a, c = c, a  # stored as (day, month, year)
        elif len(c) not in (2, 4):
            return None
        frac = m.group("f") or ""
        year, be = _full_year(int(c))
        return _DateParts(
            a=int(a), b=int(b), year=year, year_first=year_first, buddhist_era=be,
            hour=int(m.group("H") or 0), minute=int(m.group("M") or 0), second=int(m.group("S") or 0),
            micro=int(frac.ljust(6, "0")) if frac else 0,
            ampm=(m.group("ampm") or "").replace(".", "").replace(" ", "").lower(), tz=m.group("tz") or "",
        )
    m = _THAI_DATE_RE.match(s)
    if m:
        month = _THAI_MONTHS.get(m.group("mon").replace(".", ""))
        if month is None:
            return None
        year, be = _full_year(int(m.group("y")))
        return _DateParts(
            a=int(m.group("d")), b=month, year=year, year_first=True, buddhist_era=be,
            hour=int(m.group("H") or 0), minute=int(m.group("M") or 0), second=int(m.group("S") or 0),
        )
    return None


def decide_day_first(parts: Iterable[_DateParts], *, default: bool) -> bool:
    """Day-first or month-first for a whole column: a value above 12 in a position decides.

    When both positions have values above 12 (a column mixing two locales) the majority wins and
    the other values fail to read; when none does, ``default`` (the locale's habit) applies.
    """
    first_big = second_big = 0
    for p in parts:
        if p.year_first:
            continue
        if p.a > 12:
            first_big += 1
        if p.b > 12:
            second_big += 1
    if first_big or second_big:
        return first_big >= second_big
    return default


def _round_second(value: dt.datetime) -> dt.datetime:
    """To the second, rounding: xlsx times are floats and come back as 18:29:55.999."""
    if value.microsecond >= 500_000:
        value += dt.timedelta(seconds=1)
    return value.replace(microsecond=0)


def _to_local(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        return _round_second(value).replace(tzinfo=BANGKOK)
    return _round_second(value.astimezone(BANGKOK))


def _parts_to_datetime(p: _DateParts, *, day_first: bool) -> Optional[dt.datetime]:
    day, month = (p.a, p.b) if (p.year_first or day_first) else (p.b, p.a)
    hour = p.hour
    if p.ampm in ("am", "pm"):
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if p.ampm == "pm" else 0)
    try:
        value = dt.datetime(p.year, month, day, hour, p.minute, p.second, p.micro)
    except ValueError:
        return None
    if p.tz:
        tz = p.tz.replace(":", "")
        if tz == "Z":
            value = value.replace(tzinfo=dt.timezone.utc)
        else:
            sign = 1 if tz[0] == "+" else -1
            offset = dt.timedelta(hours=int(tz[1:3]), minutes=int(tz[3:5]))
            value = value.replace(tzinfo=dt.timezone(sign * offset))
    return _to_local(value)


def _excel_serial(value: float) -> Optional[dt.datetime]:
    """Excel's day number (a date cell saved without its format); plausible survey years only."""
    if not 20000 < value < 80000:
        return None
    return _to_local(_EXCEL_EPOCH + dt.timedelta(days=value))


def is_datelike(cell: Any) -> bool:
    """Content test for a timestamp column (numbers do not count: they are usually answers)."""
    if isinstance(cell, (dt.datetime, dt.date)) and not isinstance(cell, dt.time):
        return True
    return isinstance(cell, str) and bool(cell.strip()) and split_date_text(cell) is not None


class TimestampReader:
    """Reads one column's cells into aware Bangkok datetimes, with the column's day/month order.

    The order is decided from all the column's values (see :func:`decide_day_first`). When no
    value decides, the locale's habit applies: Google Forms in English ("Timestamp" with CE years)
    writes month-first; Thai locale (BE years) and everything else day-first.
    """

    def __init__(self, cells: Iterable[Any], *, english_header: bool = False):
        self._parts: dict[str, Optional[_DateParts]] = {}
        for c in cells:
            if isinstance(c, str) and c not in self._parts:
                self._parts[c] = split_date_text(c)
        found = [p for p in self._parts.values() if p is not None]
        english = english_header and not any(p.buddhist_era for p in found)
        self.day_first = decide_day_first(found, default=not english)

    def read(self, cell: Any) -> Optional[dt.datetime]:
        if isinstance(cell, dt.datetime):
            return _to_local(cell)
        if isinstance(cell, dt.date):
            return dt.datetime(cell.year, cell.month, cell.day, tzinfo=BANGKOK)
        if isinstance(cell, float) and not isinstance(cell, bool):
            return _excel_serial(cell)
        if isinstance(cell, int) and not isinstance(cell, bool):
            return _excel_serial(float(cell))
        if isinstance(cell, str):
            p = self._parts.get(cell)
            if p is None and cell not in self._parts:
                p = self._parts.setdefault(cell, split_date_text(cell))
            return _parts_to_datetime(p, day_first=self.day_first) if p else None
        return None


# ---------------------------------------------------------------------------------------------
# Reading the file into tables


@dataclass
class _Table:
    """One sheet: its first rows for judging, and a way to get every row (read lazily)."""

    name: str
    head: list[list[Any]]
    all_rows: Callable[[], Iterator[list[Any]]]
    column_offset: int = 0  # calamine drops empty leading columns; for column letters
    interned: bool = False  # all_rows() already shares equal strings


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
        raise FileProblem(f"เปิดไฟล์ Excel/ODS ไม่ได้ ไฟล์อาจเสียหาย ({type(exc).__name__})") from exc


def _sheet_rows(sheet: Any) -> Callable[[], Iterator[list[Any]]]:
    def rows() -> Iterator[list[Any]]:
        try:
            yield from sheet.iter_rows()
        except Exception as exc:
            raise FileProblem(f"อ่านแผ่นงาน “{sheet.name}” ไม่ได้ ไฟล์อาจเสียหาย ({type(exc).__name__})") from exc

    return rows


def _csv_tables(data: bytes) -> list[_Table]:
    try:
        text = tabular.decode_text(data)
    except UnicodeError as exc:  # e.g. a UTF-16 BOM followed by an odd number of bytes
        raise FileProblem("อ่านตัวอักษรในไฟล์ไม่ได้ (ไม่ใช่ UTF-8 หรือ TIS-620)") from exc
    if "\x00" in text:
        raise FileProblem("ไฟล์นี้ไม่ใช่สเปรดชีต (มีอักขระควบคุมที่ไม่ควรมีในไฟล์ CSV)")
    rows = _read_csv(text)
    del text
    return [_Table("CSV", rows[:HEAD_ROWS], lambda: iter(rows), interned=True)]


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
        raise FileProblem(f"รูปแบบ CSV ไม่ถูกต้องที่บรรทัด {reader.line_num}: {exc}") from exc


def read_tables(data: bytes) -> list[_Table]:
    """The file's sheets (xlsx, ods, xls) or its one CSV/text table, after the upload guard."""
    from .guard import check_upload

    check_upload(data)
    kind = tabular.sniff_kind(data)
    if kind in tabular.WORKBOOKS:
        tables = _xlsx_tables(data)
    elif kind == tabular.CSV:
        tables = _csv_tables(data)
    elif kind == tabular.ODT:
        raise tabular.not_a_spreadsheet(kind)
    else:
        raise FileProblem("ไฟล์ Word ไม่ใช่สเปรดชีตคำตอบแบบสำรวจ กรุณาส่งออกคำตอบเป็น Excel หรือ CSV")
    if not any(any(not tabular.is_blank(c) for c in r) for t in tables for r in t.head):
        raise FileProblem("ไฟล์ไม่มีข้อมูลในตาราง")
    return tables


# ---------------------------------------------------------------------------------------------
# Recognising columns

# Exact header names (compared by _key) of the form tools' own columns.
_COMPLETION_HEADERS = {"completiontime", "เวลาที่เสร็จสมบูรณ์", "เวลาเสร็จสมบูรณ์", "เวลาที่เสร็จสิ้น", "เวลาเสร็จสิ้น"}
_TIMESTAMP_HEADERS = {
    "timestamp", "ประทับเวลา", "การประทับเวลา", "เวลาประทับ", "submittedat", "submissiontime",
    "submitted", "วันที่และเวลา", "วันเวลา", "วัน/เวลา", "วันที่/เวลา", "วันที่ตอบ", "วันที่ตอบแบบสำรวจ",
    "เวลาที่ส่ง", "วันที่ส่ง",
}
_ID_HEADERS = {
    "id", "รหัส", "responseid", "รหัสการตอบกลับ", "email", "อีเมล", "e-mail", "emailaddress",
    "ที่อยู่อีเมล", "name", "ชื่อ", "ชื่อ-สกุล", "ชื่อ-นามสกุล", "ชื่อสกุล", "fullname",
}
_META_HEADERS = {
    "starttime", "เวลาเริ่มต้น", "เวลาที่เริ่มต้น", "เวลาเริ่ม", "lastmodifiedtime", "เวลาที่ปรับเปลี่ยนล่าสุด",
    "เวลาที่แก้ไขล่าสุด", "เวลาแก้ไขล่าสุด", "แก้ไขล่าสุด", "score", "คะแนน", "คะแนนรวม", "totalpoints",
    "ลำดับ", "ลำดับที่", "no", "no.", "#", "ที่",
}
_DATE_HEADER_WORDS = ("วันที่", "เวลา", "date", "time")
_DEPARTMENT_HEADER_WORDS = ("ส่วนราชการ", "สังกัด", "กอง", "สำนัก", "หน่วยงาน", "ฝ่าย", "แผนก", "department", "division")
_UNIT_WORDS = re.compile(r"กอง|สำนัก|ส่วน|ฝ่าย|งาน|กลุ่ม|ศูนย์|หน่วย|โรงเรียน|department|division|office|section", re.I)
# Answer labels of rating and yes/no questions: a column full of these is not a department.
_SCALE_WORDS = re.compile(
    r"^(มากที่สุด|มาก|ปานกลาง|น้อย|น้อยที่สุด(หรือไม่มีเลย)?|มี|ไม่มี|ใช่|ไม่ใช่|เห็นด้วย.*|ไม่เห็นด้วย.*|"
    r"ดีมาก|ดี|พอใช้|ควรปรับปรุง|yes|no|\d+(\.\d+)?)$",
    re.I,
)
_NUMBERED_QUESTION = re.compile(r"^\s*\d+(\.\d+)*\s*[.)]")
_RESPONSE_SHEET = re.compile(r"response|การตอบกลับ|คำตอบ|ผลการตอบ", re.I)


@dataclass
class _Layout:
    """Where things are in one table: the header row and the role of each column."""

    table: _Table
    header_index: int  # 0-based within the table
    labels: list[str]
    timestamp: int
    department: Optional[int]
    ids: list[int]
    ignored: list[int]
    answers: list[int]
    score: float = 0.0


def _labels(row: Sequence[Any], width: int, offset: int) -> list[str]:
    """Header texts; blank ones named by their column letter, repeats numbered so each is unique."""
    labels: list[str] = []
    seen: dict[str, int] = {}
    for j in range(width):
        text = clean_text(row[j]) if j < len(row) else ""
        if not text:
            text = f"คอลัมน์ {column_letter(j + offset)}"
        n = seen.get(text, 0) + 1
        seen[text] = n
        labels.append(text if n == 1 else f"{text} ({n})")
    return labels


def _column(rows: Sequence[Sequence[Any]], j: int) -> list[Any]:
    return [r[j] for r in rows if j < len(r) and not tabular.is_blank(r[j])]


def _date_fraction(values: Sequence[Any]) -> float:
    if not values:
        return 0.0
    return sum(1 for v in values if is_datelike(v)) / len(values)


def _timestamp_column(labels: list[str], sample: list[list[Any]]) -> tuple[Optional[int], float]:
    """The submitted-time column and how sure we are (header word + content, or content alone)."""
    keys = [_key(x) for x in labels]
    tiers = (
        [j for j, k in enumerate(keys) if k in _COMPLETION_HEADERS],
        [j for j, k in enumerate(keys) if k in _TIMESTAMP_HEADERS],
        [j for j, k in enumerate(keys)
         if k not in _META_HEADERS and any(w in k for w in _DATE_HEADER_WORDS) and len(k) <= 30],
    )
    for bonus, tier in zip((12.0, 10.0, 6.0), tiers):
        for j in tier:
            values = _column(sample, j)
            if not values or _date_fraction(values) >= 0.6:
                return j, bonus
    for j, k in enumerate(keys):
        values = _column(sample, j)
        if k not in _META_HEADERS and len(values) >= 1 and _date_fraction(values) >= 0.8:
            return j, 6.0
    return None, 0.0


def _department_score(label: str, values: Sequence[Any]) -> float:
    """How much a column looks like "which department": header words plus unit-name content."""
    k = _key(label)
    score = 0.0
    if any(w in k for w in _DEPARTMENT_HEADER_WORDS):
        score += 2.0
        if len(k) <= 40:
            score += 1.0
    if _NUMBERED_QUESTION.match(label):
        score -= 1.0
    if "[" in label and label.rstrip().endswith("]"):
        score -= 3.0  # a grid row of a rating question
    texts = [clean_text(v) for v in values]
    texts = [t for t in texts if t]
    if texts:
        n = len(texts)
        unit = sum(1 for t in texts if _UNIT_WORDS.search(t)) / n
        scale = sum(1 for t in texts if _SCALE_WORDS.match(t)) / n
        dates = sum(1 for v in values if is_datelike(v)) / len(values)
        distinct = len(set(texts))
        score += 4.0 * unit - 5.0 * scale - 4.0 * dates
        if distinct <= max(3, min(40, n // 2)):
            score += 1.0
        elif distinct == n and n > 5:
            score -= 1.0  # every value different: names, comments
    return score


def _roles(labels: list[str], sample: list[list[Any]], ts: int) -> tuple[Optional[int], list[int], list[int], list[int]]:
    """(department, ids, ignored, answers) column indexes, the timestamp column being known."""
    ids, ignored, rest = [], [], []
    for j, label in enumerate(labels):
        if j == ts:
            continue
        k = _key(label)
        if k in _ID_HEADERS:
            ids.append(j)
        elif k in _META_HEADERS or k in _COMPLETION_HEADERS or k in _TIMESTAMP_HEADERS:
            ignored.append(j)
        else:
            rest.append(j)
    best, best_score = None, 2.0
    for j in rest:
        s = _department_score(labels[j], _column(sample, j))
        if s > best_score:
            best, best_score = j, s
    answers = [j for j in rest if j != best and (not labels[j].startswith("คอลัมน์ ") or _column(sample, j))]
    return best, ids, ignored, answers


def _header_layout(table: _Table, h: int) -> Optional[_Layout]:
    row = table.head[h]
    if any(isinstance(c, (dt.date, dt.time)) for c in row):
        return None  # a data row: headers are never dates
    texts = [clean_text(c) for c in row]
    nonblank = [t for t in texts if t]
    if len(nonblank) < 2:
        return None
    width = max(len(row), max((len(r) for r in table.head[h + 1:]), default=0))
    labels = _labels(row, width, table.column_offset)
    sample = table.head[h + 1:]
    ts, ts_score = _timestamp_column(labels, sample)
    if ts is None:
        return None
    dept, ids, ignored, answers = _roles(labels, sample, ts)
    datelike_headers = sum(1 for c in row if is_datelike(c) or isinstance(c, (int, float)))
    score = ts_score + min(len(nonblank), 20) * 0.2 - 5.0 * datelike_headers
    if dept is not None:
        score += 3.0
    if _RESPONSE_SHEET.search(table.name):
        score += 2.0
    if not _column(sample, ts):
        score -= 4.0  # a header with no answers under it: only chosen when nothing else fits
    return _Layout(table, h, labels, ts, dept, ids, ignored, answers, score)


def _best_layout(tables: list[_Table]) -> Optional[_Layout]:
    best: Optional[_Layout] = None
    for table in tables:
        for h in range(min(MAX_HEADER_SCAN, len(table.head))):
            layout = _header_layout(table, h)
            if layout and (best is None or layout.score > best.score):
                best = layout
    return best


def _forced_layout(tables: list[_Table], mapping: dict[str, Any]) -> _Layout:
    """Apply an admin's mapping: its sheet and header row when the file has them, then its columns."""
    named = [t for t in tables if t.name == mapping.get("sheet")]
    header_row = mapping.get("header_row")
    layout: Optional[_Layout] = None
    if named and isinstance(header_row, int) and not isinstance(header_row, bool) and 1 <= header_row <= len(named[0].head):
        t, h = named[0], header_row - 1
        layout = _header_layout(t, h) or _bare_layout(t, h)
    if layout is None:
        layout = _best_layout(named) or _best_layout(tables)
    if layout is None:
        raise FileProblem("ไม่พบแถวหัวตารางตามที่กำหนดไว้ในไฟล์นี้")
    _apply_mapping(layout, mapping)
    return layout


def _bare_layout(table: _Table, h: int) -> _Layout:
    """A header row with no roles yet (the mapping names them)."""
    width = max([len(r) for r in table.head[h:]] or [0])
    return _Layout(table, h, _labels(table.head[h], width, table.column_offset), -1, None, [], [], [])


def _names(value: Any) -> list[Any]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _apply_mapping(layout: _Layout, mapping: dict[str, Any]) -> None:
    index = {label: j for j, label in enumerate(layout.labels)}

    def find(label: Any) -> int:
        if label not in index:
            raise FileProblem(f"ไม่พบคอลัมน์ “{label}” ในไฟล์นี้ กรุณาตรวจสอบการจับคู่คอลัมน์")
        return index[label]

    if mapping.get("timestamp"):
        layout.timestamp = find(mapping["timestamp"])
    if layout.timestamp < 0:
        raise FileProblem("ยังไม่ได้ระบุคอลัมน์วันเวลาที่ตอบ")
    if "department" in mapping:
        layout.department = find(mapping["department"]) if mapping["department"] else None
    if "ids" in mapping:
        layout.ids = [find(x) for x in _names(mapping["ids"])]
    if "ignored" in mapping:
        layout.ignored = [find(x) for x in _names(mapping["ignored"])]
    taken = {layout.timestamp, layout.department, *layout.ids, *layout.ignored}
    if "answers" in mapping:
        layout.answers = [find(x) for x in _names(mapping["answers"]) if find(x) not in taken]
    else:
        sample = layout.table.head[layout.header_index + 1:]
        layout.answers = [
            j for j in range(len(layout.labels))
            if j not in taken and (not layout.labels[j].startswith("คอลัมน์ ") or _column(sample, j))
        ]
    # A column named twice keeps its first role.
    layout.ids = [j for j in layout.ids if j not in (layout.timestamp, layout.department)]
    layout.ignored = [j for j in layout.ignored if j not in (layout.timestamp, layout.department, *layout.ids)]


def _source_format(layout: _Layout) -> str:
    keys = {_key(x) for x in layout.labels}
    if _key(layout.labels[layout.timestamp]) in _COMPLETION_HEADERS and keys & {"id", "รหัส"}:
        return "microsoft_forms"
    if _key(layout.labels[layout.timestamp]) in {"timestamp", "ประทับเวลา"}:
        return "google_forms"
    return "generic"


def _mapping_of(layout: _Layout) -> dict[str, Any]:
    labels = layout.labels
    return {
        "sheet": layout.table.name,
        "header_row": layout.header_index + 1,
        "timestamp": labels[layout.timestamp],
        "department": labels[layout.department] if layout.department is not None else None,
        "ids": [labels[j] for j in layout.ids],
        "ignored": [labels[j] for j in layout.ignored],
        "answers": [labels[j] for j in layout.answers],
    }


# ---------------------------------------------------------------------------------------------
# Rows


def _columns_of(rows: list[list[Any]], width: int) -> list[tuple[Any, ...]]:
    """Transpose to columns (short rows padded with None), once, at C speed."""
    if not rows:
        return [() for _ in range(width)]
    cols = list(itertools.islice(itertools.zip_longest(*rows, fillvalue=None), width))
    while len(cols) < width:
        cols.append((None,) * len(rows))
    return cols


def _texts(column: Sequence[Any]) -> list[str]:
    """Clean text of every cell, computed once per distinct value (answers repeat a few labels)."""
    memo = {v: clean_text(v) for v in set(column)}
    return list(map(memo.__getitem__, column))


def _build_rows(layout: _Layout, data_rows: list[list[Any]], first_row_number: int) -> tuple[list[ParsedRow], list[dict[str, Any]]]:
    """Accepted rows and rejected ones; works column-wise (each column cleaned once per distinct
    value) and then zips the columns back into rows, which is what keeps 100,000 rows fast."""
    labels = layout.labels
    width = len(labels)
    cols = _columns_of(data_rows, width)
    ts_cells = cols[layout.timestamp]
    reader = TimestampReader(ts_cells, english_header=_key(labels[layout.timestamp]) == "timestamp")
    ts_label = labels[layout.timestamp]
    dept = _texts(cols[layout.department]) if layout.department is not None else None
    questions = [labels[j] for j in layout.answers]
    answer_cols = [_texts(cols[j]) for j in layout.answers]
    id_labels = [labels[j] for j in layout.ids]
    id_cols = [_texts(cols[j]) for j in layout.ids]
    other_cols = [_texts(cols[j]) for j in layout.ignored]
    rows: list[ParsedRow] = []
    rejected: list[dict[str, Any]] = []
    answer_rows = zip(*answer_cols) if answer_cols else itertools.repeat(())
    id_rows = zip(*id_cols) if id_cols else itertools.repeat(())
    other_rows = zip(*other_cols) if other_cols else itertools.repeat(())
    for i, (ts_cell, values, idv, other) in enumerate(zip(ts_cells, answer_rows, id_rows, other_rows)):
        d = dept[i] if dept is not None else ""
        ts_blank = tabular.is_blank(ts_cell)
        if ts_blank and not d and not any(values) and not any(idv) and not any(other):
            continue  # an empty line
        if isinstance(ts_cell, str) and clean_text(ts_cell) == ts_label:
            continue  # the header repeated (sheets pasted one under another)
        number = first_row_number + i
        if ts_blank:
            rejected.append({"row": number, "column": ts_label, "reason": "ไม่มีวันเวลาที่ตอบ"})
            continue
        when = reader.read(ts_cell)
        if when is None:
            rejected.append({"row": number, "column": ts_label,
                             "reason": f"อ่านวันเวลาที่ตอบไม่ได้: “{clean_text(ts_cell)[:60]}”"})
            continue
        answers = {q: v for q, v in zip(questions, values) if v}
        ids = {k: v for k, v in zip(id_labels, idv) if v}
        rows.append(ParsedRow(number, when, d, answers, ids))
    return rows, rejected


def _data_rows(layout: _Layout) -> Iterator[list[Any]]:
    """Rows below the header, strings de-duplicated (CSV rows already are)."""
    rows = layout.table.all_rows()
    if not layout.table.interned:
        rows = _intern_rows(rows)
    return itertools.islice(rows, layout.header_index + 1, None)


def parse_survey_file(data: bytes, *, filename: str = "", mapping: Optional[dict[str, Any]] = None) -> ParsedSurvey:
    """Read a survey export into rows; raises FileProblem (Thai) when the file cannot be used.

    ``filename`` only names the file in messages; the format is decided from the content.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise FileProblem("ข้อมูลที่ได้รับไม่ใช่ไฟล์")
    data = bytes(data)
    tables = read_tables(data)
    layout = _forced_layout(tables, mapping) if mapping else _best_layout(tables)
    if layout is None:
        raise FileProblem(_no_timestamp_message(filename))
    data_rows = list(_data_rows(layout))
    rows, rejected = _build_rows(layout, data_rows, layout.header_index + 2)
    del data_rows
    if not rows and not rejected:
        raise FileProblem("ไฟล์มีแต่หัวตาราง ยังไม่มีคำตอบแบบสำรวจ")
    labels = layout.labels
    warnings = []
    if layout.department is None:
        warnings.append("ไม่พบคอลัมน์ส่วนราชการ/กอง คำตอบทั้งหมดจะนับเป็น “(ไม่ระบุ)” — เลือกคอลัมน์เองได้")
    return ParsedSurvey(
        timestamp_column=labels[layout.timestamp],
        department_column=labels[layout.department] if layout.department is not None else None,
        answer_columns=[labels[j] for j in layout.answers],
        id_columns=[labels[j] for j in layout.ids],
        header_row=layout.header_index + 1,
        sheet_name=layout.table.name,
        rows=rows,
        rejected=rejected,
        signature=header_signature(labels),
        mapping_used=_mapping_of(layout),
        source_format=_source_format(layout),
        warnings=warnings,
    )


def _no_timestamp_message(filename: str) -> str:
    name = f"“{filename}” " if filename else ""
    return (
        f"ไฟล์ {name}ไม่มีคอลัมน์วันเวลาที่ตอบ (เช่น Timestamp / ประทับเวลา / Completion time) "
        "จึงไม่ใช่ไฟล์คำตอบแบบสำรวจที่อ่านได้ กรุณาส่งออกคำตอบจาก Google Forms หรือ Microsoft Forms อีกครั้ง"
    )
