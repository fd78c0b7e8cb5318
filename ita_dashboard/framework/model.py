"""The framework of one fiscal year as the app uses it: instruments and indicators, answer scores,
weighted totals, rating labels, EIT minimums, the collection window, provenance."""

from __future__ import annotations

import copy
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Optional

from .oit_items import OitItemDef
from .overrides import _override_keys
from .values import AGENCY_KINDS, AGENCY_SIZES, _canonical, _nearest, normalize_text

_GRID = re.compile(r"^(.*?)\[([^\[\]]*)\]\s*$", re.S)


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
