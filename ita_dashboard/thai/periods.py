"""Reading dates and periods as agencies write them ("ต.ค. 2565 – มี.ค. 2566", "ไตรมาส 2",
"ทุกเดือน"), into CE dates and recurrence codes.

Reading is strict on purpose: a text that does not say when something happens gives
``ok=False`` with a reason, never a plausible-looking guess, so an importer can tell a period
from a responsible unit written in the wrong column.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date

from .fiscal import FISCAL_YEAR_FIRST_MONTH, be_to_ce, ce_to_be, fiscal_year_bounds, month_end, quarter_bounds, round_bounds
from .names import THAI_MONTHS, THAI_MONTHS_ABBR, to_arabic_digits


RECURRENCE_CODES: tuple[str, ...] = (
    "monthly", "quarterly", "semiannual", "annual", "weekly", "continuous",
)


def _month_alternation() -> str:
    """Regex alternatives for month names, each captured as group ``m1``..``m12``.

    Full names (with the common misspelling that drops the last mark), dotted abbreviations
    (last dot optional, spaces allowed) and the spoken short forms ("ตุลา"); a short form must
    not run on into another Thai word, so "ตุลาการ" (judge) is not October.
    """
    full_variants = {2: "กุมภาพันธ์?", 11: "พฤศจิกายน"}
    short_forms = ("มกรา", "กุมภา", "มีนา", "เมษา", "พฤษภา", "มิถุนา",
                   "กรกฎา", "สิงหา", "กันยา", "ตุลา", "พฤศจิกา", "ธันวา")
    parts = []
    for i in range(12):
        full = full_variants.get(i + 1, re.escape(THAI_MONTHS[i]))
        first, second = THAI_MONTHS_ABBR[i].rstrip(".").split(".")
        abbr = rf"{first}\.\s*{second}\.?"
        short = rf"{short_forms[i]}(?![\u0E01-\u0E4F])"
        parts.append(rf"(?P<m{i + 1}>{full}|{abbr}|{short})")
    return "|".join(parts)


_MONTH = _month_alternation()
_MONTH_PLAIN = re.sub(r"\(\?P<m\d+>", "(?:", _MONTH)  # same, without named groups, for lookaheads
_SEP = r"[-–—−~]|ถึง"
_ERA = r"(?:(?P<{name}>พ|ค)\.\s*ศ\.?\s*)"
_YEAR = r"(?:\d{4}|\d{2})(?!\d)"

_TOKEN_RE = re.compile(
    "|".join(
        [
            r"(?<!\d)(?P<iso_y>\d{4})-(?P<iso_m>\d{1,2})-(?P<iso_d>\d{1,2})(?!\d)",
            r"(?<!\d)(?P<sl_d>\d{1,2})/(?P<sl_m>\d{1,2})/(?P<sl_y>\d{4}|\d{2})(?!\d)",
            r"ไตรมาส(?:ที่)?\s*(?P<quarter>\d{1,2})(?!\d)"
            r"(?:\s*/\s*(?:ปี\s*งบ(?:ประมาณ)?\s*)?(?:พ\.\s*ศ\.?\s*)?(?P<q_year>" + _YEAR + "))?",
            r"รอบ\s*(?P<round>6|12)\s*เดือน",
            r"(?P<fy>ปี\s*งบ(?:ประมาณ)?)(?:\s*(?:พ\.\s*ศ\.?\s*)?(?P<fy_year>" + _YEAR + "))?",
            r"(?<!\d)(?P<dayonly>\d{1,2})(?=\s*(?:" + _SEP + r")\s*\d{1,2}\s*(?:" + _MONTH_PLAIN + "))",
            r"(?:(?<!\d)(?P<day>\d{1,2})\s*)?(?:" + _MONTH + r")"
            r"(?:\s*(?:ปี\s*)?" + _ERA.format(name="era") + r"?(?P<year>" + _YEAR + r")"
            r"(?!\s*(?:" + _MONTH_PLAIN + ")))?",
            r"(?P<sep>" + _SEP + ")",
            _ERA.format(name="bare_era") + r"?(?<!\d)(?P<bare_year>\d{4})(?!\d)",
        ]
    ),
    re.ASCII,  # \d is 0-9 only: Thai digits are converted first, other scripts are not read
)


def _normalize(text: str) -> str:
    """Arabic digits, no markup, one space between words, sara am composed."""
    text = re.sub(r"<[^>]*>", " ", text)
    text = html.unescape(text)
    text = text.replace("\u0e4d\u0e32", "\u0e33").replace("\u200b", "")
    text = to_arabic_digits(text)
    return re.sub(r"\s+", " ", text).strip()


class _Unreadable(Exception):
    """Raised inside the parser with the English reason reported in PeriodParse.reason."""


def _plausible_ce(year_ce: int) -> int:
    if not 1900 <= year_ce <= 2299:
        raise _Unreadable(f"year {ce_to_be(year_ce)} BE / {year_ce} CE is out of range")
    return year_ce


def _year_to_ce(digits: str, era: str | None = None) -> int:
    """A written year to CE: 2-digit means 25xx BE ("66" -> 2023); 4-digit is BE when > 2400."""
    value = int(digits)
    if len(digits) == 2:
        return _plausible_ce(2000 + value if era == "ค" else be_to_ce(2500 + value))
    if era == "ค":
        return _plausible_ce(value)
    if era == "พ" or value > 2400:
        return _plausible_ce(be_to_ce(value))
    return _plausible_ce(value)


def _fiscal_year_from(digits: str) -> int:
    """A written fiscal year to BE; FY 2023 (CE) and FY 2566 (BE) are the same year."""
    return ce_to_be(_year_to_ce(digits))


@dataclass(frozen=True)
class _Point:
    """One end of a period as written: any part may be missing except when noted."""

    day: int | None
    month: int | None
    year_ce: int | None


@dataclass
class _Tokens:
    points: list[tuple[int, _Point]]  # (position, point)
    seps: list[int]
    quarters: list[tuple[int, int | None]]  # (quarter, fiscal year BE or None)
    rounds: list[int]
    fiscal_years: list[int | None]  # None: "ปีงบประมาณ" without a year
    bare_years: list[int]  # CE years not tied to a month or to the fiscal year


def _month_of(match: re.Match[str]) -> int:
    return next(i for i in range(1, 13) if match.group(f"m{i}") is not None)


def _tokenize(norm: str, *, strict: bool = True) -> _Tokens:
    """Find the date-ish pieces of a normalised text, in order; the words between are ignored.

    ``strict`` raises on a date whose year is impossible; otherwise such a date is skipped.
    A 4-digit number that is no plausible year is never an error: it may be a count.
    """
    tokens = _Tokens([], [], [], [], [], [])
    for match in _TOKEN_RE.finditer(norm):
        try:
            _add_token(tokens, match)
        except _Unreadable:
            if strict and not match.group("bare_year"):
                raise
    return tokens


def _add_token(tokens: _Tokens, match: re.Match[str]) -> None:
    g = match.group
    pos = match.start()
    if g("iso_y"):
        point = _Point(int(g("iso_d")), int(g("iso_m")), _year_to_ce(g("iso_y")))
        tokens.points.append((pos, point))
    elif g("sl_d"):
        point = _Point(int(g("sl_d")), int(g("sl_m")), _year_to_ce(g("sl_y")))
        tokens.points.append((pos, point))
    elif g("quarter"):
        fy = _fiscal_year_from(g("q_year")) if g("q_year") else None
        tokens.quarters.append((int(g("quarter")), fy))
    elif g("round"):
        tokens.rounds.append(int(g("round")))
    elif g("fy"):
        tokens.fiscal_years.append(_fiscal_year_from(g("fy_year")) if g("fy_year") else None)
    elif g("dayonly"):
        tokens.points.append((pos, _Point(int(g("dayonly")), None, None)))
    elif g("sep"):
        tokens.seps.append(pos)
    elif g("bare_year"):
        tokens.bare_years.append(_year_to_ce(g("bare_year"), g("bare_era")))
    else:
        day = int(g("day")) if g("day") else None
        year = _year_to_ce(g("year"), g("era")) if g("year") else None
        tokens.points.append((pos, _Point(day, _month_of(match), year)))


# --- reading: recurrence -------------------------------------------------------------------------

_RECURRENCE_PATTERNS: dict[str, str] = {
    "monthly": r"ทุกเดือน|รายเดือน|เดือนละ1?ครั้ง|ทุก1เดือน",
    "quarterly": r"รอบไตรมาส|รายไตรมาส|ทุกไตรมาส|ไตรมาสละ|ทุก3เดือน|ราย3เดือน",
    "semiannual": r"ทุก6เดือน|ราย6เดือน|ครึ่งปี(?!แรก|หลัง)|ปีละ2ครั้ง",
    "annual": r"ทุกปี|รายปี|ปีละ1?ครั้ง|ทุก12เดือน",
    "weekly": r"ทุกสัปดาห์|รายสัปดาห์|สัปดาห์ละ|ทุกอาทิตย์|ทุก1สัปดาห์",
    "continuous": r"ตลอดปี|ตลอดทั้งปี|ต่อเนื่อง|ตลอดเวลา|ตลอดระยะเวลา",
}
# Says "at some time in the year" without a rhythm: enough for the whole fiscal year when known.
_ANYTIME_PATTERN = r"ตามความเหมาะสม|ตามโอกาส"


def _compact(norm: str) -> str:
    return norm.replace(" ", "")


def _recurrence_words(norm: str) -> set[str]:
    compact = _compact(norm)
    return {code for code, pattern in _RECURRENCE_PATTERNS.items() if re.search(pattern, compact)}


def _rounds_are_recurrence(tokens: _Tokens, words: set[str]) -> bool:
    """"รอบ 6 เดือน" names a period on its own, but a rhythm in a list of rhythms
    ("ทุกเดือน, รอบไตรมาส, รอบ 6 เดือน") or next to the other round."""
    return bool(tokens.rounds) and (bool(words) or len(set(tokens.rounds)) > 1)


def _ordered(codes: set[str]) -> tuple[str, ...]:
    return tuple(code for code in RECURRENCE_CODES if code in codes)


# --- reading: periods ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodParse:
    """What :func:`parse_period` read. ``ok=False`` means start/end are None and ``reason`` says
    why; ``recurrence`` is filled whenever the words say it, even when no dates could be read."""

    text: str
    start: date | None
    end: date | None
    recurrence: tuple[str, ...]
    ok: bool
    reason: str | None


def _ce_year_in_fiscal_year(month: int, fy_be: int) -> int:
    """Oct-Dec lie in the fiscal year's first CE year, Jan-Sep in its second."""
    end_ce = be_to_ce(fy_be)
    return end_ce - 1 if month >= FISCAL_YEAR_FIRST_MONTH else end_ce


def _make_date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise _Unreadable(f"no such date: day {day}, month {month}, year {ce_to_be(year)} BE") from None


def _first_day(point: _Point, year: int) -> date:
    return _make_date(year, point.month, point.day or 1)


def _last_day(point: _Point, year: int) -> date:
    if not 1 <= point.month <= 12:
        raise _Unreadable(f"no such month: {point.month}")
    if point.day is None:
        return month_end(year, point.month)
    return _make_date(year, point.month, point.day)


def _single_point_period(point: _Point, fy_be: int | None) -> tuple[date, date]:
    if point.year_ce is not None:
        year = point.year_ce
    elif fy_be is not None:
        year = _ce_year_in_fiscal_year(point.month, fy_be)
    else:
        raise _Unreadable("no year in the text and no fiscal year given")
    return _first_day(point, year), _last_day(point, year)


def _range_period(left: _Point, right: _Point, fy_be: int | None) -> tuple[date, date]:
    """Two ends of a range; a year (or month) written only on one side applies to both.

    When borrowing the right-hand year puts the start after the end, the start is in the
    previous year ("พฤศจิกายน - มีนาคม 2566"); the same the other way round.
    """
    if left.month is None:  # "1 - 30 มิถุนายน 2566"
        left = _Point(left.day, right.month, right.year_ce)
    if left.year_ce is None and right.year_ce is None:
        if fy_be is None:
            raise _Unreadable("no year in the text and no fiscal year given")
        start_year = _ce_year_in_fiscal_year(left.month, fy_be)
        end_year = _ce_year_in_fiscal_year(right.month, fy_be)
    elif left.year_ce is None:
        end_year = right.year_ce
        start_year = end_year
        if _first_day(left, start_year) > _last_day(right, end_year):
            start_year -= 1
    elif right.year_ce is None:
        start_year = left.year_ce
        end_year = start_year
        if _first_day(left, start_year) > _last_day(right, end_year):
            end_year += 1
    else:
        start_year, end_year = left.year_ce, right.year_ce
    start, end = _first_day(left, start_year), _last_day(right, end_year)
    if start > end:
        raise _Unreadable("the period starts after it ends")
    return start, end


def _dates_from_points(tokens: _Tokens, fy_be: int | None) -> tuple[date, date]:
    points = tokens.points
    if len(points) > 2:
        raise _Unreadable("more than one period in the text")
    if tokens.bare_years and all(p.year_ce is None for _, p in points):
        raise _Unreadable("a year in the text is not tied to a month")
    if len(points) == 1:
        return _single_point_period(points[0][1], fy_be)
    (left_pos, left), (right_pos, right) = points
    if not any(left_pos < sep < right_pos for sep in tokens.seps):
        raise _Unreadable("two dates without a range sign (-, ถึง) between them")
    return _range_period(left, right, fy_be)


def _fiscal_year_in_text(tokens: _Tokens) -> int | None:
    written = {fy for fy in tokens.fiscal_years if fy is not None}
    written |= {fy for _, fy in tokens.quarters if fy is not None}
    if len(written) > 1:
        raise _Unreadable("more than one fiscal year in the text")
    return next(iter(written), None)


def _dates_without_points(
    tokens: _Tokens, *, fy_be: int | None, rounds_are_recurrence: bool, says_when: bool
) -> tuple[date, date]:
    """Quarter, round or whole fiscal year, for texts that name no month."""
    if tokens.bare_years:
        raise _Unreadable("a year in the text is not tied to a month or to the fiscal year")
    if tokens.quarters:
        if len({q for q, _ in tokens.quarters}) > 1:
            raise _Unreadable("more than one quarter in the text")
        quarter = tokens.quarters[0][0]
        if fy_be is None:
            raise _Unreadable("a quarter without a fiscal year")
        if quarter not in (1, 2, 3, 4):
            raise _Unreadable(f"no such quarter: {quarter}")
        return quarter_bounds(fy_be, quarter)
    if tokens.rounds and not rounds_are_recurrence:
        if fy_be is None:
            raise _Unreadable("a reporting round without a fiscal year")
        return round_bounds(fy_be, tokens.rounds[0])
    if tokens.fiscal_years or tokens.rounds or says_when:
        if fy_be is None:
            raise _Unreadable("no year in the text and no fiscal year given")
        return fiscal_year_bounds(fy_be)
    raise _Unreadable("no date, month, quarter, round or fiscal year in the text")


def parse_period(text: str, *, fiscal_year: int | None = None) -> PeriodParse:
    """Read a period as agencies write it ("ตุลาคม ๒๕๖๕ - เมษายน ๒๕๖๖", "ไตรมาสที่ 2/2566",
    "เป็นประจำทุกเดือน ... ปีงบประมาณ พ.ศ.๒๕๖๖") into start/end dates and recurrence codes.

    ``fiscal_year`` (BE) is the report's year: it places months written without a year
    (Oct-Dec in the earlier CE year) and gives yearless "ทุกเดือน" / "รอบ 6 เดือน" their year.
    A fiscal year written in the text wins over it. Anything unreadable gives ``ok=False``.
    """
    recurrence: tuple[str, ...] = ()
    try:
        norm = _normalize(text)
        if not norm:
            raise _Unreadable("empty text")
        tokens = _tokenize(norm)
        words = _recurrence_words(norm)
        rounds_are_recurrence = _rounds_are_recurrence(tokens, words)
        if rounds_are_recurrence:
            words |= {"semiannual" if r == 6 else "annual" for r in tokens.rounds}
        recurrence = _ordered(words)
        fy_be = _fiscal_year_in_text(tokens) or fiscal_year
        if tokens.points:
            start, end = _dates_from_points(tokens, fy_be)
        else:
            says_when = bool(words) or re.search(_ANYTIME_PATTERN, _compact(norm)) is not None
            start, end = _dates_without_points(
                tokens, fy_be=fy_be, rounds_are_recurrence=rounds_are_recurrence, says_when=says_when
            )
    except (_Unreadable, ValueError, OverflowError) as exc:
        reason = str(exc) if isinstance(exc, _Unreadable) else f"unreadable date: {exc}"
        return PeriodParse(text, None, None, recurrence, False, reason)
    return PeriodParse(text, start, end, recurrence, True, None)


# --- reading: single dates -------------------------------------------------------------------------


def _full_dates(text: str, default_year_be: int | None) -> list[date | None]:
    """Every day-month(-year) written in the text, None for one that cannot be a date."""
    found: list[date | None] = []
    for _, point in _tokenize(_normalize(text), strict=False).points:
        if point.day is None or point.month is None:
            found.append(None)
            continue
        year = point.year_ce
        if year is None and default_year_be is not None:
            year = be_to_ce(default_year_be)
        try:
            found.append(date(year, point.month, point.day) if year is not None else None)
        except ValueError:
            found.append(None)
    return found


def parse_thai_date(text: str, *, default_year_be: int | None = None) -> date | None:
    """One date: "7 มีนาคม 2566", "๒ เมษายน ๒๕๖๖", "2 เม.ย. 66", "วันที่ 7 มีนาคม 2566",
    "2023-03-07", "7/3/2566" (day first; a year > 2400 is BE).

    None when the text holds no date, more than one, or one without a day or year
    (``default_year_be`` fills a missing year) — never a guess.
    """
    try:
        found = _full_dates(text, default_year_be)
    except (_Unreadable, ValueError, OverflowError):
        return None
    return found[0] if len(found) == 1 else None


def find_thai_dates(text: str) -> list[date]:
    """All complete dates written in a longer text (an activity report), in order."""
    try:
        return [d for d in _full_dates(text, None) if d is not None]
    except (_Unreadable, ValueError, OverflowError):
        return []
