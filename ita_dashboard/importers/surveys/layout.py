"""Recognising a survey table's columns: the header row, the submitted time, the department,
the respondent ids and the answers; an admin's mapping forces them."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Optional, Sequence

from .. import tabular
from ..tabular import FileProblem
from .cells import BLANK_COLUMN, _key, blank_column_name, clean_text, column_letter
from .readers import _Table
from .timestamps import _is_excel_serial, is_datelike

MAX_HEADER_SCAN = 30  # title rows may sit above the header, but not more than this

# Exact header names (compared by _key) of the form tools' own columns.
_COMPLETION_HEADERS = {"completiontime", "เวลาที่เสร็จสมบูรณ์", "เวลาเสร็จสมบูรณ์", "เวลาที่เสร็จสิ้น", "เวลาเสร็จสิ้น"}
_TIMESTAMP_HEADERS = {
    "timestamp", "ประทับเวลา", "การประทับเวลา", "เวลาประทับ", "submittedat", "submissiontime",
    "submitted", "วันที่และเวลา", "วันเวลา", "วัน/เวลา", "วันที่/เวลา", "วันที่ตอบ", "วันที่ตอบแบบสำรวจ",
    "เวลาที่ส่ง", "วันที่ส่ง",
}
_ID_HEADERS = {
    "id", "รหัส", "responseid", "รหัสการตอบกลับ", "email", "อีเมล", "e-mail", "emailaddress",
    "ที่อยู่อีเมล", "name", "ชื่อ", "ชื่อ-สกุล", "ชื่อ-นามสกุล", "ชื่อสกุล", "fullname", "username", "ชื่อผู้ใช้",
}
_META_HEADERS = {
    "starttime", "เวลาเริ่มต้น", "เวลาที่เริ่มต้น", "เวลาเริ่ม", "lastmodifiedtime", "เวลาที่ปรับเปลี่ยนล่าสุด",
    "เวลาที่แก้ไขล่าสุด", "เวลาแก้ไขล่าสุด", "แก้ไขล่าสุด", "score", "คะแนน", "คะแนนรวม", "totalpoints",
    "ลำดับ", "ลำดับที่", "no", "no.", "#", "ที่",
}
_DATE_HEADER_WORDS = ("วันที่", "เวลา", "date", "time")
_DEPARTMENT_HEADER_WORDS = ("ส่วนราชการ", "สังกัด", "กอง", "สำนัก", "หน่วยงาน", "ฝ่าย", "แผนก", "department", "division")
_UNIT_WORDS = re.compile(r"กอง|สำนัก|ส่วน|ฝ่าย|งาน|กลุ่ม|ศูนย์|หน่วย|โรงเรียน|department|division|office|section", re.I)
# Answer labels of rating and yes/no questions: a column full of these is not a department.
_SCALE_WORDS = re.compile(
    r"^(มากที่สุด|มาก|ปานกลาง|น้อย|น้อยที่สุด(หรือไม่มีเลย)?|มี|ไม่มี|ใช่|ไม่ใช่|เห็นด้วย.*|ไม่เห็นด้วย.*|"
    r"ดีมาก|ดี|พอใช้|ควรปรับปรุง|yes|no|\d+(\.\d+)?)$",
    re.I,
)
_NUMBERED_QUESTION = re.compile(r"^\s*\d+(\.\d+)*\s*[.)]")
_RESPONSE_SHEET = re.compile(r"response|การตอบกลับ|คำตอบ|ผลการตอบ", re.I)


@dataclass
class _Layout:
    """Where things are in one table: the header row and the role of each column."""

    table: _Table
    header_index: int  # 0-based within the table
    labels: list[str]
    timestamp: int
    department: Optional[int]
    ids: list[int]
    ignored: list[int]
    answers: list[int]
    score: float = 0.0


def _labels(row: Sequence[Any], width: int, offset: int) -> list[str]:
    """Header texts; blank ones named by their column letter, repeats numbered so each is unique."""
    labels: list[str] = []
    seen: dict[str, int] = {}
    for j in range(width):
        text = clean_text(row[j]) if j < len(row) else ""
        if not text:
            text = blank_column_name(column_letter(j + offset))
        n = seen.get(text, 0) + 1
        seen[text] = n
        labels.append(text if n == 1 else f"{text} ({n})")
    return labels


def _column(rows: Sequence[Sequence[Any]], j: int) -> list[Any]:
    return [r[j] for r in rows if j < len(r) and not tabular.is_blank(r[j])]


def _date_fraction(values: Sequence[Any], *, serials: bool = False) -> float:
    """Share of the values that read as dates; ``serials``: Excel day numbers count too (a date
    cell that lost its format, under a header that names the submitted time)."""
    if not values:
        return 0.0
    return sum(1 for v in values if is_datelike(v) or (serials and _is_excel_serial(v))) / len(values)


def _timestamp_column(labels: list[str], sample: list[list[Any]]) -> tuple[Optional[int], float]:
    """The submitted-time column and how sure we are (header word + content, or content alone)."""
    keys = [_key(x) for x in labels]
    tiers = (
        [j for j, k in enumerate(keys) if k in _COMPLETION_HEADERS],
        [j for j, k in enumerate(keys) if k in _TIMESTAMP_HEADERS],
        [j for j, k in enumerate(keys)
         if k not in _META_HEADERS and any(w in k for w in _DATE_HEADER_WORDS) and len(k) <= 30],
    )
    for bonus, tier in zip((12.0, 10.0, 6.0), tiers):
        for j in tier:
            values = _column(sample, j)
            if not values or _date_fraction(values, serials=bonus > 6.0) >= 0.6:
                return j, bonus
        if bonus == 10.0 and (tiers[0] or tiers[1]):
            # A column is named as the submitted time but does not read: never take another
            # column (a birth date, a date answer) in its place; the refusal names this one.
            return None, 0.0
    for j, k in enumerate(keys):
        values = _column(sample, j)
        if k not in _META_HEADERS and len(values) >= 1 and _date_fraction(values) >= 0.8:
            return j, 6.0
    return None, 0.0


def _department_score(label: str, values: Sequence[Any]) -> float:
    """How much a column looks like "which department": header words plus unit-name content."""
    k = _key(label)
    score = 0.0
    if any(w in k for w in _DEPARTMENT_HEADER_WORDS):
        score += 2.0
        if len(k) <= 40:
            score += 1.0
    if _NUMBERED_QUESTION.match(label):
        score -= 1.0
    if "[" in label and label.rstrip().endswith("]"):
        score -= 3.0  # a grid row of a rating question
    texts = [clean_text(v) for v in values]
    texts = [t for t in texts if t]
    if texts:
        n = len(texts)
        unit = sum(1 for t in texts if _UNIT_WORDS.search(t)) / n
        scale = sum(1 for t in texts if _SCALE_WORDS.match(t)) / n
        dates = sum(1 for v in values if is_datelike(v)) / len(values)
        distinct = len(set(texts))
        score += 4.0 * unit - 5.0 * scale - 4.0 * dates
        if distinct <= max(3, min(40, n // 2)):
            score += 1.0
        elif distinct == n and n > 5:
            score -= 1.0  # every value different: names, comments
    return score


def _roles(labels: list[str], sample: list[list[Any]], ts: int) -> tuple[Optional[int], list[int], list[int], list[int]]:
    """(department, ids, ignored, answers) column indexes, the timestamp column being known."""
    ids, ignored, rest = [], [], []
    for j, label in enumerate(labels):
        if j == ts:
            continue
        k = _key(label)
        if k in _ID_HEADERS:
            ids.append(j)
        elif k in _META_HEADERS or k in _COMPLETION_HEADERS or k in _TIMESTAMP_HEADERS:
            ignored.append(j)
        else:
            rest.append(j)
    best, best_score = None, 2.0
    for j in rest:
        s = _department_score(labels[j], _column(sample, j))
        if s > best_score:
            best, best_score = j, s
    answers = [j for j in rest if j != best and (not labels[j].startswith(BLANK_COLUMN) or _column(sample, j))]
    return best, ids, ignored, answers


def _header_layout(table: _Table, h: int) -> Optional[_Layout]:
    row = table.head[h]
    if any(isinstance(c, (dt.date, dt.time)) for c in row):
        return None  # a data row: headers are never dates
    texts = [clean_text(c) for c in row]
    nonblank = [t for t in texts if t]
    if len(nonblank) < 2:
        return None
    width = max(len(row), max((len(r) for r in table.head[h + 1:]), default=0))
    labels = _labels(row, width, table.column_offset)
    sample = table.head[h + 1:]
    ts, ts_score = _timestamp_column(labels, sample)
    if ts is None or (ts < len(row) and is_datelike(row[ts])):
        return None  # no submitted-time column; or this "header" is itself a data row
    dept, ids, ignored, answers = _roles(labels, sample, ts)
    datelike_headers = sum(1 for c in row if is_datelike(c) or isinstance(c, (int, float)))
    score = ts_score + min(len(nonblank), 20) * 0.2 - 5.0 * datelike_headers
    if dept is not None:
        score += 3.0
    if _RESPONSE_SHEET.search(table.name):
        score += 2.0
    if not _column(sample, ts):
        score -= 4.0  # a header with no answers under it: only chosen when nothing else fits
    return _Layout(table, h, labels, ts, dept, ids, ignored, answers, score)


def _best_layout(tables: list[_Table]) -> Optional[_Layout]:
    best: Optional[_Layout] = None
    for table in tables:
        for h in range(min(MAX_HEADER_SCAN, len(table.head))):
            layout = _header_layout(table, h)
            if layout and (best is None or layout.score > best.score):
                best = layout
    return best


def _forced_layout(tables: list[_Table], mapping: dict[str, Any]) -> _Layout:
    """Apply an admin's mapping: its sheet and header row when the file has them, then its columns."""
    named = [t for t in tables if t.name == mapping.get("sheet")]
    header_row = mapping.get("header_row")
    layout: Optional[_Layout] = None
    if named and isinstance(header_row, int) and not isinstance(header_row, bool) and 1 <= header_row <= len(named[0].head):
        t, h = named[0], header_row - 1
        layout = _header_layout(t, h) or _bare_layout(t, h)
    if layout is None:
        layout = _best_layout(named) or _best_layout(tables)
    if layout is None:
        raise FileProblem(code="survey_no_header_row")
    _apply_mapping(layout, mapping)
    return layout


def _bare_layout(table: _Table, h: int) -> _Layout:
    """A header row with no roles yet (the mapping names them)."""
    width = max([len(r) for r in table.head[h:]] or [0])
    return _Layout(table, h, _labels(table.head[h], width, table.column_offset), -1, None, [], [], [])


def _names(value: Any) -> list[Any]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _apply_mapping(layout: _Layout, mapping: dict[str, Any]) -> None:
    index = {label: j for j, label in enumerate(layout.labels)}

    def find(label: Any) -> int:
        if label not in index:
            raise FileProblem(code="survey_no_column", label=label)
        return index[label]

    if mapping.get("timestamp"):
        layout.timestamp = find(mapping["timestamp"])
    if layout.timestamp < 0:
        raise FileProblem(code="survey_no_timestamp_column")
    if "department" in mapping:
        layout.department = find(mapping["department"]) if mapping["department"] else None
    if "ids" in mapping:
        layout.ids = [find(x) for x in _names(mapping["ids"])]
    if "ignored" in mapping:
        layout.ignored = [find(x) for x in _names(mapping["ignored"])]
    taken = {layout.timestamp, layout.department, *layout.ids, *layout.ignored}
    if "answers" in mapping:
        layout.answers = [find(x) for x in _names(mapping["answers"]) if find(x) not in taken]
    else:
        sample = layout.table.head[layout.header_index + 1:]
        layout.answers = [
            j for j in range(len(layout.labels))
            if j not in taken and (not layout.labels[j].startswith(BLANK_COLUMN) or _column(sample, j))
        ]
    # A column named twice keeps its first role.
    layout.ids = [j for j in layout.ids if j not in (layout.timestamp, layout.department)]
    layout.ignored = [j for j in layout.ignored if j not in (layout.timestamp, layout.department, *layout.ids)]


def _source_format(layout: _Layout) -> str:
    keys = {_key(x) for x in layout.labels}
    if _key(layout.labels[layout.timestamp]) in _COMPLETION_HEADERS and keys & {"id", "รหัส"}:
        return "microsoft_forms"
    if _key(layout.labels[layout.timestamp]) in {"timestamp", "ประทับเวลา"}:
        return "google_forms"
    return "generic"


def _mapping_of(layout: _Layout) -> dict[str, Any]:
    labels = layout.labels
    return {
        "sheet": layout.table.name,
        "header_row": layout.header_index + 1,
        "timestamp": labels[layout.timestamp],
        "department": labels[layout.department] if layout.department is not None else None,
        "ids": [labels[j] for j in layout.ids],
        "ignored": [labels[j] for j in layout.ignored],
        "answers": [labels[j] for j in layout.answers],
    }
