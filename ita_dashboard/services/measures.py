"""Measures and their progress: the current state as of any date, from the append-only history.

The state as of a date and the overdue rule are defined once, in :mod:`.measure_state`; this
module lists measures with that state and appends progress.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import ClassVar, Optional

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from ..errors import ItaError
from .. import audit, thai
from ..texts import t
from ..models import Department, Measure, MeasureDepartment, ProgressUpdate, Status
from ..permissions import Actor, require_edit_measure
from . import measure_state


class ProgressError(ItaError, ValueError):
    """Bad progress input; message in Thai."""

    codes: ClassVar[tuple[str, ...]] = (
        "measures_not_found", "measures_bad_status", "measures_percent_not_number", "measures_percent_range",
        "measures_evidence_url",
    )


@dataclass
class MeasureState:
    id: int
    number: int
    section_number: Optional[int]
    section_title: Optional[str]
    title: str
    owner_text: str
    owner_all: bool
    department_ids: list[int]
    department_names: list[str]
    unresolved_owners: list[str]
    period_text: str
    start: Optional[dt.date]
    end: Optional[dt.date]
    period_unparsed: bool
    status: Status
    percent: int
    note: str
    evidence_url: Optional[str]
    last_update: Optional[dt.date]
    overdue: bool
    steps: str = ""
    output_text: str = ""
    outcome_text: str = ""
    recurrence: Optional[str] = None




def measure_states(
    session: Session, *, organization_id: int, fiscal_year: int, as_of: Optional[dt.date] = None
) -> list[MeasureState]:
    """Every measure of the year with its state at the end of ``as_of`` (default today)."""
    as_of = as_of or dt.date.today()
    ids_q = sa_select(Measure.id).where(Measure.organization_id == organization_id, Measure.fiscal_year == fiscal_year)
    rows = session.execute(
        sa_select(Measure, *measure_state.update_columns(as_of=as_of))
        .where(Measure.organization_id == organization_id, Measure.fiscal_year == fiscal_year)
        .order_by(Measure.number)
    ).all()
    links = session.execute(
        sa_select(MeasureDepartment.measure_id, Department.id, Department.name)
        .join(Department, Department.id == MeasureDepartment.department_id)
        .where(col(MeasureDepartment.measure_id).in_(ids_q))
        .order_by(Department.sort_order, Department.id)
    ).all()
    deps: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for mid, did, dname in links:
        deps[mid].append((did, dname))
    out = []
    for m, status, percent, note, evidence, last in rows:
        st = Status(status) if status else measure_state.NO_UPDATE
        out.append(
            MeasureState(
                id=m.id, number=m.number, section_number=m.section_number, section_title=m.section_title,
                title=m.title, owner_text=m.owner_text, owner_all=m.owner_all,
                department_ids=[d for d, _ in deps[m.id]], department_names=[n for _, n in deps[m.id]],
                unresolved_owners=list(m.unresolved_owners or []), period_text=m.period_text,
                start=m.start_date, end=m.end_date, period_unparsed=m.period_unparsed,
                status=st, percent=int(percent or 0), note=note or "", evidence_url=evidence,
                last_update=last, overdue=measure_state.is_overdue(end=m.end_date, status=st, as_of=as_of),
                steps=m.steps, output_text=m.output_text, outcome_text=m.outcome_text, recurrence=m.recurrence,
            )
        )
    return out


@dataclass
class DepartmentProgress:
    name: str
    total: int = 0
    done: int = 0
    in_progress: int = 0
    not_started: int = 0
    cancelled: int = 0
    overdue: int = 0
    unmatched: bool = False  # a responsible name written in the plan that is no department (yet)


def progress_by_department(states: list[MeasureState], *, departments: list[Department]) -> list[DepartmentProgress]:
    """Counts per department; a measure owned by every department counts for each of them."""
    by_id = {d.id: DepartmentProgress(d.name) for d in departments}
    unmatched: dict[str, DepartmentProgress] = {}
    for s in states:
        targets = [by_id[d] for d in (list(by_id) if s.owner_all else s.department_ids) if d in by_id]
        targets += [unmatched.setdefault(u, DepartmentProgress(u, unmatched=True)) for u in s.unresolved_owners]
        for target in targets:
            target.total += 1
            setattr(target, s.status.value, getattr(target, s.status.value) + 1)
            target.overdue += int(s.overdue)
    return [p for p in by_id.values()] + list(unmatched.values())


def record_progress(
    session: Session,
    *,
    measure_id: int,
    status: Status | str,
    percent: int,
    note: str = "",
    evidence_url: Optional[str] = None,
    as_of: Optional[dt.date] = None,
    actor: Actor,
    import_batch_id: Optional[int] = None,
) -> ProgressUpdate:
    """Append a ProgressUpdate after checking the actor may edit this measure; audited."""
    measure = session.get(Measure, measure_id)
    if measure is None:
        raise ProgressError(code="measures_not_found", measure_id=measure_id)
    dep_ids = session.exec(select(MeasureDepartment.department_id).where(MeasureDepartment.measure_id == measure_id)).all()
    require_edit_measure(actor, organization_id=measure.organization_id, department_ids=dep_ids, owner_all=measure.owner_all)
    try:
        status = Status(status)
    except ValueError as exc:
        raise ProgressError(code="measures_bad_status", status=status) from exc
    try:
        percent = int(percent)
    except (TypeError, ValueError) as exc:
        raise ProgressError(code="measures_percent_not_number", percent=repr(percent)) from exc
    if not 0 <= percent <= 100:
        raise ProgressError(code="measures_percent_range", percent=percent)
    if status == Status.done:
        percent = 100
    if evidence_url and not evidence_url.lower().startswith(("http://", "https://")):
        raise ProgressError(code="measures_evidence_url")
    as_of = as_of or dt.date.today()
    previous = measure_state.newest_update(session, measure_id=measure_id, as_of=as_of)
    update = ProgressUpdate(
        measure_id=measure_id, as_of=as_of, status=status, percent=percent, note=(note or "").strip(),
        evidence_url=(evidence_url or "").strip() or None, user_id=actor.user_id, import_batch_id=import_batch_id,
    )
    session.add(update)
    session.flush()
    audit.record(
        session, user_id=actor.user_id, username=actor.username, action="measure.progress", entity="measure",
        entity_id=measure_id, organization_id=measure.organization_id,
        before=audit.snapshot(previous) if previous else None, after=audit.snapshot(update),
    )
    return update


def history(session: Session, *, measure_id: int) -> list[ProgressUpdate]:
    return list(
        session.exec(
            select(ProgressUpdate).where(ProgressUpdate.measure_id == measure_id)
            .order_by(col(ProgressUpdate.as_of), col(ProgressUpdate.id))
        )
    )


@dataclass
class PeriodPoint:
    label: str  # Thai label, BE year
    end: dt.date
    planned: int  # measures whose end date falls on or before the period end (cumulative)
    done: int  # measures done by the period end (cumulative)
    in_progress: int
    extra: dict = field(default_factory=dict)


def progress_by_month(
    session: Session, *, organization_id: int, fiscal_year: int, until: Optional[dt.date] = None
) -> list[PeriodPoint]:
    """Cumulative planned vs done at the end of each fiscal month, replayed from the history.

    One query for the measures and one for their whole history; the replay is in Python, so the
    cost does not grow with the number of months shown.
    """
    ids_q = sa_select(Measure.id).where(Measure.organization_id == organization_id, Measure.fiscal_year == fiscal_year)
    ends = dict(session.execute(sa_select(Measure.id, Measure.end_date).where(col(Measure.id).in_(ids_q))).all())
    history = measure_state.history_rows(session, measure_ids=ids_q)

    def state_on(mid: int, day: dt.date) -> Status:
        return measure_state.status_on(history.get(mid, ()), day)

    points = []
    for ce_year, month in thai.fiscal_months(fiscal_year):
        end = thai.month_end(ce_year, month)
        if until and end > thai.month_end(until.year, until.month):
            break
        states = {mid: state_on(mid, end) for mid in ends}
        planned = sum(1 for mid, e in ends.items() if e and e <= end and states[mid] != Status.cancelled)
        done = sum(1 for st in states.values() if st == Status.done)
        inprog = sum(1 for st in states.values() if st == Status.in_progress)
        points.append(PeriodPoint(thai.format_month_th(ce_year, month, abbr=True), end, planned, done, inprog))
    return points


def progress_by_period(
    session: Session, *, organization_id: int, fiscal_year: int, granularity: str = "month",
    until: Optional[dt.date] = None,
) -> list[PeriodPoint]:
    """Cumulative planned vs done at the end of each month, quarter (ไตรมาส) or round (6/12 months).

    The points are cumulative, so a quarter's point is the state at its last month's end.
    """
    months = progress_by_month(session, organization_id=organization_id, fiscal_year=fiscal_year, until=until)
    if granularity == "month":
        return months
    if granularity == "quarter":
        ends = {q: thai.quarter_bounds(fiscal_year, q)[1] for q in (1, 2, 3, 4)}
        labels = {end: t("quarter_n", n=q) for q, end in ends.items()}
    elif granularity == "round":
        ends = {r: thai.round_bounds(fiscal_year, r)[1] for r in (6, 12)}
        labels = {end: t("round_n_months", n=r) for r, end in ends.items()}
    else:
        raise ValueError(f"unknown granularity: {granularity}")
    return [PeriodPoint(labels[p.end], p.end, p.planned, p.done, p.in_progress) for p in months if p.end in labels]


def measures_due(states: list[MeasureState], *, as_of: dt.date, within_days: int = 31) -> list[MeasureState]:
    """Overdue first, then those ending within the next ``within_days`` that are not done."""
    horizon = as_of + dt.timedelta(days=within_days)
    overdue = [s for s in states if s.overdue]
    soon = [
        s for s in states
        if not s.overdue and s.end and as_of <= s.end <= horizon and measure_state.is_open(s.status)
    ]
    return sorted(overdue, key=lambda s: s.end or as_of) + sorted(soon, key=lambda s: s.end or as_of)


def counts(states: list[MeasureState]) -> dict[str, int]:
    c = {"total": len(states), "done": 0, "in_progress": 0, "not_started": 0, "cancelled": 0, "overdue": 0}
    for s in states:
        c[s.status.value] += 1
        c["overdue"] += int(s.overdue)
    return c
