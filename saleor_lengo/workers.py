"""Background work inside `serve`: each loop is registered here and stopped on shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from saleor_lengo.callbacks import confirmation as callback_confirmation
from saleor_lengo.logs import get_logger
from saleor_lengo.outbox import relay
from saleor_lengo.flows import order_links, payout_worker, reconcile
from saleor_lengo import uninstall
from saleor_lengo.services import Services

log = get_logger(__name__)

# Each entry: a coroutine function that loops until cancelled.
LOOPS: list[Callable[[Services], Coroutine[Any, Any, None]]] = [
    # Keeps this process's leases alive and frees a dead process's at once (db/leases.py).
    lambda services: services.leases.run_forever(),
    # Sends committed outbox rows to Saleor (woken by `services.wakeups.outbox`).
    relay.run_forever,
    # Confirms callbacks whose status check failed, or that waited for their pay_id.
    callback_confirmation.run_forever,
    reconcile.run_forever,
    # Refund payouts: from a recorded payout to money on the payer's wallet (flows/payout_worker.py).
    payout_worker.run_forever,
    # Learns each charged payment's Saleor order and customer e-mail (flows/order_links.py).
    order_links.run_forever,
    # Erases the secrets of installations uninstalled longer ago than the grace period.
    uninstall.run_forever,
]


async def start_background(services: Services) -> Callable[[], Awaitable[None]]:
    tasks = [asyncio.create_task(loop(services)) for loop in LOOPS]

    async def stop() -> None:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    return stop
