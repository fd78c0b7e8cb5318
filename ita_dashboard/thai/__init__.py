# No library: pythainlp (67 MB installed) covers only month tables, digits and strftime here, and neither ranges nor fiscal years.
"""Thai calendar helpers: Buddhist-era years, the Thai fiscal year (Oct-Sep), Thai month names
and digits, formatting for the screen, and reading dates and periods as agencies write them.

Modules: ``fiscal`` (years, the fiscal calendar), ``names`` (month names, the one Thai-digit
converter), ``formatting`` (screen texts, the date picker's logic), ``periods`` (reading).

Store ISO dates (``datetime.date``, CE); show BE years and Thai month names (design.md, "Time").

Reading is strict on purpose: a text that does not say when something happens gives
``ok=False`` with a reason, never a plausible-looking guess, so an importer can tell a period
from a responsible unit written in the wrong column.
"""

from .fiscal import (BE_OFFSET, be_to_ce, ce_to_be, collection_window_default, fiscal_months, fiscal_quarter_of,
                     fiscal_year_bounds, fiscal_year_of, month_end, quarter_bounds, round_bounds, round_of)
from .formatting import (be_years_between, date_from_parts, file_date, format_date_th, format_datetime_th,
                         format_fiscal_year, format_month_th, format_period_th)
from .names import THAI_MONTHS, THAI_MONTHS_ABBR, thai_month_name, to_arabic_digits, to_thai_digits
from .periods import RECURRENCE_CODES, PeriodParse, find_thai_dates, parse_period, parse_thai_date

__all__ = [
    "BE_OFFSET",
    "THAI_MONTHS",
    "THAI_MONTHS_ABBR",
    "RECURRENCE_CODES",
    "PeriodParse",
    "be_to_ce",
    "ce_to_be",
    "fiscal_year_of",
    "fiscal_year_bounds",
    "fiscal_quarter_of",
    "quarter_bounds",
    "round_of",
    "round_bounds",
    "fiscal_months",
    "month_end",
    "collection_window_default",
    "thai_month_name",
    "to_thai_digits",
    "to_arabic_digits",
    "format_date_th",
    "format_month_th",
    "format_fiscal_year",
    "format_datetime_th",
    "format_period_th",
    "file_date",
    "date_from_parts",
    "be_years_between",
    "parse_thai_date",
    "find_thai_dates",
    "parse_period",
]
