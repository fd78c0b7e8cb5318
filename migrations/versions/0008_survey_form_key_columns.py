"""A survey form's key columns: the answers its responses' keys are made of

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 13:10:00

- ``surveyform.key_columns`` (JSON, nullable): set when a form is made from a file whose header
  adds columns at the right of an earlier form's (a Sheet owner's note columns), so the file's keys
  leave those columns out, as ``services/survey_keys.key_columns`` decides. NULL, the value of every
  existing form, means all answer columns: every stored key stays as it was made.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: Union[str, None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('surveyform', sa.Column('key_columns', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('surveyform', schema=None) as batch_op:
        batch_op.drop_column('key_columns')
