"""The language of the messages written into Saleor: per configuration, and the words kept to say them in it

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('configurations') as batch:
        batch.add_column(sa.Column('language', sa.String(length=8), server_default='en', nullable=False))
    with op.batch_alter_table('outbox') as batch:
        batch.add_column(sa.Column('words', sa.Text(), nullable=True))
    with op.batch_alter_table('payments') as batch:
        batch.add_column(sa.Column('failure_words', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('payments') as batch:
        batch.drop_column('failure_words')
    with op.batch_alter_table('outbox') as batch:
        batch.drop_column('words')
    with op.batch_alter_table('configurations') as batch:
        batch.drop_column('language')
