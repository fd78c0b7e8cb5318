"""The survey import's database side: stored keys, new rows straight to the driver, flags, lists.

Speed: the stored keys of the survey are read in one range scan of the unique index (no per-key
lookups whose plan depends on the planner's statistics); answers are coded and scored column by
column (each distinct answer text looked up once, numpy for scores); new rows go straight to the
driver with their ids assigned ahead (SQLite: max(id) + 1 under the chunk's write lock;
PostgreSQL: the table's sequence) through ``INSERT ... ON CONFLICT DO NOTHING`` (PostgreSQL: COPY
into a stage, then one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``), so the unique key has the
last word whatever the statistics say.
"""

from __future__ import annotations

import datetime as dt
import itertools
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Optional, Sequence

from sqlalchemy import select, update
from sqlmodel import Session

from ..importers.surveys import BANGKOK, ParsedRow
from ..models import ImportBatch, Instrument, SurveyBatchResponse, SurveyResponse
from .survey_forms import Codebook
from .survey_scores import Scorer
from .survey_staging import DONE


IN_CHUNK = 900  # ids per IN (...) list: below SQLite's oldest parameter limit


def in_chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def stored_responses(session: Session, *, organization_id: int, fiscal_year: int,
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


# Columns of a new response row, in the order new_row_params() gives them.
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


class Writer:
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
    def current(cls, session: Session) -> "Writer":
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
def bulk_cache(session: Session) -> Iterator[None]:
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


def ids_of(session: Session, org_id: int, fy: int, instrument: Instrument, keys: Sequence[str]) -> dict[str, int]:
    t = SurveyResponse.__table__.c
    out: dict[str, int] = {}
    for part in in_chunks(list(keys), IN_CHUNK):
        out.update((k, i) for k, i in session.execute(select(t.respondent_key, t.id).where(
            t.organization_id == org_id, t.fiscal_year == fy, t.instrument == instrument, t.respondent_key.in_(part))))
    return out


def set_vanished(session: Session, ids: Iterable[int], value: Optional[int]) -> None:
    """vanished_by := value for these responses (None: counted again)."""
    ids = sorted(ids)
    t = SurveyResponse.__table__
    for part in in_chunks(ids, IN_CHUNK):
        session.execute(update(t).where(t.c.id.in_(part)).values(vanished_by=value))


@dataclass
class VanishedRow:
    """A response no longer counted: where it was last seen, when it was submitted, for whom."""

    response_id: int
    row: Optional[int]  # row number in ``file_name`` (None for rows stored before batches kept rows)
    file_name: str
    batch_id: Optional[int]  # the batch whose file held it last
    submitted_at: dt.datetime  # aware
    department_text: str


def vanished_rows_of(session: Session, ids: Iterable[int], *, this_batch: Optional[ImportBatch] = None,
                   rows_here: Optional[dict[int, int]] = None) -> list[VanishedRow]:
    """Rows to show for vanished responses: the last file each was seen in (this one for rows of
    this file), its submitted time and department."""
    ids = sorted(ids)
    out: list[VanishedRow] = []
    r, m, b = SurveyResponse.__table__.c, SurveyBatchResponse.__table__.c, ImportBatch.__table__.c
    for part in in_chunks(ids, IN_CHUNK):
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


SEVEN_HOURS = dt.timedelta(hours=7)


def new_row_params(rows: Sequence[ParsedRow], keys: Sequence[str], refs: Sequence[Optional[str]], ids: Sequence[int],
            vanished: Sequence[Optional[int]], *, base: tuple, batch_id: int, questions: Sequence[str], resolve,
            scorer: Scorer, codebook: Codebook, writer: "Writer") -> list[tuple]:
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
                when = (local - SEVEN_HOURS).isoformat(" ")
                when = when + ".000000" if len(when) == 19 else when
        else:
            day = at.astimezone(BANGKOK).date()
            when = at if pg else writer.at(at)
        if day not in days:
            days[day] = day if pg else day_of(day)
        out.append((rid, *base, when, days[day], resolved[dep], dep, key, ref, form_id, c, *s, batch_id, gone))
    return out
