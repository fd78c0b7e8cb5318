"""Survey completion and score estimates, aggregated in SQL (COUNT/AVG ... GROUP BY).

Nothing here loads individual responses: the overview must stay fast at millions of rows.
Targets: an explicit SurveyTarget row wins; otherwise IIT defaults to each department's
IIT-eligible staff (the organisation target is their sum) and EIT to the framework's minimum
for the agency's kind and size.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Optional

from sqlalchemy import func, select as sa_select
from sqlmodel import Session, col, select

from .. import audit
from ..models import Instrument, ItasSnapshot, Organization, SurveyResponse, SurveyTarget, counted
from ..permissions import Actor, require_admin
from .framework_overrides import framework_for
from .orgs import departments_of

UNSPECIFIED = "(ไม่ระบุ)"


@dataclass
class DepartmentCount:
    """One department's responses; ``department_id`` None: a name written in the survey that
    matches no department of the organisation (``unmatched``), not a department of its own."""

    name: str
    department_id: Optional[int]
    responses: int
    target: Optional[int]
    eligible: Optional[int] = None  # IIT: staff eligible to answer (head count), when known

    @property
    def gap(self) -> Optional[int]:
        return None if self.target is None else max(self.target - self.responses, 0)

    @property
    def ratio(self) -> Optional[float]:
        return None if not self.target else self.responses / self.target

    @property
    def unmatched(self) -> bool:
        return self.department_id is None

    @property
    def met(self) -> bool:
        """At or over its target: shown as met, however far over."""
        return bool(self.target) and self.responses >= self.target

    @property
    def over_eligible(self) -> bool:
        """More IIT responses than staff who may answer: a head count, a duplicate or a mapping to check."""
        return bool(self.eligible) and self.responses > self.eligible


@dataclass
class InstrumentStatus:
    instrument: str
    responses: int
    target: Optional[int]
    by_department: list[DepartmentCount] = field(default_factory=list)
    estimated_score: Optional[float] = None
    indicator_scores: dict[int, Optional[float]] = field(default_factory=dict)
    scored_responses: int = 0
    itas_count: Optional[int] = None  # latest total the admin read off ITAS
    itas_as_of: Optional[dt.date] = None

    @property
    def departments(self) -> list[DepartmentCount]:
        """The organisation's own departments (the rows of a completion table or chart)."""
        return [d for d in self.by_department if not d.unmatched]

    @property
    def unmatched(self) -> list[DepartmentCount]:
        """Responses under names no department has: listed once, to be mapped, never a department row."""
        return [d for d in self.by_department if d.unmatched]


def _filters(organization_id: int, fiscal_year: int, instrument: str, as_of: Optional[dt.date]):
    f = [
        SurveyResponse.organization_id == organization_id,
        SurveyResponse.fiscal_year == fiscal_year,
        SurveyResponse.instrument == Instrument(instrument),
        counted(),  # rows a newer export no longer holds are kept, not counted
    ]
    if as_of is not None:
        f.append(SurveyResponse.submitted_on <= as_of)
    return f


def explicit_targets(session: Session, *, organization_id: int, fiscal_year: int, instrument: str) -> dict[Optional[int], int]:
    rows = session.exec(
        select(SurveyTarget).where(
            SurveyTarget.organization_id == organization_id,
            SurveyTarget.fiscal_year == fiscal_year,
            SurveyTarget.instrument == Instrument(instrument),
        )
    ).all()
    return {r.department_id: r.target for r in rows}


def targets(
    session: Session, *, organization_id: int, fiscal_year: int, instrument: str
) -> tuple[Optional[int], dict[int, Optional[int]]]:
    """(organisation target, {department_id: target}) with the defaults described above."""
    org = session.get(Organization, organization_id)
    deps = departments_of(session, organization_id=organization_id)
    explicit = explicit_targets(session, organization_id=organization_id, fiscal_year=fiscal_year, instrument=instrument)
    by_dep: dict[int, Optional[int]] = {}
    for d in deps:
        if d.id in explicit:
            by_dep[d.id] = explicit[d.id]
        elif instrument == Instrument.iit:
            by_dep[d.id] = d.iit_eligible_staff or None
        else:
            by_dep[d.id] = None
    if None in explicit:
        org_target: Optional[int] = explicit[None]
    elif instrument == Instrument.iit:
        org_target = sum(t for t in by_dep.values() if t) or None
    else:
        fw = framework_for(session, organization_id=organization_id, fiscal_year=fiscal_year)
        org_target = fw.eit_minimum(org.kind, org.size) if org else None
    return org_target, by_dep


def instrument_status(
    session: Session, *, organization_id: int, fiscal_year: int, instrument: str, as_of: Optional[dt.date] = None
) -> InstrumentStatus:
    f = _filters(organization_id, fiscal_year, instrument, as_of)
    rows = session.execute(
        sa_select(SurveyResponse.department_id, SurveyResponse.department_text, func.count())
        .where(*f)
        .group_by(SurveyResponse.department_id, SurveyResponse.department_text)
    ).all()
    org_target, dep_targets = targets(session, organization_id=organization_id, fiscal_year=fiscal_year, instrument=instrument)
    deps = departments_of(session, organization_id=organization_id)
    counts: dict[int, int] = {d.id: 0 for d in deps}
    unmatched: dict[str, int] = {}
    for dep_id, text, n in rows:
        if dep_id is not None and dep_id in counts:
            counts[dep_id] += n
        else:
            key = (text or "").strip() or UNSPECIFIED
            unmatched[key] = unmatched.get(key, 0) + n
    by_department = [DepartmentCount(d.name, d.id, counts[d.id], dep_targets.get(d.id),
                                     eligible=(d.iit_eligible_staff or None) if instrument == Instrument.iit else None)
                     for d in deps]
    by_department += [DepartmentCount(name, None, n, None) for name, n in sorted(unmatched.items())]
    status = InstrumentStatus(
        instrument=instrument,
        responses=sum(counts.values()) + sum(unmatched.values()),
        target=org_target,
        by_department=by_department,
    )
    _fill_scores(session, status, filters=f, fiscal_year=fiscal_year, organization_id=organization_id)
    snap = latest_itas_snapshot(session, organization_id=organization_id, fiscal_year=fiscal_year, as_of=as_of)
    if snap is not None:
        status.itas_count = snap.iit_count if instrument == Instrument.iit else snap.eit_count
        status.itas_as_of = snap.as_of
    return status


def score_aggregates(indicator_count: int) -> list:
    """The SQL half of a score estimate: COUNT of scored responses, then AVG of each indicator
    slot; add a GROUP BY to get it per organisation (the roll-up) or use it as is (one agency)."""
    slots = [getattr(SurveyResponse, f"indicator_score_{k}") for k in range(1, indicator_count + 1)]
    return [func.count(SurveyResponse.score), *[func.avg(s) for s in slots]]


def estimate_from_aggregates(indicators, averages) -> tuple[dict[int, Optional[float]], Optional[float]]:
    """The Python half: indicator means (rounded) and their plain mean, the instrument estimate."""
    by_indicator = {ind.number: (None if v is None else round(float(v), 2)) for ind, v in zip(indicators, averages)}
    present = [v for v in by_indicator.values() if v is not None]
    return by_indicator, (round(sum(present) / len(present), 2) if present else None)


def _fill_scores(session: Session, status: InstrumentStatus, *, filters, fiscal_year: int, organization_id: int) -> None:
    """Item→indicator→instrument roll-up (ita-facts §3): indicator means, then their plain mean."""
    fw = framework_for(session, organization_id=organization_id, fiscal_year=fiscal_year)
    indicators = fw.instruments[status.instrument].indicators
    row = session.execute(sa_select(*score_aggregates(len(indicators))).where(*filters)).one()
    status.scored_responses = int(row[0] or 0)
    status.indicator_scores, status.estimated_score = estimate_from_aggregates(indicators, row[1:])


def responses_by_day(
    session: Session, *, organization_id: int, fiscal_year: int, instrument: str, as_of: Optional[dt.date] = None
) -> list[tuple[dt.date, int]]:
    rows = session.execute(
        sa_select(SurveyResponse.submitted_on, func.count())
        .where(*_filters(organization_id, fiscal_year, instrument, as_of))
        .group_by(SurveyResponse.submitted_on)
        .order_by(SurveyResponse.submitted_on)
    ).all()
    return [(d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)), int(n)) for d, n in rows]


def set_target(
    session: Session, *, organization_id: int, fiscal_year: int, instrument: str,
    department_id: Optional[int], target: Optional[int], actor: Actor,
) -> None:
    """Set (or, with target=None, clear back to the default) one target; audited."""
    require_admin(actor, organization_id)
    if target is not None and (int(target) < 0 or int(target) > 1_000_000):
        raise ValueError("เป้าหมายต้องเป็นจำนวนเต็ม 0 ขึ้นไป")
    existing = session.exec(
        select(SurveyTarget).where(
            SurveyTarget.organization_id == organization_id, SurveyTarget.fiscal_year == fiscal_year,
            SurveyTarget.instrument == Instrument(instrument),
            (SurveyTarget.department_id == department_id) if department_id is not None else col(SurveyTarget.department_id).is_(None),
        )
    ).first()
    before = audit.snapshot(existing) if existing else None
    if target is None:
        if existing:
            session.delete(existing)
    elif existing:
        existing.target = int(target)
        session.add(existing)
    else:
        existing = SurveyTarget(organization_id=organization_id, fiscal_year=fiscal_year,
                                instrument=Instrument(instrument), department_id=department_id, target=int(target))
        session.add(existing)
    session.flush()
    audit.record(session, user_id=actor.user_id, username=actor.username, action="survey.target", entity="surveytarget",
                 entity_id=f"{instrument}:{department_id}", organization_id=organization_id,
                 before=before, after={"target": target, "department_id": department_id, "instrument": instrument})


def record_itas_snapshot(
    session: Session, *, organization_id: int, fiscal_year: int, as_of: dt.date,
    iit_count: Optional[int], eit_count: Optional[int], actor: Actor,
) -> ItasSnapshot:
    require_admin(actor, organization_id)
    for v in (iit_count, eit_count):
        if v is not None and v < 0:
            raise ValueError("จำนวนผู้ตอบต้องไม่ติดลบ")
    snap = ItasSnapshot(organization_id=organization_id, fiscal_year=fiscal_year, as_of=as_of,
                        iit_count=iit_count, eit_count=eit_count, user_id=actor.user_id)
    session.add(snap)
    session.flush()
    audit.record(session, user_id=actor.user_id, username=actor.username, action="survey.itas_snapshot",
                 entity="itassnapshot", entity_id=snap.id, organization_id=organization_id, after=audit.snapshot(snap))
    return snap


def latest_itas_snapshot(
    session: Session, *, organization_id: int, fiscal_year: int, as_of: Optional[dt.date] = None
) -> Optional[ItasSnapshot]:
    q = select(ItasSnapshot).where(ItasSnapshot.organization_id == organization_id, ItasSnapshot.fiscal_year == fiscal_year)
    if as_of is not None:
        q = q.where(ItasSnapshot.as_of <= as_of)
    return session.exec(q.order_by(col(ItasSnapshot.as_of).desc(), col(ItasSnapshot.id).desc())).first()


def fiscal_years_with_data(session: Session, *, organization_id: int) -> list[int]:
    from ..models import Measure

    years = set(session.exec(select(Measure.fiscal_year).where(Measure.organization_id == organization_id).distinct()).all())
    years |= set(
        session.exec(select(SurveyResponse.fiscal_year).where(SurveyResponse.organization_id == organization_id,
                                                               counted()).distinct()).all()
    )
    return sorted(years, reverse=True)

