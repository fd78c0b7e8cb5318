"""The framework's vocabulary and the checks of single values, shared by the year files and an
agency's overrides: each raises ``ValueError`` naming the key."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any, Optional

AGENCY_KINDS: list[str] = ["เทศบาลนคร", "เทศบาลเมือง", "เทศบาลตำบล", "อบจ.", "อบต.", "other"]
AGENCY_SIZES: list[str] = ["S", "M", "L"]
INSTRUMENT_KEYS = ("iit", "eit", "oit")
CONFIDENCES = ("H", "M", "L", "U")

_O_ITEM = re.compile(r"^O\d{1,3}$")
_SPACE = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]+")


def normalize_text(text: str) -> str:
    """NFC with every whitespace (and zero-width space) removed.

    Thai is written without spaces between words, so forms differ mostly in stray spaces
    ("น้อยที่สุด หรือไม่มีเลย"); removing them all makes such variants compare equal.
    """
    return _SPACE.sub("", unicodedata.normalize("NFC", text))


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where} must be a non-empty text")
    return value


def _number(value: Any, key: str, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{key} must be a number, got {value!r}")
    if not lo <= value <= hi:
        raise ValueError(f"{key} must be between {lo} and {hi}, got {value}")
    return float(value)


def _eit_min(value: Any, key: str) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100_000:
        raise ValueError(f"{key} must be a whole number of respondents (0 or more) or None, got {value!r}")
    return value


def _month_day(value: Any, key: str) -> tuple[int, int]:
    """[month, day] (a list, as JSON stores it) or "MM-DD"."""
    if isinstance(value, str) and (m := re.fullmatch(r"\s*(\d{1,2})-(\d{1,2})\s*", value)):
        value = [int(m.group(1)), int(m.group(2))]
    ok = isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(x, int) and not isinstance(x, bool) for x in value)
    if ok:
        try:
            dt.date(2000, value[0], value[1])  # a leap year, so 2-29 is allowed
        except ValueError:
            ok = False
    if not ok:
        raise ValueError(f"{key} must be [month, day] or \"MM-DD\" of a real date, got {value!r}")
    return (value[0], value[1])


def _o_item(value: Any, key: str) -> Optional[str]:
    if value is None:
        return None
    if not isinstance(value, str) or not _O_ITEM.match(value.strip().upper()):
        raise ValueError(f"{key} must be an OIT item number like \"O42\" or None, got {value!r}")
    return value.strip().upper()


def _fy_order(md: tuple[int, int]) -> tuple[int, int]:
    """Sort key of a month-day within a fiscal year (October first)."""
    return ((md[0] - 10) % 12, md[1])


def _nearest(prov: dict[str, dict], key: str) -> Optional[dict]:
    """The provenance of a key, or of its nearest parent that has one."""
    while key:
        if key in prov:
            return prov[key]
        key = key.rpartition(".")[0]
    return None


def _canonical(key: str) -> str:
    """Accept ``eit_minimum.อบจ.S`` for ``eit_minimum.อบจ..S`` (the kind itself ends in a dot)."""
    if isinstance(key, str) and key.startswith("eit_minimum."):
        kind, _, size = key[len("eit_minimum."):].rpartition(".")
        if kind not in AGENCY_KINDS and kind + "." in AGENCY_KINDS:
            return f"eit_minimum.{kind}..{size}"
    return key
