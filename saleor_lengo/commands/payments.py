"""`saleor-lengo payments list [--status S]`, `payments show ID` and `payments resolve ID …`.

`show` prints a payment's whole history: transitions, requests to Lengo,
callbacks (the payer's phone masked), status checks, the events reported to
Saleor with their delivery, and the action requests answered. Never a secret.
`resolve` settles a payment held in `needs_review` (flows/review.py).
"""

from __future__ import annotations

import argparse
import json
from decimal import Decimal
from typing import Any

from saleor_lengo.callbacks.kept import MAX_KEPT_PER_PAYMENT
from saleor_lengo.commands.common import fail, run_with_services
from saleor_lengo.payments import history
from saleor_lengo.flows import order_search, review
from saleor_lengo.payments.model import State
from saleor_lengo.services import Services


STATES = [s.value for s in State]


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("payments", help="list payments, show one payment's history", description=__doc__.splitlines()[0])
    actions = p.add_subparsers(dest="payments_command", required=True, metavar="ACTION")

    listing = actions.add_parser("list", help="the latest payments", description="The latest payments, newest first.")
    listing.add_argument(
        "--status", action="append", choices=STATES, metavar="STATE",
        help=f"only payments in this state (repeatable): {', '.join(STATES)}",
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
    print(json.dumps(rows, indent=2, ensure_ascii=False) if args.json else render_list(rows))
    return 0


def run_show(args: argparse.Namespace) -> int:
    async def work(services: Services) -> list[tuple[history.History, order_search.OrderLink | None]]:
        async with services.db.read() as conn:
            return [
                (await history.history(conn, p), await order_search.get(conn, p.id))
                for p in await history.find(conn, args.id)
            ]

    found = run_with_services(work, writes=False)
    if not found:
        return fail(f"no payment has the id, pay_id or Saleor transaction id {args.id!r}")
    if args.json:
        docs = [{**h.as_dict(), "order": order_doc(link)} for h, link in found]
        print(json.dumps(docs[0] if len(docs) == 1 else docs, indent=2, ensure_ascii=False))
    else:
        print("\n\n".join(render_history(h, link) for h, link in found))
    return 0


def order_doc(link: order_search.OrderLink | None) -> dict[str, Any] | None:
    if link is None:
        return None
    return {"orderId": link.order_id, "orderNumber": link.order_number, "checkoutId": link.checkout_id,
            "customerEmail": link.customer_email, "settled": link.settled}


def _order_lines(link: order_search.OrderLink | None) -> list[str]:
    """The Saleor order (or checkout) and the customer's masked e-mail, once learnt (flows/order_links.py)."""
    if link is None:
        return ["  Saleor order        - (not asked yet: the charge has not reached Saleor)"]
    if link.order_number:
        order = f"#{link.order_number} ({link.order_id})"
    elif link.checkout_id:
        order = f"none yet, checkout {link.checkout_id}" + ("" if not link.settled else " (no order after a day)")
    else:
        order = "-"
    return [f"  Saleor order        {order}", f"  customer e-mail     {link.customer_email or '-'} (masked)"]


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


# --- Rendering for the terminal ------------------------------------------------


def render_list(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no payments"
    header = ("created", "id", "state", "amount", "lengo", "pay_id", "saleor transaction")
    table = [header] + [
        (
            r["createdAt"] or "",
            r["id"],
            r["state"],
            history.money(r["amount"], r["currency"]),
            r["lengoStatus"] or "-",
            r["payId"] or "-",
            r["saleorTransactionId"],
        )
        for r in rows
    ]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header))]
    return "\n".join("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in table)


def _section(title: str, lines: list[str]) -> list[str]:
    if not lines:
        return ["", f"{title}: none"]
    return ["", f"{title} ({len(lines)})", *(f"  {line}" for line in lines)]


def render_history(h: history.History, link: order_search.OrderLink | None = None) -> str:
    p = h.payment
    amount = history.money(p["amount"], p["currency"])
    confirmed = f" (confirmed {history.money(p['confirmedAmount'], p['currency'])})" if p["confirmedAmount"] else ""
    via = f" via {p['gateway']}" if p["gateway"] else ""
    out = [
        f"Payment {p['id']} — {p['state']}",
        f"  amount              {amount}{confirmed}",
        f"  Saleor transaction  {p['saleorTransactionId']}",
        f"  Saleor              {p['saleorApiUrl'] or '-'}",
        f"  Lengo pay_id        {p['payId'] or '-'}",
        f"  Lengo status        {p['lengoStatus'] or '-'}{via}",
        f"  payer               {p['payer'] or '-'} (masked; in full in the Lengo merchant portal)",
        f"  configuration       {p['configuration'] or '-'} (site {p['websiteId'] or '-'}, {p['environment']})",
        f"  channel             {p['channel'] or '-'}",
        *_order_lines(link),
        f"  created             {p['createdAt']}",
        f"  expires             {p['expiresAt']}",
        f"  watched until       {p['watchUntil']}",
        f"  next check          {p['nextCheckAt'] or 'none'} (checked {p['checkAttempts']} times)",
    ]
    if Decimal(p["refundedAmount"]):
        out.append(f"  refunded by hand    {history.money(p['refundedAmount'], p['currency'])}")
    if p["failureReason"]:
        out.append(f"  reason              {p['failureReason']}")
    out += _section("Transitions", [f"{t['at']}  {t['from'] or '-'} → {t['to']}: {t['reason']}" for t in h.transitions])
    out += _section("Requests to Lengo", [_request_line(r) for r in h.lengo_requests])
    out += _section("Callbacks from Lengo", [_callback_line(c) for c in h.callbacks])
    if p.get("callbacksNotKept"):
        out.append(f"  … and {p['callbacksNotKept']} more received, counted but not kept (the first {MAX_KEPT_PER_PAYMENT} are)")
    out += _section("Status checks", [_check_line(s) for s in h.status_checks])
    out += _section(
        "Events reported to Saleor",
        [
            f"{e['at']}  {e['type']} {e['amount']} {e['currency']} psp {e['pspReference']}  [{_delivery(e)}]  {e['message']}"
            for e in h.events
        ],
    )
    out += _section(
        "Action requests from Saleor",
        [f"{a['at']}  {a['action']} → {a['result']} psp {a['pspReference']}  {a['message']}" for a in h.action_requests],
    )
    return "\n".join(out)


def _request_line(r: dict[str, Any]) -> str:
    http = f" HTTP {r['httpStatus']}" if r["httpStatus"] else ""
    return f"{r['at']}  {r['operation']} {r['outcome']}{http} {r['durationMs']:.0f} ms  {r['detail'] or ''}".rstrip()


def _callback_line(c: dict[str, Any]) -> str:
    error = f" ({c['lastError']})" if c["lastError"] else ""
    return f"{c['at']}  {c['status'] or '-'} {c['amount'] or ''} payer {c['client'] or '-'}  → {c['outcome']}{error}"


def _check_line(s: dict[str, Any]) -> str:
    seen = f"error: {s['error']}" if s["error"] else f"{s['lengoStatus']} {s['amount'] or ''}".rstrip()
    return f"{s['at']}  {s['source']}: {seen}"


def _delivery(e: dict[str, Any]) -> str:
    if e["delivery"] == "delivered":
        extra = " (already processed)" if e["alreadyProcessed"] else ""
        return f"delivered {e['deliveredAt']}{extra}"
    if e["delivery"] == "pending":
        return f"pending, {e['attempts']} attempts, next {e['nextAttemptAt']}" + (
            f", last error: {e['lastError']}" if e["lastError"] else ""
        )
    return f"{e['delivery']} after {e['attempts']} attempts" + (f": {e['lastError']}" if e["lastError"] else "")


