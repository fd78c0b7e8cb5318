"""OIT items tracked item by item

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 12:00:00

- ``oititem``: an agency's OIT items per fiscal year (its editable copy of the framework's list).
- ``oitupdate``: the append-only status log of an item (as measure progress is).
- ``oitlinkcheck``: each visit of an item's URL by the link check.
- ``organization.website``: the agency's own site, so links to another agency's domain are flagged.
Existing rows are untouched: no item exists until the admin starts the year's list.
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0006'
down_revision: Union[str, None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

OIT_STATUS = ('not_started', 'in_progress', 'published', 'checked')


def upgrade() -> None:
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.add_column(sa.Column('website', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.create_table('oititem',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('indicator', sa.Integer(), nullable=True),
    sa.Column('sub_indicator', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('contents', sa.Text(), nullable=False),
    sa.Column('covers', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('origin', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('confidence', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('removed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], ),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('oititem', schema=None) as batch_op:
        batch_op.create_index('ix_oititem_org_year', ['organization_id', 'fiscal_year'], unique=False)
        batch_op.create_index('uq_oititem_active_number', ['organization_id', 'fiscal_year', 'number'], unique=True,
                              sqlite_where=sa.text('removed_at IS NULL'), postgresql_where=sa.text('removed_at IS NULL'))
    op.create_table('oitupdate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum(*OIT_STATUS, name='oitstatus'), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('evidence_url', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['oititem.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('oitupdate', schema=None) as batch_op:
        batch_op.create_index('ix_oitupdate_item_asof', ['item_id', 'as_of'], unique=False)
    op.create_table('oitlinkcheck',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('checked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('problem', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('final_url', sa.Text(), nullable=True),
    sa.Column('size_bytes', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['oititem.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('oitlinkcheck', schema=None) as batch_op:
        batch_op.create_index('ix_oitlinkcheck_item_at', ['item_id', 'checked_at'], unique=False)


def downgrade() -> None:
    op.drop_table('oitlinkcheck')
    op.drop_table('oitupdate')
    op.drop_table('oititem')
    if op.get_bind().dialect.name == 'postgresql':
        sa.Enum(name='oitstatus').drop(op.get_bind(), checkfirst=True)
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.drop_column('website')
