"""callbacks share their payment's status check; rows kept per payment are capped

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('payments') as batch:
        # When the last status check made for this payment's callbacks started (callbacks/gate.py).
        batch.add_column(sa.Column('callback_check_at', sa.Float(), nullable=True))
        # Callbacks received beyond the rows kept per payment (callbacks/kept.py).
        batch.add_column(sa.Column('callbacks_not_kept', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('payments') as batch:
        batch.drop_column('callbacks_not_kept')
        batch.drop_column('callback_check_at')
