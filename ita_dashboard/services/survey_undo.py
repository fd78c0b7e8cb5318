"""Undoing a survey batch, and replaying a form's batches into its state.

**Undo** deletes the batch's membership, deletes responses no other batch contained, hands rows
whose owning batch is gone to the form of the earliest remaining batch holding them, and
replays the forms concerned (:mod:`.survey_state`): the state is again exactly that of the
remaining batches.
"""

from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import delete, select, text as sql_text, update
from sqlmodel import Session

from .. import audit
from ..models import BatchKind, ImportBatch, Instrument, SurveyBatchResponse, SurveyForm, SurveyResponse, utcnow
from . import survey_staging
from .survey_forms import Codebook
from .survey_import import SurveyImportError
from .survey_staging import DONE, STAGING
from .survey_state import next_state
from .survey_store import IN_CHUNK, VanishedRow, in_chunks, set_vanished, vanished_rows_of


def replay_form(session: Session, *, form_id: int) -> dict[str, int]:
    """Recompute a form's counted rows from its batches that are not undone (see the module
    docstring) and write the flags that differ; returns how many rows were counted again and how
    many stopped counting."""
    b, m, r = ImportBatch.__table__.c, SurveyBatchResponse.__table__.c, SurveyResponse.__table__.c
    batches = list(session.execute(
        select(b.id).where(b.form_id == form_id, b.undone_at.is_(None), b.state == DONE).order_by(b.id)).scalars())
    members: dict[int, dict[int, tuple[Optional[str], dt.datetime]]] = {bid: {} for bid in batches}
    rows = session.execute(
        select(m.batch_id, r.id, r.respondent_ref, r.submitted_at)
        .select_from(SurveyBatchResponse.__table__.join(SurveyResponse.__table__, r.id == m.response_id)
                     .join(ImportBatch.__table__, b.id == m.batch_id))
        .where(b.form_id == form_id, b.undone_at.is_(None), b.state == DONE, r.form_id == form_id))
    for bid, rid, ref, at in rows:
        members[bid][rid] = (ref, at)
    state: dict[int, tuple[Optional[str], dt.datetime]] = {}
    flag: dict[int, Optional[int]] = {}
    for bid in batches:
        step = next_state(state, members[bid])
        for rid in step.dropped | step.left_out:
            flag[rid] = bid
        for rid in step.state:
            flag[rid] = None
        state = step.state
    current = {i: v for i, v in session.execute(select(r.id, r.vanished_by).where(r.form_id == form_id))}
    again = stopped = 0
    by_value: dict[Optional[int], list[int]] = {}
    for rid, value in flag.items():
        if rid in current and current[rid] != value:
            by_value.setdefault(value, []).append(rid)
            if value is None:
                again += 1
            elif current[rid] is None:
                stopped += 1
    for value, ids in by_value.items():
        set_vanished(session, ids, value)
    return {"counted_again": again, "stopped_counting": stopped}


def _move_to_form(session: Session, ids: list[int], form_id: int) -> None:
    """Hand responses to another form: their answer codes re-coded against it (nothing lost)."""
    from ..models import decode_answers

    target = Codebook(session.get(SurveyForm, form_id))
    forms: dict[int, Optional[SurveyForm]] = {}
    t = SurveyResponse.__table__.c
    for part in in_chunks(sorted(ids), IN_CHUNK):
        rows = session.execute(select(t.id, t.form_id, t.answer_codes).where(t.id.in_(part))).all()
        for rid, old_form, codes in rows:
            if old_form not in forms:
                forms[old_form] = session.get(SurveyForm, old_form) if old_form is not None else None
            new_codes = target.encode(decode_answers(codes, forms[old_form]))
            session.execute(update(SurveyResponse.__table__).where(t.id == rid)
                            .values(form_id=form_id, answer_codes=new_codes))
    target.save(session)


def undo_batch(session: Session, *, batch_id: int, user_id: Optional[int]) -> int:
    """Undo a survey batch: the form's state becomes that of its other batches, exactly.

    Responses no other batch contained are deleted (their number is returned); rows the batch
    made vanish count again; rows a later batch also contained stay (they are handed to the
    form of the earliest remaining batch that holds them).
    """
    batch = session.get(ImportBatch, batch_id)
    if batch is None or not BatchKind(batch.kind).is_survey or batch.state != DONE:
        raise SurveyImportError(code="survey_import_batch_not_found")
    if batch.undone_at is not None:
        raise SurveyImportError(code="survey_import_already_undone")
    if batch.fiscal_year is not None:
        _one_import_at_a_time(session, organization_id=batch.organization_id, fiscal_year=batch.fiscal_year,
                              instrument=BatchKind(batch.kind).instrument)
    m, r, b = SurveyBatchResponse.__table__, SurveyResponse.__table__, ImportBatch.__table__
    members = list(session.execute(select(m.c.response_id).where(m.c.batch_id == batch_id)).scalars())
    session.execute(delete(m).where(m.c.batch_id == batch_id))
    # Rows stored by this batch before batches kept their rows (no membership recorded).
    members = sorted(set(members).union(
        session.execute(select(r.c.id).where(r.c.import_batch_id == batch_id)).scalars()))
    batch.undone_at = utcnow()
    batch.undone_by = user_id
    session.add(batch)
    session.flush()

    # Where each member lives on: the earliest remaining batch holding it, with that batch's form.
    holder: dict[int, tuple[int, Optional[int]]] = {}
    for part in in_chunks(members, IN_CHUNK):
        q = (select(m.c.response_id, b.c.id, b.c.form_id).select_from(m.join(b, b.c.id == m.c.batch_id))
             .where(m.c.response_id.in_(part), b.c.undone_at.is_(None), b.c.state == DONE).order_by(b.c.id.desc()))
        for rid, bid, fid in session.execute(q):
            holder[rid] = (bid, fid)  # ascending ids overwrite: the earliest wins
    orphans = sorted(set(members) - set(holder))
    deleted = 0
    for part in in_chunks(orphans, IN_CHUNK):
        deleted += session.execute(delete(r).where(r.c.id.in_(part))).rowcount or 0
    forms = {batch.form_id} if batch.form_id is not None else set()
    current: dict[int, tuple[Optional[int], Optional[int]]] = {}
    for part in in_chunks(sorted(holder), IN_CHUNK):
        for rid, fid, stored_by in session.execute(
                select(r.c.id, r.c.form_id, r.c.import_batch_id).where(r.c.id.in_(part))):
            current[rid] = (fid, stored_by)
    moves: dict[int, list[int]] = {}
    rebatch: dict[int, list[int]] = {}
    for rid, (bid, fid) in holder.items():
        form_now, stored_by = current[rid]
        if fid is not None and form_now != fid:
            moves.setdefault(fid, []).append(rid)
            forms.update({fid, form_now} - {None})
        if stored_by == batch_id:
            rebatch.setdefault(bid, []).append(rid)
    for fid, ids in moves.items():
        _move_to_form(session, ids, fid)
    for bid, ids in rebatch.items():
        for part in in_chunks(sorted(ids), IN_CHUNK):
            session.execute(update(r).where(r.c.id.in_(part)).values(import_batch_id=bid))
    # Rows this batch made vanish and that belong to no form it touched (should not happen).
    stray = list(session.execute(select(r.c.form_id).distinct().where(r.c.vanished_by == batch_id)).scalars())
    forms.update(f for f in stray if f is not None)
    changes = {"counted_again": 0, "stopped_counting": 0}
    for fid in sorted(forms):
        for k, v in replay_form(session, form_id=fid).items():
            changes[k] += v
    audit.record(
        session, user_id=user_id, action="survey.undo", entity="import_batch", entity_id=batch_id,
        organization_id=batch.organization_id,
        before={"imported": batch.imported_count, "file_name": batch.file_name},
        after={"deleted_responses": deleted, "undone_at": batch.undone_at, **changes},
    )
    session.flush()
    return deleted


def vanished_responses(session: Session, *, organization_id: int, fiscal_year: Optional[int] = None,
                       batch_id: Optional[int] = None, limit: int = 1000) -> list[VanishedRow]:
    """Responses kept but not counted (of one batch, or of the organisation's year), for the admin."""
    r, b = SurveyResponse.__table__.c, ImportBatch.__table__.c
    # Rows of an import still being written (a staging batch) are hidden the same way: not listed.
    q = (select(r.id).join_from(SurveyResponse.__table__, ImportBatch.__table__, b.id == r.vanished_by)
         .where(r.organization_id == organization_id, b.state == DONE))
    if fiscal_year is not None:
        q = q.where(r.fiscal_year == fiscal_year)
    if batch_id is not None:
        q = q.where(r.vanished_by == batch_id)
    ids = list(session.execute(q.order_by(r.id).limit(limit)).scalars())
    return vanished_rows_of(session, ids)


def _one_import_at_a_time(session: Session, *, organization_id: int, fiscal_year: int, instrument: Instrument) -> None:
    """An undo waits for, or refuses to run beside, an import of the same survey: what the import
    decides rests on the survey's rows as they were when it started (services/survey_staging.py).

    On PostgreSQL a transaction-scoped advisory lock on the survey's key, which an import holds
    from start to flip: the undo waits. On SQLite an import writing the survey in chunks (a live
    staging batch) makes the undo say "busy, try again in a moment" (DatabaseBusy).

    The survey's abandoned staging batches are then deleted, in the undo's transaction (their
    membership holds rows the undo may delete), as the next import would.
    """
    from ..db import DatabaseBusy

    pg = session.get_bind().dialect.name == "postgresql"
    if pg:
        session.execute(sql_text("SELECT pg_advisory_xact_lock(:key)"),
                        {"key": survey_staging.lock_key(organization_id, fiscal_year, instrument)})
    b = ImportBatch.__table__.c
    staging = session.execute(select(b.id, b.lease_owner, b.lease_until).where(
        b.organization_id == organization_id, b.fiscal_year == fiscal_year,
        b.kind == BatchKind.survey(instrument), b.state == STAGING)).all()
    if not pg and any(survey_staging.lease_alive(who, until) for _, who, until in staging):
        raise DatabaseBusy()
    for bid, _, _ in staging:
        if survey_staging.delete_staging(session, bid, begin=lambda: None, commit=lambda: None,
                                         locked=pg) == survey_staging.HELD:
            raise DatabaseBusy()
