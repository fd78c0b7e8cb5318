"""Department names as people write them: normalisation and resolution.

Surveys and reports spell units in many ways ("กองคลัง", "กอง คลัง", "ส่วนการคลัง", "สำนักปลัด อบต.").
Resolution compares normalised forms of a department's name and its aliases; what does not
resolve is kept as written by the caller and shown as unmatched.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

_SPACE_RE = re.compile(r"[\s\u200b\u00a0]+")
_PUNCT_RE = re.compile(r"[\"'“”‘’()\[\]{}<>.,;:!?]+")
_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")

# Common spellings of the same unit words; applied to the normalised text.
_EQUIVALENTS: Sequence[tuple[str, str]] = (
    ("สำนักงานปลัด", "สำนักปลัด"),
    ("ส่วนการคลัง", "กองคลัง"),
    ("ส่วนโยธา", "กองช่าง"),
    ("ส่วนการศึกษา", "กองการศึกษา"),
    ("องค์การบริหารส่วนตำบล", "อบต"),
    ("เทศบาลตำบล", "ทต"),
    ("เทศบาล", "ทต"),
)

# Phrases meaning "every department" (ทุกกอง, ทุกส่วนราชการ, ทุกสำนัก/ กอง, เจ้าหน้าที่ทุกคน).
_ALL_PATTERNS = (
    re.compile(r"ทุก\s*(กอง|ส่วน|สำนัก|ฝ่าย|หน่วย)"),
    re.compile(r"(เจ้าหน้าที่|บุคลากร|พนักงาน)\s*ทุกคน"),
    re.compile(r"หัวหน้าส่วน\s*ทุก"),
)


def normalize_name(text: str | None) -> str:
    """Canonical comparison form: NFC, Arabic digits, no spaces or punctuation, common spellings unified."""
    if not text:
        return ""
    s = unicodedata.normalize("NFC", str(text)).translate(_THAI_DIGITS).lower()
    s = _PUNCT_RE.sub("", s)
    s = _SPACE_RE.sub("", s)
    for old, new in _EQUIVALENTS:
        s = s.replace(old, new)
    return s


def means_all_departments(text: str | None) -> bool:
    """True when an owner text names every department ("ทุกกอง", "เจ้าหน้าที่ทุกคน", ...)."""
    if not text:
        return False
    flat = _SPACE_RE.sub("", unicodedata.normalize("NFC", text))
    return any(p.search(flat) for p in _ALL_PATTERNS)


@dataclass(frozen=True)
class DepartmentRef:
    id: int
    name: str
    aliases: tuple[str, ...] = ()


class DepartmentResolver:
    """Resolves written names to department ids for one organisation.

    Exact normalised match on name or alias first; then a unique containment match
    ("กองคลัง อบต.เมืองหลวง" contains "กองคลัง"), so that longer spellings still resolve but an
    ambiguous text never resolves to a guess.
    """

    def __init__(self, departments: Iterable[DepartmentRef]):
        self.departments = list(departments)
        self._exact: dict[str, int] = {}
        self._keys: list[tuple[str, int]] = []
        for d in self.departments:
            for written in (d.name, *d.aliases):
                key = normalize_name(written)
                if key:
                    self._exact.setdefault(key, d.id)
                    self._keys.append((key, d.id))
        self._cache: dict[str, Optional[int]] = {}

    def resolve(self, text: str | None) -> Optional[int]:
        if text is None:
            return None
        if text in self._cache:
            return self._cache[text]
        key = normalize_name(text)
        found: Optional[int] = self._exact.get(key) if key else None
        if found is None and key:
            hits = {dep_id for k, dep_id in self._keys if len(k) >= 3 and (k in key or key in k)}
            if len(hits) == 1:
                found = hits.pop()
        self._cache[text] = found
        return found

    def name_of(self, dep_id: int) -> str:
        for d in self.departments:
            if d.id == dep_id:
                return d.name
        raise KeyError(dep_id)


def split_owner_text(text: str | None) -> list[str]:
    """Split an owner cell into unit phrases: numbered lists, slashes, commas, "และ"."""
    if not text:
        return []
    s = unicodedata.normalize("NFC", text).translate(_THAI_DIGITS)
    s = re.sub(r"\(.*?\)", " ", s)  # "(ผู้เป็นเจ้าของงาน)"
    parts = re.split(r"(?:^|\s)\d+\s*[.)]\s*|[/,;\n]|\sและ\s", s)
    out = []
    for p in parts:
        p = _SPACE_RE.sub(" ", p).strip(" -–")
        if p:
            out.append(p)
    return out
