"""Thai calendar helpers: fiscal year arithmetic, names, digits, formatting, and reading the
periods and dates written in the two seed reports (shared/seeds/000_*.txt, 004_*.txt)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ita_dashboard.thai import (
    THAI_MONTHS,
    THAI_MONTHS_ABBR,
    PeriodParse,
    be_to_ce,
    ce_to_be,
    collection_window_default,
    find_thai_dates,
    fiscal_months,
    fiscal_quarter_of,
    fiscal_year_bounds,
    fiscal_year_of,
    format_date_th,
    format_datetime_th,
    format_fiscal_year,
    format_month_th,
    format_period_th,
    month_end,
    parse_period,
    parse_thai_date,
    quarter_bounds,
    round_bounds,
    round_of,
    thai_month_name,
    to_arabic_digits,
    to_thai_digits,
)

D = date
FY2566 = (D(2022, 10, 1), D(2023, 9, 30))
FY2568 = (D(2024, 10, 1), D(2025, 9, 30))


# --- years and the fiscal calendar -----------------------------------------------------------


def test_be_ce_round_trip():
    assert be_to_ce(2566) == 2023
    assert ce_to_be(2023) == 2566
    assert ce_to_be(be_to_ce(2568)) == 2568


@pytest.mark.parametrize(
    ("day", "fy"),
    [
        (D(2022, 9, 30), 2565),
        (D(2022, 10, 1), 2566),
        (D(2022, 12, 31), 2566),
        (D(2023, 1, 1), 2566),
        (D(2023, 9, 30), 2566),
        (D(2023, 10, 1), 2567),
    ],
)
def test_fiscal_year_of_edges(day, fy):
    assert fiscal_year_of(day) == fy


def test_fiscal_year_of_accepts_datetime():
    assert fiscal_year_of(datetime(2024, 10, 1, 0, 5)) == 2568


def test_fiscal_year_bounds():
    assert fiscal_year_bounds(2566) == FY2566
    assert fiscal_year_bounds(2568) == FY2568


def test_fiscal_months_run_october_to_september():
    months = fiscal_months(2566)
    assert len(months) == 12
    assert months[0] == (2022, 10)
    assert months[2] == (2022, 12)
    assert months[3] == (2023, 1)
    assert months[-1] == (2023, 9)


@pytest.mark.parametrize(
    ("year", "month", "end"),
    [(2023, 2, D(2023, 2, 28)), (2024, 2, D(2024, 2, 29)), (2022, 12, D(2022, 12, 31)), (2023, 4, D(2023, 4, 30))],
)
def test_month_end(year, month, end):
    assert month_end(year, month) == end


@pytest.mark.parametrize(
    ("day", "quarter"),
    [
        (D(2022, 10, 1), 1),
        (D(2022, 12, 31), 1),
        (D(2023, 1, 1), 2),
        (D(2023, 3, 31), 2),
        (D(2023, 4, 1), 3),
        (D(2023, 6, 30), 3),
        (D(2023, 7, 1), 4),
        (D(2023, 9, 30), 4),
    ],
)
def test_fiscal_quarter_of_edges(day, quarter):
    assert fiscal_quarter_of(day) == quarter


@pytest.mark.parametrize(
    ("quarter", "bounds"),
    [
        (1, (D(2022, 10, 1), D(2022, 12, 31))),
        (2, (D(2023, 1, 1), D(2023, 3, 31))),
        (3, (D(2023, 4, 1), D(2023, 6, 30))),
        (4, (D(2023, 7, 1), D(2023, 9, 30))),
    ],
)
def test_quarter_bounds(quarter, bounds):
    assert quarter_bounds(2566, quarter) == bounds


@pytest.mark.parametrize("bad", [0, 5, -1])
def test_quarter_bounds_rejects_other_quarters(bad):
    with pytest.raises(ValueError):
        quarter_bounds(2566, bad)


@pytest.mark.parametrize(
    ("day", "rnd"),
    [
        (D(2022, 9, 30), 12),
        (D(2022, 10, 1), 6),
        (D(2023, 3, 31), 6),
        (D(2023, 4, 1), 12),
        (D(2023, 9, 30), 12),
    ],
)
def test_round_of_edges(day, rnd):
    assert round_of(day) == rnd


def test_round_bounds():
    assert round_bounds(2566, 6) == (D(2022, 10, 1), D(2023, 3, 31))
    assert round_bounds(2566, 12) == FY2566
    with pytest.raises(ValueError):
        round_bounds(2566, 3)


def test_collection_window_default_is_january_to_june_of_second_ce_year():
    assert collection_window_default(2566) == (D(2023, 1, 1), D(2023, 6, 30))
    assert collection_window_default(2568) == (D(2025, 1, 1), D(2025, 6, 30))


# --- names and digits -------------------------------------------------------------------------


def test_month_tables():
    assert len(THAI_MONTHS) == 12 and len(THAI_MONTHS_ABBR) == 12
    assert THAI_MONTHS[0] == "มกราคม"
    assert THAI_MONTHS[2] == "มีนาคม"
    assert THAI_MONTHS[11] == "ธันวาคม"
    assert THAI_MONTHS_ABBR == (
        "ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.",
        "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.",
    )


def test_thai_month_name():
    assert thai_month_name(10) == "ตุลาคม"
    assert thai_month_name(10, abbr=True) == "ต.ค."
    assert thai_month_name(2) == "กุมภาพันธ์"
    for bad in (0, 13):
        with pytest.raises(ValueError):
            thai_month_name(bad)


def test_digits_both_ways():
    assert to_thai_digits("2566") == "๒๕๖๖"
    assert to_thai_digits("0123456789") == "๐๑๒๓๔๕๖๗๘๙"
    assert to_arabic_digits("๑ ตุลาคม ๒๕๖๕") == "1 ตุลาคม 2565"
    assert to_arabic_digits("๐๑๒๓๔๕๖๗๘๙") == "0123456789"
    assert to_thai_digits("abc มีนาคม") == "abc มีนาคม"


def test_one_thai_digit_converter():
    """Importers, department names and period parsing read Thai digits through one function:
    the package holds no second table of ๐-๙ (issue 14 point 6)."""
    from pathlib import Path

    import ita_dashboard
    from ita_dashboard import departments
    from ita_dashboard.importers.surveys import header_signature

    package = Path(ita_dashboard.__file__).parent
    tables = sorted(str(p.relative_to(package)) for p in package.rglob("*.py")
                    if "๐๑๒๓๔๕๖๗๘๙" in p.read_text(encoding="utf-8"))
    assert tables == ["thai/names.py"]
    assert departments.normalize_name("กอง ๒") == departments.normalize_name("กอง 2")
    assert header_signature(["ข้อ ๑"]) == header_signature(["ข้อ 1"])
    assert to_arabic_digits("") == ""


@given(st.text())
def test_digit_conversion_round_trips_text_without_thai_digits(s):
    plain = to_arabic_digits(s)
    assert to_arabic_digits(to_thai_digits(plain)) == plain


# --- formatting -------------------------------------------------------------------------------


def test_format_date_th():
    assert format_date_th(D(2023, 3, 7)) == "7 มีนาคม 2566"
    assert format_date_th(D(2023, 3, 7), abbr=True) == "7 มี.ค. 2566"
    assert format_date_th(D(2023, 4, 2), thai_digits=True) == "๒ เมษายน ๒๕๖๖"


def test_format_month_and_fiscal_year():
    assert format_month_th(2023, 3) == "มีนาคม 2566"
    assert format_month_th(2022, 10, abbr=True) == "ต.ค. 2565"
    assert format_fiscal_year(2566) == "ปีงบประมาณ พ.ศ. 2566"


def test_format_datetime_th():
    assert format_datetime_th(datetime(2023, 3, 7, 13, 42)) == "7 มี.ค. 2566 13:42"
    assert format_datetime_th(datetime(2023, 3, 7, 9, 5)) == "7 มี.ค. 2566 09:05"


def test_format_period_th():
    assert format_period_th(D(2022, 10, 1), D(2023, 4, 30)) == "ต.ค. 2565 – เม.ย. 2566"
    assert format_period_th(D(2023, 3, 1), D(2023, 3, 31)) == "มี.ค. 2566"
    assert format_period_th(D(2023, 3, 7), D(2023, 3, 7)) == "7 มี.ค. 2566"
    assert format_period_th(D(2023, 1, 15), D(2023, 6, 30)) == "15 ม.ค. 2566 – 30 มิ.ย. 2566"


# --- parse_thai_date --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7 มีนาคม 2566", D(2023, 3, 7)),
        ("๒ เมษายน ๒๕๖๖", D(2023, 4, 2)),
        ("2 เม.ย. 66", D(2023, 4, 2)),
        ("วันที่ 7 มีนาคม 2566", D(2023, 3, 7)),
        ("เมื่อวันที่ ๒๕ มีนาคม ๒๕๖๖ ณ ห้องประชุม", D(2023, 3, 25)),
        ("2023-03-07", D(2023, 3, 7)),
        ("7/3/2566", D(2023, 3, 7)),
        ("7/3/2023", D(2023, 3, 7)),
        ("7 มี.ค. 2566 13:42", D(2023, 3, 7)),
        ("1 ต.ค.2565", D(2022, 10, 1)),
        ("7 มีนาคม พ.ศ. 2566", D(2023, 3, 7)),
        ("29 ก.พ. 2567", D(2024, 2, 29)),
    ],
)
def test_parse_thai_date(text, expected):
    assert parse_thai_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "มีนาคม 2566",  # no day
        "7 มีนาคม",  # no year
        "31 กุมภาพันธ์ 2566",  # no such day
        "29 ก.พ. 2566",  # 2023 is not a leap year
        "7 มีนาคม 2566 - 8 มีนาคม 2566",  # two dates
        "ทุกสำนัก/ กอง",
        "7/13/2566",  # day-first: month 13
    ],
)
def test_parse_thai_date_returns_none_rather_than_guessing(text):
    assert parse_thai_date(text) is None


def test_parse_thai_date_default_year():
    assert parse_thai_date("7 มีนาคม", default_year_be=2566) == D(2023, 3, 7)
    assert parse_thai_date("7 มีนาคม 2567", default_year_be=2566) == D(2024, 3, 7)


def test_find_thai_dates_in_seed_activity_text():
    text = (
        "เมื่อวันที่ 7 มีนาคม 2566 ณ ห้องประชุมเทศบาลตำบลนาอ้อ ... ประจำเดือนมีนาคม 2566 ... "
        "ขอความร่วมมือให้ทุกกองทำงานให้เสร็จเรียบร้อยภายในวันที่ ๒๕ มีนาคม ๒๕๖๖ ... "
        "วันที่ 2 เมษายน 2566 นางกองเพชร ศรียาขำ"
    )
    assert find_thai_dates(text) == [D(2023, 3, 7), D(2023, 3, 25), D(2023, 4, 2)]


# --- parse_period: the seed texts ----------------------------------------------------------------


def _assert_period(result: PeriodParse, start: date, end: date, recurrence: tuple[str, ...] = ()):
    assert result.ok, result.reason
    assert result.reason is None
    assert (result.start, result.end) == (start, end)
    assert result.recurrence == recurrence


# Every text in the period column ("ระยะเวลาดำเนินการ") of seed 000 (FY 2566, 12-month round).
SEED_000 = [
    ("ตุลาคม ๒๕๖๕ - เมษายน ๒๕๖๖", D(2022, 10, 1), D(2023, 4, 30), ()),
    ("ตุลาคม ๒๕๖๕ - ธันวาคม ๒๕๖๕", D(2022, 10, 1), D(2022, 12, 31), ()),
    (
        "เป็นประจำทุก เดือน, รอบไตรมาส,รอบ ๖ เดือน ใน ปีงบประมาณ พ.ศ.๒๕๖๖",
        *FY2566,
        ("monthly", "quarterly", "semiannual"),
    ),
    ("๑ มกราคม - ๓๐ มิถุนายน ๒๕๖๖", D(2023, 1, 1), D(2023, 6, 30), ()),
    ("๑ ตุลาคม ๒๕๖๕ – ๓๐ กันยายน ๒๕๖๖", *FY2566, ()),
]
# Seed 004 (FY 2568): the period column as written, including the tables whose period and
# responsible-unit columns are swapped, so the "period" cell holds a unit.
SEED_004_PERIODS = [("ตุลาคม ๒๕๖๗ - กันยายน ๒๕๖๘", *FY2568, ())]
SEED_004_UNITS_IN_PERIOD_COLUMN = ["ทุกสำนัก/ กอง", "ทุกสำนัก/กอง", "สำนักปลัด อบต.", "กองคลัง"]


@pytest.mark.parametrize(("text", "start", "end", "recurrence"), SEED_000 + SEED_004_PERIODS)
@pytest.mark.parametrize("fiscal_year", [None, 2566, 2568])
def test_seed_periods(text, start, end, recurrence, fiscal_year):
    """Years written in the text win over the report's fiscal year."""
    result = parse_period(text, fiscal_year=fiscal_year)
    _assert_period(result, start, end, recurrence)
    assert result.text == text


@pytest.mark.parametrize("text", SEED_004_UNITS_IN_PERIOD_COLUMN)
@pytest.mark.parametrize("fiscal_year", [None, 2568])
def test_units_written_in_the_period_column_are_flagged(text, fiscal_year):
    result = parse_period(text, fiscal_year=fiscal_year)
    assert not result.ok
    assert result.start is None and result.end is None
    assert result.reason
    assert result.text == text


def test_seed_cells_with_markup():
    _assert_period(parse_period("<p>ตุลาคม ๒๕๖๕ - เมษายน ๒๕๖๖</p>"), D(2022, 10, 1), D(2023, 4, 30))
    _assert_period(parse_period("<p>๑ ตุลาคม ๒๕๖๕ – ๓๐ กันยายน ๒๕๖๖</p>"), *FY2566)


def test_seed_report_headers():
    _assert_period(parse_period("ประจำปีงบประมาณ พ.ศ.2566 (รอบ 12 เดือน)"), *FY2566)
    _assert_period(parse_period("ประจำปีงบประมาณ พ.ศ. ๒๕๖๘"), *FY2568)


# --- parse_period: kin of the seed texts --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fiscal_year", "start", "end", "recurrence"),
    [
        ("ปีงบประมาณ พ.ศ. 2568", None, *FY2568, ()),
        ("ปีงบประมาณ 2568", None, *FY2568, ()),
        ("ปีงบประมาณ 68", None, *FY2568, ()),
        ("ตลอดปีงบประมาณ 2568", None, *FY2568, ("continuous",)),
        ("ต.ค. 67 - ก.ย. 68", None, *FY2568, ()),
        ("ต.ค.67-ก.ย.68", None, *FY2568, ()),
        ("ตุลาคม 2567 ถึง กันยายน 2568", None, *FY2568, ()),
        ("ตั้งแต่ ต.ค. 65 จนถึง มี.ค. 66", None, D(2022, 10, 1), D(2023, 3, 31), ()),
        ("ตุลาคม  ๒๕๖๕   —   เมษายน   ๒๕๖๖", None, D(2022, 10, 1), D(2023, 4, 30), ()),
        ("ตุลาคม พ.ศ.๒๕๖๕ - เมษายน พ.ศ.๒๕๖๖", None, D(2022, 10, 1), D(2023, 4, 30), ()),
        ("มกราคม - มิถุนายน 2566", None, D(2023, 1, 1), D(2023, 6, 30), ()),
        ("1 มกราคม – 30 มิถุนายน 2566", None, D(2023, 1, 1), D(2023, 6, 30), ()),
        # the right-hand year would put the start after the end: the left is a year earlier
        ("พฤศจิกายน - มีนาคม 2566", None, D(2022, 11, 1), D(2023, 3, 31), ()),
        ("๑ ตุลาคม - ๓๑ ธันวาคม ๒๕๖๕", None, D(2022, 10, 1), D(2022, 12, 31), ()),
        ("1 - 30 มิถุนายน 2566", None, D(2023, 6, 1), D(2023, 6, 30), ()),
        ("ตุลาคม 2565 - มีนาคม", None, D(2022, 10, 1), D(2023, 3, 31), ()),
        ("2022-10-01 - 2023-03-31", None, D(2022, 10, 1), D(2023, 3, 31), ()),
        ("1/10/2565 - 31/3/2566", None, D(2022, 10, 1), D(2023, 3, 31), ()),
        ("ไตรมาสที่ 2/2566", None, D(2023, 1, 1), D(2023, 3, 31), ()),
        ("ไตรมาสที่ ๑/๒๕๖๖", None, D(2022, 10, 1), D(2022, 12, 31), ()),
        ("ไตรมาส 4 ปีงบประมาณ 2566", None, D(2023, 7, 1), D(2023, 9, 30), ()),
        ("ไตรมาสที่ 3", 2566, D(2023, 4, 1), D(2023, 6, 30), ()),
        ("รอบ 6 เดือน", 2566, D(2022, 10, 1), D(2023, 3, 31), ()),
        ("รอบ ๖ เดือน", 2568, D(2024, 10, 1), D(2025, 3, 31), ()),
        ("รอบ 12 เดือน", 2566, *FY2566, ()),
        ("รอบ 6 เดือน ปีงบประมาณ 2568", None, D(2024, 10, 1), D(2025, 3, 31), ()),
        ("มีนาคม 2566", None, D(2023, 3, 1), D(2023, 3, 31), ()),
        ("ก.พ. 67", None, D(2024, 2, 1), D(2024, 2, 29), ()),
        ("7 มีนาคม 2566", None, D(2023, 3, 7), D(2023, 3, 7), ()),
        ("ตลอดปี", 2566, *FY2566, ("continuous",)),
        ("ทุกเดือน", 2566, *FY2566, ("monthly",)),
        ("ดำเนินการทุกไตรมาส", 2568, *FY2568, ("quarterly",)),
        ("ทุกสัปดาห์", 2566, *FY2566, ("weekly",)),
        ("ปีละ 1 ครั้ง", 2566, *FY2566, ("annual",)),
        ("ปีละ 2 ครั้ง", 2566, *FY2566, ("semiannual",)),
        ("ทุกครึ่งปี", 2566, *FY2566, ("semiannual",)),
        ("รอบ 6 เดือน และ รอบ 12 เดือน", 2566, *FY2566, ("semiannual", "annual")),
        ("ตามความเหมาะสม", 2566, *FY2566, ()),
        ("ตลอดปีงบประมาณ", 2568, *FY2568, ("continuous",)),
        # no year written: months go inside the given fiscal year, Oct-Dec in the earlier CE year
        ("ตุลาคม - ธันวาคม", 2566, D(2022, 10, 1), D(2022, 12, 31), ()),
        ("ตุลาคม - มีนาคม", 2566, D(2022, 10, 1), D(2023, 3, 31), ()),
        ("มกราคม - มิถุนายน", 2566, D(2023, 1, 1), D(2023, 6, 30), ()),
        ("พฤศจิกายน", 2568, D(2024, 11, 1), D(2024, 11, 30), ()),
        ("ทุกเดือน ตั้งแต่ มกราคม - มิถุนายน", 2566, D(2023, 1, 1), D(2023, 6, 30), ("monthly",)),
        ("ตุลาคม - ธันวาคม ปีงบประมาณ 2568", 2566, D(2024, 10, 1), D(2024, 12, 31), ()),
        ("ตุลา 65 - เมษา 66", None, D(2022, 10, 1), D(2023, 4, 30), ()),
    ],
)
def test_period_kin(text, fiscal_year, start, end, recurrence):
    _assert_period(parse_period(text, fiscal_year=fiscal_year), start, end, recurrence)


# --- parse_period: what it must refuse ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fiscal_year"),
    [
        ("", None),
        ("", 2566),
        ("   ", 2566),
        ("ทุกสำนัก/ กอง", None),
        ("ทุกสำนัก/ กอง", 2566),
        ("ตามความเหมาะสม", None),
        ("ตลอดปี", None),
        ("รอบ 6 เดือน", None),
        ("ไตรมาสที่ 2", None),
        ("ไตรมาสที่ 5/2566", None),
        ("ตุลาคม - ธันวาคม", None),
        ("มีนาคม", None),
        ("ประจำปี 2566", 2566),  # calendar or fiscal year? not said
        ("ตลอดปี 2566", 2567),  # a year the text does not tie to anything
        ("31 กุมภาพันธ์ 2566", None),
        ("ตุลาคม 2566 - มีนาคม 2565", None),  # ends before it starts
        ("ต.ค. 65 - ธ.ค. 65 และ เม.ย. 66 - มิ.ย. 66", None),  # two periods
        ("ตุลาคม 2565 เมษายน 2566", None),  # two dates, no range sign
        ("ตุลาการ 2566", None),  # a judge, not October
        ("ครึ่งปีแรก", 2566),  # a half-year, not a rhythm, and which one is not read
        ("มกราคม - มิถุนายน, 2566", 2567),  # a loose year: months must not go into FY 2567
        ("ไตรมาสที่ 1/2566 ปีงบประมาณ 2567", None),  # two different fiscal years
        ("hello world", 2566),
    ],
)
def test_unreadable_periods_are_flagged(text, fiscal_year):
    result = parse_period(text, fiscal_year=fiscal_year)
    assert result.ok is False
    assert result.start is None and result.end is None
    assert isinstance(result.reason, str) and result.reason
    assert result.text == text


def test_unreadable_period_keeps_the_recurrence_it_saw():
    result = parse_period("ทุกเดือน")
    assert not result.ok
    assert result.recurrence == ("monthly",)
    assert "fiscal year" in result.reason


def test_period_parse_is_frozen():
    result = parse_period("มีนาคม 2566")
    with pytest.raises(AttributeError):
        result.start = None  # type: ignore[misc]


# --- never raise -------------------------------------------------------------------------------

_THAI_PIECES = st.sampled_from(
    list(THAI_MONTHS) + list(THAI_MONTHS_ABBR)
    + ["ปีงบประมาณ", "พ.ศ.", "ค.ศ.", "ไตรมาสที่", "รอบ", "เดือน", "ทุก", "ตลอดปี", "ถึง", "-", "–", "/",
       " ", "วันที่", "ตุลา", "๒๕๖๖", "2566", "66", "0", "31", "99", "9999", "<p>", "&nbsp;"]
)
_MIXED_TEXT = st.one_of(
    st.text(max_size=200),
    st.lists(st.one_of(_THAI_PIECES, st.integers(0, 99999).map(str)), max_size=20).map("".join),
    st.lists(st.one_of(_THAI_PIECES, st.integers(0, 99999).map(str)), max_size=20).map(" ".join),
)


@settings(max_examples=400, deadline=None)
@given(_MIXED_TEXT, st.one_of(st.none(), st.integers(-10**6, 10**6)))
def test_parse_period_never_raises(text, fiscal_year):
    result = parse_period(text, fiscal_year=fiscal_year)
    assert result.text == text
    if result.ok:
        assert result.start is not None and result.end is not None and result.start <= result.end
        assert result.reason is None
    else:
        assert result.start is None and result.end is None and result.reason


@settings(max_examples=400, deadline=None)
@given(_MIXED_TEXT, st.one_of(st.none(), st.integers(-10**6, 10**6)))
def test_parse_thai_date_and_find_never_raise(text, default_year):
    found = parse_thai_date(text, default_year_be=default_year)
    assert found is None or isinstance(found, date)
    assert all(isinstance(d, date) for d in find_thai_dates(text))


@given(st.dates(min_value=D(1950, 1, 1), max_value=D(2150, 12, 31)))
def test_formatted_dates_read_back(d):
    for abbr in (False, True):
        for thai_digits in (False, True):
            assert parse_thai_date(format_date_th(d, abbr=abbr, thai_digits=thai_digits)) == d


@given(st.dates(min_value=D(1950, 1, 1), max_value=D(2150, 12, 31)))
def test_fiscal_functions_agree(d):
    fy = fiscal_year_of(d)
    start, end = fiscal_year_bounds(fy)
    assert start <= d <= end
    q_start, q_end = quarter_bounds(fy, fiscal_quarter_of(d))
    assert q_start <= d <= q_end
    r_start, r_end = round_bounds(fy, round_of(d))
    assert r_start <= d <= r_end
    assert (d.year, d.month) in fiscal_months(fy)
