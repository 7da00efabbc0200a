"""Background work inside `serve`: each loop is registered here and stopped on shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from saleor_lengo.logs import get_logger
from saleor_lengo.payments import reconcile
from saleor_lengo.services import Services

log = get_logger(__name__)

# Each entry: a coroutine function that loops until cancelled.
LOOPS: list[Callable[[Services], Awaitable[None]]] = [
    reconcile.run_forever,
]


async def start_background(services: Services) -> Callable[[], Awaitable[None]]:
    tasks = [asyncio.create_task(loop(services)) for loop in LOOPS]

    async def stop() -> None:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    return stop
