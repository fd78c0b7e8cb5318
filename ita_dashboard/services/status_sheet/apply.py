"""Applying a parsed status sheet: each row checked against the measure's state on its date,
then recorded through :func:`services.measures.record_progress` (permission-checked, audited)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from dataclasses import dataclass
from typing import Optional

from sqlmodel import Session, select

from ... import audit, thai
from ...texts import t
from ...models import BatchKind, ImportBatch, Measure, MeasureDepartment, Status
from ...permissions import Actor, PermissionDenied, require_edit_measure, require_update_progress
from .. import measure_state
from .. import measures as measures_svc
from .columns import AS_OF_LABEL, COL_KEY
from .parse import StatusRow, StatusSheet

@dataclass
class RowOutcome:
    row: StatusRow
    outcome: str  # "import" / "duplicate" / "rejected"
    status: Optional[Status] = None
    percent: Optional[int] = None
    note: str = ""
    evidence_url: Optional[str] = None
    reason: str = ""
    column: str = ""
    fiscal_year: Optional[int] = None
    permission_denied: bool = False  # rejected because the actor may not edit this measure


def _state_on(session: Session, measure_id: int, day: dt.date) -> tuple[Status, int, str, Optional[str]]:
    last = measure_state.newest_update(session, measure_id=measure_id, as_of=day)
    if last is None:
        return measure_state.NO_UPDATE, 0, "", None
    return Status(last.status), int(last.percent), last.note or "", last.evidence_url or None


def _resolve(row: StatusRow, current: tuple[Status, int, str, Optional[str]]) -> tuple[Status, int, str, Optional[str]]:
    cur_status, cur_percent, _cur_note, cur_link = current
    status, percent = row.status, row.percent
    if status is None:
        if percent is None:
            status = cur_status
        elif percent >= 100:
            status = Status.done
        elif percent > 0:
            status = Status.in_progress
        else:
            status = Status.cancelled if cur_status == Status.cancelled else Status.not_started
    if percent is None:
        percent = cur_percent
    if status == Status.done:
        percent = 100
    link = row.evidence_url if row.evidence_url else cur_link
    return status, percent, row.note.strip(), link


def _require_can_edit_some(actor: Actor, organization_id: int) -> None:
    # The role in the organisation the sheet is for (permissions.py), not the home role.
    require_update_progress(actor, organization_id)


def check_status_sheet(
    session: Session, *, organization_id: int, sheet: StatusSheet, actor: Actor, today: Optional[dt.date] = None
) -> list[RowOutcome]:
    """What applying would do with each parsed row, without writing anything (for the preview)."""
    _require_can_edit_some(actor, organization_id)
    today = today or dt.date.today()
    outcomes: list[RowOutcome] = []
    seen: dict[int, RowOutcome] = {}
    measures: dict[int, Optional[Measure]] = {}
    for r in sheet.rows:
        if r.measure_id not in measures:
            measures[r.measure_id] = session.get(Measure, r.measure_id)
        m = measures[r.measure_id]
        if m is None or m.organization_id != organization_id:
            outcomes.append(RowOutcome(r, "rejected", column=COL_KEY,
                                       reason=t("sheet_reject_unknown_measure", id=r.measure_id)))
            continue
        dep_ids = session.exec(select(MeasureDepartment.department_id).where(MeasureDepartment.measure_id == m.id)).all()
        try:
            require_edit_measure(actor, organization_id=m.organization_id, department_ids=dep_ids, owner_all=m.owner_all)
        except PermissionDenied as exc:
            outcomes.append(RowOutcome(r, "rejected", column=COL_KEY, reason=t("sheet_reject_not_allowed", number=m.number, reason=exc),
                                       permission_denied=True))
            continue
        if r.as_of > today:
            outcomes.append(RowOutcome(r, "rejected", column=AS_OF_LABEL,
                                       reason=t("sheet_reject_future", date=thai.format_date_th(r.as_of))))
            continue
        year_start = thai.fiscal_year_bounds(m.fiscal_year)[0]
        if r.as_of < year_start:  # "15/3/25" reads as BE 2525; the progress form offers the year's dates only
            outcomes.append(RowOutcome(r, "rejected", column=AS_OF_LABEL, reason=t(
                "sheet_reject_before_year", date=thai.format_date_th(r.as_of), year=m.fiscal_year,
                start=thai.format_date_th(year_start))))
            continue
        current = _state_on(session, m.id, r.as_of)
        status, percent, note, link = _resolve(r, current)
        earlier = seen.get(m.id)
        if earlier is not None:
            same = (earlier.row.as_of, earlier.status, earlier.percent, earlier.note, earlier.evidence_url) == (
                r.as_of, status, percent, note, link)
            if same:
                outcomes.append(RowOutcome(r, "duplicate", status, percent, note, link, fiscal_year=m.fiscal_year))
            else:
                outcomes.append(RowOutcome(
                    r, "rejected", column=COL_KEY,
                    reason=t("sheet_reject_twice", number=m.number, sheet=earlier.row.sheet, row=earlier.row.row),
                ))
            continue
        kind = "duplicate" if (status, percent, note, link) == current else "import"
        outcome = RowOutcome(r, kind, status, percent, note, link, fiscal_year=m.fiscal_year)
        seen[m.id] = outcome
        outcomes.append(outcome)
    return outcomes


def apply_status_sheet(
    session: Session,
    *,
    organization_id: int,
    sheet: StatusSheet,
    actor: Actor,
    file_name: str,
    file_bytes: bytes,
    today: Optional[dt.date] = None,
) -> ImportBatch:
    """Record every new row of the sheet as progress, in the caller's transaction; returns the batch.

    Rows the actor may not edit, of another organisation, dated in the future or conflicting
    within the file are rejected entries, not errors; anything unexpected raises (and the
    caller's ``session_scope`` keeps nothing).
    """
    from ..uploads import check_size

    check_size(file_bytes or b"")
    outcomes = check_status_sheet(session, organization_id=organization_id, sheet=sheet, actor=actor, today=today)
    refused = [o for o in outcomes if o.outcome == "rejected" and o.permission_denied]
    if refused and not any(o.outcome in ("import", "duplicate") for o in outcomes):
        # Nothing of this sheet is the actor's to change: refused as a whole, no batch left behind.
        raise PermissionDenied(code="status_sheet_nothing_editable", reason=refused[0].reason)
    rejected = list(sheet.rejected)
    for o in outcomes:
        if o.outcome == "rejected":
            rejected.append({"sheet": o.row.sheet, "row": o.row.row, "column": o.column, "reason": o.reason})
    years = Counter(o.fiscal_year for o in outcomes if o.fiscal_year is not None)
    batch = ImportBatch(
        organization_id=organization_id, fiscal_year=years.most_common(1)[0][0] if years else None, kind=BatchKind.progress,
        file_name=file_name or "", sha256=hashlib.sha256(file_bytes or b"").hexdigest(),
        size_bytes=len(file_bytes or b""), user_id=actor.user_id,
    )
    session.add(batch)
    session.flush()
    imported = 0
    for o in outcomes:
        if o.outcome != "import":
            continue
        try:
            measures_svc.record_progress(
                session, measure_id=o.row.measure_id, status=o.status, percent=o.percent, note=o.note,
                evidence_url=o.evidence_url, as_of=o.row.as_of, actor=actor, import_batch_id=batch.id,
            )
        except (measures_svc.ProgressError, PermissionDenied) as exc:  # checked above; kept as a safety net
            o.outcome = "rejected"
            rejected.append({"sheet": o.row.sheet, "row": o.row.row, "column": COL_KEY, "reason": str(exc)})
            continue
        imported += 1
    rejected.sort(key=lambda e: (e["sheet"], e["row"]))
    batch.read_count = len(sheet.rows) + sheet.rejected_row_count
    batch.imported_count = imported
    batch.duplicate_count = sum(1 for o in outcomes if o.outcome == "duplicate")
    batch.rejected_count = len({(e["sheet"], e["row"]) for e in rejected})
    batch.rejected_rows = rejected
    session.add(batch)
    audit.record(
        session, user_id=actor.user_id, username=actor.username, action="progress.import", entity="import_batch",
        entity_id=batch.id, organization_id=organization_id,
        after={"file_name": file_name, "read": batch.read_count, "imported": batch.imported_count,
               "duplicate": batch.duplicate_count, "rejected": batch.rejected_count},
    )
    session.flush()
    return batch
