"""Engine, sessions and schema migrations.

One engine per process (the UI caches it with ``st.cache_resource``); one short session per
unit of work via :func:`session_scope`, which commits on success and rolls back on error so a
failed import leaves nothing half-written.

Two failures are typed, with a Thai message, so the edges (the CLI, ``ui/common.session``) can say
them in one line instead of a traceback:

- :class:`DatabaseBusy`: SQLite's write lock stayed taken for longer than the busy timeout
  (another writer, e.g. a long import). Writers wait their turn first: every SQLite connection has
  a busy timeout, and a unit of work opened with ``session_scope(engine, write=True)`` starts with
  ``BEGIN IMMEDIATE``, so it queues for the write lock before reading instead of failing later on
  the lock upgrade, and its reads and writes are one serialised step (no lost update between a
  check and the write that follows it).
- :class:`DatabaseGone`: the SQLite file was deleted or replaced under the running app. The file's
  identity (device and inode) is recorded when the engine is made (or when its first connection
  creates the file) and checked with one ``os.stat`` before every statement and every commit; a
  change stops every statement of that engine for good (until the app restarts), so nothing more
  is written into a deleted file that is lost at the next start.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from contextlib import contextmanager
from typing import Any, Iterator, Optional

from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from . import config
from .errors import ItaError

_migrate_lock = threading.Lock()

# How long a SQLite writer waits for another writer's lock before giving up with DatabaseBusy.
SQLITE_BUSY_TIMEOUT_S = 10.0


class DatabaseUnavailable(ItaError, RuntimeError):
    """The database cannot take this unit of work now. ``str(exc)`` is the Thai message for the
    screen and the CLI's one line; ``code`` names the case (``busy`` / ``gone``)."""

    code = "unavailable"
    codes = ("busy", "gone")
    text_prefix = "db_error_"

    def __init__(self, message: Optional[str] = None, **params: Any) -> None:
        super().__init__(message or None, **params)


class DatabaseBusy(DatabaseUnavailable):
    """Another writer kept the database locked for longer than the busy timeout."""

    code = "busy"


class DatabaseGone(DatabaseUnavailable):
    """The SQLite file was deleted or replaced while the app was running: nothing more is written."""

    code = "gone"


def _sqlite_pragmas(busy_ms: int):
    def on_connect(dbapi_conn, _record) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()
    return on_connect


def _sqlite_file(engine: Engine) -> Optional[str]:
    """The absolute path of a file-backed SQLite database, None for in-memory ones."""
    name = engine.url.database
    if not name or name == ":memory:" or name.startswith("file:") or "mode=memory" in str(engine.url.query):
        return None
    return os.path.abspath(name)


class _FileWatch:
    """Device and inode of the SQLite file, recorded once; any later difference (or the file
    missing) is remembered for good: the engine refuses every statement until the process restarts."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.identity: Optional[tuple[int, int]] = None
        self.gone = False
        self.record()

    def record(self) -> None:
        if self.identity is None:
            try:
                st = os.stat(self.path)
            except FileNotFoundError:
                return  # not created yet: the first connection creates it, then it is recorded
            self.identity = (st.st_dev, st.st_ino)

    def check(self) -> None:
        if self.identity is None:
            self.record()
            return
        if not self.gone:
            try:
                st = os.stat(self.path)
                self.gone = (st.st_dev, st.st_ino) != self.identity
            except OSError:
                self.gone = True
        if self.gone:
            raise DatabaseGone(path=self.path)


def _busy_error(ctx) -> Optional[Exception]:
    """``handle_error``: SQLite's "database is locked" (SQLITE_BUSY/LOCKED and their extended
    codes) and PostgreSQL's lock_not_available become :class:`DatabaseBusy`."""
    orig = ctx.original_exception
    if isinstance(orig, DatabaseUnavailable):
        return None
    if isinstance(orig, sqlite3.OperationalError):
        code = getattr(orig, "sqlite_errorcode", None)
        if (code is not None and code & 0xFF in (5, 6)) or "database is locked" in str(orig):
            return DatabaseBusy()
    if getattr(orig, "sqlstate", None) == "55P03":
        return DatabaseBusy()
    return None


def make_engine(url: str | None = None, *, echo: bool = False, busy_timeout_s: Optional[float] = None) -> Engine:
    url = url or config.database_url()
    busy_timeout_s = SQLITE_BUSY_TIMEOUT_S if busy_timeout_s is None else busy_timeout_s
    # Thai text in JSON columns stored as UTF-8, not \uXXXX escapes (a third of the size).
    json_kw = {"json_serializer": lambda obj: json.dumps(obj, ensure_ascii=False)}
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": busy_timeout_s},
                               **json_kw)
        event.listen(engine, "connect", _sqlite_pragmas(int(busy_timeout_s * 1000)))
        path = _sqlite_file(engine)
        if path is not None:
            _watch_file(engine, _FileWatch(path))
    else:
        engine = create_engine(url, echo=echo, pool_pre_ping=True, pool_size=5, max_overflow=10, **json_kw)
    event.listen(engine, "handle_error", _busy_error)
    return engine


def _watch_file(engine: Engine, watch: _FileWatch) -> None:
    engine.sqlite_file_watch = watch  # type: ignore[attr-defined]  (tests and check_database look at it)

    @event.listens_for(engine, "do_connect")
    def _before_connect(_dialect, _rec, _cargs, _cparams):
        # A missing file must not be silently re-created empty by a new pool connection.
        if watch.identity is not None:
            watch.check()

    @event.listens_for(engine, "connect")
    def _after_connect(_dbapi_conn, _rec):
        watch.record()

    @event.listens_for(engine, "before_cursor_execute")
    def _before_statement(_conn, _cursor, _statement, _params, _context, _many):
        watch.check()

    @event.listens_for(engine, "commit")
    def _before_commit(_conn):
        watch.check()


def check_database(engine: Engine) -> None:
    """Raise :class:`DatabaseGone` if the engine's SQLite file is gone or replaced (no-op otherwise)."""
    watch = getattr(engine, "sqlite_file_watch", None)
    if watch is not None:
        watch.check()


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def alembic_config(engine: Engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(config.MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the newest Alembic revision (idempotent)."""
    from alembic import command

    with _migrate_lock:
        with engine.begin() as conn:
            cfg = alembic_config(engine)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")


def schema_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def has_table(engine: Engine, name: str) -> bool:
    return inspect(engine).has_table(name)


@event.listens_for(Session, "before_flush")
def _drop_nul_characters(session, _flush_context, _instances) -> None:
    """PostgreSQL text cannot hold NUL (U+0000); SQLite can. Text written through the ORM loses
    its NULs on both, so a pasted or imported control character is not an error on one backend
    only (every other character, markup and formula-like text included, is stored verbatim)."""
    for obj in list(session.new) + list(session.dirty):
        for key, value in vars(obj).items():
            if isinstance(value, str) and "\x00" in value and not key.startswith("_"):
                setattr(obj, key, value.replace("\x00", ""))


@contextmanager
def session_scope(engine: Engine, *, write: bool = False) -> Iterator[Session]:
    """A short unit of work: commit on success, roll back everything on any error.

    ``write=True`` (forms and commands that save): on SQLite the unit starts with
    ``BEGIN IMMEDIATE``, waiting up to the busy timeout for other writers, then holds the write
    lock to the end, so what it reads cannot change before it writes. :class:`DatabaseBusy` if
    the lock does not come in time. PostgreSQL needs nothing: its writers wait on row locks.
    """
    session = Session(engine, expire_on_commit=False)
    try:
        if write and is_sqlite(engine):
            # pysqlite opens no transaction of its own while one is open (sqlite3_get_autocommit).
            session.connection().exec_driver_sql("BEGIN IMMEDIATE")
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
