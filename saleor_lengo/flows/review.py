"""Resolving a payment held in `needs_review`, once staff have checked it on Lengo's portal.

Lengo reported it paid with an amount that cannot be right (0, negative, a
fraction the currency cannot hold, no number, out of range), so nothing was
reported to Saleor. Staff say what happened:

- charged AMOUNT: a CHARGE_SUCCESS of that amount, written to the outbox in
  the same transaction as the move to `succeeded` (the state machine does it);
- not charged: the payment is closed and nothing is reported.

Either way the payment's history keeps who resolved it and their note (the
transition's reason). Asking again for the resolution already made changes
nothing and is answered with the payment; any other request about a payment
not in `needs_review` is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from sqlalchemy import select

from saleor_lengo.db.engine import Tx
from saleor_lengo.db.schema import payment_transitions
from saleor_lengo.money import AmountError, Money, parse_amount
from saleor_lengo.payments import store
from saleor_lengo.payments.model import Payment, State
from saleor_lengo.payments.state_machine import transition
from saleor_lengo.needs import HasDb, HasClock, HasWakeups


class Needs(HasDb, HasClock, HasWakeups, Protocol):
    """What staff reviewing a payment uses."""


MAX_NOTE_CHARS = 500
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


class ReviewError(ValueError):
    """A resolution refused; `message` is short and safe to show, `code` names the case."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Resolution:
    payment: Payment
    changed: bool  # False: this very resolution had been made already
    outbox_id: int | None = None


def _clean_note(note: str) -> str:
    text = _CONTROL.sub(" ", note).strip()
    if not text:
        raise ReviewError("A note is required: say what you checked on the Lengo portal.", "NOTE_REQUIRED")
    if len(text) > MAX_NOTE_CHARS:
        raise ReviewError(f"The note is longer than {MAX_NOTE_CHARS} characters.", "NOTE_TOO_LONG")
    return text


async def _resolved_from_review(conn: Tx, payment: Payment) -> bool:
    row = (
        await conn.execute(
            select(payment_transitions.c.id)
            .where(
                payment_transitions.c.payment_id == payment.id,
                payment_transitions.c.from_state == State.NEEDS_REVIEW.value,
                payment_transitions.c.to_state == payment.state.value,
            )
            .limit(1)
        )
    ).first()
    return row is not None


async def resolve(
    deps: Needs,
    payment_id: str,
    *,
    charged: str | None,
    note: str,
    by: str,
    installation_id: int | None = None,
) -> Resolution:
    """`charged`: the amount staff found charged (text, read by the one amount parser); None: not charged.

    `installation_id`: only a payment of this installation (the app API); None: any (the command line).
    """
    text = _clean_note(note)
    now = deps.clock()
    async with deps.db.write() as conn:
        payment = await store.get(conn, payment_id, lock=True)
        if payment is None or (installation_id is not None and payment.installation_id != installation_id):
            raise ReviewError("No such payment.", "NOT_FOUND")
        amount: Decimal | None = None
        if charged is not None:
            try:
                amount = parse_amount(charged, payment.currency)
            except AmountError as exc:
                raise ReviewError(
                    f"The charged amount must be a positive amount in {payment.currency}: it is {exc.reason}.",
                    "INVALID_AMOUNT",
                ) from None
        if payment.state != State.NEEDS_REVIEW:
            same = (amount is None and payment.state == State.CLOSED) or (
                amount is not None and payment.state == State.SUCCEEDED and payment.confirmed_amount == amount
            )
            if same and await _resolved_from_review(conn, payment):
                return Resolution(payment, False)
            raise ReviewError(
                f"This payment is {payment.state.value}, not needs_review: there is nothing to resolve.",
                "NOT_IN_REVIEW",
            )
        if amount is None:
            reason = f"Resolved by {by} after review: not charged; closed, nothing reported to Saleor. Note: {text}"
            outcome = await transition(conn, payment, State.CLOSED, reason=reason, now=now)
        else:
            reason = (
                f"Resolved by {by} after review: {Money(amount, payment.currency)} charged, "
                f"reported to Saleor. Note: {text}"
            )
            outcome = await transition(
                conn, payment, State.SUCCEEDED, reason=reason, now=now, confirmed_amount=amount,
                also={"failure_reason": None},
            )
    if outcome.outbox_id is not None:
        deps.wakeups.outbox.set()
    return Resolution(outcome.payment, outcome.changed, outcome.outbox_id)
