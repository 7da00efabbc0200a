"""A refund staff made by hand outside Lengo (which has no refund API), reported to Saleor.

Reported as REFUND_SUCCESS through the outbox, in the same transaction that
raises `refunded_amount`, so the two can never disagree. Each refund has its
own pspReference (`<pay_id>:manual-refund:<n>`): Saleor deduplicates on
(transaction, pspReference, type), and two refunds of the same payment are
two events.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from saleor_lengo.app_api.context import ApiContext, ApiError
from saleor_lengo.db.schema import outbox
from saleor_lengo.money import Money, MoneyError
from saleor_lengo.payments.outbox import enqueue
from saleor_lengo.payments import store
from saleor_lengo.payments.model import Payment, State
from saleor_lengo.payouts import ledger
from saleor_lengo.words import Message, words

MAX_NOTE = 200


def refundable(payment: Payment) -> Decimal:
    if payment.state != State.SUCCEEDED:
        return Decimal(0)
    return max(payment.charged_amount - payment.refunded_amount, Decimal(0))


async def refundable_now(ctx: ApiContext, payment: Payment) -> Decimal:
    """What staff may still refund: the one ledger shared with refund payouts (read only when there is room)."""
    if refundable(payment) == 0:
        return Decimal(0)
    async with ctx.deps.db.read() as conn:
        left = await ledger.refundable(conn, payment)
    # Payout amounts keep Saleor's form (70000.0).
    return Money(left, payment.currency).shown()


async def record_manual_refund(ctx: ApiContext, payment_id: str, amount: str, note: str | None) -> Payment:
    note = (note or "").strip()[:MAX_NOTE]
    now = ctx.deps.clock()
    async with ctx.deps.db.write() as conn:
        payment = await store.get(conn, payment_id, lock=True)
        if payment is None or payment.installation_id != ctx.installation_id:
            raise ApiError("No such payment.", "NOT_FOUND")
        try:
            money = Money.parse(amount.strip(), payment.currency)
        except MoneyError as exc:
            raise ApiError(f"Amount: {exc}.", "AMOUNT_INVALID", "amount") from None
        if money.amount <= 0:
            raise ApiError("The refund amount must be above zero.", "AMOUNT_NOT_POSITIVE", "amount")
        if payment.state != State.SUCCEEDED:
            raise ApiError("Only a paid payment can be refunded.", "NOT_PAID")
        # One ledger with refund payouts: what they may still pay out is not refundable by hand.
        left = await ledger.refundable(conn, payment)
        if money.amount > left:
            held = refundable(payment) - left
            raise ApiError(
                f"At most {Money(left, payment.currency)} can be refunded "
                f"({Money(payment.charged_amount, payment.currency)} charged, "
                f"{Money(payment.refunded_amount, payment.currency)} already refunded"
                + (f", {Money(held, payment.currency)} held by payouts in progress" if held > 0 else "")
                + ").",
                "AMOUNT_TOO_HIGH",
                "amount",
            )
        base = payment.pay_id or payment.id
        prefix = f"{base}:manual-refund:"
        done = (
            await conn.execute(
                select(func.count())
                .select_from(outbox)
                .where(outbox.c.payment_id == payment.id, outbox.c.psp_reference.startswith(prefix, autoescape=True))
            )
        ).scalar_one()
        who = ctx.user.email or "staff"
        message: Message = (words("Refund made by hand outside Lengo Pay, recorded by {who}: {amount}.", who=who, amount=money),)
        if note:
            message += (words("Note: {note}", note=note),)
        await enqueue(
            conn,
            payment,
            event_type="REFUND_SUCCESS",
            amount=money.amount,
            message=message,
            now=now,
            psp_reference=f"{prefix}{int(done) + 1}",
            # Fully refunded: no Refund button left in the Dashboard (refund payouts may have offered one).
            available_actions=() if money.amount == left else None,
        )
        await store.update_fields(
            conn, payment.id, refunded_amount=format(payment.refunded_amount + money.amount, "f"), updated_at=now
        )
        updated = await store.get(conn, payment.id)
    ctx.deps.wakeups.outbox.set()
    assert updated is not None
    return updated
