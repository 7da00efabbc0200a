"""Waits that take no time: a monotonic clock and a sleep that advances it by what was asked."""

from __future__ import annotations

import asyncio
import time


class InstantWaits:
    """For code that retries with backoff: records each wait and returns at once.

    The clock moves by the waits, so a retry budget runs out after the same
    attempts as in real time, without the test waiting for it.
    """

    def __init__(self) -> None:
        self.slept: list[float] = []
        self._ahead = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self._ahead

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self._ahead += seconds
        await asyncio.sleep(0)  # still lets other tasks run, as a real wait would
