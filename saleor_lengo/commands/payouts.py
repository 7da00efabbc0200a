"""`saleor-lengo payouts list|show|resolve`: refunds paid out to payers' wallets.

The payer's number is always masked here; it is only ever sent, in clear,
to Lengo's cash-in request.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from saleor_lengo.commands.common import fail, run_with_services
from saleor_lengo.flows import payout_resolve
from saleor_lengo.payouts import store
from saleor_lengo.payouts.model import Payout, PayoutState
from saleor_lengo.services import Services

STATES = [s.value for s in PayoutState]


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("payouts", help="refunds paid out to payers' wallets", description=__doc__.splitlines()[0])
    actions = p.add_subparsers(dest="payouts_command", required=True, metavar="ACTION")

    listing = actions.add_parser("list", help="the latest payouts", description="The latest payouts, newest first.")
    listing.add_argument("--status", choices=STATES, metavar="STATE", help=f"only this state: {', '.join(STATES)}")
    listing.add_argument("--payment", metavar="ID", help="only this payment's payouts")
    listing.add_argument("--json", action="store_true", help="JSON instead of a table")
    listing.set_defaults(run=run_list)

    show = actions.add_parser("show", help="one payout", description="One payout, the payer's number masked.")
    show.add_argument("id", metavar="ID", help="the payout id (its pspReference in Saleor)")
    show.add_argument("--json", action="store_true", help="JSON instead of text")
    show.set_defaults(run=run_show)

    resolve = actions.add_parser(
        "resolve",
        help="settle a payout held in needs_review",
        description=(
            "Settle a payout whose outcome the app could not tell, once you checked the Lengo portal's cash-ins: "
            "--paid-out reports REFUND_SUCCESS to Saleor, --not-paid-out reports REFUND_FAILURE and frees its amount."
        ),
    )
    resolve.add_argument("id", metavar="ID", help="the payout id")
    outcome = resolve.add_mutually_exclusive_group(required=True)
    outcome.add_argument("--paid-out", action="store_true", help="the money reached the payer")
    outcome.add_argument("--not-paid-out", action="store_true", help="no money left the balance for it")
    resolve.add_argument("--by", required=True, metavar="NAME", help="who checked")
    resolve.add_argument("--note", required=True, metavar="TEXT", help="what was checked")
    resolve.set_defaults(run=run_resolve)


def public(p: Payout) -> dict[str, Any]:
    """A payout as shown: never the payer's number in clear."""
    return {
        "id": p.id,
        "pspReference": p.psp_reference,
        "paymentId": p.payment_id,
        "saleorTransactionId": p.saleor_transaction_id,
        "state": p.state.value,
        "amount": format(p.amount, "f"),
        "currency": p.currency,
        "account": p.account_masked,
        "typeAccount": p.type_account,
        "cashinPayId": p.cashin_pay_id,
        "cashinStatus": p.cashin_status,
        "createdAt": _when(p.created_at),
        "requestStartedAt": _when(p.request_started_at),
        "failedAt": _when(p.failed_at),
        "releasedAt": _when(p.released_at),
        "nextCheckAt": _when(p.next_check_at),
        "reason": p.reason,
        "resolvedBy": p.resolved_by,
        "resolutionNote": p.resolution_note,
    }


def _when(t: float | None) -> str | None:
    return None if t is None else datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds")


def run_list(args: argparse.Namespace) -> int:
    async def work(services: Services) -> list[Payout]:
        async with services.db.read() as conn:
            return await store.listed(
                conn, state=PayoutState(args.status) if args.status else None, payment_id=args.payment
            )

    found = run_with_services(work, writes=False)
    if args.json:
        print(json.dumps([public(p) for p in found], indent=2, ensure_ascii=False))
        return 0
    if not found:
        print("no payouts")
        return 0
    for p in found:
        print(f"{p.id}  {p.state.value:<22} {format(p.amount, 'f'):>12} {p.currency}  to {p.account_masked}  "
              f"payment {p.payment_id}  {_when(p.created_at)}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    async def work(services: Services) -> Payout | None:
        async with services.db.read() as conn:
            return await store.get(conn, args.id)

    payout = run_with_services(work, writes=False)
    if payout is None:
        return fail(f"no payout {args.id!r}")
    shown = public(payout)
    if args.json:
        print(json.dumps(shown, indent=2, ensure_ascii=False))
    else:
        print("\n".join(f"{k:<20}{v}" for k, v in shown.items() if v is not None))
    return 0


def run_resolve(args: argparse.Namespace) -> int:
    async def work(services: Services) -> payout_resolve.Resolved | str:
        try:
            return await payout_resolve.resolve(services, args.id, paid_out=args.paid_out, by=args.by, note=args.note)
        except payout_resolve.ResolveError as exc:
            return exc.message

    done = run_with_services(work, writes=True)
    if isinstance(done, str):
        return fail(done)
    if not done.changed:
        print(f"payout {done.payout.id} was already resolved this way; nothing changed")
    elif done.payout.state == PayoutState.RESOLVED_PAID_OUT:
        print(f"payout {done.payout.id} resolved as paid out: REFUND_SUCCESS queued for Saleor (outbox)")
    else:
        print(f"payout {done.payout.id} resolved as not paid out: REFUND_FAILURE queued for Saleor (outbox)")
    return 0
