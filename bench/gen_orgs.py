"""Generate a many-organisation database for the scale benchmark (bench/run.py).

    .venv/bin/python bench/gen_orgs.py DATABASE_URL [--orgs 8000] [--responses 2000000] [--measures 60000]

The schema comes from the app's migrations; rows go in by bulk insert (sqlite3 ``executemany``,
PostgreSQL ``COPY``), never ORM objects one by one, streamed in chunks so memory stays flat.
Shape: ~104 agencies per province (77 provinces at 8,000), 13 per district, 5 departments each;
responses spread evenly over agencies (2 in 5 IIT with a department, 3 in 5 EIT), submitted
April–July 2025 (FY 2568) with pre-computed scores and no answers; measures spread evenly with
0–2 progress rows each. One every-organisation admin ``bench_admin`` (password ``bench-password-1``)
and one agency admin ``bench_agency`` of the first agency.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from ita_dashboard import db  # noqa: E402
from ita_dashboard.auth import hash_password  # noqa: E402

FY = 2568
PER_PROVINCE = 104
PER_DISTRICT = 13
KINDS = ("อบต.", "อบต.", "อบต.", "เทศบาลตำบล", "เทศบาลตำบล", "เทศบาลเมือง", "เทศบาลนคร", "อบจ.")
DEPARTMENTS = ("สำนักปลัด", "กองคลัง", "กองช่าง", "กองการศึกษา", "กองสาธารณสุขและสิ่งแวดล้อม")
PASSWORD = "bench-password-1"
CHUNK = 50_000
UTC = dt.timezone.utc
NOW = dt.datetime(2025, 8, 1, tzinfo=UTC)


def province_of(i: int) -> str:
    return f"จังหวัดทดสอบ{i // PER_PROVINCE + 1:02d}"


def _chunks(rows: Iterable[Sequence[Any]], size: int = CHUNK) -> Iterator[list[Sequence[Any]]]:
    chunk: list[Sequence[Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _sqlite_value(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return v.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, bool):
        return int(v)
    return v


def bulk_insert(raw, dialect: str, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert ``rows`` into ``table``: executemany on SQLite, COPY on PostgreSQL."""
    n = 0
    cols = ", ".join(f'"{c}"' for c in columns)
    cur = raw.cursor()
    if dialect == "sqlite":
        sql = f'INSERT INTO "{table}" ({cols}) VALUES ({", ".join("?" for _ in columns)})'
        for chunk in _chunks(rows):
            cur.executemany(sql, [tuple(_sqlite_value(v) for v in r) for r in chunk])
            n += len(chunk)
    else:
        with cur.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
            for r in rows:
                copy.write_row(r)
                n += 1
    raw.commit()
    return n


def generate(url: str, *, orgs: int, responses: int, measures: int, seed: int = 2568, quiet: bool = False) -> dict[str, float]:
    """Create the schema at ``url`` (must be empty) and fill it; returns row counts and seconds."""
    rng = random.Random(seed)
    engine = db.make_engine(url)
    db.migrate(engine)
    dialect = engine.dialect.name
    raw = engine.raw_connection()
    dbapi = raw.driver_connection
    if dialect == "sqlite":
        dbapi.execute("PRAGMA synchronous=OFF")
    t0 = time.perf_counter()
    created = dt.datetime(2024, 9, 1, tzinfo=UTC)

    def insert(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        start = time.perf_counter()
        n = bulk_insert(dbapi, dialect, table, columns, rows)
        if not quiet:
            print(f"  {table}: {n:,} rows in {time.perf_counter() - start:.1f} s", flush=True)
        return n

    insert("organization", ("id", "name", "kind", "size", "province", "district", "is_demo", "created_at"), (
        (i + 1, f"หน่วยงานทดสอบ {i + 1:05d}", KINDS[i % len(KINDS)], "SML"[i % 3], province_of(i),
         f"อำเภอทดสอบ{i // PER_DISTRICT + 1:04d}", False, created) for i in range(orgs)))
    nd = len(DEPARTMENTS)
    insert("department", ("id", "organization_id", "name", "aliases", "iit_eligible_staff", "sort_order"), (
        (o * nd + k + 1, o + 1, name, "[]", 4 + (o + k) % 12, k) for o in range(orgs) for k, name in enumerate(DEPARTMENTS)))

    fy_start = dt.date(2024, 10, 1)
    insert("measure", ("id", "organization_id", "fiscal_year", "number", "title", "steps", "owner_text", "owner_all",
                       "unresolved_owners", "period_text", "start_date", "end_date", "period_unparsed", "output_text",
                       "outcome_text", "created_at", "updated_at"), (
        (j + 1, j % orgs + 1, FY, j // orgs + 1, f"มาตรการทดสอบ {j + 1}", "", "ทุกกอง", True, "[]", "", fy_start,
         fy_start + dt.timedelta(days=60 + 30 * (j % 11)), False, "", "", created, created) for j in range(measures)))

    def progress() -> Iterator[tuple]:
        pid = 0
        for j in range(measures):
            r = rng.random()
            if r < 0.3:
                continue
            pid += 1
            yield (pid, j + 1, fy_start + dt.timedelta(days=30 + j % 90), "in_progress", 50, "", created)
            if r > 0.6:
                pid += 1
                yield (pid, j + 1, fy_start + dt.timedelta(days=150 + j % 120), "done", 100, "", created)

    insert("progressupdate", ("id", "measure_id", "as_of", "status", "percent", "note", "created_at"), progress())

    window = dt.datetime(2025, 4, 1, 2, tzinfo=UTC)
    bkk = dt.timedelta(hours=7)

    def answers() -> Iterator[tuple]:
        for k in range(responses):
            org = k % orgs
            iit = k % 5 < 2
            at = window + dt.timedelta(seconds=(k * 7919) % (120 * 86400))
            scores = [round(60 + 40 * rng.random(), 1) for _ in range(5)]
            yield (k + 1, org + 1, FY, "iit" if iit else "eit", at, (at + bkk).date(),
                   org * nd + (k // orgs) % nd + 1 if iit else None, "", f"b{k}", "[]",
                   round(sum(scores) / 5, 2), *scores)

    insert("surveyresponse", ("id", "organization_id", "fiscal_year", "instrument", "submitted_at", "submitted_on",
                              "department_id", "department_text", "respondent_key", "answer_codes", "score",
                              "indicator_score_1", "indicator_score_2", "indicator_score_3", "indicator_score_4",
                              "indicator_score_5"), answers())
    pw = hash_password(PASSWORD)
    insert("user", ("username", "display_name", "password_hash", "role", "organization_id", "active",
                    "must_change_password", "failed_logins", "created_at"), [
        ("bench_admin", "ผู้ดูแลทดสอบ", pw, "admin", None, True, False, 0, created),
        ("bench_agency", "ผู้ดูแลหน่วยงานทดสอบ", pw, "admin", 1, True, False, 0, created),
    ])
    if dialect == "postgresql":  # ids were given explicitly: move the sequences past them
        cur = dbapi.cursor()
        for table in ("organization", "department", "measure", "progressupdate", "surveyresponse"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))")
        cur.execute("ANALYZE")
        dbapi.commit()
    else:
        dbapi.execute("ANALYZE")
        dbapi.commit()
    raw.close()
    engine.dispose()
    return {"orgs": orgs, "responses": responses, "measures": measures, "seconds": round(time.perf_counter() - t0, 1)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("url")
    p.add_argument("--orgs", type=int, default=8000)
    p.add_argument("--responses", type=int, default=2_000_000)
    p.add_argument("--measures", type=int, default=60_000)
    a = p.parse_args()
    print(generate(a.url, orgs=a.orgs, responses=a.responses, measures=a.measures))


if __name__ == "__main__":
    main()
