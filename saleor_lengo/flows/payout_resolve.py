"""Staff settle a payout the app could not: `needs_review` → paid out or not paid out.

Paid out: REFUND_SUCCESS with the payout's pspReference, the payment's
refunded amount raised. Not paid out: REFUND_FAILURE with it, and its share
of the ledger and of the daily limit freed. Who and why are kept on the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from saleor_lengo.flows.payout_request import REFUND
from saleor_lengo.payouts import store
from saleor_lengo.payouts.model import Payout, PayoutState
from saleor_lengo.payouts.transitions import move, shown
from saleor_lengo.needs import HasDb, HasClock, HasWakeups, HasMetrics
from saleor_lengo.words import words


class Needs(HasDb, HasClock, HasWakeups, HasMetrics, Protocol):
    """What staff resolving a payout uses."""


MAX_NOTE = 500
MAX_NAME = 100


class ResolveError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Resolved:
    payout: Payout
    changed: bool


async def resolve(deps: Needs, payout_id: str, *, paid_out: bool, by: str, note: str) -> Resolved:
    by, note = by.strip()[:MAX_NAME], " ".join(note.split())[:MAX_NOTE]
    if not by or not note:
        raise ResolveError("say who resolves it (--by) and what was checked (--note)")
    to = PayoutState.RESOLVED_PAID_OUT if paid_out else PayoutState.RESOLVED_NOT_PAID_OUT
    now = deps.clock()
    async with deps.db.write() as conn:
        payout = await store.get(conn, payout_id, lock=True)
        if payout is None:
            raise ResolveError(f"no payout {payout_id!r}")
        if payout.state == to:
            return Resolved(payout, False)
        if payout.state != PayoutState.NEEDS_REVIEW:
            raise ResolveError(f"payout {payout.id} is {payout.state.value}: only a payout in needs_review is resolved")
        if paid_out:
            message = words(
                "Refund paid out ({payout}), confirmed by {by} after review: {note}", payout=shown(payout), by=by, note=note
            )
        else:
            message = words(
                "Nothing was refunded: staff ({by}) found the payout of {payout} not paid out: {note}",
                by=by, payout=shown(payout), note=note,
            )
        moved = await move(
            conn, payout, to, reason=message, now=now, refund_actions=REFUND,
            also={"resolved_by": by, "resolution_note": note, "released_at": None if paid_out else now},
        )
    deps.metrics.payout_outcome(to.value)
    if moved.outbox_id:
        deps.wakeups.outbox.set()
    return Resolved(moved.payout, moved.changed)
