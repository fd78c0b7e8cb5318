"""The PostgreSQL test helpers, as CI meets them: a CREATEDB role that is not a superuser.

CI once failed in a teardown: ``DROP DATABASE ... WITH (FORCE)`` by its ``ita_test`` role was
refused because autovacuum was working in the database (a backend of no role, which only a
superuser or a member of ``pg_signal_backend`` may end). These tests stand in a session of another
role for that worker, which the same rule refuses, and check that the drop still goes through.
"""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests import pg_server

pytestmark = pytest.mark.postgres


@pytest.fixture
def roles(pg_admin_url):
    """Two fresh login roles: ``owner`` (CREATEDB, no superuser) and ``other`` (plain login).

    Yields ``(owner_url, other_url_for(db))``. Skips when the admin role may not create roles.
    """
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            may = conn.execute(text(
                "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user"
            )).scalar()
        if not may:
            pytest.skip("the test database role may not CREATE ROLE")
        tag = uuid.uuid4().hex[:10]
        owner, other, password = f"ita_drop_owner_{tag}", f"ita_drop_other_{tag}", f"pw_{tag}"
        with admin.connect() as conn:
            conn.execute(text(f"CREATE ROLE {owner} LOGIN CREATEDB PASSWORD '{password}'"))
            conn.execute(text(f"CREATE ROLE {other} LOGIN PASSWORD '{password}'"))
        base = make_url(pg_admin_url)
        owner_url = base.set(username=owner, password=password).render_as_string(hide_password=False)

        def other_url(database: str) -> str:
            return base.set(username=other, password=password,
                            database=database).render_as_string(hide_password=False)

        created: list[str] = []
        yield owner_url, other_url, created
        with admin.connect() as conn:
            for name in created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f"DROP ROLE IF EXISTS {owner}"))
            conn.execute(text(f"DROP ROLE IF EXISTS {other}"))
    finally:
        admin.dispose()


def _exists(admin_url: str, name: str) -> bool:
    engine = create_engine(admin_url)
    try:
        with engine.connect() as conn:
            return bool(conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                     {"n": name}).scalar())
    finally:
        engine.dispose()


def _session_leaving_after(url: str, seconds: float) -> threading.Thread:
    """Open a session on ``url`` now and close it ``seconds`` later, in a thread."""
    engine = create_engine(url)
    conn = engine.connect()
    conn.execute(text("SELECT 1"))
    conn.commit()

    def leave() -> None:
        threading.Event().wait(seconds)
        conn.close()
        engine.dispose()

    thread = threading.Thread(target=leave, daemon=True)
    thread.start()
    return thread


def test_drop_goes_through_a_session_it_may_not_end(pg_admin_url, roles):
    """FORCE is refused; the plain drop waits for the session to leave and then drops."""
    owner_url, other_url, created = roles
    name = pg_server.unique_db_name("ita_drop")
    pg_server.create_database(owner_url, name)
    created.append(name)
    leaving = _session_leaving_after(other_url(name), 1.0)
    pg_server.drop_database(owner_url, name)
    leaving.join(timeout=10)
    assert not _exists(pg_admin_url, name)


def test_drop_ends_its_own_sessions_once_the_foreign_one_left(pg_admin_url, roles):
    """A leaked session of the owner's own keeps the plain drop out; FORCE then ends it."""
    owner_url, other_url, created = roles
    name = pg_server.unique_db_name("ita_drop")
    pg_server.create_database(owner_url, name)
    created.append(name)
    own = create_engine(pg_server.database_url(owner_url, name))
    own_conn = own.connect()
    own_conn.execute(text("SELECT 1"))
    own_conn.commit()
    leaving = _session_leaving_after(other_url(name), 1.0)
    try:
        pg_server.drop_database(owner_url, name)
    finally:
        own_conn.invalidate()
        own.dispose()
    leaving.join(timeout=10)
    assert not _exists(pg_admin_url, name)
