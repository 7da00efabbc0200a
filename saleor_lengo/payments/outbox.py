"""The payment's half of the transactional outbox: rows written inside the caller's transaction, sent by `outbox.relay`."""

from __future__ import annotations

import json
from decimal import Decimal

from saleor_lengo.db.engine import Tx
from saleor_lengo.db.prepared import prepared
from saleor_lengo.db.schema import outbox
from saleor_lengo.money import Money
from saleor_lengo.payments.model import Payment
from saleor_lengo.words import Message, Text, dump, english, words

MAX_MESSAGE = 512
_INSERT = prepared(outbox.insert())  # built once; the values come with each execution


def clip(message: str) -> str:
    """Saleor truncates at 512 characters; we cut first so we know what it shows."""
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"


def event_message(payment: Payment, *parts: Text | None) -> Message:
    """Every message the app writes into Saleor: its parts, then the test-money marker on a test payment."""
    note = words("TEST PAYMENT ({environment}): no real money.", environment=payment.environment) if payment.is_test_money else None
    return tuple(p for p in (*parts, note) if p)


async def enqueue(
    conn: Tx,
    payment: Payment,
    *,
    event_type: str,
    amount: Decimal,
    message: Text | Message,
    now: float,
    psp_reference: str | None = None,
    available_actions: tuple[str, ...] | None = None,
) -> int:
    """One event for Saleor; `available_actions`: None leaves the Dashboard's buttons as they are, a tuple replaces them."""
    parts = event_message(payment, *(message if isinstance(message, tuple) else (message,)))
    psp = psp_reference or payment.pay_id
    if not psp:
        raise ValueError("an event needs a pspReference")
    result = await conn.execute(
        _INSERT,
        {
            "payment_id": payment.id,
            "installation_id": payment.installation_id,
            "saleor_transaction_id": payment.saleor_transaction_id,
            "event_type": event_type,
            "psp_reference": psp,
            "amount": Money(amount, payment.currency).to_saleor(),
            "currency": payment.currency,
            # English as the app's own pages show it; `words` for the relay to say it in the shop's language.
            "message": clip(english(parts)),
            "words": dump(parts),
            "external_url": payment.payment_url,
            "available_actions": json.dumps(None if available_actions is None else list(available_actions)),
            "event_time": now,
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        },
    )
    (new_id,) = result.inserted_primary_key or (None,)
    return int(new_id) if new_id is not None else 0
