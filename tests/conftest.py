"""Shared fixtures. ``engine`` gives a freshly migrated database, once on SQLite and once on a
real PostgreSQL server (started by the fixture in tests/pg_server.py when none is configured).

PostgreSQL: the server comes from ``TEST_DATABASE_URL`` or is a throwaway cluster started for
the session. Each test gets its own database, copied (CREATE DATABASE ... TEMPLATE) from one
migrated once per session, then put through ``db.migrate`` again (a no-op that must stay one).
Copying measured ~60 ms per test (throwaway cluster on tmpfs; ~90 ms on Debian's cluster)
against ~150-230 ms for an empty database or a dropped schema plus migrations.
Without a server the PostgreSQL tests are skipped, unless CI is set: then they fail.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import pg_server
from ita_dashboard import config, db

# Filled while the tests run, shown in the terminal summary.
_pg_info: dict = {"source": None, "created": 0, "seconds": 0.0}
_run_started = [0.0]  # time.time() at the session's start


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(autouse=True)
def _settings_follow_monkeypatch(monkeypatch):
    """The app reads its settings once (config.get_settings is cached); in tests the environment
    changes through monkeypatch, so each setenv/delenv has them read again, as does each test."""
    clear = config.get_settings.cache_clear
    for name in ("setenv", "delenv"):
        def changed(*args, _change=getattr(monkeypatch, name), **kwargs):
            _change(*args, **kwargs)
            clear()
        setattr(monkeypatch, name, changed)
    clear()
    yield
    clear()


@pytest.fixture
def sqlite_engine(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'test.db'}")
    db.migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def pg_admin_url():
    """URL of a role that may CREATE DATABASE: TEST_DATABASE_URL, or a throwaway cluster."""
    server = None
    try:
        url = os.environ.get("TEST_DATABASE_URL", "").strip()
        if url:
            url = pg_server.normalize_url(url)
            pg_server.check_connect(url)
            _pg_info["source"] = "TEST_DATABASE_URL"
        else:
            server = pg_server.start_throwaway_server()
            url = server.admin_url
            pg_server.check_connect(url)
            _pg_info["source"] = f"throwaway cluster in {server.tmpdir} ({url})"
    except pg_server.PgUnavailable as exc:
        if server is not None:
            server.stop()
        reason = f"no PostgreSQL server: {exc}"
        if _in_ci():
            pytest.fail(f"{reason} (CI is set, so this fails instead of skipping)", pytrace=False)
        pytest.skip(reason)
    try:
        yield url
    finally:
        if server is not None:
            server.stop()


@pytest.fixture(scope="session")
def pg_template(pg_admin_url):
    """Name of a database migrated to head once per session, the template of each test's one."""
    name = pg_server.unique_db_name("ita_template")
    pg_server.create_database(pg_admin_url, name)
    engine = db.make_engine(pg_server.database_url(pg_admin_url, name))
    try:
        db.migrate(engine)
    finally:
        engine.dispose()  # a template must have no open connections when copied
    yield name
    pg_server.drop_database(pg_admin_url, name)


@pytest.fixture
def pg_engine(pg_admin_url, pg_template):
    """A fresh, migrated PostgreSQL database for this test only (dropped afterwards)."""
    name = pg_server.unique_db_name("ita_test")
    started = time.perf_counter()
    pg_server.create_database(pg_admin_url, name, template=pg_template)
    engine = db.make_engine(pg_server.database_url(pg_admin_url, name))
    db.migrate(engine)
    _pg_info["created"] += 1
    _pg_info["seconds"] += time.perf_counter() - started
    try:
        yield engine
    finally:
        engine.dispose()
        pg_server.drop_database(pg_admin_url, name)


@pytest.fixture(params=[
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
])
def engine(request):
    """A freshly migrated database, once per backend."""
    # getfixturevalue: the SQLite run must not start a PostgreSQL server, and vice versa.
    return request.getfixturevalue("sqlite_engine" if request.param == "sqlite" else "pg_engine")


def pytest_collection_modifyitems(items):
    # Tests asking for pg_engine directly need PostgreSQL too.
    for item in items:
        if "pg_engine" in getattr(item, "fixturenames", ()) and not item.get_closest_marker("postgres"):
            item.add_marker(pytest.mark.postgres)


E2E_PREFIX = "tests/e2e/"


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist: no error where it is not installed
def pytest_xdist_make_scheduler(config, log):
    """With pytest-xdist (scripts/test.sh): every browser test on one worker, so one demo app
    server and one Chromium serve them all, as in a serial run, while the other workers share the
    rest test by test (with -n alone or --dist load; another --dist is left to xdist). xdist's own ``--dist
    loadgroup`` marks do nothing with pytest 9.2, whose node ids xdist can no longer rename."""
    if config.getoption("dist") != "load":  # the caller chose another distribution: theirs
        return None
    from xdist.scheduler import LoadScopeScheduling

    class BrowserTestsTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "e2e" if nodeid.startswith(E2E_PREFIX) else nodeid

    return BrowserTestsTogether(config, log)


def pytest_sessionstart(session):
    _run_started[0] = time.time()


def pytest_terminal_summary(terminalreporter):
    # Logs of app servers that were up when a test of their worker failed (tests/e2e/conftest.py
    # keeps them): with pytest-xdist a worker cannot print them, so the run's summary names them.
    logs = Path(__file__).resolve().parent.parent / "test-artifacts" / "server-logs"
    fresh = sorted(p for p in logs.glob("*.log") if p.stat().st_mtime >= _run_started[0]) \
        if logs.is_dir() else []
    for path in fresh:
        terminalreporter.write_line(f"log of an app server that was up when a test failed: {path}")
    if _pg_info["source"]:
        n = _pg_info["created"]
        avg = f", {_pg_info['seconds'] / n * 1000:.0f} ms each on average" if n else ""
        terminalreporter.write_line(f"PostgreSQL: {_pg_info['source']}; {n} test databases created{avg}")
