"""A payment's whole history, for staff: what was asked, heard, decided and reported.

Everything here may be printed: the payer's phone only ever appears masked
(the encrypted copy is never read), and no secret (license key, callback
token, app token) is selected at all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select

from saleor_lengo.db.engine import Tx
from saleor_lengo.db.schema import (
    action_answers,
    callbacks,
    configurations,
    installations,
    lengo_requests,
    outbox,
    payment_transitions,
    payments,
    status_checks,
)
from saleor_lengo.money import Money
from saleor_lengo.payments.model import Payment, State

MAX_TEXT = 300


def when(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _order(seq: int, epoch: float) -> dict[str, Any]:
    # `at` is to the second, for people; a timeline needs the exact time, and
    # the row's id (its table's sequence) where two rows share that time.
    return {"seq": seq, "epoch": epoch}


def _text(value: str | None) -> str | None:
    # Callback fields come from an unauthenticated POST: one short line each.
    if value is None:
        return None
    flat = " ".join(str(value).split())
    return flat if len(flat) <= MAX_TEXT else flat[: MAX_TEXT - 1] + "…"


def money(amount: str, currency: str) -> str:
    return str(Money(Decimal(amount), currency))


def summary(payment: Payment) -> dict[str, Any]:
    return {
        "id": payment.id,
        "state": payment.state.value,
        "amount": format(payment.amount, "f"),
        "currency": payment.currency,
        "confirmedAmount": None if payment.confirmed_amount is None else format(payment.confirmed_amount, "f"),
        "lengoStatus": payment.lengo_status,
        "payId": payment.pay_id,
        "saleorTransactionId": payment.saleor_transaction_id,
        "environment": payment.environment,
        "createdAt": when(payment.created_at),
        "nextCheckAt": when(payment.next_check_at),
    }


async def list_payments(
    conn: Tx, *, states: list[str] | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    query = select(payments).order_by(payments.c.created_at.desc(), payments.c.id).limit(limit)
    if states:
        query = query.where(payments.c.state.in_(states))
    return [summary(Payment.from_row(row)) for row in (await conn.execute(query)).all()]


async def find(conn: Tx, ref: str) -> list[Payment]:
    """Payments whose id, Lengo pay_id or Saleor transaction id is `ref`."""
    c = payments.c
    rows = (
        await conn.execute(
            select(payments)
            .where(or_(c.id == ref, c.pay_id == ref, c.saleor_transaction_id == ref))
            .order_by(c.created_at)
        )
    ).all()
    return [Payment.from_row(r) for r in rows]


@dataclass(frozen=True)
class History:
    payment: dict[str, Any]
    transitions: list[dict[str, Any]]
    lengo_requests: list[dict[str, Any]]
    callbacks: list[dict[str, Any]]
    status_checks: list[dict[str, Any]]
    events: list[dict[str, Any]]
    action_requests: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "payment": self.payment,
            "transitions": self.transitions,
            "lengoRequests": self.lengo_requests,
            "callbacks": self.callbacks,
            "statusChecks": self.status_checks,
            "events": self.events,
            "actionRequests": self.action_requests,
        }


async def history(conn: Tx, payment: Payment) -> History:
    pid = payment.id
    inst = (
        await conn.execute(select(installations.c.saleor_api_url).where(installations.c.id == payment.installation_id))
    ).first()
    config = (
        await conn.execute(
            select(configurations.c.name, configurations.c.website_id).where(configurations.c.id == payment.configuration_id)
        )
    ).first()
    details = {
        **summary(payment),
        "saleorApiUrl": inst.saleor_api_url if inst else None,
        "configuration": config.name if config else None,
        "websiteId": config.website_id if config else None,
        "channel": payment.channel_slug or payment.channel_id,
        "source": f"{payment.source_type} {payment.source_id}" if payment.source_type else None,
        "paymentUrl": payment.payment_url,
        "returnUrl": payment.return_url,
        "gateway": payment.gateway,
        "failureReason": payment.failure_reason,
        "expiresAt": when(payment.expires_at),
        "watchUntil": when(payment.watch_until),
        "checkAttempts": payment.check_attempts,
        "lastStatusAt": when(payment.last_status_at),
    }

    transitions = [
        {**_order(r.id, r.at), "at": when(r.at), "from": r.from_state, "to": r.to_state, "reason": r.reason}
        for r in (
            await conn.execute(
                select(payment_transitions).where(payment_transitions.c.payment_id == pid).order_by(payment_transitions.c.id)
            )
        ).all()
    ]
    requests = [
        {
            **_order(r.id, r.started_at),
            "at": when(r.started_at),
            "operation": r.operation,
            "outcome": r.outcome,
            "httpStatus": r.http_status,
            "durationMs": r.duration_ms,
            "detail": _text(r.detail),
        }
        for r in (
            await conn.execute(select(lengo_requests).where(lengo_requests.c.payment_id == pid).order_by(lengo_requests.c.id))
        ).all()
    ]
    # Column by column: the encrypted phone (`client_enc`) is never read.
    cb = callbacks.c
    heard = [
        {
            **_order(r.id, r.received_at),
            "at": when(r.received_at),
            "status": _text(r.status),
            "amount": r.amount,
            "message": _text(r.message),
            "client": r.client_masked,
            "outcome": r.outcome,
            "attempts": r.attempts,
            "processedAt": when(r.processed_at),
            "lastError": _text(r.last_error),
        }
        for r in (
            await conn.execute(
                select(
                    cb.id, cb.received_at, cb.status, cb.amount, cb.message, cb.client_masked, cb.outcome,
                    cb.attempts, cb.processed_at, cb.last_error,
                )
                .where(cb.payment_id == pid)
                .order_by(cb.id)
            )
        ).all()
    ]
    # Beyond the rows kept per payment (callbacks/kept.py), callbacks are only counted.
    details["callbacksNotKept"] = (
        await conn.execute(select(payments.c.callbacks_not_kept).where(payments.c.id == pid))
    ).scalar() or 0
    checks = [
        {
            **_order(r.id, r.checked_at),
            "at": when(r.checked_at),
            "source": r.source,
            "lengoStatus": r.lengo_status,
            "amount": r.amount,
            "gateway": r.gateway,
            "error": _text(r.error),
        }
        for r in (
            await conn.execute(select(status_checks).where(status_checks.c.payment_id == pid).order_by(status_checks.c.id))
        ).all()
    ]
    events = [
        {
            **_order(r.id, r.event_time),
            "at": when(r.event_time),
            "type": r.event_type,
            "pspReference": r.psp_reference,
            "amount": r.amount,
            "currency": r.currency,
            "message": r.message,
            "availableActions": json.loads(r.available_actions) or [],
            "delivery": r.state,
            "attempts": r.attempts,
            "nextAttemptAt": when(r.next_attempt_at) if r.state == "pending" else None,
            "deliveredAt": when(r.delivered_at),
            "alreadyProcessed": r.already_processed,
            "lastError": _text(r.last_error),
        }
        for r in (await conn.execute(select(outbox).where(outbox.c.payment_id == pid).order_by(outbox.c.id))).all()
    ]
    answers = []
    for r in (
        await conn.execute(
            select(action_answers)
            .where(
                action_answers.c.installation_id == payment.installation_id,
                action_answers.c.saleor_transaction_id == payment.saleor_transaction_id,
            )
            .order_by(action_answers.c.id)
        )
    ).all():
        body = json.loads(r.response)
        answers.append(
            {
                **_order(r.id, r.created_at),
                "at": when(r.created_at),
                "action": r.action,
                "issuedAt": r.issued_at,
                "result": body.get("result"),
                "pspReference": r.psp_reference,
                "message": body.get("message"),
            }
        )
    payers = [c["client"] for c in heard if c["client"]]
    details["payer"] = payers[-1] if payers else None
    details["refundedAmount"] = format(payment.refunded_amount, "f")
    return History(details, transitions, requests, heard, checks, events, answers)
