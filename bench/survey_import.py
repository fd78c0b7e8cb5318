"""Benchmark: importing a 100,000-row survey export against merely reading it with pandas.

    .venv/bin/python bench/survey_import.py [--rows 100000] [--cols 40] [--repeat 1]

Generates (once, cached in bench/out/) a Google-Forms-like xlsx, then measures, each phase in
its own subprocess so that its peak memory (ru_maxrss) is its own:

- ``bare``: ``pandas.read_excel(path, engine="calamine")``, the floor any import must pay;
- ``import``: parse_survey_file + import_survey into a fresh SQLite database, committed;
- ``reimport``: the same file again into that database (every row a duplicate).

Prints each figure, the ratios import/bare and reimport/bare, and finally one JSON line with
all figures. Aims: import <= 2x bare, reimport <= 1.5x bare, every peak < 1 GB. With
``--repeat N`` each phase runs N times and the fastest run counts (the machine may be shared).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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
AIMS = {"import_ratio": 2.0, "reimport_ratio": 1.5, "peak_mb": 1024.0}


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def phase_bare(path: Path) -> dict:
    import pandas as pd

    t = time.perf_counter()
    df = pd.read_excel(path, engine="calamine")
    seconds = time.perf_counter() - t
    return {"seconds": seconds, "rows": int(len(df)), "peak_mb": peak_mb()}


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


def phase_import(path: Path, url: str, org_id: int) -> dict:
    from ita_dashboard import db
    from ita_dashboard.importers.surveys import parse_survey_file
    from ita_dashboard.services.survey_import import import_survey

    engine = db.make_engine(url)
    with engine.connect():
        pass  # connect (and set pragmas) outside the timed part
    t = time.perf_counter()
    data = path.read_bytes()
    parsed = parse_survey_file(data, filename=path.name)
    t_parse = time.perf_counter() - t
    with db.session_scope(engine) as s:
        r = import_survey(s, organization_id=org_id, instrument="iit", parsed=parsed, fiscal_year=None,
                          file_name=path.name, file_bytes=data, user_id=None)
    seconds = time.perf_counter() - t
    engine.dispose()
    return {"seconds": seconds, "parse_seconds": t_parse, "read": r.read, "imported": r.imported,
            "duplicate": r.duplicate, "rejected": r.rejected, "peak_mb": peak_mb()}


def run_phase(name: str, *args: str) -> dict:
    """Run one phase in a fresh interpreter; its last stdout line is the JSON result."""
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, __file__, "--phase", name, *args], capture_output=True, text=True,
                         env=env, cwd=REPO)
    if out.returncode != 0:
        raise SystemExit(f"phase {name} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def best(runs: list[dict]) -> dict:
    return min(runs, key=lambda r: r["seconds"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--cols", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--phase", choices=("bare", "import"), help=argparse.SUPPRESS)
    ap.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--db", help=argparse.SUPPRESS)
    ap.add_argument("--org", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.phase == "bare":
        print(json.dumps(phase_bare(args.file)))
        return
    if args.phase == "import":
        print(json.dumps(phase_import(args.file, args.db, args.org)))
        return

    sys.path.insert(0, str(HERE))
    from gen_survey import generate

    path = OUT / f"survey_{args.rows}x{args.cols}.xlsx"
    if not path.exists():
        t = time.perf_counter()
        generate(path, rows=args.rows, cols=args.cols)
        print(f"generated {path.name} in {time.perf_counter() - t:.1f} s")
    print(f"file: {path} ({path.stat().st_size / 1e6:.1f} MB, {args.rows} rows x {args.cols} columns)")

    bare_runs, import_runs, reimport_runs = [], [], []
    for _ in range(args.repeat):
        bare_runs.append(run_phase("bare", "--file", str(path)))
        with tempfile.TemporaryDirectory(prefix="ita-bench-") as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            sys.path.insert(0, str(REPO))
            org_id = _setup_db(url)
            import_runs.append(run_phase("import", "--file", str(path), "--db", url, "--org", str(org_id)))
            reimport_runs.append(run_phase("import", "--file", str(path), "--db", url, "--org", str(org_id)))
            db_mb = (Path(tmp) / "bench.db").stat().st_size / 1e6
    bare, imp, reimp = best(bare_runs), best(import_runs), best(reimport_runs)

    figures = {
        "rows": args.rows, "cols": args.cols, "repeat": args.repeat,
        "bare_read_s": round(bare["seconds"], 2),
        "import_s": round(imp["seconds"], 2), "import_parse_s": round(imp["parse_seconds"], 2),
        "reimport_s": round(reimp["seconds"], 2),
        "import_ratio": round(imp["seconds"] / bare["seconds"], 2),
        "reimport_ratio": round(reimp["seconds"] / bare["seconds"], 2),
        "peak_mb": {"bare": round(bare["peak_mb"]), "import": round(imp["peak_mb"]), "reimport": round(reimp["peak_mb"])},
        "imported": imp["imported"], "reimport_duplicate": reimp["duplicate"], "reimport_imported": reimp["imported"],
        "db_mb_after_import": round(db_mb),
    }
    figures["meets_aims"] = (
        figures["import_ratio"] <= AIMS["import_ratio"]
        and figures["reimport_ratio"] <= AIMS["reimport_ratio"]
        and max(figures["peak_mb"]["import"], figures["peak_mb"]["reimport"]) < AIMS["peak_mb"]
    )
    print(f"bare read (pandas+calamine): {figures['bare_read_s']:.2f} s, peak {figures['peak_mb']['bare']} MB")
    print(f"parse+import:                {figures['import_s']:.2f} s (parse {figures['import_parse_s']:.2f} s), "
          f"peak {figures['peak_mb']['import']} MB, imported {figures['imported']}")
    print(f"re-import (all duplicates):  {figures['reimport_s']:.2f} s, peak {figures['peak_mb']['reimport']} MB, "
          f"imported {figures['reimport_imported']}, duplicate {figures['reimport_duplicate']}")
    print(f"ratios: import/bare {figures['import_ratio']:.2f} (aim <= {AIMS['import_ratio']}), "
          f"reimport/bare {figures['reimport_ratio']:.2f} (aim <= {AIMS['reimport_ratio']}); "
          f"SQLite file {figures['db_mb_after_import']} MB")
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
