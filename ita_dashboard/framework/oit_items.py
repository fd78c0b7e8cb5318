"""OIT items (แบบตรวจการเปิดเผยข้อมูลสาธารณะ) of a fiscal year, as written in ``[[oit_items]]``.

An item is one thing the agency publishes on its website (O1, O2, ...): its number, Thai name,
indicator (9 การเปิดเผยข้อมูล / 10 การป้องกันการทุจริต), sub-indicator, what it must contain and
which fiscal year its data covers (some items are the previous year's report). NACC's manual for
these years was not found (ita-facts section 6), so every item carries its sources and confidence
and an agency edits its own copy of the list (``services/oit.py``); this file is the starting list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

COVERS = ("current", "previous")  # the fiscal year the item's data is about
_NUMBER = re.compile(r"^O\d{1,3}$")


@dataclass(frozen=True)
class OitItemDef:
    number: str  # "O25"
    name_th: str
    indicator: int  # 9 or 10
    sub_indicator: str
    contents: str  # what the published page must contain
    covers: str  # "current" or "previous" fiscal year
    sources: tuple[str, ...]
    confidence: str
    note: str


def number_key(number: str) -> tuple[int, str]:
    """Sort key of an item number: O2 before O10; odd numbers after, by text."""
    m = re.match(r"^\s*[Oo]\s*(\d+)", number or "")
    return (int(m.group(1)), number) if m else (10_000, number or "")


def parse_oit_items(parser: Any, items: Any) -> list[OitItemDef]:
    """Check and read the year's ``[[oit_items]]``; ``parser`` is the framework's ``_Parser``."""
    if items is None:
        return []
    if not isinstance(items, list):
        parser.fail("oit_items must be a list of [[oit_items]] tables")
    out: list[OitItemDef] = []
    seen: set[str] = set()
    for item in items:
        number = str(item.get("number", "")).strip().upper()
        if not _NUMBER.match(number):
            parser.fail(f"oit_items: number must look like \"O25\", got {item.get('number')!r}")
        if number in seen:
            parser.fail(f"oit_items: {number} is listed twice")
        seen.add(number)
        key = f"oit_items.{number}"
        prov = parser.table(key, item)
        name = item.get("name_th")
        if not isinstance(name, str) or not name.strip():
            parser.fail(f"{key}.name_th must be a non-empty text")
        indicator = item.get("indicator")
        if indicator not in (9, 10):
            parser.fail(f"{key}.indicator must be 9 or 10, got {indicator!r}")
        covers = item.get("covers", "current")
        if covers not in COVERS:
            parser.fail(f"{key}.covers must be one of {COVERS}, got {covers!r}")
        out.append(OitItemDef(
            number=number, name_th=name.strip(), indicator=indicator,
            sub_indicator=str(item.get("sub_indicator", "")).strip(), contents=str(item.get("contents", "")).strip(),
            covers=covers, sources=tuple(prov["sources"]), confidence=prov["confidence"], note=prov["note"],
        ))
    out.sort(key=lambda i: number_key(i.number))
    return out
