"""Survey imports written in short transactions: a batch's state and its importer's lease

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 05:00:00

- ``importbatch.state``: ``staging`` while a survey import writes its rows chunk by chunk (its rows
  count nowhere yet), ``done`` once the import is committed as a whole. Every existing batch is
  ``done`` (the server default fills them).
- ``importbatch.lease_owner`` / ``lease_until``: which process writes a staging batch and until when
  it is known alive (SQLite; PostgreSQL relies on the importer's advisory lock).
Existing rows are untouched otherwise.
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0007'
down_revision: Union[str, None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Plain ADD COLUMNs: on SQLite a copy-and-move of importbatch would have to drop a table that
    # other rows reference.
    op.add_column('importbatch', sa.Column('state', sqlmodel.sql.sqltypes.AutoString(), server_default='done',
                                           nullable=False))
    op.add_column('importbatch', sa.Column('lease_owner', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.add_column('importbatch', sa.Column('lease_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    # Rows of imports that never finished count nowhere: they go with the state that hid them.
    op.execute("DELETE FROM surveybatchresponse WHERE batch_id IN (SELECT id FROM importbatch WHERE state = 'staging')")
    op.execute("DELETE FROM surveyresponse WHERE import_batch_id IN (SELECT id FROM importbatch WHERE state = 'staging')")
    op.execute("DELETE FROM importbatch WHERE state = 'staging'")
    with op.batch_alter_table('importbatch', schema=None) as batch_op:
        for name in ('lease_until', 'lease_owner', 'state'):
            batch_op.drop_column(name)
