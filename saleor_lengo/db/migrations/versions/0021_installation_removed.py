"""installations: when Saleor refused the token (removed) and when its secrets were erased

Revision ID: 0021
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('installations') as batch:
        batch.add_column(sa.Column('removed_at', sa.Float(), nullable=True))
        batch.add_column(sa.Column('erased_at', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('installations') as batch:
        batch.drop_column('erased_at')
        batch.drop_column('removed_at')
