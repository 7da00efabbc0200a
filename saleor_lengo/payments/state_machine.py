"""The one place a payment changes state.

It knows which moves are allowed. A repeat of the current state is a no-op
(logged at INFO) and an illegal move a no-op (logged at WARNING): that is
what makes duplicate and late notifications harmless. Every move Saleor must
learn writes its outbox row in the same transaction as the state change.

Callers hold the payment's row lock (`store.get(..., lock=True)` inside
`db.write()`), so concurrent callbacks, workers and replicas are serialised.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from saleor_lengo.db.engine import Tx
from saleor_lengo.db.prepared import prepared
from saleor_lengo.db.schema import payment_transitions
from saleor_lengo.logs import get_logger
from saleor_lengo.money import AmountError, Money, parse_amount
from saleor_lengo.payments.outbox import enqueue
from saleor_lengo.payments import store
from saleor_lengo.payments.model import Payment, State
from saleor_lengo.words import Message, Text, Words, dump, words

log = get_logger(__name__)

_INSERT_TRANSITION = prepared(payment_transitions.insert())  # built once; the values come with each execution

ALLOWED: dict[State, frozenset[State]] = {
    State.CREATING: frozenset({State.ACTION_REQUIRED, State.FAILED}),
    State.ACTION_REQUIRED: frozenset(
        {State.SUCCEEDED, State.NEEDS_REVIEW, State.FAILED, State.CANCELED, State.EXPIRED}
    ),
    # Lengo cannot close a link: money can still arrive after these, and it
    # must be recorded and reported, since it moved.
    State.FAILED: frozenset({State.SUCCEEDED, State.NEEDS_REVIEW}),
    State.CANCELED: frozenset({State.SUCCEEDED, State.NEEDS_REVIEW}),
    State.EXPIRED: frozenset({State.SUCCEEDED, State.NEEDS_REVIEW}),
    # Paid with an amount that cannot be right: only staff move it on
    # (`payments resolve`): charged (reported as such) or not charged.
    State.NEEDS_REVIEW: frozenset({State.SUCCEEDED, State.CLOSED}),
    State.SUCCEEDED: frozenset(),
    State.CLOSED: frozenset(),
}

# Once final, a payment is still checked now and then: this far apart.
WATCH_INTERVAL_SECONDS = 3 * 3600.0


@dataclass(frozen=True)
class Outcome:
    payment: Payment
    changed: bool
    outbox_id: int | None = None


def success_message(payment: Payment, previous: State, amount: Decimal, gateway: str | None) -> Message:
    paid = Money(amount, payment.currency)
    parts: list[Text] = [
        words("Paid on Lengo Pay with {gateway}: {amount}.", gateway=gateway, amount=paid)
        if gateway
        else words("Paid on Lengo Pay: {amount}.", amount=paid)
    ]
    if amount != payment.amount:
        parts.append(
            words(
                "Lengo confirmed {confirmed} but {requested} was requested.",
                confirmed=paid,
                requested=Money(payment.amount, payment.currency),
            )
        )
    if previous == State.CANCELED:
        parts.append(words("Late payment after the payment was canceled: refund due to the shopper unless the order is fulfilled."))
    elif previous == State.EXPIRED:
        parts.append(words("Late payment after the payment was expired: refund due to the shopper unless the order is fulfilled."))
    elif previous == State.FAILED:
        parts.append(words("Paid after an earlier failure was reported."))
    elif previous == State.NEEDS_REVIEW:
        parts.append(words("Amount set by staff after review: Lengo Pay had reported one that could not be right."))
    return tuple(parts)


async def transition(
    conn: Tx,
    payment: Payment,
    to: State,
    *,
    reason: Text,
    now: float,
    reason_words: Text | None = None,
    confirmed_amount: Decimal | None = None,
    gateway: str | None = None,
    lengo_status: str | None = None,
    also: dict[str, object] | None = None,
) -> Outcome:
    """Move `payment` to `to` if allowed; `also`: more columns for the same UPDATE (only if it moves).

    `reason` is kept (in English) as the payment's failure reason; `reason_words`, when the words
    to tell Saleor differ from it (a refusal kept with its code), is what Saleor is told.
    """
    if payment.state == to:
        log.info("payment_transition_repeat", payment_id=payment.id, state=to.value)
        return Outcome(payment, False)
    if to not in ALLOWED[payment.state]:
        log.warning("payment_transition_illegal", payment_id=payment.id, from_state=payment.state.value, to_state=to.value)
        return Outcome(payment, False)

    said = reason if reason_words is None else reason_words
    failure_words = dump([said]) if isinstance(said, Words) else None
    reason = str(reason)
    values: dict[str, object] = {**(also or {}), "state": to.value, "updated_at": now}
    if lengo_status is not None:
        values["lengo_status"] = lengo_status
    if gateway:
        values["gateway"] = gateway
    if to == State.SUCCEEDED:
        # The first confirmed amount is kept: Saleor deduplicates on it, so
        # every later report of this payment must carry the very same one.
        amount = payment.confirmed_amount if payment.confirmed_amount is not None else (
            payment.amount if confirmed_amount is None else confirmed_amount
        )
        try:
            # The last guard before a CHARGE_SUCCESS: callers send a paid amount
            # that is not a positive amount of the currency to NEEDS_REVIEW.
            parse_amount(amount, payment.currency)
        except AmountError as exc:
            raise ValueError(f"no CHARGE_SUCCESS of an amount that is {exc.reason}") from None
        values["confirmed_amount"] = format(amount, "f")
        values["next_check_at"] = None
    elif to in (State.NEEDS_REVIEW, State.CLOSED):
        values["next_check_at"] = None
        values["failure_reason"] = reason
        values["failure_words"] = failure_words
    elif to in (State.CANCELED, State.EXPIRED, State.FAILED):
        values["next_check_at"] = now + WATCH_INTERVAL_SECONDS
        values["failure_reason"] = reason
        values["failure_words"] = failure_words
    await store.update_fields(conn, payment.id, **values)
    await conn.execute(
        _INSERT_TRANSITION,
        {"payment_id": payment.id, "at": now, "from_state": payment.state.value, "to_state": to.value, "reason": reason},
    )
    updated = await store.get(conn, payment.id)
    assert updated is not None
    if to == State.NEEDS_REVIEW:
        log.warning("payment_needs_review", payment_id=payment.id, from_state=payment.state.value, reason=reason)
    else:
        log.info("payment_transition", payment_id=payment.id, from_state=payment.state.value, to_state=to.value, reason=reason)

    outbox_id: int | None = None
    if to == State.SUCCEEDED:
        outbox_id = await enqueue(
            conn,
            updated,
            event_type="CHARGE_SUCCESS",
            amount=updated.charged_amount,
            message=success_message(updated, payment.state, updated.charged_amount, gateway or updated.gateway),
            now=now,
        )
    elif payment.state == State.ACTION_REQUIRED and to in (State.FAILED, State.EXPIRED):
        outbox_id = await enqueue(
            conn, updated, event_type="CHARGE_FAILURE", amount=updated.amount,
            message=said, now=now,
        )
    return Outcome(updated, True, outbox_id)
