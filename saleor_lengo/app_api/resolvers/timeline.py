"""One payment's whole story, oldest first, from the audit tables.

Created, every Lengo request, every callback (the payer's phone only
masked), every status check, every state transition, and every event
reported to Saleor with its outbox state.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from saleor_lengo.app_api.context import ApiContext
from saleor_lengo.app_api.resolvers.payments import get_payment
from saleor_lengo.db.schema import callbacks, lengo_requests, outbox, payment_transitions, status_checks
from saleor_lengo.payments.model import Payment


@dataclass(frozen=True)
class Entry:
    kind: str  # CREATED | LENGO_REQUEST | CALLBACK | STATUS_CHECK | TRANSITION | EVENT
    at: float
    fields: dict[str, Any] = field(default_factory=dict)


def _created(payment: Payment) -> Entry:
    return Entry(
        "CREATED",
        payment.created_at,
        {"amount": payment.amount, "currency": payment.currency, "source": payment.source_type, "detail": payment.source_id},
    )


async def timeline(ctx: ApiContext, payment_id: str) -> tuple[Payment, list[Entry]]:
    payment = await get_payment(ctx, payment_id)  # scoped to the caller's installation
    entries = [_created(payment)]
    async with ctx.services.db.read() as conn:
        for r in (await conn.execute(select(lengo_requests).where(lengo_requests.c.payment_id == payment.id))).all():
            entries.append(
                Entry(
                    "LENGO_REQUEST",
                    r.started_at,
                    {
                        "operation": r.operation,
                        "http_status": r.http_status,
                        "outcome": r.outcome,
                        "duration_ms": r.duration_ms,
                        "detail": r.detail,
                    },
                )
            )
        for r in (await conn.execute(select(callbacks).where(callbacks.c.payment_id == payment.id))).all():
            entries.append(
                Entry(
                    "CALLBACK",
                    r.received_at,
                    {
                        "status": r.status,
                        "amount": r.amount,
                        "detail": r.message,
                        "phone": r.client_masked,  # never client_enc
                        "outcome": r.outcome,
                        "error": r.last_error,
                    },
                )
            )
        for r in (await conn.execute(select(status_checks).where(status_checks.c.payment_id == payment.id))).all():
            entries.append(
                Entry(
                    "STATUS_CHECK",
                    r.checked_at,
                    {"source": r.source, "status": r.lengo_status, "amount": r.amount, "gateway": r.gateway, "error": r.error},
                )
            )
        for r in (
            await conn.execute(select(payment_transitions).where(payment_transitions.c.payment_id == payment.id))
        ).all():
            entries.append(
                Entry("TRANSITION", r.at, {"from_state": r.from_state, "to_state": r.to_state, "detail": r.reason})
            )
        for r in (await conn.execute(select(outbox).where(outbox.c.payment_id == payment.id))).all():
            entries.append(
                Entry(
                    "EVENT",
                    r.event_time,
                    {
                        "event_type": r.event_type,
                        "psp_reference": r.psp_reference,
                        "amount": r.amount,
                        "currency": r.currency,
                        "detail": r.message,
                        "outbox_id": r.id,
                        "outbox_state": r.state,
                        "attempts": r.attempts,
                        "error": r.last_error,
                        "delivered_at": r.delivered_at,
                        "available_actions": json.loads(r.available_actions or "[]"),
                    },
                )
            )
    order = {"CREATED": 0, "LENGO_REQUEST": 1, "CALLBACK": 2, "STATUS_CHECK": 3, "TRANSITION": 4, "EVENT": 5}
    entries.sort(key=lambda e: (e.at, order[e.kind]))
    return payment, entries
