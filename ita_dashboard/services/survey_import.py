"""Parsed survey exports into SurveyResponse rows: nothing lost, nothing doubled, edits replace.

One import is one :class:`~ita_dashboard.models.ImportBatch`. The parts live beside this module:

- ``survey_keys``: each row's key (sha256 of its content), its identity across exports, its year;
- ``survey_forms``: the form a file's header signature names, and answers coded against it;
- ``survey_scores``: respondent-level scores from the year's framework;
- ``survey_state``: the rule that decides which of a form's responses count after each batch
  (a newer cumulative export replaces the state, an older one changes nothing, extracts add up);
- ``survey_store``: the database side (stored keys in one index scan, rows straight to the driver);
- ``survey_undo``: undoing a batch and replaying a form's batches;
- ``survey_staging``: the import's own connection and short transactions (SQLite).

**Counts per import.** ``new`` (rows counted for the first time), ``changed`` (a new version of a
counted response, by identity), ``unchanged`` (already counted), ``vanished`` (no longer counted
after this import, plus rows of this file left uncounted as older than the state); ``imported``
= new + changed (rows newly counted), ``duplicate`` = the other accepted rows (repeats within
the file, rows already stored), so read = imported + duplicate + rejected.

**Transactions.** A file with rows is written on the import's own connection
(services/survey_staging.py), the caller's transaction committed first. On SQLite the rows go in
chunk by chunk, each chunk a short write transaction, under a ``staging`` batch (hidden: counted
nowhere), and one short transaction flips the batch to ``done`` and applies the state rule
(``survey_state``), so other writers get in between chunks and the import stays all or nothing:
when anything fails half-way the batch and its rows are deleted (or, if the process died, by the
next import of the survey or at app start). On PostgreSQL it is one transaction (other writers
do not wait for it). Imports and undos of one (organisation, year, instrument) are serialised (SQLite: the staging
batch's lease; PostgreSQL: an advisory lock).

:func:`import_survey_file` (the command line) recognises a file imported before (same bytes,
mapping and reader code) and does not read it again.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterable, Optional, Sequence

from sqlalchemy import func, select, text as sql_text, update
from sqlmodel import Session, col

from .. import audit
from ..departments import DepartmentResolver, normalize_name
from ..errors import ItaError
from ..importers.surveys import ParsedRow, ParsedSurvey
from ..models import (
    BatchKind,
    Department,
    ImportBatch,
    Instrument,
    SurveyBatchResponse,
    SurveyForm,
    SurveyResponse,
    counted,
)
from ..texts import t
from .survey_forms import Codebook, form_for
from .survey_keys import count_unmatched, infer_fiscal_year, key_columns, response_refs, split_by_year, unique_rows
from .survey_scores import Scorer
from .survey_staging import DONE, Staging
from .survey_state import Step, next_state
from .survey_store import (VanishedRow, Writer, bulk_cache, ids_of, in_chunks, new_row_params, set_vanished,
                           stored_responses, vanished_rows_of)

CHUNK_SIZE = 5000  # new rows coded and written at a time (membership rows: 4 times as many)


class SurveyImportError(ItaError, ValueError):
    """A request the import service refuses; ``str(exc)`` is a message for the user (Thai)."""

    codes: ClassVar[tuple[str, ...]] = (
        "survey_import_bad_instrument", "survey_import_batch_not_found", "survey_import_already_undone",
        "survey_import_empty_alias", "survey_import_department_not_found",
    )


@dataclass
class ImportResult:
    batch_id: int
    read: int
    imported: int
    duplicate: int
    rejected: int
    unmatched_departments: dict[str, int] = field(default_factory=dict)  # as written -> responses
    fiscal_year: Optional[int] = None
    rejected_rows: list[dict[str, Any]] = field(default_factory=list)
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    vanished: int = 0
    vanished_rows: list[VanishedRow] = field(default_factory=list)


def _resolver(session: Session, organization_id: int) -> DepartmentResolver:
    """The organisation's resolver (names, aliases, abbreviation table): ``orgs.resolver_for``."""
    from .orgs import resolver_for

    return resolver_for(session, organization_id=organization_id)


def _key_columns(session: Session, *, organization_id: int, fiscal_year: Optional[int], instrument: Instrument,
                 signature: str, columns: Sequence[str]) -> Optional[frozenset[str]]:
    """The answer columns this file's keys are made of (None: all). A known form keeps the rule its
    keys were made by (``SurveyForm.key_columns``; NULL for every form made before the rule); a new
    one gets ``survey_keys.key_columns`` against the year's other forms of the instrument. Asked
    under the survey's import lock, so no other import of it makes a form meanwhile."""
    if fiscal_year is None:
        return None
    forms = session.execute(select(SurveyForm.signature, SurveyForm.questions, SurveyForm.key_columns).where(
        SurveyForm.organization_id == organization_id, SurveyForm.fiscal_year == fiscal_year,
        SurveyForm.instrument == instrument)).all()
    for form_signature, _, kept in forms:
        if form_signature == signature:
            return frozenset(kept) if kept else None
    return key_columns(columns, ((questions or [], kept) for _, questions, kept in forms))


def _insert_chunk(session: Session, params: list[tuple]) -> int:
    """One chunk of new rows (tuples in COLUMNS order); returns how many went in (kept separate so
    tests can make it fail)."""
    if not params:
        return 0
    return Writer.current(session).insert(params)


def import_survey(
    session: Session,
    *,
    organization_id: int,
    instrument: str | Instrument,
    parsed: ParsedSurvey,
    fiscal_year: Optional[int],
    file_name: str,
    file_bytes: bytes,
    user_id: Optional[int],
    parse_key: Optional[str] = None,
    progress: Optional[Callable[[int, int], None]] = None,
) -> ImportResult:
    """Store a parsed export as one ImportBatch and bring its form's state up to date (the rule of
    ``survey_state``; the counts: see the module docstring). ``parse_key`` (see
    :func:`import_survey_file`) lets the same file, read the same way, be recognised later
    without reading it again. ``progress(done, total)`` is called after each of the import's
    write transactions (one or more chunks, see ``survey_staging.HOLD_S``), outside it.

    A file with rows commits the caller's transaction first, then writes in short transactions
    of its own (services/survey_staging.py): the result is committed when this returns.

    ``fiscal_year`` (BE) defaults to that of the median submitted date; rows of other fiscal
    years are rejected with a reason. Departments resolve through the organisation's names and
    aliases; what does not resolve is kept as written with ``department_id`` NULL.
    """
    try:
        instrument = Instrument(instrument)
    except ValueError as exc:
        raise SurveyImportError(code="survey_import_bad_instrument", instrument=instrument) from exc
    fy = fiscal_year or infer_fiscal_year(parsed.rows)
    rejected = list(parsed.rejected)
    rows: list[ParsedRow] = []
    if fy is not None:
        rows, outside = split_by_year(parsed.rows, fy, parsed.timestamp_column)
        rejected.extend(outside)
    rejected.sort(key=lambda r: r["row"])

    batch = ImportBatch(
        organization_id=organization_id, fiscal_year=fy, kind=BatchKind.survey(instrument),
        file_name=file_name or "", sha256=hashlib.sha256(file_bytes).hexdigest(), size_bytes=len(file_bytes),
        user_id=user_id, read_count=parsed.read_count, rejected_count=len(rejected), rejected_rows=rejected,
        parse_key=parse_key,
    )
    audit_extra: dict[str, Any] = {"repeated_in_file": 0, "sheet": parsed.sheet_name, "mapping": parsed.mapping_used}
    if not rows:  # nothing to store (no fiscal year leaves no rows): one short transaction, the caller's
        session.add(batch)
        session.flush()
        return _finish(session, batch=batch, user_id=user_id, accepted=0,
                       counts={"new": 0, "changed": 0, "unchanged": 0}, vanished_rows=[], unmatched={},
                       audit_extra=audit_extra)

    def work(st: Staging) -> ImportResult:
        s = st.session
        # Keys are made under the survey's lock (Staging.claim): the forms they depend on are settled.
        cut = _key_columns(s, organization_id=organization_id, fiscal_year=fy, instrument=instrument,
                           signature=parsed.signature, columns=parsed.answer_columns)
        unique, keys = unique_rows(rows, columns=cut)
        audit_extra["repeated_in_file"] = len(rows) - len(unique)
        form = form_for(s, organization_id=organization_id, fiscal_year=fy, instrument=instrument,
                        signature=parsed.signature, questions=parsed.answer_columns, key_columns=cut)
        batch.form_id = form.id
        s.add(batch)
        s.flush()
        st.clean_abandoned()
        resolve = _resolver(s, organization_id).resolve
        counts, vanished_rows = _store(st, batch=batch, form=form, parsed=parsed, unique=unique, keys=keys,
                                       resolve=resolve, progress=progress)
        return _finish(s, batch=batch, user_id=user_id, accepted=len(rows), counts=counts,
                       vanished_rows=vanished_rows,
                       unmatched=count_unmatched((r.department_text for r in unique), resolve), audit_extra=audit_extra)

    return _staged(session, batch=batch, work=work)


def _staged(session: Session, *, batch: ImportBatch, work: Callable[[Staging], ImportResult]) -> ImportResult:
    """Run an import on its own connection in short transactions (services/survey_staging.py):
    the caller's transaction is committed first (on SQLite it may hold the write lock the
    import's chunks need). ``work`` starts inside the transaction that wrote the staging batch
    and ends inside the flip's, which is committed here. Whatever fails, the staging batch and
    its rows are deleted (best effort; the next import of the survey or app start does it
    otherwise) and the error goes on."""
    session.commit()
    st = Staging(session.get_bind().engine, organization_id=batch.organization_id, fiscal_year=batch.fiscal_year,
                 instrument=BatchKind(batch.kind).instrument)
    try:
        with bulk_cache(st.session):
            try:
                st.abandoned = st.claim(batch)
                result = work(st)
                st.session.commit()
                return result
            except BaseException:
                if st.batch_id is not None:
                    try:
                        st.session.rollback()
                        st.clean(st.batch_id)
                    except Exception:  # noqa: BLE001 -- the first error is the one to report
                        pass
                raise
    finally:
        st.close()


def _finish(session: Session, *, batch: ImportBatch, user_id: Optional[int], accepted: int, counts: dict[str, int],
            vanished_rows: list[VanishedRow], unmatched: dict[str, int], audit_extra: dict[str, Any]) -> ImportResult:
    """The batch's counts, its audit event and the result (accepted = rows of the file's year)."""
    imported = counts["new"] + counts["changed"]
    batch.imported_count = imported
    batch.duplicate_count = accepted - imported
    batch.new_count, batch.changed_count, batch.unchanged_count = counts["new"], counts["changed"], counts["unchanged"]
    batch.vanished_count = len(vanished_rows)
    session.add(batch)
    line = {"read": batch.read_count, "imported": imported, "duplicate": accepted - imported,
            "rejected": batch.rejected_count}
    state = {**counts, "vanished": len(vanished_rows)}
    audit.record(
        session, user_id=user_id, action="survey.import", entity="import_batch", entity_id=batch.id,
        organization_id=batch.organization_id,
        after={**line, **state, "file_name": batch.file_name, "instrument": BatchKind(batch.kind).instrument.value,
               "fiscal_year": batch.fiscal_year, "form_id": batch.form_id, **audit_extra,
               "unmatched_departments": unmatched,
               "vanished_rows": [{"response_id": v.response_id, "row": v.row, "file": v.file_name}
                                 for v in vanished_rows[:200]]},
    )
    session.flush()
    assert batch.id is not None
    return ImportResult(batch_id=batch.id, fiscal_year=batch.fiscal_year, unmatched_departments=unmatched,
                        rejected_rows=list(batch.rejected_rows or []), vanished_rows=vanished_rows, **line, **state)


def _store(st: Staging, *, batch: ImportBatch, form: SurveyForm, parsed: ParsedSurvey,
           unique: list[ParsedRow], keys: list[str], resolve,
           progress: Optional[Callable[[int, int], None]] = None) -> tuple[dict[str, int], list[VanishedRow]]:
    """Insert the new rows (SQLite: hidden, ``vanished_by`` = the staging batch) and the batch's
    membership, chunk by chunk, in short write transactions of one or more chunks (``HOLD_S``;
    PostgreSQL: all in one, see ``Staging.chunked``); then, in the flip's transaction (left open
    for ``_staged`` to commit), make the batch ``done`` and apply the state rule. Returns the new/changed/unchanged
    counts and the vanished rows."""
    session = st.session
    fy, instrument, org_id = batch.fiscal_year, BatchKind(batch.kind).instrument, batch.organization_id
    stored = stored_responses(session, organization_id=org_id, fiscal_year=fy, instrument=instrument)
    refs = response_refs(unique, parsed.id_columns)
    state, step = _next_step(session, form=form, stored=stored,
                             rows=[(k, ref, r.submitted_at) for k, ref, r in zip(keys, refs, unique)])
    st.commit()

    writer = Writer.current(session)
    codebook = Codebook(form)
    base = (org_id, fy, instrument.value)
    fresh = [(r, k, ref) for r, k, ref in zip(unique, keys, refs) if k not in stored]
    ids: dict[str, int] = {k: s[0] for k, s in stored.items()}
    rows = [(k, r.row_number) for k, r in zip(keys, unique)]
    total, done = len(rows), 0
    if fresh:
        scorer = Scorer(fiscal_year=fy, instrument=instrument.value, questions=parsed.answer_columns)
        last = (len(fresh) - 1) // CHUNK_SIZE
        for number, chunk in enumerate(in_chunks(fresh, CHUNK_SIZE)):
            chunk_keys = [k for _, k, _ in chunk]
            n = len(chunk)
            # Coded and scored before its rows are written (in the gap before a write transaction,
            # or inside one that goes on); ids are only known under the lock (SQLite).
            hidden = [batch.id] * n if st.chunked else [batch.id if k in step.left_out else None for k in chunk_keys]
            params = new_row_params([r for r, _, _ in chunk], chunk_keys, [ref for _, _, ref in chunk], [0] * n,
                             hidden, base=base, batch_id=batch.id, questions=parsed.answer_columns,
                             resolve=resolve, scorer=scorer, codebook=codebook, writer=writer)
            st.chunk_begins()
            chunk_ids = writer.next_ids(n)
            params = [(i, *p[1:]) for i, p in zip(chunk_ids, params)]
            inserted = _insert_chunk(session, params)
            got = dict(zip(chunk_keys, chunk_ids))
            if inserted != len(params):  # stored meanwhile by someone not holding the lease: take theirs
                got = ids_of(session, org_id, fy, instrument, chunk_keys)
            ids.update(got)
            writer.members([(batch.id, ids[k], r.row_number) for r, k, _ in chunk])
            done += n
            if st.chunk_done(last=number == last) and progress is not None:
                progress(done, total)
    _members(st, batch=batch, ids=ids, rows=[(k, row) for k, row in rows if k in stored], progress=progress,
              done=done, total=total)

    st.begin()  # the flip: one short transaction makes the whole batch count
    st.flip(batch)
    if st.chunked:  # the new rows were hidden while written: those the state counts are shown
        session.execute(sql_text("UPDATE surveyresponse SET vanished_by = NULL "
                                 "WHERE import_batch_id = :b AND vanished_by = :b"), {"b": batch.id})
        set_vanished(session, [ids[k] for _, k, _ in fresh if k in step.left_out], batch.id)
    codebook.save(session)
    return _settle(session, batch=batch, form=form, stored=stored, ids=ids, state=state, step=step, rows=rows,
                   members=False)


def _members(st: Staging, *, batch: ImportBatch, ids: dict[str, int], rows: list[tuple[str, Optional[int]]],
             progress: Optional[Callable[[int, int], None]] = None, done: int = 0, total: int = 0) -> None:
    """The staging batch's membership (key, row number), chunk by chunk in short transactions:
    invisible until the flip (every reader of membership joins batches that are ``done``)."""
    writer = Writer.current(st.session)
    last = (len(rows) - 1) // (CHUNK_SIZE * 4)
    for number, chunk in enumerate(in_chunks(rows, CHUNK_SIZE * 4)):
        st.chunk_begins()
        writer.members([(batch.id, ids[k], row) for k, row in chunk])
        done += len(chunk)
        if st.chunk_done(last=number == last) and progress is not None:
            progress(done, total or len(rows))


def _next_step(session: Session, *, form: SurveyForm, stored: dict[str, tuple],
               rows: Iterable[tuple[str, Optional[str], dt.datetime]]) -> tuple[dict, Step]:
    """The form's counted rows before (by key) and the rule's step for this file's rows
    (key, identity, submitted time): only those belonging to the form (new, or stored under it)."""
    state: dict[str, tuple[Optional[str], dt.datetime]] = {}
    mine = [k for k, s in stored.items() if s[1] == form.id and s[2] is None]
    if mine:
        newest = session.execute(select(func.max(SurveyResponse.submitted_at)).where(
            SurveyResponse.organization_id == form.organization_id, SurveyResponse.fiscal_year == form.fiscal_year,
            SurveyResponse.instrument == form.instrument, SurveyResponse.form_id == form.id, counted())).scalar_one()
        # Only the newest time of the state matters to the rule: every member gets it here,
        # the one that really has it included (the rule reads max()).
        state = {k: (stored[k][3], newest) for k in mine}
    in_form: dict[str, tuple[Optional[str], dt.datetime]] = {}
    for k, ref, at in rows:
        s = stored.get(k)
        if s is None:
            in_form[k] = (ref, at)
        elif s[1] == form.id:
            in_form[k] = (s[3], at)
    return state, next_state(state, in_form)


def _settle(session: Session, *, batch: ImportBatch, form: SurveyForm, stored: dict[str, tuple],
            ids: dict[str, int], state: dict, step: Step, rows: list[tuple[str, Optional[int]]],
            members: bool = True) -> tuple[dict[str, int], list[VanishedRow]]:
    """Record the batch's rows (key, row number) unless ``members`` is False (already written),
    write the flags the step changes, count."""
    writer = Writer.current(session)
    if members:
        for chunk in in_chunks(rows, CHUNK_SIZE * 4):
            writer.members([(batch.id, ids[k], row) for k, row in chunk])
    writer.finish()
    set_vanished(session, (ids[k] for k in step.dropped), batch.id)
    set_vanished(session, [ids[k] for k in step.state if k in stored and stored[k][2] is not None], None)
    set_vanished(session, (ids[k] for k in step.left_out if k in stored), batch.id)

    new = changed = unchanged = 0
    uncounted_here: dict[int, Optional[int]] = {}
    for k, row in rows:
        s = stored.get(k)
        if k in step.state:
            if s is not None and s[2] is None and k in state:
                unchanged += 1
            elif k in step.replaced:
                changed += 1
            else:
                new += 1
        elif s is not None and s[1] != form.id:
            if s[2] is None:
                unchanged += 1  # counted under the form that first stored it
            else:
                uncounted_here[s[0]] = row
        else:
            uncounted_here[ids[k]] = row
    old_versions = set(step.replaced.values())
    gone = {ids[k] for k in step.dropped if k not in old_versions} | set(uncounted_here)
    vanished = vanished_rows_of(session, gone, this_batch=batch, rows_here=uncounted_here)
    return {"new": new, "changed": changed, "unchanged": unchanged}, vanished


_PARSER_FINGERPRINT: Optional[str] = None


def parser_sources() -> list[Path]:
    """The code that decides how a file reads: every module of ``importers/`` (sub-packages
    included: the survey reader is ``importers/surveys/``) and of ``thai/`` (dates, digits), and
    ``services/survey_keys.py``, which decides which of its rows are one response."""
    package = Path(__file__).resolve().parent.parent
    readers = (p for folder in ("importers", "thai") for p in (package / folder).rglob("*.py"))
    return sorted([*readers, package / "services" / "survey_keys.py"])


def parse_key(data: bytes, mapping: Optional[dict[str, Any]]) -> str:
    """What decides how a file reads: its bytes, the column mapping asked for, and the reader's
    own code (a changed reader reads every file afresh)."""
    global _PARSER_FINGERPRINT
    if _PARSER_FINGERPRINT is None:
        package = Path(__file__).resolve().parent.parent
        digest = hashlib.sha256()
        for path in parser_sources():
            digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
        _PARSER_FINGERPRINT = digest.hexdigest()
    text = "\x1f".join([hashlib.sha256(data).hexdigest(), json.dumps(mapping, sort_keys=True, ensure_ascii=False),
                         _PARSER_FINGERPRINT])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def earlier_import(session: Session, *, organization_id: int, instrument: str | Instrument, data: bytes,
                   fiscal_year: Optional[int] = None, mapping: Optional[dict[str, Any]] = None) -> Optional[ImportBatch]:
    """The batch (not undone) that imported these very bytes, read with the same mapping by the same
    reader, for this instrument (and year, when given); None when the file is new."""
    instrument = Instrument(instrument)
    b = ImportBatch.__table__.c
    earlier = session.execute(
        select(ImportBatch).where(b.organization_id == organization_id, b.kind == BatchKind.survey(instrument),
                                  b.sha256 == hashlib.sha256(data).hexdigest(), b.parse_key == parse_key(data, mapping),
                                  b.undone_at.is_(None), b.state == DONE, b.form_id.is_not(None))
        .order_by(b.id.desc()).limit(1)).scalar_one_or_none()
    return earlier if earlier is not None and fiscal_year in (None, earlier.fiscal_year) else None


def import_survey_file(session: Session, *, organization_id: int, instrument: str | Instrument, data: bytes,
                       file_name: str, fiscal_year: Optional[int] = None, mapping: Optional[dict[str, Any]] = None,
                       user_id: Optional[int] = None, reuse: bool = True,
                       parsed: Optional[ParsedSurvey] = None) -> ImportResult:
    """Read and import a survey file (the command line's way).

    A file this organisation imported before (:func:`earlier_import`) is not read again: the rows
    that batch recorded are this file's rows, and the state rule applies to them as to any upload.
    ``parsed``: the file already read by the caller, outside any transaction, so that a long read
    does not hold the database's write lock. Raises FileProblem when the file cannot be read.
    """
    from ..importers.surveys import parse_survey_file

    try:
        instrument = Instrument(instrument)
    except ValueError as exc:
        raise SurveyImportError(code="survey_import_bad_instrument", instrument=instrument) from exc
    key = parse_key(data, mapping)
    if reuse:
        earlier = earlier_import(session, organization_id=organization_id, instrument=instrument, data=data,
                                 fiscal_year=fiscal_year, mapping=mapping)
        if earlier is not None:
            return _import_again(session, earlier=earlier, file_name=file_name, parse_key=key, user_id=user_id)
    if parsed is None:
        parsed = parse_survey_file(data, filename=file_name, mapping=mapping)
    return import_survey(session, organization_id=organization_id, instrument=instrument, parsed=parsed,
                         fiscal_year=fiscal_year, file_name=file_name, file_bytes=data, user_id=user_id,
                         parse_key=key)


def _import_again(session: Session, *, earlier: ImportBatch, file_name: str, parse_key: str,
                  user_id: Optional[int], progress: Optional[Callable[[int, int], None]] = None) -> ImportResult:
    """A new batch for a file already imported as ``earlier``: its rows, without reading it (in
    short transactions, as :func:`import_survey`)."""
    batch = ImportBatch(
        organization_id=earlier.organization_id, fiscal_year=earlier.fiscal_year, kind=earlier.kind,
        file_name=file_name or "", sha256=earlier.sha256, size_bytes=earlier.size_bytes, user_id=user_id,
        read_count=earlier.read_count, rejected_count=earlier.rejected_count,
        rejected_rows=list(earlier.rejected_rows or []), parse_key=parse_key, form_id=earlier.form_id,
    )
    earlier_id, accepted = earlier.id, earlier.imported_count + earlier.duplicate_count
    instrument = BatchKind(batch.kind).instrument

    def work(st: Staging) -> ImportResult:
        session = st.session
        st.clean_abandoned()
        form = session.get(SurveyForm, batch.form_id)
        m, r = SurveyBatchResponse.__table__.c, SurveyResponse.__table__.c
        members = session.execute(
            select(r.respondent_key, m.row_number, r.department_text).select_from(
                SurveyBatchResponse.__table__.join(SurveyResponse.__table__, r.id == m.response_id))
            .where(m.batch_id == earlier_id).order_by(m.row_number, m.response_id)).all()
        newest = session.execute(
            select(func.max(r.submitted_at)).select_from(
                SurveyBatchResponse.__table__.join(SurveyResponse.__table__, r.id == m.response_id))
            .where(m.batch_id == earlier_id, r.form_id == form.id)).scalar_one()
        stored = stored_responses(session, organization_id=batch.organization_id, fiscal_year=batch.fiscal_year,
                                   instrument=instrument)
        # Only the newest time of the file matters to the rule (it reads max()).
        state, step = _next_step(session, form=form, stored=stored,
                                 rows=[(k, stored[k][3], newest) for k, _, _ in members])
        st.commit()
        ids = {k: s[0] for k, s in stored.items()}
        rows = [(k, row) for k, row, _ in members]
        _members(st, batch=batch, ids=ids, rows=rows, progress=progress)
        st.begin()  # the flip
        st.flip(batch)
        counts, vanished_rows = _settle(session, batch=batch, form=form, stored=stored, ids=ids, state=state,
                                        step=step, rows=rows, members=False)
        resolve = _resolver(session, batch.organization_id).resolve
        unmatched = count_unmatched((text for _, _, text in members), resolve)
        return _finish(session, batch=batch, user_id=user_id, accepted=accepted, counts=counts,
                       vanished_rows=vanished_rows, unmatched=unmatched, audit_extra={"same_file_as_batch": earlier_id})

    return _staged(session, batch=batch, work=work)


def map_department_alias(session: Session, *, organization_id: int, written: str, department_id: int,
                         user_id: Optional[int] = None) -> int:
    """Teach a department another spelling, and attach the unmatched responses written that way.

    Every response of the organisation still without a department whose text now resolves
    (the written text itself, and spellings that normalise the same) gets its department_id.
    Returns how many responses were updated.
    """
    written = (written or "").strip()
    if not normalize_name(written):
        raise SurveyImportError(code="survey_import_empty_alias")
    dep = session.get(Department, department_id)
    if dep is None or dep.organization_id != organization_id:
        raise SurveyImportError(code="survey_import_department_not_found")
    before = list(dep.aliases or [])
    if all(normalize_name(a) != normalize_name(written) for a in (dep.name, *before)):
        dep.aliases = [*before, written]
        session.add(dep)
        session.flush()
    updated = reresolve_unmatched(session, organization_id=organization_id)
    audit.record(
        session, user_id=user_id, action="department.alias", entity="department", entity_id=department_id,
        organization_id=organization_id, before={"aliases": before},
        after={"aliases": list(dep.aliases or []), "written": written, "responses_resolved": updated},
    )
    session.flush()
    return updated


def reresolve_unmatched(session: Session, *, organization_id: int,
                        resolver: Optional[DepartmentResolver] = None) -> int:
    """Attach every response still without a department whose written text resolves now (after a
    new alias or an abbreviation-table edit); returns how many responses were updated. Responses
    already attached are left as they are. One UPDATE per department, by written text."""
    resolver = resolver or _resolver(session, organization_id)
    texts = session.execute(
        select(SurveyResponse.department_text).distinct().where(
            SurveyResponse.organization_id == organization_id,
            col(SurveyResponse.department_id).is_(None),
            SurveyResponse.department_text != "",
        )
    ).scalars()
    by_department: dict[int, list[str]] = {}
    for text in texts:
        dep_id = resolver.resolve(text)
        if dep_id is not None:
            by_department.setdefault(dep_id, []).append(text)
    updated = 0
    for dep_id, group in by_department.items():
        res = session.execute(
            update(SurveyResponse)
            .where(SurveyResponse.organization_id == organization_id, col(SurveyResponse.department_id).is_(None),
                   col(SurveyResponse.department_text).in_(group))
            .values(department_id=dep_id)
        )
        updated += res.rowcount or 0
    return updated


def _safe_cell(value: Any) -> str:
    """The cell as text, behind the one formula guard."""
    from ..textsafe import sheet_cell

    return sheet_cell("" if value is None else str(value))


def rejected_rows_csv(batch: ImportBatch) -> bytes:
    """The batch's rejected rows as CSV for Excel: UTF-8 with BOM, Thai headings."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([t("rejected_csv_row"), t("rejected_csv_column"), t("rejected_csv_reason")])
    for r in batch.rejected_rows or []:
        w.writerow([_safe_cell(r.get("row")), _safe_cell(r.get("column")), _safe_cell(r.get("reason"))])
    return "\ufeff".encode("utf-8") + buf.getvalue().encode("utf-8")
