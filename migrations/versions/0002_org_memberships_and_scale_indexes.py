"""org memberships and indexes for many organisations

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 10:00:00

- ``orgmembership``: a user's role in further organisations (issue 7). Users keep their home
  organisation, role and department on their own row, which stays authoritative for that
  organisation, so no existing row moves and every user keeps exactly the rights they had.
- ``ix_organization_province``: the roll-up filters agencies by province.
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0002'
down_revision: Union[str, None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

ROLE = sa.Enum('admin', 'executive', 'department_head', 'viewer', name='role')


def upgrade() -> None:
    op.create_table('orgmembership',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('role', postgresql_enum_or_plain(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], ),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'organization_id')
    )
    with op.batch_alter_table('orgmembership', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_orgmembership_organization_id'), ['organization_id'], unique=False)
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organization_province'), ['province'], unique=False)


def postgresql_enum_or_plain():
    """The ``role`` enum type exists already on PostgreSQL (the user table made it in 0001)."""
    if op.get_bind().dialect.name == 'postgresql':
        from sqlalchemy.dialects import postgresql
        return postgresql.ENUM('admin', 'executive', 'department_head', 'viewer', name='role', create_type=False)
    return ROLE


def downgrade() -> None:
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organization_province'))
    with op.batch_alter_table('orgmembership', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orgmembership_organization_id'))
    op.drop_table('orgmembership')
