"""The reconciler: every payment ends, and Saleor learns how.

A callback can be lost for good and a shopper can walk away, so open
payments are asked about at Lengo's status endpoint — first
RECONCILE_INTERVAL_SECONDS after creation, then with a growing delay — and
what Lengo says goes through `lengo_status.apply_status`, the same state machine
and outbox as callbacks.

- At `expires_at` Lengo is asked once more; still unpaid, the payment
  expires (the state machine reports CHARGE_FAILURE "expired").
- Lengo cannot close a link: canceled, expired and failed payments are still
  checked every WATCH_INTERVAL_SECONDS until `watch_until`; a late success is
  reported by the state machine with "refund due". Then checking stops.
- Lengo unreachable: the payment stays as it is and is asked again later.
  Only when it could not be asked for the whole watch period does an open
  payment expire unconfirmed, so none stays open forever.
- A payment stuck in `creating` (the app stopped while asking Lengo for a
  link) fails after CREATING_STALE_SECONDS: its link never reached anyone.

Several reconcilers (replicas, `serve --workers N`, a CLI run) may run at
once. Each claims due payments with a lease (`lease_owner`, `lease_until`:
`db/leases.py`), taken under `FOR UPDATE SKIP LOCKED` on PostgreSQL and under
SQLite's `BEGIN IMMEDIATE` write lock, so a payment is checked by one of them
at a time; the lease is renewed while the check runs and is free as soon as
its process is known dead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Protocol

from sqlalchemy import and_, func, or_, select, update

from saleor_lengo import configurations, wakeups
from saleor_lengo.backoff import doubling
from saleor_lengo.db.schema import payments
from saleor_lengo.lengo.client import PaymentStatus
from saleor_lengo.lengo.errors import LengoError, LengoRefused
from saleor_lengo.logs import get_logger
from saleor_lengo.payments import store
from saleor_lengo.flows import lengo_status
from saleor_lengo.flows.lengo_access import lengo_client
from saleor_lengo.payments.model import WATCHED_STATES, Payment, State
from saleor_lengo.payments.state_machine import WATCH_INTERVAL_SECONDS, transition
from saleor_lengo.needs import HasDb, HasClock, HasTimer, HasSettings, HasCipher, HasHttp, HasLeases, HasWakeups, HasMetrics
from saleor_lengo.words import Words, words


class Needs(HasDb, HasClock, HasTimer, HasSettings, HasCipher, HasHttp, HasLeases, HasWakeups, HasMetrics, Protocol):
    """What the reconciler uses."""


log = get_logger(__name__)

SOURCE = "reconcile"
# Asking again soon is this loop's job: a short budget (retries included) keeps
# one unreachable Lengo from holding a pass up.
STATUS_BUDGET_SECONDS = 2.0
# Longest wait between two checks of an open payment (unless the interval is longer).
MAX_BACKOFF_SECONDS = 900.0
# A create that has not finished after this never will (Lengo's create times out after 12 s).
CREATING_STALE_SECONDS = 120.0
BATCH_SIZE = 20
CONCURRENCY = 8
# `run_forever` looks for due payments at least this often.
MAX_POLL_SECONDS = 15.0

EXPIRED_REASON = (
    "Payment expired unpaid: Lengo Pay still reported it {status} when its time ran out. "
    "If the shopper pays the old link later, it will be reported as charged, with a refund due."
)
EXPIRED_UNKNOWN_REASON = (
    "Payment expired: Lengo Pay does not know this payment ({error}). "
    "If it is paid after all, it will be reported as charged, with a refund due."
)
EXPIRED_UNCONFIRMED_REASON = (
    "Payment expired without confirmation: Lengo Pay could not be asked about it for its whole watch period "
    "({error}). Check the Lengo Pay merchant portal before shipping or refunding anything."
)
CREATE_LOST_REASON = words(
    "The request creating this payment at Lengo Pay never finished (the app stopped); a payment may or may not "
    "exist on Lengo's side, and its link was never shown to anyone. Check the Lengo portal before the shopper pays again."
)


def backoff_delay(interval: float, attempts: int) -> float:
    """Seconds until the next check of an open payment checked `attempts` times: interval, 2×, 4×, … capped."""
    return doubling(interval, max(interval, MAX_BACKOFF_SECONDS), attempts)


def _open_next_check(payment: Payment, interval: float, attempts: int, now: float) -> float:
    at = now + backoff_delay(interval, attempts)
    # Never sleep through the expiry: Lengo is asked once more right then.
    return min(at, payment.expires_at) if now < payment.expires_at else at


def _due(now: float, interval: float):  # type: ignore[no-untyped-def]
    c = payments.c
    return or_(
        and_(c.state == State.ACTION_REQUIRED.value, func.coalesce(c.next_check_at, c.created_at + interval) <= now),
        and_(c.state == State.CREATING.value, c.created_at <= now - CREATING_STALE_SECONDS),
        and_(
            c.state.in_([s.value for s in WATCHED_STATES]),
            c.next_check_at.is_not(None),
            c.next_check_at <= now,
        ),
    )


async def claim(deps: Needs, *, limit: int = BATCH_SIZE, exclude: Iterable[str] = ()) -> list[str]:
    """Lease up to `limit` due payments to this reconciler; their ids."""
    now = deps.clock()
    interval = deps.settings.reconcile_interval_seconds
    c = payments.c
    due = select(c.id).where(_due(now, interval)).order_by(func.coalesce(c.next_check_at, c.created_at), c.id).limit(limit)
    excluded = list(exclude)
    if excluded:
        due = due.where(c.id.not_in(excluded))
    return await deps.leases.claim(payments, due, now)


async def run_once(deps: Needs, *, batch: int = BATCH_SIZE) -> int:
    """One pass over every payment due now; how many were looked at."""
    seen: set[str] = set()
    while True:
        ids = await claim(deps, limit=batch, exclude=seen)
        if not ids:
            return len(seen)
        seen.update(ids)
        limit = asyncio.Semaphore(CONCURRENCY)

        async def one(payment_id: str) -> None:
            async with limit:
                await _check_safely(deps, payment_id)

        with deps.leases.working(payments, ids):
            await asyncio.gather(*(one(i) for i in ids))


async def run_forever(deps: Needs) -> None:
    """The background loop of `serve` and of `saleor-lengo reconcile`."""
    poll = max(1.0, min(deps.settings.reconcile_interval_seconds, MAX_POLL_SECONDS))
    log.info("reconciler_started", poll_seconds=poll)
    while True:
        deps.wakeups.reconciler.clear()
        try:
            checked = await run_once(deps)
            if checked:
                log.info("reconcile_pass", payments=checked)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The database may be briefly away; the next pass tries again.
            log.exception("reconcile_pass_failed")
        # Woken early when a dead process's payments were freed (db/leases.py).
        await wakeups.sleep(deps.wakeups.reconciler, poll)


async def _check_safely(deps: Needs, payment_id: str) -> None:
    try:
        await check_payment(deps, payment_id)
    except Exception:
        log.exception("reconcile_payment_failed", payment_id=payment_id)
        try:
            await _finish(deps, payment_id, deps.clock(), checked=False, error="internal error")
        except Exception:
            # The lease runs out by itself; another pass will take it.
            log.exception("reconcile_release_failed", payment_id=payment_id)


async def check_payment(deps: Needs, payment_id: str) -> None:
    """Ask Lengo about one claimed payment, apply the answer, schedule the next check."""
    now = deps.clock()
    async with deps.db.read() as conn:
        payment = await store.get(conn, payment_id)
        config = await configurations.get_by_id(conn, payment.configuration_id) if payment else None
    if payment is None:
        return

    if payment.state == State.CREATING:
        if not payment.pay_id:
            await _finish(deps, payment_id, now, checked=False, lost_create=True)
            return
        # The link exists (the app stopped before recording the rest): watch it like any other.
        async with deps.db.write() as conn:
            current = await store.get(conn, payment_id, lock=True)
            if current is not None and current.state == State.CREATING:
                await transition(conn, current, State.ACTION_REQUIRED, reason=words("Payment link recovered by the reconciler."), now=now)

    if payment.state in WATCHED_STATES and (now >= payment.watch_until or not payment.pay_id):
        await _finish(deps, payment_id, now, checked=False)
        return
    if config is None or not payment.pay_id:
        log.error("reconcile_cannot_check", payment_id=payment_id, reason="no configuration" if config is None else "no pay_id")
        await _finish(deps, payment_id, now, checked=False, error="cannot be checked")
        return

    try:
        client = lengo_client(deps, config, payment_id)
        # The client retries inside its budget; this bounds it whatever the transport.
        async with asyncio.timeout(STATUS_BUDGET_SECONDS + 0.5):
            status = await client.payment_status(payment.pay_id, budget=STATUS_BUDGET_SECONDS)
    except (LengoError, TimeoutError) as exc:
        error = exc.safe_message if isinstance(exc, LengoError) else f"no answer within {STATUS_BUDGET_SECONDS:g} s"
        await lengo_status.record_check_error(deps, payment_id, source=SOURCE, error=error)
        if await _finish(
            deps, payment_id, now, checked=True, error=error, unknown_to_lengo=isinstance(exc, LengoRefused)
        ):
            deps.wakeups.outbox.set()
        return
    outcome = await lengo_status.apply_status(deps, payment_id, status, source=SOURCE)
    expired = await _finish(deps, payment_id, now, checked=True, status=status)
    if outcome.outbox_id or expired:
        deps.wakeups.outbox.set()  # wake the relay: Saleor has news


async def _finish(
    deps: Needs,
    payment_id: str,
    now: float,
    *,
    checked: bool,
    status: PaymentStatus | None = None,
    error: str | None = None,
    unknown_to_lengo: bool = False,
    lost_create: bool = False,
) -> bool:
    """Expire what is due, schedule the next check and give the lease back, under the row lock.

    True when an event for Saleor was written (the payment expired).
    """
    interval = deps.settings.reconcile_interval_seconds
    async with deps.db.write() as conn:
        payment = await store.get(conn, payment_id, lock=True)
        if payment is None:
            return False
        reported = False
        attempts = payment.check_attempts + (1 if checked else 0)
        values: dict[str, object] = {"lease_until": None, "lease_owner": None, "check_attempts": attempts}

        if payment.state == State.CREATING and lost_create:
            # Watched like any failed payment: should its pay_id still be
            # recorded, a late payment is noticed; without one, the watch ends.
            await transition(conn, payment, State.FAILED, reason=CREATE_LOST_REASON, now=now)
        elif payment.state == State.ACTION_REQUIRED:
            reason = _expiry_reason(payment, now, status, error, unknown_to_lengo)
            if reason is not None:
                # The state machine reports CHARGE_FAILURE and schedules the watch.
                outcome = await transition(conn, payment, State.EXPIRED, reason=reason, now=now)
                reported = outcome.outbox_id is not None
                log.info("payment_expired", payment_id=payment_id)
            else:
                values["next_check_at"] = _open_next_check(payment, interval, attempts, now)
        elif payment.state in WATCHED_STATES:
            watching = payment.pay_id and now < payment.watch_until
            values["next_check_at"] = now + WATCH_INTERVAL_SECONDS if watching else None
            if not watching and payment.next_check_at is not None:
                log.info("payment_watch_ended", payment_id=payment_id, state=payment.state.value)
        else:
            values["next_check_at"] = None
        await store.update_fields(conn, payment_id, **values)
    return reported


def _expiry_reason(
    payment: Payment, now: float, status: PaymentStatus | None, error: str | None, unknown_to_lengo: bool
) -> Words | None:
    """Why this open payment expires now, or None while it stays open."""
    if now < payment.expires_at:
        return None
    if status is not None:
        # apply_status already moved paid and failed payments: this one is still unpaid.
        return words(EXPIRED_REASON, status=status.status[:40])
    if unknown_to_lengo and error:
        return words(EXPIRED_UNKNOWN_REASON, error=error)
    if now >= payment.watch_until:
        return words(EXPIRED_UNCONFIRMED_REASON, error=error or "no answer")
    return None
