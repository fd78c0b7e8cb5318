"""Alembic environment: uses the connection handed over by ita_dashboard.db.migrate, or DATABASE_URL."""

from alembic import context
from sqlmodel import SQLModel

import ita_dashboard.models  # noqa: F401  (registers the tables)
from ita_dashboard.db import make_engine

target_metadata = SQLModel.metadata


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite needs batch ALTERs
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = context.config.get_main_option("sqlalchemy.url") or None
    engine = make_engine(url)
    with engine.begin() as conn:
        _run(conn)
