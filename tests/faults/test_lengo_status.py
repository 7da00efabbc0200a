"""Lengo's status endpoint answering 500 or not at all: payments stay open, and are confirmed later.

A callback is only a hint: nothing changes until Lengo's status endpoint
confirms it. While that endpoint fails, the callback is still acknowledged
(recorded, 200), the payment stays `action_required`, Saleor hears nothing,
and the storefront is told it is still open. Once Lengo answers again, the
callback retry loop — or, when the callback itself was lost, the
reconciler — confirms the payment and Saleor gets exactly one event. Even a
payment whose time ran out while Lengo could not be asked stays open.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from saleor_lengo.callbacks import confirmation as callback_confirmation
from saleor_lengo.callbacks import receive
from saleor_lengo.configurations import Configuration
from saleor_lengo.db.schema import callbacks, outbox
from saleor_lengo.lengo import vocabulary
from saleor_lengo.outbox import relay
from saleor_lengo.flows import reconcile
from saleor_lengo.payments.model import State
from saleor_lengo.services import Services
from saleor_lengo.simulator.api import LengoState
from tests.fakes.factories import MadePayment, get_payment
from tests.fakes.saleor import FakeSaleor
from tests.faults.ledger import Clock, assert_nothing_half_written, assert_nothing_stuck
from tests.faults.shop import Shop
from tests.helpers.lengo import status_calls

# Fault injection.
pytestmark = pytest.mark.slow

# Longer than any status attempt may last: a hung call is one the app gives up on.
HANG_SECONDS = 30.0


@pytest.fixture(params=["http-500", "timeout"])
def status_failing(request: pytest.FixtureRequest, lengo: LengoState) -> Iterator[Callable[[bool], None]]:
    """`failing(True)`: every Lengo API call answers 500 (or hangs); `failing(False)`: Lengo is back."""

    def failing(on: bool) -> None:
        if request.param == "http-500":
            lengo.fail_next = 10**6 if on else 0
        else:
            lengo.hang_seconds = HANG_SECONDS
            lengo.hang_next = 10**6 if on else 0

    try:
        yield failing
    finally:
        failing(False)


async def open_callbacks(services: Services, payment_id: str) -> list[Any]:
    async with services.db.read() as conn:
        rows = (await conn.execute(select(callbacks).where(callbacks.c.payment_id == payment_id))).all()
    return [r for r in rows if r.outcome == receive.RECORDED]


async def outbox_rows(services: Services) -> int:
    async with services.db.read() as conn:
        return len((await conn.execute(select(outbox.c.id))).all())


async def test_a_callback_while_lengo_cannot_confirm_it_is_acknowledged_kept_open_and_confirmed_later(
    services: Services,
    client: httpx.AsyncClient,
    installed: FakeSaleor,
    lengo: LengoState,
    made: MadePayment,
    clock: Clock,
    status_failing: Callable[[bool], None],
) -> None:
    lengo.pay(made.pay_id)
    status_failing(True)

    assert await lengo.send_callback(made.pay_id, client) == [200]  # acknowledged: recorded
    await services.background.drain()
    # The reconciler's pass, and the retry loop once due, while Lengo still fails.
    clock.advance(services.settings.reconcile_interval_seconds + 1)
    assert await reconcile.run_once(services) == 1
    clock.advance(callback_confirmation.MAX_RETRY_SECONDS)
    assert await callback_confirmation.run_due_once(services) == 1
    await relay.run_once(services)

    assert status_calls(lengo) >= 3  # it was asked each time, and failed each time
    payment = await get_payment(services, made.id)
    assert payment.state == State.ACTION_REQUIRED
    assert payment.next_check_at is not None  # the reconciler asks again
    [row] = await open_callbacks(services, made.id)
    assert row.attempts == 2 and row.next_attempt_at > clock.now, row
    assert await outbox_rows(services) == 0
    assert installed.events(made.transaction_id) == []

    status_failing(False)
    clock.advance(callback_confirmation.MAX_RETRY_SECONDS)
    assert await callback_confirmation.run_due_once(services) == 1
    assert await relay.run_once(services) == 1
    # And later passes of everything change nothing.
    clock.advance(callback_confirmation.MAX_RETRY_SECONDS)
    assert await callback_confirmation.run_due_once(services) == 0
    await reconcile.run_once(services)
    assert await relay.run_once(services) == 0

    [success] = installed.events(made.transaction_id, "CHARGE_SUCCESS")
    assert success.amount == made.amount
    assert (await get_payment(services, made.id)).state == State.SUCCEEDED
    assert await open_callbacks(services, made.id) == []
    await assert_nothing_half_written(services)


async def test_the_storefront_is_told_the_payment_is_still_open_while_lengo_answers_500(
    services: Services,
    client: httpx.AsyncClient,
    installed: FakeSaleor,
    lengo: LengoState,
    config: Configuration,
    clock: Clock,
) -> None:
    shop = Shop(client, installed)
    tx, started = await shop.initialize()
    pay_id = started.body["pspReference"]
    lengo.pay(pay_id)
    lengo.fail_next = 10**6

    processed = await shop.process(tx, pay_id)

    assert processed.body["result"] == "CHARGE_ACTION_REQUIRED", processed.body
    assert processed.body["data"]["paymentUrl"] == started.body["data"]["paymentUrl"]
    assert "could not be checked with Lengo Pay" in processed.body["message"]
    assert installed.events(tx, "CHARGE_SUCCESS") == []

    lengo.fail_next = 0
    clock.advance(10)  # past the few seconds a fetched status is reused
    assert (await shop.process(tx, pay_id)).body["result"] == "CHARGE_SUCCESS"
    await relay.run_once(services)
    [success] = installed.events(tx, "CHARGE_SUCCESS")  # the sync answer and the report are one event
    assert success.amount == started.body["amount"]


async def test_a_lost_callback_is_found_by_the_reconciler_once_lengo_answers_even_past_the_payments_expiry(
    services: Services,
    installed: FakeSaleor,
    lengo: LengoState,
    made: MadePayment,
    clock: Clock,
    status_failing: Callable[[bool], None],
) -> None:
    lengo.pay(made.pay_id)  # and its callback never arrives
    status_failing(True)
    payment = await get_payment(services, made.id)

    # Checked while Lengo fails: first after the interval, then at its expiry, then past it.
    interval = services.settings.reconcile_interval_seconds
    passes = 0
    for moment in (payment.created_at + interval, payment.expires_at, payment.expires_at + reconcile.MAX_BACKOFF_SECONDS):
        clock.now = moment + 1
        passes += await reconcile.run_once(services)
    await relay.run_once(services)

    assert passes == 3
    assert (await get_payment(services, made.id)).state == State.ACTION_REQUIRED  # not expired: never asked
    assert installed.events(made.transaction_id) == []

    status_failing(False)
    clock.advance(reconcile.MAX_BACKOFF_SECONDS + 1)
    assert await reconcile.run_once(services) == 1
    assert await relay.run_once(services) == 1

    [success] = installed.events(made.transaction_id, "CHARGE_SUCCESS")
    assert success.amount == made.amount
    assert installed.events(made.transaction_id, "CHARGE_FAILURE") == []
    await assert_nothing_half_written(services)
    await assert_nothing_stuck(services, paid=lambda p: lengo.payments[p].status == vocabulary.SUCCESS)
