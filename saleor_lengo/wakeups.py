"""The events that wake this process's background loops early, instead of waiting for their next poll."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Wakeups:
    # The relay: an outbox row was committed (outbox/relay.py).
    outbox: asyncio.Event = field(default_factory=asyncio.Event)
    # The confirmer loop: a callback was left to it (callbacks/confirmation.py, callback_queue.py).
    callbacks: asyncio.Event = field(default_factory=asyncio.Event)
    # The reconciler: payments it may take over were freed (flows/reconcile.py).
    reconciler: asyncio.Event = field(default_factory=asyncio.Event)
    # The payout worker: a payout was recorded or its callback came (flows/payout_worker.py).
    payouts: asyncio.Event = field(default_factory=asyncio.Event)

    def wake_all(self) -> None:
        """Leases were freed (a dead process's, db/leases.py): every loop may have work to take over."""
        for event in (self.outbox, self.callbacks, self.reconciler, self.payouts):
            event.set()


async def sleep(wake: asyncio.Event, seconds: float) -> None:
    """A loop's pause: `seconds`, or until `wake` is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(wake.wait(), timeout=seconds)
