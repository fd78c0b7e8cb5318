"""The measures table's column vocabulary and content tests: which header cell names which column
(:func:`role_of`, :func:`header_roles`), what a header row looks like (:func:`looks_like_header`), a
header-looking row that is really a measure (:func:`holds_data`), and what a cell says (a period, units).

Its own module so both :mod:`.report_text` (its default ``is_header``) and :mod:`.measures` use it
without importing each other; :mod:`.measures` still offers every name here.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Optional

from .. import thai


# ---------------------------------------------------------------- column vocabulary

NUMBER, TITLE, STEPS, OWNER, PERIOD, OUTPUT, OUTCOME = "number", "title", "steps", "owner", "period", "output", "outcome"
TEXT_ROLES = (TITLE, STEPS, OWNER, PERIOD, OUTPUT, OUTCOME)

# Checked in this order: the first role whose word appears in the header wins, so
# "ผลลัพธ์หรือผลสัมฤทธิ์ในการดำเนินการ" is an outcome before it is an output, and
# "ขั้นตอนการดำเนินมาตรการ" is steps before it is a title.
_ROLE_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (OUTCOME, ("ผลลัพธ์", "ผลสัมฤทธิ์", "ความสำเร็จ", "outcome", "result")),
    (OUTPUT, ("ผลการดำเนินการ", "ผลการดำเนินงาน", "ผลการปฏิบัติ", "สรุปผล", "ผลผลิต", "output")),
    (PERIOD, ("ระยะเวลา", "ช่วงเวลา", "กำหนดเวลา", "ห้วงเวลา", "วันที่ดำเนินการ", "period", "timeline",
              "duration", "schedule")),
    (OWNER, ("รับผิดชอบ", "ผู้ดำเนินการ", "owner", "responsible")),
    (STEPS, ("ขั้นตอน", "วิธีการ", "วิธีปฏิบัติ", "วิธีดำเนินการ", "steps", "step", "actions")),
    (TITLE, ("มาตรการ", "แนวทาง", "โครงการ", "กิจกรรม", "measure", "title", "project")),
)
_NUMBER_WORDS = {"ที่", "ลำดับ", "ลำดับที่", "ข้อ", "ข้อที่", "no", "#", "number", "item"}
ROLE_NAMES_TH = {
    NUMBER: "ลำดับ", TITLE: "มาตรการ", STEPS: "ขั้นตอน/วิธีการปฏิบัติ", OWNER: "ผู้รับผิดชอบ",
    PERIOD: "ระยะเวลาดำเนินการ", OUTPUT: "ผลการดำเนินการ (output)", OUTCOME: "ผลลัพธ์ (outcome)",
}
_MAX_HEADER_CHARS = 90


def _header_key(text: str) -> str:
    s = unicodedata.normalize("NFC", str(text or "")).lower()
    return re.sub(r"[\s\u200b\u00a0]+", "", s)


def role_of(header_cell: str) -> Optional[str]:
    """The column role a header cell names, or None."""
    key = _header_key(header_cell)
    if not key or len(key) > _MAX_HEADER_CHARS:
        return None
    if key.strip(".:()") in _NUMBER_WORDS:
        return NUMBER
    for role, words in _ROLE_WORDS:
        if any(w in key for w in words):
            return role
    return None


def header_roles(cells: list[str]) -> dict[str, int]:
    """role -> column index; the first column naming a role keeps it."""
    roles: dict[str, int] = {}
    for i, cell in enumerate(cells):
        role = role_of(cell)
        if role and role not in roles:
            roles[role] = i
    return roles


def looks_like_header(cells: list[str]) -> bool:
    """A measure-table header: a measure column plus at least one other known column, and
    mostly header words (so a data row that happens to say "โครงการ" is not taken for one)."""
    filled = [c for c in cells if c and c.strip()]
    if not filled or any(len(_header_key(c)) > _MAX_HEADER_CHARS * 2 for c in filled):
        return False
    roles = header_roles(cells)
    named = [c for c in filled if role_of(c)]
    return TITLE in roles and len(set(roles) - {NUMBER}) >= 2 and len(named) * 2 >= len(filled)


# Words a header cell is made of besides the role words ("ขั้นตอนหรือวิธีการปฏิบัติ",
# "ผลลัพธ์หรือผลสัมฤทธิ์ในการดำเนินการ (outcome)", "หน่วยงานผู้รับผิดชอบ", "สรุปผลการดำเนินการ").
_HEADER_FILLER = ("หรือ", "และ", "ของ", "ใน", "ตาม", "ที่", "การ", "ดำเนินการ", "ดำเนินงาน", "ดำเนิน", "ปฏิบัติงาน",
                  "ปฏิบัติ", "หน่วยงาน", "ส่วนราชการ", "ผู้", "ชื่อ", "ประจำปี", "ภายใน", "งาน", "ผล", "สรุป",
                  "หลัก", "ตัวชี้วัด", "เป้าหมาย")
_HEADER_WORDS = sorted({w for _, words in _ROLE_WORDS for w in words} | _NUMBER_WORDS | set(_HEADER_FILLER),
                       key=len, reverse=True)
_DIGIT_RE = re.compile(r"[0-9๐-๙]")


def header_residue(cell: str) -> str:
    """What is left of a cell once the header vocabulary is taken out ("" for a header cell)."""
    key = _header_key(cell)
    for word in _HEADER_WORDS:
        key = key.replace(word, "")
    return re.sub(r"[/()\[\]:;,.\-–*#]+", "", key)


def _cell_holds_data(cell: str) -> bool:
    key = _header_key(cell)
    if cell.count("\n") >= 2 or len(key) > 60:
        return True
    if role_of(cell) is None:  # "กองคลัง", "ตุลาคม ๒๕๖๗", "3", a sentence; not "หมายเหตุ", "งบประมาณ"
        return bool(_DIGIT_RE.search(cell)) or names_units(cell) or reads_as_period(cell) or len(key) > 30
    residue = header_residue(cell)  # "โครงการอบรมคุณธรรม" -> "อบรมคุณธรรม"
    return len(residue) >= 5 or bool(_DIGIT_RE.search(residue)) or (bool(residue) and names_units(residue))


def holds_data(cells: list[str]) -> bool:
    """A header-looking row that carries a measure's data in some cell: a measure, not a header.
    ("โครงการ/กิจกรรม: มาตรการป้องกันการรับสินบน" | "ขั้นตอน: ประกาศเจตนารมณ์" | "ตลอดปีงบประมาณ")."""
    return any(_cell_holds_data(c) for c in cells if c and c.strip())


def header_columns(header: list[str]) -> tuple[Optional[int], Optional[int]]:
    """(title column, numbering column) a header names, for telling a new row from a continuation."""
    roles = header_roles(header)
    return roles.get(TITLE), roles.get(NUMBER)


# ---------------------------------------------------------------- content tests


@lru_cache(maxsize=4096)
def period_parse(text: str, fiscal_year: Optional[int]) -> thai.PeriodParse:
    return thai.parse_period(text, fiscal_year=fiscal_year)


def reads_as_period(text: str, *, fiscal_year: Optional[int] = None) -> bool:
    """True when the text says when (a date range, "ทุกเดือน", "ตลอดปีงบประมาณ", ...).

    Without a known fiscal year a placeholder one is used: the question is only "is this
    a period at all", and yearless rhythms like "ทุกเดือน" need some year to read as one.
    """
    if not text or not text.strip():
        return False
    return period_parse(text, fiscal_year or 2568).ok


UNIT_RE = re.compile(r"ทุก|กอง|สำนัก|ฝ่าย|งาน|เจ้าหน้าที่|ส่วนราชการ|หัวหน้า|คณะ|ปลัด|นิติ|ผู้อำนวยการ|อบต|เทศบาล")


def names_units(text: str, *, fiscal_year: Optional[int] = None) -> bool:
    """An owner-looking cell: names units (ทุก…, กอง, สำนัก, ฝ่าย, งาน, เจ้าหน้าที่) and is no period."""
    return bool(text) and bool(UNIT_RE.search(text)) and not reads_as_period(text, fiscal_year=fiscal_year)


_NUMBER_CELL_RE = re.compile(r"^\(?\s*([0-9๐-๙]{1,3})\s*[.)]?\s*$")


def as_number(text: str) -> Optional[int]:
    m = _NUMBER_CELL_RE.match(text or "")
    return int(thai.to_arabic_digits(m.group(1))) if m else None
