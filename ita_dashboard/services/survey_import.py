"""Parsed survey exports into SurveyResponse rows: nothing lost, nothing doubled, edits replace.

**Keys.** Each response gets a ``respondent_key``: the sha256 of its normalised content
(submitted time to the second, department as written, the form's own response ID/email when
present, then the non-empty answers in column order). Identical rows are one response; skipping
empty answers keeps the key stable when a question is added to the form part-way through.

**Forms.** A file's form is its header signature (:attr:`ParsedSurvey.signature`) within the
organisation, fiscal year and instrument: a :class:`~ita_dashboard.models.SurveyForm` row holding
the questions in order and each question's scale (the answer labels seen). A response stores its
answers as codes against its form (see ``SurveyResponse.answer_codes``), not the question texts.
Online and paper forms of one instrument have different headers, hence different forms, and
their responses add up. A form's responses belong to the form of the earliest batch (not undone)
that contained them; a row already stored under another form is left to that form.

**A form's state.** Every batch records which responses it contained
(:class:`~ita_dashboard.models.SurveyBatchResponse`), and the counted responses of a form are a
function of its batches that are not undone, applied in upload order. Starting from nothing,
each batch's rows ``R`` (those belonging to the form) meet the state ``C``, sharing ``k`` rows;
``R`` is *newer* when its newest submitted time is at least the newest of ``C`` (a tie: the
later upload):

1. ``k == 0``: the file shares no row with the state (a first export, a hand-made weekly
   extract, a form reopened): its rows **add up**, ``C ∪ R``.
2. ``R`` newer and sharing more than half of ``C``: a **newer cumulative export**, the form's
   whole state: ``C := R``. Rows of ``C`` it lacks *vanish*: an edited response (Google Forms
   gives the edit a new timestamp and no ID, so the edit looks new and its old version vanishes),
   a row an admin deleted or fixed in the Sheet.
3. ``R`` older and more than half of it in ``C``: an **older export** uploaded after a newer
   one: the state stays; its rows the state lacks are stored flagged vanished. The count never
   shrinks.
4. Otherwise (overlapping extracts) the rows add up, ``C ∪ R``.

Then one version per identity: when the export has the form's own response ID (Microsoft
Forms' ``ID``) or an e-mail unique in the file, two counted rows with the same identity keep only
the newer file's version, and the pair is reported as *changed* rather than new + vanished.

Vanished rows are kept, flagged (``SurveyResponse.vanished_by``, the batch after which they
stopped counting), excluded from every count (``models.counted()``) and listed to the admin.
Known limits: a deleted response that was the form's newest shows as vanished only once a
later response arrives (until then the file looks older); rows carried over into a form whose
header changed stay with the old form; rows stored before batches recorded their contents
(migration 0004) are known only to the batch that first stored them.

**Counts per import.** ``new`` (rows counted for the first time), ``changed`` (a new version of a
counted response, by identity), ``unchanged`` (already counted), ``vanished`` (no longer counted
after this import, plus rows of this file left uncounted as older than the state); ``imported``
= new + changed (rows newly counted), ``duplicate`` = the other accepted rows (repeats within
the file, rows already stored), so read = imported + duplicate + rejected.

**Undo** deletes the batch's membership, deletes responses no other batch contained, hands rows
whose owning batch is gone to the form of the earliest remaining batch holding them, and
replays the forms concerned: the state is again exactly that of the remaining batches.

Everything happens in the caller's session and transaction: when anything fails half-way the
caller's rollback (``db.session_scope`` does it) leaves no batch and no responses. Imports and
undos of one (organisation, year, instrument) are serialised (a PostgreSQL advisory lock).

Speed: the stored keys of the survey are read in one indexed range scan (no per-key lookups
whose plan depends on the planner's statistics); new rows go in with ``INSERT ... ON CONFLICT
DO NOTHING RETURNING`` (the unique key decides, whatever the statistics say) in executemany
chunks; answers are coded and scored column by column (numpy for scores), from per-column
lookups prepared once per distinct answer text.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import itertools
import json
import re
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Optional, Sequence

from sqlalchemy import JSON, TypeDecorator, column, delete, func, select, table, text as sql_text, update
from sqlmodel import Session, col

from .. import audit
from ..departments import DepartmentRef, DepartmentResolver, normalize_name
from ..importers.surveys import BANGKOK, NO_DEPARTMENT, ParsedRow, ParsedSurvey
from ..models import (
    Department,
    FormMapping,
    ImportBatch,
    Instrument,
    SurveyBatchResponse,
    SurveyForm,
    SurveyResponse,
    counted,
    utcnow,
)

CHUNK_SIZE = 5000
INDICATOR_SLOTS = 5  # SurveyResponse.indicator_score_1..5
IN_CHUNK = 900  # ids per IN (...) list: below SQLite's oldest parameter limit


class SurveyImportError(ValueError):
    """A request the import service refuses; ``str(exc)`` is a message for the user (Thai)."""


@dataclass
class VanishedRow:
    """A response no longer counted: where it was last seen, when it was submitted, for whom."""

    response_id: int
    row: Optional[int]  # row number in ``file_name`` (None for rows stored before batches kept rows)
    file_name: str
    batch_id: Optional[int]  # the batch whose file held it last
    submitted_at: dt.datetime  # aware
    department_text: str


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


# ---------------------------------------------------------------------------------------------
# Keys, identities, years, departments


def respondent_key(row: ParsedRow) -> str:
    """sha256 of the row's normalised content; see the module docstring for what goes in."""
    when = row.submitted_at
    if when.tzinfo is not BANGKOK and when.tzinfo is not None:
        when = when.astimezone(BANGKOK)
    parts = [when.replace(microsecond=0, tzinfo=None).isoformat(), row.department_text, *row.ids.values(), "\x1e",
             *row.answers.values()]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


_HEADER_KEY = re.compile(r"[\s\u200b\u00a0\ufeff]+")
# Columns naming one response across exports: the form tool's own response number first.
_RESPONSE_ID_HEADERS = ("id", "รหัส", "responseid", "รหัสการตอบกลับ", "เลขที่การตอบกลับ")
_EMAIL_HEADERS = ("email", "อีเมล", "e-mail", "emailaddress", "ที่อยู่อีเมล")
MAX_REF = 200


def _header_key(label: str) -> str:
    return _HEADER_KEY.sub("", unicodedata.normalize("NFC", label)).lower()


def response_refs(rows: Sequence[ParsedRow], id_columns: Sequence[str]) -> list[Optional[str]]:
    """Each row's identity across exports, or None: the response ID column when the export has
    one, else an e-mail column; a value repeated within the file identifies nothing (Microsoft
    Forms writes "anonymous" in every row of an anonymous form)."""
    keys = {_header_key(c): c for c in id_columns}
    chosen: Optional[tuple[str, str]] = None
    for prefix, names in (("id", _RESPONSE_ID_HEADERS), ("email", _EMAIL_HEADERS)):
        label = next((keys[n] for n in names if n in keys), None)
        if label is not None:
            chosen = (prefix, label)
            break
    if chosen is None:
        return [None] * len(rows)
    prefix, label = chosen
    values: list[Optional[str]] = []
    for r in rows:
        v = (r.ids.get(label) or "").strip()
        if prefix == "email":
            v = v.lower() if "@" in v else ""
        values.append(f"{prefix}:{v}"[:MAX_REF] if v else None)
    seen: dict[str, int] = {}
    for v in values:
        if v is not None:
            seen[v] = seen.get(v, 0) + 1
    return [v if v is not None and seen[v] == 1 else None for v in values]


def infer_fiscal_year(rows: Sequence[ParsedRow]) -> Optional[int]:
    """The fiscal year (BE) of the median submitted date; None without rows."""
    from ..thai import fiscal_year_of

    if not rows:
        return None
    days = sorted(r.submitted_at.astimezone(BANGKOK).date() for r in rows)
    return fiscal_year_of(days[len(days) // 2])


def _resolver(session: Session, organization_id: int) -> DepartmentResolver:
    deps = session.execute(select(Department).where(Department.organization_id == organization_id)).scalars()
    return DepartmentResolver(DepartmentRef(d.id, d.name, tuple(d.aliases or ())) for d in deps)


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

    def _known(self, texts: Iterable[Optional[str]]) -> dict[str, float]:
        """The answer-score table, extended with this column's new answer texts (each scored once)."""
        for text in set(texts).difference(self.values):
            if isinstance(text, str):
                v = self._fw.score_answer(text)
                self.values[text] = float("nan") if v is None else float(v)
        return self.values

    def scores(self, columns: Sequence[Sequence[Optional[str]]], n: int) -> list[list[Optional[float]]]:
        """Per response: [score, slot1, ..., slot5]; ``columns`` holds each question's answers."""
        if not self.slots or not n:
            return [[None] * (INDICATOR_SLOTS + 1) for _ in range(n)]
        import numpy as np

        nan = float("nan")
        matrix = np.empty((len(self.questions), n), dtype=np.float64)
        for i, texts in enumerate(columns):
            matrix[i] = list(map(self._known(texts).get, texts, itertools.repeat(nan, n)))
        slots = np.array(self.slots)
        per_slot = [_mean(matrix[slots == k]) for k in range(1, INDICATOR_SLOTS + 1)]
        overall = _mean(matrix[slots > 0]) if (slots > 0).any() else _mean(matrix)
        return [list(r) for r in zip(*[_nullable(c) for c in [overall, *per_slot]])]


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
# Forms and answer codes


_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class Codebook:
    """A form's questions and scales while answers are coded against it (see SurveyResponse).

    A text answer gets the code of its label in the question's scale, the label being added when
    new; free text (long answers, or a question past ``MAX_SCALE`` labels) is kept as the text
    itself, so comments do not swell the form. Any other value is kept as ``[value]``.
    """

    MAX_LABEL = 100
    MAX_SCALE = 60

    def __init__(self, form: SurveyForm):
        self.form = form
        self.questions: list[str] = list(form.questions or [])
        scales = [list(s) for s in (form.scales or [])]
        self.scales: list[list[str]] = scales + [[] for _ in range(len(self.questions) - len(scales))]
        self.position = {q: i for i, q in enumerate(self.questions)}
        self.codes = [{label: k for k, label in enumerate(s, start=1)} for s in self.scales]
        self.changed = False

    def index(self, question: str) -> int:
        i = self.position.get(question)
        if i is None:
            i = self.position[question] = len(self.questions)
            self.questions.append(question)
            self.scales.append([])
            self.codes.append({})
            self.changed = True
        return i

    def code(self, i: int, value: Any) -> Any:
        if isinstance(value, str):
            c = self.codes[i].get(value)
            if c is not None:
                return c
            if value and len(value) <= self.MAX_LABEL and len(self.scales[i]) < self.MAX_SCALE:
                self.scales[i].append(value)
                c = self.codes[i][value] = len(self.scales[i])
                self.changed = True
                return c
            return value
        return [value]

    def encode(self, answers: dict[str, Any]) -> list[Any]:
        """{question: answer} as a code list (every present key codes non-zero)."""
        pairs = [(self.index(q), v) for q, v in answers.items()]
        codes: list[Any] = [0] * (max((i for i, _ in pairs), default=-1) + 1)
        for i, v in pairs:
            codes[i] = self.code(i, v)
        return codes

    def column_tokens(self, question: str, texts: Sequence[Optional[str]]) -> list[str]:
        """One column of parsed answers (None = not answered) as JSON tokens of their codes."""
        i = self.index(question)
        memo: dict[Optional[str], str] = {None: "0"}
        for text in dict.fromkeys(texts):  # first-seen order: codes do not depend on hashing
            if text not in memo:
                c = self.code(i, text)
                memo[text] = str(c) if isinstance(c, int) else _dumps(c)
        return list(map(memo.__getitem__, texts))

    def save(self, session: Session) -> None:
        if self.changed:
            self.form.questions = list(self.questions)
            self.form.scales = [list(s) for s in self.scales]
            session.add(self.form)
            session.flush()
            self.changed = False


LEGACY_PREFIX = "legacy:"


def form_for(session: Session, *, organization_id: int, fiscal_year: int, instrument: Instrument,
             signature: str, questions: Sequence[str]) -> SurveyForm:
    """The form with this header signature, made on first sight.

    A form migrated from before forms existed (``legacy:`` signature) whose questions are all
    among this file's is taken over on first sight, so the first cumulative export after the
    upgrade continues its rows instead of starting a second form beside them.
    """
    same = (SurveyForm.organization_id == organization_id, SurveyForm.fiscal_year == fiscal_year,
            SurveyForm.instrument == instrument)
    form = session.execute(select(SurveyForm).where(*same, SurveyForm.signature == signature)).scalar_one_or_none()
    if form is None:
        wanted = set(questions)
        legacy = [f for f in session.execute(
            select(SurveyForm).where(*same, col(SurveyForm.signature).startswith(LEGACY_PREFIX))).scalars()
            if f.questions and set(f.questions) <= wanted]
        if len(legacy) == 1:
            form = legacy[0]
            form.signature = signature
        else:
            form = SurveyForm(organization_id=organization_id, fiscal_year=fiscal_year, instrument=instrument,
                              signature=signature)
        session.add(form)
        session.flush()
    return form


def response_answers(session: Session, response: SurveyResponse) -> dict[str, Any]:
    """{question: answer} of a stored response (``response.answers`` does the same when the
    response is attached to a session)."""
    from ..models import decode_answers

    form = session.get(SurveyForm, response.form_id) if response.form_id is not None else None
    return decode_answers(response.answer_codes, form)


# ---------------------------------------------------------------------------------------------
# A form's state (see the module docstring): one function for imports and for replays


@dataclass
class _Step:
    state: dict[Any, tuple[Optional[str], dt.datetime]]  # member -> (identity, submitted_at)
    dropped: set[Any]  # members of the old state no longer counted
    replaced: dict[Any, Any]  # new version -> old version (same identity)
    left_out: set[Any]  # members of the batch not counted


def next_state(state: dict[Any, tuple[Optional[str], dt.datetime]],
               batch: dict[Any, tuple[Optional[str], dt.datetime]]) -> _Step:
    """The form's counted rows after one more batch; both maps: member -> (identity, submitted_at)."""
    if not batch:
        return _Step(dict(state), set(), {}, set())
    shared = sum(1 for k in batch if k in state)
    newest_state = max((at for _, at in state.values()), default=None)
    newest_batch = max(at for _, at in batch.values())
    newer = newest_state is None or newest_batch >= newest_state
    if shared and newer and 2 * shared > len(state):
        result = dict(batch)  # a newer cumulative export: the form's whole state
    elif shared and not newer and 2 * shared > len(batch):
        result = dict(state)  # an older export: nothing it holds beyond the state counts
    else:
        result = {**state, **batch}  # disjoint or overlapping extracts add up
    identified = any(ref for ref, _ in batch.values())
    if identified:  # one version per identity: the newer file's
        winners = batch if newer else state
        holders: dict[str, list[Any]] = {}
        for k, (ref, _) in result.items():
            if ref:
                holders.setdefault(ref, []).append(k)
        for ks in holders.values():
            if len(ks) > 1 and any(k in winners for k in ks):
                for k in ks:
                    if k not in winners:
                        del result[k]
    dropped = {k for k in state if k not in result}
    left_out = {k for k in batch if k not in result}
    replaced: dict[Any, Any] = {}
    if identified and newer and dropped:
        fresh = {ref: k for k, (ref, _) in batch.items() if ref and k in result and k not in state}
        for k in dropped:
            ref = state[k][0]
            if ref in fresh:
                replaced[fresh[ref]] = k
    return _Step(result, dropped, replaced, left_out)


# ---------------------------------------------------------------------------------------------
# Database helpers


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


@dataclass(slots=True)
class _Stored:
    id: int
    form_id: Optional[int]
    vanished_by: Optional[int]
    ref: Optional[str]


def _stored_responses(session: Session, *, organization_id: int, fiscal_year: int,
                      instrument: Instrument) -> dict[str, _Stored]:
    """Every stored response of the survey by key, in one range scan of the unique index.

    One query whose only sensible plan is the index range (organisation, year, instrument):
    no per-key lookups, so no plan that stale statistics could turn into a nested loop.
    """
    t = SurveyResponse.__table__.c
    rows = session.execute(
        select(t.respondent_key, t.id, t.form_id, t.vanished_by, t.respondent_ref)
        .where(t.organization_id == organization_id, t.fiscal_year == fiscal_year, t.instrument == instrument)
    )
    return {k: _Stored(i, f, v, r) for k, i, f, v, r in rows}


class _EncodedJSON(TypeDecorator):
    """A JSON column whose values arrive already serialised (see :meth:`Codebook.column_tokens`).

    The impl stays JSON so PostgreSQL still gets its ``::JSON`` bind cast; only the serialising
    step is skipped. Reading goes through the model's own JSON type as usual.
    """

    impl = JSON
    cache_ok = True

    def bind_processor(self, dialect):
        return None


_BULK_TABLE = None
_UNIQUE = ("organization_id", "fiscal_year", "instrument", "respondent_key")


def _bulk_table():
    """SurveyResponse's table for executemany, with the answer codes taking JSON text."""
    global _BULK_TABLE
    if _BULK_TABLE is None:
        t = SurveyResponse.__table__
        _BULK_TABLE = table(
            t.name,
            *(column(c.name, _EncodedJSON() if c.name == "answer_codes" else c.type) for c in t.columns),
        )
    return _BULK_TABLE


def _insert_statement(session: Session):
    """INSERT ... ON CONFLICT (the unique key) DO NOTHING RETURNING id, respondent_key."""
    t = _bulk_table()
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return (dialect_insert(t).on_conflict_do_nothing(index_elements=list(_UNIQUE))
            .returning(t.c.id, t.c.respondent_key))


BULK_CACHE_KIB = 200_000  # SQLite page cache while importing (its default is 2,000 KiB)


@contextmanager
def _bulk_cache(session: Session) -> Iterator[None]:
    """On SQLite, a large page cache for the duration of the import, then the old size back.

    With the default 2 MB cache the unique index on respondent_key (random sha256 values) keeps
    spilling half-filled pages to the WAL and writing them again. The pragma is per connection,
    and pooled connections live on, so the size is restored even when the import fails.
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
    """Serialise imports and undos of the same survey, so two at once neither fail nor double rows.

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


def _insert_chunk(session: Session, params: list[dict[str, Any]]) -> dict[str, int]:
    """One executemany of plain dicts; returns {respondent_key: id} of the rows inserted (kept
    separate so tests can make it fail)."""
    if not params:
        return {}
    return {k: i for i, k in session.execute(_insert_statement(session), params)}


def _insert_members(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(SurveyBatchResponse.__table__.insert(), rows)


def _set_vanished(session: Session, ids: Iterable[int], value: Optional[int]) -> None:
    """vanished_by := value for these responses (None: counted again)."""
    ids = sorted(ids)
    t = SurveyResponse.__table__
    for part in _chunks(ids, IN_CHUNK):
        session.execute(update(t).where(t.c.id.in_(part)).values(vanished_by=value))


def _vanished_rows(session: Session, ids: Iterable[int], *, this_batch: Optional[ImportBatch] = None,
                   rows_here: Optional[dict[int, int]] = None) -> list[VanishedRow]:
    """Rows to show for vanished responses: the last file each was seen in (this one for rows of
    this file), its submitted time and department."""
    ids = sorted(ids)
    out: list[VanishedRow] = []
    r, m, b = SurveyResponse.__table__.c, SurveyBatchResponse.__table__.c, ImportBatch.__table__.c
    for part in _chunks(ids, IN_CHUNK):
        seen: dict[int, tuple[Optional[int], str, int]] = {}
        q = (select(m.response_id, m.row_number, b.file_name, b.id)
             .select_from(SurveyBatchResponse.__table__.join(ImportBatch.__table__, b.id == m.batch_id))
             .where(m.response_id.in_(part), b.undone_at.is_(None)).order_by(b.id))
        for rid, row, name, bid in session.execute(q):
            seen[rid] = (row, name, bid)  # the newest batch wins
        for rid, at, dep in session.execute(select(r.id, r.submitted_at, r.department_text).where(r.id.in_(part))):
            row, name, bid = seen.get(rid, (None, "", None))
            if this_batch is not None and rows_here and rid in rows_here:
                row, name, bid = rows_here[rid], this_batch.file_name, this_batch.id
            out.append(VanishedRow(rid, row, name, bid, at, dep or ""))
    out.sort(key=lambda v: (v.submitted_at, v.response_id))
    return out


def _unmatched(rows: Iterable[ParsedRow], resolve) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in rows:
        text = r.department_text
        if not text or resolve(text) is None:
            label = text or NO_DEPARTMENT
            counts[label] = counts.get(label, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _unique_rows(rows: Sequence[ParsedRow]) -> tuple[list[ParsedRow], list[str]]:
    """Rows with repeats inside the file dropped, and their keys."""
    seen: set[str] = set()
    unique, keys = [], []
    for r in rows:
        k = respondent_key(r)
        if k not in seen:
            seen.add(k)
            unique.append(r)
            keys.append(k)
    return unique, keys


# ---------------------------------------------------------------------------------------------
# Import


def _params(rows: Sequence[ParsedRow], keys: Sequence[str], refs: Sequence[Optional[str]],
            vanished: Sequence[Optional[int]], *, base: dict[str, Any], questions: Sequence[str], resolve,
            scorer: _Scorer, codebook: Codebook) -> list[dict[str, Any]]:
    """Insert parameters of new rows: answers coded and scored column by column."""
    n = len(rows)
    dicts = [r.answers for r in rows]
    columns = [list(map(dict.get, dicts, itertools.repeat(q, n))) for q in questions]
    scores = scorer.scores(columns, n)
    tokens = [codebook.column_tokens(q, texts) for q, texts in zip(questions, columns)]
    # Positions of the form this file does not have stay "0" (the list is as long as the form).
    width = len(codebook.questions)
    by_position: list[Any] = [["0"] * n] * width
    for q, col_tokens in zip(questions, tokens):
        by_position[codebook.position[q]] = col_tokens
    codes = ["[" + ",".join(t) + "]" for t in zip(*by_position)] if width else ["[]"] * n
    resolved: dict[str, Optional[int]] = {}
    out = []
    for row, key, ref, gone, s, c in zip(rows, keys, refs, vanished, scores, codes):
        dep = row.department_text
        if dep not in resolved:
            resolved[dep] = resolve(dep) if dep else None
        out.append({
            **base,
            "submitted_at": row.submitted_at,
            "submitted_on": row.submitted_at.astimezone(BANGKOK).date(),
            "department_id": resolved[dep],
            "department_text": dep,
            "respondent_key": key,
            "respondent_ref": ref,
            "answer_codes": c,
            "score": s[0],
            "indicator_score_1": s[1],
            "indicator_score_2": s[2],
            "indicator_score_3": s[3],
            "indicator_score_4": s[4],
            "indicator_score_5": s[5],
            "vanished_by": gone,
        })
    return out


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
    """Store a parsed export as one ImportBatch and bring its form's state up to date; see the
    module docstring.

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
    assert batch.id is not None

    unique, keys = _unique_rows(rows)
    repeats = len(rows) - len(unique)
    resolve = _resolver(session, organization_id).resolve
    counts = {"new": 0, "changed": 0, "unchanged": 0}
    vanished_rows: list[VanishedRow] = []
    if unique and fy is not None:
        _one_import_at_a_time(session, organization_id=organization_id, fiscal_year=fy, instrument=instrument)
        form = form_for(session, organization_id=organization_id, fiscal_year=fy, instrument=instrument,
                        signature=parsed.signature, questions=parsed.answer_columns)
        batch.form_id = form.id
        with _bulk_cache(session):
            counts, vanished_rows = _store(session, batch=batch, form=form, parsed=parsed, unique=unique, keys=keys,
                                           resolve=resolve)

    imported = counts["new"] + counts["changed"]
    batch.imported_count = imported
    batch.duplicate_count = len(rows) - imported
    batch.new_count, batch.changed_count, batch.unchanged_count = counts["new"], counts["changed"], counts["unchanged"]
    batch.vanished_count = len(vanished_rows)
    session.add(batch)
    unmatched = _unmatched(unique, resolve)
    line = {"read": parsed.read_count, "imported": imported, "duplicate": len(rows) - imported,
            "rejected": len(rejected)}
    state = {**counts, "vanished": len(vanished_rows)}
    audit.record(
        session, user_id=user_id, action="survey.import", entity="import_batch", entity_id=batch.id,
        organization_id=organization_id,
        after={**line, **state, "repeated_in_file": repeats, "file_name": file_name, "instrument": instrument.value,
               "fiscal_year": fy, "form_id": batch.form_id, "sheet": parsed.sheet_name, "mapping": parsed.mapping_used,
               "unmatched_departments": unmatched,
               "vanished_rows": [{"response_id": v.response_id, "row": v.row, "file": v.file_name}
                                 for v in vanished_rows[:200]]},
    )
    session.flush()
    return ImportResult(batch_id=batch.id, fiscal_year=fy, unmatched_departments=unmatched, rejected_rows=rejected,
                        vanished_rows=vanished_rows, **line, **state)


def _store(session: Session, *, batch: ImportBatch, form: SurveyForm, parsed: ParsedSurvey,
           unique: list[ParsedRow], keys: list[str], resolve) -> tuple[dict[str, int], list[VanishedRow]]:
    """Insert the new rows, record the batch's membership, apply the state rule; returns the
    new/changed/unchanged counts and the vanished rows."""
    fy, instrument, org_id = batch.fiscal_year, Instrument(batch.kind.removeprefix("survey_")), batch.organization_id
    stored = _stored_responses(session, organization_id=org_id, fiscal_year=fy, instrument=instrument)
    refs = response_refs(unique, parsed.id_columns)
    at_of = {k: r.submitted_at for k, r in zip(keys, unique)}

    # The form's state before, and this file's rows that belong to the form (new, or stored
    # under it), as member -> (identity, submitted time); members are respondent keys here.
    state: dict[str, tuple[Optional[str], dt.datetime]] = {}
    newest_state = None
    mine = [k for k, s in stored.items() if s.form_id == form.id and s.vanished_by is None]
    if mine:
        newest_state = session.execute(
            select(func.max(SurveyResponse.submitted_at)).where(
                SurveyResponse.organization_id == org_id, SurveyResponse.fiscal_year == fy,
                SurveyResponse.instrument == instrument, SurveyResponse.form_id == form.id, counted())
        ).scalar_one()
        # Only the newest time of the state matters to the rule: every member gets it here,
        # the one that really has it included (the rule reads max()).
        state = {k: (stored[k].ref, newest_state) for k in mine}
    in_form: dict[str, tuple[Optional[str], dt.datetime]] = {}
    for k, ref in zip(keys, refs):
        s = stored.get(k)
        if s is None:
            in_form[k] = (ref, at_of[k])
        elif s.form_id == form.id:
            in_form[k] = (s.ref, at_of[k])
    step = next_state(state, in_form)

    # New rows: inserted under the form, flagged at once when the state leaves them out.
    codebook = Codebook(form)
    scorer = _Scorer(fiscal_year=fy, instrument=instrument.value, questions=parsed.answer_columns)
    base = {"organization_id": org_id, "fiscal_year": fy, "instrument": instrument, "form_id": form.id,
            "import_batch_id": batch.id}
    fresh = [(r, k, ref) for r, k, ref in zip(unique, keys, refs) if k not in stored]
    ids: dict[str, int] = {k: s.id for k, s in stored.items()}
    for chunk in _chunks(fresh, CHUNK_SIZE):
        params = _params([r for r, _, _ in chunk], [k for _, k, _ in chunk], [ref for _, _, ref in chunk],
                         [batch.id if k in step.left_out else None for _, k, _ in chunk],
                         base=base, questions=parsed.answer_columns, resolve=resolve, scorer=scorer, codebook=codebook)
        got = _insert_chunk(session, params) or {}
        if len(got) < len(params):  # stored meanwhile by someone not holding the lock: take theirs
            missing = [p["respondent_key"] for p in params if p["respondent_key"] not in got]
            t = SurveyResponse.__table__.c
            for part in _chunks(missing, IN_CHUNK):
                got.update(session.execute(select(t.respondent_key, t.id).where(
                    t.organization_id == org_id, t.fiscal_year == fy, t.instrument == instrument,
                    t.respondent_key.in_(part))).all())
        ids.update(got)
    codebook.save(session)

    for chunk in _chunks(list(zip(keys, unique)), CHUNK_SIZE):
        _insert_members(session, [{"batch_id": batch.id, "response_id": ids[k], "row_number": r.row_number}
                                  for k, r in chunk])

    # Stored rows of the form whose counting changes.
    _set_vanished(session, (ids[k] for k in step.dropped), batch.id)
    _set_vanished(session, (ids[k] for k in step.state if k in stored and stored[k].vanished_by is not None), None)
    _set_vanished(session, (ids[k] for k in step.left_out if k in stored), batch.id)

    new = changed = unchanged = 0
    uncounted_here: dict[int, int] = {}
    old_versions = set(step.replaced.values())
    for k, r in zip(keys, unique):
        s = stored.get(k)
        if k in step.state:
            before = s is not None and s.vanished_by is None and k in state
            if before:
                unchanged += 1
            elif k in step.replaced:
                changed += 1
            else:
                new += 1
        elif s is not None and s.form_id != form.id:
            if s.vanished_by is None:
                unchanged += 1  # counted under the form that first stored it
            else:
                uncounted_here[s.id] = r.row_number
        else:
            uncounted_here[ids[k]] = r.row_number
    gone = {ids[k] for k in step.dropped if k not in old_versions} | set(uncounted_here)
    vanished = _vanished_rows(session, gone, this_batch=batch, rows_here=uncounted_here)
    return {"new": new, "changed": changed, "unchanged": unchanged}, vanished


# ---------------------------------------------------------------------------------------------
# Replay and undo


def replay_form(session: Session, *, form_id: int) -> dict[str, int]:
    """Recompute a form's counted rows from its batches that are not undone (see the module
    docstring) and write the flags that differ; returns how many rows were counted again and how
    many stopped counting."""
    b, m, r = ImportBatch.__table__.c, SurveyBatchResponse.__table__.c, SurveyResponse.__table__.c
    batches = list(session.execute(
        select(b.id).where(b.form_id == form_id, b.undone_at.is_(None)).order_by(b.id)).scalars())
    members: dict[int, dict[int, tuple[Optional[str], dt.datetime]]] = {bid: {} for bid in batches}
    rows = session.execute(
        select(m.batch_id, r.id, r.respondent_ref, r.submitted_at)
        .select_from(SurveyBatchResponse.__table__.join(SurveyResponse.__table__, r.id == m.response_id)
                     .join(ImportBatch.__table__, b.id == m.batch_id))
        .where(b.form_id == form_id, b.undone_at.is_(None), r.form_id == form_id))
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
        _set_vanished(session, ids, value)
    return {"counted_again": again, "stopped_counting": stopped}


def _move_to_form(session: Session, ids: list[int], form_id: int) -> None:
    """Hand responses to another form: their answer codes re-coded against it (nothing lost)."""
    from ..models import decode_answers

    target = Codebook(session.get(SurveyForm, form_id))
    forms: dict[int, Optional[SurveyForm]] = {}
    t = SurveyResponse.__table__.c
    for part in _chunks(sorted(ids), IN_CHUNK):
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
    if batch is None or not batch.kind.startswith("survey_"):
        raise SurveyImportError("ไม่พบรายการนำเข้าแบบสำรวจนี้")
    if batch.undone_at is not None:
        raise SurveyImportError("รายการนำเข้านี้ถูกยกเลิกไปแล้ว")
    if batch.fiscal_year is not None:
        _one_import_at_a_time(session, organization_id=batch.organization_id, fiscal_year=batch.fiscal_year,
                              instrument=Instrument(batch.kind.removeprefix("survey_")))
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
    for part in _chunks(members, IN_CHUNK):
        q = (select(m.c.response_id, b.c.id, b.c.form_id).select_from(m.join(b, b.c.id == m.c.batch_id))
             .where(m.c.response_id.in_(part), b.c.undone_at.is_(None)).order_by(b.c.id.desc()))
        for rid, bid, fid in session.execute(q):
            holder[rid] = (bid, fid)  # ascending ids overwrite: the earliest wins
    orphans = sorted(set(members) - set(holder))
    deleted = 0
    for part in _chunks(orphans, IN_CHUNK):
        deleted += session.execute(delete(r).where(r.c.id.in_(part))).rowcount or 0
    forms = {batch.form_id} if batch.form_id is not None else set()
    current: dict[int, tuple[Optional[int], Optional[int]]] = {}
    for part in _chunks(sorted(holder), IN_CHUNK):
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
        for part in _chunks(sorted(ids), IN_CHUNK):
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
    r = SurveyResponse.__table__.c
    q = select(r.id).where(r.organization_id == organization_id, r.vanished_by.is_not(None))
    if fiscal_year is not None:
        q = q.where(r.fiscal_year == fiscal_year)
    if batch_id is not None:
        q = q.where(r.vanished_by == batch_id)
    ids = list(session.execute(q.order_by(r.id).limit(limit)).scalars())
    return _vanished_rows(session, ids)


# ---------------------------------------------------------------------------------------------
# Aliases, remembered mappings, rejected rows


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
    resolver = _resolver(session, organization_id)
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
    audit.record(
        session, user_id=user_id, action="department.alias", entity="department", entity_id=department_id,
        organization_id=organization_id, before={"aliases": before},
        after={"aliases": list(dep.aliases or []), "written": written, "responses_resolved": updated},
    )
    session.flush()
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
