"""One payment's whole story in true order, built on `payments.history`.

Two readings of the same entries: the merchant's, the outcomes (`milestone`:
paid, failed, told to Saleor, refunded, needs review…), and the engineer's,
every entry (calls to Lengo, callbacks with the payer's phone only masked,
status checks, state changes, events for Saleor, Saleor's requests). The
page words both in its own language from these codes; no text here is shown
to the merchant except the engineer's `detail`.

True order: each table's rows in their sequence-id order, the tables merged
by exact time (`history` keeps it beside its to-the-second `at`), and where
two tables share one instant, cause before effect (RANK). The time alone
cannot do it: one transaction stamps a check, its state change and its event
with one clock reading, and replicas' clocks may differ a little.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from saleor_lengo.app_api.context import ApiContext
from saleor_lengo.app_api.resolvers.payments import get_payment
from saleor_lengo.lengo import vocabulary
from saleor_lengo.money import Money
from saleor_lengo.payments.history import History, history
from saleor_lengo.payments.model import Payment, State
from saleor_lengo.payouts import store as payout_store
from saleor_lengo.payouts.model import Payout, PayoutState

# Where two rows of different tables share the exact same time (one
# transaction stamps its rows with one clock reading), cause before effect:
# a callback makes a status check, which makes a transition, which makes an event.
RANK = ("CREATED", "LENGO_REQUEST", "CALLBACK", "STATUS_CHECK", "ACTION_REQUEST", "PAYOUT", "TRANSITION", "EVENT")

# A state reached, as the merchant reads it. Leaving for `creating` says nothing new.
_REACHED = {
    State.ACTION_REQUIRED.value: "WAITING",
    State.SUCCEEDED.value: "PAID",
    State.FAILED.value: "FAILED",
    State.CANCELED.value: "CANCELED",
    State.EXPIRED.value: "EXPIRED",
    State.NEEDS_REVIEW.value: "NEEDS_REVIEW",
    State.CLOSED.value: "CLOSED",
}
_TOLD = {"delivered": "REPORTED", "pending": "REPORT_WAITING", "dead": "REPORT_REFUSED"}
# A refund payout as the merchant reads it, by its state now. Paid out and
# not paid out are told by the REFUND_SUCCESS / REFUND_FAILURE event for Saleor.
_PAYOUT = {
    PayoutState.AWAITING_APPROVAL: "PAYOUT_AWAITING_APPROVAL",
    PayoutState.SENDING: "PAYOUT_SENDING",
    PayoutState.SENT: "PAYOUT_SENDING",
    PayoutState.FAILED: "PAYOUT_FAILED",
    PayoutState.NEEDS_REVIEW: "PAYOUT_NEEDS_REVIEW",
}
_PAID_BY_LENGO = (State.SUCCEEDED, State.NEEDS_REVIEW)


@dataclass(frozen=True)
class Entry:
    kind: str
    at: datetime
    fields: dict[str, Any] = field(default_factory=dict)
    milestone: str | None = None
    seq: int = 0  # its place in the timeline, from 1


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _optional_at(iso: str | None) -> datetime | None:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")) if iso else None


def _paid(status: str | None) -> bool:
    return status is not None and vocabulary.classify(status) == "paid"


def _event_milestone(event_type: str, delivery: str) -> str | None:
    if event_type == "REFUND_SUCCESS":
        return "REFUNDED"  # whether Saleor heard of it yet is in its delivery state
    return _TOLD.get(delivery)


Keyed = tuple[tuple[float, int], Entry]


def _trails(payment: Payment, h: History, payouts: list[Payout]) -> list[list[Keyed]]:
    """One list per table, each in its rows' sequence-id order, every entry with its time and its cause rank."""
    trails: dict[str, list[Keyed]] = {kind: [] for kind in RANK}

    def add(kind: str, row: dict[str, Any], fields: dict[str, Any], milestone: str | None = None) -> None:
        key = (float(row["epoch"]), RANK.index(kind))
        trails[kind].append((key, Entry(kind, _at(row["epoch"]), fields, milestone)))

    paid_now = payment.state in _PAID_BY_LENGO
    # First whatever the clocks say: nothing about a payment comes before it.
    created = {"amount": payment.amount, "currency": payment.currency, "detail": h.payment.get("source")}
    trails["CREATED"].append(((float("-inf"), 0), Entry("CREATED", _at(payment.created_at), created, "CREATED")))
    for r in h.lengo_requests:
        add("LENGO_REQUEST", r, {
            "operation": r["operation"], "http_status": r["httpStatus"], "outcome": r["outcome"],
            "duration_ms": r["durationMs"], "detail": r["detail"],
        })
    for c in h.callbacks:
        add("CALLBACK", c, {
            "status": c["status"], "amount": c["amount"], "detail": c["message"],
            "phone": c["client"],  # masked by history; the encrypted copy is never read
            "outcome": c["outcome"], "attempts": c["attempts"], "error": c["lastError"],
        })
    for s in h.status_checks:
        add("STATUS_CHECK", s, {
            "source": s["source"], "status": s["lengoStatus"], "amount": s["amount"],
            # What the shopper paid with, only where Lengo says the payment went through.
            "gateway": s["gateway"] if _paid(s["lengoStatus"]) else None,
            "error": s["error"],
        })
    for t in h.transitions:
        reached = _REACHED.get(t["to"]) if t["from"] != t["to"] else None
        fields: dict[str, Any] = {"from_state": t["from"], "to_state": t["to"], "detail": t["reason"]}
        if reached == "PAID" and payment.confirmed_amount is not None:
            fields.update(amount=payment.confirmed_amount, currency=payment.currency)
            fields["gateway"] = payment.gateway if paid_now else None
        add("TRANSITION", t, fields, reached)
    for e in h.events:
        add("EVENT", e, {
            "event_type": e["type"], "psp_reference": e["pspReference"], "amount": e["amount"],
            "currency": e["currency"], "detail": e["message"], "outbox_state": e["delivery"],
            "attempts": e["attempts"], "error": e["lastError"], "delivered_at": _optional_at(e["deliveredAt"]),
        }, _event_milestone(e["type"], e["delivery"]))
    for a in h.action_requests:
        add("ACTION_REQUEST", a, {
            "operation": a["action"], "outcome": a["result"], "psp_reference": a["pspReference"], "detail": a["message"],
        }, "SALEOR_ASKED")
    for p in sorted(payouts, key=lambda p: (p.updated_at, p.created_at)):
        # At the payout's last change: its state now is what the merchant reads.
        add("PAYOUT", {"epoch": p.updated_at}, {
            "status": p.state.value, "amount": format(Money(p.amount, p.currency).shown(), "f"), "currency": p.currency,
            "phone": p.account_masked, "psp_reference": p.psp_reference, "detail": p.reason,
        }, _PAYOUT.get(p.state))
    return list(trails.values())


async def timeline(ctx: ApiContext, payment_id: str) -> tuple[Payment, list[Entry]]:
    payment = await get_payment(ctx, payment_id)  # scoped to the caller's installation
    async with ctx.deps.db.read() as conn:
        h = await history(conn, payment)
        payouts = await payout_store.for_payment(conn, payment.id)
    # Merged, not sorted: within a table the sequence id decides (two replicas' clocks may
    # disagree by a little); across tables the exact time, then cause before effect.
    merged = heapq.merge(*_trails(payment, h, payouts), key=lambda pair: pair[0])
    return payment, [Entry(e.kind, e.at, e.fields, e.milestone, seq) for seq, (_key, e) in enumerate(merged, start=1)]
