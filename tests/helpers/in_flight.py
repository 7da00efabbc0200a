"""A wrapper that counts how many calls of an async function run at once (the most seen)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any


class InFlight:
    """Stands in for `call`: each call first waits `delay` (a Saleor taking its time) so calls overlap."""

    def __init__(self, call: Callable[..., Awaitable[Any]], delay: float) -> None:
        self.call, self.delay = call, delay
        self.now = self.most = self.calls = 0

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.now += 1
        self.calls += 1
        self.most = max(self.most, self.now)
        try:
            await asyncio.sleep(self.delay)
            return await self.call(*args, **kwargs)
        finally:
            self.now -= 1
