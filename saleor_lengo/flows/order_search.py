"""Reading order links (flows/order_links.py): a payment's order as shown, and the payments a search term finds."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, false, or_, select

from saleor_lengo.crypto import Cipher
from saleor_lengo.db.engine import Tx
from saleor_lengo.db.schema import payment_orders
from saleor_lengo.flows.order_links import normalise_email

# An e-mail is at most 254 characters; longer terms are nothing anyone stored.
MAX_TERM = 320


@dataclass(frozen=True)
class OrderLink:
    """What staff see: never the clear e-mail, only its masked form."""

    order_id: str | None
    order_number: str | None
    checkout_id: str | None
    customer_email: str | None  # masked
    settled: bool


async def get(conn: Tx, payment_id: str) -> OrderLink | None:
    row = (await conn.execute(select(payment_orders).where(payment_orders.c.payment_id == payment_id))).first()
    if row is None:
        return None
    return OrderLink(row.order_id, row.order_number, row.checkout_id, row.email_masked, row.done_at is not None)


def matching(cipher: Cipher, term: str) -> Select[tuple[str]]:
    """Ids of the payments whose order id or number (`#1042` or `1042`), checkout id or customer
    e-mail (exact, any case, through its keyed hash under every key) is `term`."""
    term = term.strip()
    c = payment_orders.c
    if len(term) > MAX_TERM:
        return select(c.payment_id).where(false())
    found = [c.order_id == term, c.checkout_id == term, c.order_number == term.removeprefix("#").strip()]
    if "@" in term:
        found.append(c.email_hash.in_(cipher.lookup_hashes(normalise_email(term))))
    return select(c.payment_id).where(or_(*found))
