"""The payout worker: from a recorded payout to money on the payer's wallet, never twice.

Each payout due is claimed with a lease (`db/leases.py`, as the reconciler
does), so one process works on it at a time; what to do next is read from
the row, never from memory, so a payout taken over from a dead process
continues where the row says:

- `sending`, never sent (`request_started_at` unset): Saleor must hold a
  REFUND_REQUEST with its pspReference (flows/payout_saleor.py), Lengo's
  balance must cover it; then the payer's number is taken for this payout
  (`in_flight`, unique: one cash-in on its way per configuration and
  payer), `request_started_at` is committed, and only then is the cash-in
  asked for (lengo/client.py `cashin_request`).
- `sending`, sent or maybe sent (`request_started_at` set, no cash-in
  pay_id): the outcome is unknown (a timeout, a lost connection, a process
  killed mid-call, a takeover). It is never sent again: the cash-in history
  is searched (same amount and payer, around that time, not linked to
  another payout); one match → `sent`, two → `needs_review`, none for
  LOOKUP_WINDOW_SECONDS → `needs_review`. Only a request that provably
  never left (no connection, name not resolved) is sent again.
- `sent`: the cash-in's status is polled with backoff; SUCCESS → `paid_out`
  (REFUND_SUCCESS), FAILED → `failed` (REFUND_FAILURE); still pending after
  MAX_PENDING_SECONDS → `needs_review`.
- `failed` after a FAILED status: the reservation is kept until the history,
  read at least RELEASE_AFTER_SECONDS later, still says FAILED; a SUCCESS
  there is reported as REFUND_SUCCESS.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from saleor_lengo import configurations, wakeups
from saleor_lengo.backoff import doubling
from saleor_lengo.configurations import Configuration
from saleor_lengo.db.schema import payouts
from saleor_lengo.flows import payout_saleor
from saleor_lengo.flows.lengo_access import lengo_client
from saleor_lengo.flows.payout_request import REFUND, callback_token
from saleor_lengo.lengo.cashin import Cashin
from saleor_lengo.lengo.errors import LengoError, LengoRefused, LengoUnauthorized, LengoUnavailable
from saleor_lengo.logs import get_logger
from saleor_lengo.money import Money
from saleor_lengo.payouts import store
from saleor_lengo.payouts.model import Payout, PayoutState
from saleor_lengo.payouts.transitions import move, shown
from saleor_lengo.needs import HasDb, HasClock, HasTimer, HasSettings, HasCipher, HasHttp, HasSaleor, HasLeases, HasWakeups, HasMetrics
from saleor_lengo.words import Text, words


class Needs(HasDb, HasClock, HasTimer, HasSettings, HasCipher, HasHttp, HasSaleor, HasLeases, HasWakeups, HasMetrics, Protocol):
    """What sending and following payouts uses."""


log = get_logger(__name__)

BATCH_SIZE = 10
MAX_POLL_SECONDS = 5.0
# Saleor records the refund request as soon as it has the answer; none after this, and it never will.
CONFIRM_WINDOW_SECONDS = 600.0
# How long an unknown outcome is looked for in the history before staff are asked.
LOOKUP_WINDOW_SECONDS = 900.0
# A history entry is this payout's only if dated this close to when the request started
# (read as UTC: Lengo states no time zone, and Guinea's is GMT).
MATCH_BEFORE_SECONDS = 600.0
MATCH_AFTER_SECONDS = 3600.0
MAX_PENDING_SECONDS = 86400.0
RELEASE_AFTER_SECONDS = 3600.0
FIRST_POLL_SECONDS = 5.0
MAX_POLL_BACKOFF_SECONDS = 600.0
IN_FLIGHT_RETRY_SECONDS = 30.0
# The cash-in request's whole exchange; past it the outcome is unknown and the history is searched.
CASHIN_TIMEOUT_SECONDS = 12.0


def _due(now: float) -> ColumnElement[bool]:
    c = payouts.c
    return and_(
        c.next_check_at.is_not(None),
        c.next_check_at <= now,
        or_(
            c.state.in_([PayoutState.SENDING.value, PayoutState.SENT.value]),
            and_(c.state == PayoutState.FAILED.value, c.released_at.is_(None)),
        ),
    )


async def claim(deps: Needs, *, limit: int = BATCH_SIZE, exclude: list[str] | None = None) -> list[str]:
    now = deps.clock()
    due = select(payouts.c.id).where(_due(now)).order_by(payouts.c.next_check_at, payouts.c.id).limit(limit)
    if exclude:
        due = due.where(payouts.c.id.not_in(exclude))
    return await deps.leases.claim(payouts, due, now)


async def run_once(deps: Needs) -> int:
    seen: list[str] = []
    while True:
        ids = await claim(deps, exclude=seen)
        if not ids:
            return len(seen)
        seen.extend(ids)
        await asyncio.gather(*(work_safely(deps, payout_id) for payout_id in ids))


async def run_forever(deps: Needs) -> None:
    log.info("payout_worker_started")
    while True:
        deps.wakeups.payouts.clear()
        try:
            await run_once(deps)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("payout_pass_failed")
        await wakeups.sleep(deps.wakeups.payouts, MAX_POLL_SECONDS)


async def work_safely(deps: Needs, payout_id: str) -> None:
    try:
        with deps.leases.working(payouts, [payout_id]):
            await work(deps, payout_id)
    except Exception:
        # The lease is given back at the next heartbeat; the row says where to resume.
        log.exception("payout_work_failed", payout_id=payout_id)


async def _read(deps: Needs, payout_id: str) -> tuple[Payout | None, Configuration | None]:
    async with deps.db.read() as conn:
        payout = await store.get(conn, payout_id)
        config = await configurations.get_by_id(conn, payout.configuration_id) if payout else None
    return payout, config


async def work(deps: Needs, payout_id: str) -> None:
    """One step (or a few) for one claimed payout; always reschedules it or ends it, and frees its lease."""
    payout, config = await _read(deps, payout_id)
    if payout is None or config is None:
        return
    if payout.state == PayoutState.SENDING and payout.request_started_at is None:
        await _send(deps, payout, config)
    elif payout.state == PayoutState.SENDING:
        await _look_for(deps, payout, config)
    elif payout.state == PayoutState.SENT:
        await _poll(deps, payout, config)
    elif payout.state == PayoutState.FAILED and payout.released_at is None:
        await _confirm_failure(deps, payout, config)


# --- writing ------------------------------------------------------------------


async def _later(deps: Needs, payout: Payout, delay: float, **values: object) -> None:
    async with deps.db.write() as conn:
        await store.update_fields(
            conn, payout.id, next_check_at=deps.clock() + delay, lease_owner=None, lease_until=None,
            updated_at=deps.clock(), **values,
        )


async def _move(
    deps: Needs,
    payout: Payout,
    to: PayoutState,
    reason: Text,
    *,
    message: Text | None = None,
    report_failure: bool = True,
    **values: object,
) -> bool:
    now = deps.clock()
    async with deps.db.write() as conn:
        current = await store.get(conn, payout.id, lock=True)
        if current is None or current.state != payout.state:
            return False  # moved meanwhile (staff, another process): the row decides
        moved = await move(
            conn, current, to, reason=reason, now=now, message=message, refund_actions=REFUND,
            report_failure=report_failure, also={"lease_owner": None, "lease_until": None, **values},
        )
    if moved.changed:
        deps.metrics.payout_outcome(to.value)
    if moved.outbox_id:
        deps.wakeups.outbox.set()
    return moved.changed


def _money(payout: Payout) -> Money:
    return Money(payout.amount, payout.currency)


# --- sending --------------------------------------------------------------------


async def _send(deps: Needs, payout: Payout, config: Configuration) -> None:
    now = deps.clock()
    if payout.saleor_confirmed_at is None:
        seen = await payout_saleor.refund_request_seen(deps, payout)
        if seen == "failed":
            await _move(
                deps, payout, PayoutState.NEEDS_REVIEW,
                "Saleor already shows an outcome for this refund (its answer was lost): nothing was sent. "
                "Check the order in Saleor, then resolve the payout as not paid out.",
            )
            return
        if seen != "requested":
            if seen == "not_yet" and now - payout.created_at > CONFIRM_WINDOW_SECONDS:
                await _move(
                    deps, payout, PayoutState.FAILED,
                    "Saleor never recorded this refund request: nothing was sent.", released_at=now, failed_at=now,
                )
                return
            await _later(deps, payout, doubling(2.0, 60.0, payout.attempts + 1), attempts=payout.attempts + 1)
            return
        async with deps.db.write() as conn:
            await store.update_fields(conn, payout.id, saleor_confirmed_at=now)

    client = lengo_client(deps, config, payout.payment_id)
    try:
        balance = await client.balance()
    except LengoError as exc:
        log.warning("payout_balance_unavailable", payout_id=payout.id, error=exc.safe_message)
        await _later(deps, payout, doubling(5.0, 300.0, payout.attempts + 1), attempts=payout.attempts + 1)
        return
    if balance.balance < payout.amount:
        await _move(
            deps, payout, PayoutState.FAILED,
            words(
                "Nothing was refunded: the Lengo Pay balance ({balance}) is below the payout ({amount}). "
                "Top it up and refund again, or refund by hand.",
                balance=Money(balance.balance, payout.currency),
                amount=_money(payout),
            ),
            released_at=now, failed_at=now,
        )
        return

    # Write-ahead: from this commit on the cash-in may exist, whatever happens to this process.
    try:
        async with deps.db.write() as conn:
            current = await store.get(conn, payout.id, lock=True)
            if current is None or current.state != PayoutState.SENDING or current.request_started_at is not None:
                return
            await store.update_fields(
                conn, payout.id, in_flight=f"{payout.configuration_id}:{payout.account_digest}",
                request_started_at=deps.clock(), attempts=current.attempts + 1, updated_at=deps.clock(),
            )
    except IntegrityError:
        log.info("payout_waits_for_another_to_the_same_payer", payout_id=payout.id)
        await _later(deps, payout, IN_FLIGHT_RETRY_SECONDS)
        return

    account = deps.cipher.decrypt(payout.account_enc)
    callback = _callback_url(deps, payout)
    try:
        requested = await client.cashin_request(
            _money(payout), type_account=payout.type_account, account=account, callback_url=callback,
            timeout=CASHIN_TIMEOUT_SECONDS,
        )
    except LengoUnavailable as exc:
        # Provably never reached Lengo: it may be sent again.
        log.warning("payout_not_sent", payout_id=payout.id, error=exc.safe_message)
        await _later(
            deps, payout, doubling(5.0, 300.0, payout.attempts + 1), request_started_at=None, in_flight=None,
        )
        return
    except (LengoRefused, LengoUnauthorized) as exc:
        await _move(
            deps, payout, PayoutState.FAILED, words("Nothing was refunded: {error}.", error=exc.safe_message),
            released_at=deps.clock(), failed_at=deps.clock(),
        )
        return
    except (LengoError, TimeoutError) as exc:
        error = exc.safe_message if isinstance(exc, LengoError) else "no answer in time"
        log.warning("payout_outcome_unknown", payout_id=payout.id, error=error)
        await _later(deps, payout, FIRST_POLL_SECONDS)
        return
    await _link(deps, payout, requested.pay_id, "Lengo accepted the cash-in.")


def _callback_url(deps: Needs, payout: Payout) -> str | None:
    # Lengo's doc wants HTTPS: over plain HTTP the status is polled only.
    base = deps.settings.app_url.rstrip("/")
    if not base.startswith("https://"):
        return None
    return f"{base}/api/lengo/callback/payout/{callback_token(deps.settings.secret_key, payout.id)}"


async def _link(deps: Needs, payout: Payout, pay_id: str, reason: str) -> None:
    try:
        await _move(
            deps, payout, PayoutState.SENT, reason, report_failure=False,
            cashin_pay_id=pay_id, next_check_at=deps.clock() + FIRST_POLL_SECONDS,
        )
    except IntegrityError:
        await _move(
            deps, payout, PayoutState.NEEDS_REVIEW,
            "Lengo's cash-in for this payout is already linked to another payout: check both on the Lengo portal.",
        )


# --- an unknown outcome ---------------------------------------------------------


async def _look_for(deps: Needs, payout: Payout, config: Configuration) -> None:
    now = deps.clock()
    started = payout.request_started_at or payout.created_at
    client = lengo_client(deps, config, payout.payment_id)
    try:
        history = await client.cashin_history()
    except LengoError as exc:
        if now - started > MAX_PENDING_SECONDS:
            await _move(deps, payout, PayoutState.NEEDS_REVIEW,
                        words(
                            "The cash-in's outcome is unknown and Lengo's history could not be read for a day ({error}).",
                            error=exc.safe_message,
                        ))
            return
        await _later(deps, payout, doubling(FIRST_POLL_SECONDS, MAX_POLL_BACKOFF_SECONDS, payout.attempts + 1),
                     attempts=payout.attempts + 1)
        return
    candidates = await _candidates(deps, payout, history, started)
    if len(candidates) == 1:
        await _link(deps, payout, candidates[0].pay_id, "The cash-in was found in Lengo's history after an unknown outcome.")
        return
    if len(candidates) > 1:
        await _move(
            deps, payout, PayoutState.NEEDS_REVIEW,
            words(
                "{count} cash-ins in Lengo's history could be this payout ({payout}): check them on the Lengo portal.",
                count=str(len(candidates)),
                payout=shown(payout),
            ),
        )
        return
    if now - started > LOOKUP_WINDOW_SECONDS:
        await _move(
            deps, payout, PayoutState.NEEDS_REVIEW,
            words(
                "The cash-in request's outcome is unknown and Lengo's history shows no matching cash-in after "
                "{minutes} minutes: check the Lengo portal before resolving it. It was not sent again.",
                minutes=f"{LOOKUP_WINDOW_SECONDS / 60:g}",
            ),
        )
        return
    await _later(deps, payout, doubling(FIRST_POLL_SECONDS, 120.0, payout.attempts + 1), attempts=payout.attempts + 1)


async def _candidates(deps: Needs, payout: Payout, history: list[Cashin], started: float) -> list[Cashin]:
    account = deps.cipher.decrypt(payout.account_enc)
    found = []
    for entry in history:
        if entry.amount != payout.amount or entry.account != account:
            continue
        if entry.date is not None:
            at = entry.date.timestamp()
            if not started - MATCH_BEFORE_SECONDS <= at <= started + MATCH_AFTER_SECONDS:
                continue
        async with deps.db.read() as conn:
            linked = await store.by_cashin(conn, entry.pay_id)
        if linked is None or linked.id == payout.id:
            found.append(entry)
    return found


# --- sent -------------------------------------------------------------------------


async def _poll(deps: Needs, payout: Payout, config: Configuration) -> None:
    assert payout.cashin_pay_id is not None
    now = deps.clock()
    started = payout.request_started_at or payout.created_at
    client = lengo_client(deps, config, payout.payment_id)
    try:
        status = await client.cashin_status(payout.cashin_pay_id)
    except LengoError as exc:
        log.warning("payout_status_unavailable", payout_id=payout.id, error=exc.safe_message)
        status = None
    if status is not None and status.outcome == "paid":
        await _paid(deps, payout, status.status)
        return
    if status is not None and status.outcome == "failed":
        await _move(
            deps, payout, PayoutState.FAILED,
            words(
                "Lengo Pay reported the payout of {payout} failed: nothing reached the payer. "
                "Its amount stays reserved for an hour, in case Lengo reports it paid after all.",
                payout=shown(payout),
            ),
            failed_at=now, cashin_status=status.status, next_check_at=now + RELEASE_AFTER_SECONDS,
        )
        return
    if now - started > MAX_PENDING_SECONDS:
        await _move(
            deps, payout, PayoutState.NEEDS_REVIEW,
            words("Lengo Pay has not reported the cash-in final after a day: check it on the Lengo portal."),
        )
        return
    await _later(
        deps, payout, doubling(FIRST_POLL_SECONDS, MAX_POLL_BACKOFF_SECONDS, payout.attempts + 1),
        attempts=payout.attempts + 1, cashin_status=status.status if status else payout.cashin_status,
    )


async def _paid(deps: Needs, payout: Payout, status: str) -> None:
    await _move(
        deps, payout, PayoutState.PAID_OUT,
        words(
            "Refunded {amount} to the payer's mobile-money account {account} (Lengo Pay cash-in {cashin}).",
            amount=_money(payout),
            account=payout.account_masked or "",
            cashin=payout.cashin_pay_id or "",
        ),
        cashin_status=status,
    )


# --- a failure, confirmed an hour later -------------------------------------------


async def _confirm_failure(deps: Needs, payout: Payout, config: Configuration) -> None:
    now = deps.clock()
    failed_at = payout.failed_at or now
    if now < failed_at + RELEASE_AFTER_SECONDS:
        await _later(deps, payout, failed_at + RELEASE_AFTER_SECONDS - now)
        return
    client = lengo_client(deps, config, payout.payment_id)
    try:
        history = await client.cashin_history()
    except LengoError:
        await _later(deps, payout, RELEASE_AFTER_SECONDS)
        return
    entry = next((e for e in history if e.pay_id == payout.cashin_pay_id), None)
    if entry is not None and entry.outcome == "paid":
        await _paid(deps, payout, entry.status)
        return
    if entry is not None and entry.outcome == "failed":
        async with deps.db.write() as conn:
            await store.update_fields(
                conn, payout.id, released_at=now, next_check_at=None, lease_owner=None, lease_until=None, updated_at=now
            )
        log.info("payout_released", payout_id=payout.id)
        return
    if now - failed_at > MAX_PENDING_SECONDS:
        await _move(
            deps, payout, PayoutState.NEEDS_REVIEW,
            "Lengo Pay reported the cash-in failed, but its history has not confirmed it for a day: check the Lengo portal.",
        )
        return
    await _later(deps, payout, RELEASE_AFTER_SECONDS)

