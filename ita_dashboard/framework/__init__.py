"""The ITA framework (NACC) of each fiscal year, read from ``fyNNNN.toml`` in this folder.

Everything that changes from year to year (weights, indicators, answer scales, rating labels,
EIT minimums, the collection window, the O-item numbers of the measures documents) lives in
the year files; the rest of the app reads it only through :func:`load_framework`.

Provenance: every value in a year file carries ``sources`` (ids of the ITA fact sheet, ``S1``...,
or ``APP`` for this app's own choice, e.g. the question keywords) and ``confidence`` H/M/L/U.
:meth:`Framework.source` returns them for any dotted key. Values NACC publishes nowhere we
found are still given (so the app works) but marked ``U`` with a note; unknown values that we
cannot reasonably assume (e.g. the EIT minimum of a เทศบาลเมือง) are ``None``.

Years without a file: :func:`load_framework` uses the nearest earlier year's file (or, before
the first file, the earliest one), sets ``Framework.inherited_from`` to that file's year and
downgrades every confidence to U. For years up to 2565 the AA-F letter grades of
``legacy_grades.toml`` replace the rating labels and no per-instrument floor is applied.

Overrides: an agency may replace some values with its own (:meth:`Framework.override_keys`),
given as ``{dotted key: value}``. A bad key or value raises ``ValueError`` with a clear message.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

from .oit_items import OitItemDef, parse_oit_items

__all__ = [
    "AGENCY_KINDS", "AGENCY_SIZES", "Framework", "IndicatorDef", "InstrumentDef", "OitItemDef",
    "available_years", "load_framework", "normalize_text",
]

AGENCY_KINDS: list[str] = ["เทศบาลนคร", "เทศบาลเมือง", "เทศบาลตำบล", "อบจ.", "อบต.", "other"]
AGENCY_SIZES: list[str] = ["S", "M", "L"]
INSTRUMENT_KEYS = ("iit", "eit", "oit")
CONFIDENCES = ("H", "M", "L", "U")

_DIR = Path(__file__).resolve().parent
_FILE_RE = re.compile(r"^fy(\d{4})\.toml$")
_SOURCE_ID = re.compile(r"^(S\d+|APP)$")
_O_ITEM = re.compile(r"^O\d{1,3}$")
_SPACE = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]+")
_GRID = re.compile(r"^(.*?)\[([^\[\]]*)\]\s*$", re.S)


def normalize_text(text: str) -> str:
    """NFC with every whitespace (and zero-width space) removed.

    Thai is written without spaces between words, so forms differ mostly in stray spaces
    ("น้อยที่สุด หรือไม่มีเลย"); removing them all makes such variants compare equal.
    """
    return _SPACE.sub("", unicodedata.normalize("NFC", text))


@dataclass(frozen=True)
class IndicatorDef:
    number: int
    name_th: str
    name_en: str
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class InstrumentDef:
    code: str
    name_th: str
    name_en: str
    weight: Optional[float]  # a fraction (0.3 = 30 %); None = not part of the total
    indicators: list[IndicatorDef]
    # Indicator numbers in the order they are tried by Framework.indicator_for_question.
    match_order: tuple[int, ...] = ()


# ---------------------------------------------------------------- reading the files


def available_years() -> list[int]:
    """Fiscal years (BE) that have their own file."""
    return sorted(int(m.group(1)) for p in _DIR.iterdir() if (m := _FILE_RE.match(p.name)))


@lru_cache(maxsize=None)
def _read(name: str) -> dict:
    with open(_DIR / name, "rb") as fh:
        return tomllib.load(fh)


def _provenance(table: Any, where: str) -> dict:
    if not isinstance(table, dict):
        raise ValueError(f"{where}: expected a table with sources/confidence/note")
    sources, conf, note = table.get("sources"), table.get("confidence"), table.get("note", "")
    if not (isinstance(sources, list) and sources and all(isinstance(s, str) and _SOURCE_ID.match(s) for s in sources)):
        raise ValueError(f"{where}: 'sources' must be a non-empty list of ids like S1 or APP")
    if conf not in CONFIDENCES:
        raise ValueError(f"{where}: 'confidence' must be one of {CONFIDENCES}, got {conf!r}")
    if not isinstance(note, str) or (conf == "U" and not note.strip()):
        raise ValueError(f"{where}: a value with confidence U needs a note saying why")
    return {"sources": list(sources), "confidence": conf, "note": note}


class _Parser:
    """Turns one year file into flat values + provenance, checking completeness as it goes."""

    def __init__(self, name: str):
        self.name = name
        self.prov: dict[str, dict] = {}

    def fail(self, msg: str) -> None:
        raise ValueError(f"{self.name}: {msg}")

    def table(self, key: str, table: Any) -> dict:
        self.prov[key] = _provenance(table, f"{self.name}: {key}")
        return table

    def leaf(self, key: str, table: Any, *, nullable: bool = False) -> Any:
        """A ``{value, sources, confidence, note}`` table; no ``value`` means unknown (None)."""
        self.table(key, table)
        if "value" not in table:
            if not nullable:
                self.fail(f"{key} has no value")
            if not self.prov[key]["note"].strip():
                self.fail(f"{key} is unknown and needs a note saying why")
            return None
        return table["value"]


_TOP_KEYS = {"fiscal_year", "passing_bar", "instrument_floor", "rollup", "instruments", "answer_scales", "levels",
             "eit_minimum", "collection_window", "measures_o_items", "oit_items"}


def _parse(doc: dict, name: str) -> tuple[dict[str, Any], dict[str, dict]]:
    """Values keyed by dotted key (structures under their own keys) and their provenance."""
    p = _Parser(name)
    if unknown := set(doc) - _TOP_KEYS:
        p.fail(f"unknown top-level keys {sorted(unknown)} (a key placed after a [table] header belongs to that table)")
    v: dict[str, Any] = {}
    v["passing_bar"] = _number(p.leaf("passing_bar", doc.get("passing_bar")), "passing_bar", 0, 100)
    v["instrument_floor"] = _number(p.leaf("instrument_floor", doc.get("instrument_floor")), "instrument_floor", 0, 100)
    p.table("rollup", doc.get("rollup"))

    instruments = doc.get("instruments", {})
    if sorted(instruments) != sorted(INSTRUMENT_KEYS):
        p.fail(f"instruments must be exactly {INSTRUMENT_KEYS}, got {sorted(instruments)}")
    numbers: list[int] = []
    v["instruments"] = {}
    for key in INSTRUMENT_KEYS:
        t = instruments[key]
        base = f"instruments.{key}"
        p.table(base, t)
        weight = p.leaf(f"{base}.weight", t.get("weight"), nullable=True)
        v[f"{base}.weight"] = None if weight is None else _number(weight, f"{base}.weight", 0, 1)
        indicators = []
        for it in t.get("indicators", []):
            n = it.get("number")
            if not isinstance(n, int) or isinstance(n, bool):
                p.fail(f"{base}: indicator without an integer number")
            ib = f"{base}.indicators.{n}"
            p.table(ib, it)
            keywords = p.leaf(f"{ib}.keywords", it.get("keywords"))
            if not (isinstance(keywords, list) and all(isinstance(k, str) and k.strip() for k in keywords)):
                p.fail(f"{ib}.keywords must be a list of words")
            indicators.append(IndicatorDef(
                number=n, name_th=_text(it.get("name_th"), f"{name}: {ib}.name_th"),
                name_en=_text(p.leaf(f"{ib}.name_en", it.get("name_en")), f"{name}: {ib}.name_en"),
                keywords=tuple(normalize_text(k) for k in keywords),
            ))
        indicators.sort(key=lambda i: i.number)
        own = [i.number for i in indicators]
        numbers += own
        order = t.get("match_order", own)
        if sorted(order) != own:
            p.fail(f"{base}.match_order must list each of its indicators {own} once")
        v["instruments"][key] = dict(
            code=_text(t.get("code"), f"{name}: {base}.code"), name_th=_text(t.get("name_th"), f"{name}: {base}.name_th"),
            name_en=_text(p.leaf(f"{base}.name_en", t.get("name_en")), f"{name}: {base}.name_en"),
            indicators=indicators, match_order=tuple(order),
        )
    if sorted(numbers) != list(range(1, 11)):
        p.fail(f"indicator numbers must be 1-10, each once; got {sorted(numbers)}")
    weights = [v[f"instruments.{k}.weight"] for k in INSTRUMENT_KEYS if v[f"instruments.{k}.weight"] is not None]
    if abs(sum(weights) - 1) > 1e-9:
        p.fail(f"instrument weights must sum to 1, got {sum(weights)}")

    v["answer_scales"] = {}
    seen: dict[str, str] = {}
    for scale, t in doc.get("answer_scales", {}).items():
        p.table(f"answer_scales.{scale}", t)
        values = t.get("values")
        if set(t) - {"sources", "confidence", "note", "values"}:
            p.fail(f"answer_scales.{scale} has unknown keys {sorted(set(t) - {'sources', 'confidence', 'note', 'values'})}")
        if not isinstance(values, dict) or not values:
            p.fail(f"answer_scales.{scale}.values is missing")
        for label, score in values.items():
            _number(score, f"answer_scales.{scale}.{label}", 0, 100)
            if normalize_text(label) in seen:
                p.fail(f"answer label {label!r} is on two scales ({seen[normalize_text(label)]}, {scale})")
            seen[normalize_text(label)] = scale
        v["answer_scales"][scale] = {label: float(s) for label, s in values.items()}
    if not v["answer_scales"]:
        p.fail("answer_scales is missing")

    v["levels"] = _parse_levels(p, doc.get("levels"))
    v["level_gates"] = _parse_level_gates(p, doc.get("levels"))
    v["oit_items"] = parse_oit_items(p, doc.get("oit_items"))

    eit = doc.get("eit_minimum", {})
    if sorted(eit) != sorted(AGENCY_KINDS):
        p.fail(f"eit_minimum must have exactly the kinds {AGENCY_KINDS}, got {sorted(eit)}")
    for kind in AGENCY_KINDS:
        if sorted(eit[kind]) != sorted(AGENCY_SIZES):
            p.fail(f"eit_minimum.{kind} must have exactly the sizes {AGENCY_SIZES}")
        for size in AGENCY_SIZES:
            key = f"eit_minimum.{kind}.{size}"
            v[key] = _eit_min(p.leaf(key, eit[kind][size], nullable=True), key)

    window = p.table("collection_window", doc.get("collection_window"))
    for end in ("start", "end"):
        v[f"collection_window.{end}"] = _month_day(window.get(end), f"collection_window.{end}")

    items = doc.get("measures_o_items", {})
    for which in ("plan", "report"):
        key = f"measures_o_items.{which}"
        v[key] = _o_item(p.leaf(key, items.get(which), nullable=True), key)
    return v, p.prov


def _parse_levels(p: _Parser, bands: Any) -> list[tuple[str, float]]:
    if not isinstance(bands, list) or len(bands) < 2:
        p.fail("levels must list at least two labels")
    out = []
    for band in bands:
        label = _text(band.get("label_th"), f"{p.name}: levels.label_th")
        p.table(f"levels.{label}", band)
        out.append((label, _number(band.get("min_score"), f"levels.{label}", 0, 100)))
    return out


def _parse_level_gates(p: _Parser, bands: Any) -> dict[str, float]:
    """``instrument_min`` of the bands that have one: every instrument must reach it too.

    Since 2567 a label needs the total *and* each of IIT/EIT/OIT over a bar (ita-facts section 10):
    ผ่านดีเยี่ยม = total >= 95 and each >= 95, ผ่านดี = total >= 85 and each >= 85, ผ่าน = total >= 85.
    """
    gates = {}
    for band in bands:
        if "instrument_min" in band:
            label = band["label_th"]
            gates[label] = _number(band["instrument_min"], f"levels.{label}.instrument_min", 0, 100)
    return gates


# ---------------------------------------------------------------- value checks (files and overrides)


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


# ---------------------------------------------------------------- the framework


@dataclass
class Framework:
    fiscal_year: int
    passing_bar: float
    instruments: dict[str, InstrumentDef]
    answer_scales: dict[str, dict[str, float]]
    levels: list[tuple[str, float]]  # highest first; the last one (min 0) is the failing label
    measures_o_items: dict[str, Optional[str]]  # {"plan": "O42", "report": "O43"}
    collection_window: tuple[tuple[int, int], tuple[int, int]]  # ((month, day), (month, day))
    # Per-instrument floor of the dashboard rule (ita-facts section 2); None before 2566.
    instrument_floor: Optional[float] = None
    inherited_from: Optional[int] = None  # the file's year when the requested year has none
    # label -> the score each instrument must also reach for that label (years with gated levels)
    level_gates: dict[str, float] = field(default_factory=dict)
    # The year's OIT items as the framework file lists them (the agency edits its own copy).
    oit_items: list[OitItemDef] = field(default_factory=list)
    overrides: dict[str, Any] = field(default_factory=dict)  # applied agency values, by key
    _eit_minimum: dict[tuple[str, str], Optional[int]] = field(default_factory=dict, repr=False)
    _provenance: dict[str, dict] = field(default_factory=dict, repr=False)
    _answers: dict[str, float] = field(default_factory=dict, repr=False)

    # -- answers and questions

    def score_answer(self, text: Any) -> Optional[float]:
        """Score (0-100) of an answer label on any of the year's scales; None if on none."""
        if not isinstance(text, str):
            return None
        return self._answers.get(normalize_text(text))

    def indicator_for_question(self, instrument: str, question_text: Any) -> Optional[int]:
        """Indicator number of a survey question, by the year's keywords (an app heuristic).

        A grid column ``Question [Row]`` is judged by the question first and by the row only if
        the question matches nothing, because rows are short and misleading ("ให้ข้อมูล" under a
        service-quality question). Indicators are tried in the instrument's ``match_order``:
        specific words ("ปรับปรุง", "ทุจริต") beat generic ones ("ให้บริการ") that many
        questions share.
        """
        inst = self._instrument(instrument)
        if not isinstance(question_text, str):
            return None
        m = _GRID.match(question_text)
        parts = [m.group(1), m.group(2)] if m else [question_text]
        by_number = {i.number: i for i in inst.indicators}
        for part in parts:
            text = normalize_text(part)
            for number in inst.match_order:
                if any(k in text for k in by_number[number].keywords):
                    return number
        return None

    # -- scores

    def instrument_score(self, instrument: str, indicator_scores: dict[int, Optional[float]]) -> Optional[float]:
        """Plain mean of the instrument's indicator scores; None if any is missing (rollup, U)."""
        inst = self._instrument(instrument)
        own = {i.number for i in inst.indicators}
        if extra := set(indicator_scores) - own:
            raise ValueError(f"indicators {sorted(extra)} are not part of {inst.code} (its indicators: {sorted(own)})")
        values = [indicator_scores.get(n) for n in sorted(own)]
        return None if any(s is None for s in values) else sum(values) / len(values)

    def contribution(self, instrument: str, score: Optional[float]) -> Optional[float]:
        """Points an instrument score adds to the total, e.g. OIT 96.75 x 0.4 = 38.70."""
        inst = self._instrument(instrument)
        if score is None or inst.weight is None:
            return None
        return score * inst.weight / self._weight_sum()

    def weighted_total(self, scores: dict[str, Optional[float]]) -> Optional[float]:
        """Weighted total of instrument scores ({"iit": .., "eit": .., "oit": ..}).

        None if any weighted instrument is missing. Weights are divided by their sum, so an
        agency's overrides that do not add up to 1 (e.g. while it edits them one at a time)
        still give a total on the 0-100 scale.
        """
        if extra := {k for k in scores if k.lower() not in self.instruments}:
            raise ValueError(f"unknown instruments {sorted(extra)}; use {list(self.instruments)}")
        scores = {k.lower(): s for k, s in scores.items()}
        total = 0.0
        for key, inst in self.instruments.items():
            if not inst.weight:
                continue
            if scores.get(key) is None:
                return None
            total += self.contribution(key, scores[key])
        return total

    def level_for(self, score: float, instrument_scores: Optional[dict[str, Optional[float]]] = None) -> str:
        """Rating label of a total score; see :meth:`rating` for the rule."""
        return self.rating(score, instrument_scores)[0]

    def rating(self, score: float, instrument_scores: Optional[dict[str, Optional[float]]] = None) -> tuple[str, list[str]]:
        """(label, instruments holding it back) for a total score and the instruments' scores.

        Years whose levels carry ``instrument_min`` (2567 on): a label needs the total over its
        ``min_score`` and every known instrument score over its ``instrument_min``; an instrument
        whose score is unknown does not hold a label back. Other years: a passing total is capped
        at the lowest passing label when an instrument is below ``instrument_floor`` (in 2568 a
        total of 94.64 was rated only "ผ่าน" because its EIT was below 85, ita-facts section 2).
        The instruments returned are those below the bar of the best label the total alone
        would reach.
        """
        if isinstance(score, bool) or not isinstance(score, (int, float)):
            raise TypeError(f"score must be a number, got {score!r}")
        known = {k: v for k, v in (instrument_scores or {}).items() if v is not None}
        by_total = next(i for i, (_, lo) in enumerate(self.levels) if score >= lo or i == len(self.levels) - 1)
        if self.level_gates:
            for i in range(by_total, len(self.levels)):
                gate = self.level_gates.get(self.levels[i][0])
                if gate is None or all(v >= gate for v in known.values()):
                    break
            gate = self.level_gates.get(self.levels[by_total][0])
            held = sorted(k for k, v in known.items() if gate is not None and v < gate) if i != by_total else []
            return self.levels[i][0], held
        index, pass_index = by_total, self._pass_index()
        held = []
        if self.instrument_floor is not None and index < pass_index:
            held = sorted(k for k, v in known.items() if v < self.instrument_floor)
            if held:
                index = pass_index
        return self.levels[index][0], held

    # -- targets and dates

    def eit_minimum(self, kind: str, size: Optional[str]) -> Optional[int]:
        """Minimum EIT respondents for an agency kind and size; None when unknown or no size."""
        if kind not in AGENCY_KINDS:
            raise ValueError(f"unknown agency kind {kind!r}; use one of {AGENCY_KINDS}")
        if size is None:
            return None
        if str(size).upper() not in AGENCY_SIZES:
            raise ValueError(f"unknown agency size {size!r}; use one of {AGENCY_SIZES}")
        return self._eit_minimum[(kind, str(size).upper())]

    def collection_dates(self) -> tuple[dt.date, dt.date]:
        """The collection window as CE dates of this fiscal year (FY 2568 = Oct 2024 - Sep 2025)."""
        last_ce_year = self.fiscal_year - 543

        def date(md: tuple[int, int]) -> dt.date:
            year = last_ce_year - 1 if md[0] >= 10 else last_ce_year
            day = min(md[1], 28) if md == (2, 29) and not _leap(year) else md[1]
            return dt.date(year, md[0], day)

        return date(self.collection_window[0]), date(self.collection_window[1])

    # -- provenance and overrides

    def source(self, key: str) -> dict:
        """{"sources": [...], "confidence": "H|M|L|U", "note": str} of a dotted key.

        A key without its own entry gets its nearest parent's, e.g.
        ``instruments.iit.indicators.1.name_th`` -> ``instruments.iit.indicators.1``.
        """
        entry = _nearest(self._provenance, _canonical(key))
        if entry is None:
            raise KeyError(f"no framework value {key!r}")
        return copy.deepcopy(entry)

    def override_keys(self) -> list[str]:
        return _override_keys(self.levels, self.passing_bar)

    # -- helpers

    def _instrument(self, instrument: str) -> InstrumentDef:
        try:
            return self.instruments[instrument.lower()]
        except (KeyError, AttributeError):
            raise ValueError(f"unknown instrument {instrument!r}; use one of {list(self.instruments)}") from None

    def _weight_sum(self) -> float:
        return sum(i.weight for i in self.instruments.values() if i.weight)

    def _pass_index(self) -> int:
        """The lowest passing label (with gated levels several labels may start at the bar)."""
        return max(i for i, (_, lo) in enumerate(self.levels) if lo == self.passing_bar)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


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


def _override_keys(levels: list[tuple[str, float]], passing_bar: float) -> list[str]:
    """Overridable keys. Rating thresholds are, except the failing label (always 0) and the
    lowest passing one, which always starts at ``passing_bar``."""
    keys = [f"instruments.{k}.weight" for k in INSTRUMENT_KEYS] + ["passing_bar", "instrument_floor"]
    keys += [f"levels.{label}" for label, lo in levels[:-1] if lo != passing_bar]
    keys += [f"eit_minimum.{kind}.{size}" for kind in AGENCY_KINDS for size in AGENCY_SIZES]
    keys += ["collection_window.start", "collection_window.end", "measures_o_items.plan", "measures_o_items.report"]
    return keys


def _check_override(key: str, value: Any) -> Any:
    if key.endswith(".weight"):
        return _number(value, key, 0, 1)
    if key in ("passing_bar", "instrument_floor") or key.startswith("levels."):
        return _number(value, key, 0, 100)
    if key.startswith("eit_minimum."):
        return _eit_min(value, key)
    if key.startswith("collection_window."):
        return _month_day(value, key)
    return _o_item(value, key)


def load_framework(fiscal_year: int, overrides: Optional[dict[str, Any]] = None) -> Framework:
    """The framework of a fiscal year (BE), with an agency's own values applied."""
    if isinstance(fiscal_year, bool) or not isinstance(fiscal_year, int) or not 2400 <= fiscal_year <= 2700:
        raise ValueError(f"fiscal_year must be a Buddhist Era year such as 2568, got {fiscal_year!r}")
    years = available_years()
    if not years:
        raise ValueError(f"no framework files (fyNNNN.toml) in {_DIR}")
    file_year = max((y for y in years if y <= fiscal_year), default=years[0])
    name = f"fy{file_year}.toml"
    doc = _read(name)
    if doc.get("fiscal_year") != file_year:
        raise ValueError(f"{name}: fiscal_year must be {file_year}")
    values, prov = _parse(doc, name)
    prov = copy.deepcopy(prov)

    if file_year != fiscal_year:
        for entry in prov.values():
            was = entry["confidence"]
            entry["confidence"] = "U"
            entry["note"] = f"no framework file for {fiscal_year}; taken from the {file_year} file (there {was}: {entry['note']})"
        values["oit_items"] = [
            dataclasses.replace(i, confidence="U", note=f"no framework file for {fiscal_year}; taken from the {file_year} file "
                                                       f"(there {i.confidence}: {i.note})")
            for i in values["oit_items"]
        ]
    legacy = _read("legacy_grades.toml")
    if fiscal_year <= legacy["until_fiscal_year"]:
        p = _Parser("legacy_grades.toml")
        values["levels"] = _parse_levels(p, legacy["levels"])
        prov = {k: e for k, e in prov.items() if not k.startswith("levels.")} | p.prov
        values["instrument_floor"] = None
        values["level_gates"] = {}
        prov["instrument_floor"] = {"sources": ["S10", "S13"], "confidence": "U",
                                    "note": "per-instrument floors are known only with the rating labels from 2566; none applied"}
    if not any(lo == values["passing_bar"] for _, lo in values["levels"]):
        raise ValueError(f"{name}: one label must start at passing_bar ({values['passing_bar']})")

    applied = _apply_overrides(values, prov, overrides or {})
    _check_consistency(values)

    return Framework(
        fiscal_year=fiscal_year,
        passing_bar=values["passing_bar"],
        instrument_floor=values["instrument_floor"],
        instruments={k: InstrumentDef(weight=values[f"instruments.{k}.weight"], **d) for k, d in values["instruments"].items()},
        answer_scales=copy.deepcopy(values["answer_scales"]),
        levels=list(values["levels"]),
        level_gates=dict(values["level_gates"]),
        oit_items=list(values["oit_items"]),
        measures_o_items={w: values[f"measures_o_items.{w}"] for w in ("plan", "report")},
        collection_window=(values["collection_window.start"], values["collection_window.end"]),
        inherited_from=file_year if file_year != fiscal_year else None,
        overrides=applied,
        _eit_minimum={(k, s): values[f"eit_minimum.{k}.{s}"] for k in AGENCY_KINDS for s in AGENCY_SIZES},
        _provenance=prov,
        _answers={normalize_text(label): score for scale in values["answer_scales"].values() for label, score in scale.items()},
    )


def _apply_overrides(values: dict, prov: dict, overrides: Any) -> dict[str, Any]:
    if not isinstance(overrides, dict):
        raise ValueError(f"overrides must be a dict of dotted key -> value, got {type(overrides).__name__}")
    allowed = _override_keys(values["levels"], values["passing_bar"])
    old_bar = values["passing_bar"]
    applied: dict[str, Any] = {}
    for raw_key, value in overrides.items():
        key = _canonical(raw_key)
        if key not in allowed:
            raise ValueError(f"unknown framework key {raw_key!r}; keys an agency may set: {', '.join(allowed)}")
        if value is None and not key.startswith(("eit_minimum.", "measures_o_items.")):
            raise ValueError(f"{key} cannot be empty (None)")
        value = _check_override(key, value)
        default = values[key] if not key.startswith("levels.") else dict(values["levels"])[key[len("levels."):]]
        if key.startswith("levels."):
            label = key[len("levels."):]
            values["levels"] = [(lab, value if lab == label else lo) for lab, lo in values["levels"]]
        else:
            values[key] = value
        applied[key] = value
        was = _nearest(prov, key)
        prov[key] = {"sources": ["agency"], "confidence": "M",
                     "note": f"set by this agency; the framework file says {default!r} "
                             f"({was['confidence']} {', '.join(was['sources'])}: {was['note']})"}
    if values["passing_bar"] != old_bar:  # the lowest passing label moves with the bar
        values["levels"] = [(lab, values["passing_bar"] if lo == old_bar else lo) for lab, lo in values["levels"]]
        for label in (lab for lab, lo in values["levels"] if lo == values["passing_bar"]):
            prov[f"levels.{label}"] = dict(prov["passing_bar"], note=f"starts at passing_bar; {prov['passing_bar']['note']}")
    return applied


def _check_consistency(values: dict) -> None:
    mins = [lo for _, lo in values["levels"]]
    gated = [label in values.get("level_gates", {}) for label, _ in values["levels"]]
    # Two labels may start at one total only when the higher one also asks each instrument.
    if any(a < b or (a == b and not g) for a, b, g in zip(mins, mins[1:], gated)) or mins[-1] != 0:
        shown = ", ".join(f"{lab} {lo:g}" for lab, lo in values["levels"])
        raise ValueError(f"rating thresholds must fall from the best label to 0 (with passing_bar in between): {shown}")
    if not sum(values[f"instruments.{k}.weight"] or 0 for k in INSTRUMENT_KEYS) > 0:
        raise ValueError("at least one instrument weight must be above 0")
    start, end = values["collection_window.start"], values["collection_window.end"]
    if _fy_order(start) > _fy_order(end):
        raise ValueError(f"collection_window.start {start} must not fall after collection_window.end {end} in the fiscal year")
