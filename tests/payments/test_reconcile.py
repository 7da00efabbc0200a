"""The reconciler: no payment stays open forever, and Saleor learns how each one ended."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from saleor_lengo.db.schema import outbox, status_checks
from saleor_lengo.outbox import relay
from saleor_lengo.flows import reconcile
from saleor_lengo.payments.model import Payment, State
from saleor_lengo.flows.reconcile import run_once
from saleor_lengo.payments import store
from saleor_lengo.payments.state_machine import WATCH_INTERVAL_SECONDS, transition
from saleor_lengo.services import Services, build_services
from saleor_lengo.settings import Settings
from saleor_lengo.simulator.api import LengoState
from tests.conftest import configure_channel, make_settings
from tests.fakes.factories import get_payment, make_payment
from tests.fakes.payment_rows import open_payment
from tests.fakes.saleor import FakeSaleor
from tests.helpers.lengo import status_calls

INTERVAL = 60.0
TTL = 3600.0  # short, so a test gets there in a few steps
WATCH = 86400.0
START = 1_900_000_000.0

pytestmark = pytest.mark.usefixtures("installed")


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(
        database_url,
        RECONCILE_INTERVAL_SECONDS=str(INTERVAL),
        PAYMENT_TTL_SECONDS=str(TTL),
        PAYMENT_WATCH_SECONDS=str(WATCH),
    )


@pytest.fixture
def clock(services: Services) -> Clock:
    clock = Clock(START)
    services.clock = clock
    return clock


@pytest.fixture(autouse=True)
def one_status_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    # A budget that fits one attempt: "Lengo down" costs one call, not a second of retries.
    monkeypatch.setattr(reconcile, "STATUS_BUDGET_SECONDS", 0.6)


async def fresh(services: Services, payment: Payment) -> Payment:
    return await get_payment(services, payment.id)


async def events_for(services: Services, payment: Payment) -> list[Any]:
    async with services.db.read() as conn:
        return list(
            (await conn.execute(select(outbox).where(outbox.c.payment_id == payment.id).order_by(outbox.c.id))).all()
        )


async def checks_of(services: Services, payment: Payment) -> list[Any]:
    async with services.db.read() as conn:
        return list(
            (
                await conn.execute(
                    select(status_checks).where(status_checks.c.payment_id == payment.id).order_by(status_checks.c.id)
                )
            ).all()
        )


async def test_an_open_payment_is_first_checked_after_the_interval(
    services: Services, clock: Clock, installed: FakeSaleor, lengo: LengoState
) -> None:
    payment = await open_payment(services, installed, lengo)

    clock.advance(INTERVAL - 1)
    assert await run_once(services) == 0
    clock.advance(1)
    assert await run_once(services) == 1

    assert status_calls(lengo) == 1
    found = await fresh(services, payment)
    assert found.state == State.ACTION_REQUIRED
    assert found.check_attempts == 1
    assert found.lease_until is None
    assert [(c.source, c.lengo_status) for c in await checks_of(services, payment)] == [("reconcile", "INITIATED")]


async def test_a_payment_whose_callback_never_came_is_confirmed_paid_and_reported_once(
    services: Services, clock: Clock, installed: FakeSaleor, lengo: LengoState
) -> None:
    payment = await open_payment(services, installed, lengo)
    assert payment.pay_id
    lengo.pay(payment.pay_id)  # the shopper paid; Lengo's callback was lost

    clock.advance(INTERVAL)
    assert await run_once(services) == 1
    assert await relay.run_once(services) == 1

    found = await fresh(services, payment)
    assert found.state == State.SUCCEEDED
    assert found.next_check_at is None
    [success] = installed.events(payment.saleor_transaction_id, "CHARGE_SUCCESS")
    assert (success.psp_reference, success.amount) == (payment.pay_id, Decimal("176500"))
    assert installed.charged_amount(payment.saleor_transaction_id) == 176500
    # Nothing left to do: later passes neither ask Lengo nor report again.
    clock.advance(WATCH_INTERVAL_SECONDS)
    assert await run_once(services) == 0
    assert await relay.run_once(services) == 0
    assert status_calls(lengo) == 1


async def test_a_payment_never_paid_expires_after_one_last_question_to_lengo(
    services: Services, clock: Clock, installed: FakeSaleor, lengo: LengoState
) -> None:
    payment = await open_payment(services, installed, lengo)
    checks = 0
    while clock.now < payment.expires_at:
        clock.advance(60)
        checks += await run_once(services)

    found = await fresh(services, payment)
    assert found.state == State.EXPIRED
    assert status_calls(lengo) == checks
    # The check that expired it was made at the expiry itself, never skipped by the backoff.
    last = (await checks_of(services, payment))[-1]
    assert (last.checked_at, last.lengo_status) == (payment.expires_at, "INITIATED")
    [failure] = await events_for(services, payment)
    assert (failure.event_type, failure.psp_reference, failure.amount) == ("CHARGE_FAILURE", payment.pay_id, "176500")
    assert "expired" in failure.message
    assert await relay.run_once(services) == 1
    [reported] = installed.events(payment.saleor_transaction_id, "CHARGE_FAILURE")
    assert "expired" in reported.message
    assert installed.charged_amount(payment.saleor_transaction_id) == 0


async def test_a_payment_paid_just_before_expiry_is_confirmed_not_expired(
    services: Services, clock: Clock, installed: FakeSaleor, lengo: LengoState
) -> None:
    payment = await open_payment(services, installed, lengo)
    assert payment.pay_id
    clock.advance(TTL - 1)
    await run_once(services)
    lengo.pay(payment.pay_id)

    clock.advance(1)
    await run_once(services)

    assert (await fresh(services, payment)).state == State.SUCCEEDED
    assert [r.event_type for r in await events_for(services, payment)] == ["CHARGE_SUCCESS"]


async def test_a_success_after_expiry_is_reported_with_a_refund_due(
    services: Services, clock: Clock, installed: FakeSaleor, lengo: LengoState
) -> None:
    payment = await open_payment(services, installed, lengo)
    assert payment.pay_id
    clock.advance(TTL)
    await run_once(services)
    assert (await fresh(services, payment)).state == State.EXPIRED
    assert await relay.run_once(services) == 1

    lengo.pay(payment.pay_id)  # the shopper finds the old link and pays
    clock.advance(WATCH_INTERVAL_SECONDS - 1)
    assert await run_once(services) == 0  # watched at a slow pace
    clock.advance(1)
    assert await run_once(services) == 1
    assert await relay.run_once(services) == 1

    assert (await fresh(services, payment)).state == State.SUCCEEDED
    tx = payment.saleor_transaction_id
    [success] = installed.events(tx, "CHARGE_SUCCESS")
    assert success.amount == Decimal("176500")
    assert "refund due" in success.message
    assert [e.type for e in installed.events(tx)] == ["CHARGE_ACTION_REQUIRED", "CHARGE_FAILURE", "CHARGE_SUCCESS"]


async def test_a_canceled_payment_paid_later_is_reported_with_a_refund_due(
    services: Services, clock: Clock, installed: FakeSaleor, lengo: LengoState
) -> None:
    payment = await open_payment(services, installed, lengo)
    assert payment.pay_id
    async with services.db.write() as conn:
        current = await store.get(conn, payment.id, lock=True)
        assert current is not None
        await transition(conn, current, State.CANCELED, reason="Canceled from Saleor.", now=clock())
    lengo.pay(payment.pay_id)

    clock.advance(WATCH_INTERVAL_SECONDS)
    assert await run_once(services) == 1

    assert (await fresh(services, payment)).state == State.SUCCEEDED
    [success] = await events_for(services, payment)
    assert success.event_type == "CHARGE_SUCCESS"
    assert "refund due" in success.message


async def test_when_lengo_is_down_the_payment_stays_open_and_is_retried_later(
    services: Services, clock: Clock, installed: FakeSaleor, lengo: LengoState
) -> None:
    payment = await open_payment(services, installed, lengo)
    assert payment.pay_id
    lengo.fail_next = 1000

    clock.advance(INTERVAL)
    assert await run_once(services) == 1

    found = await fresh(services, payment)
    assert found.state == State.ACTION_REQUIRED
    assert found.next_check_at == clock.now + INTERVAL
    assert found.lease_until is None
    assert [(c.source, c.error) for c in await checks_of(services, payment)] == [("reconcile", "Lengo answered HTTP 500")]
    assert await events_for(services, payment) == []

    lengo.fail_next = 0
    lengo.pay(payment.pay_id)
    clock.advance(INTERVAL)
    assert await run_once(services) == 1
    assert (await fresh(services, payment)).state == State.SUCCEEDED


async def test_lengo_down_at_expiry_does_not_expire_an_unconfirmed_payment(
    services: Services, clock: Clock, installed: FakeSaleor, lengo: LengoState
) -> None:
    payment = await open_payment(services, installed, lengo)
    lengo.fail_next = 1000

    clock.advance(TTL)
    await run_once(services)

    assert (await fresh(services, payment)).state == State.ACTION_REQUIRED
    lengo.fail_next = 0
    clock.advance(INTERVAL * 2)
    await run_once(services)
    assert (await fresh(services, payment)).state == State.EXPIRED


async def test_the_delay_between_checks_grows_and_is_capped(
    services: Services, clock: Clock, installed: FakeSaleor, lengo: LengoState
) -> None:
    payment = await open_payment(services, installed, lengo)
    clock.advance(INTERVAL)
    delays = []
    for _ in range(7):
        assert await run_once(services) == 1
        found = await fresh(services, payment)
        assert found.next_check_at is not None
        delays.append(found.next_check_at - clock.now)
        clock.now = found.next_check_at

    # Doubling from the interval, capped at 15 minutes, and never past the
    # expiry: the last check lands on it (60 + 2760 + 840 = TTL).
    assert delays == [60, 120, 240, 480, 900, 900, 840]
    assert clock.now == payment.expires_at


async def test_watching_stops_after_the_watch_period(
    services: Services, clock: Clock, installed: FakeSaleor, lengo: LengoState
) -> None:
    payment = await open_payment(services, installed, lengo)
    clock.advance(TTL)
    await run_once(services)
    assert (await fresh(services, payment)).state == State.EXPIRED

    watch_checks = 0
    while clock.now < payment.watch_until + WATCH_INTERVAL_SECONDS:
        clock.advance(WATCH_INTERVAL_SECONDS)
        watch_checks += await run_once(services)
    calls = status_calls(lengo)
    clock.advance(10 * WATCH_INTERVAL_SECONDS)

    assert await run_once(services) == 0
    assert status_calls(lengo) == calls
    found = await fresh(services, payment)
    assert found.state == State.EXPIRED
    assert found.next_check_at is None
    # The check that expired it, then one every 3 hours while watched (24 h);
    # the pass at the end of the watch only closes it.
    assert WATCH_INTERVAL_SECONDS == 3 * 3600
    assert calls == 1 + 7
    assert watch_checks == 7 + 1


async def test_a_payment_stuck_in_creating_fails_without_a_report(
    services: Services, clock: Clock, installed: FakeSaleor, lengo: LengoState
) -> None:
    config = await configure_channel(services, installed)
    made = await make_payment(services, installed, lengo, config, with_pay_id=False)

    clock.advance(reconcile.CREATING_STALE_SECONDS - 1)
    assert await run_once(services) == 0
    clock.advance(1)
    assert await run_once(services) == 1

    found = await get_payment(services, made.id)
    assert found.state == State.FAILED
    assert found.failure_reason == str(reconcile.CREATE_LOST_REASON)
    assert await events_for(services, found) == []  # Saleor never got this payment's link
    assert lengo.calls == []


@pytest.fixture
async def second_reconciler(services: Services) -> AsyncIterator[Services]:
    """Another process on the same database (a second replica)."""
    other = build_services(services.settings, http=services.http, clock=services.clock)
    yield other
    await other.db.dispose()


async def test_two_reconcilers_never_check_the_same_payment_twice(
    services: Services, clock: Clock, installed: FakeSaleor, lengo: LengoState, second_reconciler: Services
) -> None:
    second_reconciler.clock = clock
    made = [await open_payment(services, installed, lengo) for _ in range(8)]
    lengo.slow = 0.05  # each status call takes a while, so the passes overlap

    async def slow_sleep(seconds: float) -> None:
        await asyncio.sleep(seconds)

    lengo.sleep = slow_sleep
    clock.advance(INTERVAL)

    counts = await asyncio.gather(run_once(services, batch=2), run_once(second_reconciler, batch=2))

    assert sum(counts) == 8
    assert all(c > 0 for c in counts)
    assert status_calls(lengo) == 8
    for payment in made:
        assert len(await checks_of(services, payment)) == 1
