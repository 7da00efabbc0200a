"""Webhook bodies shaped like the ones a real Saleor 3.23 sends (see the reference data's saleor/recorded/, tests/reference.py)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

GNF_CHANNEL = {"id": "Q2hhbm5lbDoy", "slug": "channel-gnf", "currencyCode": "GNF"}
USD_CHANNEL = {"id": "Q2hhbm5lbDox", "slug": "default-channel", "currencyCode": "USD"}


def new_transaction_id() -> str:
    import base64

    return base64.b64encode(f"TransactionItem:{uuid.uuid4()}".encode()).decode()


def _money(amount: Decimal, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


def transaction(tx_id: str, currency: str, psp: str = "", charged: Decimal = Decimal("0.0")) -> dict[str, Any]:
    return {
        "id": tx_id,
        "pspReference": psp,
        "createdAt": "2026-11-28T03:50:04.133945+00:00",
        "chargedAmount": _money(charged, currency),
        "authorizedAmount": _money(Decimal("0.0"), currency),
        "refundedAmount": _money(Decimal("0.0"), currency),
    }


def checkout(channel: dict[str, str], checkout_id: str = "Q2hlY2tvdXQ6MQ==") -> dict[str, Any]:
    return {"__typename": "Checkout", "id": checkout_id, "channel": dict(channel)}


def gateway_initialize(app_id: str, *, channel: dict[str, str] = GNF_CHANNEL, amount: Decimal | None = Decimal("176500.0")) -> dict[str, Any]:
    return {
        "__typename": "PaymentGatewayInitializeSession",
        "issuedAt": "2026-11-28T03:50:03.787465+00:00",
        "version": "3.23.28",
        "recipient": {"id": app_id},
        "sourceObject": checkout(channel),
        "amount": amount,
        "data": None,
    }


def session(
    event: str,
    app_id: str,
    tx_id: str,
    *,
    amount: Decimal = Decimal("176500.0"),
    channel: dict[str, str] = GNF_CHANNEL,
    data: Any = None,
    psp: str = "",
    idempotency_key: str | None = "idem-1",
    action_type: str = "CHARGE",
    issued_at: str = "2026-11-28T03:50:04.171854+00:00",
) -> dict[str, Any]:
    currency = channel["currencyCode"]
    body: dict[str, Any] = {
        "__typename": "TransactionInitializeSession" if event == "TRANSACTION_INITIALIZE_SESSION" else "TransactionProcessSession",
        "issuedAt": issued_at,
        "version": "3.23.28",
        "recipient": {"id": app_id},
        "action": {"amount": amount, "currency": currency, "actionType": action_type},
        "transaction": transaction(tx_id, currency, psp),
        "sourceObject": checkout(channel),
        "data": data,
        "merchantReference": tx_id,
        "customerIpAddress": "127.0.0.1",
    }
    if event == "TRANSACTION_INITIALIZE_SESSION":
        body["idempotencyKey"] = idempotency_key
    return body


def action_request(
    event: str,
    app_id: str,
    tx_id: str,
    *,
    psp: str,
    amount: Decimal = Decimal("0.0"),
    channel: dict[str, str] = GNF_CHANNEL,
    issued_at: str = "2026-11-28T03:50:07.100000+00:00",
    charged: Decimal = Decimal("0.0"),
) -> dict[str, Any]:
    currency = channel["currencyCode"]
    typename = {
        "TRANSACTION_CHARGE_REQUESTED": "TransactionChargeRequested",
        "TRANSACTION_REFUND_REQUESTED": "TransactionRefundRequested",
        "TRANSACTION_CANCELATION_REQUESTED": "TransactionCancelationRequested",
    }[event]
    action_type = {"TransactionChargeRequested": "CHARGE", "TransactionRefundRequested": "REFUND", "TransactionCancelationRequested": "CANCEL"}[typename]
    tx = transaction(tx_id, currency, psp, charged)
    tx["checkout"] = None
    tx["order"] = {"id": "T3JkZXI6MQ==", "number": "42", "channel": dict(channel)}
    body: dict[str, Any] = {
        "__typename": typename,
        "issuedAt": issued_at,
        "version": "3.23.28",
        "recipient": {"id": app_id},
        "action": {"amount": amount, "currency": currency, "actionType": action_type},
        "transaction": tx,
    }
    if typename == "TransactionRefundRequested":
        body["grantedRefund"] = {"id": "T3JkZXJHcmFudGVkUmVmdW5kOk5vbmU="}
    return body
