"""An agency's OIT list from a spreadsheet (xlsx / xls / csv), as admins keep it in Excel.

One row per item. Columns are recognised by their header words (the header may sit under title
rows): the item number (``ข้อ``, ``รายการที่``, ``O``...), its name, and optionally the indicator,
sub-indicator, what it must contain, the year its data covers, the responsible unit, the due date,
the status and the URL where it is published. A number written inside the name ("O1 โครงสร้าง")
is found too. Rows that cannot be an item are listed with their row number and why; nothing here
touches the database (``services/oit.py`` imports the result).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Optional

from .. import thai
from ..texts import t
from . import tabular
from .tabular import FileProblem, cell_text

_NUMBER_IN_TEXT = re.compile(r"^\s*(?:ข้อ\s*)?([Oo]\s*[0-9๐-๙]{1,3})\b[\s.:)\-–]*(.*)$", re.S)

# header words per field, compared without spaces, lower case
_HEADERS: dict[str, tuple[str, ...]] = {
    "number": ("ข้อ", "เลขข้อ", "รายการที่", "ลำดับข้อ", "o-item", "oitem", "รหัส", "หมายเลข", "number", "no."),
    "name": ("ชื่อรายการ", "รายการ", "ชื่อ", "หัวข้อ", "ข้อมูล", "name", "item"),
    "sub_indicator": ("ตัวชี้วัดย่อย", "sub-indicator", "subindicator"),
    "indicator": ("ตัวชี้วัด", "indicator"),
    "contents": ("รายละเอียด", "องค์ประกอบ", "เนื้อหา", "สิ่งที่ต้อง", "ประเด็น", "contents", "details"),
    "covers": ("ปีของข้อมูล", "ช่วงข้อมูล", "ข้อมูลปี", "covers"),
    "department": ("ผู้รับผิดชอบ", "หน่วยงานรับผิดชอบ", "กองรับผิดชอบ", "ส่วนราชการ", "department", "owner"),
    "due_date": ("กำหนดเสร็จ", "กำหนดแล้วเสร็จ", "วันที่กำหนด", "กำหนดส่ง", "due"),
    "status": ("สถานะ", "status"),
    "url": ("url", "ลิงก์", "link", "ที่อยู่เว็บ", "เว็บไซต์"),
}
_ORDER = ("sub_indicator", "indicator", "number", "department", "due_date", "status", "url", "covers", "contents", "name")

STATUS_WORDS = {
    "ยังไม่เริ่ม": "not_started", "ยังไม่ดำเนินการ": "not_started", "กำลังจัดทำ": "in_progress",
    "อยู่ระหว่างดำเนินการ": "in_progress", "กำลังดำเนินการ": "in_progress", "เผยแพร่แล้ว": "published",
    "เผยแพร่": "published", "ตรวจแล้ว": "checked", "ตรวจสอบแล้ว": "checked",
    "not_started": "not_started", "in_progress": "in_progress", "published": "published", "checked": "checked",
}


@dataclass
class ParsedOitItem:
    row: int  # as the spreadsheet shows it (1-based)
    number: str
    name: str
    indicator: Optional[int] = None
    sub_indicator: str = ""
    contents: str = ""
    covers: str = "current"
    department_text: str = ""
    due_date: Optional[dt.date] = None
    status: Optional[str] = None
    url: Optional[str] = None


@dataclass
class ParsedOitList:
    sheet_name: str
    header_row: int
    columns: dict[str, str]  # field -> header as written
    items: list[ParsedOitItem] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)  # {"row", "column", "reason"}


def _key(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def _field_of(header: str) -> Optional[str]:
    k = _key(header)
    if not k:
        return None
    # "ข้อ" (item number) also sits inside "ข้อมูล" (data: NACC's own name column, "ปีของข้อมูล",
    # "องค์ประกอบด้านข้อมูล") and "หัวข้อ" (topic): those words never mean the number.
    k_number = k.replace("ข้อมูล", "").replace("หัวข้อ", "")
    for name in _ORDER:
        if any(w in (k_number if name == "number" else k) for w in _HEADERS[name]):
            return name
    return None


def _columns(row: list[Any]) -> dict[str, int]:
    found: dict[str, int] = {}
    for j, cell in enumerate(row):
        name = _field_of(cell_text(cell)) if isinstance(cell, str) else None
        if name and name not in found:
            found[name] = j
    return found


def _score(row: list[Any]) -> float:
    found = _columns(row)
    return len(found) + (2 if "name" in found else 0) + (1 if "number" in found else 0)


def _number(text: str) -> Optional[str]:
    # "O 1", "O\n6" (a line break copied out of a PDF), "1." / "O5." / "O7)" as Thai lists write them
    digits = re.sub(r"\s+", "", thai.to_arabic_digits(text)).upper()
    digits = re.sub(r"^(O?\d{1,3})[.)]$", r"\1", digits)
    if re.fullmatch(r"O?\d{1,3}", digits):
        return "O" + str(int(digits.lstrip("O")))
    return None


def _indicator(text: str) -> Optional[int]:
    m = re.search(r"\d+", thai.to_arabic_digits(text))
    return int(m.group()) if m and int(m.group()) in (9, 10) else None


def _covers(text: str) -> str:
    k = _key(text)
    return "previous" if any(w in k for w in ("ก่อน", "ที่ผ่านมา", "previous", "ปีที่แล้ว")) else "current"


def _date(cell: Any) -> Optional[dt.date]:
    if isinstance(cell, dt.datetime):
        return cell.date()
    if isinstance(cell, dt.date):
        return cell
    text = cell_text(cell)
    if not text:
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return dt.date.fromisoformat(text)
    return thai.parse_thai_date(text)


_INDICATOR_HEADING = re.compile(r"^ตัวชี้วัด(?:ที่)?\s*(\d+)")
_SUB_HEADING = re.compile(r"^(\d+)\.\d+\s*\S")


def _section(row: list[Any]) -> Optional[tuple[Optional[int], str]]:
    """(indicator, sub-indicator) of a heading row of NACC's OIT table: "ตัวชี้วัดที่ 9 ..." or
    "9.1 ข้อมูลพื้นฐาน" alone on its row (merged across the table); None for any other row."""
    texts = [cell_text(c) for c in row if not tabular.is_blank(c)]
    if len(texts) != 1:
        return None
    text = thai.to_arabic_digits(texts[0]).strip()
    if m := _INDICATOR_HEADING.match(text):
        number = int(m.group(1))
        return (number if number in (9, 10) else None), ""
    if (m := _SUB_HEADING.match(text)) and int(m.group(1)) in (9, 10):  # "2.5 ล้านบาท" is no heading
        return int(m.group(1)), texts[0]
    return None


def parse_oit_list(data: bytes) -> ParsedOitList:
    """Read the list; raises FileProblem (Thai) when no sheet has an item-name column."""
    sheets = tabular.read_sheets(data)
    best = None
    for sheet in sheets:
        h = tabular.find_header_row(sheet.rows, _score, min_score=3.0)
        if h is not None and (best is None or _score(sheet.rows[h]) > _score(best[0].rows[best[1]])):
            best = (sheet, h)
    if best is None:
        raise FileProblem(code="oitlist_no_header")
    sheet, h = best
    cols = _columns(sheet.rows[h])
    header = sheet.rows[h]
    result = ParsedOitList(sheet_name=sheet.name, header_row=h + 1,
                           columns={f: cell_text(header[j]) for f, j in cols.items()})

    def get(row: list[Any], name: str) -> Any:
        j = cols.get(name)
        return row[j] if j is not None and j < len(row) else None

    section_indicator: Optional[int] = None  # from the heading rows above the item
    section_sub = ""
    for i, row in enumerate(sheet.rows[h + 1:], start=h + 2):
        if not any(not tabular.is_blank(c) for c in row):
            continue
        name = cell_text(get(row, "name"))
        number = _number(cell_text(get(row, "number"))) if "number" in cols else None
        if number is None and (m := _NUMBER_IN_TEXT.match(name)):
            number, name = _number(m.group(1)), m.group(2).strip()
        if number is None and (heading := _section(row)) is not None:
            section_indicator, sub = heading
            section_sub = sub
            continue
        if number is None:
            number_text = cell_text(get(row, "number"))
            where = result.columns.get("number") or result.columns.get("name", "")
            reason = (t("oitlist_reject_bad_number", value=number_text) if number_text
                      else t("oitlist_reject_no_number"))
            result.rejected.append({"row": i, "column": where, "reason": reason})
            continue
        if not name:
            result.rejected.append({"row": i, "column": result.columns.get("name", ""), "reason": t("oitlist_reject_no_name", number=number)})
            continue
        status_text = cell_text(get(row, "status"))
        status = STATUS_WORDS.get(_key(status_text)) if status_text else None
        if status_text and status is None:
            result.rejected.append({"row": i, "column": result.columns.get("status", ""),
                                    "reason": t("oitlist_reject_bad_status", value=status_text)})
            continue
        due_cell = get(row, "due_date")
        due = _date(due_cell)
        if due is None and not tabular.is_blank(due_cell):
            result.rejected.append({"row": i, "column": result.columns.get("due_date", ""),
                                    "reason": t("oitlist_reject_bad_due", value=cell_text(due_cell))})
            continue
        url = cell_text(get(row, "url")) or None
        indicator = _indicator(cell_text(get(row, "indicator")))
        sub_indicator = cell_text(get(row, "sub_indicator"))
        if sub_indicator and (heading := _section([sub_indicator])) is not None:
            section_indicator, section_sub = heading  # "9.1 ..." written once, merged down its items
        result.items.append(ParsedOitItem(
            row=i, number=number, name=name, indicator=indicator if indicator is not None else section_indicator,
            sub_indicator=sub_indicator or section_sub, contents=cell_text(get(row, "contents")),
            covers=_covers(cell_text(get(row, "covers"))), department_text=cell_text(get(row, "department")),
            due_date=due, status=status, url=url,
        ))
    seen: dict[str, int] = {}
    unique = []
    for item in result.items:
        if item.number in seen:
            result.rejected.append({"row": item.row, "column": result.columns.get("number", ""),
                                    "reason": t("oitlist_reject_twice", number=item.number, row=seen[item.number])})
            continue
        seen[item.number] = item.row
        unique.append(item)
    result.items = unique
    result.rejected.sort(key=lambda r: r["row"])
    return result
