"""Thai month names and the one converter between Thai digits (๐-๙) and Arabic digits (0-9)."""

from __future__ import annotations

THAI_MONTHS: tuple[str, ...] = (
    "มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน",
    "กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม",
)
THAI_MONTHS_ABBR: tuple[str, ...] = (
    "ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.",
    "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.",
)


def thai_month_name(month: int, *, abbr: bool = False) -> str:
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 1..12, got {month!r}")
    return (THAI_MONTHS_ABBR if abbr else THAI_MONTHS)[month - 1]


_THAI_DIGITS = "๐๑๒๓๔๕๖๗๘๙"
_TO_THAI = str.maketrans("0123456789", _THAI_DIGITS)
_TO_ARABIC = str.maketrans(_THAI_DIGITS, "0123456789")


def to_thai_digits(s: str) -> str:
    """"2568" -> "๒๕๖๘"; every other character unchanged."""
    return s.translate(_TO_THAI)


def to_arabic_digits(s: str) -> str:
    """"๒๕๖๘" -> "2568"; every other character unchanged. The app's one reading of Thai digits:
    importers, name comparison and period parsing all go through it (tests/test_thai.py checks
    that no other conversion table exists)."""
    return s.translate(_TO_ARABIC)
