"""`saleor-lengo reconcile [--once]`: check open payments with Lengo, expire abandoned ones.

`serve` already runs the reconciler in the background; this command is for
running it on its own (a cron job with `--once`, or a dedicated process).
Several may run at once: each payment is leased to one of them.
"""

from __future__ import annotations

import argparse

from saleor_lengo.commands.common import run_with_services
from saleor_lengo.flows.reconcile import run_forever, run_once
from saleor_lengo.services import Services


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "reconcile",
        help="check open payments with Lengo, expire abandoned ones",
        description="Ask Lengo about due payments until stopped (or once with --once).",
    )
    p.add_argument("--once", action="store_true", help="do one pass over the payments due now, then exit")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    async def work(services: Services) -> int:
        async with services.leases.beating():  # its leases stay ours while it works
            if args.once:
                checked = await run_once(services)
                print(f"checked {checked} payment{'s' if checked != 1 else ''}")
                return 0
            await run_forever(services)
        return 0

    return run_with_services(work, writes=True)
