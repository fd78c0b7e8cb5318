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

**Transactions.** A file with rows is written on the import's own connection
(services/survey_staging.py), the caller's transaction committed first. On SQLite the rows go in
chunk by chunk, each chunk a short write transaction, under a ``staging`` batch (hidden: counted
nowhere), and one short transaction flips the batch to ``done`` and applies the rule above, so
other writers get in between chunks and the import stays all or nothing: when anything fails
half-way the batch and its rows are deleted (or, if the process died, by the next import of the
survey or at app start). On PostgreSQL it is one transaction (other writers do not wait for it).
Imports and undos of one (organisation, year, instrument) are serialised (SQLite: the staging
batch's lease; PostgreSQL: an advisory lock).

Speed: the stored keys of the survey are read in one range scan of the unique index (no per-key
lookups whose plan depends on the planner's statistics); answers are coded and scored column by
column (each distinct answer text looked up once, numpy for scores); new rows go straight to the
driver with their ids assigned ahead (SQLite: max(id) + 1 under the chunk's write lock;
PostgreSQL: the table's sequence) through ``INSERT ... ON CONFLICT DO NOTHING`` (PostgreSQL: COPY
into a stage, then one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``), so the unique key has the
last word whatever the statistics say. :func:`import_survey_file` (the command line) recognises a
file imported before (same bytes, mapping and reader code) and does not read it again.
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
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterable, Iterator, Optional, Sequence

from sqlalchemy import delete, func, select, text as sql_text, update
from sqlmodel import Session, col

from ..errors import ItaError
from ..texts import t
from .. import audit
from ..departments import DepartmentResolver, normalize_name
from ..importers.surveys import BANGKOK, NO_DEPARTMENT, ParsedRow, ParsedSurvey
from ..models import (
    BatchKind,
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
from . import survey_staging
from .survey_staging import DONE, STAGING, Staging

CHUNK_SIZE = 5000
INDICATOR_SLOTS = 5  # SurveyResponse.indicator_score_1..5
IN_CHUNK = 900  # ids per IN (...) list: below SQLite's oldest parameter limit


class SurveyImportError(ItaError, ValueError):
    """A request the import service refuses; ``str(exc)`` is a message for the user (Thai)."""

    codes: ClassVar[tuple[str, ...]] = (
        "survey_import_bad_instrument", "survey_import_batch_not_found", "survey_import_already_undone",
        "survey_import_empty_alias", "survey_import_department_not_found",
    )


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
                "reason": t("survey_reject_other_year", date=f"{day.day}/{day.month}/{day.year + 543}",
                            year=fiscal_year),
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

    def value(self, text: Optional[str]) -> float:
        """The score of one answer text (NaN when it is on no scale of the year)."""
        v = self.values.get(text)
        if v is None:
            score = self._fw.score_answer(text) if self.slots and isinstance(text, str) else None
            v = self.values[text] = float("nan") if score is None else float(score)
        return v

    def scores(self, matrix, n: int) -> list[list[Optional[float]]]:
        """Per response: [score, slot1, ..., slot5], from the (questions x responses) answer scores."""
        if not self.slots or not n:
            return [[None] * (INDICATOR_SLOTS + 1) for _ in range(n)]
        import numpy as np

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

    def tokens(self, question: str, distinct: Sequence[Optional[str]]) -> list[str]:
        """The JSON token of each of these answers (None = not answered: "0")."""
        i = self.index(question)
        out = []
        for text in distinct:
            c = 0 if text is None else self.code(i, text)
            out.append(str(c) if isinstance(c, int) else _dumps(c))
        return out

    def column_tokens(self, question: str, texts: Sequence[Optional[str]]) -> list[str]:
        """One column of parsed answers (None = not answered) as JSON tokens of their codes."""
        distinct = list(dict.fromkeys(texts))  # first-seen order: codes do not depend on hashing
        table = dict(zip(distinct, self.tokens(question, distinct)))
        return list(map(table.__getitem__, texts))

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


def _stored_responses(session: Session, *, organization_id: int, fiscal_year: int,
                      instrument: Instrument) -> dict[str, tuple[int, Optional[int], Optional[int], Optional[str]]]:
    """Every stored response of the survey by key, in one range scan of the unique index.

    One query whose only sensible plan is the index range (organisation, year, instrument):
    no per-key lookups, so no plan that stale statistics could turn into a nested loop.
    """
    cur = session.connection().connection.driver_connection.cursor()
    try:
        cur.execute(_STORED_SQL[session.get_bind().dialect.name], (organization_id, fiscal_year, instrument.value))
        # key -> (id, form_id, vanished_by, respondent_ref)
        return {row[0]: row[1:] for row in cur.fetchall()}
    finally:
        cur.close()


# Columns of a new response row, in the order _params() gives them.
COLUMNS = ("id", "organization_id", "fiscal_year", "instrument", "submitted_at", "submitted_on", "department_id",
           "department_text", "respondent_key", "respondent_ref", "form_id", "answer_codes", "score",
           "indicator_score_1", "indicator_score_2", "indicator_score_3", "indicator_score_4", "indicator_score_5",
           "import_batch_id", "vanished_by")
_UNIQUE = "organization_id, fiscal_year, instrument, respondent_key"
# The statements of the bulk path: constant text, every value a parameter.
_COLS = ", ".join(COLUMNS)
_SQLITE_INSERT = (f"INSERT INTO surveyresponse ({_COLS}) VALUES ({', '.join('?' * len(COLUMNS))}) "
                  f"ON CONFLICT ({_UNIQUE}) DO NOTHING")
_PG_STAGE = f"CREATE TEMP TABLE IF NOT EXISTS survey_stage AS SELECT {_COLS} FROM surveyresponse WITH NO DATA"
_PG_COPY = f"COPY survey_stage ({_COLS}) FROM STDIN"
_PG_INSERT = f"INSERT INTO surveyresponse ({_COLS}) SELECT {_COLS} FROM survey_stage ON CONFLICT ({_UNIQUE}) DO NOTHING"
_STORED = ("SELECT respondent_key, id, form_id, vanished_by, respondent_ref FROM surveyresponse "
           "WHERE organization_id = {0} AND fiscal_year = {0} AND instrument = {0}")
_STORED_SQL = {"sqlite": _STORED.format("?"), "postgresql": _STORED.format("%s")}


class _Writer:
    """Rows straight to the driver (executemany / COPY): the ORM's per-value processing costs more
    than the database's own work at 100,000 rows. Values are made exactly as the model's types
    would store them (the dialect's own bind processors for dates on SQLite)."""

    def __init__(self, session: Session):
        self.session = session
        self.conn = session.connection()
        self.dialect = self.conn.dialect
        self.pg = self.dialect.name == "postgresql"
        c = SurveyResponse.__table__.c
        if self.pg:
            self.at = self.day = None
        else:
            self.at = c.submitted_at.type._cached_bind_processor(self.dialect)
            self.day = c.submitted_on.type._cached_bind_processor(self.dialect)
        self.staged = False

    @classmethod
    def current(cls, session: Session) -> "_Writer":
        """The writer of this session's import (one per transaction)."""
        w = session.info.get("survey_writer")
        if w is None or w.conn is not session.connection():
            w = session.info["survey_writer"] = cls(session)
        return w

    def cursor(self):
        return self.conn.connection.driver_connection.cursor()

    def next_ids(self, n: int) -> list[int]:
        """Ids for ``n`` new responses. SQLite: the import holds the database's write lock (its batch
        row is written), so max(id) + 1 ... is free; PostgreSQL: from the table's own sequence."""
        if not n:
            return []
        if self.pg:
            rows = self.conn.exec_driver_sql(
                "SELECT nextval(pg_get_serial_sequence('surveyresponse', 'id')) FROM generate_series(1, %(n)s)",
                {"n": n}).scalars().all()
            return list(rows)
        first = (self.conn.exec_driver_sql("SELECT MAX(id) FROM surveyresponse").scalar() or 0) + 1
        return list(range(first, first + n))

    def insert(self, rows: list[tuple]) -> int:
        """INSERT ... ON CONFLICT (the unique key) DO NOTHING; returns how many were inserted."""
        cur = self.cursor()
        try:
            if not self.pg:
                cur.executemany(_SQLITE_INSERT, rows)
                return cur.rowcount
            # PostgreSQL: COPY into a session-local stage, then one INSERT ... SELECT that lets the
            # unique index decide (ON CONFLICT DO NOTHING), whatever the planner's statistics say.
            if not self.staged:
                cur.execute(_PG_STAGE)
                self.staged = True
            cur.execute("TRUNCATE survey_stage")
            with cur.copy(_PG_COPY) as copy:
                for row in rows:
                    copy.write_row(row)
            cur.execute(_PG_INSERT)
            return cur.rowcount
        finally:
            cur.close()

    def members(self, rows: list[tuple[int, int, int]]) -> None:
        if not rows:
            return
        cur = self.cursor()
        try:
            if self.pg:
                with cur.copy("COPY surveybatchresponse (batch_id, response_id, row_number) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                cur.executemany("INSERT INTO surveybatchresponse (batch_id, response_id, row_number) VALUES (?, ?, ?)",
                                rows)
        finally:
            cur.close()

    def finish(self) -> None:
        if self.staged:
            self.conn.exec_driver_sql("DROP TABLE IF EXISTS survey_stage")
            self.staged = False


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


def _insert_chunk(session: Session, params: list[tuple]) -> int:
    """One chunk of new rows (tuples in COLUMNS order); returns how many went in (kept separate so
    tests can make it fail)."""
    if not params:
        return 0
    return _Writer.current(session).insert(params)


def _ids_of(session: Session, org_id: int, fy: int, instrument: Instrument, keys: Sequence[str]) -> dict[str, int]:
    t = SurveyResponse.__table__.c
    out: dict[str, int] = {}
    for part in _chunks(list(keys), IN_CHUNK):
        out.update((k, i) for k, i in session.execute(select(t.respondent_key, t.id).where(
            t.organization_id == org_id, t.fiscal_year == fy, t.instrument == instrument, t.respondent_key.in_(part))))
    return out


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
             .where(m.response_id.in_(part), b.undone_at.is_(None), b.state == DONE).order_by(b.id))
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
    """Rows with repeats inside the file dropped, and their keys (respondent_key, inlined: this
    runs for every row of a 100,000-row file)."""
    seen: set[str] = set()
    unique, keys = [], []
    sha, join, bkk = hashlib.sha256, "\x1f".join, BANGKOK
    for r in rows:
        when = r.submitted_at
        if when.tzinfo is not bkk and when.tzinfo is not None:
            when = when.astimezone(bkk)
        # isoformat()[:19]: to the second, without the offset (as respondent_key writes it)
        k = sha(join((when.isoformat()[:19], r.department_text, *r.ids.values(), "\x1e",
                      *r.answers.values())).encode("utf-8")).hexdigest()
        if k not in seen:
            seen.add(k)
            unique.append(r)
            keys.append(k)
    return unique, keys


# ---------------------------------------------------------------------------------------------
# Import


_SEVEN_HOURS = dt.timedelta(hours=7)


def _params(rows: Sequence[ParsedRow], keys: Sequence[str], refs: Sequence[Optional[str]], ids: Sequence[int],
            vanished: Sequence[Optional[int]], *, base: tuple, batch_id: int, questions: Sequence[str], resolve,
            scorer: _Scorer, codebook: Codebook, writer: "_Writer") -> list[tuple]:
    """New rows as tuples in COLUMNS order. Answers are coded and scored column by column: each
    distinct answer text of a column is looked up once, then numpy spreads the results."""
    import numpy as np

    n = len(rows)
    dicts = [r.answers for r in rows]
    width = len(codebook.questions)
    zeros = ["0"] * n
    by_position: list[Any] = [zeros] * width
    matrix = np.empty((len(questions), n), dtype=np.float64)
    for i, q in enumerate(questions):
        texts = list(map(dict.get, dicts, itertools.repeat(q, n)))
        distinct = list(dict.fromkeys(texts))  # first-seen order: codes do not depend on hashing
        index = {t: j for j, t in enumerate(distinct)}
        at = np.fromiter(map(index.__getitem__, texts), dtype=np.intp, count=n)
        matrix[i] = np.array([scorer.value(t) for t in distinct], dtype=np.float64)[at]
        tokens = np.array(codebook.tokens(q, distinct), dtype=object)[at].tolist()
        j = codebook.position[q]
        if j >= len(by_position):
            by_position.extend([zeros] * (j + 1 - len(by_position)))
        by_position[j] = tokens
    scores = scorer.scores(matrix, n)
    codes = ["[" + ",".join(t) + "]" for t in zip(*by_position)] if by_position else ["[]"] * n
    resolved: dict[str, Optional[int]] = {}
    days: dict[Any, Any] = {}
    day_of = writer.day
    pg = writer.pg
    form_id = codebook.form.id
    out = []
    for row, key, ref, rid, gone, s, c in zip(rows, keys, refs, ids, vanished, scores, codes):
        dep = row.department_text
        if dep not in resolved:
            resolved[dep] = resolve(dep) if dep else None
        at = row.submitted_at
        if at.tzinfo is BANGKOK and at.year > 1920:  # the parser's local time (UTC+7 since 1920)
            local = at.replace(tzinfo=None)
            day = local.date()
            if pg:
                when = at
            else:  # as the model's UTCDateTime stores it on SQLite: naive UTC text
                when = (local - _SEVEN_HOURS).isoformat(" ")
                when = when + ".000000" if len(when) == 19 else when
        else:
            day = at.astimezone(BANGKOK).date()
            when = at if pg else writer.at(at)
        if day not in days:
            days[day] = day if pg else day_of(day)
        out.append((rid, *base, when, days[day], resolved[dep], dep, key, ref, form_id, c, *s, batch_id, gone))
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
    parse_key: Optional[str] = None,
    progress: Optional[Callable[[int, int], None]] = None,
) -> ImportResult:
    """Store a parsed export as one ImportBatch and bring its form's state up to date; see the
    module docstring. ``parse_key`` (see :func:`import_survey_file`) lets the same file, read
    the same way, be recognised later without reading it again. ``progress(done, total)`` is
    called after each of the import's write transactions (one or more chunks, see
    ``survey_staging.HOLD_S``), outside it.

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
        rows, outside = _split_by_year(parsed.rows, fy, parsed.timestamp_column)
        rejected.extend(outside)
    rejected.sort(key=lambda r: r["row"])

    batch = ImportBatch(
        organization_id=organization_id, fiscal_year=fy, kind=BatchKind.survey(instrument),
        file_name=file_name or "", sha256=hashlib.sha256(file_bytes).hexdigest(), size_bytes=len(file_bytes),
        user_id=user_id, read_count=parsed.read_count, rejected_count=len(rejected), rejected_rows=rejected,
        parse_key=parse_key,
    )
    unique, keys = _unique_rows(rows)
    audit_extra = {"repeated_in_file": len(rows) - len(unique), "sheet": parsed.sheet_name,
                   "mapping": parsed.mapping_used}
    if not unique or fy is None:  # nothing to store: one short transaction, the caller's
        session.add(batch)
        session.flush()
        unmatched = _unmatched(unique, _resolver(session, organization_id).resolve)
        return _finish(session, batch=batch, user_id=user_id, accepted=len(rows),
                       counts={"new": 0, "changed": 0, "unchanged": 0}, vanished_rows=[], unmatched=unmatched,
                       audit_extra=audit_extra)

    def work(st: Staging) -> ImportResult:
        s = st.session
        form = form_for(s, organization_id=organization_id, fiscal_year=fy, instrument=instrument,
                        signature=parsed.signature, questions=parsed.answer_columns)
        batch.form_id = form.id
        s.add(batch)
        s.flush()
        st.clean_abandoned()
        resolve = _resolver(s, organization_id).resolve
        counts, vanished_rows = _store(st, batch=batch, form=form, parsed=parsed, unique=unique, keys=keys,
                                       resolve=resolve, progress=progress)
        return _finish(s, batch=batch, user_id=user_id, accepted=len(rows), counts=counts,
                       vanished_rows=vanished_rows, unmatched=_unmatched(unique, resolve), audit_extra=audit_extra)

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
        with _bulk_cache(st.session):
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
    stored = _stored_responses(session, organization_id=org_id, fiscal_year=fy, instrument=instrument)
    refs = response_refs(unique, parsed.id_columns)
    state, step = _next_step(session, form=form, stored=stored,
                             rows=[(k, ref, r.submitted_at) for k, ref, r in zip(keys, refs, unique)])
    st.commit()

    writer = _Writer.current(session)
    codebook = Codebook(form)
    base = (org_id, fy, instrument.value)
    fresh = [(r, k, ref) for r, k, ref in zip(unique, keys, refs) if k not in stored]
    ids: dict[str, int] = {k: s[0] for k, s in stored.items()}
    rows = [(k, r.row_number) for k, r in zip(keys, unique)]
    total, done = len(rows), 0
    if fresh:
        scorer = _Scorer(fiscal_year=fy, instrument=instrument.value, questions=parsed.answer_columns)
        last = (len(fresh) - 1) // CHUNK_SIZE
        for number, chunk in enumerate(_chunks(fresh, CHUNK_SIZE)):
            chunk_keys = [k for _, k, _ in chunk]
            n = len(chunk)
            # Coded and scored before its rows are written (in the gap before a write transaction,
            # or inside one that goes on); ids are only known under the lock (SQLite).
            hidden = [batch.id] * n if st.chunked else [batch.id if k in step.left_out else None for k in chunk_keys]
            params = _params([r for r, _, _ in chunk], chunk_keys, [ref for _, _, ref in chunk], [0] * n,
                             hidden, base=base, batch_id=batch.id, questions=parsed.answer_columns,
                             resolve=resolve, scorer=scorer, codebook=codebook, writer=writer)
            st.chunk_begins()
            chunk_ids = writer.next_ids(n)
            params = [(i, *p[1:]) for i, p in zip(chunk_ids, params)]
            inserted = _insert_chunk(session, params)
            got = dict(zip(chunk_keys, chunk_ids))
            if inserted != len(params):  # stored meanwhile by someone not holding the lease: take theirs
                got = _ids_of(session, org_id, fy, instrument, chunk_keys)
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
        _set_vanished(session, [ids[k] for _, k, _ in fresh if k in step.left_out], batch.id)
    codebook.save(session)
    return _settle(session, batch=batch, form=form, stored=stored, ids=ids, state=state, step=step, rows=rows,
                   members=False)


def _members(st: Staging, *, batch: ImportBatch, ids: dict[str, int], rows: list[tuple[str, Optional[int]]],
             progress: Optional[Callable[[int, int], None]] = None, done: int = 0, total: int = 0) -> None:
    """The staging batch's membership (key, row number), chunk by chunk in short transactions:
    invisible until the flip (every reader of membership joins batches that are ``done``)."""
    writer = _Writer.current(st.session)
    last = (len(rows) - 1) // (CHUNK_SIZE * 4)
    for number, chunk in enumerate(_chunks(rows, CHUNK_SIZE * 4)):
        st.chunk_begins()
        writer.members([(batch.id, ids[k], row) for k, row in chunk])
        done += len(chunk)
        if st.chunk_done(last=number == last) and progress is not None:
            progress(done, total or len(rows))


def _next_step(session: Session, *, form: SurveyForm, stored: dict[str, tuple],
               rows: Iterable[tuple[str, Optional[str], dt.datetime]]) -> tuple[dict, _Step]:
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
            ids: dict[str, int], state: dict, step: _Step, rows: list[tuple[str, Optional[int]]],
            members: bool = True) -> tuple[dict[str, int], list[VanishedRow]]:
    """Record the batch's rows (key, row number) unless ``members`` is False (already written),
    write the flags the step changes, count."""
    writer = _Writer.current(session)
    if members:
        for chunk in _chunks(rows, CHUNK_SIZE * 4):
            writer.members([(batch.id, ids[k], row) for k, row in chunk])
    writer.finish()
    _set_vanished(session, (ids[k] for k in step.dropped), batch.id)
    _set_vanished(session, [ids[k] for k in step.state if k in stored and stored[k][2] is not None], None)
    _set_vanished(session, (ids[k] for k in step.left_out if k in stored), batch.id)

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
    vanished = _vanished_rows(session, gone, this_batch=batch, rows_here=uncounted_here)
    return {"new": new, "changed": changed, "unchanged": unchanged}, vanished


# ---------------------------------------------------------------------------------------------
# The same file again


_PARSER_FINGERPRINT: Optional[str] = None


def parser_sources() -> list[Path]:
    """The code that decides how a file reads: every module of ``importers/`` (sub-packages
    included: the survey reader is ``importers/surveys/``) and of ``thai/`` (dates, digits)."""
    package = Path(__file__).resolve().parent.parent
    return sorted(p for folder in ("importers", "thai") for p in (package / folder).rglob("*.py"))


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
        stored = _stored_responses(session, organization_id=batch.organization_id, fiscal_year=batch.fiscal_year,
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
        unmatched: dict[str, int] = {}
        for _, _, text in members:
            if not text or resolve(text) is None:
                label = text or NO_DEPARTMENT
                unmatched[label] = unmatched.get(label, 0) + 1
        unmatched = dict(sorted(unmatched.items(), key=lambda kv: (-kv[1], kv[0])))
        return _finish(session, batch=batch, user_id=user_id, accepted=accepted, counts=counts,
                       vanished_rows=vanished_rows, unmatched=unmatched, audit_extra={"same_file_as_batch": earlier_id})

    return _staged(session, batch=batch, work=work)


# ---------------------------------------------------------------------------------------------
# Replay and undo


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
    for part in _chunks(members, IN_CHUNK):
        q = (select(m.c.response_id, b.c.id, b.c.form_id).select_from(m.join(b, b.c.id == m.c.batch_id))
             .where(m.c.response_id.in_(part), b.c.undone_at.is_(None), b.c.state == DONE).order_by(b.c.id.desc()))
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
    r, b = SurveyResponse.__table__.c, ImportBatch.__table__.c
    # Rows of an import still being written (a staging batch) are hidden the same way: not listed.
    q = (select(r.id).join_from(SurveyResponse.__table__, ImportBatch.__table__, b.id == r.vanished_by)
         .where(r.organization_id == organization_id, b.state == DONE))
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
