"""Work run after an answer was sent: tasks this process keeps track of until they end."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from saleor_lengo.logs import get_logger

log = get_logger(__name__)


class Background:
    """The tasks spawned and not finished; their failures are logged, never lost silently."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str = "background") -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)

        def _done(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.error("background_task_failed", task=name, error=repr(t.exception()))

        task.add_done_callback(_done)

    async def drain(self) -> None:
        """Wait for every spawned task, and those they spawn (tests, and graceful shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
