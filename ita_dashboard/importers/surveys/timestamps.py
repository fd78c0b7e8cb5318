"""Reading survey timestamps as the form programs write them, into aware Bangkok datetimes."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Iterable, Optional, Sequence

from ...thai import to_arabic_digits
from .cells import _WS_RE
from .results import BANGKOK

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
        s = _WS_RE.sub(" ", to_arabic_digits(text)).strip()
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
    if value.tzinfo is None:  # _round_second and the zone in one replace() (a call per response)
        if value.microsecond >= 500_000:
            value += dt.timedelta(seconds=1)
        return value.replace(microsecond=0, tzinfo=BANGKOK)
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
