"""payouts: refunds paid out to the payer's wallet, the payer's account, the configuration's payout mode

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('payouts',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('payment_id', sa.String(length=32), nullable=False),
    sa.Column('installation_id', sa.Integer(), nullable=False),
    sa.Column('configuration_id', sa.Integer(), nullable=False),
    sa.Column('saleor_transaction_id', sa.String(length=255), nullable=False),
    sa.Column('psp_reference', sa.String(length=512), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('amount', sa.String(length=64), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('type_account', sa.String(length=16), nullable=False),
    sa.Column('account_enc', sa.Text(), nullable=False),
    sa.Column('account_masked', sa.String(length=32), nullable=False),
    sa.Column('account_digest', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('in_flight', sa.String(length=128), nullable=True),
    sa.Column('request_started_at', sa.Float(), nullable=True),
    sa.Column('cashin_pay_id', sa.String(length=512), nullable=True),
    sa.Column('cashin_status', sa.String(length=64), nullable=True),
    sa.Column('callback_token_digest', sa.String(length=64), nullable=True),
    sa.Column('saleor_confirmed_at', sa.Float(), nullable=True),
    sa.Column('failed_at', sa.Float(), nullable=True),
    sa.Column('released_at', sa.Float(), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_check_at', sa.Float(), nullable=True),
    sa.Column('lease_owner', sa.String(length=64), nullable=True),
    sa.Column('lease_until', sa.Float(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('resolved_by', sa.String(length=255), nullable=True),
    sa.Column('resolution_note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['configuration_id'], ['configurations.id'], name=op.f('fk_payouts_configuration_id_configurations')),
    sa.ForeignKeyConstraint(['installation_id'], ['installations.id'], name=op.f('fk_payouts_installation_id_installations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_payouts_payment_id_payments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payouts')),
    sa.UniqueConstraint('callback_token_digest', name=op.f('uq_payouts_callback_token_digest')),
    sa.UniqueConstraint('cashin_pay_id', name=op.f('uq_payouts_cashin_pay_id')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_payouts_idempotency_key')),
    sa.UniqueConstraint('in_flight', name=op.f('uq_payouts_in_flight')),
    sa.UniqueConstraint('psp_reference', name=op.f('uq_payouts_psp_reference'))
    )
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payouts_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_payouts_next_check_at'), ['next_check_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_payouts_payment_id'), ['payment_id'], unique=False)
    with op.batch_alter_table('configurations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payout_mode', sa.String(length=16), server_default='off', nullable=False))
        batch_op.add_column(sa.Column('payout_daily_limit', sa.String(length=64), nullable=True))
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payer_account_enc', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('payer_account_masked', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_column('payer_account_masked')
        batch_op.drop_column('payer_account_enc')
    with op.batch_alter_table('configurations', schema=None) as batch_op:
        batch_op.drop_column('payout_daily_limit')
        batch_op.drop_column('payout_mode')
    op.drop_table('payouts')
