"""Engine, sessions and schema migrations.

One engine per process (the UI caches it with ``st.cache_resource``); one short session per
unit of work via :func:`session_scope`, which commits on success and rolls back on error so a
failed import leaves nothing half-written.
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from . import config

_migrate_lock = threading.Lock()


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str | None = None, *, echo: bool = False) -> Engine:
    url = url or config.database_url()
    # Thai text in JSON columns stored as UTF-8, not \uXXXX escapes (a third of the size).
    json_kw = {"json_serializer": lambda obj: json.dumps(obj, ensure_ascii=False)}
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 10}, **json_kw)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, echo=echo, pool_pre_ping=True, pool_size=5, max_overflow=10, **json_kw)
    return engine


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
def session_scope(engine: Engine) -> Iterator[Session]:
    """A short unit of work: commit on success, roll back everything on any error."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
