"""Scale benchmark (issue 7): many organisations on SQLite and PostgreSQL.

    .venv/bin/python bench/run.py [--quick] [--skip-browser] [--skip-pg]

Full size: 8,000 agencies, 2,000,000 responses, 60,000 measures, and the same at 1/100 in the
same run. For each backend and size: the overview's summary of one agency (``build_summary``,
median of 7) and the roll-up of one province (~104 agencies, median of 5), plus the whole
country's roll-up at full size; full table scans of the big tables in the summary's query plans.
Then, at full size on SQLite: an AppTest run of the overview (in its own process, with that
process's peak memory); N browser sessions opening the overview at once against one
``streamlit run`` (20, or 5 with --quick); and on each backend two uploads of overlapping files
for one agency at the same moment (no row lost or doubled). Prints each figure as it comes
and, last, one JSON line with all of them. SQLite files are cached in bench/out/ keyed by size
and schema revision; PostgreSQL is ``BENCH_DATABASE_URL``/``TEST_DATABASE_URL`` (an admin URL)
or a throwaway cluster (tests/pg_server.py). ``--quick``: 400 agencies / 20,000 responses /
3,000 measures and 1/100 of that, for CI smoke (< 2 minutes). Tests never assert on these times.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "out"
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

FULL = {"orgs": 8000, "responses": 2_000_000, "measures": 60_000}
QUICK = {"orgs": 400, "responses": 20_000, "measures": 3_000}
AS_OF = dt.date(2025, 6, 30)
FY = 2568
AIMS = {"summary_ms": 200, "ratio": 3.0, "apptest_s": 2.0, "peak_mb": 1024, "browser_median_s": 3.0}
BIG_TABLES = ("surveyresponse", "measure", "progressupdate", "department")
figures: dict = {}


def say(key: str, value, text: str = "") -> None:
    figures[key] = value
    print(f"{key}: {value}{'  ' + text if text else ''}", flush=True)


def scaled(size: dict, factor: float) -> dict:
    return {k: max(int(v * factor), 1) for k, v in size.items()}


def head_revision() -> str:
    from ita_dashboard import db
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(db.alembic_config(db.make_engine("sqlite://"))).get_current_head()


def schema_fingerprint() -> str:
    """The head revision and a hash of every migration and of the generator: a cached database is
    reused only when the schema and the data it would hold are exactly the same (a revision id alone
    is not enough while a revision is still being written, or when revisions are re-chained)."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted((REPO / "migrations" / "versions").glob("*.py")) + [Path(__file__).with_name("gen_orgs.py")]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return f"{head_revision()}-{digest.hexdigest()[:10]}"


def sqlite_db(size: dict) -> str:
    """A generated SQLite file for ``size`` (cached in bench/out/ by size and schema fingerprint)."""
    from gen_orgs import generate

    OUT.mkdir(exist_ok=True)
    path = OUT / f"orgs_{size['orgs']}_{size['responses']}_{size['measures']}_r{schema_fingerprint()}.db"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            p.unlink(missing_ok=True)
        print(f"generating {path.name} ...", flush=True)
        generate(f"sqlite:///{tmp}", **size)
        tmp.rename(path)
    return f"sqlite:///{path}"


def pg_db(admin_url: str, size: dict, tag: str) -> str:
    import pg_server
    from gen_orgs import generate

    name = f"ita_bench_{tag}_{size['orgs']}_{size['responses']}"
    pg_server.drop_database(admin_url, name)
    pg_server.create_database(admin_url, name)
    url = pg_server.database_url(admin_url, name)
    print(f"generating PostgreSQL {name} ...", flush=True)
    generate(url, **size)
    return url


def median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return round(statistics.median(times), 1)


def full_scans(engine, statements) -> list[str]:
    """Big tables read without an index in the statements' query plans."""
    found = set()
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for sql, params in statements:
            if engine.dialect.name == "sqlite":
                cur.execute("EXPLAIN QUERY PLAN " + sql, params)
                for row in cur.fetchall():
                    detail = row[-1]
                    for t in BIG_TABLES:
                        if detail.startswith(f"SCAN {t}") and "USING" not in detail:
                            found.add(t)
            else:
                cur.execute("EXPLAIN " + sql, params)
                for (line,) in cur.fetchall():
                    for t in BIG_TABLES:
                        if f"Seq Scan on {t} " in line + " ":
                            found.add(t)
        raw.rollback()
    finally:
        raw.close()
    return sorted(found)


def time_queries(url: str, label: str, *, runs: int) -> None:
    from sqlalchemy import event

    from ita_dashboard import db
    from ita_dashboard.models import Organization
    from ita_dashboard.permissions import Actor
    from ita_dashboard.services import rollup
    from ita_dashboard.services.summary import build_summary
    from sqlmodel import func, select

    engine = db.make_engine(url)
    with db.session_scope(engine) as s:
        n = s.exec(select(func.count()).select_from(Organization)).one()
        org_id = n // 2 + 1
        province = s.get(Organization, org_id).province
        build_summary(s, organization_id=org_id, fiscal_year=FY, as_of=AS_OF)  # warm
        say(f"{label}_summary_ms", median_ms(lambda: build_summary(s, organization_id=org_id, fiscal_year=FY, as_of=AS_OF), runs))
        scope = rollup.Scope(province=province)
        rows = rollup.rollup(s, actor=Actor.system(), fiscal_year=FY, as_of=AS_OF, scope=scope)
        say(f"{label}_province_rollup_ms",
            median_ms(lambda: rollup.rollup(s, actor=Actor.system(), fiscal_year=FY, as_of=AS_OF, scope=scope), max(runs - 2, 1)),
            f"({len(rows)} agencies)")
        if label.endswith("_full"):
            t = time.perf_counter()
            everything = rollup.rollup(s, actor=Actor.system(), fiscal_year=FY, as_of=AS_OF)
            say(f"{label}_country_rollup_ms", round((time.perf_counter() - t) * 1000, 1), f"({len(everything)} agencies)")
    if not label.endswith("_full"):  # tiny tables are rightly scanned: plans matter at size
        engine.dispose()
        return
    statements = []

    def capture(conn, cursor, sql, params, context, executemany):
        statements.append((sql, params))

    event.listen(engine, "before_cursor_execute", capture)
    with db.session_scope(engine) as s:
        build_summary(s, organization_id=org_id, fiscal_year=FY, as_of=AS_OF)
    event.remove(engine, "before_cursor_execute", capture)
    say(f"{label}_summary_full_scans", full_scans(engine, statements))
    engine.dispose()


def apptest_overview(url: str) -> dict:
    """Run in its own process: an AppTest of the overview as the every-organisation admin."""
    os.environ["DATABASE_URL"] = url
    from streamlit.testing.v1 import AppTest

    from ita_dashboard import db
    from ita_dashboard.models import User
    from sqlmodel import select

    engine = db.make_engine(url)
    with db.session_scope(engine) as s:
        uid = s.exec(select(User.id).where(User.username == "bench_admin")).one()
    import plotly.graph_objects  # noqa: F401  (imports are not the page's cost)
    import pandas  # noqa: F401
    t = time.perf_counter()
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=300)
    at.session_state["auth_user_id"] = uid
    at.run()
    seconds = time.perf_counter() - t
    errors = [e.message for e in at.exception]
    return {"seconds": round(seconds, 2), "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "errors": errors, "metrics": len(at.metric)}


def run_apptest(url: str) -> None:
    res = subprocess.run([sys.executable, __file__, "--apptest", url], capture_output=True, text=True, timeout=900)
    if res.returncode != 0:
        print(res.stderr[-3000:], flush=True)
    data = json.loads(res.stdout.strip().splitlines()[-1])
    say("apptest_overview_s", data["seconds"], f"(aim < {AIMS['apptest_s']} s; {data['metrics']} metrics, errors: {data['errors']})")
    say("apptest_peak_mb", data["peak_mb"], f"(aim < {AIMS['peak_mb']} MB)")


# --- browsers ----------------------------------------------------------------------------------

def start_server(url: str) -> tuple[subprocess.Popen, str]:
    from e2e.conftest import _free_port, _healthy, _venv_cmd

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
    log = open(Path(tempfile.gettempdir()) / f"ita-bench-streamlit-{port}.log", "w")
    proc = subprocess.Popen(
        [*_venv_cmd("streamlit"), "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while not _healthy(base):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"streamlit did not start; log in {log.name}")
        time.sleep(0.3)
    return proc, base


def stop_server(proc: subprocess.Popen) -> None:
    from e2e.conftest import stop_process_group

    stop_process_group(proc)


async def _sessions(base: str, n: int, username: str) -> list[float | None]:
    """n browser contexts (separate users) open the login page; once all are ready they press
    "log in" at the same moment, and each is timed from its click to the overview's figures."""
    from playwright.async_api import async_playwright

    from e2e.conftest import CHROMIUM, CHROMIUM_ARGS
    from gen_orgs import PASSWORD

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        ready = asyncio.Barrier(n)

        async def one() -> float | None:
            context = await browser.new_context(viewport={"width": 1366, "height": 900}, locale="th-TH")
            page = await context.new_page()
            page.set_default_timeout(180_000)
            try:
                try:
                    await page.goto(base)
                    await page.get_by_label("ชื่อผู้ใช้").fill(username)
                    await page.get_by_label("รหัสผ่าน").fill(PASSWORD)
                finally:
                    await ready.wait()  # a session that failed to open still releases the others
                t = time.perf_counter()  # from pressing "log in" to the overview's figures
                await page.get_by_role("button", name="เข้าสู่ระบบ").click()
                await page.get_by_test_id("stMetric").first.wait_for(state="visible")
                await page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(state="attached")
                return time.perf_counter() - t
            except Exception as exc:  # noqa: BLE001 -- a session that fails counts as not loaded
                print(f"  session failed: {exc!s:.200}", flush=True)
                return None
            finally:
                await context.close()

        results = await asyncio.gather(*(one() for _ in range(n)))
        await browser.close()
        return list(results)


def _process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_busy_s() -> float:
    """CPU seconds all cores have spent busy (not idle, not waiting for I/O) since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def browser_sessions(url: str, n: int, *, username: str = "bench_admin") -> None:
    """Besides the times, how the machine's CPU was shared: when the browsers run on the same
    cores as the server, the split says which side the waiting is for."""
    proc, base = start_server(url)
    try:
        asyncio.run(_sessions(base, 1, username))  # warm the server (imports, caches), untimed
        server0, machine0 = _process_cpu_s(proc.pid), _machine_busy_s()
        times = asyncio.run(_sessions(base, n, username))
        server_cpu, machine_cpu = _process_cpu_s(proc.pid) - server0, _machine_busy_s() - machine0
    finally:
        stop_server(proc)
    ok = [t for t in times if t is not None]
    say("browser_sessions", n)
    say("browser_loaded", len(ok), "(aim: all)")
    say("browser_median_s", round(statistics.median(ok), 2) if ok else None, f"(aim < {AIMS['browser_median_s']} s)")
    say("browser_max_s", round(max(ok), 2) if ok else None)
    say("browser_server_cpu_s", round(server_cpu, 1), "(the Streamlit process, pages served and scripts run)")
    say("browser_machine_cpu_s", round(machine_cpu, 1), f"(all cores; the rest is the {n} browsers)")


# --- concurrent uploads --------------------------------------------------------------------------

def concurrent_uploads(url: str, label: str) -> None:
    """Two threads import overlapping exports (rows 0-599 and 300-899) for one agency at once."""
    from survey_files import google_csv, make_responses
    from sqlalchemy.exc import DBAPIError
    from sqlmodel import func, select

    from ita_dashboard import db
    from ita_dashboard.importers.surveys import parse_survey_file
    from ita_dashboard.models import SurveyResponse
    from ita_dashboard.services.survey_import import import_survey

    engine = db.make_engine(url)
    org_id = 1
    responses = make_responses(900, seed=int(time.time()))
    files = [google_csv(responses[:600]), google_csv(responses[300:])]

    def count() -> int:
        with db.session_scope(engine) as s:
            return s.exec(select(func.count()).select_from(SurveyResponse).where(SurveyResponse.organization_id == org_id)).one()

    before = count()
    barrier = threading.Barrier(2)
    retries = []

    def upload(data: bytes) -> None:
        parsed = parse_survey_file(data, filename="upload.csv")
        barrier.wait()
        for _attempt in range(3):  # a failed upload is re-sent, as the user would
            try:
                with db.session_scope(engine) as s:
                    import_survey(s, organization_id=org_id, instrument="iit", parsed=parsed, fiscal_year=FY,
                                  file_name="upload.csv", file_bytes=data, user_id=None)
                return
            except DBAPIError as exc:
                retries.append(type(exc.orig).__name__)
                time.sleep(0.2)

    threads = [threading.Thread(target=upload, args=(f,)) for f in files]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    added = count() - before
    say(f"{label}_uploads_rows_added", added, "(expected 900: none lost, none doubled)")
    say(f"{label}_uploads_retries", len(retries), f"{sorted(set(retries))}" if retries else "")
    engine.dispose()


# --- main ------------------------------------------------------------------------------------------

def pg_admin() -> tuple[str, object]:
    import pg_server

    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if url:
        return pg_server.normalize_url(url), None
    server = pg_server.start_throwaway_server()
    return server.admin_url, server


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small sizes for CI smoke (< 2 minutes)")
    p.add_argument("--skip-browser", action="store_true", help="no AppTest, no browser sessions")
    p.add_argument("--skip-pg", action="store_true", help="SQLite only")
    p.add_argument("--apptest", metavar="URL", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.apptest:
        print(json.dumps(apptest_overview(a.apptest)))
        return
    started = time.perf_counter()
    full = QUICK if a.quick else FULL
    small = scaled(full, 0.01)
    say("mode", "quick" if a.quick else "full")
    say("size_full", full)
    say("size_small", small)
    runs = 3 if a.quick else 7
    sqlite_full, sqlite_small = sqlite_db(full), sqlite_db(small)
    time_queries(sqlite_small, "sqlite_small", runs=runs)
    time_queries(sqlite_full, "sqlite_full", runs=runs)
    server = None
    if not a.skip_pg:
        admin, server = pg_admin()
        pg_small, pg_full = pg_db(admin, small, "small"), pg_db(admin, full, "full")
        time_queries(pg_small, "pg_small", runs=runs)
        time_queries(pg_full, "pg_full", runs=runs)
    for b in ("sqlite", "pg") if not a.skip_pg else ("sqlite",):
        for what in ("summary_ms", "province_rollup_ms"):
            s, f = figures[f"{b}_small_{what}"], figures[f"{b}_full_{what}"]
            say(f"{b}_{what.removesuffix('_ms')}_ratio", round(f / s, 2) if s else None, f"(full/small; aim <= {AIMS['ratio']})")
    if not a.skip_browser:
        run_apptest(sqlite_full)
        browser_sessions(sqlite_full, 5 if a.quick else 20)
    with tempfile.TemporaryDirectory(prefix="ita-bench-") as tmp:  # the cached file stays as generated
        work = Path(tmp) / "uploads.db"
        shutil.copy(sqlite_small.removeprefix("sqlite:///"), work)
        concurrent_uploads(f"sqlite:///{work}", "sqlite")
    if not a.skip_pg:
        concurrent_uploads(pg_small, "pg")
        if server is not None:
            server.stop()
    say("machine", _machine())
    say("total_s", round(time.perf_counter() - started, 1))
    print(json.dumps(figures, ensure_ascii=False))


def _machine() -> str:
    try:
        model = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        model = "unknown CPU"
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores, {mem:.0f} GB, {model}"


if __name__ == "__main__":
    main()
