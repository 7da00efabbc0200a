"""One payment's whole story, oldest first, built on `payments.history`.

Created, every Lengo request, every callback (the payer's phone only
masked), every status check, every state transition, every event reported
to Saleor with its outbox state, and every action Saleor requested.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from saleor_lengo.app_api.context import ApiContext
from saleor_lengo.app_api.resolvers.payments import get_payment
from saleor_lengo.payments.history import history
from saleor_lengo.payments.model import Payment

# Within one second (history's precision), cause before effect: a callback
# makes a status check, which makes a transition, which makes an event.
ORDER = ("CREATED", "LENGO_REQUEST", "CALLBACK", "STATUS_CHECK", "ACTION_REQUEST", "TRANSITION", "EVENT")


@dataclass(frozen=True)
class Entry:
    kind: str
    at: datetime
    fields: dict[str, Any] = field(default_factory=dict)


def _at(iso: str | None) -> datetime:
    if not iso:
        return datetime.fromtimestamp(0, UTC)
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def _optional_at(iso: str | None) -> datetime | None:
    return _at(iso) if iso else None


async def timeline(ctx: ApiContext, payment_id: str) -> tuple[Payment, list[Entry]]:
    payment = await get_payment(ctx, payment_id)  # scoped to the caller's installation
    async with ctx.services.db.read() as conn:
        h = await history(conn, payment)
    entries = [
        Entry(
            "CREATED",
            _at(h.payment["createdAt"]),  # at history's precision, so it sorts first within its second
            {"amount": payment.amount, "currency": payment.currency, "detail": h.payment.get("source")},
        )
    ]
    entries += [
        Entry(
            "LENGO_REQUEST",
            _at(r["at"]),
            {
                "operation": r["operation"],
                "http_status": r["httpStatus"],
                "outcome": r["outcome"],
                "duration_ms": r["durationMs"],
                "detail": r["detail"],
            },
        )
        for r in h.lengo_requests
    ]
    entries += [
        Entry(
            "CALLBACK",
            _at(c["at"]),
            {
                "status": c["status"],
                "amount": c["amount"],
                "detail": c["message"],
                "phone": c["client"],  # masked by history; the encrypted copy is never read
                "outcome": c["outcome"],
                "attempts": c["attempts"],
                "error": c["lastError"],
            },
        )
        for c in h.callbacks
    ]
    entries += [
        Entry(
            "STATUS_CHECK",
            _at(s["at"]),
            {"source": s["source"], "status": s["lengoStatus"], "amount": s["amount"], "gateway": s["gateway"], "error": s["error"]},
        )
        for s in h.status_checks
    ]
    entries += [
        Entry("TRANSITION", _at(t["at"]), {"from_state": t["from"], "to_state": t["to"], "detail": t["reason"]})
        for t in h.transitions
    ]
    entries += [
        Entry(
            "EVENT",
            _at(e["at"]),
            {
                "event_type": e["type"],
                "psp_reference": e["pspReference"],
                "amount": e["amount"],
                "currency": e["currency"],
                "detail": e["message"],
                "outbox_state": e["delivery"],
                "attempts": e["attempts"],
                "error": e["lastError"],
                "delivered_at": _optional_at(e["deliveredAt"]),
            },
        )
        for e in h.events
    ]
    entries += [
        Entry(
            "ACTION_REQUEST",
            _at(a["at"]),
            {"operation": a["action"], "outcome": a["result"], "psp_reference": a["pspReference"], "detail": a["message"]},
        )
        for a in h.action_requests
    ]
    entries.sort(key=lambda e: (e.at, ORDER.index(e.kind)))  # stable: each list is already in id order
    return payment, entries
