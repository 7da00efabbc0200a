"""Recovery in seconds: a Saleor that answers again, a process that died, a replica gone.

- The relay's circuit per Saleor: open after consecutive failures, one probe
  at a time at intervals capped at 5 s; the first answer makes every row
  waiting for that Saleor due at once (their own backoff does not run on),
  and the backlog goes out at most 4 batch requests at a time.
- Leases on outbox rows, callbacks and reconciler claims belong to a live
  process: taken over as soon as it is known dead (its pid gone; on
  PostgreSQL its session lock gone), never while it is still working.

Time is the test's clock (`tests.faults.ledger.Clock`): nothing sleeps.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select, update

from saleor_lengo.callbacks import confirmation as callback_confirmation
from saleor_lengo.callbacks import gate
from saleor_lengo.callbacks import receive
from saleor_lengo.configurations import Configuration
from saleor_lengo.db import leases
from saleor_lengo.db.leases import Leases
from saleor_lengo.db.schema import callbacks, lease_holders, outbox, payments
from saleor_lengo.lengo.client import PaymentStatus
from saleor_lengo.outbox import relay
from saleor_lengo.saleor.circuit import MAX_PROBE_SECONDS, OPEN_AFTER_FAILURES, Circuits
from saleor_lengo.flows import reconcile
from saleor_lengo.payments import store as payment_store
from saleor_lengo.flows.lengo_status import apply_status
from saleor_lengo.services import Services
from saleor_lengo.simulator.api import LengoState
from tests.helpers.metrics import scrape, value
from tests.faults.ledger import Clock
from tests.fakes.factories import MadePayment, make_payment
from tests.helpers.in_flight import InFlight
from tests.fakes.saleor import FakeSaleor
from tests.leases import dead_holder

START = 1_800_000_000.0


@pytest.fixture
def clock(services: Services) -> Clock:
    services.clock = Clock(START)
    return services.clock


async def paid(services: Services, fake: FakeSaleor, lengo: LengoState, config: Configuration) -> MadePayment:
    made = await make_payment(services, fake, lengo, config)
    await apply_status(
        services, made.id,
        PaymentStatus(status="SUCCESS", pay_id=made.pay_id, amount=made.amount, date=None, gateway="Orange Money"),
        source="test",
    )
    return made


async def outbox_rows(services: Services) -> list[Any]:
    async with services.db.read() as conn:
        return list((await conn.execute(select(outbox).order_by(outbox.c.id))).all())


def report_calls(fake: FakeSaleor) -> int:
    return sum(1 for c in fake.graphql_calls if "transactionEventReport" in (c["query"] or ""))


# --- The circuit ---------------------------------------------------------------


def test_a_circuit_opens_after_consecutive_failures_and_probes_at_intervals_capped_at_5_s() -> None:
    circuits = Circuits()
    now = START
    for _ in range(OPEN_AFTER_FAILURES - 1):
        assert circuits.failed(7, now) is False
    assert circuits.answered(7) is False  # an answer in between starts the count again
    for _ in range(OPEN_AFTER_FAILURES - 1):
        circuits.failed(7, now)
    assert not circuits.is_open(7)
    assert circuits.failed(7, now) is True
    assert circuits.open_ids() == {7}

    intervals = []
    for _ in range(8):
        wait = circuits.next_probe_in(now)
        assert wait is not None
        intervals.append(wait)
        now += wait
        assert circuits.probes_due(now) == [7]
        circuits.failed(7, now)
    assert intervals == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0, 5.0]
    assert max(intervals) == MAX_PROBE_SECONDS

    assert circuits.answered(7) is True  # closed by this answer
    assert circuits.open_ids() == set() and circuits.next_probe_in(now) is None


async def test_once_saleor_answers_again_every_waiting_row_goes_out_at_once_not_after_its_own_backoff(
    services: Services, installed: FakeSaleor, lengo: LengoState, config: Configuration, clock: Clock
) -> None:
    made = [await paid(services, installed, lengo, config) for _ in range(12)]
    installed.down = -1
    while not services.circuits.open_ids():  # failures until the circuit opens
        await relay.run_once(services)
        clock.advance(60)
    assert {r.state for r in await outbox_rows(services)} == {"pending"}
    assert all(r.waiting_for_saleor for r in await outbox_rows(services))

    # Open: each pass sends at most the one probe, whatever is due.
    for _ in range(5):
        clock.advance(MAX_PROBE_SECONDS)
        before = report_calls(installed)
        await relay.run_once(services)
        assert report_calls(installed) - before <= 1
    # An outage of an hour leaves each row's own backoff at its 15-minute cap.
    async with services.db.write() as conn:
        await conn.execute(update(outbox).values(next_attempt_at=clock() + relay.MAX_RETRY_SECONDS))

    installed.down = 0
    clock.advance(MAX_PROBE_SECONDS)
    assert await relay.run_once(services) == 12

    assert services.circuits.open_ids() == set()
    assert all(len(installed.events(m.transaction_id, "CHARGE_SUCCESS")) == 1 for m in made)


async def test_a_row_backing_off_for_its_own_error_keeps_its_backoff_when_the_circuit_closes(
    services: Services, installed: FakeSaleor, lengo: LengoState, config: Configuration, clock: Clock
) -> None:
    own, waiting = [await paid(services, installed, lengo, config) for _ in range(2)]
    async with services.db.write() as conn:
        await conn.execute(update(outbox).where(outbox.c.payment_id == own.id)
                           .values(next_attempt_at=clock() + 600, attempts=4, last_error="GRAPHQL_ERROR: try later"))
        await conn.execute(update(outbox).where(outbox.c.payment_id == waiting.id)
                           .values(next_attempt_at=clock() + 600, attempts=4, waiting_for_saleor=True))

    assert await relay.run_once(services) == 1  # the waiting row probes Saleor, which answers

    assert installed.events(waiting.transaction_id, "CHARGE_SUCCESS")
    assert not installed.events(own.transaction_id)
    [row] = [r for r in await outbox_rows(services) if r.payment_id == own.id]
    assert (row.state, row.next_attempt_at) == ("pending", clock() + 600)


async def test_a_restarted_relay_probes_a_saleor_its_predecessor_left_rows_waiting_for_at_once(
    services: Services, installed: FakeSaleor, lengo: LengoState, config: Configuration, second_services: Services,
    clock: Clock,
) -> None:
    made = [await paid(services, installed, lengo, config) for _ in range(5)]
    async with services.db.write() as conn:  # as a process killed during an outage leaves them
        await conn.execute(update(outbox).values(next_attempt_at=clock() + 900, attempts=9, waiting_for_saleor=True))

    assert await relay.run_once(second_services) == 5

    assert all(len(installed.events(m.transaction_id, "CHARGE_SUCCESS")) == 1 for m in made)


async def test_a_backlog_goes_out_in_batches_at_most_4_requests_in_flight_per_saleor(
    services: Services, installed: FakeSaleor, lengo: LengoState, config: Configuration, clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    installed.batch_max_count = 10  # an operator raised Saleor's GRAPHQL_BATCH_MAX_COUNT (default 1)
    made = [await paid(services, installed, lengo, config) for _ in range(70)]
    batches = InFlight(services.saleor.graphql_batch, delay=0.01)
    monkeypatch.setattr(services.saleor, "graphql_batch", batches)

    assert await relay.run_once(services) == 70

    assert batches.most == relay.MAX_REQUESTS_IN_FLIGHT
    assert all(len(installed.events(m.transaction_id, "CHARGE_SUCCESS")) == 1 for m in made)


# --- Leases --------------------------------------------------------------------


async def test_a_callback_a_killed_process_was_confirming_is_taken_over_at_its_first_heartbeat(
    services: Services, installed: FakeSaleor, lengo: LengoState, config: Configuration, second_services: Services,
    clock: Clock,
) -> None:
    made = await make_payment(services, installed, lengo, config)
    lengo.payments[made.pay_id].status = "SUCCESS"
    body = f'{{"pay_id": "{made.pay_id}", "status": "SUCCESS", "amount": 150000}}'.encode()
    receipt = await receive.record(services, made.token, body, content_type="application/json", remote_addr=None)
    async with services.db.write() as conn:  # its process was killed before confirming it
        await conn.execute(insert(lease_holders).values(dead_holder(second_services.leases.host, clock(), "killed")))
        await conn.execute(update(callbacks).values(lease_owner="killed"))

    assert await callback_confirmation.run_due_once(second_services) == 0
    assert await second_services.leases.beat() == ["killed"]
    assert await callback_confirmation.run_due_once(second_services) == 1

    # The dead process had claimed the payment's status check (callbacks/gate.py)
    # as it recorded the callback: the row waits for that gate to reopen, with no
    # lease, and is confirmed then — within the gate's interval of its arrival.
    async with services.db.read() as conn:
        row = (await conn.execute(select(callbacks).where(callbacks.c.id == receipt.callback_id))).one()
    assert (row.outcome, row.lease_owner) == ("recorded", None)
    assert row.next_attempt_at <= row.received_at + gate.CHECK_INTERVAL_SECONDS
    clock.advance(row.next_attempt_at - clock())
    assert await callback_confirmation.run_due_once(second_services) == 1

    async with services.db.read() as conn:
        row = (await conn.execute(select(callbacks).where(callbacks.c.id == receipt.callback_id))).one()
    assert (row.outcome, row.lease_owner) == ("confirmed", None)


async def test_a_payment_a_killed_reconciler_was_checking_is_taken_over_at_the_first_heartbeat(
    services: Services, installed: FakeSaleor, lengo: LengoState, config: Configuration, second_services: Services,
    clock: Clock,
) -> None:
    made = await make_payment(services, installed, lengo, config)
    async with services.db.write() as conn:
        await conn.execute(insert(lease_holders).values(dead_holder(second_services.leases.host, clock(), "killed")))
        await conn.execute(update(payments).values(next_check_at=clock() - 1, lease_owner="killed",
                                                   lease_until=clock() + leases.LEASE_SECONDS))

    assert await reconcile.claim(second_services) == []
    await second_services.leases.beat()
    assert await reconcile.claim(second_services) == [made.id]


async def test_a_live_process_keeps_its_leases_while_it_works_however_long_and_loses_them_once_it_stops(
    services: Services, installed: FakeSaleor, lengo: LengoState, config: Configuration, second_services: Services,
    clock: Clock,
) -> None:
    await paid(services, installed, lengo, config)
    rows = await relay._claim(services, services.leases.holder_id)
    assert len(rows) == 1
    with services.leases.working(outbox, [rows[0].id]):
        for _ in range(10):  # ten lease lengths, with a heartbeat every 2 s
            for _ in range(int(leases.LEASE_SECONDS / leases.HEARTBEAT_SECONDS)):
                clock.advance(leases.HEARTBEAT_SECONDS)
                await services.leases.beat()
            assert await relay._claim(second_services, second_services.leases.holder_id) == []
    # The work was dropped (an error between claim and verdict): the lease runs out.
    clock.advance(leases.LEASE_SECONDS)
    await services.leases.beat()
    assert len(await relay._claim(second_services, second_services.leases.holder_id)) == 1


async def test_a_process_that_stops_gracefully_gives_its_leases_back_at_once(
    services: Services, installed: FakeSaleor, lengo: LengoState, config: Configuration, second_services: Services,
    clock: Clock,
) -> None:
    await paid(services, installed, lengo, config)
    assert len(await relay._claim(second_services, second_services.leases.holder_id)) == 1
    assert await relay._claim(services, services.leases.holder_id) == []

    await second_services.leases.release()

    assert len(await relay._claim(services, services.leases.holder_id)) == 1


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_on_postgresql_a_holder_on_another_host_is_dead_once_its_session_lock_is_gone(
    services: Services, clock: Clock
) -> None:
    elsewhere = Leases(services.db, clock, host="another-host/boot")
    await elsewhere.beat()  # registered, its session lock held
    assert await services.leases.beat() == []

    assert elsewhere._lock_conn is not None
    await elsewhere._lock_conn.invalidate()  # its connection dies with its host: PostgreSQL drops the lock
    elsewhere._lock_conn = None

    dead: list[str] = []
    for _ in range(100):  # PostgreSQL ends the dead session on its own time
        dead = await services.leases.beat()
        if dead:
            break
        await asyncio.sleep(0.05)
    assert dead == [elsewhere.holder_id]
    async with services.db.read() as conn:
        assert (await conn.execute(select(lease_holders.c.id))).scalars().all() == [services.leases.holder_id]


async def test_a_holder_that_nothing_else_can_judge_is_dead_after_its_silence(services: Services, clock: Clock) -> None:
    elsewhere = Leases(services.db, clock, host="another-host/boot")
    await elsewhere.ensure()  # registered, no session lock (or one that could not be taken)
    assert await services.leases.beat() == []
    clock.advance(leases.HOLDER_TTL_SECONDS + 1)
    assert await services.leases.beat() == [elsewhere.holder_id]


# --- Visible -------------------------------------------------------------------


async def test_the_metrics_show_a_saleors_circuit_open_while_a_live_relay_has_it_open_and_its_oldest_event(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState, config: Configuration,
    second_services: Services, clock: Clock,
) -> None:
    await paid(services, installed, lengo, config)
    clock.advance(42)
    installed.down = -1
    while not second_services.circuits.open_ids():
        await relay.run_once(second_services)
        async with services.db.write() as conn:
            await conn.execute(update(outbox).values(next_attempt_at=clock()))

    seen = await scrape(client)
    assert value(seen, "saleor_lengo_saleor_circuit_open", installation=installed.api_url) == 1
    assert value(seen, "saleor_lengo_outbox_oldest_pending_age_seconds", installation=installed.api_url) == 42

    await second_services.leases.release()  # that relay's process is gone: so is its view of Saleor
    seen = await scrape(client)
    assert value(seen, "saleor_lengo_saleor_circuit_open", installation=installed.api_url) == 0

    installed.down = 0
    clock.advance(1)
    assert await relay.run_once(services) == 1
    seen = await scrape(client)
    assert value(seen, "saleor_lengo_outbox_oldest_pending_age_seconds", installation=installed.api_url) == 0


async def test_work_that_failed_in_a_live_process_is_given_back_at_its_next_heartbeat(
    services: Services, installed: FakeSaleor, lengo: LengoState, config: Configuration, second_services: Services,
    clock: Clock, monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = await make_payment(services, installed, lengo, config)
    lengo.payments[made.pay_id].status = "SUCCESS"
    body = f'{{"pay_id": "{made.pay_id}", "status": "SUCCESS", "amount": 150000}}'.encode()
    receipt = await receive.record(services, made.token, body, content_type="application/json", remote_addr=None)

    async def pool_exhausted(*_args: Any, **_kwargs: Any) -> None:
        raise TimeoutError("QueuePool limit reached (injected)")

    with monkeypatch.context() as patch:
        patch.setattr(payment_store, "get", pool_exhausted)
        with pytest.raises(TimeoutError):
            await callback_confirmation.confirm_callback(services, receipt.callback_id)
    assert await callback_confirmation.run_due_once(second_services) == 0  # still leased: not given back yet

    await services.leases.beat()  # no clock moved: the lease is given back, not run out

    assert await callback_confirmation.run_due_once(second_services) == 1
    # The failed confirmation had claimed the payment's status check (gate.py)
    # when the callback was recorded: the taken-over row waits for it to reopen.
    async with services.db.read() as conn:
        row = (await conn.execute(select(callbacks).where(callbacks.c.id == receipt.callback_id))).one()
    assert row.outcome == "recorded" and row.next_attempt_at <= row.received_at + gate.CHECK_INTERVAL_SECONDS
    clock.advance(row.next_attempt_at - clock())
    assert await callback_confirmation.run_due_once(second_services) == 1
    async with services.db.read() as conn:
        row = (await conn.execute(select(callbacks).where(callbacks.c.id == receipt.callback_id))).one()
    assert row.outcome == "confirmed"
