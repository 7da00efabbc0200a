"""Which callbacks this process confirms at once, and which it leaves to the confirmer loop.

The callback route spawns a confirmation right after recording a callback
(callbacks/confirmation.py). A burst of callbacks queues here rather than in
httpx's pool, whose wait a status call's short budget would count (and which
is slow with thousands queued), or in the database's pool. Past
`CONFIRMATIONS_QUEUED` spawned, or while requests arrive in a burst
(pressure.py), a new callback is left to the confirmer loop, which takes it
from the table: bounded memory, answers first.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Coroutine
from typing import Any

from saleor_lengo.background import Background
from saleor_lengo import wakeups
from saleor_lengo.pressure import RequestPressure

CONFIRMATIONS_AT_ONCE = 20
CONFIRMATIONS_QUEUED = 100


class CallbackQueue:
    def __init__(self, background: Background, wake_loop: asyncio.Event, pressure: RequestPressure) -> None:
        self._background = background
        # Wakes the confirmer loop when a callback was left to it (shared with wakeups.Wakeups).
        self._wake_loop = wake_loop
        # How fast requests arrive: in a burst, confirmations wait for the answers.
        self.pressure = pressure
        # Confirmations running at once, their database work and status call included.
        self.slots = asyncio.Semaphore(CONFIRMATIONS_AT_ONCE)
        # Confirmations spawned and not finished.
        self.spawned = 0
        # When the confirmer loop wakes next (inf while it works): a callback
        # deferred to its payment's next check (callbacks/gate.py) wakes it if sooner.
        self._loop_wakes_at = math.inf
        # Payments whose callbacks' status check is in flight in this process (callbacks/gate.py).
        self.checks_in_flight: set[str] = set()

    def can_confirm_now(self) -> bool:
        """Whether a new callback's confirmation may be spawned (else the confirmer loop takes it)."""
        return self.spawned < CONFIRMATIONS_QUEUED and not self.pressure.busy()

    def due(self, at: float) -> None:
        """A callback row is due at `at` (its payment's next check): wake the confirmer loop if it would sleep past it."""
        if at < self._loop_wakes_at:
            self._wake_loop.set()

    def leave_to_loop(self) -> None:
        """A callback due now was left to the confirmer loop: wake it."""
        self._wake_loop.set()

    # --- The confirmer loop's side (callbacks/confirmation.py) ------------------

    def loop_awake(self) -> None:
        """The loop works: a callback deferred meanwhile wakes it again."""
        self._wake_loop.clear()
        self._loop_wakes_at = math.inf

    async def loop_sleeps(self, until: float, wait: float) -> None:
        """The loop sleeps `wait` seconds, until `until` on the app's clock, unless woken earlier."""
        self._loop_wakes_at = until
        await wakeups.sleep(self._wake_loop, wait)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Confirm a callback in the background, counted until it ends."""
        self.spawned += 1

        async def counted() -> None:
            try:
                await coro
            finally:
                self.spawned -= 1

        self._background.spawn(counted(), name="callback_confirmation")
