"""The database under stress (issue 13, points 8 and 9), on a real SQLite file:

- a write meeting another writer's lock waits its turn and succeeds when the lock is released
  within the busy timeout, and fails with the typed, Thai DatabaseBusy when it is not, leaving the
  data as it was; the CLI says either in one line;
- a SQLite file deleted or replaced under a live engine stops every statement with DatabaseGone:
  nothing is written to the old file, nothing re-creates the path, the CLI prints one line, and
  a page shows the message instead of a traceback.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sqlite3
import threading

import pytest
from sqlmodel import select

from ita_dashboard import cli, db
from ita_dashboard.models import Organization
from ita_dashboard.permissions import Actor
from ita_dashboard.services import orgs
from ita_dashboard.texts import t

from tests.helpers import make_org

BUSY_TEXT = "ฐานข้อมูลกำลังทำงานหนัก กรุณาลองอีกครั้งในอีกครู่"


@pytest.fixture
def sqlite_file(tmp_path):
    path = tmp_path / "ita.db"
    engine = db.make_engine(f"sqlite:///{path}", busy_timeout_s=1.5)
    db.migrate(engine)
    make_org(engine)
    yield path, engine
    engine.dispose()


def org_names(path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [r[0] for r in conn.execute("SELECT name FROM organization ORDER BY id")]
    finally:
        conn.close()


def add_org(engine, name: str) -> None:
    """A service write, as the forms and the CLI make it."""
    with db.session_scope(engine, write=True) as s:
        orgs.create_organization(s, name=name, kind="other", actor=Actor.system())


class LockHolder(threading.Thread):
    """A second writer: another connection that takes SQLite's write lock (BEGIN IMMEDIATE plus a
    row written), holds it until told, then commits."""

    def __init__(self, path) -> None:
        super().__init__(daemon=True)
        self.path, self.holding, self.release, self.committed = path, threading.Event(), threading.Event(), threading.Event()

    def run(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=0)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO organization (name, kind, is_demo, created_at) "
                         "VALUES ('ผู้เขียนอีกราย', 'other', 0, '2025-01-01 00:00:00')")
            self.holding.set()
            self.release.wait(timeout=60)
            conn.execute("COMMIT")
            self.committed.set()
        finally:
            conn.close()


def test_a_write_waits_for_the_other_writer_and_succeeds(sqlite_file):
    path, engine = sqlite_file
    holder = LockHolder(path)
    holder.start()
    assert holder.holding.wait(timeout=30)
    done, errors = threading.Event(), []

    def writer():
        try:
            add_org(engine, "เทศบาลที่รอคิว")
        except Exception as exc:  # noqa: BLE001 -- reported below
            errors.append(exc)
        done.set()

    w = threading.Thread(target=writer)
    w.start()
    # The writer cannot finish while the lock is held; it is released well within the timeout.
    assert not done.wait(timeout=0.3)
    holder.release.set()
    w.join(timeout=30)
    holder.join(timeout=30)
    assert not errors, errors
    assert org_names(path) == ["เทศบาลตำบลทดสอบ", "ผู้เขียนอีกราย", "เทศบาลที่รอคิว"]


@pytest.mark.parametrize("write", [True, False], ids=["immediate", "deferred"])
def test_a_write_that_never_gets_the_lock_is_told_the_database_is_busy(sqlite_file, write):
    path, engine = sqlite_file
    holder = LockHolder(path)
    holder.start()
    assert holder.holding.wait(timeout=30)
    try:
        with pytest.raises(db.DatabaseBusy) as info:
            with db.session_scope(engine, write=write) as s:
                orgs.create_organization(s, name="เทศบาลที่ไม่ได้คิว", kind="other", actor=Actor.system())
    finally:
        holder.release.set()
        holder.join(timeout=30)
    assert str(info.value) == BUSY_TEXT == t("db_error_busy") and info.value.code == "busy"
    assert org_names(path) == ["เทศบาลตำบลทดสอบ", "ผู้เขียนอีกราย"]
    add_org(engine, "ภายหลัง")  # the engine works normally once the lock is free
    assert org_names(path)[-1] == "ภายหลัง"


def test_a_write_session_reads_under_the_write_lock(sqlite_file):
    """BEGIN IMMEDIATE: from its first read, a write unit holds the lock, so another writer
    cannot slip in between its check and its write."""
    path, engine = sqlite_file
    with db.session_scope(engine, write=True) as s:
        s.exec(select(Organization.id)).all()
        other = sqlite3.connect(path, isolation_level=None, timeout=0)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()


def test_cli_says_busy_in_one_line(sqlite_file, monkeypatch, capsys):
    path, engine = sqlite_file
    monkeypatch.setattr(cli, "_engine", lambda: engine)
    holder = LockHolder(path)
    holder.start()
    assert holder.holding.wait(timeout=30)
    try:
        code = cli.main(["add-org", "เทศบาลจากคำสั่ง"])
    finally:
        holder.release.set()
        holder.join(timeout=30)
    err = capsys.readouterr().err
    assert code == 1 and err.strip().splitlines() == [f"error: {BUSY_TEXT}"]
    assert "เทศบาลจากคำสั่ง" not in org_names(path)


def test_cli_reads_a_survey_file_before_it_takes_the_write_lock(sqlite_file, monkeypatch, capsys, tmp_path):
    """Reading a 100,000-row export takes seconds: it happens before the write transaction, so a
    file that turns out unusable is refused while another writer holds the lock, without waiting
    for it (and a good file keeps other writers waiting only while its rows are written)."""
    from tests import survey_files as sf

    path, engine = sqlite_file
    monkeypatch.setattr(cli, "_engine", lambda: engine)
    register = tmp_path / "assets.csv"  # a date and a department, but no answers: not a survey
    register.write_bytes(sf.csv_bytes([["วันที่รับ", "กอง", "เลขครุภัณฑ์", "ราคา"],
                                       *[[f"{d}/1/2568", "กองคลัง", f"7440-001-{d:04d}", f"{d * 1234.5:.2f}"]
                                         for d in range(1, 13)]]))
    holder = LockHolder(path)
    holder.start()
    assert holder.holding.wait(timeout=30)
    try:
        code = cli.main(["import-survey", str(register), "--instrument", "iit"])
    finally:
        holder.release.set()
        holder.join(timeout=30)
    err = capsys.readouterr().err
    assert code == 1 and BUSY_TEXT not in err and len(err.strip().splitlines()) == 1, err


# --- the database file vanished or replaced -------------------------------------------------


def _file_state(path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), os.stat(path).st_ino


def _checkpoint(engine) -> None:
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def test_deleted_file_stops_every_write_and_nothing_reaches_the_old_inode(sqlite_file, tmp_path):
    path, engine = sqlite_file
    _checkpoint(engine)
    keep = tmp_path / "old-inode.db"
    os.link(path, keep)  # a second name for the old inode, to look at it afterwards
    wal = path.with_name(path.name + "-wal")
    before, wal_size = _file_state(keep), wal.stat().st_size if wal.exists() else 0
    path.unlink()

    with pytest.raises(db.DatabaseGone) as info:
        add_org(engine, "บันทึกลงไฟล์ที่ถูกลบ")
    assert str(path) in str(info.value) and "ถูกลบหรือถูกแทนที่" in str(info.value)
    # Every later unit of work too (reads included), and no pool connection re-creates the file.
    engine.dispose()
    for _ in range(2):
        with pytest.raises(db.DatabaseGone):
            with db.session_scope(engine) as s:
                s.exec(select(Organization.id)).all()
    assert not path.exists()
    assert _file_state(keep) == before
    assert (wal.stat().st_size if wal.exists() else 0) == wal_size
    assert "บันทึกลงไฟล์ที่ถูกลบ" not in org_names(keep)


def test_replaced_file_stops_writes_into_either_file(sqlite_file, tmp_path):
    path, engine = sqlite_file
    _checkpoint(engine)
    other_url = f"sqlite:///{tmp_path / 'other.db'}"
    other = db.make_engine(other_url)
    db.migrate(other)
    make_org(other, name="หน่วยงานในไฟล์อื่น")
    _checkpoint(other)
    other.dispose()
    keep = tmp_path / "old-inode.db"
    os.link(path, keep)
    old_state = _file_state(keep)
    os.replace(tmp_path / "other.db", path)  # same name, another file (e.g. a copy put back)
    new_state = _file_state(path)

    with pytest.raises(db.DatabaseGone):
        add_org(engine, "บันทึกหลังไฟล์ถูกแทนที่")
    # Gone for good: still refused when asked again, even though a file is at the path.
    with pytest.raises(db.DatabaseGone):
        db.check_database(engine)
    assert _file_state(keep) == old_state and _file_state(path) == new_state
    assert org_names(path) == ["หน่วยงานในไฟล์อื่น"] and org_names(keep) == ["เทศบาลตำบลทดสอบ"]


def test_cli_prints_one_line_when_the_file_is_gone(sqlite_file, monkeypatch, capsys):
    path, engine = sqlite_file
    monkeypatch.setattr(cli, "_engine", lambda: engine)
    path.unlink()
    assert cli.main(["add-org", "เทศบาลจากคำสั่ง"]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ไฟล์ฐานข้อมูล") and str(path) in lines[0]
    assert not path.exists()


def test_a_new_database_file_is_recorded_when_its_first_connection_makes_it(tmp_path):
    path = tmp_path / "new.db"
    engine = db.make_engine(f"sqlite:///{path}")
    assert engine.sqlite_file_watch.identity is None and not path.exists()
    db.migrate(engine)
    assert engine.sqlite_file_watch.identity == (os.stat(path).st_dev, os.stat(path).st_ino)
    add_org(engine, "หน่วยงานใหม่")
    engine.dispose()


def test_page_shows_the_message_instead_of_a_traceback(monkeypatch, tmp_path):
    from tests.apptest_utils import run_app
    from tests.helpers import make_user

    path = tmp_path / "page.db"
    url = f"sqlite:///{path}"
    engine = db.make_engine(url)
    db.migrate(engine)
    org_id = make_org(engine)
    make_user(engine, username="page_admin", role="admin", org_id=org_id)
    engine.dispose()
    at = run_app(monkeypatch, url, username="page_admin", page="app_pages/admin.py")
    path.unlink()
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert [e.value for e in at.error] == [t("db_error_gone", path=str(path))]
    assert not path.exists()


def test_a_page_saving_into_a_busy_database_says_so_and_saves_later(monkeypatch, tmp_path):
    """The admin page's save button while another writer holds the lock past the (shortened)
    busy timeout: the Thai busy message, no traceback, nothing saved; once free, it saves."""
    from tests.apptest_utils import run_app
    from tests.helpers import make_user
    from ita_dashboard.models import AuditEvent

    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_S", 1.0)
    path = tmp_path / "busy.db"
    url = f"sqlite:///{path}"
    engine = db.make_engine(url)
    db.migrate(engine)
    org_id = make_org(engine)
    make_user(engine, username="busy_admin", role="admin", org_id=org_id)

    def saves() -> int:
        with db.session_scope(engine) as s:
            return len(s.exec(select(AuditEvent).where(AuditEvent.action == "department.update")).all())

    at = run_app(monkeypatch, url, username="busy_admin", page="app_pages/admin.py")
    before = saves()
    holder = LockHolder(path)
    holder.start()
    assert holder.holding.wait(timeout=30)
    try:
        at.button(key="dep_save").click().run()
    finally:
        holder.release.set()
        holder.join(timeout=30)
    assert not at.exception, [e.message for e in at.exception]
    assert BUSY_TEXT in [e.value for e in at.error]
    assert saves() == before
    at.button(key="dep_save").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert BUSY_TEXT not in [e.value for e in at.error] and saves() > before
    engine.dispose()


def test_a_login_is_resumed_while_another_writer_holds_the_lock(monkeypatch, tmp_path):
    """A reload during a long import: noting the session's use would wait for the lock, so the
    token is checked without writing and the person stays logged in (found in review: the busy
    error used to stop the page instead)."""
    from ita_dashboard import sessions as login_sessions
    from ita_dashboard.ui import common
    from tests.helpers import make_user

    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_S", 0.5)
    path = tmp_path / "resume.db"
    url = f"sqlite:///{path}"
    monkeypatch.setenv("DATABASE_URL", url)
    engine = db.make_engine(url)
    db.migrate(engine)
    uid = make_user(engine, username="reloader", role="viewer", org_id=make_org(engine))
    minutes_ago = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    with db.session_scope(engine) as s:  # last used 5 minutes ago: this check would note the use
        token = login_sessions.start(s, user_id=uid, now=minutes_ago)
    holder = LockHolder(path)
    holder.start()
    assert holder.holding.wait(timeout=30)
    try:
        resumed = common._resume(token)
    finally:
        holder.release.set()
        holder.join(timeout=30)
    assert resumed is not None and resumed.user_id == uid
    engine.dispose()
