"""department abbreviations

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 12:00:00

- ``departmentabbreviation``: an organisation's edits of the abbreviation table that resolves
  department names as people write them (``สป.``, ``กค.``, ...; issue 11). The standard list lives in
  code (``ita_dashboard.departments.STANDARD_ABBREVIATIONS``) and applies to every organisation, old
  and new, without rows here; so nothing is seeded and no existing row changes.
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0003'
down_revision: Union[str, None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('departmentabbreviation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('abbreviation', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('expansion', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('organization_id', 'key')
    )
    with op.batch_alter_table('departmentabbreviation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_departmentabbreviation_organization_id'), ['organization_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('departmentabbreviation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_departmentabbreviation_organization_id'))
    op.drop_table('departmentabbreviation')
