"""recovery: lease holders, Saleor circuits, lease columns

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lease_holders',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('pid_started', sa.String(length=32), nullable=True),
    sa.Column('lock_key', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.Float(), nullable=False),
    sa.Column('heartbeat_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lease_holders'))
    )
    op.create_table('saleor_circuits',
    sa.Column('installation_id', sa.Integer(), nullable=False),
    sa.Column('holder_id', sa.String(length=64), nullable=False),
    sa.Column('opened_at', sa.Float(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['installation_id'], ['installations.id'], name=op.f('fk_saleor_circuits_installation_id_installations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('installation_id', 'holder_id', name=op.f('pk_saleor_circuits'))
    )
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_owner', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('lease_until', sa.Float(), nullable=True))
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('waiting_for_saleor', sa.Boolean(), nullable=True))
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_owner', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_column('lease_owner')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('waiting_for_saleor')
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.drop_column('lease_until')
        batch_op.drop_column('lease_owner')
    op.drop_table('saleor_circuits')
    op.drop_table('lease_holders')
