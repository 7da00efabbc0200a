"""How busy this process is answering requests: background work that can wait, waits.

One event loop runs both the answers (Lengo's callbacks, Saleor's webhooks)
and the background confirmations of callbacks (a status call, a state
change, an outbox row each: several times an answer's CPU). In a burst,
every confirmation run meanwhile delays answers, and a callback answered
late is one Lengo may send again. A confirmation can wait: its callback is
a committed row, and the confirmer loop takes it from the table
(`callbacks/confirmation.py`). So while requests arrive faster than
`BUSY_PER_SECOND` — far above what Lengo and Saleor send one process in
normal operation — new callbacks are left to that loop instead of a task
each, and the loop holds its next batch until the burst ends or
`MAX_HOLD_SECONDS` has passed: in a long burst confirmations still go on,
a batch at a time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

BUSY_PER_SECOND = 200.0
# Requests are counted in windows this long; the rate is read over the current and the previous one.
WINDOW_SECONDS = 0.25
MAX_HOLD_SECONDS = 1.0
_POLL_SECONDS = 0.05


class RequestPressure:
    __slots__ = ("_clock", "_start", "_current", "_previous")

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._start = clock()
        self._current = 0
        self._previous = 0

    def started(self) -> None:
        """A request arrived (the app's outermost middleware calls this)."""
        self._roll(self._clock())
        self._current += 1

    def busy(self) -> bool:
        now = self._clock()
        self._roll(now)
        # The previous window counts for the part of it still within the last WINDOW_SECONDS.
        share = 1.0 - (now - self._start) / WINDOW_SECONDS
        return self._current + self._previous * share >= BUSY_PER_SECOND * WINDOW_SECONDS

    async def until_quiet(self, max_wait: float = MAX_HOLD_SECONDS) -> None:
        """Return once requests slow down below the threshold, or after `max_wait` seconds at most."""
        deadline = self._clock() + max_wait
        while self.busy() and self._clock() < deadline:
            await asyncio.sleep(_POLL_SECONDS)

    def _roll(self, now: float) -> None:
        elapsed = now - self._start
        if elapsed < WINDOW_SECONDS:
            return
        # One window later, the current one becomes the previous; more than one, both are empty.
        self._previous = self._current if elapsed < 2 * WINDOW_SECONDS else 0
        self._current = 0
        self._start = now if elapsed >= 2 * WINDOW_SECONDS else self._start + WINDOW_SECONDS


__all__ = ["BUSY_PER_SECOND", "MAX_HOLD_SECONDS", "RequestPressure"]
