"""Forged callbacks cost bounded work: one payment's callbacks share its status check, and its rows are capped.

Anyone who saw a payment's callback URL (Lengo, every proxy on the way) can
post to it with the right token. The clock is injected and moved by hand:
the confirmer loop's passes are run where it would run them
(`run_due_once`), so "within 15 s" is a statement about the app's clock,
not about how fast this machine is.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select

from saleor_lengo import jsonutil
from saleor_lengo.callbacks import confirmation, gate, kept, receive
from saleor_lengo.commands.payments import render_history
from saleor_lengo.db.schema import callbacks, payments
from saleor_lengo.payments import history
from saleor_lengo.payments.model import State
from saleor_lengo.services import Services, build_services
from saleor_lengo.settings import Settings
from saleor_lengo.simulator.api import LengoState
from saleor_lengo.web.app import create_app
from tests.fakes.factories import MadePayment, get_payment
from tests.fakes.saleor import FakeSaleor
from tests.faults.ledger import Clock
from tests.helpers.lengo import status_calls

FORGED = {"status": "SUCCESS", "message": "Paiement effectué avec succès"}
FLOOD_PER_SECOND = 100
STEP_SECONDS = 0.5


async def forge(lengo: LengoState, made: MadePayment, client: httpx.AsyncClient, copies: int) -> None:
    answers = await lengo.send_callback(made.pay_id, client, copies=copies, override=FORGED)
    assert answers == [200] * copies


async def loop_pass(services: Services) -> None:
    """What the confirmer loop does when it wakes: every due row, then the confirmations spawned meanwhile."""
    await services.background.drain()
    while await confirmation.run_due_once(services):
        await services.background.drain()


async def rows(services: Services, payment_id: str) -> list[str]:
    async with services.db.read() as conn:
        query = select(callbacks.c.outcome).where(callbacks.c.payment_id == payment_id).order_by(callbacks.c.id)
        return list((await conn.execute(query)).scalars())


async def not_kept(services: Services, payment_id: str) -> int:
    async with services.db.read() as conn:
        count = (await conn.execute(select(payments.c.callbacks_not_kept).where(payments.c.id == payment_id))).scalar()
    return int(count or 0)


async def test_200_forged_callbacks_at_once_cost_one_status_call_and_the_next_one_10_s_later(
    services: Services, client: httpx.AsyncClient, lengo: LengoState, made: MadePayment, clock: Clock
) -> None:
    await forge(lengo, made, client, 200)
    await services.background.drain()

    assert status_calls(lengo) == 1
    # Whatever the first check did not settle waits for the next: not one more call before it.
    clock.now += gate.CHECK_INTERVAL_SECONDS - 0.5
    await loop_pass(services)
    assert status_calls(lengo) == 1
    clock.now += 0.5
    await loop_pass(services)

    assert status_calls(lengo) == 2
    outcomes = await rows(services, made.id)
    assert set(outcomes) == {receive.UNCONFIRMED}  # every one settled by those two checks
    assert (await get_payment(services, made.id)).state == State.ACTION_REQUIRED


async def test_rows_kept_per_payment_are_capped_and_the_rest_counted_in_its_history(
    services: Services, client: httpx.AsyncClient, lengo: LengoState, made: MadePayment, clock: Clock
) -> None:
    await forge(lengo, made, client, 150)
    bad = await asyncio.gather(*(client.post(made.callback_url, content=b'{"pay_id": ""}') for _ in range(30)))
    clock.now += gate.CHECK_INTERVAL_SECONDS
    await loop_pass(services)

    assert [r.status_code for r in bad] == [400] * 30  # malformed: answered, counted, not kept past the cap
    assert len(await rows(services, made.id)) == kept.MAX_KEPT_PER_PAYMENT
    assert await not_kept(services, made.id) == 180 - kept.MAX_KEPT_PER_PAYMENT
    async with services.db.read() as conn:
        [payment] = await history.find(conn, made.id)
        rendered = render_history(await history.history(conn, payment))
    assert f"and {180 - kept.MAX_KEPT_PER_PAYMENT} more received, counted but not kept" in rendered


async def test_during_a_flood_of_100_forged_callbacks_a_second_a_genuine_one_is_applied_within_15_s(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState, made: MadePayment,
    clock: Clock,
) -> None:
    start = clock.now
    # The worst moment: just after a check started, so the next may start only 10 s later.
    genuine_at = start + STEP_SECONDS
    applied_at: float | None = None
    while applied_at is None and clock.now <= genuine_at + 15.0:
        await forge(lengo, made, client, int(FLOOD_PER_SECOND * STEP_SECONDS))
        if genuine_at <= clock.now < genuine_at + STEP_SECONDS:
            lengo.pay(made.pay_id)
            assert await lengo.send_callback(made.pay_id, client) == [200]  # Lengo's own
        await loop_pass(services)
        if (await get_payment(services, made.id)).state == State.SUCCEEDED:
            applied_at = clock.now
        clock.now += STEP_SECONDS

    assert applied_at is not None, "the genuine callback was not applied within 15 s of its arrival"
    assert applied_at - genuine_at <= 15.0
    # One check per 10 s at most, however many callbacks: the first, then one per interval.
    assert status_calls(lengo) <= 1 + (applied_at - start) // gate.CHECK_INTERVAL_SECONDS
    assert len(await rows(services, made.id)) <= kept.MAX_KEPT_PER_PAYMENT
    assert await not_kept(services, made.id) > 0
    assert len(installed.events(made.transaction_id, "CHARGE_SUCCESS")) == 0  # reported by the relay, not run here


async def test_a_callback_waiting_for_its_payments_check_wakes_the_loop_when_the_check_may_start(
    services: Services, client: httpx.AsyncClient, lengo: LengoState, made: MadePayment, clock: Clock
) -> None:
    await forge(lengo, made, client, 1)
    await services.background.drain()
    clock.now += 3.0
    queue = services.callback_queue
    queue.loop_awake()
    # The loop sleeps, for 10 s.
    sleeping = asyncio.ensure_future(queue.loop_sleeps(clock.now + confirmation.POLL_SECONDS, confirmation.POLL_SECONDS))
    await asyncio.sleep(0)

    await forge(lengo, made, client, 1)

    assert services.wakeups.callbacks.is_set()  # woken, to sleep until the row is due instead
    await asyncio.wait_for(sleeping, timeout=1.0)
    assert await confirmation._until_next_due(services) == pytest.approx(gate.CHECK_INTERVAL_SECONDS - 3.0)


async def test_one_check_in_flight_per_payment_in_a_process_whatever_the_clock_says(
    services: Services, client: httpx.AsyncClient, lengo: LengoState, made: MadePayment, clock: Clock
) -> None:
    release = asyncio.Event()

    async def held(_seconds: float) -> None:
        await release.wait()

    lengo.slow, lengo.sleep = 1.0, held
    await forge(lengo, made, client, 1)
    for _ in range(10_000):  # until the first check is in flight, held by Lengo
        if status_calls(lengo):
            break
        await asyncio.sleep(0)
    assert status_calls(lengo) == 1
    clock.now += 2 * gate.CHECK_INTERVAL_SECONDS  # the gate would be open again by the clock
    await forge(lengo, made, client, 1)
    await asyncio.sleep(0.05)
    assert status_calls(lengo) == 1

    release.set()
    await services.background.drain()
    clock.now += gate.IN_FLIGHT_RETRY_SECONDS
    await loop_pass(services)
    assert status_calls(lengo) == 2
    assert set(await rows(services, made.id)) == {receive.UNCONFIRMED}


@pytest.fixture
async def replica(
    settings: Settings, transports: dict[str, httpx.AsyncBaseTransport], services: Services
) -> AsyncIterator[Services]:
    """A second process on the same database: its own connections, memory and in-flight set."""
    http = httpx.AsyncClient(mounts=dict(transports), follow_redirects=False)
    other = build_services(settings, http=http)
    yield other
    await other.aclose()


async def test_two_replicas_flooded_together_make_one_status_call_per_interval(
    services: Services, client: httpx.AsyncClient, lengo: LengoState, made: MadePayment, clock: Clock,
    replica: Services,
) -> None:
    replica.clock = clock
    transport = httpx.ASGITransport(app=create_app(replica))
    async with httpx.AsyncClient(transport=transport, base_url=str(client.base_url)) as other:
        body = jsonutil.dumps({**lengo.callback_body(made.pay_id), **FORGED})
        answers = await asyncio.gather(
            *(c.post(made.callback_url, content=body) for _ in range(20) for c in (client, other))
        )
        await asyncio.gather(services.background.drain(), replica.background.drain())

    assert [a.status_code for a in answers] == [200] * 40
    assert status_calls(lengo) == 1
    async with services.db.read() as conn:
        count = (await conn.execute(select(func.count()).select_from(callbacks))).scalar()
    assert count == 40
