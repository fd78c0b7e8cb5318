"""Department names as people write them: normalisation and resolution.

Surveys and reports spell units in many ways ("กองคลัง", "กอง คลัง", "ส่วนการคลัง", "สำนักปลัด อบต.").
Resolution compares normalised forms of a department's name and its aliases; what does not
resolve is kept as written by the caller and shown as unmatched.

Two shortened forms resolve too, never by a guess:
- a name ending in ``ฯ`` (ไปยาลน้อย, "and the rest of the name"): ``กองการศึกษาฯ`` matches the one
  registered department whose normalised name (or an alias) begins with ``กองการศึกษา``; two such
  departments make it ambiguous, and it stays unmatched;
- an abbreviation of a unit (``สป.``, ``กค.``, ...) from the organisation's abbreviation table: the
  standard list below, plus the organisation's own edits (``services/abbreviations.py``). An
  abbreviation stands either for a unit word (``สป.`` -> ``สำนักปลัด``, then resolved to the
  department of that name, else the one department that name begins, else the one that contains
  it) or for one registered department.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence, Union

from .thai import to_arabic_digits

_SPACE_RE = re.compile(r"[\s\u200b\u00a0]+")
_PUNCT_RE = re.compile(r"[\"'“”‘’()\[\]{}<>.,;:!?]+")

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


# The standard abbreviations of Thai local government units, as offices write them in survey answers
# and in the owner column of plans. Only well-attested ones: each was found standing for the same unit
# in the department tables of several unrelated Thai municipal / อบต. applications in public code
# (looked up with the project's `search` tool: code index, strings "'สป.'", "\"กช.\"", "'กสธ.'", ...;
# the pages/docs corpora hold no page that defines them). Where the sources disagree the
# abbreviation is left out and an organisation adds its own on the admin page:
#   กส.  = กองสวัสดิการสังคม in one LAO app, but read as กองสาธารณสุข by others: left out;
#   กสธ. = กองสาธารณสุข in one LAO app, but commonly กระทรวงสาธารณสุข: left out;
#   สธ. / กสส. = กองสาธารณสุขและสิ่งแวดล้อม once each (สธ. is the ministry; กสส. is also used for
#   other units): left out;  กสว. / กสด. for กองสวัสดิการสังคม: one or no LAO source: left out.
# key (normalised: no dot, no space) -> (as usually written, the unit word it stands for, sources)
STANDARD_ABBREVIATIONS: dict[str, tuple[str, str, str]] = {
    # สำนักปลัดเทศบาล / สำนักปลัด อบต. / สำนักปลัด อบจ.: 'สป.' in the department seeds of a
    # municipality app ('สำนักปลัด','สป.'), an อบต. app ('สำนักปลัด อบต.','สป.') and a
    # เทศบาล Supabase seed ('สำนักปลัดเทศบาล','สป.').
    "สป": ("สป.", "สำนักปลัด", "3 LAO apps' department seeds (municipality, อบต., เทศบาล)"),
    # กองคลัง: 'กค.' in the same municipality and อบต. seeds.
    "กค": ("กค.", "กองคลัง", "2 LAO apps' department seeds (municipality, อบต.)"),
    # กองช่าง: 'กช.' in the municipality and อบต. seeds, and as the placeholder of the
    # "ชื่อย่อ" field next to "กองช่าง" in three department forms of LAO apps.
    "กช": ("กช.", "กองช่าง", "2 LAO apps' department seeds + 3 LAO department forms"),
    # กองการศึกษา / กองการศึกษา ศาสนาและวัฒนธรรม: 'กศ.' in the municipality, อบต.
    # ('กองการศึกษา ศาสนาและวัฒนธรรม','กศ.') and เทศบาล seeds, and 'กศ' in a fourth.
    "กศ": ("กศ.", "กองการศึกษา", "4 LAO apps' department seeds"),
}


def abbreviation_key(text: str | None) -> str:
    """How an abbreviation is compared: NFC, Arabic digits, lower case, no dots or spaces ("ส.ป. " -> "สป")."""
    if not text:
        return ""
    s = to_arabic_digits(unicodedata.normalize("NFC", str(text))).lower()
    return re.sub(r"[\s\u200b\u00a0.]+", "", s)


def normalize_name(text: str | None) -> str:
    """Canonical comparison form: NFC, Arabic digits, no spaces or punctuation, common spellings unified."""
    if not text:
        return ""
    s = to_arabic_digits(unicodedata.normalize("NFC", str(text))).lower()
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


@dataclass(frozen=True)
class Abbreviation:
    """One entry of an organisation's abbreviation table: ``written`` stands for a unit word
    (``expansion``) or for one registered department (``department_id``)."""

    written: str
    expansion: Optional[str] = None
    department_id: Optional[int] = None

    @property
    def key(self) -> str:
        return abbreviation_key(self.written)


def standard_abbreviations() -> list[Abbreviation]:
    return [Abbreviation(written, expansion) for written, expansion, _ in STANDARD_ABBREVIATIONS.values()]


# A bare unit word says nothing about which unit: "กองฯ" matches no department by itself.
_UNIT_WORDS = frozenset({"กอง", "สำนัก", "ส่วน", "ฝ่าย", "งาน", "หน่วย", "ศูนย์", "โรงเรียน", "กลุ่มงาน", "สถานี"})
# What may follow an abbreviation in the same phrase: the organisation's own name ("สป. อบต.เมืองหลวง").
_ORG_SUFFIX_RE = re.compile(r"^(?:อบต|อบจ|ทต|ทม|ทน|เทศบาล|องค์การบริหารส่วน|สำนักงานเทศบาล)")
_TRAILING_RE = re.compile(r"[\s\u200b\u00a0.,;:)\]]+$")


def _ellipsis_stem(text: str) -> Optional[str]:
    """"กองการศึกษาฯ" / "กองการศึกษา ฯ" / "กองการศึกษาฯ ทต.นาอ้อ" -> "กองการศึกษา"; None when no
    ฯ ends the unit's name ("ฯลฯ" means "et cetera", not a shortened name)."""
    s = _TRAILING_RE.sub("", unicodedata.normalize("NFC", text))
    if "ฯ" not in s.replace("ฯลฯ", ""):
        return None
    head, _, tail = s.rpartition("ฯ")
    if head.endswith("ฯล"):
        return None
    tail_key = normalize_name(tail)
    if tail_key and not _ORG_SUFFIX_RE.match(tail_key):
        return None
    return head.rstrip()


AbbreviationTarget = Union[str, int]


class DepartmentResolver:
    """Resolves written names to department ids for one organisation.

    In order: an exact normalised match on a name or alias; a ``ฯ`` form (the one department whose
    name begins with the written stem); an abbreviation from the table (alone, or followed by the
    organisation's name: "สป. อบต.เมืองหลวง"); then a unique containment match ("กองคลัง
    อบต.เมืองหลวง" contains "กองคลัง"), so that longer spellings still resolve. Whenever two
    departments could be meant the text stays unresolved: never a guess.
    """

    def __init__(self, departments: Iterable[DepartmentRef], abbreviations: Iterable[Abbreviation] = ()):
        self.departments = list(departments)
        self._exact: dict[str, int] = {}
        self._keys: list[tuple[str, int]] = []
        for d in self.departments:
            for written in (d.name, *d.aliases):
                key = normalize_name(written)
                if key:
                    self._exact.setdefault(key, d.id)
                    self._keys.append((key, d.id))
        known = {d.id for d in self.departments}
        self.abbreviations: dict[str, AbbreviationTarget] = {}
        for a in abbreviations:
            if not a.key:
                continue
            if a.department_id is not None:
                if a.department_id in known:
                    self.abbreviations[a.key] = a.department_id
            elif a.expansion and normalize_name(a.expansion):
                self.abbreviations[a.key] = a.expansion
        self._abbrev_re = None
        if self.abbreviations:
            # Longest first, each letter optionally followed by a dot ("ส.ป."), then a dot, a space or the end.
            alternatives = sorted(self.abbreviations, key=len, reverse=True)
            pattern = "|".join(r"\.?\s*".join(re.escape(ch) for ch in key) for key in alternatives)
            self._abbrev_re = re.compile(rf"^\s*({pattern})(?:\s*\.\s*|\s+|$)")
        self._cache: dict[str, Optional[int]] = {}

    # -- the steps ---------------------------------------------------------------------------

    def _one(self, ids: set[int]) -> Optional[int]:
        return next(iter(ids)) if len(ids) == 1 else None

    def _begins(self, stem_key: str) -> Optional[int]:
        """The one department whose name or alias begins with ``stem_key``."""
        if len(stem_key) < 3 or stem_key in _UNIT_WORDS:
            return None
        return self._one({dep_id for k, dep_id in self._keys if k.startswith(stem_key)})

    def _contains(self, key: str) -> Optional[int]:
        return self._one({dep_id for k, dep_id in self._keys if len(k) >= 3 and (k in key or key in k)})

    def _unit_word(self, word: str) -> Optional[int]:
        """A unit word an abbreviation stands for: the department of that very name, else the one
        department it begins, else the one containing it. (Unlike ``ฯ``, an abbreviation does not
        say the name goes on: "กช." is กองช่าง even where a กองช่างสุขาภิบาล exists too.)"""
        key = normalize_name(word)
        if not key or key in _UNIT_WORDS:
            return None
        if key in self._exact:
            return self._exact[key]
        begins = {dep_id for k, dep_id in self._keys if k.startswith(key)}
        if begins:
            return self._one(begins)
        return self._contains(key)

    def _abbreviation(self, text: str) -> tuple[bool, Optional[int]]:
        """(the text is an abbreviation form, the department it resolves to)."""
        if self._abbrev_re is None:
            return False, None
        flat = to_arabic_digits(unicodedata.normalize("NFC", text)).lower()
        m = self._abbrev_re.match(flat)
        if m is None:
            return False, None
        rest = flat[m.end():].strip()
        rest_key = normalize_name(rest)
        if rest_key and not _ORG_SUFFIX_RE.match(rest_key):
            return False, None  # "กค. กช." or "กศ.ศูนย์...": not one unit of this organisation
        target = self.abbreviations[abbreviation_key(m.group(1))]
        if isinstance(target, int):
            return True, target
        if rest_key:
            found = self._exact.get(normalize_name(f"{target} {rest}"))
            if found is not None:
                return True, found
        return True, self._unit_word(target)

    def resolve(self, text: str | None) -> Optional[int]:
        if text is None:
            return None
        if text in self._cache:
            return self._cache[text]
        found = self._resolve(text)
        self._cache[text] = found
        return found

    def _resolve(self, text: str) -> Optional[int]:
        key = normalize_name(text)
        if not key:
            return None
        found = self._exact.get(key)
        if found is not None:
            return found
        stem = _ellipsis_stem(text)
        if stem is not None:
            is_abbreviation, found = self._abbreviation(stem)  # "สป.ฯ" is rare but harmless
            if is_abbreviation:
                return found
            return self._begins(normalize_name(stem))
        is_abbreviation, found = self._abbreviation(text)
        if is_abbreviation:
            return found
        return self._contains(key)

    def name_of(self, dep_id: int) -> str:
        for d in self.departments:
            if d.id == dep_id:
                return d.name
        raise KeyError(dep_id)


def split_owner_text(text: str | None) -> list[str]:
    """Split an owner cell into unit phrases: numbered lists, slashes, commas, "และ"."""
    if not text:
        return []
    s = to_arabic_digits(unicodedata.normalize("NFC", text))
    s = re.sub(r"\(.*?\)", " ", s)  # "(ผู้เป็นเจ้าของงาน)"
    parts = re.split(r"(?:^|\s)\d+\s*[.)]\s*|[/,;\n]|\sและ\s", s)
    out = []
    for p in parts:
        p = _SPACE_RE.sub(" ", p).strip(" -–")
        if p:
            out.append(p)
    return out
