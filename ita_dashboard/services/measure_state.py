"""A measure's state as of a date, and when it is overdue: the one definition.

The state of a measure on day D is its newest ``ProgressUpdate`` with ``as_of <= D``, ties broken
by the higher id; no such row means "not started". A measure is overdue on D when its end date
is before D and its state is neither done nor cancelled.

Everything that shows a measure's state reads it from here: the measures page, the overview, the
status workbook and the meeting (``services.measures.measure_states``: ``Measure`` with
:func:`update_columns`), the roll-up over many organisations (aggregated in SQL
from :func:`measures_as_of`), the status sheet's check, the monthly replay
(:func:`status_on`) and the "before" of a new progress row (:func:`newest_update`). The overdue
rule exists once in Python (:func:`is_overdue`) and once as SQL (:func:`overdue_sql`), both built
from :data:`CLOSED`; a test checks they agree on a table of cases on both backends.
"""

from __future__ import annotations

import datetime as dt
from typing import Iterable, Optional

from sqlalchemy import and_, or_, select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from ..models import Measure, ProgressUpdate, Status

# States that are never overdue (and never "due soon"): the measure is closed.
CLOSED: tuple[Status, ...] = (Status.done, Status.cancelled)
NO_UPDATE = Status.not_started  # the state of a measure without any update by the day


def is_open(status: Status) -> bool:
    return Status(status) not in CLOSED


def is_overdue(*, end: Optional[dt.date], status: Optional[Status], as_of: dt.date) -> bool:
    """End date before ``as_of`` and not closed; ``status`` None: no update (not started)."""
    return end is not None and end < as_of and is_open(status or NO_UPDATE)


def overdue_sql(*, end, status, as_of: dt.date):
    """:func:`is_overdue` as a SQL condition over an end-date column and a status column that is
    NULL for a measure without any update by ``as_of`` (as :func:`measures_as_of` gives it)."""
    return and_(end.is_not(None), end < as_of,
                or_(status.is_(None), status.notin_([s.value for s in CLOSED])))


def _newest(column, *, as_of: dt.date, measure_id):
    """Correlated: ``column`` of the newest update of ``measure_id`` by ``as_of`` (NULL: none).

    ``ORDER BY as_of DESC, id DESC LIMIT 1`` per measure, served by ``ix_progress_measure_asof``
    on both backends whatever the table sizes: a window-function subquery joined instead made
    SQLite scan it once per measure (quadratic at 60,000 measures in the roll-up), and a join of
    the update rows let PostgreSQL hash a scan of the whole table."""
    p = aliased(ProgressUpdate)
    return (
        sa_select(getattr(p, column.key))
        .where(p.measure_id == measure_id, p.as_of <= as_of)
        .order_by(col(p.as_of).desc(), col(p.id).desc())
        .limit(1)
        .scalar_subquery()
    )


def update_columns(*, as_of: dt.date) -> list:
    """The newest update's ``status, percent, note, evidence_url, last_update`` (its date) by
    ``as_of``, as columns of a select from ``Measure``; NULL for a measure without one. Only the
    columns an enclosing query reads are computed (the roll-up reads ``status``)."""
    columns = ((ProgressUpdate.status, "status"), (ProgressUpdate.percent, "percent"), (ProgressUpdate.note, "note"),
               (ProgressUpdate.evidence_url, "evidence_url"), (ProgressUpdate.as_of, "last_update"))
    return [_newest(c, as_of=as_of, measure_id=Measure.id).label(label) for c, label in columns]


def measures_as_of(*where, as_of: dt.date):
    """One row per measure matching ``where`` (conditions on ``Measure``) with its newest update
    by ``as_of``: ``measure_id, organization_id, end_date`` and :func:`update_columns`.

    A plain select: run it, or ``.subquery()`` it and aggregate (the roll-up groups it by
    organisation over hundreds of organisations in one statement)."""
    return (
        sa_select(Measure.id.label("measure_id"), Measure.organization_id.label("organization_id"),
                  Measure.end_date.label("end_date"), *update_columns(as_of=as_of))
        .where(*where)
    )


def newest_update(session: Session, *, measure_id: int, as_of: dt.date) -> Optional[ProgressUpdate]:
    """The row that is the measure's state on ``as_of`` (None: not started)."""
    return session.exec(  # type: ignore[call-overload]
        sa_select(ProgressUpdate).where(ProgressUpdate.id == _newest(ProgressUpdate.id, as_of=as_of, measure_id=measure_id))
    ).scalars().first()


def history_rows(session: Session, *, measure_ids) -> dict[int, list[tuple[dt.date, Status]]]:
    """The whole history of the measures (a list or a select of ids), oldest first per measure,
    in the order :func:`status_on` expects."""
    out: dict[int, list[tuple[dt.date, Status]]] = {}
    for mid, as_of, status in session.execute(
        sa_select(ProgressUpdate.measure_id, ProgressUpdate.as_of, ProgressUpdate.status)
        .where(col(ProgressUpdate.measure_id).in_(measure_ids))
        .order_by(ProgressUpdate.measure_id, ProgressUpdate.as_of, ProgressUpdate.id)
    ):
        out.setdefault(mid, []).append((as_of, Status(status)))
    return out


def status_on(history: Iterable[tuple[dt.date, Status]], day: dt.date) -> Status:
    """The state on ``day`` replayed from one measure's history sorted by (as_of, id): the same
    rule as :func:`measures_as_of` (the last row with ``as_of <= day`` is the newest)."""
    current = NO_UPDATE
    for as_of, status in history:
        if as_of > day:
            break
        current = status
    return current
