"""The payout as the rest of the app sees it: a frozen snapshot of one row, and its states."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any


class PayoutState(StrEnum):
    # `approval` mode: recorded, and never sent until approved.
    AWAITING_APPROVAL = "awaiting_approval"
    # On its way: Saleor's request confirmed, the balance checked, the cash-in
    # asked for. Once `request_started_at` is set, the cash-in may exist at Lengo.
    SENDING = "sending"
    # Lengo accepted the cash-in (its pay_id is known); its status is polled.
    SENT = "sent"
    PAID_OUT = "paid_out"
    # Lengo refused it, or reported it FAILED (the reservation is kept until
    # the history confirms it an hour later: `released_at`).
    FAILED = "failed"
    REJECTED = "rejected"
    # The app cannot tell whether money left: staff settle it with `payouts resolve`.
    NEEDS_REVIEW = "needs_review"
    RESOLVED_PAID_OUT = "resolved_paid_out"
    RESOLVED_NOT_PAID_OUT = "resolved_not_paid_out"


# Paid: the amount has moved into the payment's `refunded_amount`.
PAID = frozenset({PayoutState.PAID_OUT, PayoutState.RESOLVED_PAID_OUT})
# Never paid, for sure: their share of the ledger and of the daily limit is free.
NOT_PAID = frozenset({PayoutState.REJECTED, PayoutState.RESOLVED_NOT_PAID_OUT})
# What the background worker moves along.
WORKED = frozenset({PayoutState.SENDING, PayoutState.SENT, PayoutState.FAILED})

ALLOWED: dict[PayoutState, frozenset[PayoutState]] = {
    PayoutState.AWAITING_APPROVAL: frozenset({PayoutState.SENDING, PayoutState.REJECTED}),
    PayoutState.SENDING: frozenset({PayoutState.SENT, PayoutState.FAILED, PayoutState.NEEDS_REVIEW}),
    PayoutState.SENT: frozenset({PayoutState.PAID_OUT, PayoutState.FAILED, PayoutState.NEEDS_REVIEW}),
    # Lengo may report a cash-in FAILED and later SUCCESS: the money left after all.
    PayoutState.FAILED: frozenset({PayoutState.PAID_OUT, PayoutState.NEEDS_REVIEW}),
    PayoutState.NEEDS_REVIEW: frozenset({PayoutState.RESOLVED_PAID_OUT, PayoutState.RESOLVED_NOT_PAID_OUT}),
    PayoutState.PAID_OUT: frozenset(),
    PayoutState.REJECTED: frozenset(),
    PayoutState.RESOLVED_PAID_OUT: frozenset(),
    PayoutState.RESOLVED_NOT_PAID_OUT: frozenset(),
}


class PayoutMode(StrEnum):
    OFF = "off"
    AUTOMATIC = "automatic"
    APPROVAL = "approval"


@dataclass(frozen=True)
class Payout:
    id: str
    payment_id: str
    installation_id: int
    configuration_id: int
    saleor_transaction_id: str
    psp_reference: str
    idempotency_key: str
    amount: Decimal
    currency: str
    type_account: str
    account_enc: str = field(repr=False)
    account_masked: str
    account_digest: str = field(repr=False)
    state: PayoutState
    in_flight: str | None
    request_started_at: float | None
    cashin_pay_id: str | None
    cashin_status: str | None
    saleor_confirmed_at: float | None
    failed_at: float | None
    released_at: float | None
    attempts: int
    next_check_at: float | None
    reason: str | None
    resolved_by: str | None
    resolution_note: str | None
    created_at: float
    updated_at: float

    @classmethod
    def from_row(cls, row: Any) -> Payout:
        m = row._mapping
        return cls(
            id=m["id"],
            payment_id=m["payment_id"],
            installation_id=m["installation_id"],
            configuration_id=m["configuration_id"],
            saleor_transaction_id=m["saleor_transaction_id"],
            psp_reference=m["psp_reference"],
            idempotency_key=m["idempotency_key"],
            amount=Decimal(m["amount"]),
            currency=m["currency"],
            type_account=m["type_account"],
            account_enc=m["account_enc"],
            account_masked=m["account_masked"],
            account_digest=m["account_digest"],
            state=PayoutState(m["state"]),
            in_flight=m["in_flight"],
            request_started_at=m["request_started_at"],
            cashin_pay_id=m["cashin_pay_id"],
            cashin_status=m["cashin_status"],
            saleor_confirmed_at=m["saleor_confirmed_at"],
            failed_at=m["failed_at"],
            released_at=m["released_at"],
            attempts=m["attempts"],
            next_check_at=m["next_check_at"],
            reason=m["reason"],
            resolved_by=m["resolved_by"],
            resolution_note=m["resolution_note"],
            created_at=m["created_at"],
            updated_at=m["updated_at"],
        )

    @property
    def holds_money(self) -> bool:
        """Counted against the payment's refundable amount and the day's limit (not yet paid, not surely unpaid)."""
        if self.state in PAID or self.state in NOT_PAID:
            return False
        return not (self.state == PayoutState.FAILED and self.released_at is not None)
