"""`saleor-lengo payments list [--status S]`, `payments show ID` and `payments resolve ID …`.

`show` prints a payment's whole history: transitions, requests to Lengo,
callbacks (the payer's phone masked), status checks, the events reported to
Saleor with their delivery, and the action requests answered. Never a secret.
`resolve` settles a payment held in `needs_review` (payments/review.py).
"""

from __future__ import annotations

import argparse
import json

from saleor_lengo.commands.common import fail, run_with_services
from saleor_lengo.payments import history, review
from saleor_lengo.payments.model import State
from saleor_lengo.services import Services


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("payments", help="list payments, show one payment's history", description=__doc__.splitlines()[0])
    actions = p.add_subparsers(dest="payments_command", required=True, metavar="ACTION")

    listing = actions.add_parser("list", help="the latest payments", description="The latest payments, newest first.")
    listing.add_argument(
        "--status", action="append", choices=history.STATES, metavar="STATE",
        help=f"only payments in this state (repeatable): {', '.join(history.STATES)}",
    )
    listing.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    listing.add_argument("--json", action="store_true", help="JSON instead of a table")
    listing.set_defaults(run=run_list)

    show = actions.add_parser(
        "show", help="one payment's whole history", description="One payment's whole history, never a secret."
    )
    show.add_argument("id", metavar="ID", help="the payment id, its Lengo pay_id or its Saleor transaction id")
    show.add_argument("--json", action="store_true", help="JSON instead of text")
    show.set_defaults(run=run_show)

    resolve = actions.add_parser(
        "resolve",
        help="settle a payment held in needs_review",
        description=(
            "Settle a payment Lengo reported paid with an amount that cannot be right, once you have checked it "
            "on the Lengo portal: --charged reports a CHARGE_SUCCESS of that amount to Saleor, --not-charged "
            "closes it and reports nothing. Both are kept in the payment's history with the note."
        ),
    )
    resolve.add_argument("id", metavar="ID", help="the payment id, its Lengo pay_id or its Saleor transaction id")
    outcome = resolve.add_mutually_exclusive_group(required=True)
    outcome.add_argument("--charged", metavar="AMOUNT", help="the amount Lengo really charged, in the payment's currency")
    outcome.add_argument("--not-charged", action="store_true", help="nothing was charged: close it, report nothing")
    resolve.add_argument("--note", required=True, help="what you checked (kept in the payment's history)")
    resolve.set_defaults(run=run_resolve)


def run_list(args: argparse.Namespace) -> int:
    async def work(services: Services) -> list[dict[str, object]]:
        async with services.db.read() as conn:
            return await history.list_payments(conn, states=args.status, limit=max(1, args.limit))

    rows = run_with_services(work, writes=False)
    print(json.dumps(rows, indent=2, ensure_ascii=False) if args.json else history.render_list(rows))
    return 0


def run_show(args: argparse.Namespace) -> int:
    async def work(services: Services) -> list[history.History]:
        async with services.db.read() as conn:
            return [await history.history(conn, p) for p in await history.find(conn, args.id)]

    found = run_with_services(work, writes=False)
    if not found:
        return fail(f"no payment has the id, pay_id or Saleor transaction id {args.id!r}")
    if args.json:
        docs = [h.as_dict() for h in found]
        print(json.dumps(docs[0] if len(docs) == 1 else docs, indent=2, ensure_ascii=False))
    else:
        print("\n\n".join(history.render_history(h) for h in found))
    return 0


def run_resolve(args: argparse.Namespace) -> int:
    async def work(services: Services) -> review.Resolution | str:
        async with services.db.read() as conn:
            found = await history.find(conn, args.id)
        if len(found) != 1:
            return f"no payment has the id, pay_id or Saleor transaction id {args.id!r}" if not found else (
                f"{len(found)} payments match {args.id!r}: give the payment id"
            )
        try:
            return await review.resolve(
                services, found[0].id, charged=args.charged, note=args.note, by="the command line"
            )
        except review.ReviewError as exc:
            return exc.message

    done = run_with_services(work, writes=True)
    if isinstance(done, str):
        return fail(done)
    p = done.payment
    if not done.changed:
        print(f"payment {p.id} was already resolved this way ({p.state.value}); nothing changed")
    elif p.state == State.SUCCEEDED:
        print(f"payment {p.id} resolved: CHARGE_SUCCESS of {p.confirmed_amount} {p.currency} queued for Saleor (outbox)")
    else:
        print(f"payment {p.id} resolved: closed, nothing reported to Saleor")
    return 0
