"""`saleor-lengo outbox list [--dead]` and `saleor-lengo outbox retry ID|--all-dead`."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from saleor_lengo.commands.common import fail, run_with_services
from saleor_lengo.outbox import admin, backlog
from saleor_lengo.outbox.relay import DEAD
from saleor_lengo.services import Services


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "outbox",
        help="inspect and retry the events waiting for Saleor",
        description="The outbox: payment events on their way to Saleor, and the dead letters that could not be sent.",
    )
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")

    show = actions.add_parser("list", help="list outbox rows, newest first")
    show.add_argument("--dead", action="store_true", help="only the dead letters")
    show.add_argument("--limit", type=int, default=100, help="at most this many rows (default 100)")
    show.set_defaults(run=run_list)

    retry = actions.add_parser("retry", help="send a dead row again (after fixing the cause)")
    which = retry.add_mutually_exclusive_group(required=True)
    which.add_argument("id", nargs="?", type=int, help="the outbox row's id")
    which.add_argument("--all-dead", action="store_true", help="every dead row")
    retry.set_defaults(run=run_retry)


def _when(t: float | None) -> str:
    return "-" if t is None else datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _line(e: admin.OutboxEntry) -> str:
    when = _when(e.delivered_at) if e.delivered_at else _when(e.next_attempt_at)
    note = " (already processed)" if e.already_processed else ""
    error = f"  {e.last_error}" if e.last_error and e.state != "delivered" else ""
    return (
        f"{e.id:>6}  {e.state:<9}  {e.event_type:<16}  {e.amount + ' ' + e.currency:>16}  "
        f"{e.attempts:>3}  {when}  {e.saleor_transaction_id}{note}{error}"
    )


def _age(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m" if whole >= 3600 else f"{whole // 60}m{whole % 60:02d}s"


def _saleor_line(f: backlog.InstallationFigures) -> str:
    circuit = "OPEN (unreachable, probing)" if f.circuit_open else "closed"
    oldest = _age(f.oldest_pending_age_seconds) if f.pending else "-"
    return f"saleor {f.saleor_api_url}  circuit {circuit}  pending {f.pending}  oldest pending {oldest}"


def run_list(args: argparse.Namespace) -> int:
    async def go(services: Services) -> int:
        for figures in await admin.backlog(services.db, now=services.clock()):
            print(_saleor_line(figures))
        entries = await admin.list_entries(services.db, state=DEAD if args.dead else None, limit=args.limit)
        if not entries:
            print("no dead letters" if args.dead else "the outbox is empty")
            return 0
        print(f"{'ID':>6}  {'STATE':<9}  {'TYPE':<16}  {'AMOUNT':>16}  {'TRY':>3}  {'DUE/DELIVERED (UTC)':<19}  "
              "TRANSACTION  LAST ERROR")
        for entry in entries:
            print(_line(entry))
        return 0

    return run_with_services(go, writes=False)


def run_retry(args: argparse.Namespace) -> int:
    async def go(services: Services) -> int:
        if args.all_dead:
            n = await admin.retry_all_dead(services.db, now=services.clock())
            print(f"{n} dead row(s) queued again; the relay sends them on its next pass")
            return 0
        try:
            entry = await admin.retry(services.db, args.id, now=services.clock())
        except admin.NotRetryable as exc:
            return fail(str(exc))
        print(f"outbox row {entry.id} queued again; the relay sends it on its next pass")
        return 0

    return run_with_services(go, writes=True)
