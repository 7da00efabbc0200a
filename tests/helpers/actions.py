"""Saleor's action webhooks (charge, refund, cancel) sent as Saleor sends them, and the answers they must get."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

import httpx

from saleor_lengo.payments.model import Payment
from tests.conftest import send_webhook
from tests.fakes.payloads import action_request
from tests.fakes.saleor import FakeSaleor
from tests.reference import check_answer

SCHEMAS = {
    "TRANSACTION_CHARGE_REQUESTED": "TransactionChargeRequested",
    "TRANSACTION_REFUND_REQUESTED": "TransactionRefundRequested",
    "TRANSACTION_CANCELATION_REQUESTED": "TransactionCancelationRequested",
}
KINDS = {
    "TRANSACTION_CHARGE_REQUESTED": "charge",
    "TRANSACTION_REFUND_REQUESTED": "refund",
    "TRANSACTION_CANCELATION_REQUESTED": "cancel",
}


def action_psp(event: str, base: str, issued_at: str) -> str:
    """The pspReference an action answer must carry: one per request (Saleor's `issuedAt`), never the charge's own."""
    return f"{base}:{KINDS[event]}:{hashlib.sha256(issued_at.encode()).hexdigest()[:12]}"


async def send_action(
    client: httpx.AsyncClient,
    fake_saleor: FakeSaleor,
    event: str,
    tx: str,
    *,
    psp: str,
    issued_at: str,
    amount: Decimal = Decimal("0.0"),
    charged: Decimal = Decimal("0.0"),
) -> dict[str, Any]:
    """Sends the action, checks the answer against Saleor's schema and returns it (not yet recorded by Saleor)."""
    body = action_request(event, fake_saleor.app_id, tx, psp=psp, amount=amount, issued_at=issued_at, charged=charged)
    response = await send_webhook(client, fake_saleor, event, body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    check_answer(SCHEMAS[event], answer)
    return answer


async def act_on(
    client: httpx.AsyncClient,
    fake_saleor: FakeSaleor,
    event: str,
    payment: Payment,
    *,
    issued_at: str,
    amount: Decimal = Decimal("0.0"),
) -> dict[str, Any]:
    """An action on a payment, with what Saleor holds as charged; the answer is kept as an event, as Saleor keeps it."""
    tx = payment.saleor_transaction_id
    answer = await send_action(
        client, fake_saleor, event, tx, psp=payment.pay_id or "", issued_at=issued_at, amount=amount,
        charged=fake_saleor.charged_amount(tx),
    )
    fake_saleor.record_sync_answer(tx, answer)
    return answer
