"""Parsed survey exports into SurveyResponse rows: nothing lost, nothing doubled.

Each response gets a ``respondent_key``: the sha256 of its normalised content (submitted time
to the second, department as written, the form's own response ID/email when present, then the
non-empty answers in column order). Identical rows are therefore one response, and re-uploading
a cumulative export (last week's rows plus this week's) imports only the new rows. Skipping
empty answers keeps the key stable when a question is added to the form part-way through.

Everything happens in the caller's session and transaction: when anything fails half-way the
caller's rollback (``db.session_scope`` does it) leaves no batch and no responses.

Speed: responses are inserted with SQLAlchemy core ``executemany`` in chunks, with one query
per chunk for the keys already stored; scores are computed only for the rows actually inserted,
column by column with numpy, from per-question and per-answer lookups prepared once per file.
The answers JSON is written without ``\\uXXXX`` escapes: keyed by full Thai question texts, the
escaped form is twice the size, and for 100,000 responses that doubles the bytes written.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import itertools
import json
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Optional, Sequence

from sqlalchemy import JSON, String, TypeDecorator, bindparam, column, delete, exists, func, insert, select, table, text as sql_text, update
from sqlmodel import Session, col

from .. import audit
from ..departments import DepartmentResolver, normalize_name
from ..importers.surveys import BANGKOK, NO_DEPARTMENT, ParsedRow, ParsedSurvey
from ..models import Department, FormMapping, ImportBatch, Instrument, SurveyResponse, utcnow

CHUNK_SIZE = 5000
INDICATOR_SLOTS = 5  # SurveyResponse.indicator_score_1..5


class SurveyImportError(ValueError):
    """A request the import service refuses; ``str(exc)`` is a message for the user (Thai)."""


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


# ---------------------------------------------------------------------------------------------
# Keys, years, departments


def respondent_key(row: ParsedRow) -> str:
    """sha256 of the row's normalised content; see the module docstring for what goes in."""
    when = row.submitted_at
    if when.tzinfo is not BANGKOK and when.tzinfo is not None:
        when = when.astimezone(BANGKOK)
    parts = [when.replace(microsecond=0, tzinfo=None).isoformat(), row.department_text, *row.ids.values(), "\x1e",
             *row.answers.values()]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def infer_fiscal_year(rows: Sequence[ParsedRow]) -> Optional[int]:
    """The fiscal year (BE) of the median submitted date; None without rows."""
    from ..thai import fiscal_year_of

    if not rows:
        return None
    days = sorted(r.submitted_at.astimezone(BANGKOK).date() for r in rows)
    return fiscal_year_of(days[len(days) // 2])


def _resolver(session: Session, organization_id: int) -> DepartmentResolver:
    """The organisation's resolver (names, aliases, abbreviation table): ``orgs.resolver_for``."""
    from .orgs import resolver_for

    return resolver_for(session, organization_id=organization_id)


def _split_by_year(rows: Sequence[ParsedRow], fiscal_year: int, ts_column: str) -> tuple[list[ParsedRow], list[dict[str, Any]]]:
    from ..thai import fiscal_year_of

    inside, outside = [], []
    year_of: dict[dt.date, int] = {}
    for r in rows:
        day = r.submitted_at.astimezone(BANGKOK).date()
        fy = year_of.get(day)
        if fy is None:
            fy = year_of[day] = fiscal_year_of(day)
        if fy == fiscal_year:
            inside.append(r)
        else:
            outside.append({
                "row": r.row_number, "column": ts_column,
                "reason": f"วันที่ตอบ {day.day}/{day.month}/{day.year + 543} อยู่นอกปีงบประมาณ {fiscal_year}",
            })
    return inside, outside


# ---------------------------------------------------------------------------------------------
# Scores


class _Scorer:
    """Respondent-level scores from the year's framework, prepared once per file.

    ``score`` is the mean of the response's scored answers to questions that belong to one of the
    instrument's indicators (all scored answers when the framework recognises no question of the
    form); slot k is the mean for the k-th indicator of the instrument. None where nothing scored.
    Computed per question column with numpy: 100,000 responses x 40 questions stay well under a
    second, where a Python loop over every answer takes several.
    """

    def __init__(self, *, fiscal_year: int, instrument: str, questions: Sequence[str]):
        self.questions = list(questions)
        self.slots: list[int] = []
        self.values: dict[str, float] = {}
        try:
            from ..framework import load_framework

            fw = load_framework(fiscal_year)
        except (ValueError, LookupError, OSError):
            return  # no usable framework for that year: responses count, scores stay empty
        numbers = [ind.number for ind in fw.instruments[instrument].indicators]
        slot_of_number = {n: k for k, n in enumerate(numbers[:INDICATOR_SLOTS], start=1)}
        self.slots = [slot_of_number.get(fw.indicator_for_question(instrument, q), 0) for q in self.questions]
        self._fw = fw

    def _known(self, texts: list[Optional[str]]) -> dict[str, float]:
        """The answer-score table, extended with this column's new answer texts (each scored once)."""
        for text in set(texts).difference(self.values):
            if isinstance(text, str):
                v = self._fw.score_answer(text)
                self.values[text] = float("nan") if v is None else float(v)
        return self.values

    def scores(self, answers: Sequence[dict[str, str]]) -> list[list[Optional[float]]]:
        """Per response: [score, slot1, ..., slot5]."""
        n = len(answers)
        if not self.slots or not n:
            return [[None] * (INDICATOR_SLOTS + 1) for _ in range(n)]
        import numpy as np

        nan = float("nan")
        matrix = np.empty((len(self.questions), n), dtype=np.float64)
        for i, q in enumerate(self.questions):
            texts = list(map(dict.get, answers, itertools.repeat(q, n)))
            matrix[i] = list(map(self._known(texts).get, texts, itertools.repeat(nan, n)))
        slots = np.array(self.slots)
        columns = [_mean(matrix[slots == k]) for k in range(1, INDICATOR_SLOTS + 1)]
        overall = _mean(matrix[slots > 0]) if (slots > 0).any() else _mean(matrix)
        return [list(r) for r in zip(*[_nullable(c) for c in [overall, *columns]])]


def _mean(block):
    """Row-wise mean over a (questions x responses) block ignoring NaN; NaN where nothing scored."""
    import numpy as np

    scored = ~np.isnan(block)
    counts = scored.sum(axis=0)
    sums = np.where(scored, block, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts


def _nullable(values) -> list[Optional[float]]:
    return [None if v != v else float(v) for v in values.tolist()]


# ---------------------------------------------------------------------------------------------
# Import


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _existing_keys(session: Session, *, organization_id: int, fiscal_year: int, instrument: Instrument,
                   keys: Iterable[str]) -> set[str]:
    """Which of ``keys`` are stored already: one query per chunk.

    On PostgreSQL the keys go in as one array and are semi-joined against the unique index. A
    plain ``respondent_key IN (5,000 parameters)`` is fine at first, but psycopg prepares a
    statement after five runs, PostgreSQL then plans it generically, and the generic plan checks
    every response of the organisation against the list one by one: seconds per chunk at
    100,000 responses. SQLite plans ``IN`` as index probes every time.
    """
    keys = list(keys)
    if not keys:
        return set()
    same_survey = (
        SurveyResponse.organization_id == organization_id,
        SurveyResponse.fiscal_year == fiscal_year,
        SurveyResponse.instrument == instrument,
    )
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        wanted = func.unnest(bindparam("keys", keys, type_=ARRAY(String))).table_valued("k").render_derived(name="wanted")
        stored = select(SurveyResponse.id).where(*same_survey, SurveyResponse.respondent_key == wanted.c.k)
        q = select(wanted.c.k).where(exists(stored))
    else:
        q = select(SurveyResponse.respondent_key).where(*same_survey, col(SurveyResponse.respondent_key).in_(keys))
    return set(session.execute(q).scalars())


class _EncodedJSON(TypeDecorator):
    """A JSON column whose values arrive already serialised (see :func:`_params`).

    The impl stays JSON so PostgreSQL still gets its ``::JSON`` bind cast; only the serialising
    step is skipped. Reading goes through the model's own JSON type as usual.
    """

    impl = JSON
    cache_ok = True

    def bind_processor(self, dialect):
        return None


_BULK_TABLE = None


def _bulk_table():
    """SurveyResponse's table for executemany, with the answers column taking JSON text."""
    global _BULK_TABLE
    if _BULK_TABLE is None:
        t = SurveyResponse.__table__
        _BULK_TABLE = table(
            t.name,
            *(column(c.name, _EncodedJSON() if c.name == "answers" else c.type) for c in t.columns if c.name != "id"),
        )
    return _BULK_TABLE


BULK_CACHE_KIB = 200_000  # SQLite page cache while importing (its default is 2,000 KiB)


@contextmanager
def _bulk_cache(session: Session) -> Iterator[None]:
    """On SQLite, a large page cache for the duration of the import, then the old size back.

    With the default 2 MB cache the unique index on respondent_key (random sha256 values) keeps
    spilling half-filled pages to the WAL and writing them again; a 100,000-row import spends a
    quarter of its time on that. The pragma is per connection, and pooled connections live on,
    so the size is restored even when the import fails.
    """
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    conn = session.connection()
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size={int(before)}")


def _one_import_at_a_time(session: Session, *, organization_id: int, fiscal_year: int, instrument: Instrument) -> None:
    """Serialise imports into the same survey, so two uploads at once neither fail nor double rows.

    On PostgreSQL a transaction-scoped advisory lock: the second upload waits for the first to
    commit, then finds its rows stored and counts them as duplicates (without the lock both read
    the keys before either commits, and the later insert hits the unique index). SQLite needs
    nothing: the batch row written just before takes the database's single write lock, and the
    reads that follow see everything committed before it.
    """
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(f"survey:{organization_id}:{fiscal_year}:{instrument.value}".encode()).digest()[:8],
                             "big", signed=True)
        session.execute(sql_text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _insert_chunk(session: Session, params: list[dict[str, Any]]) -> None:
    """One executemany of plain dicts (kept separate so tests can make it fail)."""
    if params:
        session.execute(insert(_bulk_table()), params)


_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class _AnswersJSON:
    """``json.dumps(answers, ensure_ascii=False, separators=(",", ":"))``, from cached pieces.

    Every response repeats the same long question texts with a handful of answer labels, so the
    encoded ``"question":"answer"`` pairs are cached and a row is one join; rows holding free
    text (long or never seen) are encoded the ordinary way, without filling the cache.
    """

    MAX_CACHED_ANSWER = 64

    def __init__(self) -> None:
        self._pairs: dict[tuple[str, Any], str] = {}

    def encode(self, answers: dict[str, Any]) -> str:
        pairs = self._pairs
        try:
            return "{" + ",".join([pairs[kv] for kv in answers.items()]) + "}"
        except (KeyError, TypeError):
            pass
        for kv in answers.items():
            value = kv[1]
            if isinstance(value, str) and len(value) <= self.MAX_CACHED_ANSWER and kv not in pairs:
                pairs[kv] = _dumps(kv[0]) + ":" + _dumps(value)
        return _dumps(answers)


def _params(rows: Sequence[tuple[ParsedRow, str]], *, base: dict[str, Any], resolve, scorer: _Scorer,
            encoder: _AnswersJSON) -> list[dict[str, Any]]:
    scores = scorer.scores([r.answers for r, _ in rows])
    dumps = encoder.encode
    out = []
    for (row, key), s in zip(rows, scores):
        out.append({
            **base,
            "submitted_at": row.submitted_at,
            "submitted_on": row.submitted_at.astimezone(BANGKOK).date(),
            "department_id": resolve(row.department_text) if row.department_text else None,
            "department_text": row.department_text,
            "respondent_key": key,
            "answers": dumps(row.answers),
            "score": s[0],
            "indicator_score_1": s[1],
            "indicator_score_2": s[2],
            "indicator_score_3": s[3],
            "indicator_score_4": s[4],
            "indicator_score_5": s[5],
        })
    return out


def _unique_rows(rows: Sequence[ParsedRow]) -> tuple[list[tuple[ParsedRow, str]], int]:
    """(row, key) pairs with repeats inside the file dropped, and how many were dropped."""
    seen: set[str] = set()
    unique = []
    for r in rows:
        k = respondent_key(r)
        if k not in seen:
            seen.add(k)
            unique.append((r, k))
    return unique, len(rows) - len(unique)


def _unmatched(rows: Iterable[tuple[ParsedRow, str]], resolve) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r, _ in rows:
        text = r.department_text
        if not text or resolve(text) is None:
            label = text or NO_DEPARTMENT
            counts[label] = counts.get(label, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


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
) -> ImportResult:
    """Store a parsed export as one ImportBatch with its new responses; see the module docstring.

    ``fiscal_year`` (BE) defaults to that of the median submitted date; rows of other fiscal
    years are rejected with a reason. Departments resolve through the organisation's names and
    aliases; what does not resolve is kept as written with ``department_id`` NULL.
    """
    try:
        instrument = Instrument(instrument)
    except ValueError as exc:
        raise SurveyImportError(f"ประเภทแบบสำรวจต้องเป็น iit หรือ eit (ได้รับ “{instrument}”)") from exc
    fy = fiscal_year or infer_fiscal_year(parsed.rows)
    rejected = list(parsed.rejected)
    rows: list[ParsedRow] = []
    if fy is not None:
        rows, outside = _split_by_year(parsed.rows, fy, parsed.timestamp_column)
        rejected.extend(outside)
    rejected.sort(key=lambda r: r["row"])

    batch = ImportBatch(
        organization_id=organization_id, fiscal_year=fy, kind=f"survey_{instrument.value}",
        file_name=file_name or "", sha256=hashlib.sha256(file_bytes).hexdigest(), size_bytes=len(file_bytes),
        user_id=user_id, read_count=parsed.read_count, rejected_count=len(rejected), rejected_rows=rejected,
    )
    session.add(batch)
    session.flush()
    if fy is not None:
        _one_import_at_a_time(session, organization_id=organization_id, fiscal_year=fy, instrument=instrument)

    unique, duplicate = _unique_rows(rows)
    resolve = _resolver(session, organization_id).resolve
    imported = 0
    if unique and fy is not None:
        scorer = _Scorer(fiscal_year=fy, instrument=instrument.value, questions=parsed.answer_columns)
        encoder = _AnswersJSON()
        base = {"organization_id": organization_id, "fiscal_year": fy, "instrument": instrument,
                "import_batch_id": batch.id}
        with _bulk_cache(session):
            for chunk in _chunks(unique, CHUNK_SIZE):
                stored = _existing_keys(session, organization_id=organization_id, fiscal_year=fy,
                                        instrument=instrument, keys=(k for _, k in chunk))
                fresh = [(r, k) for r, k in chunk if k not in stored]
                duplicate += len(chunk) - len(fresh)
                _insert_chunk(session, _params(fresh, base=base, resolve=resolve, scorer=scorer, encoder=encoder))
                imported += len(fresh)

    batch.imported_count = imported
    batch.duplicate_count = duplicate
    session.add(batch)
    unmatched = _unmatched(unique, resolve)
    counts = {"read": parsed.read_count, "imported": imported, "duplicate": duplicate, "rejected": len(rejected)}
    audit.record(
        session, user_id=user_id, action="survey.import", entity="import_batch", entity_id=batch.id,
        organization_id=organization_id,
        after={**counts, "file_name": file_name, "instrument": instrument.value, "fiscal_year": fy,
               "sheet": parsed.sheet_name, "mapping": parsed.mapping_used, "unmatched_departments": unmatched},
    )
    session.flush()
    assert batch.id is not None
    return ImportResult(batch_id=batch.id, fiscal_year=fy, unmatched_departments=unmatched,
                        rejected_rows=rejected, **counts)


# ---------------------------------------------------------------------------------------------
# Undo, aliases, remembered mappings, rejected rows


def undo_batch(session: Session, *, batch_id: int, user_id: Optional[int]) -> int:
    """Delete the responses a survey batch added and mark it undone; returns how many were deleted.

    Rows of a later cumulative upload that duplicated this batch were not stored twice, so after
    an undo they come back only by uploading that file again.
    """
    batch = session.get(ImportBatch, batch_id)
    if batch is None or not batch.kind.startswith("survey_"):
        raise SurveyImportError("ไม่พบรายการนำเข้าแบบสำรวจนี้")
    if batch.undone_at is not None:
        raise SurveyImportError("รายการนำเข้านี้ถูกยกเลิกไปแล้ว")
    result = session.execute(delete(SurveyResponse).where(SurveyResponse.import_batch_id == batch_id))
    deleted = result.rowcount or 0
    batch.undone_at = utcnow()
    batch.undone_by = user_id
    session.add(batch)
    audit.record(
        session, user_id=user_id, action="survey.undo", entity="import_batch", entity_id=batch_id,
        organization_id=batch.organization_id,
        before={"imported": batch.imported_count, "file_name": batch.file_name},
        after={"deleted_responses": deleted, "undone_at": batch.undone_at},
    )
    session.flush()
    return deleted


def map_department_alias(session: Session, *, organization_id: int, written: str, department_id: int,
                         user_id: Optional[int] = None) -> int:
    """Teach a department another spelling, and attach the unmatched responses written that way.

    Every response of the organisation still without a department whose text now resolves
    (the written text itself, and spellings that normalise the same) gets its department_id.
    Returns how many responses were updated.
    """
    written = (written or "").strip()
    if not normalize_name(written):
        raise SurveyImportError("ชื่อที่เขียนในแบบสำรวจว่างเปล่า จับคู่กับส่วนราชการไม่ได้")
    dep = session.get(Department, department_id)
    if dep is None or dep.organization_id != organization_id:
        raise SurveyImportError("ไม่พบส่วนราชการนี้ในหน่วยงาน")
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


def remember_mapping(session: Session, *, organization_id: int, signature: str, mapping: dict[str, Any],
                     user_id: Optional[int] = None) -> None:
    """Keep the column roles an admin confirmed for a form (by header signature)."""
    row = session.execute(
        select(FormMapping).where(FormMapping.organization_id == organization_id, FormMapping.signature == signature)
    ).scalar_one_or_none()
    before = dict(row.mapping) if row else None
    if row is None:
        row = FormMapping(organization_id=organization_id, signature=signature, mapping=dict(mapping))
    else:
        row.mapping = dict(mapping)
        row.updated_at = utcnow()
    session.add(row)
    audit.record(session, user_id=user_id, action="survey.mapping", entity="form_mapping", entity_id=signature[:16],
                 organization_id=organization_id, before=before, after=dict(mapping))
    session.flush()


def recall_mapping(session: Session, *, organization_id: int, signature: str) -> Optional[dict[str, Any]]:
    """The mapping remembered for this form's header signature, or None."""
    row = session.execute(
        select(FormMapping).where(FormMapping.organization_id == organization_id, FormMapping.signature == signature)
    ).scalar_one_or_none()
    return dict(row.mapping) if row else None


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe_cell(value: Any) -> str:
    """Text Excel will not run as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def rejected_rows_csv(batch: ImportBatch) -> bytes:
    """The batch's rejected rows as CSV for Excel: UTF-8 with BOM, Thai headings."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["แถว", "คอลัมน์", "เหตุผล"])
    for r in batch.rejected_rows or []:
        w.writerow([_safe_cell(r.get("row")), _safe_cell(r.get("column")), _safe_cell(r.get("reason"))])
    return "\ufeff".encode("utf-8") + buf.getvalue().encode("utf-8")
