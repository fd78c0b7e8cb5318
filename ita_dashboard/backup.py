"""Backup and restore: one portable zip file for SQLite and PostgreSQL alike.

A backup is a zip holding ``manifest.json`` and one JSON-lines file per table
(``tables/<name>.jsonl``, tables in foreign-key order, rows by primary key). Values are written
the way the model declares them, not the way a database stores them (ISO dates, UTC datetimes,
enum values, JSON as JSON, bytes as base64), so a backup of SQLite restores into PostgreSQL and
back. The manifest names the app, the format, the Alembic revision, and each table's row count
and sha256: restore refuses anything it cannot vouch for before touching the database.

Consistency while the app keeps writing:
- SQLite: the file is first copied with the SQLite online backup API (one step, under one read
  lock, so a snapshot of one instant) and the export reads the copy;
- PostgreSQL: every table is read inside one REPEATABLE READ, read-only transaction.
Rows are streamed in chunks both ways; neither side holds a whole table in memory.

Restore replaces all data in ONE transaction (delete in reverse foreign-key order, insert in
order, PostgreSQL sequences moved past the restored ids, audit event ``backup.restore``): any
failure rolls back and leaves the current data as it was. A backup of an older schema revision
is loaded into a scratch SQLite database at that revision, upgraded with the app's own Alembic
migrations, and restored from there; a backup of a revision this code does not know (a newer
app) is refused.

Both operations cover the whole database, every organisation in it, password hashes included:
only an admin who sees every organisation of the database may run them (``Actor.system()`` for
the command line).
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
import hashlib
import json
import os
import sqlite3
import tempfile
import zipfile
import zlib
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable, Iterator, Optional, Union
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, MetaData, Table, TypeDecorator, create_engine, func, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session, SQLModel

from . import audit, db, models
from .permissions import Actor, PermissionDenied, require_admin

APP_NAME = "ita-dashboard"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
CHUNK_ROWS = 1000
SUFFIX = ".zip"

Source = Union[str, os.PathLike, IO[bytes]]


class BackupError(ValueError):
    """A backup cannot be written or restored. ``str(exc)`` is an English line for the command
    line; ``code`` and ``params`` pick the Thai text on screen (ui/strings.py ``backup_error_<code>``)."""

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class BackupResult:
    path: Path
    rows: int
    tables: int
    revision: str
    created_at: str


@dataclass(frozen=True)
class RestoreResult:
    rows: int
    tables: int
    revision: str  # the backup's revision (the database is at head afterwards)
    created_at: str  # when the backup was made (ISO, UTC)


def app_tables() -> list[Table]:
    """Every table of the model, parents before children (alembic_version is not data)."""
    assert models.AuditEvent.__table__ is not None  # models imported: the metadata is complete
    return list(SQLModel.metadata.sorted_tables)


def _member(name: str) -> str:
    return f"tables/{name}.jsonl"


# --- permissions ----------------------------------------------------------------------------


def require_database_admin(session: Session, *, actor: Actor) -> None:
    """Backups hold every organisation's data, password hashes included: only an actor who is
    admin of every organisation in the database may take or restore one."""
    from .ui.strings import t  # pure data, no streamlit

    require_admin(actor)
    for org_id in session.execute(select(models.Organization.id)).scalars().all():
        try:
            require_admin(actor, org_id)
        except PermissionDenied:
            raise PermissionDenied(t("backup_need_global_admin")) from None


# --- value codecs ---------------------------------------------------------------------------


def _python_type(column) -> Optional[type]:
    """The Python type of a column's values; None for JSON and anything passed through as is."""
    typ = column.type
    if isinstance(typ, TypeDecorator):  # UTCDateTime, AutoString: the type they wrap says it
        typ = typ.impl_instance
    if isinstance(typ, JSON):
        return None
    try:
        kind = typ.python_type
    except NotImplementedError:
        return None
    return kind if kind is not object else None


def _encode(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime):
        if value.utcoffset() is not None:
            value = value.astimezone(dt.timezone.utc)
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _decoder(column) -> Callable[[Any], Any]:
    kind = _python_type(column)
    if kind is None:
        return lambda v: v
    if issubclass(kind, dt.datetime):
        def dec(v):
            value = dt.datetime.fromisoformat(v)
            return value if value.utcoffset() is not None else value.replace(tzinfo=dt.timezone.utc)
        return dec
    if issubclass(kind, dt.date):
        return dt.date.fromisoformat
    if issubclass(kind, bytes):
        return lambda v: base64.b64decode(v, validate=True)
    if issubclass(kind, enum.Enum):
        return kind
    if kind is bool:
        return bool
    return lambda v: v


# --- backup ---------------------------------------------------------------------------------


def _export(conn: Connection, zf: zipfile.ZipFile) -> dict[str, Any]:
    """Write every table of ``conn`` (one consistent snapshot) into ``zf``; return the manifest."""
    from alembic.runtime.migration import MigrationContext

    revision = MigrationContext.configure(conn).get_current_revision()
    if revision is None:
        raise BackupError("no_schema", "the database has no schema yet: nothing to back up")
    tables: dict[str, dict[str, Any]] = {}
    for table in app_tables():
        digest, rows = hashlib.sha256(), 0
        columns = [c.name for c in table.columns]
        query = select(table).order_by(*table.primary_key.columns)
        with zf.open(_member(table.name), "w", force_zip64=True) as fh:
            result = conn.execution_options(yield_per=CHUNK_ROWS).execute(query)
            for chunk in result.partitions():
                lines = "".join(
                    json.dumps({c: _encode(v) for c, v in zip(columns, row)}, ensure_ascii=False,
                               separators=(",", ":")) + "\n"
                    for row in chunk
                ).encode("utf-8")
                digest.update(lines)
                fh.write(lines)
                rows += len(chunk)
        tables[table.name] = {"rows": rows, "sha256": digest.hexdigest()}
    return {
        "app": APP_NAME,
        "format": FORMAT_VERSION,
        "schema_revision": revision,
        "created_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "database": conn.dialect.name,
        "total_rows": sum(t["rows"] for t in tables.values()),
        "tables": tables,
    }


def _sqlite_snapshot(engine: Engine, dest: Path) -> None:
    """Copy the live SQLite database to ``dest`` with the online backup API (one step: a
    snapshot of one instant; WAL writers go on meanwhile)."""
    raw = engine.raw_connection()
    try:
        target = sqlite3.connect(dest)
        try:
            raw.driver_connection.backup(target)
        finally:
            target.close()
    finally:
        raw.close()


def write_backup(engine: Engine, fileobj: IO[bytes]) -> dict[str, Any]:
    """Write a backup of the whole database into ``fileobj``; return its manifest.
    No permission check: callers are :func:`create_backup` and tests."""
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        if db.is_sqlite(engine):
            with tempfile.TemporaryDirectory(prefix="ita-backup-") as tmp:
                snap_path = Path(tmp) / "snapshot.db"
                _sqlite_snapshot(engine, snap_path)
                snap = create_engine(f"sqlite:///{snap_path}")
                try:
                    with snap.connect() as conn:
                        manifest = _export(conn, zf)
                finally:
                    snap.dispose()
        else:
            opts = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
            with engine.connect().execution_options(**opts) as conn, conn.begin():
                manifest = _export(conn, zf)
        zf.writestr(MANIFEST_NAME, json.dumps(manifest, ensure_ascii=False, indent=1))
    return manifest


def create_backup(engine: Engine, *, path: Union[str, os.PathLike], actor: Actor, overwrite: bool = False) -> BackupResult:
    """Write a backup to ``path``: first to a hidden temp file in the same directory, renamed
    when complete, so a failure never leaves a half-written backup under the real name.
    Records ``backup.create`` in the audit trail (a backup holds every password hash)."""
    path = Path(path)
    with db.session_scope(engine) as s:
        require_database_admin(s, actor=actor)
    if path.exists() and not overwrite:
        raise BackupError("exists", f"file exists (use --force to overwrite): {path}", path=str(path))
    if not path.parent.is_dir():
        raise BackupError("no_dir", f"directory not found: {path.parent}", path=str(path.parent))
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            manifest = write_backup(engine, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    with db.session_scope(engine) as s:
        audit.record(s, user_id=actor.user_id, username=actor.username, action="backup.create", entity="database",
                     after={"file": path.name, "rows": manifest["total_rows"], "revision": manifest["schema_revision"]})
    return BackupResult(path=path, rows=manifest["total_rows"], tables=len(manifest["tables"]),
                        revision=manifest["schema_revision"], created_at=manifest["created_at"])


def backup_bytes(engine: Engine, *, actor: Actor) -> tuple[bytes, BackupResult]:
    """A backup as bytes (the admin page's download button), written through a temp file."""
    with tempfile.TemporaryDirectory(prefix="ita-backup-") as tmp:
        result = create_backup(engine, path=Path(tmp) / "backup.zip", actor=actor)
        return result.path.read_bytes(), result


def default_file_name(now: Optional[dt.datetime] = None) -> str:
    """``ita-backup-2568-11-30-1423.zip``: Buddhist-era date, Bangkok time (what people read on screen)."""
    now = now or dt.datetime.now(ZoneInfo("Asia/Bangkok"))
    return f"ita-backup-{now.year + 543}-{now:%m-%d-%H%M}{SUFFIX}"


# --- reading and checking a backup ----------------------------------------------------------


def _corrupt(detail: str) -> BackupError:
    return BackupError("corrupt", f"the backup file is damaged or incomplete ({detail})", detail=detail)


def _starts_like_zip(source: Source) -> bool:
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as fh:
            head = fh.read(4)
    else:
        source.seek(0)
        head = source.read(4)
        source.seek(0)
    return head == b"PK\x03\x04"


@contextmanager
def _open_zip(source: Source) -> Iterator[zipfile.ZipFile]:
    if isinstance(source, (str, os.PathLike)) and not Path(source).is_file():
        raise BackupError("not_found", f"file not found: {source}", path=str(source))
    try:
        zf = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
        if _starts_like_zip(source):  # a zip cut short (an interrupted copy or download)
            raise _corrupt(f"truncated zip: {exc}") from exc
        raise BackupError("not_backup", f"not a backup of this app (not a zip file: {exc})") from exc
    with zf:
        try:
            yield zf
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise _corrupt(str(exc)) from exc


def known_revisions() -> list[str]:
    """Alembic revisions this code knows, oldest first."""
    from alembic.script import ScriptDirectory

    from . import config

    script = ScriptDirectory(str(config.MIGRATIONS_DIR))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def read_manifest(zf: zipfile.ZipFile) -> dict[str, Any]:
    """The manifest, checked for shape, app and format; raises BackupError otherwise."""
    try:
        raw = zf.read(MANIFEST_NAME)
    except KeyError:
        raise BackupError("not_backup", "not a backup of this app (no manifest.json)") from None
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _corrupt(f"manifest.json: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("app") != APP_NAME:
        app = manifest.get("app") if isinstance(manifest, dict) else None
        raise BackupError("not_backup", f"not a backup of this app (manifest names {app!r})")
    fmt = manifest.get("format")
    if not isinstance(fmt, int) or fmt > FORMAT_VERSION:
        raise BackupError("newer", f"backup format {fmt!r} is newer than this app understands ({FORMAT_VERSION}): "
                                   "update the app first", revision=str(fmt))
    tables = manifest.get("tables")
    ok = isinstance(tables, dict) and all(
        isinstance(v, dict) and isinstance(v.get("rows"), int) and v["rows"] >= 0 and isinstance(v.get("sha256"), str)
        for v in tables.values()
    ) and isinstance(manifest.get("schema_revision"), str) and isinstance(manifest.get("created_at"), str)
    if not ok:
        raise _corrupt("manifest.json has missing or malformed fields")
    return manifest


def verify(zf: zipfile.ZipFile, manifest: dict[str, Any]) -> None:
    """Every table file present, with the manifest's sha256 and row count (streamed)."""
    names = set(zf.namelist())
    for name, info in manifest["tables"].items():
        member = _member(name)
        if member not in names:
            raise _corrupt(f"{member} missing")
        digest, lines = hashlib.sha256(), 0
        with zf.open(member) as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
                lines += block.count(b"\n")
        if digest.hexdigest() != info["sha256"]:
            raise _corrupt(f"checksum mismatch in {member}")
        if lines != info["rows"]:
            raise _corrupt(f"{member} holds {lines} rows, the manifest says {info['rows']}")


def _zip_rows(zf: zipfile.ZipFile, table: Table) -> Iterator[dict[str, Any]]:
    """Decoded rows of ``table`` from the backup, typed for ``table``'s columns."""
    decoders = {c.name: _decoder(c) for c in table.columns}
    with zf.open(_member(table.name)) as fh:
        for n, line in enumerate(fh, start=1):
            try:
                row = json.loads(line)
                if not isinstance(row, dict) or set(row) != set(decoders):
                    raise ValueError(f"columns {sorted(row) if isinstance(row, dict) else '?'} "
                                     f"do not match the table's {sorted(decoders)}")
                yield {k: None if v is None else decoders[k](v) for k, v in row.items()}
            except (ValueError, TypeError, KeyError) as exc:
                raise _corrupt(f"{table.name} row {n}: {exc}") from exc


# --- restore --------------------------------------------------------------------------------


def _replace_all(conn: Connection, tables: list[Table], rows_of: Callable[[Table], Iterator[dict[str, Any]]],
                 expected: Optional[dict[str, int]]) -> int:
    """Delete every row (children first), insert the backup (parents first), chunk by chunk."""
    for table in reversed(tables):
        conn.execute(table.delete())
    total = 0
    for table in tables:
        count, batch = 0, []
        for row in rows_of(table):
            batch.append(row)
            if len(batch) >= CHUNK_ROWS:
                conn.execute(table.insert(), batch)
                count, batch = count + len(batch), []
        if batch:
            conn.execute(table.insert(), batch)
            count += len(batch)
        if expected is not None and count != expected.get(table.name):
            raise _corrupt(f"{table.name}: {count} rows read, the manifest says {expected.get(table.name)}")
        total += count
    return total


def _reset_sequences(conn: Connection, tables: list[Table]) -> None:
    """PostgreSQL: the next id of each serial column follows the restored maximum."""
    if conn.dialect.name != "postgresql":
        return
    quote = conn.dialect.identifier_preparer.quote
    for table in tables:
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or _python_type(pk[0]) is not int:
            continue
        seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"),
                           {"t": quote(table.name), "c": pk[0].name}).scalar()
        if seq:
            conn.execute(text(f"SELECT setval(:s, COALESCE((SELECT MAX({quote(pk[0].name)}) FROM {quote(table.name)}), 0) + 1, false)"),
                         {"s": seq})


@contextmanager
def _staged_at_head(zf: zipfile.ZipFile, manifest: dict[str, Any]) -> Iterator[Engine]:
    """A scratch SQLite database holding the backup of an older revision, upgraded to head."""
    from alembic import command

    with tempfile.TemporaryDirectory(prefix="ita-restore-") as tmp:
        engine = db.make_engine(f"sqlite:///{Path(tmp) / 'staging.db'}")
        try:
            cfg = db.alembic_config(engine)
            with engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, manifest["schema_revision"])
            old = MetaData()
            old.reflect(bind=engine)
            old_tables = [t for t in old.sorted_tables if t.name != "alembic_version"]
            if {t.name for t in old_tables} != set(manifest["tables"]):
                raise _corrupt("the tables do not match the backup's schema revision")
            try:
                with engine.begin() as conn:
                    _replace_all(conn, old_tables, lambda t: _zip_rows(zf, t),
                                 {k: v["rows"] for k, v in manifest["tables"].items()})
            except (IntegrityError, DBAPIError) as exc:
                raise _rejected(exc) from exc
            db.migrate(engine)
            yield engine
        finally:
            engine.dispose()


def _stream(conn: Connection, table: Table) -> Iterator[dict[str, Any]]:
    result = conn.execution_options(yield_per=CHUNK_ROWS).execute(select(table).order_by(*table.primary_key.columns))
    for row in result.mappings():
        yield dict(row)


def restore_backup(engine: Engine, *, source: Source, actor: Actor, file_name: str = "") -> RestoreResult:
    """Replace every row of the database with the backup in ``source`` (a path or a binary file).

    The file is checked completely (zip, manifest, checksums, row counts, schema revision) before
    anything is written; the replacement is one transaction, so on any failure the current data
    stays as it was. The restore is recorded as ``backup.restore`` in the restored audit trail.
    """
    if not file_name:
        file_name = Path(source).name if isinstance(source, (str, os.PathLike)) else getattr(source, "name", "")
    with db.session_scope(engine) as s:
        require_database_admin(s, actor=actor)
    target_rev = db.schema_revision(engine)
    tables = app_tables()
    with _open_zip(source) as zf:
        manifest = read_manifest(zf)
        revision = manifest["schema_revision"]
        known = known_revisions()
        if revision not in known:
            raise BackupError("newer", f"the backup is of schema revision {revision}, unknown to this app "
                                       f"(at {target_rev}): update the app first", revision=revision)
        if target_rev != known[-1]:
            raise BackupError("no_schema", "the database is not at the newest schema: run init-db first")
        verify(zf, manifest)
        staging = nullcontext() if revision == target_rev else _staged_at_head(zf, manifest)
        with staging as staged:
            if staged is None:
                if set(manifest["tables"]) != {t.name for t in tables}:
                    raise _corrupt("the tables do not match the backup's schema revision")
                expected = {k: v["rows"] for k, v in manifest["tables"].items()}
                total = _restore_into(engine, tables, lambda t: _zip_rows(zf, t), expected, actor, manifest, file_name)
            else:
                with staged.connect() as src:
                    total = _restore_into(engine, tables, lambda t: _stream(src, t), None, actor, manifest, file_name)
    return RestoreResult(rows=total, tables=len(tables), revision=revision, created_at=manifest["created_at"])


def _restore_into(engine: Engine, tables: list[Table], rows_of, expected, actor: Actor, manifest: dict[str, Any],
                  file_name: str) -> int:
    try:
        with db.session_scope(engine) as s:
            conn = s.connection()
            # What the restore replaced (the old audit trail included) stays on record.
            replaced = {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in tables}
            events = models.AuditEvent.__table__
            old_max = conn.execute(select(func.max(events.c.id))).scalar() or 0
            total = _replace_all(conn, tables, rows_of, expected)
            new_max = conn.execute(select(func.max(events.c.id))).scalar() or 0
            # The actor's id only when the restored data has the same account under it.
            user = s.get(models.User, actor.user_id) if actor.user_id is not None else None
            event = audit.record(s, user_id=user.id if user and user.username == actor.username else None,
                         username=actor.username, action="backup.restore", entity="database",
                         before={"rows": {k: v for k, v in replaced.items() if v}},
                         after={"file": file_name, "backup_created_at": manifest["created_at"], "rows": total,
                                "revision": manifest["schema_revision"]})
            # An id above every id handed out before: the newest audit id never goes back, so
            # caches keyed on it (services/data_version.py) cannot mistake the restored data
            # for an older state that had the same newest id.
            event.id = max(old_max, new_max) + 1
            s.flush()
            _reset_sequences(conn, tables)
    except (IntegrityError, DBAPIError) as exc:
        raise _rejected(exc) from exc
    return total


def _rejected(exc: Exception) -> BackupError:
    detail = " ".join(str(getattr(exc, "orig", exc)).split())[:300]
    return BackupError("rejected", f"the database refused the backup's data, nothing was changed: {detail}",
                       detail=detail)
