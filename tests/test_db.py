"""The data layer on both backends: models, constraints, sessions, migrations, settings.

Most tests are written over *every* table of the metadata so a new model is covered without
touching this file; the migration test walks every Alembic revision the same way.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import Session, SQLModel, select

import pg_server
from ita_dashboard import config, db, models
from ita_dashboard.db import session_scope
from ita_dashboard.services.survey_forms import Codebook

BKK = dt.timezone(dt.timedelta(hours=7))


# --- generic rows --------------------------------------------------------------------------

def _base_type(type_):
    """The SQLAlchemy type a TypeDecorator (UTCDateTime, AutoString, ...) stores as."""
    while isinstance(type_, sa.types.TypeDecorator):
        type_ = type_.impl_instance
    return type_


def sample_value(column: sa.Column, i: int, model_column: sa.Column | None = None):
    """A valid, row-specific value for ``column`` (the model's type wins over a reflected one)."""
    type_ = (model_column if model_column is not None else column).type
    base = _base_type(type_)
    if isinstance(base, sa.Enum):  # before String: Enum is a String
        choices = list(base.enum_class) if base.enum_class else list(base.enums)
        return choices[i % len(choices)]
    if isinstance(base, sa.JSON):
        return {"ชื่อ": ["กองคลัง", i], "score": 87.5, "ok": True, "none": None}
    if isinstance(base, sa.DateTime):
        value = dt.datetime(2025, 10, 1, 9, 30, 15, 123000, tzinfo=BKK) + dt.timedelta(hours=i)
        return value if base.timezone or model_column is not None else value.replace(tzinfo=None)
    if isinstance(base, sa.Date):
        return dt.date(2025, 10, 1) + dt.timedelta(days=i)
    if isinstance(base, sa.Boolean):
        return i % 2 == 0
    if isinstance(base, sa.Integer):
        return 2568 + i
    if isinstance(base, (sa.Float, sa.Numeric)):
        return 75.25 + i
    if isinstance(base, sa.LargeBinary):
        return b"\x89PNG\r\n\x1a\n" + bytes([i % 256]) * 16
    if isinstance(base, sa.String):
        text = f"ทดสอบ {column.name} {i}"
        return text[-base.length:] if base.length else text
    raise NotImplementedError(f"no sample value for {column.table.name}.{column.name}: {type_!r}")


def row_values(table: sa.Table, i: int, ids: dict[str, list], model_table: sa.Table | None = None) -> dict:
    """Values for row ``i`` of ``table``; foreign keys point at row ``i`` of the parent table."""
    values = {}
    for column in table.columns:
        if column.foreign_keys:
            parent = next(iter(column.foreign_keys)).column.table.name
            if ids.get(parent):
                values[column.name] = ids[parent][i % len(ids[parent])]
            elif not column.nullable:
                raise AssertionError(f"{table.name}.{column.name}: parent {parent} has no rows yet")
        elif column.primary_key and column.autoincrement in (True, "auto") and isinstance(
            _base_type(column.type), sa.Integer
        ):
            continue  # let the database number it
        else:
            model_col = model_table.columns.get(column.name) if model_table is not None else None
            values[column.name] = sample_value(column, i, model_col)
    return values


def model_classes() -> list[type[SQLModel]]:
    by_table = {m.local_table.name: m.class_ for m in SQLModel._sa_registry.mappers}
    return [by_table[t.name] for t in SQLModel.metadata.sorted_tables]


def pk_of(obj: SQLModel) -> tuple:
    return sa.inspect(obj).identity


def make_org(session: Session, name: str = "เทศบาลตำบลทดสอบ") -> models.Organization:
    org = models.Organization(name=name, kind="เทศบาลตำบล")
    session.add(org)
    session.flush()
    return org


# --- models on both backends ---------------------------------------------------------------

def test_migrations_create_every_model_table(engine):
    assert set(SQLModel.metadata.tables) <= set(sa.inspect(engine).get_table_names())


def test_models_match_migrations(engine):
    """Every model change needs a migration: autogenerate would find nothing to do."""
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, SQLModel.metadata)
    assert diff == [], f"models and migrations differ; add an Alembic revision: {diff}"


def test_every_table_round_trips_a_row(engine):
    ids: dict[str, list] = {}
    expected = []
    with session_scope(engine) as s:
        for cls in model_classes():
            values = row_values(cls.__table__, 0, ids)
            obj = cls(**values)
            s.add(obj)
            s.flush()
            ids[cls.__table__.name] = [getattr(obj, cls.__table__.primary_key.columns.values()[0].name)]
            expected.append((cls, pk_of(obj), values))
    with Session(engine) as s:
        for cls, pk, values in expected:
            got = s.get(cls, pk)
            assert got is not None, cls.__name__
            for name, value in values.items():
                assert getattr(got, name) == value, f"{cls.__name__}.{name}"


def test_json_columns_keep_structure_and_thai_text(engine):
    answers = {"q1": 5, "q2": "ดีมาก", "nested": {"list": [1, 2.5, None, True]}}
    with session_scope(engine) as s:
        org = make_org(s)
        dept = models.Department(organization_id=org.id, name="กองคลัง", aliases=["กองการคลัง", "คลัง"])
        override = models.FrameworkOverride(organization_id=org.id, fiscal_year=2568, key="weights.iit",
                                            value=[0.3, 0.7])
        s.add_all([dept, override])
        s.flush()
        batch = models.ImportBatch(organization_id=org.id, kind="survey_iit", file_name="แบบสำรวจ.xlsx",
                                   sha256="0" * 64, rejected_rows=[{"row": 12, "reason": "ไม่มีวันที่"}])
        s.add(batch)
        # Answers are stored as codes against their form (questions and scales: JSON with Thai).
        form = models.SurveyForm(organization_id=org.id, fiscal_year=2568, instrument=models.Instrument.iit,
                                 signature="แบบฟอร์ม")
        s.add(form)
        s.flush()
        book = Codebook(form)
        codes = book.encode(answers)
        book.save(s)
        s.add(models.SurveyResponse(
            organization_id=org.id, fiscal_year=2568, instrument=models.Instrument.iit,
            submitted_at=dt.datetime(2025, 1, 5, 8, 0, tzinfo=BKK), submitted_on=dt.date(2025, 1, 5),
            respondent_key="k1", form_id=form.id, answer_codes=codes, import_batch_id=batch.id,
        ))
    with Session(engine) as s:
        assert s.exec(select(models.Department)).one().aliases == ["กองการคลัง", "คลัง"]
        assert s.exec(select(models.FrameworkOverride)).one().value == [0.3, 0.7]
        assert s.exec(select(models.ImportBatch)).one().rejected_rows == [{"row": 12, "reason": "ไม่มีวันที่"}]
        assert s.exec(select(models.SurveyResponse)).one().answers == answers


def test_datetimes_are_aware_utc(engine):
    local = dt.datetime(2025, 1, 1, 6, 59, 59, 500000, tzinfo=BKK)
    with session_scope(engine) as s:
        org = make_org(s)
        org.created_at = local
    with Session(engine) as s:
        got = s.exec(select(models.Organization)).one().created_at
    assert got == local
    assert got.utcoffset() == dt.timedelta(0)
    assert got.replace(tzinfo=None) == dt.datetime(2024, 12, 31, 23, 59, 59, 500000)


def test_naive_datetimes_are_refused(engine):
    with pytest.raises(StatementError, match="timezone"):
        with session_scope(engine) as s:
            s.add(models.Organization(name="x", created_at=dt.datetime(2025, 1, 1)))
    with Session(engine) as s:
        assert s.exec(select(models.Organization)).all() == []


_AT = dt.datetime(2025, 1, 5, 8, 0, tzinfo=dt.timezone.utc)
_DUPLICATES = {  # model builders whose second row breaks a unique constraint
    "organization.name": lambda org_id: models.Organization(name="เทศบาลตำบลทดสอบ"),
    "department.org_name": lambda org_id: models.Department(organization_id=org_id, name="กองช่าง"),
    "surveyresponse.respondent_key": lambda org_id: models.SurveyResponse(
        organization_id=org_id, fiscal_year=2568, instrument=models.Instrument.eit,
        submitted_at=_AT, submitted_on=_AT.date(), respondent_key="same"),
    "user.username": lambda org_id: models.User(username="admin", password_hash="x", role=models.Role.admin),
    "formmapping.signature": lambda org_id: models.FormMapping(organization_id=org_id, signature="abc"),
}


@pytest.mark.parametrize("case", sorted(_DUPLICATES))
def test_unique_constraints_are_enforced(engine, case):
    make = _DUPLICATES[case]
    with session_scope(engine) as s:
        org_id = make_org(s, name="อบต.หลัก").id
        s.add(make(org_id))
    model = type(make(org_id))

    def count() -> int:
        with Session(engine) as s:
            return s.exec(select(sa.func.count()).select_from(model)).one()

    rows = count()
    with pytest.raises(IntegrityError):
        with session_scope(engine) as s:
            s.add(make(org_id))
    assert count() == rows


def test_foreign_keys_are_enforced(engine):
    with pytest.raises(IntegrityError):
        with session_scope(engine) as s:
            s.add(models.Department(organization_id=424242, name="กองผี"))
    with Session(engine) as s:
        assert s.exec(select(models.Department)).all() == []


def test_measure_department_cascades_on_delete(engine):
    with session_scope(engine) as s:
        org = make_org(s)
        dept = models.Department(organization_id=org.id, name="สำนักปลัด")
        measure = models.Measure(organization_id=org.id, fiscal_year=2568, number=1, title="มาตรการ")
        s.add_all([dept, measure])
        s.flush()
        s.add(models.MeasureDepartment(measure_id=measure.id, department_id=dept.id))
        measure_id = measure.id
    with engine.begin() as conn:
        conn.execute(sa.delete(models.Measure.__table__).where(models.Measure.__table__.c.id == measure_id))
    with Session(engine) as s:
        assert s.exec(select(models.MeasureDepartment)).all() == []


def test_session_scope_rolls_back_everything_on_error(engine):
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with session_scope(engine) as s:
            org = make_org(s)
            s.add(models.Department(organization_id=org.id, name="กองคลัง"))
            s.flush()  # rows reached the database inside the transaction ...
            raise Boom
    with Session(engine) as s:  # ... and are gone after the rollback
        assert s.exec(select(models.Organization)).all() == []
        assert s.exec(select(models.Department)).all() == []


def test_session_scope_commits_on_success(engine):
    with session_scope(engine) as s:
        make_org(s)
    with Session(engine) as s:
        assert len(s.exec(select(models.Organization)).all()) == 1


# --- migrations ----------------------------------------------------------------------------

def head_revision() -> str:
    return ScriptDirectory.from_config(db.alembic_config(db.make_engine("sqlite://"))).get_current_head()


def test_migrate_is_idempotent_and_at_head(engine):
    assert db.schema_revision(engine) == head_revision()
    with session_scope(engine) as s:
        make_org(s)
    db.migrate(engine)
    db.migrate(engine)
    assert db.schema_revision(engine) == head_revision()
    with Session(engine) as s:
        assert len(s.exec(select(models.Organization)).all()) == 1


@pytest.fixture(params=[
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
])
def empty_engine(request, tmp_path):
    """A database with no schema at all (not migrated)."""
    if request.param == "sqlite":
        engine = db.make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
        yield engine
        engine.dispose()
        return
    admin_url = request.getfixturevalue("pg_admin_url")
    name = pg_server.unique_db_name("ita_empty")
    pg_server.create_database(admin_url, name)
    engine = db.make_engine(pg_server.database_url(admin_url, name))
    yield engine
    engine.dispose()
    pg_server.drop_database(admin_url, name)


def _upgrade(engine, revision: str) -> None:
    with engine.begin() as conn:
        cfg = db.alembic_config(engine)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def _fill(engine, start: int, rows: int = 2) -> dict[str, int]:
    """Add ``rows`` rows to every table the schema has now; returns the row count per table."""
    meta = sa.MetaData()
    meta.reflect(engine)
    ids: dict[str, list] = {}
    with engine.begin() as conn:
        for table in meta.sorted_tables:
            if table.name == "alembic_version":
                continue
            model_table = SQLModel.metadata.tables.get(table.name)
            pk = list(table.primary_key.columns)
            for i in range(start, start + rows):
                result = conn.execute(table.insert().values(row_values(table, i, ids, model_table)))
                if len(pk) == 1:
                    ids.setdefault(table.name, []).append(result.inserted_primary_key[0])
        return {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                for t in meta.sorted_tables if t.name != "alembic_version"}


def _counts(engine) -> dict[str, int]:
    meta = sa.MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        return {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                for t in meta.sorted_tables if t.name != "alembic_version"}


def test_upgrade_from_first_revision_keeps_every_row(empty_engine):
    """A database made at the first revision, filled, then walked through every later
    revision up to head (adding rows at each step) loses no row on the way."""
    script = ScriptDirectory.from_config(db.alembic_config(empty_engine))
    revisions = [r.revision for r in reversed(list(script.walk_revisions()))]  # base .. head
    assert revisions[0] == "0001"
    _upgrade(empty_engine, revisions[0])
    before = _fill(empty_engine, start=0)
    assert before and all(n > 0 for n in before.values())
    for step, revision in enumerate(revisions[1:], start=1):
        _upgrade(empty_engine, revision)
        after = _counts(empty_engine)
        lost = {t: (n, after.get(t)) for t, n in before.items() if t in after and after[t] < n}
        assert not lost, f"upgrade to {revision} lost rows (before, after): {lost}"
        before = _fill(empty_engine, start=10 * step)
    _upgrade(empty_engine, "head")
    assert db.schema_revision(empty_engine) == revisions[-1] == head_revision()
    assert _counts(empty_engine) == before
    # The app's own migrate() on the upgraded database is a no-op.
    db.migrate(empty_engine)
    assert _counts(empty_engine) == before


# --- SQLite specifics and settings ---------------------------------------------------------

def test_sqlite_pragmas_are_on(sqlite_engine):
    with sqlite_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_sqlite_foreign_keys_on_every_pooled_connection(sqlite_engine):
    # The pragma is per connection: check a second, concurrently checked-out one as well.
    with sqlite_engine.connect() as a, sqlite_engine.connect() as b:
        assert a.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert b.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


@pytest.mark.parametrize("given, expected", [
    ("postgres://u:p@db:5432/ita", "postgresql+psycopg://u:p@db:5432/ita"),
    ("postgresql://u:p@db/ita", "postgresql+psycopg://u:p@db/ita"),
    ("postgresql+psycopg://u:p@db/ita", "postgresql+psycopg://u:p@db/ita"),
    ("  sqlite:////srv/ita.db  ", "sqlite:////srv/ita.db"),
])
def test_database_url_from_env(monkeypatch, given, expected):
    monkeypatch.setenv("DATABASE_URL", given)
    assert config.database_url() == expected


@pytest.mark.parametrize("value", [None, "", "   "])
def test_database_url_defaults_to_sqlite_under_data(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("DATABASE_URL", value)
    assert config.database_url() == f"sqlite:///{config.REPO_ROOT / 'data' / 'ita.db'}"
    assert (config.REPO_ROOT / "data").is_dir()
    assert config.get_settings().database_url == config.database_url()


def test_make_engine_uses_database_url(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    engine = db.make_engine()
    try:
        db.migrate(engine)
        assert db.is_sqlite(engine) and db.has_table(engine, "organization")
        assert (tmp_path / "env.db").exists()
    finally:
        engine.dispose()



# --- revision 0004: survey answers stored once per form ---------------------------------------


def test_upgrade_to_survey_forms_keeps_every_response(empty_engine):
    """A database made at the revision before 0004 (answers as {question: answer} in every row),
    with responses of two batches, of no batch, of two instruments, with free text and odd JSON
    values, upgraded: every response keeps its key, scores, department and answers; the counts
    and estimates the app shows are the same; and the first cumulative export afterwards
    continues the migrated form (an edited row replaces its old version)."""
    import survey_files as sf
    from ita_dashboard.importers.surveys import parse_survey_file
    from ita_dashboard.services import survey_import, survey_keys
    from ita_dashboard.services.surveys import instrument_status

    _upgrade(empty_engine, "0002")
    meta = sa.MetaData()
    meta.reflect(empty_engine)
    t = meta.tables
    first = sf.make_responses(40, seed=5)
    parsed = parse_survey_file(sf.google_csv(first)).rows
    extra_q, comment_q = "10. ข้อเสนอแนะเพิ่มเติม", "ความคิดเห็นอื่น ๆ"
    now = dt.datetime(2025, 6, 1, tzinfo=dt.timezone.utc)
    expected = {}
    with empty_engine.begin() as conn:
        org = conn.execute(t["organization"].insert().values(name="อบต.ทดสอบ", kind="อบต.", is_demo=False,
                                                             created_at=now)).inserted_primary_key[0]
        deps = {name: conn.execute(t["department"].insert().values(
            organization_id=org, name=name, aliases=[], iit_eligible_staff=10, sort_order=i)).inserted_primary_key[0]
            for i, name in enumerate(sf.DEPARTMENTS)}

        def batch(kind: str, n: int) -> int:
            return conn.execute(t["importbatch"].insert().values(
                organization_id=org, fiscal_year=2568, kind=kind, file_name=f"{kind}.csv", sha256="0" * 64,
                size_bytes=1, created_at=now, read_count=n, imported_count=n, duplicate_count=0, rejected_count=0,
                rejected_rows=[])).inserted_primary_key[0]

        def add(row_id, instrument, answers, batch_id, *, key=None, at=None, department="กองคลัง", score=None):
            at = at or dt.datetime(2025, 1, 6, 1, 0, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=row_id)
            key = key or f"legacy-{instrument}-{row_id}"
            conn.execute(t["surveyresponse"].insert().values(
                organization_id=org, fiscal_year=2568, instrument=instrument, submitted_at=at,
                submitted_on=(at + dt.timedelta(hours=7)).date(), department_id=deps.get(department),
                department_text=department, respondent_key=key, answers=answers, score=score,
                indicator_score_1=score, indicator_score_2=None, indicator_score_3=score, indicator_score_4=None,
                indicator_score_5=None, import_batch_id=batch_id))
            expected[key] = (answers, score, deps.get(department))

        b1 = batch("survey_iit", 40)
        for i, row in enumerate(parsed):
            add(i, "iit", dict(row.answers), b1, key=survey_keys.respondent_key(row), at=row.submitted_at,
                department=row.department_text, score=60.0 + i % 7)
        b2 = batch("survey_iit", 12)
        for i in range(12):
            answers = {sf.QUESTIONS[0]: sf.SCALE[i % 4], extra_q: sf.SCALE[(i + 1) % 4],
                       comment_q: f"ความเห็นที่ {i} " + "ยาวมาก" * 30}
            add(100 + i, "iit", answers, b2, department="งานที่ไม่มีในทะเบียน" if i == 3 else "กองช่าง", score=75.5)
        add(200, "iit", {"ข้อ 1": 5, "ข้อ 2": None, "ข้อ 3": ["ก", 2.5], "ข้อ 4": True, "": "ว่าง"}, b2)
        for i in range(3):
            add(300 + i, "iit", {}, None, score=None)  # written by no batch (hand-inserted)
        b3 = batch("survey_eit", 5)
        for i in range(5):
            add(400 + i, "eit", {q: sf.SCALE[i % 4] for q in sf.QUESTIONS}, b3, department="สำนักปลัดเทศบาล", score=90.0)
        before_by_dep = conn.execute(sa.text(
            "SELECT instrument, department_id, COUNT(*), AVG(score) FROM surveyresponse "
            "GROUP BY instrument, department_id ORDER BY 1, 2")).all()

    _upgrade(empty_engine, "head")
    with session_scope(empty_engine) as s:
        rows = s.exec(select(models.SurveyResponse)).all()
        got = {r.respondent_key: (r.answers, r.score, r.department_id) for r in rows}
        assert got == expected
        assert all(r.vanished_by is None for r in rows)
        after_by_dep = s.execute(sa.text(
            "SELECT instrument, department_id, COUNT(*), AVG(score) FROM surveyresponse "
            "GROUP BY instrument, department_id ORDER BY 1, 2")).all()
        assert [tuple(r) for r in after_by_dep] == [tuple(r) for r in before_by_dep]
        iit = instrument_status(s, organization_id=org, fiscal_year=2568, instrument="iit")
        assert iit.responses == 40 + 12 + 1 + 3
        assert {d.name: d.responses for d in iit.by_department}["กองช่าง"] == 11 + sum(
            1 for r in first if r.department == "กองช่าง")
        members = s.execute(sa.select(models.SurveyBatchResponse.batch_id, sa.func.count())
                            .group_by(models.SurveyBatchResponse.batch_id)).all()
        assert dict(members) == {b1: 40, b2: 13, b3: 5}
        forms = s.exec(select(models.SurveyForm)).all()
        assert all(f.signature.startswith("legacy:") for f in forms)
        b2_form = s.get(models.SurveyForm, s.get(models.ImportBatch, b2).form_id)
        assert "ยาวมาก" not in json.dumps(b2_form.scales, ensure_ascii=False)  # free text stays in its row
    # The agency's next cumulative export of the first form: one response edited since.
    edited = sf.Response(dt.datetime(2025, 3, 1, 9, 0), first[7].department, ("มาก",) + first[7].answers[1:])
    data = sf.google_csv([*first[:7], *first[8:], edited])
    with session_scope(empty_engine) as s:
        r = survey_import.import_survey(s, organization_id=org, instrument="iit", parsed=parse_survey_file(data),
                                        fiscal_year=None, file_name="next.csv", file_bytes=data, user_id=None)
    assert (r.new, r.changed, r.unchanged, r.vanished) == (1, 0, 39, 1)
    with session_scope(empty_engine) as s:
        assert instrument_status(s, organization_id=org, fiscal_year=2568, instrument="iit").responses == 40 + 12 + 1 + 3
        assert s.get(models.ImportBatch, r.batch_id).form_id == s.get(models.ImportBatch, b1).form_id


# --- revision 0007: survey imports written in short transactions ------------------------------


def test_upgrade_to_import_batch_state_makes_every_batch_done(empty_engine):
    """A database at 0006 with batches and responses, upgraded: every batch is ``done`` with no
    lease, every response is kept and counted as before."""
    _upgrade(empty_engine, "0006")
    before = _fill(empty_engine, start=0, rows=3)
    with empty_engine.connect() as conn:
        counted_before = conn.execute(sa.text("SELECT COUNT(*) FROM surveyresponse WHERE vanished_by IS NULL")).scalar_one()
    _upgrade(empty_engine, "head")
    assert _counts(empty_engine) == before
    with session_scope(empty_engine) as s:
        batches = s.exec(select(models.ImportBatch)).all()
        assert batches and {(b.state, b.lease_owner, b.lease_until) for b in batches} == {("done", None, None)}
        assert s.execute(sa.text("SELECT COUNT(*) FROM surveyresponse WHERE vanished_by IS NULL")).scalar_one() \
            == counted_before
