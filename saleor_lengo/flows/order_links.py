"""Which Saleor order a payment paid for: asked of Saleor once the charge was delivered.

A payment starts from a checkout; the order exists only once the checkout is
completed, after Saleor has the charge. So once the charge's outbox row is
delivered, a link row is made for the payment (by the relay, in the
transaction that records the delivery) and Saleor's transaction is
read (graphql/queries/transaction-owner.graphql, with the installation's
token — HANDLE_PAYMENTS is enough for the app's own transactions). An order
ends the search; only a checkout (or Saleor unreachable) is asked again,
with backoff, for up to GIVE_UP_SECONDS after the charge, then the checkout
is kept. Due rows are claimed a batch at a time with a lease (db/leases.py),
so two processes never ask for the same payment at once, and a batch's
lookups share one read, one write and, where Saleor takes batched requests,
one request per QUERIES_PER_REQUEST lookups.

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
from saleor_lengo.saleor.client import SaleorBatchRefused, SaleorError
from saleor_lengo.saleor.installations import Installation
from saleor_lengo.pressure import RequestPressure
from saleor_lengo.needs import HasDb, HasClock, HasTimer, HasCipher, HasSaleor, HasLeases, HasCircuits, HasCallbackQueue


class Needs(HasDb, HasClock, HasTimer, HasCipher, HasSaleor, HasLeases, HasCircuits, HasCallbackQueue, Protocol):
    """What linking payments to their Saleor orders uses."""


log = get_logger(__name__)

DOCUMENT = "queries/transaction-owner.graphql"
BATCH_SIZE = 20
# Lookups per batched request, as the relay's reports: Saleor runs a batch's operations one after another.
QUERIES_PER_REQUEST = 10
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
    done = 0
    # A worked link is due again no sooner than FIRST_RETRY_SECONDS / 2 later, so only a batch that
    # failed needs leaving out of the pass's next claims: excluding every link seen made each claim
    # carry all the pass's ids, quadratic over a backlog of thousands.
    failed: list[int] = []
    while True:
        if pressure is not None and done and pressure.busy():
            return done
        ids = await claim(deps, limit=BATCH_SIZE, exclude=failed)
        if not ids:
            return done
        done += len(ids)
        if not await work_safely(deps, ids):
            failed.extend(ids)


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


async def work_safely(deps: Needs, link_ids: list[int]) -> bool:
    """Whether the batch was worked (its links then due again only after a backoff)."""
    try:
        with deps.leases.working(payment_orders, link_ids):
            await work(deps, link_ids)
    except Exception:
        log.exception("order_links_failed", links=len(link_ids))
        return False
    return True


# --- a batch of links ----------------------------------------------------------------
# One read for the batch, Saleor asked per installation (one token decryption; a
# batched request of up to QUERIES_PER_REQUEST lookups where Saleor takes them), one
# write for the batch: a lookup costs a fraction of a callback's work, not several
# transactions and a request of its own.


@dataclass(frozen=True)
class _Due:
    link_id: int
    payment_id: str
    attempts: int
    charged_at: float
    installation_id: int | None
    transaction_id: str | None


async def work(deps: Needs, link_ids: list[int]) -> None:
    c, p = payment_orders.c, payments.c
    query = (
        select(c.id, c.payment_id, c.attempts, c.charged_at, p.installation_id, p.saleor_transaction_id)
        .select_from(payment_orders.outerjoin(payments, p.id == c.payment_id))
        .where(c.id.in_(link_ids), c.done_at.is_(None))
    )
    async with deps.db.read() as conn:
        due = [_Due(*row) for row in (await conn.execute(query)).all()]
        by_id = {i: await installations.get_by_id(conn, i) for i in {d.installation_id for d in due} if i is not None}
    found: dict[int, Owner | str] = {}
    groups: dict[int | None, list[_Due]] = {}
    for d in due:
        groups.setdefault(d.installation_id, []).append(d)
    for installation_id, links in groups.items():
        inst = by_id.get(installation_id) if installation_id is not None else None
        answers = await _ask(deps, inst, [d.transaction_id or "" for d in links])
        found.update({d.link_id: answer for d, answer in zip(links, answers, strict=True)})
    now = deps.clock()
    # Worked out (e-mails encrypted) before the write transaction opens: it holds SQLite's lock.
    settled = [(d.link_id, _settled(deps, d, found[d.link_id], now)) for d in due]
    async with deps.db.write() as conn:
        for link_id, values in settled:
            await conn.execute(
                update(payment_orders)
                .where(and_(payment_orders.c.id == link_id, payment_orders.c.done_at.is_(None)))
                .values(values)
            )


async def _ask(deps: Needs, inst: Installation | None, transaction_ids: list[str]) -> list[Owner | str]:
    """Saleor's answer for each transaction of one installation, or why there is none."""
    if inst is None or inst.removed_at is not None:
        return ["the installation is gone"] * len(transaction_ids)
    try:
        token = inst.token(deps.cipher)
    except DecryptionError as exc:
        return [str(exc)[:200]] * len(transaction_ids)
    answers: list[Owner | str] = []
    for start in range(0, len(transaction_ids), QUERIES_PER_REQUEST):
        chunk = transaction_ids[start : start + QUERIES_PER_REQUEST]
        batched = await _ask_batch(deps, inst, token, chunk) if len(chunk) > 1 else None
        if batched is None:
            batched = await asyncio.gather(*(_ask_one(deps, inst, token, t) for t in chunk))
        answers += batched
    return answers


async def _ask_batch(deps: Needs, inst: Installation, token: str, chunk: list[str]) -> list[Owner | str] | None:
    """The chunk's answers in one batched request; None when this Saleor takes no batches (ask one by one)."""
    if not deps.circuits.takes_batches(inst.id, deps.clock()):
        return None
    try:
        results = await deps.saleor.graphql_batch(inst.saleor_api_url, token, DOCUMENT, [{"id": t} for t in chunk])
    except SaleorBatchRefused:
        deps.circuits.batches_refused(inst.id, deps.clock())
        return None
    except SaleorError as exc:
        return [str(exc)[:200]] * len(chunk)
    return [str(r)[:200] if isinstance(r, SaleorError) else _owner(r) for r in results]


async def _ask_one(deps: Needs, inst: Installation, token: str, transaction_id: str) -> Owner | str:
    try:
        return _owner(await deps.saleor.graphql(inst.saleor_api_url, token, DOCUMENT, {"id": transaction_id}))
    except SaleorError as exc:
        return str(exc)[:200]


def _owner(data: dict[str, Any]) -> Owner | str:
    return parse_owner(data) or "Saleor does not know the transaction"


def _settled(deps: Needs, link: _Due, found: Owner | str, now: float) -> dict[str, Any]:
    """The link row's new values after Saleor's answer (or its absence)."""
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
    return values
