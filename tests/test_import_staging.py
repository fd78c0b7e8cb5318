"""Long survey imports write in short transactions and stay all or nothing (issue 13, point 8).

On SQLite an import writes its rows chunk by chunk under a ``staging`` batch, each chunk its own
short write transaction, then flips the batch to ``done`` in one short transaction; on PostgreSQL
it is one transaction, which other writers do not wait for (services/survey_staging.py). Checked
on SQLite and PostgreSQL, with the import's chunks slowed down so that it lasts seconds:

- another writer (a page saving progress) gets in during the import, on SQLite within a busy
  timeout shorter than the import;
- a reader sees the counts of before the import until the flip, then the new ones;
- a failure in the last chunk or in the flip leaves nothing counted and nothing stored;
- an import killed half-way (SIGKILL) leaves the counts as they were; the next import deletes its
  rows and counts right; app start deletes abandoned imports too.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from ita_dashboard import db
from ita_dashboard.importers.surveys import parse_survey_file
from ita_dashboard.models import AuditEvent, ImportBatch, SurveyResponse
from ita_dashboard.permissions import Actor
from ita_dashboard.services import orgs, survey_import, survey_staging, survey_undo, uploads
from ita_dashboard.services.surveys import instrument_status

from tests import survey_files as sf
from tests.helpers import make_org

ROOT = Path(__file__).resolve().parent.parent
FIRST = sf.make_responses(40, seed=3)
SECOND = sf.make_responses(300, seed=4, start=sf.dt.datetime(2025, 3, 1, 8, 0), step_minutes=31)


@pytest.fixture
def org_id(engine) -> int:
    return make_org(engine)


def do_import(engine, org_id: int, data: bytes, *, progress=None):
    parsed = parse_survey_file(data, filename="export.csv")
    with db.session_scope(engine) as s:
        return survey_import.import_survey(s, organization_id=org_id, instrument="iit", parsed=parsed,
                                           fiscal_year=None, file_name="export.csv", file_bytes=data, user_id=None,
                                           progress=progress)


def counted(engine, org_id: int) -> int:
    with db.session_scope(engine) as s:
        return instrument_status(s, organization_id=org_id, fiscal_year=2568, instrument="iit").responses


def stored_rows(engine) -> int:
    with db.session_scope(engine) as s:
        return s.execute(select(func.count(SurveyResponse.id))).scalar_one()


def staging_batches(engine) -> list[int]:
    with db.session_scope(engine) as s:
        return list(s.execute(select(ImportBatch.id).where(ImportBatch.state == survey_staging.STAGING)).scalars())


def slow_chunks(monkeypatch, *, seconds: float, chunk: int = 50) -> None:
    """Chunks of ``chunk`` rows, each holding its write transaction ``seconds`` longer."""
    real = survey_import._insert_chunk

    def slow(session, params):
        n = real(session, params)
        time.sleep(seconds)
        return n

    monkeypatch.setattr(survey_import, "CHUNK_SIZE", chunk)
    monkeypatch.setattr(survey_import, "_insert_chunk", slow)


def test_other_writers_get_in_and_readers_see_the_old_counts_until_the_flip(engine, org_id, monkeypatch):
    do_import(engine, org_id, sf.google_csv(FIRST))
    assert counted(engine, org_id) == 40
    slow_chunks(monkeypatch, seconds=0.4)  # 6 chunks: the import holds chunks for 2.4 s and more
    # The other writer gives up after 1.5 s: less than the import lasts, more than one chunk.
    other = db.make_engine(engine.url.render_as_string(hide_password=False), busy_timeout_s=1.5)
    started, finished, errors, seen = threading.Event(), threading.Event(), [], []

    def progress(done, total):
        started.set()

    def run():
        try:
            seen.append(do_import(engine, org_id, sf.google_csv(FIRST + SECOND), progress=progress))
        except Exception as exc:  # noqa: BLE001 -- reported below
            errors.append(exc)
        finished.set()

    th = threading.Thread(target=run)
    th.start()
    try:
        assert started.wait(timeout=60)
        t0 = time.monotonic()
        with db.session_scope(other, write=True) as s:  # a page saving something
            orgs.create_organization(s, name="เทศบาลที่บันทึกระหว่างนำเข้า", kind="other", actor=Actor.system())
        waited = time.monotonic() - t0
        assert not finished.is_set(), "the write should have got in during the import"
        assert waited < 1.5
        # A reader during the import: the counts, the vanished list and the batch list of before.
        assert counted(engine, org_id) == 40
        with db.session_scope(engine) as s:
            assert survey_undo.vanished_responses(s, organization_id=org_id) == []
            assert len(uploads.list_batches(s, organization_id=org_id)) == 1
        if engine.dialect.name == "sqlite":  # chunks committed: the import's rows are there, hidden
            assert stored_rows(engine) > 40
        else:  # PostgreSQL: one transaction, its rows not yet committed
            assert stored_rows(engine) == 40
    finally:
        th.join(timeout=120)
        other.dispose()
    assert not errors, errors
    assert (seen[0].new, seen[0].unchanged, seen[0].imported) == (300, 40, 300)
    assert counted(engine, org_id) == 340
    assert staging_batches(engine) == []
    with db.session_scope(engine) as s:
        assert len(uploads.list_batches(s, organization_id=org_id)) == 2
        names = s.execute(text("SELECT name FROM organization ORDER BY id")).scalars().all()
    assert "เทศบาลที่บันทึกระหว่างนำเข้า" in names


def test_one_write_transaction_takes_chunks_until_it_has_held_the_lock_hold_s(engine, org_id, monkeypatch):
    """SQLite: fewer, longer write transactions than chunks (each one costs a commit and a gap),
    each ending once it has held the lock ``HOLD_S``; progress is reported between them."""
    do_import(engine, org_id, sf.google_csv(FIRST))
    data = sf.google_csv(FIRST + SECOND)  # 300 new rows, then the 40 stored ones' membership
    slow_chunks(monkeypatch, seconds=0.1)  # 6 chunks of 50 rows, each at least 0.1 s
    monkeypatch.setattr(survey_staging, "HOLD_S", 0.35)
    seen: list[int] = []
    r = do_import(engine, org_id, data, progress=lambda done, total: seen.append(done))
    assert (r.new, r.unchanged) == (300, 40) and counted(engine, org_id) == 340
    if engine.dialect.name == "postgresql":  # one transaction: every chunk reported
        assert seen == [50, 100, 150, 200, 250, 300, 340]
        return
    new_rows = [d for d in seen if d <= 300]
    assert new_rows[-1] == 300 and seen[-1] == 340
    assert 2 <= len(new_rows) < 6, seen  # 0.6 s of chunks: more than one transaction, fewer than chunks
    monkeypatch.setattr(survey_staging, "HOLD_S", 0.0)
    seen.clear()
    do_import(engine, make_org(engine, name="อบต.ทดสอบ"), data, progress=lambda done, total: seen.append(done))
    assert seen == [50, 100, 150, 200, 250, 300, 340]  # no hold: one transaction per chunk


@pytest.mark.parametrize("where", ["last chunk", "flip"])
def test_a_failure_in_the_last_chunk_or_the_flip_leaves_nothing(engine, org_id, monkeypatch, where):
    do_import(engine, org_id, sf.google_csv(FIRST))
    monkeypatch.setattr(survey_import, "CHUNK_SIZE", 100)
    data = sf.google_csv(FIRST + SECOND)
    if where == "last chunk":
        real, calls = survey_import._insert_chunk, []

        def failing(session, params):
            calls.append(len(params))
            if len(calls) == 3:  # 300 new rows: the third chunk is the last
                raise RuntimeError("disk full")
            return real(session, params)

        monkeypatch.setattr(survey_import, "_insert_chunk", failing)
    else:
        def failing_audit(*args, **kwargs):
            raise RuntimeError("disk full")

        monkeypatch.setattr(survey_import.audit, "record", failing_audit)
    with pytest.raises(RuntimeError, match="disk full"):
        do_import(engine, org_id, data)
    assert counted(engine, org_id) == 40
    assert stored_rows(engine) == 40
    assert staging_batches(engine) == []
    with db.session_scope(engine) as s:
        assert s.execute(select(func.count(ImportBatch.id))).scalar_one() == 1
        assert s.execute(select(func.count(AuditEvent.id)).where(AuditEvent.action == "survey.import")).scalar_one() == 1
    monkeypatch.undo()
    r = do_import(engine, org_id, data)
    assert (r.new, r.unchanged) == (300, 40) and counted(engine, org_id) == 340


KILLED = r"""
import sys, time
from ita_dashboard import db
from ita_dashboard.importers.surveys import parse_survey_file
from ita_dashboard.services import survey_import

url, path, org_id = sys.argv[1], sys.argv[2], int(sys.argv[3])
survey_import.CHUNK_SIZE = 50
real = survey_import._insert_chunk

def slow(session, params):
    n = real(session, params)
    time.sleep(0.5)
    return n

survey_import._insert_chunk = slow
data = open(path, "rb").read()
parsed = parse_survey_file(data, filename="export.csv")
engine = db.make_engine(url)
with db.session_scope(engine) as s:
    survey_import.import_survey(s, organization_id=org_id, instrument="iit", parsed=parsed, fiscal_year=None,
                                file_name="export.csv", file_bytes=data, user_id=None,
                                progress=lambda done, total: print(done, flush=True))
print("finished", flush=True)
"""


def test_an_import_killed_half_way_counts_nothing_and_the_next_import_cleans_up(engine, org_id, tmp_path):
    do_import(engine, org_id, sf.google_csv(FIRST))
    data = sf.google_csv(FIRST + SECOND)
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    proc = subprocess.Popen([sys.executable, "-c", KILLED, engine.url.render_as_string(hide_password=False),
                             str(path), str(org_id)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline() for _ in range(2)]  # two chunks committed, the third under way
        assert [int(x) for x in lines] == [50, 100], lines
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    # Killed half-way: on SQLite its rows are stored but count nowhere, and no one lists its batch;
    # on PostgreSQL (one transaction) nothing of it was committed.
    if engine.dialect.name == "sqlite":
        assert len(staging_batches(engine)) == 1
        assert stored_rows(engine) >= 140
    else:
        assert staging_batches(engine) == [] and stored_rows(engine) == 40
    assert counted(engine, org_id) == 40
    with db.session_scope(engine) as s:
        assert len(uploads.list_batches(s, organization_id=org_id)) == 1
        assert survey_undo.vanished_responses(s, organization_id=org_id) == []
    # The next import of the survey deletes them first, then imports as if nothing happened.
    r = do_import(engine, org_id, data)
    assert (r.new, r.unchanged, r.vanished) == (300, 40, 0)
    assert counted(engine, org_id) == 340 and stored_rows(engine) == 340
    assert staging_batches(engine) == []


def test_app_start_deletes_abandoned_imports_and_leaves_live_ones(engine, org_id, monkeypatch):
    do_import(engine, org_id, sf.google_csv(FIRST))
    # An import that failed and could not clean up after itself (the process died, say).
    monkeypatch.setattr(survey_staging.Staging, "clean", lambda self, batch_id: None)
    real = survey_import._insert_chunk
    calls = []

    def failing(session, params):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("killed")
        return real(session, params)

    monkeypatch.setattr(survey_import, "CHUNK_SIZE", 100)
    monkeypatch.setattr(survey_import, "_insert_chunk", failing)
    with pytest.raises(RuntimeError):
        do_import(engine, org_id, sf.google_csv(FIRST + SECOND))
    monkeypatch.undo()
    if engine.dialect.name == "postgresql":  # one transaction: its rollback left nothing behind
        assert staging_batches(engine) == [] and stored_rows(engine) == 40
        assert survey_staging.clear_abandoned(engine) == 0
        return
    [abandoned] = staging_batches(engine)
    assert survey_staging.clear_abandoned(engine) == 0  # a lease still running is a live import: left alone
    with db.session_scope(engine) as s:
        s.execute(text("UPDATE importbatch SET lease_until = '2000-01-01 00:00:00.000000' WHERE id = :b"),
                  {"b": abandoned})
    assert survey_staging.clear_abandoned(engine) == 1
    assert staging_batches(engine) == [] and stored_rows(engine) == 40 and counted(engine, org_id) == 40


def test_an_undo_during_an_import_of_the_survey_waits_or_says_busy(engine, org_id, monkeypatch):
    first = do_import(engine, org_id, sf.google_csv(FIRST))
    slow_chunks(monkeypatch, seconds=0.3)
    started, results = threading.Event(), []
    th = threading.Thread(target=lambda: results.append(
        do_import(engine, org_id, sf.google_csv(FIRST + SECOND), progress=lambda d, t: started.set())))
    th.start()
    try:
        assert started.wait(timeout=60)
        if engine.dialect.name == "sqlite":
            with pytest.raises(db.DatabaseBusy):
                with db.session_scope(engine, write=True) as s:
                    survey_undo.undo_batch(s, batch_id=first.batch_id, user_id=None)
        else:  # PostgreSQL: the undo waits for the import's advisory lock, then undoes
            with db.session_scope(engine) as s:
                survey_undo.undo_batch(s, batch_id=first.batch_id, user_id=None)
            assert results, "the undo should have waited for the import"
    finally:
        th.join(timeout=120)
    assert results and results[0].new == 300


def test_a_click_during_the_import_does_not_cut_it_short(engine, org_id, monkeypatch):
    """The upload page's progress bar (ui/upload_views.ImportProgress): Streamlit raises a
    StopException / RerunException at the first ``st`` call after the user clicks something. The
    bar swallows it, the import runs to its end, and the request is raised again afterwards."""
    from streamlit.runtime.scriptrunner_utils.exceptions import StopException

    from ita_dashboard.ui.upload_views import ImportProgress

    class Slot:  # an st.empty() slot while a click is pending: every st call raises
        calls = 0

        def progress(self, value):
            self.calls += 1
            raise StopException()

        def empty(self):
            raise StopException()

    monkeypatch.setattr(survey_import, "CHUNK_SIZE", 50)  # several chunks, so several progress calls
    slot = Slot()
    progress = ImportProgress(slot)
    result = do_import(engine, org_id, sf.google_csv(FIRST + SECOND), progress=progress)
    assert result.imported == len(FIRST) + len(SECOND)
    assert counted(engine, org_id) == result.imported and staging_batches(engine) == []
    assert slot.calls == 1  # no drawing after the request
    with pytest.raises(StopException):
        progress.done()  # the click takes effect now, with the rows safe

    # Without it, the same click abandons the import: nothing counts (what the page did before).
    with pytest.raises(StopException):
        do_import(engine, make_org(engine, name="อบต.ทดสอบ"), sf.google_csv(FIRST),
                  progress=lambda done, total: slot.progress(done))


class _Died(BaseException):
    """A process killed at this point: nothing after it runs, not even its cleanup."""


def _abandon_an_import(engine, org_id, monkeypatch, data: bytes) -> None:
    """An import of the survey that dies after writing its rows and membership, before its flip
    (and so before it could delete them)."""
    def dying_flip(self, batch):
        raise _Died()

    monkeypatch.setattr(survey_staging.Staging, "flip", dying_flip)
    monkeypatch.setattr(survey_staging.Staging, "clean", lambda self, batch_id: None)
    with pytest.raises(_Died):
        do_import(engine, org_id, data)
    monkeypatch.undo()


def test_an_undo_beside_an_abandoned_import_deletes_it_first_or_says_busy(engine, org_id, monkeypatch):
    first = do_import(engine, org_id, sf.google_csv(FIRST))
    # The same rows again, with 300 more: its membership holds the first batch's 40 rows.
    _abandon_an_import(engine, org_id, monkeypatch, sf.google_csv(FIRST + SECOND))
    if engine.dialect.name == "sqlite":
        [abandoned] = staging_batches(engine)
        # Its lease still runs (this process is alive): an import may be at work, the undo says busy.
        with pytest.raises(db.DatabaseBusy):
            with db.session_scope(engine, write=True) as s:
                survey_undo.undo_batch(s, batch_id=first.batch_id, user_id=None)
        assert staging_batches(engine) == [abandoned] and counted(engine, org_id) == 40
        with db.session_scope(engine) as s:
            s.execute(text("UPDATE importbatch SET lease_until = '2000-01-01 00:00:00.000000' WHERE id = :b"),
                      {"b": abandoned})
    else:  # one transaction: nothing of it is left
        assert staging_batches(engine) == []
    with db.session_scope(engine, write=True) as s:
        assert survey_undo.undo_batch(s, batch_id=first.batch_id, user_id=None) == 40
    assert staging_batches(engine) == [] and stored_rows(engine) == 0 and counted(engine, org_id) == 0
    r = do_import(engine, org_id, sf.google_csv(FIRST + SECOND))
    assert (r.new, r.unchanged) == (340, 0) and counted(engine, org_id) == 340


class _CleanerKilled(Exception):
    pass


@pytest.mark.parametrize("when", ["between chunks", "before the flip"])
def test_a_cleaner_takes_a_stalled_import_over_and_the_import_never_counts(engine, org_id, monkeypatch, when):
    """An importer stalls past its lease; a cleaner (app start) finds the batch abandoned and takes
    it over. The importer then stops at its next chunk or at its flip ("busy"), on SQLite; on
    PostgreSQL its advisory lock keeps the cleaner out. Before the flip the cleaner dies after
    deleting the rows and membership, before the batch: the import must not become ``done``."""
    do_import(engine, org_id, sf.google_csv(FIRST))
    monkeypatch.setattr(survey_import, "CHUNK_SIZE", 100)
    monkeypatch.setattr(survey_staging, "HOLD_S", 0.0)  # one transaction per chunk
    data = sf.google_csv(FIRST + SECOND)  # 300 new rows in 3 chunks, then the 40 stored ones' membership
    if when == "before the flip":
        real_text = survey_staging.sql_text

        def dying_text(sql):
            if sql.lstrip().upper().startswith("DELETE FROM IMPORTBATCH"):
                raise _CleanerKilled()
            return real_text(sql)

    cleaned = []

    def progress(done, total):
        if cleaned or done != (100 if when == "between chunks" else total):
            return
        with engine.begin() as c:
            c.execute(text("UPDATE importbatch SET lease_until = '2000-01-01 00:00:00.000000' "
                           "WHERE state = 'staging'"))
        if when == "before the flip":
            monkeypatch.setattr(survey_staging, "sql_text", dying_text)
        try:
            cleaned.append(survey_staging.clear_abandoned(engine))
        except _CleanerKilled:
            cleaned.append("killed")
        finally:
            monkeypatch.setattr(survey_staging, "sql_text", real_text if when == "before the flip"
                                else survey_staging.sql_text)

    if engine.dialect.name == "postgresql":
        r = do_import(engine, org_id, data, progress=progress)
        assert cleaned == [0] and r.new == 300 and counted(engine, org_id) == 340
        return
    with pytest.raises(db.DatabaseBusy):
        do_import(engine, org_id, data, progress=progress)
    assert cleaned == ([1] if when == "between chunks" else ["killed"])
    assert counted(engine, org_id) == 40
    with db.session_scope(engine) as s:
        assert [b.id for b in uploads.list_batches(s, organization_id=org_id)] == [1]
    if when == "before the flip":  # the dead cleaner's batch: gone at the next cleanup
        with db.session_scope(engine) as s:
            s.execute(text("UPDATE importbatch SET lease_until = '2000-01-01 00:00:00.000000' "
                           "WHERE state = 'staging'"))
        assert survey_staging.clear_abandoned(engine) == 1
    assert staging_batches(engine) == [] and stored_rows(engine) == 40
    r = do_import(engine, org_id, data)
    assert (r.new, r.unchanged) == (300, 40) and counted(engine, org_id) == 340


def test_an_owner_of_this_host_and_pid_but_another_process_is_dead(monkeypatch):
    """A restarted container often has the same host name and pid: the owner's token tells them apart."""
    host, pid, later = survey_staging.socket.gethostname(), os.getpid(), survey_staging.utcnow() + \
        survey_staging.dt.timedelta(seconds=60)
    me = survey_staging.owner()
    assert me.startswith(f"{host}:{pid}:") and me == survey_staging.owner()
    assert survey_staging.lease_alive(me, later)
    assert survey_staging.lease_alive("cleaner:" + me, later)
    assert not survey_staging.lease_alive(f"{host}:{pid}:{'0' * 32}", later)  # an earlier process
    assert not survey_staging.lease_alive(f"cleaner:{host}:{pid}:{'0' * 32}", later)
    assert not survey_staging.lease_alive(me, survey_staging.utcnow() - survey_staging.dt.timedelta(seconds=1))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()
    assert not survey_staging.lease_alive(f"{host}:{dead}:{'0' * 32}", later)
    assert survey_staging.lease_alive(f"elsewhere:{dead}:{'0' * 32}", later)  # another host: its lease tells
    # Owners written before tokens (host:pid) are read as before.
    assert survey_staging.lease_alive(f"{host}:{pid}", later)
    assert not survey_staging.lease_alive(f"{host}:{dead}", later)
    assert survey_staging.lease_alive(f"elsewhere:{dead}", later)


def test_an_import_of_an_earlier_process_with_the_same_pid_is_cleaned_at_once(sqlite_engine, monkeypatch):
    engine = sqlite_engine
    org_id = make_org(engine)
    first = do_import(engine, org_id, sf.google_csv(FIRST))
    _abandon_an_import(engine, org_id, monkeypatch, sf.google_csv(FIRST + SECOND))
    [abandoned] = staging_batches(engine)
    host, pid = survey_staging.socket.gethostname(), os.getpid()
    with db.session_scope(engine) as s:  # written by the app before its restart, lease still running
        s.execute(text("UPDATE importbatch SET lease_owner = :o WHERE id = :b"),
                  {"o": f"{host}:{pid}:{'0' * 32}", "b": abandoned})
    monkeypatch.setattr(survey_staging, "WAIT_S", 2.0)  # a live lease would make the import fail
    r = do_import(engine, org_id, sf.google_csv(FIRST + SECOND))
    assert (r.new, r.unchanged) == (300, 40) and counted(engine, org_id) == 340
    assert staging_batches(engine) == []
    with db.session_scope(engine, write=True) as s:  # its 40 rows live on in the second batch
        assert survey_undo.undo_batch(s, batch_id=first.batch_id, user_id=None) == 0
    assert counted(engine, org_id) == 340
