"""Cell text helpers of the survey parser: clean text, header keys and signatures, column letters."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from typing import Any, Sequence

from ...thai import to_arabic_digits

_WS_RE = re.compile(r"[\s\u200b\u00a0\ufeff]+")

# The name a column with an empty header gets ("คอลัมน์ C"). Stored data, not a text on screen: it
# is part of the form's header signature, its questions and remembered mappings, so it is the same
# whatever the display language (ITA_LANG), and texts.py does not hold it.
BLANK_COLUMN = "คอลัมน์ "


def blank_column_name(letter: str) -> str:
    return BLANK_COLUMN + letter


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
    return _WS_RE.sub("", to_arabic_digits(text)).lower()


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
