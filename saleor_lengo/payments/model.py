"""The payment as the rest of the app sees it: a frozen snapshot of one row."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from saleor_lengo.words import Message, load


class State(StrEnum):
    CREATING = "creating"
    ACTION_REQUIRED = "action_required"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    EXPIRED = "expired"
    # Lengo says paid, with an amount that is no positive amount the currency
    # can hold: nothing is reported until staff resolve it (flows/review.py).
    NEEDS_REVIEW = "needs_review"
    # Resolved by staff as not charged: final, nothing reported.
    CLOSED = "closed"


OPEN_STATES = frozenset({State.CREATING, State.ACTION_REQUIRED})
# Lengo cannot close a payment link: these may still be paid, so they are watched.
WATCHED_STATES = frozenset({State.CANCELED, State.EXPIRED, State.FAILED})


@dataclass(frozen=True)
class Payment:
    id: str
    installation_id: int
    configuration_id: int
    saleor_transaction_id: str
    idempotency_key: str | None
    state: State
    pay_id: str | None
    payment_url: str | None
    amount: Decimal
    currency: str
    confirmed_amount: Decimal | None
    lengo_status: str | None
    gateway: str | None
    environment: str
    channel_id: str | None
    channel_slug: str | None
    source_type: str | None
    source_id: str | None
    return_url: str | None
    failure_reason: str | None
    refunded_amount: Decimal
    created_at: float
    updated_at: float
    expires_at: float
    watch_until: float
    next_check_at: float | None
    check_attempts: int
    last_status_at: float | None
    lease_until: float | None
    # The payer's number (encrypted) from the status that confirmed the payment paid: where a payout may go.
    payer_account_enc: str | None = field(default=None, repr=False)
    payer_account_masked: str | None = None
    # failure_reason as saleor_lengo.words parts (JSON), to say it in the shop's language.
    failure_words: str | None = None

    def failure_message(self) -> Message:
        """Why it failed, as words when the app wrote them (sayable in any language), else as stored."""
        return load(self.failure_words) or ((self.failure_reason,) if self.failure_reason else ())

    @classmethod
    def from_row(cls, row: Any) -> Payment:
        m = row._mapping
        return cls(
            id=m["id"],
            installation_id=m["installation_id"],
            configuration_id=m["configuration_id"],
            saleor_transaction_id=m["saleor_transaction_id"],
            idempotency_key=m["idempotency_key"],
            state=State(m["state"]),
            pay_id=m["pay_id"],
            payment_url=m["payment_url"],
            amount=Decimal(m["amount"]),
            currency=m["currency"],
            confirmed_amount=Decimal(m["confirmed_amount"]) if m["confirmed_amount"] is not None else None,
            lengo_status=m["lengo_status"],
            gateway=m["gateway"],
            environment=m["environment"],
            channel_id=m["channel_id"],
            channel_slug=m["channel_slug"],
            source_type=m["source_type"],
            source_id=m["source_id"],
            return_url=m["return_url"],
            failure_reason=m["failure_reason"],
            refunded_amount=Decimal(m["refunded_amount"] or "0"),
            created_at=m["created_at"],
            updated_at=m["updated_at"],
            expires_at=m["expires_at"],
            watch_until=m["watch_until"],
            next_check_at=m["next_check_at"],
            check_attempts=m["check_attempts"],
            last_status_at=m["last_status_at"],
            lease_until=m["lease_until"],
            payer_account_enc=m["payer_account_enc"],
            payer_account_masked=m["payer_account_masked"],
            failure_words=m["failure_words"],
        )

    @property
    def charged_amount(self) -> Decimal:
        """The amount every CHARGE_SUCCESS report of this payment uses."""
        return self.confirmed_amount if self.confirmed_amount is not None else self.amount

    @property
    def is_test_money(self) -> bool:
        return self.environment != "production"
