"""Which Saleor order a payment paid for: asked of Saleor once the charge was delivered.

A payment starts from a checkout; the order exists only once the checkout is
completed, after Saleor has the charge. So once the charge's outbox row is
delivered, a link row is made for the payment (by the relay, in the
transaction that records the delivery) and Saleor's transaction is
read (graphql/queries/transaction-owner.graphql, with the installation's
token — HANDLE_PAYMENTS is enough for the app's own transactions). An order
ends the search; only a checkout (or Saleor unreachable) is asked again,
with backoff, for up to GIVE_UP_SECONDS after the charge, then the checkout
is kept. Each due row is claimed with a lease (db/leases.py), so two
processes never ask for the same payment at once.

The customer's e-mail is stored encrypted, with a keyed hash for an exact
search and a masked form for display; never in clear.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import and_, exists, insert, select, update
from sqlalchemy.exc import IntegrityError

from saleor_lengo.backoff import doubling, jittered
from saleor_lengo.crypto import Cipher, DecryptionError, mask_email
from saleor_lengo.db.schema import outbox, payment_orders, payments
from saleor_lengo.logs import get_logger
from saleor_lengo.saleor import installations
from saleor_lengo.saleor.client import SaleorError
from saleor_lengo.pressure import RequestPressure
from saleor_lengo.needs import HasDb, HasClock, HasTimer, HasCipher, HasSaleor, HasLeases, HasCallbackQueue


class Needs(HasDb, HasClock, HasTimer, HasCipher, HasSaleor, HasLeases, HasCallbackQueue, Protocol):
    """What linking payments to their Saleor orders uses."""


log = get_logger(__name__)

DOCUMENT = "queries/transaction-owner.graphql"
BATCH_SIZE = 20
POLL_SECONDS = 10.0
MAX_DEFERRED_PASSES = 30  # 5 minutes of a sustained burst, then a pass runs anyway
FIRST_RETRY_SECONDS = 30.0
MAX_RETRY_SECONDS = 1800.0
GIVE_UP_SECONDS = 86400.0
# Bounds on what is kept from Saleor's answer (the columns' sizes).
MAX_ID = 255
MAX_NUMBER = 64
MAX_EMAIL = 254


@dataclass(frozen=True)
class Owner:
    order_id: str | None
    order_number: str | None
    checkout_id: str | None
    email: str | None


def normalise_email(email: str) -> str:
    """The form hashed for search: what the shopper typed, in any case, finds the same rows."""
    return email.strip().lower()


def email_columns(cipher: Cipher, email: str | None) -> dict[str, Any]:
    if not email:
        return {}
    clean = normalise_email(email)
    return {"email_enc": cipher.encrypt(clean), "email_hash": cipher.lookup_hash(clean), "email_masked": mask_email(clean)}


def _text(value: Any, limit: int) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def parse_owner(data: dict[str, Any]) -> Owner | None:
    """The transaction's order and checkout, bounded; None when Saleor does not know the transaction."""
    transaction = data.get("transaction")
    if not isinstance(transaction, dict):
        return None
    order = _object(transaction.get("order"))
    checkout = _object(transaction.get("checkout"))
    email = _text(order.get("userEmail"), MAX_EMAIL) or _text(checkout.get("email"), MAX_EMAIL)
    return Owner(
        order_id=_text(order.get("id"), MAX_ID),
        order_number=_text(order.get("number"), MAX_NUMBER),
        checkout_id=_text(checkout.get("id"), MAX_ID),
        email=email if email and "@" in email else None,
    )


# --- finding the work ------------------------------------------------------------


async def discover(deps: Needs, *, limit: int = 100) -> int:
    """A link row for each payment whose charge Saleor has, and that has none yet.

    The relay makes the row when it records a charge delivered; this finds the
    charges delivered before it did (an upgrade from a version without order
    links). It scans the whole outbox, so it runs once when the loop starts.
    """
    charged = (
        select(outbox.c.payment_id, outbox.c.delivered_at)
        .where(
            outbox.c.event_type == "CHARGE_SUCCESS",
            outbox.c.state == "delivered",
            outbox.c.payment_id.is_not(None),
            ~exists().where(payment_orders.c.payment_id == outbox.c.payment_id),
        )
        .order_by(outbox.c.id)
        .limit(limit)
    )
    async with deps.db.read() as conn:
        rows = (await conn.execute(charged)).all()
    made = 0
    now = deps.clock()
    for row in rows:
        try:
            async with deps.db.write() as conn:
                await conn.execute(insert(payment_orders).values(
                    payment_id=row.payment_id, charged_at=row.delivered_at or now, next_attempt_at=now,
                    created_at=now, updated_at=now,
                ))
            made += 1
        except IntegrityError:
            pass  # another process made it (a payment charged twice has one link)
    return made


async def claim(deps: Needs, *, limit: int = BATCH_SIZE, exclude: list[int] | None = None) -> list[int]:
    now = deps.clock()
    c = payment_orders.c
    due = select(c.id).where(c.done_at.is_(None), c.next_attempt_at <= now).order_by(c.next_attempt_at, c.id).limit(limit)
    if exclude:
        due = due.where(c.id.not_in(exclude))
    return await deps.leases.claim(payment_orders, due, now)


async def backfill(deps: Needs) -> int:
    """Every link row the relay did not make (see `discover`)."""
    made = 0
    while (batch := await discover(deps)) > 0:
        made += batch
    return made


async def run_once(deps: Needs, *, pressure: RequestPressure | None = None) -> int:
    """Look up the due links, a batch at a time; with `pressure`, stop between batches when a burst begins."""
    seen: list[int] = []
    while True:
        if pressure is not None and seen and pressure.busy():
            return len(seen)
        ids = await claim(deps, limit=BATCH_SIZE, exclude=seen)
        if not ids:
            return len(seen)
        seen.extend(ids)
        await asyncio.gather(*(work_safely(deps, link_id) for link_id in ids))


async def run_forever(deps: Needs) -> None:
    log.info("order_links_started")
    while True:
        try:
            await backfill(deps)
            break
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("order_links_backfill_failed")
            await deps.sleep(POLL_SECONDS)
    deferred = 0
    while True:
        # Not urgent (asked again for a day): while requests pour in, the Saleor lookups wait so
        # callbacks are confirmed first; never more than MAX_DEFERRED_PASSES in a row.
        if deps.callback_queue.pressure.busy() and deferred < MAX_DEFERRED_PASSES:
            deferred += 1
            await deps.sleep(POLL_SECONDS)
            continue
        deferred = 0
        try:
            await run_once(deps, pressure=deps.callback_queue.pressure)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("order_links_pass_failed")
        await deps.sleep(POLL_SECONDS)


async def work_safely(deps: Needs, link_id: int) -> None:
    try:
        with deps.leases.working(payment_orders, [link_id]):
            await work(deps, link_id)
    except Exception:
        log.exception("order_link_failed", link_id=link_id)


# --- one link ----------------------------------------------------------------------


async def _ask(deps: Needs, payment_id: str) -> Owner | str:
    """Saleor's answer for the payment's transaction, or why there is none."""
    async with deps.db.read() as conn:
        payment = (await conn.execute(
            select(payments.c.installation_id, payments.c.saleor_transaction_id).where(payments.c.id == payment_id)
        )).first()
        inst = await installations.get_by_id(conn, payment.installation_id) if payment else None
    if payment is None or inst is None or inst.removed_at is not None:
        return "the installation is gone"
    try:
        data = await deps.saleor.graphql(
            inst.saleor_api_url, inst.token(deps.cipher), DOCUMENT, {"id": payment.saleor_transaction_id}
        )
    except (SaleorError, DecryptionError) as exc:
        return str(exc)[:200]
    return parse_owner(data) or "Saleor does not know the transaction"


async def work(deps: Needs, link_id: int) -> None:
    async with deps.db.read() as conn:
        link = (await conn.execute(select(payment_orders).where(payment_orders.c.id == link_id))).first()
    if link is None or link.done_at is not None:
        return
    found = await _ask(deps, link.payment_id)
    now = deps.clock()
    values: dict[str, Any] = {"attempts": link.attempts + 1, "updated_at": now, "lease_owner": None, "lease_until": None}
    if isinstance(found, Owner):
        values.update(last_error=None, **email_columns(deps.cipher, found.email))
        if found.checkout_id:
            values["checkout_id"] = found.checkout_id
        if found.order_id:
            values.update(order_id=found.order_id, order_number=found.order_number)
    else:
        values["last_error"] = found
        log.warning("order_link_not_read", payment_id=link.payment_id, error=found)
    ordered = isinstance(found, Owner) and found.order_id is not None
    if ordered or now - link.charged_at >= GIVE_UP_SECONDS:
        values.update(done_at=now, next_attempt_at=None)
    else:
        delay = jittered(doubling(FIRST_RETRY_SECONDS, MAX_RETRY_SECONDS, link.attempts + 1))
        values["next_attempt_at"] = min(now + delay, link.charged_at + GIVE_UP_SECONDS)
    async with deps.db.write() as conn:
        await conn.execute(
            update(payment_orders).where(and_(payment_orders.c.id == link_id, payment_orders.c.done_at.is_(None))).values(values)
        )
