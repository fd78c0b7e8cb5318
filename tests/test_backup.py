"""Backup and restore (ita_dashboard/backup.py): round trips across SQLite and PostgreSQL, a
consistent snapshot while another thread writes, refusal of damaged or foreign files with the data
untouched, rollback of a restore the database rejects halfway, permissions, the CLI and the page."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import shutil
import threading
import zipfile
import zlib
from pathlib import Path

import pytest
from sqlalchemy import MetaData
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from ita_dashboard import backup, db
from ita_dashboard.models import (Activity, AuditEvent, Department, ImportBatch, Organization, SurveyForm, SurveyResponse,
                                  decode_answers)
from ita_dashboard.permissions import Actor, PermissionDenied
from ita_dashboard.services import orgs

from tests.helpers import actor_for, make_demo_db, make_org, make_user

SYSTEM = Actor.system()
PHOTO = bytes(range(256)) * 3  # every byte value: base64 must carry it unchanged


# --- helpers --------------------------------------------------------------------------------


def dump(engine, *, with_backup_events: bool = False) -> dict[str, list[tuple]]:
    """Every row of every table, all columns, by primary key (backup.* audit rows left out unless asked)."""
    out = {}
    with engine.connect() as conn:
        for table in backup.app_tables():
            query = sa_select(table).order_by(*table.primary_key.columns)
            if table.name == "auditevent" and not with_backup_events:
                query = query.where(~table.c.action.startswith("backup."))
            out[table.name] = [tuple(r) for r in conn.execute(query)]
    return out


def fingerprint(engine) -> str:
    return hashlib.sha256(repr(dump(engine, with_backup_events=True)).encode()).hexdigest()


def zip_rows(path, table: str) -> list[dict]:
    with zipfile.ZipFile(path) as zf:
        return [json.loads(line) for line in zf.read(f"tables/{table}.jsonl").splitlines()]


def rewrite(src: Path, dest: Path, *, drop=(), replace=None, manifest=None, fix_checksums=True) -> Path:
    """A copy of backup ``src`` with members dropped/replaced and the manifest edited; the manifest's
    checksums and row counts follow the new contents unless ``fix_checksums`` is False."""
    replace = replace or {}
    with zipfile.ZipFile(src) as zin:
        man = json.loads(zin.read(backup.MANIFEST_NAME))
        members = {n: zin.read(n) for n in zin.namelist() if n != backup.MANIFEST_NAME and n not in drop}
    members.update(replace)
    if fix_checksums:
        for name, info in man["tables"].items():
            data = members.get(f"tables/{name}.jsonl")
            if data is not None:
                info["sha256"], info["rows"] = hashlib.sha256(data).hexdigest(), data.count(b"\n")
    if manifest:
        manifest(man)
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in members.items():
            zout.writestr(name, data)
        if backup.MANIFEST_NAME not in drop:
            zout.writestr(backup.MANIFEST_NAME, json.dumps(man))
    return dest


@pytest.fixture(scope="module")
def demo_source(tmp_path_factory):
    """The demo database plus an activity photo, and a backup of it: (engine URL, backup path)."""
    tmp = tmp_path_factory.mktemp("backup")
    url = make_demo_db(tmp / "demo.db")
    engine = db.make_engine(url)
    with db.session_scope(engine) as s:
        s.add(Activity(organization_id=1, date=dt.date(2025, 1, 15), title="ภาพกิจกรรม", photo=PHOTO, photo_mime="image/png"))
    backup.create_backup(engine, path=tmp / "demo.zip", actor=SYSTEM)
    engine.dispose()
    return url, tmp / "demo.zip"


@pytest.fixture
def demo_engine(demo_source, tmp_path):
    """A private copy of the demo database (tests may write to it)."""
    shutil.copy(demo_source[0].removeprefix("sqlite:///"), tmp_path / "demo.db")
    engine = db.make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def demo_zip(demo_source):
    return demo_source[1]


# --- round trips ----------------------------------------------------------------------------


def test_backup_content_is_portable_json(demo_zip):
    with zipfile.ZipFile(demo_zip) as zf:
        man = json.loads(zf.read("manifest.json"))
    assert man["app"] == "ita-dashboard" and man["format"] == 1 and man["schema_revision"] == backup.known_revisions()[-1]
    assert list(man["tables"]) == [t.name for t in backup.app_tables()]  # parents first
    assert man["tables"]["surveyresponse"]["rows"] > 100 and man["total_rows"] == sum(v["rows"] for v in man["tables"].values())
    photo_rows = [r for r in zip_rows(demo_zip, "activity") if r["photo"]]
    assert [r["photo"] for r in photo_rows] == [__import__("base64").b64encode(PHOTO).decode()]
    response = zip_rows(demo_zip, "surveyresponse")[0]
    assert isinstance(response["answer_codes"], list) and response["submitted_at"].endswith("+00:00")
    form = next(f for f in zip_rows(demo_zip, "surveyform") if f["id"] == response["form_id"])
    assert isinstance(form["questions"], list) and isinstance(form["scales"], list)  # JSON as JSON
    assert response["instrument"] in ("iit", "eit")


def test_round_trip_gives_identical_rows(engine, demo_engine, demo_zip):
    """SQLite → SQLite and SQLite → PostgreSQL: every column of every row comes back."""
    result = backup.restore_backup(engine, source=demo_zip, actor=SYSTEM)
    expected = dump(demo_engine)
    assert dump(engine) == expected
    assert result.rows == sum(len(rows) for rows in expected.values())
    with db.session_scope(engine) as s:
        photo = s.exec(select(Activity.photo).where(col(Activity.photo).is_not(None))).one()
        events = s.exec(select(AuditEvent).where(AuditEvent.action == "backup.restore")).all()
        # PostgreSQL sequences follow the restored ids: a new organisation gets a fresh id.
        new = orgs.create_organization(s, name="เทศบาลใหม่", kind="other", actor=SYSTEM)
    assert photo == PHOTO
    assert len(events) == 1 and events[0].after["file"] == "demo.zip" and events[0].after["rows"] == result.rows
    assert new.id > max(r[0] for r in expected["organization"])


def test_postgresql_backup_restores_into_sqlite(pg_engine, sqlite_engine, demo_zip, tmp_path):
    backup.restore_backup(pg_engine, source=demo_zip, actor=SYSTEM)
    made = backup.create_backup(pg_engine, path=tmp_path / "pg.zip", actor=SYSTEM)
    with zipfile.ZipFile(made.path) as zf:
        assert json.loads(zf.read("manifest.json"))["database"] == "postgresql"
    backup.restore_backup(sqlite_engine, source=made.path, actor=SYSTEM)
    assert dump(sqlite_engine) == dump(pg_engine)


def test_restore_from_an_uploaded_file_object(engine, demo_engine, demo_zip):
    data = demo_zip.read_bytes()
    make_org(engine)
    before = fingerprint(engine)
    with pytest.raises(backup.BackupError) as info:
        backup.restore_backup(engine, source=io.BytesIO(data[:-300]), actor=SYSTEM, file_name="upload.zip")
    assert info.value.code == "corrupt" and fingerprint(engine) == before
    backup.restore_backup(engine, source=io.BytesIO(data), actor=SYSTEM, file_name="upload.zip")
    assert dump(engine) == dump(demo_engine)


def test_restore_replaces_existing_data(engine, demo_engine, demo_zip):
    make_org(engine, name="หน่วยงานที่จะถูกแทนที่", departments=(("กองเดิม", 3),))
    backup.restore_backup(engine, source=demo_zip, actor=SYSTEM)
    assert dump(engine) == dump(demo_engine)
    with db.session_scope(engine) as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "backup.restore")).one()
    # The replaced data, its audit trail included, is on record in the restore's event.
    assert event.before["rows"]["organization"] == 1 and event.before["rows"]["department"] == 1
    assert event.before["rows"]["auditevent"] >= 2
    # The newest audit id moves forward (cache keys, services/data_version.py) and ids go on from it.
    with db.session_scope(engine) as s:
        org = orgs.create_organization(s, name="เทศบาลใหม่", kind="other", actor=SYSTEM)
        newest = s.exec(select(AuditEvent).order_by(col(AuditEvent.id).desc())).first()
    assert event.id > max(r["id"] for r in zip_rows(demo_zip, "auditevent"))
    assert newest.action == "organization.create" and newest.id > event.id and org.id


def test_restore_moves_the_newest_audit_id_forward(engine, demo_zip, tmp_path):
    backup.restore_backup(engine, source=demo_zip, actor=SYSTEM)
    small = tmp_path / "small.zip"
    with db.session_scope(engine) as s:
        first_max = s.exec(select(AuditEvent.id).order_by(col(AuditEvent.id).desc())).first()
    # A backup with fewer audit rows than the database holds now.
    rewrite(demo_zip, small, replace={"tables/auditevent.jsonl": b""})
    backup.restore_backup(engine, source=small, actor=SYSTEM)
    with db.session_scope(engine) as s:
        ids = s.exec(select(AuditEvent.id)).all()
    assert len(ids) == 1 and ids[0] > first_max


def test_backup_of_an_older_revision_is_upgraded_on_restore(engine, demo_engine, demo_zip, tmp_path):
    from alembic import command

    known = backup.known_revisions()
    if len(known) < 2:
        pytest.skip("only one schema revision exists")
    old_rev = known[-2]
    scratch = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = db.alembic_config(scratch)
    with scratch.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, old_rev)
    meta = MetaData()
    meta.reflect(bind=scratch)
    scratch.dispose()
    old_columns = {t.name: [c.name for c in t.columns] for t in meta.tables.values() if t.name != "alembic_version"}
    # What the older app wrote: its tables and columns only (answers as {question: answer}, which
    # revision 0004 turned into codes against the form).
    forms = {f["id"]: SurveyForm(**f) for f in zip_rows(demo_zip, "surveyform")} if "surveyform" not in old_columns else {}

    def old_value(r, c):
        if c == "answers" and "answers" not in r:
            return decode_answers(r["answer_codes"], forms.get(r["form_id"]))
        return r[c]

    replace = {}
    for name, cols in old_columns.items():
        rows = [{c: old_value(r, c) for c in cols} for r in zip_rows(demo_zip, name)]
        replace[f"tables/{name}.jsonl"] = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
    gone = [f"tables/{t.name}.jsonl" for t in backup.app_tables() if t.name not in old_columns]

    def older(man):
        man["schema_revision"] = old_rev
        man["tables"] = {k: v for k, v in man["tables"].items() if k in old_columns}

    old_zip = rewrite(demo_zip, tmp_path / "old.zip", drop=gone, replace=replace, manifest=older)
    result = backup.restore_backup(engine, source=old_zip, actor=SYSTEM)
    assert result.revision == old_rev and db.schema_revision(engine) == known[-1]
    got, want = dump(engine), dump(demo_engine)
    for name, cols in old_columns.items():
        # the older revision's columns keep every value; columns added since take their defaults
        index = [c.name for c in next(t for t in backup.app_tables() if t.name == name).columns]
        keep = [index.index(c) for c in cols]
        assert len(got[name]) == len(want[name]), name
        assert [tuple(r[i] for i in keep) for r in got[name]] == [tuple(r[i] for i in keep) for r in want[name]], name


# --- consistency while the app writes -------------------------------------------------------


def test_online_backup_is_one_consistent_moment(engine, tmp_path):
    """A writer thread adds import batches, each with its responses in one transaction, while
    backups are taken: every backup holds each batch with all its responses, or not at all."""
    org_id = make_org(engine)
    stop, progressed, errors = threading.Event(), threading.Event(), []

    def writer():
        k = 0
        try:
            while not stop.is_set():
                k += 1
                with db.session_scope(engine) as s:
                    batch = ImportBatch(organization_id=org_id, kind="survey_iit", file_name=f"{k}.csv", sha256=str(k),
                                        imported_count=k % 7 + 1)
                    s.add(batch)
                    s.flush()
                    for i in range(batch.imported_count):
                        s.add(SurveyResponse(organization_id=org_id, fiscal_year=2568, instrument="iit",
                                             submitted_at=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc),
                                             submitted_on=dt.date(2025, 1, 1), respondent_key=f"{k}-{i}",
                                             answers={"ข้อ 1": i}, import_batch_id=batch.id))
                progressed.set()
        except Exception as exc:  # noqa: BLE001 -- reported by the assertion below
            errors.append(exc)
            progressed.set()

    thread = threading.Thread(target=writer)
    thread.start()
    paths = []
    try:
        for n in range(4):
            assert progressed.wait(timeout=120)
            progressed.clear()
            paths.append(backup.create_backup(engine, path=tmp_path / f"b{n}.zip", actor=SYSTEM).path)
    finally:
        stop.set()
        thread.join()
    assert not errors, errors
    seen = []
    for path in paths:
        batches = {b["id"]: b["imported_count"] for b in zip_rows(path, "importbatch")}
        counts: dict[int, int] = {}
        for r in zip_rows(path, "surveyresponse"):
            counts[r["import_batch_id"]] = counts.get(r["import_batch_id"], 0) + 1
        assert counts == batches, path.name
        seen.append(len(batches))
    assert seen == sorted(seen) and seen[0] >= 1


# --- refusals leave the data untouched ------------------------------------------------------


def _flip_member_byte(src, dest):
    with zipfile.ZipFile(src) as zf:
        data = bytearray(zf.read("tables/measure.jsonl"))
    data[len(data) // 2] ^= 0x01
    return rewrite(src, dest, replace={"tables/measure.jsonl": bytes(data)}, fix_checksums=False)


def _flip_raw_byte(src, dest):
    data = bytearray(src.read_bytes())
    data[len(data) // 3] ^= 0xFF
    dest.write_bytes(bytes(data))
    return dest


def _xlsx(src, dest):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["ชื่อ", "คะแนน"])
    wb.save(dest)
    return dest


def _write(data: bytes):
    def make(src, dest):
        dest.write_bytes(data)
        return dest
    return make


def _manifest(edit):
    return lambda src, dest: rewrite(src, dest, manifest=edit)


BAD_FILES = {
    "truncated": (lambda src, dest: _write(src.read_bytes()[: src.stat().st_size // 2])(src, dest), "corrupt"),
    "flipped byte in a table": (_flip_member_byte, "corrupt"),
    "flipped byte in the zip": (_flip_raw_byte, "corrupt"),
    "no manifest": (lambda src, dest: rewrite(src, dest, drop=("manifest.json",)), "not_backup"),
    "another app": (_manifest(lambda m: m.update(app="some-other-app")), "not_backup"),
    "plain xlsx": (_xlsx, "not_backup"),
    "text file": (_write("สวัสดี\n".encode()), "not_backup"),
    "empty file": (_write(b""), "not_backup"),
    "newer schema": (_manifest(lambda m: m.update(schema_revision="9999_future")), "newer"),
    "newer format": (_manifest(lambda m: m.update(format=99)), "newer"),
    "row count": (_manifest(lambda m: m["tables"]["measure"].update(rows=m["tables"]["measure"]["rows"] + 1)), "corrupt"),
    "missing table": (lambda src, dest: rewrite(src, dest, drop=("tables/department.jsonl",)), "corrupt"),
    "manifest not json": (lambda src, dest: rewrite(src, dest, drop=("manifest.json",), replace={"manifest.json": b"{nope"}), "corrupt"),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_damaged_or_foreign_file_is_refused_and_data_unchanged(engine, demo_zip, tmp_path, kind):
    make_org(engine)
    before = fingerprint(engine)
    maker, code = BAD_FILES[kind]
    bad = maker(demo_zip, tmp_path / "bad.zip")
    with pytest.raises(backup.BackupError) as info:
        backup.restore_backup(engine, source=bad, actor=SYSTEM)
    assert info.value.code == code, str(info.value)
    assert fingerprint(engine) == before


def _last_table_with_rows(demo_zip) -> str:
    with zipfile.ZipFile(demo_zip) as zf:
        tables = json.loads(zf.read("manifest.json"))["tables"]
    return [name for name, info in tables.items() if info["rows"]][-1]


def test_restore_rejected_halfway_changes_nothing(engine, demo_zip, tmp_path):
    """Checksums fine, but the last table repeats a primary key: the database refuses that row
    after every other table was already replaced; the transaction rolls back all of it."""
    make_org(engine)
    before = fingerprint(engine)
    last = _last_table_with_rows(demo_zip)
    lines = zip_rows(demo_zip, last)
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines + [lines[0]]).encode()
    bad = rewrite(demo_zip, tmp_path / "dup.zip", replace={f"tables/{last}.jsonl": data})
    with pytest.raises(backup.BackupError) as info:
        backup.restore_backup(engine, source=bad, actor=SYSTEM)
    assert info.value.code == "rejected"
    assert fingerprint(engine) == before


def test_undecodable_value_in_the_last_table_changes_nothing(engine, demo_zip, tmp_path):
    make_org(engine)
    before = fingerprint(engine)
    def date_column(row):
        return next((k for k, v in row.items() if isinstance(v, str) and len(v) >= 10 and v[4] == "-" and v[7] == "-"), None)

    with zipfile.ZipFile(demo_zip) as zf:  # the last table with rows that has a date column
        names = [n for n, info in json.loads(zf.read("manifest.json"))["tables"].items() if info["rows"]]
    last = next(n for n in reversed(names) if date_column(zip_rows(demo_zip, n)[-1]))
    lines = zip_rows(demo_zip, last)
    date_col = date_column(lines[-1])
    lines[-1][date_col] = "31/02/2568"
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines).encode()
    bad = rewrite(demo_zip, tmp_path / "baddate.zip", replace={f"tables/{last}.jsonl": data})
    with pytest.raises(backup.BackupError) as info:
        backup.restore_backup(engine, source=bad, actor=SYSTEM)
    assert info.value.code == "bad_value" and info.value.params["table"] == last
    assert info.value.params["column"] == date_col and info.value.params["row"] == len(lines)
    assert fingerprint(engine) == before


def test_backup_refuses_to_overwrite_and_leaves_no_temp_file(demo_engine, tmp_path):
    def creates():
        with db.session_scope(demo_engine) as s:
            return len(s.exec(select(AuditEvent).where(AuditEvent.action == "backup.create")).all())

    before = creates()
    target = tmp_path / "out" / "b.zip"
    target.parent.mkdir()
    backup.create_backup(demo_engine, path=target, actor=SYSTEM)
    first = target.read_bytes()
    with pytest.raises(backup.BackupError) as info:
        backup.create_backup(demo_engine, path=target, actor=SYSTEM)
    assert info.value.code == "exists" and target.read_bytes() == first
    backup.create_backup(demo_engine, path=target, actor=SYSTEM, overwrite=True)
    assert [p.name for p in target.parent.iterdir()] == ["b.zip"]
    with pytest.raises(backup.BackupError) as info:
        backup.create_backup(demo_engine, path=tmp_path / "missing" / "b.zip", actor=SYSTEM)
    assert info.value.code == "no_dir"
    assert creates() == before + 2


# --- permissions ----------------------------------------------------------------------------


def test_only_an_admin_of_every_organisation_may_back_up_or_restore(engine, demo_zip, tmp_path):
    org_id = make_org(engine)
    viewer = actor_for(engine, make_user(engine, username="viewer1", role="viewer", org_id=org_id))
    admin = actor_for(engine, make_user(engine, username="admin1", role="admin", org_id=org_id))
    before = fingerprint(engine)
    for actor in (viewer,):
        with pytest.raises(PermissionDenied):
            backup.restore_backup(engine, source=demo_zip, actor=actor)
        with pytest.raises(PermissionDenied):
            backup.create_backup(engine, path=tmp_path / "v.zip", actor=actor)
    assert fingerprint(engine) == before and not (tmp_path / "v.zip").exists()
    # The organisation's admin may, while it is the only organisation in the database...
    backup.create_backup(engine, path=tmp_path / "a.zip", actor=admin)
    # ...but not once the database holds another organisation's data.
    make_org(engine, name="หน่วยงานอื่น")
    before = fingerprint(engine)
    with pytest.raises(PermissionDenied):
        backup.restore_backup(engine, source=tmp_path / "a.zip", actor=admin)
    with pytest.raises(PermissionDenied):
        backup.create_backup(engine, path=tmp_path / "b.zip", actor=admin)
    assert fingerprint(engine) == before


def test_restore_records_the_admin_when_the_account_survives(engine, tmp_path):
    org_id = make_org(engine)
    admin = actor_for(engine, make_user(engine, username="admin1", role="admin", org_id=org_id))
    made = backup.create_backup(engine, path=tmp_path / "a.zip", actor=admin)
    backup.restore_backup(engine, source=made.path, actor=admin)
    with db.session_scope(engine) as s:
        events = s.exec(select(AuditEvent).where(col(AuditEvent.action).startswith("backup.")).order_by(AuditEvent.id)).all()
        assert s.exec(select(Organization.name)).all() == ["เทศบาลตำบลทดสอบ"]
    # backup.create came after the snapshot: the restored trail holds only the restore.
    assert [(e.action, e.user_id, e.username) for e in events] == [("backup.restore", admin.user_id, "admin1")]


# --- command line ---------------------------------------------------------------------------


def test_cli_backup_and_restore(demo_source, tmp_path):
    from tests.cli_utils import assert_one_line_error, run

    src = tmp_path / "src.db"
    shutil.copy(demo_source[0].removeprefix("sqlite:///"), src)
    url = f"sqlite:///{src}"
    out = tmp_path / "nightly.zip"
    p = run(url, "backup", str(out))
    assert p.returncode == 0, p.stderr
    with zipfile.ZipFile(out) as zf:
        total = json.loads(zf.read("manifest.json"))["total_rows"]
    assert p.stdout.strip().splitlines() == [f"backup written: {out} ({total} rows in {len(backup.app_tables())} tables, "
                                             f"revision {backup.known_revisions()[-1]})"]
    assert_one_line_error(run(url, "backup", str(out)), contains="--force")
    assert run(url, "backup", str(out), "--force").returncode == 0
    with zipfile.ZipFile(out) as zf:
        total = json.loads(zf.read("manifest.json"))["total_rows"]  # now with the first backup's audit row

    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    p = run(fresh, "restore", str(out))
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith(f"restored {out}: {total} rows") and len(p.stdout.strip().splitlines()) == 1
    assert dump(db.make_engine(fresh)) == dump(db.make_engine(url))

    before = fingerprint(db.make_engine(fresh))
    (tmp_path / "notes.txt").write_text("not a backup")
    assert_one_line_error(run(fresh, "restore", str(tmp_path / "notes.txt")), contains="not a backup of this app")
    (tmp_path / "half.zip").write_bytes(out.read_bytes()[:-200])
    assert_one_line_error(run(fresh, "restore", str(tmp_path / "half.zip")), contains="damaged or incomplete")
    assert_one_line_error(run(fresh, "restore", str(tmp_path / "nope.zip")), contains="not found")
    assert_one_line_error(run(fresh, "restore"), code=2)
    assert fingerprint(db.make_engine(fresh)) == before


# --- admin page -----------------------------------------------------------------------------


def test_admin_page_backup_tab(monkeypatch, tmp_path):
    from ita_dashboard.texts import t
    from tests.apptest_utils import run_app, texts

    url = f"sqlite:///{tmp_path / 'one.db'}"
    engine = db.make_engine(url)
    db.migrate(engine)
    org_id = make_org(engine)
    make_user(engine, username="solo_admin", role="admin", org_id=org_id)
    at = run_app(monkeypatch, url, username="solo_admin", page="app_pages/admin.py")
    assert t("backup_tab") in [tab.label for tab in at.tabs]
    assert t("backup_intro") in texts(at)
    at.button(key="backup_create").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert t("backup_created", rows="", tables="").split(":")[0] in texts(at)
    assert at.button(key="restore_button").disabled  # no file, no confirmation yet
    with db.session_scope(engine) as s:
        assert s.exec(select(AuditEvent.username).where(AuditEvent.action == "backup.create")).all() == ["solo_admin"]
    name, data, _rows, _tables = at.session_state["backup_file"]
    assert name.endswith(".zip") and zipfile.ZipFile(io.BytesIO(data)).read("manifest.json")

    # Something changes after the backup; a damaged upload is refused and changes nothing.
    with db.session_scope(engine) as s:
        orgs.add_department(s, organization_id=org_id, name="กองที่เพิ่มหลังสำรอง", actor=SYSTEM)
    before = fingerprint(engine)
    at.file_uploader(key="restore_upload").upload("backup.zip", data[: len(data) // 2], "application/zip")
    at.checkbox(key="restore_confirm").check()
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert "เสียหาย" in " ".join(e.value for e in at.error)  # checked on upload, before any confirmation
    assert at.button(key="restore_button").disabled
    assert fingerprint(engine) == before and at.session_state["auth_user_id"]

    # The real backup: first what it brings (organisations, users with roles, row counts), then restored,
    # and the admin is logged out with the result.
    at.file_uploader(key="restore_upload").set_value(("backup.zip", data, "application/zip"))
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    tables = [df.value for df in at.dataframe]
    assert list(tables[-3].iloc[:, 0]) == ["เทศบาลตำบลทดสอบ"]
    assert tables[-2].iloc[0, 0] == "solo_admin" and "ผู้ดูแลระบบ" in tables[-2].iloc[0, 2]
    assert dict(zip(tables[-1].iloc[:, 0], tables[-1].iloc[:, 1]))["department"] == 3
    assert fingerprint(engine) == before and not at.button(key="restore_button").disabled
    at.button(key="restore_button").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert "auth_user_id" not in at.session_state
    assert "กู้คืนข้อมูลแล้ว" in texts(at)  # shown on the login screen
    with db.session_scope(engine) as s:
        assert s.exec(select(Department.name).order_by(Department.id)).all() == ["สำนักปลัด", "กองคลัง", "กองช่าง"]
        restore = s.exec(select(AuditEvent).where(AuditEvent.action == "backup.restore")).one()
    assert restore.username == "solo_admin" and restore.after["file"] == "backup.zip"


def test_admin_page_with_a_key_asks_before_restoring_an_unsigned_file(monkeypatch, tmp_path):
    from ita_dashboard.texts import t
    from tests.apptest_utils import run_app

    url = f"sqlite:///{tmp_path / 'one.db'}"
    engine = db.make_engine(url)
    db.migrate(engine)
    org_id = make_org(engine)
    make_user(engine, username="solo_admin", role="admin", org_id=org_id)
    made = backup.create_backup(engine, path=tmp_path / "unsigned.zip", actor=SYSTEM)  # no key yet
    monkeypatch.setenv("ITA_BACKUP_KEY", KEY)
    with db.session_scope(engine) as s:
        orgs.add_department(s, organization_id=org_id, name="กองที่เพิ่มหลังสำรอง", actor=SYSTEM)
    before = fingerprint(engine)
    at = run_app(monkeypatch, url, username="solo_admin", page="app_pages/admin.py")
    at.file_uploader(key="restore_upload").upload("unsigned.zip", made.path.read_bytes(), "application/zip")
    at.checkbox(key="restore_confirm").check()
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert t("backup_error_unsigned") in [e.value for e in at.error]
    assert at.button(key="restore_button").disabled and fingerprint(engine) == before
    at.checkbox(key="restore_allow_unsigned").check().run()
    at.button(key="restore_button").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert "auth_user_id" not in at.session_state
    with db.session_scope(engine) as s:
        assert s.exec(select(AuditEvent.after).where(AuditEvent.action == "backup.restore")).one()["signature"] == "unsigned"
        assert "กองที่เพิ่มหลังสำรอง" not in s.exec(select(Department.name)).all()


def test_admin_page_backup_tab_for_an_admin_of_one_of_several_organisations(monkeypatch, demo_source):
    from ita_dashboard.texts import t
    from tests.apptest_utils import run_app, texts

    at = run_app(monkeypatch, demo_source[0], username="naoo_admin", page="app_pages/admin.py")
    assert t("backup_need_global_admin") in texts(at)
    assert not [b for b in at.button if b.key == "backup_create"]


# --- every value checked, caps, signature, preview (issue 13) -------------------------------


def _edit_row(src, dest, table: str, edit, *, index: int = 0):
    """A copy of backup ``src`` whose ``table`` row ``index`` is changed by ``edit`` (checksums recomputed)."""
    lines = zip_rows(src, table)
    edit(lines[index])
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines).encode()
    return rewrite(src, dest, replace={f"tables/{table}.jsonl": data})


# (table, column, bad value): each column kind of the schema, with a value of the wrong type.
BAD_VALUES = {
    "text in an integer column": ("department", "iit_eligible_staff", "สิบคน"),
    "float in an integer column": ("department", "sort_order", 1.5),
    "integer out of range": ("department", "iit_eligible_staff", 1 << 40),
    "number in a boolean column": ("organization", "is_demo", 1),
    "text in a boolean column": ("user", "active", "true"),
    "text in a float column": ("surveyresponse", "score", "ดี"),
    "infinite float": ("surveyresponse", "score", float("inf")),
    "bad date": ("activity", "date", "2025-02-30"),
    "number as a date": ("activity", "date", 20250101),
    "bad datetime": ("organization", "created_at", "เมื่อวาน"),
    "JSON text where a list belongs": ("department", "aliases", "กองคลัง"),
    "JSON list where an object belongs": ("auditevent", "after", [1, 2]),
    "JSON object where the answer codes belong": ("surveyresponse", "answer_codes", {"1": "มาก"}),
    "bytes not base64": ("activity", "photo", "not base64!"),
    "unknown enum value": ("user", "role", "superadmin"),
    "enum as a number": ("surveyresponse", "instrument", 1),
    "NULL in a NOT NULL column": ("organization", "name", None),
    "text in a foreign key": ("measure", "organization_id", "1"),
    "number in a text column": ("user", "username", 12345),
}


@pytest.mark.parametrize("kind", list(BAD_VALUES))
def test_a_value_of_the_wrong_type_is_refused_and_data_unchanged(engine, demo_zip, tmp_path, kind):
    table, column, value = BAD_VALUES[kind]
    make_org(engine)
    before = fingerprint(engine)
    rows = zip_rows(demo_zip, table)
    index = next(i for i, r in enumerate(rows) if r[column] is not None)
    bad = _edit_row(demo_zip, tmp_path / "bad.zip", table, lambda r: r.update({column: value}), index=index)
    for call in (backup.preview_backup, backup.restore_backup):
        with pytest.raises(backup.BackupError) as info:
            call(engine, source=bad, actor=SYSTEM)
        assert info.value.code == "bad_value", str(info.value)
        assert info.value.params == {**info.value.params, "table": table, "column": column, "row": index + 1}
        assert f"{table} row {index + 1}, column {column}" in str(info.value)
    assert fingerprint(engine) == before


def test_the_thai_message_names_table_row_and_column(demo_zip, sqlite_engine, tmp_path):
    from ita_dashboard.ui.backup_views import _error_text

    bad = _edit_row(demo_zip, tmp_path / "bad.zip", "department", lambda r: r.update(iit_eligible_staff="สิบคน"))
    with pytest.raises(backup.BackupError) as info:
        backup.restore_backup(sqlite_engine, source=bad, actor=SYSTEM)
    text_ = _error_text(info.value)
    assert "ตาราง department แถวที่ 1 คอลัมน์ iit_eligible_staff" in text_ and "ข้อมูลเดิมไม่เปลี่ยนแปลง" in text_


def test_a_file_the_manifest_does_not_name_is_refused(sqlite_engine, demo_zip, tmp_path):
    bad = rewrite(demo_zip, tmp_path / "extra.zip", replace={"tables/extra.jsonl": b"{}\n"})
    with pytest.raises(backup.BackupError) as info:
        backup.restore_backup(sqlite_engine, source=bad, actor=SYSTEM)
    assert info.value.code == "corrupt" and "tables/extra.jsonl" in str(info.value)


def _manifest_bomb(path: Path, size: int = 1 << 30) -> Path:
    """A zip whose manifest.json inflates to ``size`` bytes ("{" then spaces), about 1 MB packed.

    Written by hand so that making it takes a second: one megabyte of spaces is deflated once
    (full flush: byte-aligned, independent blocks) and the same compressed bytes repeated."""
    import struct

    block = b" " * (1 << 20)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = comp.compress(b"{") + comp.flush(zlib.Z_FULL_FLUSH)
    body = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
    tail = comp.flush()  # the final (empty) block
    count = size // len(block)
    crc = zlib.crc32(b"{")
    for _ in range(count):
        crc = zlib.crc32(block, crc)
    raw_size, packed = 1 + count * len(block), len(head) + count * len(body) + len(tail)
    name = b"manifest.json"
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, packed, raw_size, len(name), 0) + name
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, packed, raw_size,
                          len(name), 0, 0, 0, 0, 0, 0) + name
    with open(path, "wb") as fh:
        fh.write(local + head)
        for _ in range(count):
            fh.write(body)
        fh.write(tail)
        offset = fh.tell()
        fh.write(central)
        fh.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), offset, 0))
    return path


_CHILD = """
import json, resource, sys
from ita_dashboard import backup, db
from ita_dashboard.permissions import Actor
engine = db.make_engine(sys.argv[1])
code = None
try:
    backup.{call}(engine, source=sys.argv[2], actor=Actor.system())
except backup.BackupError as exc:
    code = exc.code
# VmHWM, not ru_maxrss: ru_maxrss survives exec, so it would report the (large) pytest process this
# child was forked from; VmHWM is this program's own peak
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({{"code": code, "peak_kb": peak}}))
"""


@pytest.mark.parametrize("call", ["restore_backup", "preview_backup"])
def test_a_manifest_bomb_is_refused_with_little_memory(sqlite_engine, tmp_path, call):
    """1 GiB of manifest packed into about 1 MB: refused from the size the zip declares, in a
    child process whose peak memory stays far below what inflating it would take."""
    import subprocess
    import sys

    from tests.cli_utils import REPO

    bomb = _manifest_bomb(tmp_path / "bomb.zip")
    assert bomb.stat().st_size < 2 << 20
    make_org(sqlite_engine)
    before = fingerprint(sqlite_engine)
    p = subprocess.run([sys.executable, "-c", _CHILD.format(call=call), str(sqlite_engine.url), str(bomb)],
                       capture_output=True, text=True, cwd=REPO, timeout=300)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["code"] == "too_large"
    assert out["peak_kb"] < 400 * 1024, out  # inflating the manifest alone would take 1,024 MB
    assert fingerprint(sqlite_engine) == before


def test_a_manifest_over_the_cap_as_read_is_refused(sqlite_engine, tmp_path, monkeypatch):
    """The stream stops at the cap whatever the archive says (here the cap is lowered below a
    manifest the zip declares correctly)."""
    _manifest_bomb(tmp_path / "m.zip", size=3 << 20)
    with zipfile.ZipFile(tmp_path / "m.zip") as zf:
        with pytest.raises(backup.BackupError) as info:
            backup._read_capped(zf, "manifest.json", 1 << 20)
    assert info.value.code == "too_large" and info.value.params["member"] == "manifest.json"


def test_a_row_longer_than_the_cap_is_refused(sqlite_engine, demo_zip, tmp_path, monkeypatch):
    monkeypatch.setattr(backup, "MAX_ROW_BYTES", 4096)
    long_name = "ก" * 5000
    bad = _edit_row(demo_zip, tmp_path / "long.zip", "organization", lambda r: r.update(name=long_name))
    with pytest.raises(backup.BackupError) as info:
        backup.restore_backup(sqlite_engine, source=bad, actor=SYSTEM)
    assert info.value.code == "too_large" and "organization" in info.value.params["member"]


KEY = "a-long-random-signing-key-for-tests"


@pytest.fixture
def signed_zip(demo_engine, tmp_path, monkeypatch):
    monkeypatch.setenv("ITA_BACKUP_KEY", KEY)
    made = backup.create_backup(demo_engine, path=tmp_path / "signed.zip", actor=SYSTEM)
    with zipfile.ZipFile(made.path) as zf:
        assert "manifest.sig" in zf.namelist()
    return made.path


def test_signed_round_trip(engine, demo_engine, signed_zip):
    result = backup.restore_backup(engine, source=signed_zip, actor=SYSTEM)
    assert result.signature == "valid"
    assert dump(engine) == dump(demo_engine)
    with db.session_scope(engine) as s:
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "backup.restore")).one()
    assert event.after["signature"] == "valid"


def _added_admin(src, dest):
    """The attack: an extra admin account appended to the user table, checksums recomputed."""
    users = zip_rows(src, "user")
    intruder = {**users[0], "id": max(u["id"] for u in users) + 1, "username": "intruder", "role": "admin",
                "organization_id": None, "display_name": "intruder"}
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in users + [intruder]).encode()
    return rewrite(src, dest, replace={"tables/user.jsonl": data})


def test_with_a_key_unsigned_or_edited_backups_are_refused(engine, demo_zip, signed_zip, tmp_path, monkeypatch):
    make_org(engine)
    before = fingerprint(engine)
    edited = _added_admin(signed_zip, tmp_path / "edited.zip")
    with zipfile.ZipFile(edited) as zf:
        assert "manifest.sig" in zf.namelist()  # the old signature kept, the manifest recomputed
    cases = [(demo_zip, "unsigned"), (edited, "bad_signature")]
    monkeypatch.setenv("ITA_BACKUP_KEY", "another-key")
    cases.append((signed_zip, "bad_signature"))  # signed, but with another key
    for path, code in cases:
        monkeypatch.setenv("ITA_BACKUP_KEY", "another-key" if path == signed_zip else KEY)
        with pytest.raises(backup.BackupError) as info:
            backup.restore_backup(engine, source=path, actor=SYSTEM)
        assert info.value.code == code, path.name
        assert fingerprint(engine) == before
    # allow_unsigned lets an admin restore a file they trust; the audit trail says so.
    monkeypatch.setenv("ITA_BACKUP_KEY", KEY)
    result = backup.restore_backup(engine, source=edited, actor=SYSTEM, allow_unsigned=True)
    assert result.signature == "invalid"
    with db.session_scope(engine) as s:
        assert s.exec(select(AuditEvent.after).where(AuditEvent.action == "backup.restore")).one()["signature"] == "invalid"
        assert "intruder" in s.exec(select(__import__("ita_dashboard.models", fromlist=["User"]).User.username)).all()


def test_without_a_key_signatures_are_not_checked(sqlite_engine, signed_zip, demo_zip, monkeypatch):
    monkeypatch.delenv("ITA_BACKUP_KEY")
    assert backup.restore_backup(sqlite_engine, source=demo_zip, actor=SYSTEM).signature == "no_key"
    assert backup.restore_backup(sqlite_engine, source=signed_zip, actor=SYSTEM).signature == "no_key"


def test_cli_restore_allow_unsigned(demo_source, tmp_path, monkeypatch):
    from tests.cli_utils import assert_one_line_error, run

    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert run(fresh, "init-db").returncode == 0
    before = fingerprint(db.make_engine(fresh))
    monkeypatch.setenv("ITA_BACKUP_KEY", KEY)
    assert_one_line_error(run(fresh, "restore", str(demo_source[1])), contains="--allow-unsigned")
    assert fingerprint(db.make_engine(fresh)) == before
    p = run(fresh, "restore", str(demo_source[1]), "--allow-unsigned")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith(f"restored {demo_source[1]}:") and len(p.stdout.strip().splitlines()) == 1
    # A backup made with the key restores without the flag; the same with an added admin does not.
    signed = tmp_path / "signed.zip"
    assert run(fresh, "backup", str(signed)).returncode == 0
    assert run(fresh, "restore", str(signed)).returncode == 0
    before = fingerprint(db.make_engine(fresh))
    edited = _added_admin(signed, tmp_path / "edited.zip")
    assert_one_line_error(run(fresh, "restore", str(edited)), contains="signature does not match")
    assert fingerprint(db.make_engine(fresh)) == before


def test_preview_lists_what_the_backup_brings_and_writes_nothing(engine, demo_engine, demo_zip):
    make_org(engine)
    before = fingerprint(engine)
    preview = backup.preview_backup(engine, source=demo_zip, actor=SYSTEM)
    assert fingerprint(engine) == before
    with zipfile.ZipFile(demo_zip) as zf:
        man = json.loads(zf.read("manifest.json"))
    assert preview.created_at == man["created_at"] and preview.revision == man["schema_revision"]
    assert preview.rows == {k: v["rows"] for k, v in man["tables"].items()} and preview.total_rows == man["total_rows"]
    assert [o["name"] for o in preview.organizations] == ["เทศบาลตำบลนาอ้อ", "องค์การบริหารส่วนตำบลเมืองหลวง"]
    roles = {u.username: u.roles for u in preview.users}
    assert roles["naoo_admin"] == (("เทศบาลตำบลนาอ้อ", "admin"),)
    assert roles["mluang_finance"] == (("องค์การบริหารส่วนตำบลเมืองหลวง", "department_head"),)
    with db.session_scope(demo_engine) as s:
        from ita_dashboard.models import User

        assert sorted(roles) == sorted(s.exec(select(User.username)).all())
    assert preview.signature == "no_key"


def test_preview_shows_memberships_and_signature_status(sqlite_engine, signed_zip, tmp_path, monkeypatch):
    from ita_dashboard.services import memberships

    org_id = make_org(sqlite_engine)
    other = make_org(sqlite_engine, name="หน่วยงานที่สอง")
    uid = make_user(sqlite_engine, username="province_officer", role="executive", org_id=org_id)
    with db.session_scope(sqlite_engine) as s:
        memberships.grant(s, actor=SYSTEM, user_id=uid, organization_id=other, role="admin")
    made = backup.create_backup(sqlite_engine, path=tmp_path / "m.zip", actor=SYSTEM)
    preview = backup.preview_backup(sqlite_engine, source=made.path, actor=SYSTEM)
    assert {u.username: u.roles for u in preview.users}["province_officer"] == (
        ("เทศบาลตำบลทดสอบ", "executive"), ("หน่วยงานที่สอง", "admin"))
    assert preview.signature == "valid"
    edited = _added_admin(made.path, tmp_path / "edited.zip")
    assert backup.preview_backup(sqlite_engine, source=edited, actor=SYSTEM).signature == "invalid"
    monkeypatch.delenv("ITA_BACKUP_KEY")
    assert backup.preview_backup(sqlite_engine, source=edited, actor=SYSTEM).signature == "no_key"
