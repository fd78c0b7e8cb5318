"""The numbers the overview shows, as a :class:`~.summary_types.Summary` (its ``to_json_dict()``
is ``summary --json``, a contract).

Keys required by design.md are never removed or renamed; new keys may be added.
"""

from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlmodel import Session

from .. import thai
from ..models import Instrument, Organization
from . import measures as measures_svc
from . import oit as oit_svc
from . import surveys as surveys_svc
from .framework_overrides import agency_value, framework_for
from .orgs import departments_of
from .summary_types import (CollectionWindow, DepartmentMeasures, DepartmentRank, DepartmentSurvey, DueMeasure,
                            MeasuresSummary, OitIndicator, OitSummary, Summary, SurveySummary, UnmatchedName)


def default_fiscal_year(session: Session, *, organization_id: int, today: Optional[dt.date] = None) -> int:
    """The newest fiscal year with data, else the current one."""
    years = surveys_svc.fiscal_years_with_data(session, organization_id=organization_id)
    return years[0] if years else thai.fiscal_year_of(today or dt.date.today())


def build_summary(
    session: Session, *, organization_id: int, fiscal_year: int, as_of: Optional[dt.date] = None
) -> Summary:
    org = session.get(Organization, organization_id)
    if org is None:
        raise ValueError(f"organization {organization_id} not found")
    as_of = as_of or dt.date.today()
    fw = framework_for(session, organization_id=organization_id, fiscal_year=fiscal_year)
    departments = departments_of(session, organization_id=organization_id)

    states = measures_svc.measure_states(session, organization_id=organization_id, fiscal_year=fiscal_year, as_of=as_of)
    counts = measures_svc.counts(states)
    by_dep = measures_svc.progress_by_department(states, departments=departments)
    measures = MeasuresSummary(
        **counts,
        by_department={
            p.name: DepartmentMeasures(total=p.total, done=p.done, in_progress=p.in_progress,
                                       not_started=p.not_started, overdue=p.overdue)
            for p in by_dep
        },
        unresolved_owners=tuple(p.name for p in by_dep if p.unmatched),
    )

    surveys: dict[Instrument, SurveySummary] = {}
    scores: dict[str, Optional[float]] = {}
    for instrument in Instrument:
        st = surveys_svc.instrument_status(
            session, organization_id=organization_id, fiscal_year=fiscal_year, instrument=instrument.value, as_of=as_of
        )
        scores[instrument.value] = st.estimated_score
        surveys[instrument] = SurveySummary(
            responses=st.responses,
            target=st.target,
            by_department={d.name: DepartmentSurvey(responses=d.responses, target=d.target, eligible=d.eligible)
                           for d in st.by_department},
            unmatched_departments=tuple(d.name for d in st.unmatched),
            over_eligible=tuple(d.name for d in st.departments if d.over_eligible),
            estimated_score=st.estimated_score,
            indicator_scores=dict(st.indicator_scores),
            scored_responses=st.scored_responses,
            itas_count=st.itas_count,
            itas_as_of=st.itas_as_of,
        )
    oit = oit_summary(session, organization_id=organization_id, fiscal_year=fiscal_year, as_of=as_of)
    scores["oit"] = oit.estimated_score
    total = fw.weighted_total(scores)
    level, held_back_by = fw.rating(total, scores) if total is not None else (None, [])
    window_start, window_end = fw.collection_dates()
    return Summary(
        organization=org.name,
        fiscal_year=fiscal_year,
        as_of=as_of,
        is_demo=org.is_demo,
        measures=measures,
        surveys=surveys,
        oit_estimate=scores["oit"],
        oit=oit,
        estimated_total=None if total is None else round(total, 2),
        estimated_level=level,
        level_held_back_by=tuple(held_back_by),
        passing_bar=fw.passing_bar,
        below_bar=tuple(k for k, v in scores.items() if v is not None and v < fw.passing_bar),
        collection_window=CollectionWindow(
            start=window_start, end=window_end,
            days_left=max((window_end - as_of).days, 0) if as_of <= window_end else 0),
        due=tuple(_due_item(m) for m in measures_svc.measures_due(states, as_of=as_of)),
    )


def oit_summary(session: Session, *, organization_id: int, fiscal_year: int, as_of: dt.date) -> OitSummary:
    """OIT as the overview shows it: the items' readiness, and the score the total uses.

    A figure typed in from ITAS (once results are out) wins over the estimate from the items;
    ``source`` says which it is ("itas", "items", or None when there is neither).
    """
    states = oit_svc.item_states(session, organization_id=organization_id, fiscal_year=fiscal_year, as_of=as_of)
    est = oit_svc.estimate(states)
    typed = agency_value(session, organization_id=organization_id, fiscal_year=fiscal_year, key="agency.oit_estimate")
    if typed is not None:
        score, source = float(typed), "itas"
    else:
        score, source = est.score, ("items" if est.items else None)
    return OitSummary(items=est.items, ready=est.ready, estimated_score=score, source=source,
                      items_score=est.score, overdue=sum(s.overdue for s in states),
                      by_indicator={k: OitIndicator(items=v["items"], ready=v["ready"], score=v["score"])
                                    for k, v in est.by_indicator.items()})


def _due_item(m: measures_svc.MeasureState) -> DueMeasure:
    """A measure overdue or due within a month, as the overview's list (and ``summary --json``) shows it."""
    return DueMeasure(number=m.number, title=m.title, end=m.end, overdue=m.overdue, status=m.status,
                      percent=m.percent)


def department_ranking(data: Summary) -> list[DepartmentRank]:
    """The summary's departments, furthest behind first.

    Behind means an overdue measure or IIT responses short of the target; at or over the target
    is met, however far over. Names that are no department of the organisation (a survey's
    unmatched department, a plan's unresolved responsible unit) are not rows: see
    :func:`unmatched_names`. Ranked by overdue measures, then by the share of the IIT target
    reached (lowest first), then by name, so the order is stable and explainable at the meeting.
    """
    m_by, iit_by = data.measures.by_department, data.iit.by_department
    skip = set(data.measures.unresolved_owners) | set(data.iit.unmatched_departments)
    rows = []
    for name in (set(m_by) | set(iit_by)) - skip:
        m = m_by.get(name, DepartmentMeasures(total=0, done=0, in_progress=0, not_started=0, overdue=0))
        iit = iit_by.get(name, DepartmentSurvey(responses=0, target=None, eligible=None))
        target = iit.target or 0
        pct = round(100 * iit.responses / target, 1) if target else None
        gap = max(target - iit.responses, 0)
        eligible = iit.eligible
        rows.append(DepartmentRank(
            name=name, measures_total=m.total, measures_done=m.done, overdue=m.overdue,
            iit_responses=iit.responses, iit_target=iit.target, iit_percent=pct, iit_gap=gap,
            iit_met=bool(target) and iit.responses >= target, iit_eligible=eligible,
            iit_over_eligible=bool(eligible) and iit.responses > eligible,
            behind=bool(m.overdue or gap),
        ))
    rows.sort(key=lambda r: (-r.overdue, r.iit_percent if r.iit_percent is not None else 101, r.name))
    return rows


def unmatched_names(data: Summary) -> list[UnmatchedName]:
    """Names written in the surveys or the plan that match no department, once each, with what
    was counted under them."""
    out: dict[str, dict[str, int]] = {}
    for name in data.measures.unresolved_owners:
        dep = data.measures.by_department.get(name)
        out.setdefault(name, {})["measures"] = dep.total if dep else 0
    for inst, s in data.surveys.items():
        for name in s.unmatched_departments:
            dep = s.by_department.get(name)
            out.setdefault(name, {})[inst.value] = dep.responses if dep else 0
    return [UnmatchedName(name, **counts) for name, counts in sorted(out.items())]
