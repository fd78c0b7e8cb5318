"""Smoke test of the scale benchmark: ``bench/run.py --quick --skip-browser`` runs to the end and
its last line is the JSON of every figure. Times are printed, never asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.postgres
@pytest.mark.timeout(300)
def test_quick_benchmark_prints_every_figure(pg_admin_url):
    env_url = {"BENCH_DATABASE_URL": pg_admin_url}  # reuse the suite's PostgreSQL server
    res = subprocess.run([sys.executable, "bench/run.py", "--quick", "--skip-browser"], cwd=REPO, capture_output=True,
                         text=True, timeout=280, env={**os.environ, **env_url})
    assert res.returncode == 0, res.stderr[-3000:]
    figures = json.loads(res.stdout.strip().splitlines()[-1])
    for backend in ("sqlite", "pg"):
        for size in ("small", "full"):
            assert figures[f"{backend}_{size}_summary_ms"] > 0
            assert figures[f"{backend}_{size}_province_rollup_ms"] > 0
        assert figures[f"{backend}_full_summary_full_scans"] == []  # the summary's queries use indexes
        assert figures[f"{backend}_uploads_rows_added"] == 900  # two overlapping uploads: none lost or doubled
        assert f"{backend}_summary_ratio" in figures and f"{backend}_province_rollup_ratio" in figures
    assert figures["mode"] == "quick" and figures["size_full"]["orgs"] == 400
