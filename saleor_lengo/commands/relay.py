"""`saleor-lengo relay [--once]`: send the outbox to Saleor outside `serve`.

`serve` runs the relay itself; this command is for a separate relay process,
and `--once` for scripts and after `saleor-lengo outbox retry`: it sends
what is due now and exits. Several relays may run at once (leases).
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from saleor_lengo.commands.common import run_with_services
from saleor_lengo.outbox import admin, relay
from saleor_lengo.services import Services


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "relay",
        help="send pending outbox rows to Saleor",
        description="Send committed payment events to Saleor (transactionEventReport). Runs until stopped.",
    )
    p.add_argument("--once", action="store_true", help="send what is due now, then exit")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.once:
        return run_with_services(_once, writes=True)
    run_with_services(_forever, writes=True)
    return 0


async def _once(services: Services) -> int:
    async with services.leases.beating():  # its leases stay ours while it sends
        delivered = await relay.run_once(services)
    counts = await admin.counts(services.db)
    print(
        f"delivered {delivered} event(s); "
        f"{counts.get(relay.PENDING, 0)} pending (backing off), {counts.get(relay.DEAD, 0)} dead"
    )
    return 0


async def _forever(services: Services) -> None:
    task = asyncio.ensure_future(relay.run_forever(services))
    loop = asyncio.get_running_loop()
    # SIGTERM (docker stop, systemd) stops between deliveries like Ctrl-C does;
    # the leases are given back on the way out (`Services.aclose`).
    loop.add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        async with services.leases.beating():
            await task
    except asyncio.CancelledError:
        pass
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
