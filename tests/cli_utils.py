"""Helpers shared by the CLI tests: run ``python -m ita_dashboard`` in a subprocess, check a
one-line error. Test modules import from here, never from each other (tests/test_layout_rules.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run(db_url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": db_url}
    env.pop("ITA_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "ita_dashboard", *args], input=stdin, capture_output=True,
                          text=True, env=env, cwd=REPO, timeout=300)


def assert_one_line_error(p: subprocess.CompletedProcess, *, code: int = 1, contains: str = "") -> None:
    assert p.returncode == code, (p.returncode, p.stdout, p.stderr)
    lines = [line for line in p.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, p.stderr
    assert "Traceback" not in p.stderr
    assert contains in lines[0]
