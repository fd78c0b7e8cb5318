"""Shared fixtures. ``engine`` gives a freshly migrated database, once on SQLite and once on a
real PostgreSQL server (started by the fixture in tests/pg_server.py when none is configured)."""

from __future__ import annotations

import pytest

from ita_dashboard import db


@pytest.fixture
def sqlite_engine(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'test.db'}")
    db.migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(sqlite_engine):
    # Placeholder until the PostgreSQL parametrisation lands: SQLite only.
    yield sqlite_engine
