"""The overview's numbers as typed values, and their one JSON form (``summary --json``, a contract).

Field order is the JSON key order; :func:`to_json` is the only serialiser: dates become ISO
strings, enums their value, mapping keys strings, tuples lists. Keys in docs/cli.md are never
removed or renamed (tests/test_summary_contract.py pins them). Frozen dataclasses pickle, so
``st.cache_data`` keeps them as it kept the dict.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from enum import Enum
from typing import Any, Optional

from ..models import Instrument, Status


def to_json(value: Any) -> Any:
    """A summary value as plain JSON data (dicts, lists, str, int, float, bool, None)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {(k.value if isinstance(k, Enum) else str(k)): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    return value


class _Json:
    def to_json_dict(self) -> dict[str, Any]:
        return to_json(self)


@dataclass(frozen=True)
class DepartmentMeasures(_Json):
    """A department's measures (``measures.by_department``; cancelled ones count in ``total`` only)."""

    total: int
    done: int
    in_progress: int
    not_started: int
    overdue: int


@dataclass(frozen=True)
class MeasuresSummary(_Json):
    total: int
    done: int
    in_progress: int
    not_started: int
    cancelled: int
    overdue: int
    by_department: dict[str, DepartmentMeasures]  # resolved name, or the name as written when it is no department
    unresolved_owners: tuple[str, ...]


@dataclass(frozen=True)
class DepartmentSurvey(_Json):
    responses: int
    target: Optional[int]
    eligible: Optional[int]


@dataclass(frozen=True)
class SurveySummary(_Json):
    """One instrument (IIT or EIT): responses against the target, and the score estimate."""

    responses: int
    target: Optional[int]
    by_department: dict[str, DepartmentSurvey]
    unmatched_departments: tuple[str, ...]
    over_eligible: tuple[str, ...]
    estimated_score: Optional[float]
    indicator_scores: dict[int, Optional[float]]
    scored_responses: int
    itas_count: Optional[int]
    itas_as_of: Optional[dt.date]


@dataclass(frozen=True)
class OitIndicator(_Json):
    items: int
    ready: int
    score: float


@dataclass(frozen=True)
class OitSummary(_Json):
    """OIT readiness and the score the total uses; ``source`` is "itas", "items" or None."""

    items: int
    ready: int
    estimated_score: Optional[float]
    source: Optional[str]
    items_score: Optional[float]
    overdue: int
    by_indicator: dict[int, OitIndicator]


@dataclass(frozen=True)
class CollectionWindow(_Json):
    start: dt.date
    end: dt.date
    days_left: int


@dataclass(frozen=True)
class DueMeasure(_Json):
    """A measure overdue or due within a month, as the overview's list shows it."""

    number: int
    title: str
    end: Optional[dt.date]
    overdue: bool
    status: Status
    percent: int


@dataclass(frozen=True)
class Summary(_Json):
    organization: str
    fiscal_year: int
    as_of: dt.date
    is_demo: bool
    measures: MeasuresSummary
    surveys: dict[Instrument, SurveySummary]  # iit, then eit
    oit_estimate: Optional[float]  # repeats oit.estimated_score (the key came first)
    oit: OitSummary
    estimated_total: Optional[float]
    estimated_level: Optional[str]
    level_held_back_by: tuple[str, ...]  # "iit" / "eit" / "oit"
    passing_bar: float
    below_bar: tuple[str, ...]  # "iit" / "eit" / "oit"
    collection_window: CollectionWindow
    due: tuple[DueMeasure, ...]

    @property
    def iit(self) -> SurveySummary:
        return self.surveys[Instrument.iit]

    @property
    def eit(self) -> SurveySummary:
        return self.surveys[Instrument.eit]


@dataclass(frozen=True)
class DepartmentRank:
    """One row of the overview's department table (:func:`.summary.department_ranking`)."""

    name: str
    measures_total: int
    measures_done: int
    overdue: int
    iit_responses: int
    iit_target: Optional[int]
    iit_percent: Optional[float]  # share of the IIT target reached; None without a target
    iit_gap: int
    iit_met: bool
    iit_eligible: Optional[int]
    iit_over_eligible: bool  # more responses than eligible staff: something to check
    behind: bool


@dataclass(frozen=True)
class UnmatchedName:
    """A name written in the surveys or the plan that is no department, with what was counted under it."""

    name: str
    measures: int = 0
    iit: int = 0
    eit: int = 0
