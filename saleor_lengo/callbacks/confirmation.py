"""Confirming a recorded callback with Lengo's status endpoint, durably.

The callback route spawns `confirm_callback` right after recording (in a
burst — past `callback_queue.CONFIRMATIONS_QUEUED` waiting ones, or while requests
arrive faster than `pressure.BUSY_PER_SECOND` — it leaves the row due for the
loop below instead, which confirms claimed rows in batches). What
Lengo's status endpoint reports — asked with the payment's own
configuration — is applied through `flows.lengo_status.apply_status`; the
callback's own claim never changes anything. One payment's callbacks share
that check (`gate.py`): the confirmation holding the payment's gate asks
once and settles every open callback of the payment received before it
asked (`_settle_callbacks`); the others wait, due when the gate reopens. When the
endpoint cannot be reached, the row gets `next_attempt_at` (exponential
backoff with jitter) and the retry loop (`run_forever`, a background task of
`serve`, which sleeps until the next row is due) picks it up from the
table, so a restart forgets nothing.

A callback being confirmed is leased to its process (`db/leases.py`): the
heartbeat renews the lease while the confirmation runs, and another
process's loop takes the row over as soon as that process is known dead.

Callbacks that arrived before the checkout stored the pay_id wait as
`waiting_pay_id`: the checkout calls `confirm_waiting_callbacks` once the
pay_id is committed, and the retry loop looks at them every
`WAITING_RECHECK_SECONDS` in case it did not.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any, Protocol

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from saleor_lengo import configurations
from saleor_lengo.callbacks import gate, kept
from saleor_lengo.callbacks.receive import (
    ABANDONED,
    CONFIRMED,
    DUPLICATE,
    IGNORED,
    MISMATCH,
    RECORDED,
    UNCONFIRMED,
    WAITING_PAY_ID,
    WAITING_RECHECK_SECONDS,
)
from saleor_lengo.callbacks.outcomes import OPEN
from saleor_lengo.backoff import doubling, jittered
from saleor_lengo.crypto import DecryptionError
from saleor_lengo.db import leases
from saleor_lengo.db.engine import Tx
from saleor_lengo.db.prepared import prepared
from saleor_lengo.db.schema import callbacks
from saleor_lengo.lengo import vocabulary
from saleor_lengo.lengo.errors import LengoError
from saleor_lengo.logs import get_logger
from saleor_lengo.payments import store
from saleor_lengo.flows.lengo_status import apply_status, record_check_error
from saleor_lengo.flows.lengo_access import lengo_client
from saleor_lengo.payments.model import Payment, State
from saleor_lengo.needs import HasDb, HasClock, HasTimer, HasCipher, HasHttp, HasLeases, HasWakeups, HasMetrics, HasBackground, HasCallbackQueue


class Needs(HasDb, HasClock, HasTimer, HasCipher, HasHttp, HasLeases, HasWakeups, HasMetrics, HasBackground, HasCallbackQueue, Protocol):
    """What confirming a callback with Lengo uses (and what the flows it calls use)."""


log = get_logger(__name__)

# Time given to one confirmation's status call, its own quick retries
# included; beyond it the durable retry below takes over, so a background
# task never lingers on an unreachable Lengo.
STATUS_BUDGET_SECONDS = 1.0
FIRST_RETRY_SECONDS = 15.0
MAX_RETRY_SECONDS = 3600.0
# About a day of retries; after that the reconciler's polling is what is left.
MAX_ATTEMPTS = 30
# A callback still waiting for its pay_id after this long belongs to a create
# that never finished: it is set aside.
WAITING_GIVE_UP_SECONDS = 86400.0
POLL_SECONDS = 10.0
MIN_WAIT_SECONDS = 0.1
BATCH = 50
# While requests keep arriving faster than pressure.BUSY_PER_SECOND, the loop
# confirms this many per batch (a batch at most every MAX_HOLD_SECONDS): the
# answers get the CPU, and confirmations still go on.
BATCH_IN_BURST = 10

# A confirmation's end gives the row's lease back.
_UNLEASED: dict[str, Any] = {"lease_owner": None, "lease_until": None}

# Built once (db/prepared.py): every confirmation runs them, and building a
# statement costs SQLAlchemy more than SQLite takes to run it.
_BY_ID = prepared(select(callbacks).where(callbacks.c.id == bindparam("b_id")))
# Only while the row still has the outcome we read; the columns to set come with each execution.
_SET = prepared(update(callbacks).where(callbacks.c.id == bindparam("b_id"), callbacks.c.outcome == bindparam("b_expected")))
# The same, counting one more attempt in SQL (another worker's count is never overwritten).
_SET_COUNTED = prepared(_SET.values(attempts=callbacks.c.attempts + 1))


def retry_delay(attempts: int, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter: ~15 s, 30 s, 1 min … capped at an hour."""
    return jittered(doubling(FIRST_RETRY_SECONDS, MAX_RETRY_SECONDS, attempts), rng)


async def confirm_callback(deps: Needs, callback_id: int, *, gate_claimed: bool = False) -> str | None:
    """Confirm one `recorded` callback; its new outcome, or None when it stays open (retry or wait).

    `gate_claimed`: the caller claimed the payment's gate for it (the callback
    route does, as it records the callback); otherwise it is claimed here.
    """
    with deps.leases.working(callbacks, [callback_id]):
        # The whole confirmation in a slot, its database work included: in a
        # burst (a replica taking over a dead one's callbacks) hundreds of
        # confirmations at once would starve the loop and the connection
        # pool, and the answers with them. The status call's budget starts
        # once Lengo is asked, not while waiting here.
        async with deps.callback_queue.slots:
            return await _confirm(deps, callback_id, gate_claimed)


async def _confirm(deps: Needs, callback_id: int, gate_claimed: bool) -> str | None:
    async with deps.db.read() as conn:
        row = (await conn.execute(_BY_ID, {"b_id": callback_id})).first()
        if row is None or row.outcome != RECORDED:
            return None  # finished meanwhile by another worker
        payment = await store.get(conn, row.payment_id)
        config = await configurations.get_by_id(conn, payment.configuration_id) if payment else None
    if payment is None:
        return None
    if payment.pay_id is None or payment.state == State.CREATING:
        # Only reachable through a direct call: the pay_id (or the move out
        # of `creating`) is not committed yet. A transition now would be refused.
        async with deps.db.write() as conn:
            await _set(conn, callback_id, RECORDED, outcome=WAITING_PAY_ID,
                       next_attempt_at=deps.clock() + WAITING_RECHECK_SECONDS, **_UNLEASED)
        return None
    if row.pay_id != payment.pay_id:
        return await _finish(deps, row, MISMATCH, "pay_id differs from the payment's pay_id")
    if payment.state == State.SUCCEEDED:
        # Nothing can change a succeeded payment: no need to ask Lengo. A
        # callback arriving after the status check confirmed the payment is
        # Lengo's ordinary late report, so it is no error.
        return await _finish(deps, row, DUPLICATE, None)

    # The payment's callbacks share one check (gate.py): this one asks Lengo, or waits for the next.
    in_flight = deps.callback_queue.checks_in_flight
    asked_at = deps.clock()
    if not gate_claimed:
        async with deps.db.write() as conn:
            reopens = await gate.claim(conn, payment.id, asked_at, in_flight=payment.id in in_flight)
            if reopens is not None:
                await _set(conn, row.id, RECORDED, next_attempt_at=reopens, **_UNLEASED)
        if reopens is not None:
            deps.callback_queue.due(reopens)
            return None
    in_flight.add(payment.id)
    try:
        if config is None:
            raise LookupError("the payment's configuration is gone")
        client = lengo_client(deps, config, payment.id)
        # The client keeps its budget; this bounds it whatever the transport, far within the gate's interval.
        async with asyncio.timeout(STATUS_BUDGET_SECONDS + 0.5):
            status = await client.payment_status(payment.pay_id, budget=STATUS_BUDGET_SECONDS)
    except (LengoError, DecryptionError, LookupError, ValueError, TimeoutError) as exc:
        reason = _reason(exc)
        await record_check_error(deps, payment.id, source="callback", error=reason)
        return await _retry_later(deps, row, reason)
    finally:
        in_flight.discard(payment.id)

    result = await apply_status(deps, payment.id, status, source="callback")
    if result.outbox_id:
        deps.wakeups.outbox.set()
    return await _settle_callbacks(deps, row, asked_at, status.status, result.payment.state)


def _reason(exc: Exception) -> str:
    if isinstance(exc, LengoError):
        return exc.safe_message
    if isinstance(exc, TimeoutError):
        return f"Lengo Pay did not answer within {STATUS_BUDGET_SECONDS + 0.5:g} s"
    return str(exc)


# Every open callback of the payment received before Lengo was asked, and the asking one.
_SETTLED_BY_CHECK = select(callbacks.c.id, callbacks.c.status).where(
    callbacks.c.payment_id == bindparam("b_payment_id"),
    callbacks.c.outcome == RECORDED,
    or_(callbacks.c.received_at <= bindparam("b_asked_at"), callbacks.c.id == bindparam("b_id")),
)
_SETTLE = (
    update(callbacks)
    .where(callbacks.c.id == bindparam("b_id"), callbacks.c.outcome == RECORDED)
    .values(
        outcome=bindparam("b_outcome"),
        last_error=bindparam("b_error"),
        processed_at=bindparam("b_at"),
        next_attempt_at=None,
        attempts=callbacks.c.attempts + 1,
        # Settled: whoever held a row's lease has nothing left to do with it.
        lease_owner=None,
        lease_until=None,
    )
)


async def _settle_callbacks(deps: Needs, row: Any, asked_at: float, lengo_status: str, state: State) -> str | None:
    """Settle every callback this check answers: confirmed where Lengo agrees, unconfirmed where not; `row`'s outcome."""
    kind = vocabulary.classify(lengo_status)
    now = deps.clock()
    async with deps.db.write() as conn:
        params = {"b_payment_id": row.payment_id, "b_asked_at": asked_at, "b_id": row.id}
        settled = (await conn.execute(_SETTLED_BY_CHECK, params)).all()
        outcomes = {r.id: CONFIRMED if vocabulary.classify(r.status) == kind else UNCONFIRMED for r in settled}
        if settled:
            await conn.execute(_SETTLE, [
                {
                    "b_id": r.id,
                    "b_outcome": outcomes[r.id],
                    "b_at": now,
                    "b_error": None if outcomes[r.id] == CONFIRMED
                    else f"the callback said {r.status}, Lengo's status endpoint says {lengo_status[:64]}",
                }
                for r in settled
            ])
        dropped = await kept.trim(conn, row.payment_id)
    unconfirmed = sum(1 for outcome in outcomes.values() if outcome == UNCONFIRMED)
    if unconfirmed:
        # Forged, or sent before Lengo's own status moved: either way only what
        # Lengo reports was applied (here: to a payment now `state`).
        log.warning("callback_unconfirmed", callback_id=row.id, payment_id=row.payment_id, callbacks=unconfirmed,
                    callback_status=row.status, lengo_status=lengo_status[:64], state=state.value)
    log.info("callback_confirmation", callback_id=row.id, payment_id=row.payment_id, outcome=outcomes.get(row.id),
             callbacks=len(outcomes), confirmed=len(outcomes) - unconfirmed, not_kept=dropped)
    for outcome in outcomes.values():
        deps.metrics.callback_outcome(outcome)
    return outcomes.get(row.id)


_WAITING = prepared(
    select(callbacks.c.id)
    .where(callbacks.c.payment_id == bindparam("b_payment_id"), callbacks.c.outcome == WAITING_PAY_ID)
    .limit(1)
)


async def has_waiting_callbacks(conn: Tx, payment_id: str) -> bool:
    """Cheap check inside the caller's transaction, so the common case opens no second one (every checkout runs it)."""
    return (await conn.execute(_WAITING, {"b_payment_id": payment_id})).first() is not None


async def confirm_waiting_callbacks(deps: Needs, payment_id: str) -> int:
    """Confirm the callbacks that arrived before this payment's pay_id was stored.

    For the checkout code, to call right after the transaction that stored
    the pay_id has committed (not inside it: this opens its own). Cheap: one
    short transaction; the Lengo calls run in the background. Returns how
    many callbacks were scheduled.
    """
    now = deps.clock()
    owner = await deps.leases.ensure()
    async with deps.db.write() as conn:
        payment = await store.get(conn, payment_id, lock=True)
        if payment is None or payment.pay_id is None:
            return 0
        query = select(callbacks).where(callbacks.c.payment_id == payment_id, callbacks.c.outcome == WAITING_PAY_ID)
        rows = (await conn.execute(_locked(deps, query))).all()
        ids = [row.id for row in rows if await _promote(conn, row, payment, now, owner, deps.leases.until(now))]
    for callback_id in ids:
        deps.background.spawn(confirm_callback(deps, callback_id), name="callback_confirmation")
    return len(ids)


async def run_due_once(deps: Needs, *, limit: int = BATCH) -> int:
    """Claim up to `limit` callbacks due for (another) confirmation and confirm them; how many were tried."""
    now = deps.clock()
    claimed: list[int] = []
    owner = await deps.leases.ensure()
    async with deps.db.write() as conn:
        query = (
            select(callbacks)
            .where(callbacks.c.outcome.in_(OPEN), callbacks.c.next_attempt_at <= now, leases.free(callbacks, now))
            .order_by(callbacks.c.next_attempt_at, callbacks.c.id)
            .limit(limit)
        )
        found = (await conn.execute(_locked(deps, query))).all()
        until = deps.leases.until(now)
        for row in found:
            if row.outcome == WAITING_PAY_ID:
                payment = await store.get(conn, row.payment_id, lock=True)
                if payment is None or not await _promote(conn, row, payment, now, owner, until):
                    continue
            else:
                # Leased to this process: another replica's loop will not take it meanwhile.
                await _set(conn, row.id, RECORDED, lease_owner=owner, lease_until=until)
            claimed.append(row.id)
    # At once: each runs within `deps.callback_queue.slots`.
    await asyncio.gather(*(_confirm_claimed(deps, callback_id) for callback_id in claimed))
    return len(claimed)


async def _confirm_claimed(deps: Needs, callback_id: int) -> None:
    try:
        await confirm_callback(deps, callback_id)
    except Exception:
        # The next heartbeat gives the lease back (db/leases.py) and the row
        # is tried again; one bad row must not stop the others.
        log.exception("callback_confirmation_failed", callback_id=callback_id)


async def run_forever(deps: Needs) -> None:
    """The durable retry loop (a background task of `serve`)."""
    queue = deps.callback_queue
    while True:
        queue.loop_awake()
        try:
            # In a burst of requests, the answers first (pressure.py): a short hold, a small batch.
            await queue.pressure.until_quiet()
            limit = BATCH_IN_BURST if queue.pressure.busy() else BATCH
            tried = await run_due_once(deps, limit=limit)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("callback_retry_loop_failed")
            tried, limit = 0, BATCH
        if tried < limit:
            # Until the next row is due (a callback waiting for its payment's
            # gate: gate.py), or woken early by the callback route.
            wait = await _until_next_due(deps)
            await queue.loop_sleeps(deps.clock() + wait, wait)


# Finished rows have no next_attempt_at: the index on it holds the open ones.
_NEXT_DUE = select(func.min(callbacks.c.next_attempt_at)).where(
    callbacks.c.next_attempt_at.is_not(None), callbacks.c.outcome.in_(OPEN)
)


async def _until_next_due(deps: Needs) -> float:
    try:
        async with deps.db.read() as conn:
            due: float | None = (await conn.execute(_NEXT_DUE)).scalar()
    except (SQLAlchemyError, OSError):
        return POLL_SECONDS
    if due is None:
        return POLL_SECONDS
    # Not under MIN_WAIT_SECONDS: a row due now is another replica's, being claimed.
    return min(POLL_SECONDS, max(MIN_WAIT_SECONDS, due - deps.clock()))


# --- Row updates -------------------------------------------------------------


def _locked(deps: Needs, query: Any) -> Any:
    # PostgreSQL: replicas skip each other's rows. SQLite: BEGIN IMMEDIATE
    # already makes this transaction the only writer.
    return query if deps.db.is_sqlite else query.with_for_update(skip_locked=True, of=callbacks)


async def _promote(conn: Tx, row: Any, payment: Payment, now: float, owner: str, lease_until: float) -> bool:
    """A waiting callback whose payment may now have a pay_id: True when it is ready to confirm."""
    if payment.pay_id is None or payment.state == State.CREATING:
        if payment.state != State.CREATING:
            await _set(conn, row.id, WAITING_PAY_ID, outcome=IGNORED, processed_at=now,
                       last_error="the payment was never created on Lengo Pay")
        elif now - row.received_at > WAITING_GIVE_UP_SECONDS:
            await _set(conn, row.id, WAITING_PAY_ID, outcome=IGNORED, processed_at=now,
                       last_error="no pay_id was ever stored for this payment")
        else:
            await _set(conn, row.id, WAITING_PAY_ID, next_attempt_at=now + WAITING_RECHECK_SECONDS)
        return False
    if row.pay_id != payment.pay_id:
        await _set(conn, row.id, WAITING_PAY_ID, outcome=MISMATCH, processed_at=now, next_attempt_at=None,
                   last_error="pay_id differs from the payment's pay_id")
        log.warning("callback_suspicious", reason="pay_id mismatch", callback_id=row.id, payment_id=payment.id,
                    received_pay_id=(row.pay_id or "")[:64], stored_pay_id=payment.pay_id)
        return False
    await _set(conn, row.id, WAITING_PAY_ID, outcome=RECORDED, next_attempt_at=now, lease_owner=owner,
               lease_until=lease_until)
    return True


async def _set(conn: Tx, callback_id: int, expected: str, *, count_attempt: bool = False, **values: Any) -> bool:
    """Update a row only if it still has the outcome we read: never overwrite another worker's result."""
    statement = _SET_COUNTED if count_attempt else _SET
    result = await conn.execute(statement, {"b_id": callback_id, "b_expected": expected, **values})
    return bool(result.rowcount)


async def _finish(deps: Needs, row: Any, outcome: str, error: str | None) -> str:
    async with deps.db.write() as conn:
        await _set(conn, row.id, RECORDED, outcome=outcome, processed_at=deps.clock(), next_attempt_at=None,
                   last_error=error, count_attempt=True, **_UNLEASED)
        await kept.trim(conn, row.payment_id)
    log.info("callback_confirmation", callback_id=row.id, payment_id=row.payment_id, outcome=outcome)
    deps.metrics.callback_outcome(outcome)
    return outcome


async def _retry_later(deps: Needs, row: Any, reason: str) -> str | None:
    now = deps.clock()
    async with deps.db.write() as conn:
        attempts = (
            await conn.execute(select(callbacks.c.attempts).where(callbacks.c.id == row.id))
        ).scalar_one() + 1
        if attempts >= MAX_ATTEMPTS:
            await _set(conn, row.id, RECORDED, outcome=ABANDONED, attempts=attempts, processed_at=now,
                       next_attempt_at=None, last_error=reason[:500], **_UNLEASED)
            log.error("callback_confirmation_abandoned", callback_id=row.id, payment_id=row.payment_id,
                      attempts=attempts, reason=reason)
            deps.metrics.callback_outcome(ABANDONED)
            return ABANDONED
        due = now + retry_delay(attempts)
        await _set(conn, row.id, RECORDED, attempts=attempts, next_attempt_at=due, last_error=reason[:500], **_UNLEASED)
    log.warning("callback_confirmation_retry", callback_id=row.id, payment_id=row.payment_id,
                attempts=attempts, retry_in=round(due - now, 1), reason=reason)
    return None


__all__ = ["confirm_callback", "confirm_waiting_callbacks", "retry_delay", "run_due_once", "run_forever"]
