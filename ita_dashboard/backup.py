"""Backup and restore: one portable zip file for SQLite and PostgreSQL alike.

A backup is a zip holding ``manifest.json`` and one JSON-lines file per table
(``tables/<name>.jsonl``, tables in foreign-key order, rows by primary key). Values are written
the way the model declares them, not the way a database stores them (ISO dates, UTC datetimes,
enum values, JSON as JSON, bytes as base64), so a backup of SQLite restores into PostgreSQL and
back. The manifest names the app, the format, the Alembic revision, and each table's row count
and sha256: restore refuses anything it cannot vouch for before touching the database.

What restore checks before anything is replaced (each refusal a BackupError with a code, the
data unchanged):
- the archive: only ``manifest.json``, ``manifest.sig`` and the manifest's ``tables/*.jsonl``,
  each at most its cap as the zip declares it (manifest 1 MiB, a table 64 GiB), and read as a
  stream that stops at the cap whatever the zip declared (a 1 GiB manifest compressed to 1 MB is
  refused without inflating it); one row (one line) at most 128 MiB;
- the signature: with ``ITA_BACKUP_KEY`` set, backups carry ``manifest.sig``, an HMAC-SHA256 of
  the manifest's exact bytes; the manifest holds every table file's sha256, so the signature
  covers every row. With the key set, an unsigned or wrongly signed file is refused unless the
  caller allows it explicitly (``restore --allow-unsigned``). Without a key, checksums only show
  the file is complete, not that nobody edited it and recomputed them;
- every value of every row against its column: integers (in range), floats (finite), booleans,
  dates, datetimes, JSON (a list or an object where the model says so), bytes (base64), enum
  values, text, and NOT NULL. :func:`preview_backup` runs the same checks and returns what the
  backup brings (date, organisations, users with their roles, row counts) for an admin to confirm.

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
import hmac
import json
import math
import os
import sqlite3
import tempfile
import zipfile
import zlib
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable, Iterator, Optional, Union, get_args, get_origin
from zoneinfo import ZoneInfo

from sqlalchemy import (JSON, BigInteger, Boolean, Date, DateTime, Enum, Float, Integer, LargeBinary, MetaData,
                        Numeric, String, Table, TypeDecorator, create_engine, func, select, text)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session, SQLModel

from . import audit, db, models, sessions
from .config import get_settings
from .importers import guard
from .errors import ItaError
from .permissions import Actor, PermissionDenied, require_admin

APP_NAME = "ita-dashboard"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
SIGNATURE_NAME = "manifest.sig"
CHUNK_ROWS = 1000
SUFFIX = ".zip"
KEY_ENV = "ITA_BACKUP_KEY"
# Caps on what an archive may hold, as declared and as read: a backup of 8,000 agencies with
# 2 million responses stays far below them; a zip bomb does not get past them.
MAX_MANIFEST_BYTES = 1 << 20
MAX_SIGNATURE_BYTES = 4096
MAX_MEMBER_BYTES = 64 << 30
MAX_ROW_BYTES = 128 << 20  # one JSON line: an activity photo (base64) is the biggest value
MAX_MEMBERS = 1000

Source = Union[str, os.PathLike, IO[bytes]]


class BackupError(ItaError, ValueError):
    """A backup cannot be written or restored. ``str(exc)`` is an English line for the command
    line; ``code`` and ``params`` pick the Thai text on screen (texts.py ``backup_error_<code>``)."""

    codes = ("no_schema", "exists", "no_dir", "corrupt", "too_large", "not_found", "not_backup", "newer",
             "unsigned", "bad_signature", "bad_value", "rejected")
    text_prefix = "backup_error_"

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message, code=code, **params)

    def _coded_text(self) -> bool:
        return True


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
    signature: str = "no_key"  # valid / unsigned / invalid / no_key (see check_signature)


@dataclass(frozen=True)
class PreviewUser:
    username: str
    display_name: str
    active: bool
    roles: tuple[tuple[Optional[str], str], ...]  # (organisation name, None = every organisation; role)


@dataclass(frozen=True)
class BackupPreview:
    """What a backup brings, checked completely, for an admin to confirm before restoring."""

    created_at: str
    revision: str
    database: str
    total_rows: int
    rows: dict[str, int]
    organizations: tuple[dict[str, Any], ...]  # id, name, kind, province
    users: tuple[PreviewUser, ...]
    signature: str  # valid / unsigned / invalid / no_key


def signing_key() -> Optional[bytes]:
    """``ITA_BACKUP_KEY``: backups made with it are signed, restores with it check the signature."""
    key = get_settings().backup_key
    return key.get_secret_value().encode("utf-8") if key is not None else None


def _mac(key: bytes, manifest_bytes: bytes) -> str:
    return hmac.new(key, manifest_bytes, hashlib.sha256).hexdigest()


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
    from .texts import t  # pure data, no streamlit

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


class _BadValue(ValueError):
    """One value does not fit its column (the message says why)."""


_INT_RANGE = {True: (-(1 << 63), (1 << 63) - 1), False: (-(1 << 31), (1 << 31) - 1)}  # BIGINT / INTEGER


def _json_shape(table: Table, column) -> Optional[type]:
    """``list`` or ``dict`` when the model declares a JSON column as one (None: any JSON value)."""
    model = _models_by_table().get(table.name)
    field = getattr(model, "model_fields", {}).get(column.name) if model is not None else None
    if field is None:
        return None
    annotation = field.annotation
    if get_origin(annotation) is Union:  # Optional[dict[...]]
        options = [a for a in get_args(annotation) if a is not type(None)]
        annotation = options[0] if len(options) == 1 else None
    origin = get_origin(annotation) or annotation
    return origin if origin in (list, dict) else None


def _models_by_table() -> dict[str, type]:
    return {m.class_.__table__.name: m.class_ for m in SQLModel._sa_registry.mappers
            if getattr(m.class_, "__table__", None) is not None}


def _column_codec(table: Table, column) -> Callable[[Any], Any]:
    """A function checking one JSON value against ``column`` (type, range, NOT NULL) and returning
    it as the column's Python value; raises _BadValue. Works on the model's columns and on
    columns reflected from an older schema revision alike."""
    typ = column.type
    if isinstance(typ, TypeDecorator):  # UTCDateTime, AutoString: the type they wrap says it
        typ = typ.impl_instance
    nullable = bool(column.nullable)

    def need(kind, value, what: str):
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise _BadValue(f"expected {what}, found {type(value).__name__} {_show(value)}")

    if isinstance(typ, JSON):
        shape = _json_shape(table, column)

        def convert(v):
            if shape is not None:
                need(shape, v, "a JSON " + ("list" if shape is list else "object"))
            return v
    elif isinstance(typ, Boolean):
        def convert(v):
            need(bool, v, "true or false")
            return v
    elif isinstance(typ, Integer):
        low, high = _INT_RANGE[isinstance(typ, BigInteger)]

        def convert(v):
            need(int, v, "an integer")
            if not low <= v <= high:
                raise _BadValue(f"integer out of range: {v}")
            return v
    elif isinstance(typ, (Float, Numeric)):
        def convert(v):
            need((int, float), v, "a number")
            if not math.isfinite(v):
                raise _BadValue(f"not a finite number: {v}")
            return float(v) if isinstance(typ, Float) else v
    elif isinstance(typ, DateTime):
        def convert(v):
            need(str, v, "a date and time (ISO)")
            try:
                value = dt.datetime.fromisoformat(v)
            except ValueError:
                raise _BadValue(f"not a date and time (ISO): {_show(v)}") from None
            return value if value.utcoffset() is not None else value.replace(tzinfo=dt.timezone.utc)
    elif isinstance(typ, Date):
        def convert(v):
            need(str, v, "a date (YYYY-MM-DD)")
            try:
                return dt.date.fromisoformat(v)
            except ValueError:
                raise _BadValue(f"not a date (YYYY-MM-DD): {_show(v)}") from None
    elif isinstance(typ, LargeBinary):
        def convert(v):
            need(str, v, "bytes (base64)")
            try:
                return base64.b64decode(v, validate=True)
            except ValueError:
                raise _BadValue("not base64") from None
    elif isinstance(typ, Enum):
        kind = typ.enum_class
        allowed = list(typ.enums)

        def convert(v):
            need(str, v, "one of " + ", ".join(allowed))
            if v not in allowed:
                raise _BadValue(f"not one of {', '.join(allowed)}: {_show(v)}")
            return kind(v) if kind is not None else v
    elif isinstance(typ, String):
        length = typ.length

        def convert(v):
            need(str, v, "text")
            if length is not None and len(v) > length:
                raise _BadValue(f"text longer than {length} characters")
            return v
    else:
        def convert(v):
            return v

    def check(v):
        if v is None:
            if not nullable:
                raise _BadValue("empty, but the column is NOT NULL")
            return None
        return convert(v)
    return check


def _show(value: Any) -> str:
    text_ = json.dumps(value, ensure_ascii=False)
    return text_ if len(text_) <= 40 else text_[:37] + "..."


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
        manifest_bytes = json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")
        zf.writestr(MANIFEST_NAME, manifest_bytes)
        if (key := signing_key()) is not None:
            zf.writestr(SIGNATURE_NAME, json.dumps({"alg": "HMAC-SHA256", "mac": _mac(key, manifest_bytes)}))
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
    with db.session_scope(engine, write=True) as s:
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


def _too_large(member: str, size: int, limit: int) -> BackupError:
    return BackupError("too_large", f"{member} in the backup is larger than allowed ({size} bytes, limit {limit})",
                       member=member, size=f"{size:,}", limit=f"{limit:,}")


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
    """Every reading of a backup starts here."""
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
            _check_members(zf)  # a backup's own names and caps first: its errors say which member
            guard.check_zip(zf, guard.BACKUP, error=_corrupt)  # then what every upload gets: ratios, lying sizes
            yield zf
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
            raise _corrupt(str(exc)) from exc


def _check_members(zf: zipfile.ZipFile) -> None:
    """What the archive declares, before anything is inflated: the names a backup may hold, once
    each, and the size of each within its cap."""
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise _corrupt(f"{len(infos)} files in the archive")
    seen: set[str] = set()
    for info in infos:
        name = info.filename
        if name in seen:
            raise _corrupt(f"{name} appears twice")
        seen.add(name)
        cap = {MANIFEST_NAME: MAX_MANIFEST_BYTES, SIGNATURE_NAME: MAX_SIGNATURE_BYTES}.get(name, MAX_MEMBER_BYTES)
        if info.file_size > cap:
            raise _too_large(name, info.file_size, cap)


def _read_capped(zf: zipfile.ZipFile, name: str, cap: int) -> bytes:
    """A small member, read as a stream that stops past ``cap`` whatever the archive declared."""
    parts, size = [], 0
    with zf.open(name) as fh:
        while block := fh.read(min(1 << 16, cap + 1 - size)):
            size += len(block)
            if size > cap:
                raise _too_large(name, size, cap)
            parts.append(block)
    return b"".join(parts)


def _lines(zf: zipfile.ZipFile, member: str) -> Iterator[bytes]:
    """The lines of a table file, each at most MAX_ROW_BYTES, the whole at most MAX_MEMBER_BYTES
    (counted as inflated)."""
    total = 0
    with zf.open(member) as fh:
        while line := fh.readline(MAX_ROW_BYTES + 1):
            total += len(line)
            if len(line) > MAX_ROW_BYTES:
                raise _too_large(f"{member} (one row)", len(line), MAX_ROW_BYTES)
            if total > MAX_MEMBER_BYTES:
                raise _too_large(member, total, MAX_MEMBER_BYTES)
            yield line


def known_revisions() -> list[str]:
    """Alembic revisions this code knows, oldest first."""
    from alembic.script import ScriptDirectory

    from . import config

    script = ScriptDirectory(str(config.MIGRATIONS_DIR))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def read_manifest(zf: zipfile.ZipFile) -> dict[str, Any]:
    """The manifest, checked for shape, app and format; raises BackupError otherwise."""
    return _parse_manifest(_manifest_bytes(zf))


def _manifest_bytes(zf: zipfile.ZipFile) -> bytes:
    if MANIFEST_NAME not in zf.namelist():
        raise BackupError("not_backup", "not a backup of this app (no manifest.json)")
    return _read_capped(zf, MANIFEST_NAME, MAX_MANIFEST_BYTES)


def _parse_manifest(raw: bytes) -> dict[str, Any]:
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
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
        isinstance(v, dict) and isinstance(v.get("rows"), int) and not isinstance(v["rows"], bool) and v["rows"] >= 0
        and isinstance(v.get("sha256"), str)
        for v in tables.values()
    ) and isinstance(manifest.get("schema_revision"), str) and isinstance(manifest.get("created_at"), str)
    if not ok:
        raise _corrupt("manifest.json has missing or malformed fields")
    return manifest


def check_signature(zf: zipfile.ZipFile, manifest_bytes: bytes, *, allow_unsigned: bool = False) -> str:
    """``valid`` (signed with ITA_BACKUP_KEY), or with no key set ``no_key``; with a key set an
    unsigned or wrongly signed file raises BackupError (``unsigned`` / ``bad_signature``) unless
    ``allow_unsigned``, which returns ``unsigned`` / ``invalid`` instead."""
    key = signing_key()
    if key is None:
        return "no_key"
    status = "unsigned"
    if SIGNATURE_NAME in zf.namelist():
        try:
            sig = json.loads(_read_capped(zf, SIGNATURE_NAME, MAX_SIGNATURE_BYTES))
            mac = sig.get("mac") if isinstance(sig, dict) and sig.get("alg") == "HMAC-SHA256" else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            mac = None
        ok = isinstance(mac, str) and hmac.compare_digest(mac.encode("ascii", "replace"),
                                                          _mac(key, manifest_bytes).encode("ascii"))
        status = "valid" if ok else "invalid"
    if status != "valid" and not allow_unsigned:
        if status == "unsigned":
            raise BackupError("unsigned", f"the backup is not signed and {KEY_ENV} is set: refused "
                                          "(restore --allow-unsigned to restore it anyway)")
        raise BackupError("bad_signature", "the backup's signature does not match (edited, or signed with another "
                                           "key): refused (restore --allow-unsigned to restore it anyway)")
    return status


def verify(zf: zipfile.ZipFile, manifest: dict[str, Any], tables: Optional[list[Table]] = None) -> None:
    """Every table file present, nothing else, with the manifest's sha256 and row count (streamed);
    with ``tables`` (the backup is of this schema revision) every value of every row is checked
    against its column too."""
    names = set(zf.namelist())
    expected = {_member(name) for name in manifest["tables"]}
    if extra := sorted(names - expected - {MANIFEST_NAME, SIGNATURE_NAME}):
        raise _corrupt(f"unexpected file {extra[0]}")
    by_name = {t.name: t for t in tables} if tables is not None else {}
    for name, info in manifest["tables"].items():
        member = _member(name)
        if member not in names:
            raise _corrupt(f"{member} missing")
        digest, lines = hashlib.sha256(), 0
        decode = _row_decoder(by_name[name]) if name in by_name else None
        for line in _lines(zf, member):
            digest.update(line)
            lines += 1
            if decode is not None:
                decode(line, lines)
        if digest.hexdigest() != info["sha256"]:
            raise _corrupt(f"checksum mismatch in {member}")
        if lines != info["rows"]:
            raise _corrupt(f"{member} holds {lines} rows, the manifest says {info['rows']}")


def _row_decoder(table: Table) -> Callable[[bytes, int], dict[str, Any]]:
    """Parse one line of ``table``'s file into its typed row; BackupError naming row and column."""
    codecs = {c.name: _column_codec(table, c) for c in table.columns}

    def decode(line: bytes, n: int) -> dict[str, Any]:
        try:
            row = json.loads(line)
        except (ValueError, RecursionError) as exc:
            raise _corrupt(f"{table.name} row {n}: {exc}") from exc
        if not isinstance(row, dict) or set(row) != set(codecs):
            found = sorted(row) if isinstance(row, dict) else type(row).__name__
            raise _corrupt(f"{table.name} row {n}: columns {found} do not match the table's {sorted(codecs)}")
        out = {}
        for column, value in row.items():
            try:
                out[column] = codecs[column](value)
            except _BadValue as exc:
                raise BackupError("bad_value", f"{table.name} row {n}, column {column}: {exc}", table=table.name,
                                  row=n, column=column, detail=str(exc)) from None
        return out
    return decode


def _zip_rows(zf: zipfile.ZipFile, table: Table) -> Iterator[dict[str, Any]]:
    """Decoded rows of ``table`` from the backup, checked and typed for ``table``'s columns."""
    decode = _row_decoder(table)
    for n, line in enumerate(_lines(zf, _member(table.name)), start=1):
        yield decode(line, n)


def _checked(zf: zipfile.ZipFile, *, target_rev: Optional[str], allow_unsigned: bool) -> tuple[dict[str, Any], str]:
    """Everything restore checks before touching the database: the manifest, the signature, the
    schema revision, every table file (checksum, row count) and, for a backup of this revision,
    every value. Returns the manifest and the signature status."""
    raw = _manifest_bytes(zf)
    signature = check_signature(zf, raw, allow_unsigned=allow_unsigned)
    manifest = _parse_manifest(raw)
    revision = manifest["schema_revision"]
    known = known_revisions()
    if revision not in known:
        raise BackupError("newer", f"the backup is of schema revision {revision}, unknown to this app "
                                   f"(at {target_rev}): update the app first", revision=revision)
    if target_rev != known[-1]:
        raise BackupError("no_schema", "the database is not at the newest schema: run init-db first")
    current = revision == target_rev
    if current and set(manifest["tables"]) != {t.name for t in app_tables()}:
        raise _corrupt("the tables do not match the backup's schema revision")
    verify(zf, manifest, app_tables() if current else None)
    return manifest, signature


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


def preview_backup(engine: Engine, *, source: Source, actor: Actor) -> BackupPreview:
    """What restoring ``source`` would bring, after the same complete check as a restore (caps,
    manifest, checksums, every value): the date, the organisations, the users with their roles
    in each organisation, the row counts, and the signature status. Writes nothing. An unsigned
    or wrongly signed file is previewed (status ``unsigned`` / ``invalid``) so the admin sees
    what it holds; restoring it still needs ``allow_unsigned``."""
    with db.session_scope(engine) as s:
        require_database_admin(s, actor=actor)
    target_rev = db.schema_revision(engine)
    with _open_zip(source) as zf:
        manifest, signature = _checked(zf, target_rev=target_rev, allow_unsigned=True)
        current = manifest["schema_revision"] == target_rev
        by_name = {t.name: t for t in app_tables()}

        def rows(name: str) -> Iterator[dict[str, Any]]:
            if name not in manifest["tables"]:
                return
            decode = _row_decoder(by_name[name]) if current else (lambda line, _n: json.loads(line))
            for n, line in enumerate(_lines(zf, _member(name)), start=1):
                yield decode(line, n)

        orgs = tuple({"id": r["id"], "name": r["name"], "kind": r.get("kind"), "province": r.get("province")}
                     for r in rows("organization"))
        org_name = {o["id"]: o["name"] for o in orgs}
        extra: dict[int, list[tuple[Optional[str], str]]] = {}
        for m in rows("orgmembership"):
            extra.setdefault(m["user_id"], []).append((org_name.get(m["organization_id"]), _role(m["role"])))
        users = tuple(
            PreviewUser(username=u["username"], display_name=u.get("display_name") or "", active=bool(u.get("active")),
                        roles=((org_name.get(u["organization_id"]) if u.get("organization_id") is not None else None,
                                _role(u["role"])), *extra.get(u["id"], [])))
            for u in rows("user")
        )
    return BackupPreview(created_at=manifest["created_at"], revision=manifest["schema_revision"],
                         database=str(manifest.get("database") or ""),
                         total_rows=sum(v["rows"] for v in manifest["tables"].values()),
                         rows={k: v["rows"] for k, v in manifest["tables"].items()},
                         organizations=orgs, users=users, signature=signature)


def _role(value: Any) -> str:
    return value.value if isinstance(value, enum.Enum) else str(value)


def restore_backup(engine: Engine, *, source: Source, actor: Actor, file_name: str = "",
                   allow_unsigned: bool = False) -> RestoreResult:
    """Replace every row of the database with the backup in ``source`` (a path or a binary file).

    The file is checked completely (zip, caps, manifest, signature when ITA_BACKUP_KEY is set,
    checksums, row counts, schema revision, every value) before anything is written; the
    replacement is one transaction, so on any failure the current data stays as it was. The
    restore is recorded as ``backup.restore`` in the restored audit trail.
    """
    if not file_name:
        file_name = Path(source).name if isinstance(source, (str, os.PathLike)) else getattr(source, "name", "")
    with db.session_scope(engine) as s:
        require_database_admin(s, actor=actor)
    target_rev = db.schema_revision(engine)
    tables = app_tables()
    with _open_zip(source) as zf:
        manifest, signature = _checked(zf, target_rev=target_rev, allow_unsigned=allow_unsigned)
        revision = manifest["schema_revision"]
        staging = nullcontext() if revision == target_rev else _staged_at_head(zf, manifest)
        with staging as staged:
            if staged is None:
                expected = {k: v["rows"] for k, v in manifest["tables"].items()}
                total = _restore_into(engine, tables, lambda t: _zip_rows(zf, t), expected, actor, manifest, file_name,
                                      signature)
            else:
                with staged.connect() as src:
                    total = _restore_into(engine, tables, lambda t: _stream(src, t), None, actor, manifest, file_name,
                                          signature)
    return RestoreResult(rows=total, tables=len(tables), revision=revision, created_at=manifest["created_at"],
                         signature=signature)


def _restore_into(engine: Engine, tables: list[Table], rows_of, expected, actor: Actor, manifest: dict[str, Any],
                  file_name: str, signature: str = "no_key") -> int:
    try:
        with db.session_scope(engine, write=True) as s:
            conn = s.connection()
            # What the restore replaced (the old audit trail included) stays on record.
            replaced = {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in tables}
            events = models.AuditEvent.__table__
            old_max = conn.execute(select(func.max(events.c.id))).scalar() or 0
            total = _replace_all(conn, tables, rows_of, expected)
            sessions.revoke_all(s, reason=sessions.RESTORE)  # every login ends, the restored ones too
            new_max = conn.execute(select(func.max(events.c.id))).scalar() or 0
            # The actor's id only when the restored data has the same account under it.
            user = s.get(models.User, actor.user_id) if actor.user_id is not None else None
            event = audit.record(s, user_id=user.id if user and user.username == actor.username else None,
                         username=actor.username, action="backup.restore", entity="database",
                         before={"rows": {k: v for k, v in replaced.items() if v}},
                         after={"file": file_name, "backup_created_at": manifest["created_at"], "rows": total,
                                "revision": manifest["schema_revision"], "signature": signature})
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
