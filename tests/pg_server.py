"""A PostgreSQL server for the tests.

``TEST_DATABASE_URL`` (any role allowed to CREATE DATABASE) wins when set; otherwise
:func:`start_throwaway_server` runs ``initdb`` + ``pg_ctl`` on a temp directory, listening on a
free port of 127.0.0.1 with trust auth, and :meth:`PgServer.stop` removes it again.
As root, the server binaries run as the ``postgres`` user (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

# Durability is worthless for a throwaway cluster; turning it off makes CREATE DATABASE and
# migrations several times faster.
_FAST_SETTINGS = ["fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=100"]


class PgUnavailable(RuntimeError):
    """No PostgreSQL server could be found or started (the message says why)."""


def normalize_url(url: str) -> str:
    """Spell out the psycopg driver, as ita_dashboard.config does for DATABASE_URL."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def find_pg_bin() -> Path | None:
    """Directory holding initdb/pg_ctl: PATH first, else the newest Debian version."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return versions[-1].parent if versions else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PgServer:
    admin_url: str  # superuser (or CREATEDB role) URL, database "postgres" or the given one
    tmpdir: Path | None = None  # set when we started the server ourselves
    pg_ctl: list[str] | None = None  # command prefix to stop it
    log_file: Path | None = None

    def stop(self) -> None:
        if self.tmpdir is None:
            return
        if self.pg_ctl:
            subprocess.run(
                [*self.pg_ctl, "-D", str(self.tmpdir / "data"), "-m", "immediate", "-w", "stop"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60, check=False,
            )
        shutil.rmtree(self.tmpdir, ignore_errors=True)
        self.tmpdir = None

    def log_tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-n:])
        except (OSError, AttributeError):
            return ""


def start_throwaway_server() -> PgServer:
    """initdb + pg_ctl start on a fresh temp dir; raises PgUnavailable with the reason."""
    bindir = find_pg_bin()
    if bindir is None:
        raise PgUnavailable("PostgreSQL server binaries (initdb, pg_ctl) not found; "
                            "install the 'postgresql' package or set TEST_DATABASE_URL")
    prefix: list[str] = []
    # On tmpfs when there is one: CREATE DATABASE measured 10x faster there than on disk.
    shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    tmpdir = Path(tempfile.mkdtemp(prefix="ita-pg-", dir=shm))
    if os.geteuid() == 0:
        # initdb refuses root: run as the postgres user, who must own the directory.
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(tmpdir, ignore_errors=True)
            raise PgUnavailable("running as root and no 'postgres' user exists to run initdb") from None
        os.chown(tmpdir, pw.pw_uid, pw.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]

    def run(args: list[str], what: str) -> None:
        res = subprocess.run(prefix + args, capture_output=True, text=True, timeout=120,
                             stdin=subprocess.DEVNULL)
        if res.returncode != 0:
            out = (res.stdout + res.stderr).strip()
            raise PgUnavailable(f"{what} failed ({res.returncode}): {out[-2000:]}")

    log_file = tmpdir / "server.log"
    sock_dir = tmpdir / "sock"
    server = PgServer(admin_url="", tmpdir=tmpdir, pg_ctl=prefix + [str(bindir / "pg_ctl")], log_file=log_file)
    try:
        run([str(bindir / "initdb"), "-D", str(tmpdir / "data"), "-U", "postgres", "--auth=trust",
             "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions"], "initdb")
        run(["mkdir", "-p", str(sock_dir)], "mkdir socket dir")
        last_error: PgUnavailable | None = None
        for _ in range(3):  # the free port may be taken by someone else in between: retry
            port = free_port()
            opts = " ".join([f"-p {port}", "-c listen_addresses=127.0.0.1", f"-k {sock_dir}"]
                            + [f"-c {s}" for s in _FAST_SETTINGS])
            try:
                run([str(bindir / "pg_ctl"), "-D", str(tmpdir / "data"), "-l", str(log_file),
                     "-o", opts, "-w", "-t", "60", "start"], "pg_ctl start")
            except PgUnavailable as exc:
                last_error = PgUnavailable(f"{exc}\n{server.log_tail()}")
                continue
            server.admin_url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
            return server
        raise last_error or PgUnavailable("pg_ctl start failed")
    except BaseException:
        server.stop()
        raise


def check_connect(url: str) -> None:
    """Raise PgUnavailable unless ``url`` accepts a connection."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 -- any failure means "not usable"
        raise PgUnavailable(f"cannot connect to {make_url(url).render_as_string()}: {exc}") from exc
    finally:
        engine.dispose()


def unique_db_name(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:10]}"


def database_url(admin_url: str, name: str) -> str:
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _autocommit(admin_url: str, *statements: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for stmt in statements:
                conn.execute(text(stmt))
    finally:
        engine.dispose()


def create_database(admin_url: str, name: str, template: str | None = None) -> None:
    tmpl = f' TEMPLATE "{template}"' if template else ""
    _autocommit(admin_url, f'CREATE DATABASE "{name}"{tmpl}')


def drop_database(admin_url: str, name: str, *, plain_retries: int = 3) -> None:
    """Drop ``name``, ending sessions left in it.

    ``WITH (FORCE)`` signals every other backend in the database, and PostgreSQL refuses that to a
    role that is not a member of each backend's role. An autovacuum worker belongs to no role, so a
    CREATEDB role that is not a superuser (CI's ``ita_test``) gets ``InsufficientPrivilege`` whenever
    autovacuum happens to be working in the database being dropped. A plain ``DROP DATABASE`` stops
    autovacuum workers itself and waits up to 5 s for other sessions to leave, so on that refusal
    the plain form is tried instead, and FORCE again if a session of our own is still there.
    """
    force = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    plain = f'DROP DATABASE IF EXISTS "{name}"'
    refused = _refused(admin_url, force, psycopg.errors.InsufficientPrivilege)
    for _ in range(plain_retries):
        if refused is None or _refused(admin_url, plain, psycopg.errors.ObjectInUse) is None:
            return
        refused = _refused(admin_url, force, psycopg.errors.InsufficientPrivilege)  # the rest may be ours
    if refused is not None:
        raise refused


def _refused(admin_url: str, statement: str, error: type[Exception]) -> DBAPIError | None:
    """Run ``statement``: None when it went through, the error when PostgreSQL refused it with
    ``error`` (any other error is raised)."""
    try:
        _autocommit(admin_url, statement)
        return None
    except DBAPIError as exc:
        if not isinstance(exc.orig, error):
            raise
        return exc
