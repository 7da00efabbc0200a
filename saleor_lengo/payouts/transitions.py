"""The one place a payout changes state, and what Saleor learns of it.

Like the payment's state machine: a repeat of the current state and an
illegal move are no-ops (logged). A move Saleor must learn writes its outbox
row, carrying the payout's own pspReference, in the same transaction; the
payment's `refunded_amount` rises in that transaction too when money left,
so the ledger and Saleor can never disagree. The caller holds the payout's
row and its payment's row (`lock=True`).
"""

from __future__ import annotations

from dataclasses import dataclass

from saleor_lengo.db.engine import Tx
from saleor_lengo.logs import get_logger
from saleor_lengo.money import Money
from saleor_lengo.words import Text, Words, words
from saleor_lengo.payments import store as payment_store
from saleor_lengo.payments.outbox import enqueue
from saleor_lengo.payouts import store
from saleor_lengo.payouts.model import ALLOWED, PAID, Payout, PayoutState

log = get_logger(__name__)


@dataclass(frozen=True)
class Moved:
    payout: Payout
    changed: bool
    outbox_id: int | None = None


def _still_refundable(actions_when_room: tuple[str, ...], room: bool) -> tuple[str, ...] | None:
    return actions_when_room if room else ()


async def move(
    conn: Tx,
    payout: Payout,
    to: PayoutState,
    *,
    reason: Text,
    now: float,
    message: Text | None = None,
    refund_actions: tuple[str, ...] | None = None,
    report_failure: bool = True,
    also: dict[str, object] | None = None,
) -> Moved:
    """Move `payout` to `to` if allowed.

    `message`: what Saleor's event says (default: `reason`). `refund_actions`:
    the transaction's actions while money is left to refund (None: leave them).
    `report_failure`: whether a move to failed / resolved_not_paid_out tells Saleor.
    """
    said = message or reason
    reason = str(reason)
    if payout.state == to:
        log.info("payout_transition_repeat", payout_id=payout.id, state=to.value)
        return Moved(payout, False)
    if to not in ALLOWED[payout.state]:
        log.warning("payout_transition_illegal", payout_id=payout.id, from_state=payout.state.value, to_state=to.value)
        return Moved(payout, False)
    values: dict[str, object] = {**(also or {}), "state": to.value, "updated_at": now, "reason": reason}
    if to in PAID or to in (PayoutState.FAILED, PayoutState.NEEDS_REVIEW, PayoutState.RESOLVED_NOT_PAID_OUT):
        values.setdefault("in_flight", None)
    if to in PAID or to == PayoutState.NEEDS_REVIEW or to == PayoutState.RESOLVED_NOT_PAID_OUT:
        values.setdefault("next_check_at", None)
    await store.update_fields(conn, payout.id, **values)
    moved = await store.get(conn, payout.id)
    assert moved is not None
    emit = log.warning if to in (PayoutState.NEEDS_REVIEW, PayoutState.FAILED) else log.info
    emit("payout_transition", payout_id=payout.id, from_state=payout.state.value, to_state=to.value, reason=reason[:200])

    payment = await payment_store.get(conn, payout.payment_id, lock=True)
    assert payment is not None
    outbox_id: int | None = None
    text = said
    if to in PAID:
        refunded = payment.refunded_amount + payout.amount
        await payment_store.update_fields(conn, payment.id, refunded_amount=format(refunded, "f"), updated_at=now)
        room = refunded < payment.charged_amount
        outbox_id = await enqueue(
            conn, payment, event_type="REFUND_SUCCESS", amount=payout.amount, message=text, now=now,
            psp_reference=payout.psp_reference,
            available_actions=None if refund_actions is None else _still_refundable(refund_actions, room),
        )
    elif to in (PayoutState.FAILED, PayoutState.RESOLVED_NOT_PAID_OUT, PayoutState.REJECTED) and report_failure:
        outbox_id = await enqueue(
            conn, payment, event_type="REFUND_FAILURE", amount=payout.amount, message=text, now=now,
            psp_reference=payout.psp_reference, available_actions=refund_actions,
        )
    return Moved(moved, True, outbox_id)


def shown(payout: Payout) -> Words:
    return words("{amount} to {account}", amount=Money(payout.amount, payout.currency), account=payout.account_masked or "")
