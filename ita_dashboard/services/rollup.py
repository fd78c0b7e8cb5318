"""The roll-up: every agency a province office (or any multi-organisation user) follows, one row
each, for one fiscal year as of a date.

One grouped SQL query per metric across all organisations in scope (measures, responses and
scores, explicit targets, department head counts, framework values); nothing is computed per
organisation with a query of its own, so 100 agencies cost the same handful of queries as one.
The figures agree with :func:`services.summary.build_summary` for each agency (tests check it):
the same state-as-of rule for measures, the same targets and the same score expression.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Optional

from sqlalchemy import case, func, select as sa_select, true
from sqlmodel import Session, col

from ..framework import AGENCY_KINDS, Framework, load_framework
from ..models import (Department, FrameworkOverride, Instrument, Measure, Organization, Status,
                      SurveyResponse, SurveyTarget, counted)
from ..permissions import Actor
from . import measure_state
from . import oit as oit_svc
from .framework_overrides import AGENCY_PREFIX
from .surveys import estimate_from_aggregates, score_aggregates

INSTRUMENTS = ("iit", "eit")
MAX_SLOTS = 5  # indicator_score_1..5 on SurveyResponse
RANKINGS = ("score", "measures", "iit", "eit")


@dataclass
class AgencyRow:
    organization_id: int
    name: str
    province: Optional[str]
    district: Optional[str]
    kind: str
    is_demo: bool
    measures_total: int = 0
    measures_done: int = 0
    measures_overdue: int = 0
    iit_responses: int = 0
    iit_target: Optional[int] = None
    eit_responses: int = 0
    eit_target: Optional[int] = None
    iit_score: Optional[float] = None
    eit_score: Optional[float] = None
    oit_score: Optional[float] = None
    oit_source: Optional[str] = None  # "itas" (typed in from ITAS), "items" (the items' readiness) or None
    oit_items: int = 0
    oit_ready: int = 0
    estimated_total: Optional[float] = None
    estimated_level: Optional[str] = None
    level_held_back_by: tuple[str, ...] = ()
    passing_bar: float = 85.0

    @property
    def measures_ratio(self) -> Optional[float]:
        return self.measures_done / self.measures_total if self.measures_total else None

    @property
    def iit_ratio(self) -> Optional[float]:
        return self.iit_responses / self.iit_target if self.iit_target else None

    @property
    def eit_ratio(self) -> Optional[float]:
        return self.eit_responses / self.eit_target if self.eit_target else None

    def metric(self, name: str) -> Optional[float]:
        return {"score": self.estimated_total, "measures": self.measures_ratio,
                "iit": self.iit_ratio, "eit": self.eit_ratio}[name]


@dataclass(frozen=True)
class Scope:
    """Which organisations: the actor's, narrowed by province / district / kind."""

    province: Optional[str] = None
    district: Optional[str] = None
    kind: Optional[str] = None


def _org_query(actor: Actor, scope: Scope):
    q = sa_select(Organization.id)
    if actor.org_ids is not None:
        q = q.where(col(Organization.id).in_(sorted(actor.org_ids)))
    for column, value in ((Organization.province, scope.province), (Organization.district, scope.district),
                          (Organization.kind, scope.kind)):
        if value is not None:
            q = q.where(column == value)
    return q


def filter_options(session: Session, *, actor: Actor, province: Optional[str] = None) -> dict[str, list[str]]:
    """Provinces, districts (of ``province`` when given) and kinds among the actor's organisations."""
    orgs = _org_query(actor, Scope()).subquery()

    def distinct(column, *where) -> list[str]:
        rows = session.execute(sa_select(column).where(col(Organization.id).in_(sa_select(orgs.c.id)), column.is_not(None), *where)
                               .distinct().order_by(column)).scalars()
        return [r for r in rows if r]

    return {
        "province": distinct(Organization.province),
        "district": distinct(Organization.district, *([Organization.province == province] if province else [])),
        "kind": distinct(Organization.kind),
    }


def rollup(
    session: Session, *, actor: Actor, fiscal_year: int, as_of: Optional[dt.date] = None, scope: Scope = Scope(),
) -> list[AgencyRow]:
    """One row per organisation in scope, sorted by name; the actor sees only its organisations."""
    as_of = as_of or dt.date.today()
    org_q = _org_query(actor, scope)
    rows = {
        o.id: AgencyRow(o.id, o.name, o.province, o.district, o.kind, o.is_demo)
        for o in session.execute(sa_select(Organization).where(col(Organization.id).in_(org_q))).scalars()
    }
    if not rows:
        return []
    # The organisations as a list of ids, not a subquery: PostgreSQL then reads each one's rows
    # through the (organization_id, ...) indexes instead of hashing a scan of every response.
    everything = actor.org_ids is None and scope == Scope()
    org_q = None if everything else sorted(rows)
    _fill_measures(session, rows, org_q=org_q, fiscal_year=fiscal_year, as_of=as_of)
    frameworks, oit = _frameworks(session, rows, org_q=org_q, fiscal_year=fiscal_year)
    _fill_surveys(session, rows, org_q=org_q, fiscal_year=fiscal_year, as_of=as_of, frameworks=frameworks)
    _fill_targets(session, rows, org_q=org_q, fiscal_year=fiscal_year, frameworks=frameworks)
    readiness = oit_svc.readiness_by_org(session, org_q=org_q if org_q is not None else sa_select(Organization.id),
                                         fiscal_year=fiscal_year, as_of=as_of)
    for org_id, row in rows.items():
        fw = frameworks[org_id]
        ready = readiness.get(org_id)
        if ready is not None:
            row.oit_items, row.oit_ready = ready.items, ready.ready
        # the same rule as services.summary.oit_summary: a figure from ITAS wins over the items
        if org_id in oit:
            row.oit_score, row.oit_source = oit[org_id], "itas"
        elif ready is not None:
            row.oit_score, row.oit_source = ready.score, "items"
        scores = {"iit": row.iit_score, "eit": row.eit_score, "oit": row.oit_score}
        total = fw.weighted_total(scores)
        row.estimated_total = None if total is None else round(total, 2)
        if total is not None:
            level, held = fw.rating(total, scores)
            row.estimated_level, row.level_held_back_by = level, tuple(held)
        row.passing_bar = fw.passing_bar
    return sorted(rows.values(), key=lambda r: r.name)


def ranked(rows: list[AgencyRow], *, by: str = "score") -> list[AgencyRow]:
    """Best first by one metric (``RANKINGS``); agencies without the figure go last."""
    if by not in RANKINGS:
        raise ValueError(f"unknown ranking {by!r}; use one of {RANKINGS}")
    return sorted(rows, key=lambda r: (r.metric(by) is None, -(r.metric(by) or 0.0), r.name))


def weakest(rows: list[AgencyRow], *, by: str = "score", n: int = 10) -> list[AgencyRow]:
    """The ``n`` lowest by one metric among agencies that have it, lowest first."""
    have = [r for r in rows if r.metric(by) is not None]
    return sorted(have, key=lambda r: (r.metric(by), r.name))[:n]


def _in(column, org_q):
    """``column IN (ids)``, or no condition at all when every organisation is in scope."""
    return true() if org_q is None else col(column).in_(org_q)


def _fill_measures(session: Session, rows: dict[int, AgencyRow], *, org_q, fiscal_year: int, as_of: dt.date) -> None:
    """Total / done / overdue per organisation, from each measure's newest progress by ``as_of``
    (:mod:`.measure_state`'s select and overdue rule, aggregated in one statement)."""
    per_measure = measure_state.measures_as_of(_in(Measure.organization_id, org_q), Measure.fiscal_year == fiscal_year,
                                               as_of=as_of).subquery()
    done = case((per_measure.c.status == Status.done.value, 1), else_=0)
    overdue = case((measure_state.overdue_sql(end=per_measure.c.end_date, status=per_measure.c.status, as_of=as_of), 1),
                   else_=0)
    q = (sa_select(per_measure.c.organization_id, func.count(), func.sum(done), func.sum(overdue))
         .group_by(per_measure.c.organization_id))
    for org_id, total, n_done, n_overdue in session.execute(q):
        if org_id not in rows:  # created after the organisations were read
            continue
        row = rows[org_id]
        row.measures_total, row.measures_done, row.measures_overdue = int(total), int(n_done or 0), int(n_overdue or 0)


def _frameworks(session: Session, rows: dict[int, AgencyRow], *, org_q, fiscal_year: int
                ) -> tuple[dict[int, Framework], dict[int, float]]:
    """Each organisation's framework (year file + its overrides; shared when equal) and OIT input."""
    values: dict[int, dict[str, Any]] = defaultdict(dict)
    for org_id, key, value in session.execute(
        sa_select(FrameworkOverride.organization_id, FrameworkOverride.key, FrameworkOverride.value)
        .where(_in(FrameworkOverride.organization_id, org_q), FrameworkOverride.fiscal_year == fiscal_year)
    ):
        values[org_id][key] = value
    cache: dict[str, Framework] = {}
    frameworks, oit = {}, {}
    for org_id in rows:
        own = values.get(org_id, {})
        overrides = {k: v for k, v in own.items() if not k.startswith(AGENCY_PREFIX)}
        key = json.dumps(overrides, sort_keys=True, default=str)
        if key not in cache:
            cache[key] = load_framework(fiscal_year, overrides=overrides or None)
        frameworks[org_id] = cache[key]
        if own.get("agency.oit_estimate") is not None:  # typed in from ITAS: wins over the items
            oit[org_id] = float(own["agency.oit_estimate"])
    return frameworks, oit


def _fill_surveys(session: Session, rows: dict[int, AgencyRow], *, org_q, fiscal_year: int, as_of: dt.date,
                  frameworks: dict[int, Framework]) -> None:
    """Responses and estimated score per organisation and instrument (services.surveys' expression)."""
    q = (sa_select(SurveyResponse.organization_id, SurveyResponse.instrument, func.count(), *score_aggregates(MAX_SLOTS))
         .where(_in(SurveyResponse.organization_id, org_q), SurveyResponse.fiscal_year == fiscal_year,
                SurveyResponse.submitted_on <= as_of, counted())
         .group_by(SurveyResponse.organization_id, SurveyResponse.instrument))
    for org_id, instrument, n, _scored, *averages in session.execute(q):
        if org_id not in rows:
            continue
        instrument = Instrument(instrument).value
        indicators = frameworks[org_id].instruments[instrument].indicators
        _, estimate = estimate_from_aggregates(indicators, averages[: len(indicators)])
        setattr(rows[org_id], f"{instrument}_responses", int(n))
        setattr(rows[org_id], f"{instrument}_score", estimate)


def _fill_targets(session: Session, rows: dict[int, AgencyRow], *, org_q, fiscal_year: int,
                  frameworks: dict[int, Framework]) -> None:
    """Targets as services.surveys.targets() defines them: an explicit organisation target wins;
    else IIT = the departments' targets (explicit, or IIT-eligible staff) summed, EIT = the
    framework minimum for the agency's kind and size."""
    explicit: dict[tuple[int, str], int] = {}
    for org_id, instrument, target in session.execute(
        sa_select(SurveyTarget.organization_id, SurveyTarget.instrument, SurveyTarget.target)
        .where(_in(SurveyTarget.organization_id, org_q), SurveyTarget.fiscal_year == fiscal_year,
               col(SurveyTarget.department_id).is_(None))
    ):
        explicit[(org_id, Instrument(instrument).value)] = int(target)
    dep_target = (sa_select(SurveyTarget.department_id, SurveyTarget.target)
                  .where(SurveyTarget.fiscal_year == fiscal_year, SurveyTarget.instrument == Instrument.iit,
                         col(SurveyTarget.department_id).is_not(None))
                  .subquery())
    iit_sums = dict(session.execute(
        sa_select(Department.organization_id, func.sum(func.coalesce(dep_target.c.target, Department.iit_eligible_staff)))
        .outerjoin(dep_target, dep_target.c.department_id == Department.id)
        .where(_in(Department.organization_id, org_q))
        .group_by(Department.organization_id)
    ).all())
    org_sizes = dict(session.execute(sa_select(Organization.id, Organization.size).where(_in(Organization.id, org_q))).all())
    for org_id, row in rows.items():
        row.iit_target = explicit.get((org_id, "iit"), int(iit_sums.get(org_id) or 0) or None)
        if (org_id, "eit") in explicit:
            row.eit_target = explicit[(org_id, "eit")]
        elif row.kind in AGENCY_KINDS:
            row.eit_target = frameworks[org_id].eit_minimum(row.kind, org_sizes.get(org_id))
