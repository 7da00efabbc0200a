"""A cash-in callback: a hint that the payout's cash-in may be final, never its outcome.

It comes unsigned, like the payment callback: its body is not even read for
the outcome. The token in its URL names the payout; the worker is asked to
check that payout's cash-in with Lengo now (`cashin/transaction`).
"""

from __future__ import annotations

import hashlib
from typing import Protocol

from saleor_lengo.logs import get_logger
from saleor_lengo.payouts import store
from saleor_lengo.payouts.model import PayoutState
from saleor_lengo.needs import HasDb, HasClock, HasWakeups


class Needs(HasDb, HasClock, HasWakeups, Protocol):
    """What a payout callback's nudge uses."""


log = get_logger(__name__)

MAX_TOKEN_CHARS = 128


async def nudge(deps: Needs, token: str) -> bool:
    """True when the token names a payout (checked now if its cash-in is on its way)."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return False
    digest = hashlib.sha256(token.encode()).hexdigest()
    async with deps.db.write() as conn:
        payout = await store.by_callback_digest(conn, digest)
        if payout is None:
            return False
        if payout.state == PayoutState.SENT:
            await store.update_fields(conn, payout.id, next_check_at=deps.clock())
    log.info("payout_callback", payout_id=payout.id, state=payout.state.value)
    deps.wakeups.payouts.set()
    return True
