"""Apply what Lengo's status endpoint reports: the only thing that changes a payment.

Callbacks, the storefront's process call, the reconciler and staff re-checks
all end here, so a status is interpreted the same way whoever asked.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from saleor_lengo.crypto import mask
from saleor_lengo.lengo import vocabulary
from saleor_lengo.lengo.client import PaymentStatus
from saleor_lengo.flows.payout_request import offer_refund
from saleor_lengo.logs import get_logger
from saleor_lengo.money import AmountError, Money, Unholdable, parse_amount
from saleor_lengo.payments import store
from saleor_lengo.payments.model import Payment, State
from saleor_lengo.payments.state_machine import Outcome, transition
from saleor_lengo.needs import HasDb, HasClock, HasCipher
from saleor_lengo.words import words


class Needs(HasDb, HasClock, HasCipher, Protocol):
    """What applying Lengo's status to a payment uses."""


log = get_logger(__name__)

# Held for staff: Lengo's word on them no longer moves them.
_HELD = frozenset({State.NEEDS_REVIEW, State.CLOSED})


def paid_amount(payment: Payment, reported: Decimal | Unholdable | None) -> Decimal | Unholdable:
    """What a Lengo SUCCESS says was paid, or why it cannot be right.

    Absent or null: the created amount (Lengo charges what was created). Any
    other value must be a positive amount the payment's currency can hold;
    one that is valid but differs from the payment is what was paid.
    """
    if reported is None:
        return payment.amount
    if isinstance(reported, Unholdable):
        return reported
    try:
        return parse_amount(reported, payment.currency)
    except AmountError as exc:
        return Unholdable.of(exc)


def _shown(reported: Decimal | Unholdable | None) -> str:
    """A status's amount for a reason text (bounded by the parser)."""
    if reported is None:
        return "none"
    return str(reported) if isinstance(reported, Unholdable) else format(reported, "f")


def payer_account(deps: Needs, payment: Payment, status: PaymentStatus) -> dict[str, object]:
    """The payer's number from the status confirming the payment paid, encrypted (where a refund payout may go).

    Only Lengo's authenticated status answer counts: a callback's `Client`
    comes from an unsigned POST anyone can forge.
    """
    if status.account is None or payment.payer_account_enc is not None:
        return {}
    return {"payer_account_enc": deps.cipher.encrypt(status.account), "payer_account_masked": mask(status.account)}


async def apply_status(deps: Needs, payment_id: str, status: PaymentStatus, *, source: str) -> Outcome:
    now = deps.clock()
    async with deps.db.write() as conn:
        payment = await store.get(conn, payment_id, lock=True)
        if payment is None:
            raise LookupError(payment_id)
        # The status-check row keeps a number only; why one was unusable is in the transition.
        amount = format(status.amount, "f") if isinstance(status.amount, Decimal) else None
        await store.record_status_check(
            conn, payment_id, at=now, source=source, lengo_status=status.status, amount=amount, gateway=status.gateway
        )
        await store.update_fields(
            conn,
            payment_id,
            lengo_status=status.status,
            last_status_at=now,
            gateway=status.gateway or payment.gateway,
            updated_at=now,
        )
        if status.status.upper() not in vocabulary.KNOWN_STATUSES:
            log.warning("lengo_status_unknown", payment_id=payment_id, status=status.status[:64])
        kind = vocabulary.classify(status.status)
        payment = await store.get(conn, payment_id)
        assert payment is not None
        if payment.state in _HELD:
            return Outcome(payment, False)
        if kind == "paid":
            paid = paid_amount(payment, status.amount)
            if isinstance(paid, Unholdable):
                return await transition(
                    conn,
                    payment,
                    State.NEEDS_REVIEW,
                    reason=words(
                        "Lengo status {status} ({source}) with an amount that cannot be right: "
                        "{paid} ({problem}; {requested} was requested). Nothing was reported to Saleor: check the "
                        "payment on the Lengo portal, then resolve it (saleor-lengo payments resolve).",
                        status=status.status[:64],
                        source=source,
                        paid=_shown(status.amount),
                        problem=paid.reason,
                        requested=Money(payment.amount, payment.currency),
                    ),
                    now=now,
                    gateway=status.gateway,
                    lengo_status=status.status,
                )
            outcome = await transition(
                conn,
                payment,
                State.SUCCEEDED,
                reason=f"Lengo status {status.status} ({source})",
                now=now,
                confirmed_amount=paid,
                gateway=status.gateway,
                lengo_status=status.status,
                also=payer_account(deps, payment, status),
            )
            await offer_refund(conn, outcome.payment, outcome.outbox_id)
            return outcome
        if kind == "failed":
            if payment.state != State.ACTION_REQUIRED:
                return Outcome(payment, False)
            return await transition(
                conn, payment, State.FAILED, reason=words("Payment failed on Lengo Pay."), now=now, lengo_status=status.status
            )
        return Outcome(payment, False)


async def record_check_error(deps: Needs, payment_id: str, *, source: str, error: str) -> None:
    async with deps.db.write() as conn:
        await store.record_status_check(conn, payment_id, at=deps.clock(), source=source, error=error[:500])
