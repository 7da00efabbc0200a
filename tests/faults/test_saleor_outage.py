"""Saleor unreachable during a burst of payments: every event delivered once it is back, once each.

Thirty shoppers pay (some are declined) and Lengo's callbacks arrive — twice
for some — while Saleor answers 503 to every call. Everything is confirmed
and kept in the outbox; the relay keeps trying with backoff and gives up on
nothing. When Saleor is back, each payment's one event reaches it, whether
the storefront's `transactionProcess` answer got there first or not — and
when Saleor keeps an event but its answer is lost, the repeat is
recognised (`alreadyProcessed`), not kept twice.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from saleor_lengo.configurations import Configuration
from saleor_lengo.db.schema import outbox
from saleor_lengo.outbox import relay
from saleor_lengo.services import Services
from saleor_lengo.simulator.api import LengoState
from tests.fakes.factories import MadePayment, make_payment
from tests.fakes.saleor import FakeSaleor
from tests.faults.ledger import Clock, assert_nothing_half_written, assert_nothing_stuck
from tests.faults.shop import Shop

# Fault injection.
pytestmark = pytest.mark.slow

BURST = 30
DECLINED = 5


@dataclass
class FlakySaleor(FakeSaleor):
    """Refuses a share of the reports (503), and loses the answer to another share after keeping the event."""

    refuse: float = 0.0
    lose: float = 0.0
    lost: int = 0
    rng: random.Random = field(default_factory=lambda: random.Random(8))

    async def _graphql(self, request: Request) -> Response:
        draw = self.rng.random()
        if draw < self.refuse:
            return Response("Service Unavailable", status_code=503)
        response = await super()._graphql(request)
        if draw < self.refuse + self.lose:
            self.lost += 1
            return Response("Gateway Timeout", status_code=504)  # after Saleor kept the event
        return response


@pytest.fixture
def fake_saleor() -> FakeSaleor:
    return FlakySaleor()


async def outbox_states(services: Services) -> list[str]:
    async with services.db.read() as conn:
        return [r.state for r in (await conn.execute(select(outbox.c.state))).all()]


async def test_every_event_of_a_burst_during_a_saleor_outage_is_delivered_once_saleor_is_back(
    services: Services,
    client: httpx.AsyncClient,
    installed: FakeSaleor,
    lengo: LengoState,
    config: Configuration,
    clock: Clock,
) -> None:
    made: list[MadePayment] = []
    for i in range(BURST):
        made.append(await make_payment(services, installed, lengo, config, amount=Decimal(10_000 + 1_000 * i)))
    declined = {m.transaction_id for m in made[:DECLINED]}
    installed.down = -1

    for m in made:
        (lengo.decline if m.transaction_id in declined else lengo.pay)(m.pay_id)
    # All callbacks at once, and Lengo's repeats of a third of them.
    answers = await asyncio.gather(*(lengo.send_callback(m.pay_id, client) for m in made))
    repeats = await asyncio.gather(*(lengo.send_callback(m.pay_id, client) for m in made[::3]))
    await services.background.drain()
    # The relay keeps trying for a while (hours, for Saleor): nothing is delivered, nothing dropped.
    for _ in range(6):
        await relay.run_once(services)
        clock.advance(relay.MAX_RETRY_SECONDS)

    assert [a for [a] in answers + repeats] == [200] * (BURST + len(made[::3]))
    assert installed.graphql_calls, "the relay never tried"
    assert installed.transactions and not any(installed.transactions.values())
    assert await outbox_states(services) == [relay.PENDING] * BURST

    installed.down = 0
    # The storefront of a few shoppers asks first: Saleor keeps that answer as the event.
    shop = Shop(client, installed)
    for m in made[DECLINED : DECLINED + 3]:
        assert (await shop.process(m.transaction_id, m.pay_id, m.amount)).body["result"] == "CHARGE_SUCCESS"
    clock.advance(relay.MAX_RETRY_SECONDS)
    assert await relay.run_once(services) == BURST
    clock.advance(relay.MAX_RETRY_SECONDS)
    assert await relay.run_once(services) == 0

    for m in made:
        kind, other = ("CHARGE_FAILURE", "CHARGE_SUCCESS") if m.transaction_id in declined else ("CHARGE_SUCCESS", "CHARGE_FAILURE")
        [event] = installed.events(m.transaction_id, kind)
        assert event.amount == m.amount, (m, event)
        assert installed.events(m.transaction_id, other) == []
    assert await outbox_states(services) == [relay.DELIVERED] * BURST
    await assert_nothing_half_written(services)
    await assert_nothing_stuck(services)


async def test_a_saleor_that_fails_or_loses_its_answers_at_random_still_keeps_each_event_once(
    services: Services,
    client: httpx.AsyncClient,
    installed: FlakySaleor,
    lengo: LengoState,
    config: Configuration,
    clock: Clock,
) -> None:
    made = [await make_payment(services, installed, lengo, config) for _ in range(10)]
    for m in made:
        lengo.pay(m.pay_id)
    await asyncio.gather(*(lengo.send_callback(m.pay_id, client) for m in made))
    await services.background.drain()
    installed.refuse, installed.lose = 0.2, 0.4

    rounds = 0
    while await outbox_states(services) != [relay.DELIVERED] * len(made):
        rounds += 1
        assert rounds < 300, await outbox_states(services)
        await relay.run_once(services)
        clock.advance(relay.MAX_RETRY_SECONDS)

    assert installed.lost, "no answer was lost: the test proved nothing"
    for m in made:
        [event] = installed.events(m.transaction_id, "CHARGE_SUCCESS")
        assert event.amount == m.amount
    await assert_nothing_half_written(services)
