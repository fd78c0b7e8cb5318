"""Survey response exports (IIT/EIT) into plain rows: who answered when, for which department.

Accepted shapes, all decided from the content and never from the file name:

- Google Forms' own "Download responses (.csv)" ("2026/01/05 7:18:31 AM GMT+7", 12- or 24-hour,
  any zone, converted to Bangkok time) and Google Sheets' CSV/xlsx download of the responses
  sheet in the English or Thai locale (``Timestamp`` / ``ประทับเวลา``): English sheets write
  timestamps month-first ("1/14/2025 18:29:56"), Thai ones day-first with a comma and a BE or CE
  year ("14/1/2568, 18:29:56"); grid questions arrive as ``Question [Row]``;
- Microsoft Forms xlsx (``ID``, ``Start time``, ``Completion time``, ``Email``, ``Name``, ...,
  possibly translated to Thai), or saved again as CSV by Excel ("1/14/25 18:29:56"); the
  completion time is the submitted time;
- CSV saved by Thai Excel (cp874) or UTF-8 with or without BOM; workbooks with title rows above
  the header or several sheets; any other sheet with a date column and a department column
  whose other columns look like answers (a register, an attendance list or a budget with a date
  and a department column is refused: :class:`NotASurvey`).

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

from .. import tabular
from ..tabular import FileProblem

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
    # Set when the columns do not look like a survey's answers (a register, an attendance list,
    # a budget): only ever set when parsed with ``allow_non_survey=True``, to warn before import.
    not_a_survey_reason: Optional[str] = None

    @property
    def read_count(self) -> int:
        """Rows with any content below the header: accepted plus rejected."""
        return len(self.rows) + len(self.rejected)


class NotASurvey(FileProblem):
    """The file reads, but its columns are not a survey's answers (see :func:`not_a_survey_reason`)."""


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
#
# What the programs write (evidence in tests/data/corpus/surveys/build_surveys.py):
# - Google Forms' own "Download responses (.csv)": year first, 12- or 24-hour, the form's zone as
#   "GMT+7", "GMT+07:00", "GMT+0700", "GMT+5:30", "GMT" or an abbreviation ("2026/01/05 7:18:31 AM
#   GMT+7", "2025/10/24 6:46:43 PM GMT+7", "2022/06/22 11:07:29 AM AST"); some locales keep their
#   own date order ("12/15/2025 10:18:29 GMT+7");
# - Google Sheets (File > Download CSV of the responses sheet): the cell as the sheet's locale shows
#   it, "1/5/2026 7:18:31" (en-US) or "5/1/2569, 7:18:31" / "4/8/2021, 18:34:26" (Thai, the year in
#   BE or CE); its xlsx download has real date cells;
# - Microsoft Forms: xlsx date cells; saved again as CSV by Excel, what Excel shows:
#   "7/27/26 19:06:23" (en-US, two-digit year), "1/5/26 7:18:31 AM", "5/1/2569 7:18" (Thai);
# - Thai-locale programs built on CLDR write the 12-hour markers ก่อนเที่ยง/หลังเที่ยง.

_TIME = r"(?P<H>\d{1,2})[:.](?P<M>\d{2})(?:[:.](?P<S>\d{2})(?:\.(?P<f>\d{1,9}))?)?"
_DATE_RE = re.compile(
    r"^(?P<a>\d{1,4})\s*(?P<s>[/\-.])\s*(?P<b>\d{1,2})\s*(?P=s)\s*(?P<c>\d{1,4})"
    r"(?:(?P<sep>\s*,\s*|\s*T\s*|\s+)" + _TIME + r")?$"
)
_THAI_MONTHS = {
    "มกราคม": 1, "มค": 1, "กุมภาพันธ์": 2, "กพ": 2, "มีนาคม": 3, "มีค": 3, "เมษายน": 4, "เมย": 4,
    "พฤษภาคม": 5, "พค": 5, "มิถุนายน": 6, "มิย": 6, "กรกฎาคม": 7, "กค": 7, "สิงหาคม": 8, "สค": 8,
    "กันยายน": 9, "กย": 9, "ตุลาคม": 10, "ตค": 10, "พฤศจิกายน": 11, "พย": 11, "ธันวาคม": 12, "ธค": 12,
}
_EN_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
              "november", "december")
_MONTH_WORD = r"(?P<mon>[A-Za-z]{3,9}\.?|[\u0e01-\u0e4e.]{2,12}?)"
# "14 ม.ค. 2568 18:29", "3 กุมภาพันธ์ พ.ศ. 2568", "5 Jan 2026 07:18", "05-Jan-2026 7:18:31"
_DAY_MONTH_RE = re.compile(
    r"^(?P<d>\d{1,2})(?:st|nd|rd|th)?\s*[\-/.]?\s*" + _MONTH_WORD
    + r"\s*[\-/.,]?\s*(?:(?:พ\.?\s?ศ|ค\.?\s?ศ)\.?\s*)?(?P<y>\d{2,4})(?:(?P<sep>\s*,\s*|\s+)" + _TIME + r")?$"
)
# "January 5, 2026 7:18:31 AM", "Jan 5 2026 19:18"
_MONTH_DAY_RE = re.compile(
    r"^(?P<mon>[A-Za-z]{3,9}\.?)\s*(?P<d>\d{1,2})(?:st|nd|rd|th)?\s*,?\s*(?P<y>\d{4})"
    r"(?:(?P<sep>\s*,\s*|\s+)" + _TIME + r")?$"
)
_WEEKDAY_RE = re.compile(
    r"^(?:(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?\.?,?\s+"
    r"|(?:วัน)?(?:จันทร์|อังคาร|พุธ|พฤหัสบดี|พฤหัสฯ?|ศุกร์|เสาร์|อาทิตย์)(?:\s*ที่)?\s*|วันที่\s*)",
    re.I,
)
# 12-hour markers, English and Thai (CLDR th: ก่อนเที่ยง / หลังเที่ยง), before or after the time.
_MARKER_RE = re.compile(r"(?:(?<=[\d\s,])|^)\s*(?P<m>[AaPp]\.?\s?[Mm]\.?|ก่อนเที่ยง|หลังเที่ยง)(?=[\s\d]|$)")
_THAI_CLOCK_RE = re.compile(r"\s*(?:น\.|นาฬิกา)\s*$")
_JOIN_WORDS_RE = re.compile(r"\s+(?:at|เวลา|เมื่อ)\s+|\s*เวลา\s*", re.I)
# A zone written as the last word: "GMT+7", "GMT+07:00", "GMT+0700", "GMT+5:30", "GMT", "UTC", "(GMT+7)".
_GMT_TOKEN_RE = re.compile(r"\(?(?:GMT|UTC|UT)(?:(?P<sign>[+\-\u2212])(?P<h>\d{1,2})(?:[:.]?(?P<m>\d{2}))?)?\)?", re.I)
# ISO 8601 offsets right after the seconds: "...T18:29:56Z", "...18:29:56+07:00", "...+0700".
_NUM_ZONE_RE = re.compile(r"(?<=:\d\d)(?:\.\d{1,9})?(?P<z>Z|\s*(?P<sign>[+\-\u2212])(?P<h>\d{2}):?(?P<m>\d{2}))$")
_ABBR_TOKEN_RE = re.compile(r"\(?(?P<abbr>[A-Za-z]{2,5})\)?")
_HAS_TIME_RE = re.compile(r"\d[:.]\d\d")
_MARKER_WORDS = {"am": "am", "pm": "pm", "a.m.": "am", "p.m.": "pm", "ก่อนเที่ยง": "am", "หลังเที่ยง": "pm"}
# Unambiguous zone abbreviations (hours east of UTC); ambiguous ones (IST, AST, CST, BST) are not
# guessed: such a value is not read, and the row is reported.
_ZONE_ABBR = {
    "UTC": 0, "GMT": 0, "UT": 0, "Z": 0, "WET": 0, "ICT": 7, "WIB": 7, "THA": 7, "CET": 1, "WEST": 1,
    "CEST": 2, "EET": 2, "EEST": 3, "MSK": 3, "PKT": 5, "SGT": 8, "MYT": 8, "HKT": 8, "PHT": 8, "WITA": 8,
    "AWST": 8, "JST": 9, "KST": 9, "WIT": 9, "AEST": 10, "AEDT": 11, "NZST": 12, "NZDT": 13,
    "EST": -5, "EDT": -4, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7, "AKST": -9, "AKDT": -8,
    "HST": -10,
}
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)


@dataclass(frozen=True, slots=True)
class _DateParts:
    """A date string split up; ``a``/``b`` are day and month in an order decided per column."""

    a: int
    b: int
    year: int
    year_first: bool  # the order is known (year first, or a month name): a is the day, b the month
    hour: int = 0
    minute: int = 0
    second: int = 0
    micro: int = 0
    ampm: str = ""  # "am" / "pm" / ""
    offset_minutes: Optional[int] = None  # the written zone, minutes east of UTC; None: no zone
    buddhist_era: bool = False  # the year was written in BE (Thai locale)
    comma: bool = False  # "d/m/yyyy, H:MM:SS": the comma of the Thai (and other day-first) locales
    english_marker: bool = False  # an English AM/PM marker (en-US habit: month first)


def _full_year(y: int) -> tuple[int, bool]:
    """(CE year, written in BE). Two-digit years: 00-59 are CE 20xx, 60-99 are BE 25xx ("68" = 2568)."""
    if y < 100:
        y = 2000 + y if y < 60 else 2500 + y
    if y > 2400:
        return y - 543, True
    return y, False


def _offset(sign: str, hours: str, minutes: Optional[str]) -> Optional[int]:
    h, m = int(hours), int(minutes or 0)
    if h > 14 or m >= 60:
        return None
    return (-1 if sign in "-\u2212" else 1) * (h * 60 + m)


def _split_zone(s: str) -> tuple[str, Optional[int], bool]:
    """(text without its zone, the zone in minutes east of UTC or None, readable)."""
    head, _, tail = s.rpartition(" ")
    if head:
        m = _GMT_TOKEN_RE.fullmatch(tail)
        if m:
            off = _offset(m.group("sign"), m.group("h"), m.group("m")) if m.group("sign") else 0
            return head.rstrip(), off, off is not None
        m = _ABBR_TOKEN_RE.fullmatch(tail)
        if m and tail.lower() not in _MARKER_WORDS and _HAS_TIME_RE.search(head):
            off = _ZONE_ABBR.get(m.group("abbr").upper())
            return head.rstrip(), None if off is None else off * 60, off is not None
    if s.endswith("Z") or "+" in s or s.count("-") in (1, 3):
        m = _NUM_ZONE_RE.search(s)
        if m:
            rest = s[: m.end() - len(m.group("z"))].rstrip()
            off = 0 if m.group("z") == "Z" else _offset(m.group("sign"), m.group("h"), m.group("m"))
            return rest, off, off is not None
    return s, None, True


def _month_number(word: str) -> Optional[int]:
    w = word.replace(".", "").replace(" ", "").lower()
    if w in _THAI_MONTHS:
        return _THAI_MONTHS[w]
    if w.isascii() and len(w) >= 3:
        for i, name in enumerate(_EN_MONTHS, start=1):
            if name.startswith(w):
                return i
    return None


def _time_fields(m: re.Match) -> dict[str, int]:
    frac = m.group("f") or ""
    return {
        "hour": int(m.group("H") or 0), "minute": int(m.group("M") or 0), "second": int(m.group("S") or 0),
        "micro": int(frac[:6].ljust(6, "0")) if frac else 0,
    }


def split_date_text(text: str) -> Optional[_DateParts]:
    """Split a date-time text into parts; None when it is not one.

    Reads "14/1/2568, 18:29:56", "1/14/2025 6:29:56 PM", "2026/01/05 7:18:31 AM GMT+7",
    "2026/01/05 19:18:31 GMT+07:00", "2025-01-14T18:29:56Z", "7/27/26 19:06:23",
    "5/1/2569 7:18:31 หลังเที่ยง", "14 ม.ค. 2568 18:29 น.", "January 5, 2026 at 7:18:31 AM".
    """
    if not isinstance(text, str) or len(text) > 80:
        return None
    if text.isascii():
        s = " ".join(text.split())
    else:
        s = _WS_RE.sub(" ", text.translate(_THAI_DIGITS)).strip()
    if not s or not s[0].isalnum():
        return None
    m = _DATE_RE.match(s)  # the common case first: a plain numeric date and time
    if m:
        return _numeric_parts(m, "", None, False)
    s, offset, ok = _split_zone(s)
    if not ok:
        return None
    ampm, english_marker = "", False
    head, _, tail = s.rpartition(" ")
    if head and tail.lower() in _MARKER_WORDS:
        ampm, english_marker, s = _MARKER_WORDS[tail.lower()], tail[0] in "AaPp", head.rstrip()
    else:
        markers = list(_MARKER_RE.finditer(s))
        if len(markers) > 1:
            return None
        if markers:
            word = markers[0].group("m")
            english_marker = word[0] in "AaPp"
            ampm = "am" if word[0] in "Aa" or word == "ก่อนเที่ยง" else "pm"
            s = (s[: markers[0].start()] + " " + s[markers[0].end():]).strip()
    m = _DATE_RE.match(s)
    if m:
        return _numeric_parts(m, ampm, offset, english_marker)
    s = _THAI_CLOCK_RE.sub("", s)
    s = _WEEKDAY_RE.sub("", s)
    s = _JOIN_WORDS_RE.sub(" ", s).strip()
    m = _DATE_RE.match(s)
    if m:
        return _numeric_parts(m, ampm, offset, english_marker)
    m = _DAY_MONTH_RE.match(s) or _MONTH_DAY_RE.match(s)
    if m:
        month = _month_number(m.group("mon"))
        if month is None or (m.group("H") is None and (ampm or offset is not None)):
            return None
        year, be = _full_year(int(m.group("y")))
        return _DateParts(a=int(m.group("d")), b=month, year=year, year_first=True, buddhist_era=be,
                          ampm=ampm, offset_minutes=offset, english_marker=english_marker, **_time_fields(m))
    return None


def _numeric_parts(m: re.Match, ampm: str, offset: Optional[int], english_marker: bool) -> Optional[_DateParts]:
    a, b, c = m.group("a"), m.group("b"), m.group("c")
    year_first = len(a) == 4
    if year_first:
        if len(c) > 2:
            return None
        a, c = c, a  # stored as (day, month, year)
    elif len(a) == 3 or len(c) not in (2, 4):
        return None
    if m.group("H") is None and (ampm or offset is not None):
        return None
    year, be = _full_year(int(c))
    return _DateParts(a=int(a), b=int(b), year=year, year_first=year_first, buddhist_era=be,
                      comma="," in (m.group("sep") or ""), ampm=ampm, offset_minutes=offset,
                      english_marker=english_marker, **_time_fields(m))


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


def locale_day_first(parts: Sequence[_DateParts], *, english_header: bool) -> bool:
    """The habit of the locale that wrote a column, for when no value decides the order.

    A BE year is Thai: day first. An English AM/PM marker with a CE year is en-US (Excel's
    "1/5/26 7:18:31 AM", JavaScript's "1/5/2026, 7:18:31 AM"): month first. An English header
    (Google Forms "Timestamp", Microsoft Forms "Completion time") without the Thai-locale comma
    ("5/1/2026, 7:18:31") is en-US too. Everything else (Thai headers, Thai Excel) day first.
    """
    if any(p.buddhist_era for p in parts):
        return True
    if any(p.english_marker for p in parts):
        return False
    if english_header and not any(p.comma for p in parts):
        return False
    return True


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
    if p.ampm:
        if p.ampm == "am":
            if hour > 12:
                return None
            hour = 0 if hour == 12 else hour
        else:
            if hour == 0:
                return None
            hour = hour if hour >= 12 else hour + 12
    try:
        value = dt.datetime(p.year, month, day, hour, p.minute, p.second, p.micro)
        if p.offset_minutes is not None:
            value = value.replace(tzinfo=dt.timezone(dt.timedelta(minutes=p.offset_minutes)))
        return _to_local(value)
    except (ValueError, OverflowError):
        return None


def _excel_serial(value: float) -> Optional[dt.datetime]:
    """Excel's day number (a date cell saved without its format); plausible survey years only."""
    if not 20000 < value < 80000:
        return None
    return _to_local(_EXCEL_EPOCH + dt.timedelta(days=value))


def _from_be_cell(value: Any) -> Any:
    """A date cell whose year is a BE year typed into a CE calendar (Thai Excel): back to CE."""
    if value.year > 2400:
        try:
            return value.replace(year=value.year - 543)
        except ValueError:
            return None
    return value


def is_datelike(cell: Any) -> bool:
    """Content test for a timestamp column (numbers do not count: they are usually answers)."""
    if isinstance(cell, (dt.datetime, dt.date)) and not isinstance(cell, dt.time):
        return True
    return isinstance(cell, str) and bool(cell.strip()) and split_date_text(cell) is not None


def _is_excel_serial(cell: Any) -> bool:
    return isinstance(cell, (int, float)) and not isinstance(cell, bool) and 20000 < cell < 80000


def _is_english_label(label: str) -> bool:
    return label.isascii() and any(ch.isalpha() for ch in label)


class TimestampReader:
    """Reads one column's cells into aware Bangkok datetimes, with the column's day/month order.

    The order is decided from all the column's values (see :func:`decide_day_first`). When no
    value decides, the locale's habit applies (see :func:`locale_day_first`). A written zone
    ("GMT+7", "+07:00", "Z") is converted to Bangkok time; a time without one is Bangkok time.
    """

    def __init__(self, cells: Iterable[Any], *, english_header: bool = False):
        self._parts: dict[str, Optional[_DateParts]] = {}
        for c in cells:
            if isinstance(c, str) and c not in self._parts:
                self._parts[c] = split_date_text(c)
        found = [p for p in self._parts.values() if p is not None]
        self.day_first = decide_day_first(found, default=locale_day_first(found, english_header=english_header))

    def read(self, cell: Any) -> Optional[dt.datetime]:
        if isinstance(cell, dt.datetime):
            cell = _from_be_cell(cell)
            return _to_local(cell) if cell is not None else None
        if isinstance(cell, dt.date):
            cell = _from_be_cell(cell)
            return dt.datetime(cell.year, cell.month, cell.day, tzinfo=BANGKOK) if cell is not None else None
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
    "ที่อยู่อีเมล", "name", "ชื่อ", "ชื่อ-สกุล", "ชื่อ-นามสกุล", "ชื่อสกุล", "fullname", "username", "ชื่อผู้ใช้",
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


def _date_fraction(values: Sequence[Any], *, serials: bool = False) -> float:
    """Share of the values that read as dates; ``serials``: Excel day numbers count too (a date
    cell that lost its format, under a header that names the submitted time)."""
    if not values:
        return 0.0
    return sum(1 for v in values if is_datelike(v) or (serials and _is_excel_serial(v))) / len(values)


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
            if not values or _date_fraction(values, serials=bonus > 6.0) >= 0.6:
                return j, bonus
        if bonus == 10.0 and (tiers[0] or tiers[1]):
            # A column is named as the submitted time but does not read: never take another
            # column (a birth date, a date answer) in its place; the refusal names this one.
            return None, 0.0
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


# --- Is it a survey at all? ------------------------------------------------------------------
#
# A register (ทะเบียนครุภัณฑ์), an attendance list, a budget or a payroll sheet can have a date
# column and a department column, and so pass for a survey with no questions. What tells them
# apart is what sits in the other columns: a survey's answers are scale labels ("มาก", "4",
# "เห็นด้วย"), a few choices repeated down the column, or comments under a question; a register's
# columns hold codes and serial numbers (nearly every value different), money with decimals,
# times of day, more dates, names. Each answer column is judged from its content (and its header:
# a question is long, numbered, or asks something), and the file is refused when the columns that
# look like register data outweigh those that look like answers.

# Answer labels of rating / yes-no / frequency questions (a value containing one of these words).
_SCALE_ANSWER = re.compile(
    r"มาก|น้อย|ปานกลาง|พอใจ|เห็นด้วย|ดีเยี่ยม|ดีมาก|^ดี$|พอใช้|ปรับปรุง|^ใช่|^ไม่ใช่|^มี$|^ไม่มี|เคย|ทราบ|"
    r"บ่อย|ประจำ|บางครั้ง|ไม่แน่ใจ|เหมาะสม|^จริง|^ไม่จริง|"
    r"satisf|agree|neutral|excellent|\bgood\b|\bfair\b|\bpoor\b|\bvery\b|often|never|always|sometimes|"
    r"rarely|likely|^yes\b|^no\b|^true$|^false$|^ok$",
    re.I,
)
_SCALE_NUMBER = re.compile(r"^(?:10|\d)(?:\s*(?:[-–.:)]\s*\D.*|/\s*(?:10|[1-9])))?$")  # "4", "5 - มากที่สุด", "3/5"
# Header words of register data: amounts, codes and numbers, clock times. Numbers under such a
# header are register data even when they repeat (unit prices, quantities).
_REGISTER_HEADER = re.compile(
    r"ราคา|จำนวนเงิน|เงินเดือน|บาท|งบประมาณ|เบิกจ่าย|คงเหลือ|ยอด|รวมเงิน|ภาษี|รหัส|เลขที่|เลขทะเบียน|หมายเลข|"
    r"เลขบัญชี|เบอร์|โทรศัพท์|จำนวน|หน่วยนับ|เวลามา|เวลากลับ|เวลาเข้า|เวลาออก|"
    r"\b(?:price|amount|cost|total|serial|code|qty|quantity|phone|tel)\b",
    re.I,
)
_NUMBER = re.compile(r"^[+\-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")
_QUESTION_HEADER = re.compile(
    r"[?？]|ใด|ไหม|หรือไม่|อย่างไร|เพียงใด|แค่ไหน|บ้าง|กี่|ท่าน|โปรด|กรุณา|ระบุ|เลือก|ความคิดเห็น|ความเห็น|"
    r"เสนอแนะ|พึงพอใจ|ประเมิน|\b(?:how|what|which|why|would you|do you|did you|are you|please|rate|rating|"
    r"comments?|suggestions?|feedback|opinion|satisf\w*)\b",
    re.I,
)
_DECIMAL = re.compile(r"^[+\-]?(?:\d{1,3}(?:,\d{3})+|\d+)\.\d+$|^[+\-]?\d{1,3}(?:,\d{3})+$")
_TIME_OF_DAY = re.compile(r"^\d{1,2}[:.]\d{2}(?:[:.]\d{2})?\s*(?:น\.|[AaPp]\.?\s?[Mm]\.?)?$")
_EMAIL_OR_URL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$|^(?:https?://|www\.)", re.I)
_INTEGER = re.compile(r"^[+\-]?\d+$")
_DIGIT = re.compile(r"\d")


def _question_like(label: str) -> bool:
    """A header that asks something: numbered, a grid row, long, or with a question word."""
    if label.startswith("คอลัมน์ "):
        return False
    return (bool(_NUMBERED_QUESTION.match(label)) or ("[" in label and label.rstrip().endswith("]"))
            or len(label) >= 40 or bool(_QUESTION_HEADER.search(label)))


def _is_scale_value(text: str) -> bool:
    return len(text) <= 40 and bool(_SCALE_ANSWER.search(text) or _SCALE_NUMBER.match(text))


def _is_code_value(text: str) -> bool:
    """An identifier: asset numbers, serial numbers, phone / ID-card numbers, amounts without decimals."""
    if _INTEGER.match(text):
        return len(text.lstrip("+-")) >= 4 or (text.startswith("0") and len(text) >= 3)
    digits = len(_DIGIT.findall(text))
    compact = text.replace(" ", "")
    return digits >= 3 and text.count(" ") <= 3 and len(text) <= 40 and digits >= 0.3 * len(compact)


def _answer_kind(values: Sequence[Any], label: str = "") -> str:
    """One answer column from its non-blank values: scale / choice / data / number / text / long / empty.

    data: dates, times, money or decimals, e-mails/links, codes nearly all different, or numbers
    under a register header ("ราคา", "จำนวน", "เลขที่"); scale: rating / yes-no labels or small
    numbers; choice: a few values repeated; text / long: short or long free text, nearly all different.
    """
    texts = [clean_text(v) for v in values]
    n = sum(1 for t in texts if t)
    if n == 0:
        return "empty"
    counts: dict[str, int] = {}
    for t in texts:
        if t:
            counts[t] = counts.get(t, 0) + 1
    distinct = len(counts)

    def share(test: Callable[[str], Any]) -> float:
        return sum(c for t, c in counts.items() if test(t)) / n

    # Cells are judged as text: a date cell reads "2025-01-14 18:29:56", a time "08:15:00", 12.5 "12.5".
    temporal = share(lambda t: _TIME_OF_DAY.match(t) or split_date_text(t))
    decimals = share(_DECIMAL.match)
    if temporal >= 0.6 or decimals >= 0.6 or temporal + decimals >= 0.8 or share(_EMAIL_OR_URL.match) >= 0.6:
        return "data"
    if (label and _REGISTER_HEADER.search(label) and not _question_like(label)
            and share(lambda t: _NUMBER.match(t) or _is_code_value(t)) >= 0.6):
        return "data"
    if share(_is_scale_value) >= 0.6:
        return "scale"
    varied = distinct > max(2, n // 2)
    if share(_is_code_value) >= 0.6 and (varied or n < 4):
        return "data"
    if not varied:
        return "choice"
    if share(lambda t: _INTEGER.match(t) and len(t) <= 3) >= 0.8:
        return "number"  # ages, counts: either a survey's "อายุ" or a register's quantity
    parts: dict[str, int] = {}  # checkbox answers: "ก, ข" / "ก;ข" of a few options
    for t, c in counts.items():
        for part in re.split(r"\s*[;,]\s*", t):
            if part:
                parts[part] = parts.get(part, 0) + c
    total = sum(parts.values())
    if n >= 4 and len(parts) <= max(3, total // 3) and len(parts) < distinct * 2:
        return "choice"
    if n < 3:
        return "choice"  # too few to judge
    average = sum(len(t) * c for t, c in counts.items()) / n
    return "long" if average >= 40 else "text"


def not_a_survey_reason(labels: Sequence[str], sample: Sequence[Sequence[Any]], answers: Sequence[int]) -> Optional[str]:
    """Why these answer columns are not a survey's answers (Thai, one line), or None when they may be.

    A file with no answer columns at all (a register of who answered, by date and department)
    is not judged here: it is read as such.
    """
    survey = register = 0.0
    data_columns: list[tuple[str, str]] = []
    judged = 0
    for j in answers:
        values = _column(sample, j)
        kind = _answer_kind(values, labels[j])
        if kind in ("empty", "number"):
            continue
        judged += 1
        question = _question_like(labels[j])
        if kind == "data":
            if not question:
                register += 1.0
                data_columns.append((labels[j], clean_text(values[0])))
        elif kind == "scale" or question:
            survey += 1.0
        elif kind == "choice":
            survey += 0.25  # a short header over a few repeated values: a survey's "เพศ", or a register's "สภาพ"
        else:
            register += 0.5  # names, item descriptions, addresses
    if register <= survey or (register < 1.0 and survey > 0):
        return None  # answers outweigh register data, or too little of either to say
    shown = ", ".join(f"“{label[:30]}” เช่น “{value[:25]}”" for label, value in data_columns[:3])
    what = f"คอลัมน์ {shown} เป็นรหัส ตัวเลข หรือวันเวลา" if shown else "คอลัมน์ส่วนใหญ่เป็นข้อความที่ไม่ซ้ำกัน (เช่น ชื่อหรือรายการ)"
    return (
        f"ไฟล์นี้ไม่ใช่คำตอบแบบสำรวจ: {what} ไม่ใช่ระดับความคิดเห็นหรือตัวเลือกที่ตอบซ้ำ ๆ "
        f"(ดูจากคอลัมน์คำตอบ {judged} คอลัมน์) อาจเป็นทะเบียน บัญชีลงเวลา หรืองบประมาณ "
        "กรุณาตรวจสอบว่าเลือกไฟล์ถูกต้อง"
    )


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
    if ts is None or (ts < len(row) and is_datelike(row[ts])):
        return None  # no submitted-time column; or this "header" is itself a data row
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
    reader = TimestampReader(ts_cells, english_header=_is_english_label(labels[layout.timestamp]))
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


def parse_survey_file(data: bytes, *, filename: str = "", mapping: Optional[dict[str, Any]] = None,
                      allow_non_survey: bool = False) -> ParsedSurvey:
    """Read a survey export into rows; raises FileProblem (Thai) when the file cannot be used.

    ``filename`` only names the file in messages; the format is decided from the content.
    A file whose columns are not a survey's answers raises :class:`NotASurvey`, unless
    ``allow_non_survey`` (the upload page, after a warning): then it is read and
    :attr:`ParsedSurvey.not_a_survey_reason` says why it looks wrong.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise FileProblem("ข้อมูลที่ได้รับไม่ใช่ไฟล์")
    data = bytes(data)
    tables = read_tables(data)
    layout = _forced_layout(tables, mapping) if mapping else _best_layout(tables)
    if layout is None:
        raise FileProblem(_no_timestamp_message(filename, tables))
    reason = not_a_survey_reason(layout.labels, layout.table.head[layout.header_index + 1:], layout.answers)
    if reason and not allow_non_survey:
        raise NotASurvey(reason)
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
        not_a_survey_reason=reason,
    )


def _unreadable_timestamp(tables: list[_Table]) -> Optional[tuple[str, str, int, str, bool]]:
    """A column named as the submitted time whose values do not read as dates: (header, the first
    value that does not read, its row number, sheet name, whether it is the column's first value)."""
    known = _COMPLETION_HEADERS | _TIMESTAMP_HEADERS
    for table in tables:
        for h, row in enumerate(table.head[:MAX_HEADER_SCAN]):
            for j, cell in enumerate(row):
                label = clean_text(cell)
                if not label or _key(label) not in known:
                    continue
                below = [(h + 2 + i, r[j]) for i, r in enumerate(table.head[h + 1:])
                         if j < len(r) and not tabular.is_blank(r[j])]
                for k, (number, value) in enumerate(below):
                    if not (is_datelike(value) or _is_excel_serial(value)):
                        return label, clean_text(value), number, table.name, k == 0
    return None


def _no_timestamp_message(filename: str, tables: Sequence[_Table] = ()) -> str:
    name = f"“{filename}” " if filename else ""
    found = _unreadable_timestamp(list(tables))
    if found:
        label, value, row, sheet, first = found
        where = f"แถว {row}" + (f" ชีต “{sheet}”" if len(tables) > 1 else "")
        shown = value if len(value) <= 60 else value[:57] + "..."
        subject = f"ไฟล์ “{filename}”" if filename else "ไฟล์นี้"
        which = "ในแถวแรก " if first else ""
        return (
            f"{subject} พบคอลัมน์ “{label}” แต่อ่านค่า{which}“{shown}” ({where}) เป็นวันเวลาไม่ได้ "
            "กรุณาตรวจสอบว่าคอลัมน์นี้เป็นวันเวลาที่ตอบ หรือส่งออกคำตอบจาก Google Forms / Microsoft Forms อีกครั้ง"
        )
    return (
        f"ไฟล์ {name}ไม่มีคอลัมน์วันเวลาที่ตอบ (เช่น Timestamp / ประทับเวลา / Completion time) "
        "จึงไม่ใช่ไฟล์คำตอบแบบสำรวจที่อ่านได้ กรุณาส่งออกคำตอบจาก Google Forms หรือ Microsoft Forms อีกครั้ง"
    )
