"""Benchmark: importing a 100,000-row survey export against merely reading it with calamine.

    .venv/bin/python bench/survey_import.py [--rows 100000] [--cols 40] [--repeat 1] [--pg | --no-sqlite]

Generates (once, cached in bench/out/) a Google-Forms-like xlsx, then measures, each phase in
its own subprocess so that its peak memory (ru_maxrss) is its own:

- ``floor``: python-calamine ``iter_rows`` over every row of the same file, the least any
  import must pay (the file has to be read);
- ``import``: parse_survey_file + import_survey into a fresh database, committed;
- ``reimport``: the same file again into that database (every row already stored), as the
  command line runs it: a file imported before is recognised by its bytes and not read again;
- ``reread``: the same again, read anyway (``import_survey_file(reuse=False)``);
- ``after_abort``: into another fresh database, three imports killed (SIGKILL) half-way through
  their inserts, then a complete import: on PostgreSQL the killed transactions leave dead rows
  and stale statistics behind, which must not change how the duplicate check runs; on SQLite
  they leave abandoned staging batches (rows committed chunk by chunk, counted nowhere), which
  the complete import deletes first.

On SQLite the database file's size after the import is reported (after a WAL checkpoint); on
PostgreSQL the size of the survey tables with their indexes. ``--pg`` runs on PostgreSQL too
(``BENCH_DATABASE_URL`` / ``TEST_DATABASE_URL``, an admin URL, or a throwaway cluster from
tests/pg_server.py); ``--no-sqlite`` skips SQLite. Prints each figure and the ratios to the
floor, and finally one JSON line with all figures. Aims (issue 14): database <= 100 MB, import
<= 1.5x floor, re-import <= 1.0x floor, every peak < 600 MB. With ``--repeat N`` each timed
phase runs N times and the fastest run counts (the machine may be shared).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "out"
DEPARTMENTS = (
    "สำนักปลัดเทศบาล", "กองคลัง", "กองช่าง", "กองการศึกษา", "กองสาธารณสุขและสิ่งแวดล้อม", "กองสวัสดิการสังคม",
)
AIMS = {"import_ratio": 1.5, "reimport_ratio": 1.0, "peak_mb": 600.0, "db_mb": 100.0}
ABORTS = 3
HALF_WAY = "half-way"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def phase_floor(path: Path) -> dict:
    from python_calamine import CalamineWorkbook

    t = time.perf_counter()
    wb = CalamineWorkbook.from_path(str(path))
    rows = 0
    for name in wb.sheet_names:
        for _ in wb.get_sheet_by_name(name).iter_rows():
            rows += 1
    seconds = time.perf_counter() - t
    return {"seconds": seconds, "rows": rows, "peak_mb": peak_mb()}


def _setup_db(url: str) -> int:
    from ita_dashboard import db
    from ita_dashboard.models import Department, Organization

    engine = db.make_engine(url)
    db.migrate(engine)
    with db.session_scope(engine) as s:
        org = Organization(name="เทศบาลตำบลทดสอบ (bench)")
        s.add(org)
        s.flush()
        for i, name in enumerate(DEPARTMENTS):
            s.add(Department(organization_id=org.id, name=name, sort_order=i))
        org_id = org.id
    engine.dispose()
    return org_id


def phase_import(path: Path, url: str, org_id: int, *, abort: bool = False, reread: bool = False) -> dict:
    """import_survey_file, as the command line runs it (a file imported before is recognised and
    not read again, unless ``reread``)."""
    from ita_dashboard import db
    from ita_dashboard.importers import surveys
    from ita_dashboard.services import survey_import

    engine = db.make_engine(url)
    with engine.connect():
        pass  # connect (and set pragmas) outside the timed part
    parse = {"seconds": 0.0, "rows": 0}
    real_parse = surveys.parse_survey_file

    def timed_parse(*a, **k):
        t0 = time.perf_counter()
        parsed = real_parse(*a, **k)
        parse["seconds"] += time.perf_counter() - t0
        parse["rows"] = len(parsed.rows)
        return parsed

    surveys.parse_survey_file = timed_parse
    if abort:  # say when half the rows are in, then wait for the parent's SIGKILL
        real, done = survey_import._insert_chunk, []

        def insert_then_report(session, params):
            got = real(session, params)
            done.append(len(params))
            if sum(done) * 2 >= parse["rows"]:
                print(HALF_WAY, flush=True)
                time.sleep(600)
            return got

        survey_import._insert_chunk = insert_then_report
    t = time.perf_counter()
    data = path.read_bytes()
    with db.session_scope(engine) as s:
        r = survey_import.import_survey_file(s, organization_id=org_id, instrument="iit", data=data,
                                             file_name=path.name, user_id=None, reuse=not reread)
    seconds = time.perf_counter() - t
    engine.dispose()
    return {"seconds": seconds, "parse_seconds": parse["seconds"], "read": r.read, "imported": r.imported,
            "duplicate": r.duplicate, "rejected": r.rejected, "new": r.new, "unchanged": r.unchanged,
            "peak_mb": peak_mb()}


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def run_phase(name: str, *args: str) -> dict:
    """Run one phase in a fresh interpreter; its last stdout line is the JSON result."""
    out = subprocess.run([sys.executable, __file__, "--phase", name, *args], capture_output=True, text=True,
                         env=_env(), cwd=REPO)
    if out.returncode != 0:
        raise SystemExit(f"phase {name} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def kill_half_way(*args: str) -> None:
    """An import killed (SIGKILL) once half its rows are inserted, as a crashed upload is."""
    p = subprocess.Popen([sys.executable, __file__, "--phase", "abort", *args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=_env(), cwd=REPO)
    assert p.stdout is not None
    for line in p.stdout:
        if line.strip() == HALF_WAY:
            p.send_signal(signal.SIGKILL)
            break
    p.wait()
    if p.returncode != -signal.SIGKILL:
        raise SystemExit(f"aborted import ended by itself ({p.returncode}):\n{p.stderr.read() if p.stderr else ''}")


def best(runs: list[dict]) -> dict:
    return min(runs, key=lambda r: r["seconds"])


def db_size_mb(url: str) -> float:
    """SQLite: the file after a checkpoint; PostgreSQL: the survey tables with their indexes."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if url.startswith("sqlite"):
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                return Path(engine.url.database).stat().st_size / 1e6
            size = conn.execute(text(
                "SELECT SUM(pg_total_relation_size(c.oid)) FROM pg_class c WHERE c.relkind = 'r' AND c.relname IN "
                "('surveyresponse', 'surveybatchresponse', 'surveyform', 'importbatch')")).scalar_one()
            return int(size) / 1e6
    finally:
        engine.dispose()


class Backend:
    """Fresh databases for one backend: SQLite files in a temp dir, or databases on a server."""

    def __init__(self, kind: str, tmp: Path, pg_admin: str | None = None):
        self.kind, self.tmp, self.pg_admin, self.made = kind, tmp, pg_admin, []

    def fresh(self, name: str) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.tmp / (name + '.db')}"
        import pg_server

        db_name = pg_server.unique_db_name(f"bench_{name}")
        pg_server.create_database(self.pg_admin, db_name)
        self.made.append(db_name)
        return pg_server.database_url(self.pg_admin, db_name)

    def cleanup(self) -> None:
        import pg_server

        for name in self.made:
            pg_server.drop_database(self.pg_admin, name)


def measure(backend: Backend, path: Path, repeat: int) -> dict:
    import_runs, reimport_runs, reread_runs, after_abort_runs, sizes = [], [], [], [], []
    for k in range(repeat):
        url = backend.fresh(f"import{k}")
        org = str(_setup_db(url))
        import_runs.append(run_phase("import", "--file", str(path), "--db", url, "--org", org))
        sizes.append(db_size_mb(url))
        reimport_runs.append(run_phase("import", "--file", str(path), "--db", url, "--org", org))
        reread_runs.append(run_phase("reread", "--file", str(path), "--db", url, "--org", org))
        url = backend.fresh(f"aborted{k}")
        org = str(_setup_db(url))
        for _ in range(ABORTS):
            kill_half_way("--file", str(path), "--db", url, "--org", org)
        after_abort_runs.append(run_phase("import", "--file", str(path), "--db", url, "--org", org))
    return {"import": best(import_runs), "reimport": best(reimport_runs), "reread": best(reread_runs),
            "after_abort": best(after_abort_runs), "db_mb": min(sizes)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--cols", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--pg", action="store_true", help="also on PostgreSQL")
    ap.add_argument("--no-sqlite", action="store_true", help="skip SQLite")
    ap.add_argument("--phase", choices=("floor", "import", "reread", "abort"), help=argparse.SUPPRESS)
    ap.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--db", help=argparse.SUPPRESS)
    ap.add_argument("--org", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.phase == "floor":
        print(json.dumps(phase_floor(args.file)))
        return
    if args.phase in ("import", "reread", "abort"):
        print(json.dumps(phase_import(args.file, args.db, args.org, abort=args.phase == "abort",
                                      reread=args.phase == "reread")))
        return

    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(REPO / "tests"))
    sys.path.insert(0, str(REPO))
    from gen_survey import generate

    path = OUT / f"survey_{args.rows}x{args.cols}.xlsx"
    if not path.exists():
        t = time.perf_counter()
        generate(path, rows=args.rows, cols=args.cols)
        print(f"generated {path.name} in {time.perf_counter() - t:.1f} s")
    print(f"file: {path} ({path.stat().st_size / 1e6:.1f} MB, {args.rows} rows x {args.cols} columns)")

    floor = best([run_phase("floor", "--file", str(path)) for _ in range(args.repeat)])
    figures: dict = {"rows": args.rows, "cols": args.cols, "repeat": args.repeat,
                     "floor_s": round(floor["seconds"], 2), "floor_peak_mb": round(floor["peak_mb"])}
    print(f"floor (calamine iter_rows): {floor['seconds']:.2f} s, peak {floor['peak_mb']:.0f} MB")
    backends = [] if args.no_sqlite else ["sqlite"]
    pg_admin, server = None, None
    if args.pg:
        import pg_server

        url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
        if url:
            pg_admin = pg_server.normalize_url(url)
        else:
            server = pg_server.start_throwaway_server()
            pg_admin = server.admin_url
        backends.append("pg")
    meets = True
    try:
        with tempfile.TemporaryDirectory(prefix="ita-bench-") as tmp:
            for kind in backends:
                backend = Backend("sqlite" if kind == "sqlite" else "pg", Path(tmp), pg_admin)
                try:
                    m = measure(backend, path, args.repeat)
                finally:
                    if kind == "pg":
                        backend.cleanup()
                f = {
                    "import_s": round(m["import"]["seconds"], 2), "import_parse_s": round(m["import"]["parse_seconds"], 2),
                    "reimport_s": round(m["reimport"]["seconds"], 2), "reread_s": round(m["reread"]["seconds"], 2),
                    "reread_ratio": round(m["reread"]["seconds"] / floor["seconds"], 2),
                    "after_abort_s": round(m["after_abort"]["seconds"], 2),
                    "import_ratio": round(m["import"]["seconds"] / floor["seconds"], 2),
                    "reimport_ratio": round(m["reimport"]["seconds"] / floor["seconds"], 2),
                    "after_abort_ratio": round(m["after_abort"]["seconds"] / floor["seconds"], 2),
                    "peak_mb": {k: round(m[k]["peak_mb"]) for k in ("import", "reimport", "reread", "after_abort")},
                    "imported": m["import"]["imported"], "reimport_duplicate": m["reimport"]["duplicate"],
                    "reimport_imported": m["reimport"]["imported"], "after_abort_imported": m["after_abort"]["imported"],
                    "db_mb": round(m["db_mb"], 1),
                }
                f["meets_aims"] = (f["import_ratio"] <= AIMS["import_ratio"] and f["reimport_ratio"] <= AIMS["reimport_ratio"]
                                   and max(f["peak_mb"].values()) < AIMS["peak_mb"] and f["db_mb"] <= AIMS["db_mb"])
                meets = meets and f["meets_aims"]
                figures[kind] = f
                name = "SQLite" if kind == "sqlite" else "PostgreSQL"
                print(f"[{name}] parse+import: {f['import_s']:.2f} s (parse {f['import_parse_s']:.2f} s) = "
                      f"{f['import_ratio']:.2f}x floor (aim <= {AIMS['import_ratio']}), peak {f['peak_mb']['import']} MB, "
                      f"imported {f['imported']}")
                print(f"[{name}] re-import:    {f['reimport_s']:.2f} s = {f['reimport_ratio']:.2f}x floor "
                      f"(aim <= {AIMS['reimport_ratio']}), peak {f['peak_mb']['reimport']} MB, "
                      f"imported {f['reimport_imported']}, duplicate {f['reimport_duplicate']}")
                print(f"[{name}] re-import read again (no recognition): {f['reread_s']:.2f} s = "
                      f"{f['reread_ratio']:.2f}x floor, peak {f['peak_mb']['reread']} MB")
                print(f"[{name}] import after {ABORTS} killed half-way: {f['after_abort_s']:.2f} s = "
                      f"{f['after_abort_ratio']:.2f}x floor, peak {f['peak_mb']['after_abort']} MB, "
                      f"imported {f['after_abort_imported']}")
                print(f"[{name}] database after the import: {f['db_mb']:.1f} MB (aim <= {AIMS['db_mb']:.0f})")
    finally:
        if server is not None:
            server.stop()
    figures["meets_aims"] = meets
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
