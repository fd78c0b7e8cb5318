"""Dates for the screen (BE years, Thai month names, optional Thai digits), and a date picked as
BE day / Thai month / BE year."""

from __future__ import annotations

import calendar
from datetime import date, datetime
from typing import ClassVar

from ..errors import ItaError
from .fiscal import be_to_ce, ce_to_be, month_end
from .names import thai_month_name, to_thai_digits

class DateNotPossible(ItaError, ValueError):
    """A picked date the calendar does not have, or outside the dates allowed (a message for the user)."""

    codes: ClassVar[tuple[str, ...]] = ("thai_no_such_month", "thai_no_such_day", "thai_date_too_early",
                                        "thai_date_too_late")


def _digits(text: str, thai_digits: bool) -> str:
    return to_thai_digits(text) if thai_digits else text


def format_date_th(d: date, *, abbr: bool = False, thai_digits: bool = False) -> str:
    """"7 มีนาคม 2566", or "7 มี.ค. 2566" with abbr."""
    text = f"{d.day} {thai_month_name(d.month, abbr=abbr)} {ce_to_be(d.year)}"
    return _digits(text, thai_digits)


def format_month_th(ce_year: int, month: int, *, abbr: bool = False, thai_digits: bool = False) -> str:
    """"มีนาคม 2566"."""
    return _digits(f"{thai_month_name(month, abbr=abbr)} {ce_to_be(ce_year)}", thai_digits)


def format_fiscal_year(fy_be: int, *, thai_digits: bool = False) -> str:
    return _digits(f"ปีงบประมาณ พ.ศ. {fy_be}", thai_digits)


def format_datetime_th(dt: datetime | date, *, thai_digits: bool = False) -> str:
    """"7 มี.ค. 2566 13:42"; a plain date is shown without a time."""
    text = format_date_th(dt, abbr=True)
    if isinstance(dt, datetime):
        text += f" {dt.hour:02d}:{dt.minute:02d}"
    return _digits(text, thai_digits)


def format_period_th(start: date, end: date, *, abbr: bool = True, thai_digits: bool = False) -> str:
    """A stored period as people write it: whole months as "ต.ค. 2565 – เม.ย. 2566", else dates."""
    if start == end:
        text = format_date_th(start, abbr=abbr)
    elif start.day == 1 and end == month_end(end.year, end.month):
        first = format_month_th(start.year, start.month, abbr=abbr)
        last = format_month_th(end.year, end.month, abbr=abbr)
        text = first if first == last else f"{first} – {last}"
    else:
        text = f"{format_date_th(start, abbr=abbr)} – {format_date_th(end, abbr=abbr)}"
    return _digits(text, thai_digits)


def file_date(d: date) -> str:
    """A date for a file name, sortable and in the Buddhist era: ``2566-03-31``."""
    return f"{ce_to_be(d.year)}-{d.month:02d}-{d.day:02d}"


# --- picking a date on screen (day / Thai month / BE year) -----------------------------------------


def be_years_between(lo: date, hi: date) -> list[int]:
    """The BE years a date between ``lo`` and ``hi`` (inclusive) can fall in, oldest first."""
    if lo > hi:
        lo, hi = hi, lo
    return [ce_to_be(y) for y in range(lo.year, hi.year + 1)]


def date_from_parts(day: int, month: int, year_be: int, *, lo: date | None = None, hi: date | None = None) -> date:
    """The date a person picked as BE day / Thai month / BE year.

    Raises DateNotPossible (a ValueError) with a Thai message for a day the month does not have ("31 กุมภาพันธ์")
    or a date outside ``lo``..``hi``: never a silently moved date.
    """
    if not 1 <= month <= 12:
        raise DateNotPossible(code="thai_no_such_month", month=month)
    year_ce = be_to_ce(year_be)
    last = calendar.monthrange(year_ce, month)[1]
    if not 1 <= day <= last:
        raise DateNotPossible(code="thai_no_such_day", month=thai_month_name(month), year=year_be, days=last, day=day)
    picked = date(year_ce, month, day)
    if lo is not None and picked < lo:
        raise DateNotPossible(code="thai_date_too_early", date=format_date_th(lo))
    if hi is not None and picked > hi:
        raise DateNotPossible(code="thai_date_too_late", date=format_date_th(hi))
    return picked
