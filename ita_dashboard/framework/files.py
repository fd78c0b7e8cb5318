"""Reading and checking the year files (``fyNNNN.toml``, ``legacy_grades.toml``): the shape through
:mod:`.schema`, then completeness and consistency, into flat values and their provenance."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from .model import IndicatorDef
from .oit_items import parse_oit_items
from .schema import check_year_file, read_toml
from .values import AGENCY_KINDS, AGENCY_SIZES, CONFIDENCES, INSTRUMENT_KEYS, _eit_min, _month_day, _number, _o_item, _text, normalize_text

_DIR = Path(__file__).resolve().parent
_FILE_RE = re.compile(r"^fy(\d{4})\.toml$")
_SOURCE_ID = re.compile(r"^(S\d+|APP)$")


def available_years() -> list[int]:
    """Fiscal years (BE) that have their own file."""
    return sorted(int(m.group(1)) for p in _DIR.iterdir() if (m := _FILE_RE.match(p.name)))


@lru_cache(maxsize=None)
def _read(name: str) -> dict:
    return read_toml(_DIR / name)


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
    """Values keyed by dotted key (structures under their own keys) and their provenance; a
    problem is a ValueError that starts with the file's name."""
    check_year_file(doc, name)
    try:
        return _parse_checked(doc, name)
    except ValueError as exc:
        if str(exc).startswith(f"{name}: "):
            raise
        raise ValueError(f"{name}: {exc}") from None


def _parse_checked(doc: dict, name: str) -> tuple[dict[str, Any], dict[str, dict]]:
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
