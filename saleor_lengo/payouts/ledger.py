"""One refund ledger per payment, shared by payouts and refunds recorded by hand.

`refunded_amount` (on the payment) holds what was refunded for sure: hand
refunds and paid-out payouts. Payouts that may still pay (or whose failure is
not yet confirmed) are *reserved*: what can still be refunded is the charge
less both. Callers hold the payment's row lock (and, for the daily limit,
the configuration's), so two refunds never both see the same room.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import and_, not_, or_, select
from sqlalchemy.sql.elements import ColumnElement

from saleor_lengo.db.engine import Tx
from saleor_lengo.db.schema import configurations, payouts
from saleor_lengo.payments.model import Payment, State
from saleor_lengo.payouts.model import NOT_PAID, PAID, PayoutState

DAY_SECONDS = 86400.0


def _holding() -> ColumnElement[bool]:
    c = payouts.c
    return and_(
        c.state.not_in([s.value for s in PAID | NOT_PAID]),
        not_(and_(c.state == PayoutState.FAILED.value, c.released_at.is_not(None))),
    )


async def reserved(conn: Tx, payment_id: str) -> Decimal:
    rows = (await conn.execute(select(payouts.c.amount).where(payouts.c.payment_id == payment_id, _holding()))).all()
    return sum((Decimal(r.amount) for r in rows), Decimal(0))


async def refundable(conn: Tx, payment: Payment) -> Decimal:
    """What can still be refunded: the charge, less what was refunded and what payouts hold."""
    if payment.state != State.SUCCEEDED:
        return Decimal(0)
    left = payment.charged_amount - payment.refunded_amount - await reserved(conn, payment.id)
    return max(left, Decimal(0))


async def lock_configuration(conn: Tx, configuration_id: int) -> None:
    """PostgreSQL: one payout decision per configuration at a time (the daily limit). SQLite's write lock does it already."""
    await conn.execute(select(configurations.c.id).where(configurations.c.id == configuration_id).with_for_update())


async def paid_out_today(conn: Tx, configuration_id: int, now: float) -> Decimal:
    """Paid out, or held by payouts that may pay, over the last 24 hours (rolling)."""
    c = payouts.c
    rows = (
        await conn.execute(
            select(c.amount).where(
                c.configuration_id == configuration_id,
                c.created_at > now - DAY_SECONDS,
                or_(_holding(), c.state.in_([s.value for s in PAID])),
            )
        )
    ).all()
    return sum((Decimal(r.amount) for r in rows), Decimal(0))
