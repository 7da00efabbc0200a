"""payment_orders: the Saleor order or checkout of each charged payment, the customer's e-mail encrypted

Revision ID: 0026
Revises: 0024
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0026'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('payment_orders',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('payment_id', sa.String(length=32), nullable=False),
    sa.Column('order_id', sa.String(length=255), nullable=True),
    sa.Column('order_number', sa.String(length=64), nullable=True),
    sa.Column('checkout_id', sa.String(length=255), nullable=True),
    sa.Column('email_enc', sa.Text(), nullable=True),
    sa.Column('email_masked', sa.String(length=320), nullable=True),
    sa.Column('email_hash', sa.String(length=64), nullable=True),
    sa.Column('charged_at', sa.Float(), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.Float(), nullable=True),
    sa.Column('done_at', sa.Float(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('lease_owner', sa.String(length=64), nullable=True),
    sa.Column('lease_until', sa.Float(), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_payment_orders_payment_id_payments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_orders')),
    sa.UniqueConstraint('payment_id', name=op.f('uq_payment_orders_payment_id'))
    )
    with op.batch_alter_table('payment_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_orders_checkout_id'), ['checkout_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_orders_email_hash'), ['email_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_orders_next_attempt_at'), ['next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_orders_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_orders_order_number'), ['order_number'], unique=False)


def downgrade() -> None:
    op.drop_table('payment_orders')
