"""Buddhist-era years and the Thai fiscal year (October to September): quarters, rounds, months."""

from __future__ import annotations

import calendar
from datetime import date

BE_OFFSET = 543

FISCAL_YEAR_FIRST_MONTH = 10  # October


def be_to_ce(year: int) -> int:
    return year - BE_OFFSET


def ce_to_be(year: int) -> int:
    return year + BE_OFFSET


def fiscal_year_of(d: date) -> int:
    """The BE fiscal year a date falls in: FY N runs 1 Oct (N-544 CE) .. 30 Sep (N-543 CE)."""
    ce_year_the_fy_ends_in = d.year + 1 if d.month >= FISCAL_YEAR_FIRST_MONTH else d.year
    return ce_to_be(ce_year_the_fy_ends_in)


def fiscal_year_bounds(fy_be: int) -> tuple[date, date]:
    end_ce = be_to_ce(fy_be)
    return date(end_ce - 1, 10, 1), date(end_ce, 9, 30)


def fiscal_months(fy_be: int) -> list[tuple[int, int]]:
    """The 12 (ce_year, month) pairs of a fiscal year, October first."""
    end_ce = be_to_ce(fy_be)
    return [(end_ce - 1, m) for m in (10, 11, 12)] + [(end_ce, m) for m in range(1, 10)]


def month_end(ce_year: int, month: int) -> date:
    return date(ce_year, month, calendar.monthrange(ce_year, month)[1])


def fiscal_quarter_of(d: date) -> int:
    """1..4: Q1 Oct-Dec, Q2 Jan-Mar, Q3 Apr-Jun, Q4 Jul-Sep."""
    return (d.month - FISCAL_YEAR_FIRST_MONTH) % 12 // 3 + 1


def quarter_bounds(fy_be: int, quarter: int) -> tuple[date, date]:
    if quarter not in (1, 2, 3, 4):
        raise ValueError(f"fiscal quarter must be 1..4, got {quarter!r}")
    months = fiscal_months(fy_be)[(quarter - 1) * 3 : quarter * 3]
    first_year, first_month = months[0]
    last_year, last_month = months[-1]
    return date(first_year, first_month, 1), month_end(last_year, last_month)


def round_of(d: date) -> int:
    """The reporting round a date is reported in first: 6 for Oct-Mar, 12 for Apr-Sep.

    The 6-month round covers Oct-Mar and the 12-month round covers the whole fiscal year
    (Oct-Sep), so a date in Oct-Mar belongs to both rounds; this returns the smaller one.
    """
    return 6 if fiscal_quarter_of(d) <= 2 else 12


def round_bounds(fy_be: int, round: int) -> tuple[date, date]:  # noqa: A002 - the domain word
    """6 -> 1 Oct .. 31 Mar; 12 -> 1 Oct .. 30 Sep (the whole fiscal year)."""
    start, fy_end = fiscal_year_bounds(fy_be)
    if round == 6:
        return start, date(fy_end.year, 3, 31)
    if round == 12:
        return start, fy_end
    raise ValueError(f"reporting round must be 6 or 12, got {round!r}")


def collection_window_default(fy_be: int) -> tuple[date, date]:
    """Default IIT/EIT collection window: 1 Jan .. 30 Jun of the fiscal year's second CE year.

    The survey usually runs until the end of June; this is only the starting value, the admin
    can set the real window for each year.
    """
    ce_year = be_to_ce(fy_be)
    return date(ce_year, 1, 1), date(ce_year, 6, 30)
