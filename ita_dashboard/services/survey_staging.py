"""A survey import's own connection: short write transactions, a lease per survey, cleanup.

On SQLite a long import (100,000 rows and more) does not hold the database's single write lock
from its first row to its last. Its batch is written ``staging`` first; its rows go in chunk by
chunk, in short write transactions (``BEGIN IMMEDIATE`` ... ``COMMIT``, each taking chunks until
it has held the lock ``HOLD_S``, at least ``GAP_S`` apart), so a page saving progress gets the
lock between two of them. Rows of a staging batch are stored with ``vanished_by`` = the batch, so
every count (``models.counted()``) and the counting indexes leave them out, and every listing of
batches, batch membership or vanished rows takes ``done`` batches only. One last short transaction flips the batch to ``done`` and makes its
rows count: the import stays all or nothing.

On PostgreSQL the same steps run in one transaction (``Staging.chunked`` is False): its writers
wait on row locks only, so a long import keeps no one else waiting, and its rollback is all the
cleanup a failure needs; showing rows written hidden would write each of them twice (MVCC).

**One importer per survey** (organisation, fiscal year, instrument), because what an import
decides (new, changed, vanished) rests on the survey's rows as they were when it started:

- PostgreSQL: a session-level advisory lock held on the import's connection from start to flip
  (undo takes the same key per transaction, so it waits too). A staging batch whose lock is free
  is abandoned: its process died, and its connection with it.
- SQLite: the staging batch is the lease: ``lease_owner`` (host:pid:token, see :func:`owner`) and
  ``lease_until``, renewed with every chunk. Another import of the survey waits while the lease is
  alive; a lease past its time, or whose process on this host is gone, is abandoned. Every write
  of the importer checks that the lease is still its own: once a cleaner has taken the batch over,
  the importer stops ("busy") and its batch can never become ``done``.

**Abandoned rows** (an import that failed, or a process killed half-way) never count, and are
deleted: at once when the import fails (best effort), and in any case by the next import of the
survey, by an undo of one of its batches, or at app start (:func:`clear_abandoned`), in short
transactions too (SQLite; on PostgreSQL a failed or killed import's transaction leaves nothing).
A cleaner first takes the batch over in one short transaction (its own lease, ``cleaner:`` and
its owner, set only if the batch is still abandoned as it saw it), then deletes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import socket
import time
import uuid
from typing import Optional

from sqlalchemy import Engine, select, text as sql_text
from sqlmodel import Session

from ..models import BatchKind, ImportBatch, Instrument, utcnow

STAGING, DONE = "staging", "done"
LEASE_S = 300.0  # a live importer renews its lease in every write transaction (under a second apart)
WAIT_S = 300.0  # how long an import waits for another import of the same survey (SQLite)
POLL_S = 0.1
# SQLite: the least time between two of an import's write transactions. A writer waiting for the
# lock retries at most 100 ms apart (SQLite's busy handler), so a pause this long always lets one
# in; the next chunk is coded and scored during it, so it costs little.
GAP_S = 0.11
# SQLite: how long one write transaction of an import goes on taking chunks before it commits and
# lets others in. Longer holds mean fewer transactions (each costs a commit, often a WAL
# checkpoint, and a gap): 100,000 rows went from 22 transactions to 6-9, and their gaps and
# commits from 1.8 s to under 0.8 s. A page's save waits at most about this long (plus one
# chunk), far below the busy timeout.
HOLD_S = 0.3
DELETE_CHUNK = 5000


# This process among those that had its host name and pid before it (a restarted container).
_TOKEN = uuid.uuid4().hex
CLEANER = "cleaner:"  # lease_owner of a staging batch a cleaner took over: CLEANER + its owner()


def owner() -> str:
    """This process as a lease owner: host:pid:token."""
    return f"{socket.gethostname()}:{os.getpid()}:{_TOKEN}"


def _owner_parts(batch_owner: str) -> tuple[str, Optional[int], Optional[str]]:
    """(host, pid, token) of an owner; token None for owners written before tokens (host:pid)."""
    who = batch_owner[len(CLEANER):] if batch_owner.startswith(CLEANER) else batch_owner
    rest, _, last = who.rpartition(":")
    token = None
    if len(last) == 32 and all(c in "0123456789abcdef" for c in last):
        token = last
        rest, _, last = rest.rpartition(":")
    return (rest, int(last), token) if last.isdigit() else (who, None, None)


def lock_key(organization_id: int, fiscal_year: int, instrument: Instrument) -> int:
    """The survey's advisory lock key (PostgreSQL), as undo and the same-transaction lock use it."""
    return int.from_bytes(hashlib.sha256(f"survey:{organization_id}:{fiscal_year}:{instrument.value}".encode())
                          .digest()[:8], "big", signed=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def lease_alive(batch_owner: Optional[str], until: Optional[dt.datetime], *, now: Optional[dt.datetime] = None) -> bool:
    """SQLite: whether a staging batch's importer may still be at work."""
    now = now or utcnow()
    if until is None or until < now:
        return False
    host, pid, token = _owner_parts(batch_owner or "")
    if host != socket.gethostname() or pid is None:
        return True  # another host's process: its lease tells
    if pid == os.getpid():  # this process, or an earlier one with the same pid (owners without token: as before)
        return token is None or token == _TOKEN
    return _pid_alive(pid)


def _survey_terms(organization_id: int, fiscal_year: int, instrument: Instrument) -> tuple:
    b = ImportBatch.__table__.c
    return (b.organization_id == organization_id, b.fiscal_year == fiscal_year,
            b.kind == BatchKind.survey(instrument), b.state == STAGING)


class Staging:
    """The import's own connection and session (outside the caller's), holding the survey.

    ``begin()`` opens a short write transaction, ``commit()`` ends it; the connection stays
    the same from start to end (SQLite's page cache setting, PostgreSQL's lock and stage table).
    """

    def __init__(self, engine: Engine, *, organization_id: int, fiscal_year: int, instrument: Instrument):
        self.engine = engine
        self.pg = engine.dialect.name == "postgresql"
        # PostgreSQL: one transaction from claim to flip. Its writers never wait for another
        # transaction's inserts (row locks), and hiding then showing 100,000 rows would write every
        # row twice (a new row version each, the table and its indexes half again as large).
        self.chunked = not self.pg
        self.survey = (organization_id, fiscal_year, instrument)
        self.owner = owner()
        self.conn = engine.connect()
        self.session = Session(bind=self.conn, expire_on_commit=False)
        self.locked = False
        self.batch_id: Optional[int] = None
        self.abandoned: list[int] = []  # the survey's staging batches found abandoned by claim()
        self.committed_at = 0.0  # time.monotonic() of our last write transaction's end
        self.began_at: Optional[float] = None  # ... and of the start of the one open now (None: none)

    # -- transactions ----------------------------------------------------------------------------

    def begin(self) -> None:
        """Start a write transaction (SQLite: take the write lock now, waiting the busy timeout,
        and not sooner than ``GAP_S`` after our last one ended). Once our batch is written, its
        lease is renewed first: :class:`DatabaseBusy` if a cleaner took it over, before anything
        of this transaction is written for a batch that is not ours any more."""
        self._begin()
        if not self.pg and self.batch_id is not None:
            self.renew()

    def _begin(self) -> None:
        """:meth:`begin` without the lease (a cleaner's transactions)."""
        conn = self.session.connection()  # the session owns the transaction (its commit() commits)
        if not self.pg:
            pause = GAP_S - (time.monotonic() - self.committed_at)
            if pause > 0:
                time.sleep(pause)
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        self.began_at = time.monotonic()

    def chunk_begins(self) -> None:
        """Before a chunk: a write transaction, the one still open or a new one (:meth:`begin`)."""
        if self.began_at is None:
            self.begin()

    def chunk_done(self, *, last: bool) -> bool:
        """After a chunk: renew the lease and commit when it is the ``last`` one or the transaction
        has held the lock ``HOLD_S`` (PostgreSQL: after every chunk, its commit being a no-op).
        True when it committed: the moment to report progress, nothing of ours holding the lock."""
        if not (last or not self.chunked or time.monotonic() - (self.began_at or 0.0) >= HOLD_S):
            return False
        self.renew()
        self.commit()
        return True

    def commit(self) -> None:
        """End a write transaction begun by :meth:`begin` (PostgreSQL: the transaction goes on,
        see ``chunked``)."""
        if self.chunked:
            self.session.commit()
            self.committed_at = time.monotonic()
        self.began_at = None

    def renew(self) -> None:
        """Within a write transaction: the lease runs on (SQLite's sign of life), if it is still
        ours; :class:`DatabaseBusy` if a cleaner took the batch over meanwhile (the transaction is
        then to be rolled back: what it wrote is not kept)."""
        from ..db import DatabaseBusy

        b = ImportBatch.__table__
        n = self.session.execute(b.update().where(b.c.id == self.batch_id, b.c.state == STAGING,
                                                  b.c.lease_owner == self.owner)
                                 .values(lease_until=utcnow() + dt.timedelta(seconds=LEASE_S))).rowcount
        if n != 1:
            raise DatabaseBusy()

    def close(self) -> None:
        try:
            self.session.rollback()
            if self.locked:
                self.conn.exec_driver_sql("SELECT pg_advisory_unlock(%s)", (lock_key(*self.survey),))
                self.conn.commit()
                self.locked = False
        except Exception:  # noqa: BLE001 -- a connection that cannot unlock is not given back
            self.conn.invalidate()
        finally:
            self.session.close()
            self.conn.close()

    # -- the survey's lease ------------------------------------------------------------------------

    def claim(self, batch: ImportBatch) -> list[int]:
        """Wait for any live import of the survey, then write ``batch`` as staging with our lease.
        Returns the survey's abandoned staging batches (to :meth:`clean` before reading rows)."""
        from ..db import DatabaseBusy

        s = self.session
        if self.pg:
            s.connection().exec_driver_sql("SELECT pg_advisory_lock(%s)", (lock_key(*self.survey),))
            self.locked = True
            s.commit()
        deadline = time.monotonic() + WAIT_S
        while True:
            self.begin()
            rows = s.execute(select(ImportBatch.id, ImportBatch.lease_owner, ImportBatch.lease_until)
                             .where(*_survey_terms(*self.survey))).all()
            # PostgreSQL: we hold the survey's lock, so every staging batch of it is abandoned.
            live = [] if self.pg else [i for i, who, until in rows if lease_alive(who, until)]
            if not live:
                break
            s.rollback()
            if time.monotonic() > deadline:
                raise DatabaseBusy()
            time.sleep(POLL_S)
        batch.state = STAGING
        batch.lease_owner = self.owner
        batch.lease_until = utcnow() + dt.timedelta(seconds=LEASE_S)
        s.add(batch)
        s.flush()
        self.batch_id = batch.id
        return [i for i, _, _ in rows]

    def clean_abandoned(self) -> None:
        """Inside claim()'s transaction: commit it, then delete the abandoned batches it found, so
        that their rows are gone before the import reads the survey's rows. :class:`DatabaseBusy`
        if another cleaner is deleting one of them at this moment (its rows are not gone yet)."""
        from ..db import DatabaseBusy

        self.commit()
        if not self.abandoned:
            return
        held = [i for i in self.abandoned if self.clean(i) == HELD]
        if held:
            raise DatabaseBusy()
        self._begin()  # deleting may have taken a while: our lease runs on
        self.renew()
        self.commit()

    def flip(self, batch: ImportBatch) -> None:
        """Inside the flip's transaction: the batch becomes ``done`` if its lease is still ours (a
        batch a cleaner took over, or deleted, cannot come back: :class:`DatabaseBusy`)."""
        from ..db import DatabaseBusy

        b = ImportBatch.__table__
        n = self.session.execute(b.update().where(b.c.id == self.batch_id, b.c.state == STAGING,
                                                  b.c.lease_owner == self.owner)
                                 .values(state=DONE, lease_owner=None, lease_until=None)).rowcount
        if n != 1:
            raise DatabaseBusy()
        batch.state = DONE
        batch.lease_owner = None
        batch.lease_until = None
        self.session.add(batch)
        self.session.flush()

    def clean(self, batch_id: int) -> str:
        """Delete a staging batch with its rows and membership, in short transactions: our own
        (a failed import), or an abandoned one; see :func:`delete_staging`."""
        mine = self.owner if batch_id == self.batch_id else None
        return delete_staging(self.session, batch_id, begin=self._begin, commit=self.commit, mine=mine,
                              locked=self.locked)


DELETED, GONE, HELD, TAKEN = "deleted", "gone", "held", "taken"


def _take_over(session: Session, batch_id: int, cleaner: str, *, mine: Optional[str], locked: bool) -> str:
    """Inside a write transaction: make ``cleaner`` the lease owner of staging batch ``batch_id``
    if it is abandoned (or its owner is ``mine``, or the caller holds the survey's advisory lock:
    ``locked``). TAKEN, GONE (no staging batch of that id) or HELD (a live importer or cleaner
    has it)."""
    b = ImportBatch.__table__
    row = session.execute(select(b.c.lease_owner, b.c.lease_until)
                          .where(b.c.id == batch_id, b.c.state == STAGING)).one_or_none()
    if row is None:
        return GONE
    who, until = row
    if not (locked or (mine is not None and who == mine) or not lease_alive(who, until)):
        return HELD
    # One write transaction (SQLite: BEGIN IMMEDIATE, or a snapshot that cannot write once stale;
    # PostgreSQL: under the survey's lock), so the lease cannot change between read and update;
    # the update still requires the owner read.
    n = session.execute(b.update().where(b.c.id == batch_id, b.c.state == STAGING,
                                         b.c.lease_owner.is_not_distinct_from(who))
                        .values(lease_owner=cleaner, lease_until=utcnow() + dt.timedelta(seconds=LEASE_S))).rowcount
    return TAKEN if n == 1 else HELD


def delete_staging(session: Session, batch_id: int, *, begin, commit, mine: Optional[str] = None,
                   locked: bool = False) -> str:
    """Take an abandoned staging batch over (see :func:`_take_over`), then delete its membership,
    rows and the batch itself, ``DELETE_CHUNK`` rows per transaction (each committed; ``begin`` and
    ``commit`` may do nothing: all in the caller's transaction). Each transaction renews the
    cleaner's lease, and stops if it is no longer its own. Returns DELETED, GONE (nothing to do)
    or HELD (left alone: a live importer or another cleaner has it)."""
    b = ImportBatch.__table__
    me = CLEANER + owner()
    begin()
    got = _take_over(session, batch_id, me, mine=mine, locked=locked)
    commit()
    if got != TAKEN:
        return got

    def still_mine() -> bool:
        return session.execute(b.update().where(b.c.id == batch_id, b.c.state == STAGING, b.c.lease_owner == me)
                               .values(lease_until=utcnow() + dt.timedelta(seconds=LEASE_S))).rowcount == 1

    steps = [
        ("DELETE FROM surveybatchresponse WHERE batch_id = :b AND response_id IN "
         "(SELECT response_id FROM surveybatchresponse WHERE batch_id = :b LIMIT :n)"),
        ("DELETE FROM surveyresponse WHERE id IN "
         "(SELECT id FROM surveyresponse WHERE import_batch_id = :b AND vanished_by = :b LIMIT :n)"),
    ]
    for sql in steps:
        while True:
            begin()
            if not still_mine():  # we stalled past our lease and another cleaner has it now
                commit()
                return HELD
            n = session.execute(sql_text(sql), {"b": batch_id, "n": DELETE_CHUNK}).rowcount
            commit()
            if not n:
                break
    begin()
    n = session.execute(sql_text("DELETE FROM importbatch WHERE id = :b AND state = :s AND lease_owner = :me"),
                        {"b": batch_id, "s": STAGING, "me": me}).rowcount
    commit()
    return DELETED if n == 1 else HELD


def clear_abandoned(engine: Engine) -> int:
    """At app start: delete every abandoned staging batch (see the module docstring); returns how
    many. Live imports (their lease alive, their advisory lock held) are left alone."""
    pg = engine.dialect.name == "postgresql"
    with Session(engine) as s:
        b = ImportBatch.__table__.c
        rows = s.execute(select(b.id, b.organization_id, b.fiscal_year, b.kind, b.lease_owner, b.lease_until)
                         .where(b.state == STAGING)).all()
    cleared = 0
    for bid, org, fy, kind, who, until in rows:
        if not pg and lease_alive(who, until):
            continue
        st = Staging(engine, organization_id=org, fiscal_year=fy, instrument=BatchKind(kind).instrument)
        try:
            if pg:
                got = st.session.connection().exec_driver_sql("SELECT pg_try_advisory_lock(%s)",
                                                              (lock_key(*st.survey),)).scalar()
                st.session.commit()
                if not got:
                    continue
                st.locked = True
            if delete_staging(st.session, bid, begin=st._begin, commit=st.session.commit, locked=pg) == DELETED:
                cleared += 1
        finally:
            st.close()
    return cleared
