"""flows/order_links.py: after the charge reached Saleor, the payment's order and customer e-mail are learnt from Saleor."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import delete

from saleor_lengo.db.schema import payment_orders
from saleor_lengo.flows import order_links
from saleor_lengo.outbox import relay
from saleor_lengo.pressure import RequestPressure
from saleor_lengo.services import Services
from saleor_lengo.simulator.api import LengoState
from tests.faults.ledger import Clock
from tests.fakes.payment_rows import paid_payment
from tests.fakes.saleor import FakeSaleor
from tests.orders.helpers import EMAIL, charged, link_of, owner_queries

pytestmark = pytest.mark.usefixtures("installed")


async def test_an_order_already_placed_is_linked_at_once_with_the_email_encrypted(
    services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    payment = await charged(services, installed, lengo)
    installed.set_owner(payment.saleor_transaction_id, order=("T3JkZXI6MQ==", "1042", EMAIL))

    await order_links.run_once(services)

    link = await link_of(services, payment.id)
    assert (link.order_id, link.order_number, link.done_at) == ("T3JkZXI6MQ==", "1042", clock())
    assert link.email_masked == "a•••@example.com"
    assert "amadou" not in link.email_enc.lower() and services.cipher.decrypt(link.email_enc) == EMAIL.lower()
    assert link.email_hash == services.cipher.lookup_hash(EMAIL.lower())
    [query] = owner_queries(installed)
    assert query["variables"] == {"id": payment.saleor_transaction_id} and query["token"] == installed.app_token
    clock.advance(order_links.GIVE_UP_SECONDS)
    await order_links.run_once(services)
    assert len(owner_queries(installed)) == 1  # settled: never asked again


async def test_nothing_is_asked_before_the_charge_reached_saleor(
    services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    payment = await paid_payment(services, installed, lengo)  # its CHARGE_SUCCESS still pending in the outbox

    await order_links.run_once(services)

    assert owner_queries(installed) == [] and await link_of(services, payment.id) is None


async def test_a_checkout_not_yet_completed_is_asked_again_until_the_order_exists(
    services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    payment = await charged(services, installed, lengo)
    installed.set_owner(payment.saleor_transaction_id, checkout=("Q2hlY2tvdXQ6YQ==", EMAIL))

    await order_links.run_once(services)
    link = await link_of(services, payment.id)
    assert (link.checkout_id, link.order_id, link.done_at) == ("Q2hlY2tvdXQ6YQ==", None, None)
    assert link.email_masked == "a•••@example.com"
    first_wait = link.next_attempt_at - clock()
    assert order_links.FIRST_RETRY_SECONDS / 2 <= first_wait <= order_links.FIRST_RETRY_SECONDS

    await order_links.run_once(services)  # not due yet
    assert len(owner_queries(installed)) == 1
    clock.advance(first_wait)
    await order_links.run_once(services)
    link = await link_of(services, payment.id)
    assert link.attempts == 2 and link.next_attempt_at - clock() > first_wait / 2  # backing off

    installed.set_owner(payment.saleor_transaction_id, order=("T3JkZXI6Nw==", "7", EMAIL))
    clock.advance(link.next_attempt_at - clock())
    await order_links.run_once(services)
    link = await link_of(services, payment.id)
    assert (link.order_number, link.checkout_id, link.done_at) == ("7", "Q2hlY2tvdXQ6YQ==", clock())
    assert len(owner_queries(installed)) == 3


async def test_the_search_stops_a_day_after_the_charge_keeping_the_checkout(
    services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    payment = await charged(services, installed, lengo)
    installed.set_owner(payment.saleor_transaction_id, checkout=("Q2hlY2tvdXQ6Yg==", None))

    for _ in range(200):
        await order_links.run_once(services)
        clock.advance(order_links.MAX_RETRY_SECONDS)
    link = await link_of(services, payment.id)
    assert link.done_at is not None and link.order_id is None and link.checkout_id == "Q2hlY2tvdXQ6Yg=="
    assert link.done_at - link.charged_at <= order_links.GIVE_UP_SECONDS + order_links.MAX_RETRY_SECONDS
    asked = len(owner_queries(installed))
    assert 24 <= asked <= 100  # spaced out by the backoff, not once a pass
    clock.advance(order_links.GIVE_UP_SECONDS)
    await order_links.run_once(services)
    assert len(owner_queries(installed)) == asked


async def test_saleor_down_is_asked_again_later(
    services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    payment = await charged(services, installed, lengo)
    installed.set_owner(payment.saleor_transaction_id, order=("T3JkZXI6OQ==", "9", None))
    installed.down = 1

    await order_links.run_once(services)
    link = await link_of(services, payment.id)
    assert link.done_at is None and link.order_id is None and "503" in link.last_error

    clock.advance(order_links.FIRST_RETRY_SECONDS)
    await order_links.run_once(services)
    link = await link_of(services, payment.id)
    assert (link.order_number, link.last_error, link.email_enc) == ("9", None, None)
    assert link.done_at is not None


async def test_two_processes_ask_saleor_once(
    services: Services, second_services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    payment = await charged(services, installed, lengo)
    installed.set_owner(payment.saleor_transaction_id, order=("T3JkZXI6Mg==", "2", EMAIL))
    both_claimed = asyncio.Event()
    waiting = 0
    ask = order_links._ask

    async def slow_ask(svc: Services, inst: object, transaction_ids: list[str]) -> object:
        # The first to claim waits for the other's pass before asking: both overlap.
        nonlocal waiting
        waiting += 1
        await asyncio.wait_for(both_claimed.wait(), timeout=5)
        return await ask(svc, inst, transaction_ids)  # type: ignore[arg-type]

    monkeypatch.setattr(order_links, "_ask", slow_ask)

    async def second() -> int:
        while waiting == 0:
            await asyncio.sleep(0.01)
        done = await order_links.run_once(second_services)
        both_claimed.set()
        return done

    counts = await asyncio.gather(order_links.run_once(services), second())

    assert sorted(counts) == [0, 1] and len(owner_queries(installed)) == 1
    assert (await link_of(services, payment.id)).order_number == "2"


async def test_an_answer_too_big_for_the_columns_is_cut_and_a_bad_email_not_kept(
    services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    payment = await charged(services, installed, lengo)
    installed.set_owner(payment.saleor_transaction_id, order=("O" * 1000, "9" * 1000, "not an e-mail"))

    await order_links.run_once(services)

    link = await link_of(services, payment.id)
    assert (len(link.order_id), len(link.order_number), link.email_enc) == (255, 64, None)


def test_the_loop_runs_inside_serve() -> None:
    from saleor_lengo import workers

    assert order_links.run_forever in workers.LOOPS



async def test_the_relay_opens_the_link_in_the_transaction_that_records_the_charge_delivered(
    services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    payment = await paid_payment(services, installed, lengo)
    assert await link_of(services, payment.id) is None

    await relay.run_once(services)  # the CHARGE_SUCCESS reaches Saleor; the order links loop has not run

    link = await link_of(services, payment.id)
    assert (link.charged_at, link.next_attempt_at, link.attempts, link.done_at) == (clock(), clock(), 0, None)
    assert owner_queries(installed) == []


async def test_charges_delivered_without_a_link_row_are_found_once_when_the_loop_starts(
    services: Services, installed: FakeSaleor, lengo: LengoState
) -> None:
    """An upgrade from a version whose relay made no link rows: the loop's first pass backfills them."""
    first = await charged(services, installed, lengo)
    second = await charged(services, installed, lengo)
    async with services.db.write() as conn:
        await conn.execute(delete(payment_orders))

    await order_links.run_once(services)
    assert await link_of(services, first.id) is None  # a pass alone no longer scans the outbox

    assert await order_links.backfill(services) == 2
    assert {(await link_of(services, p.id)).payment_id for p in (first, second)} == {first.id, second.id}
    assert await order_links.backfill(services) == 0


class AlwaysBusy(RequestPressure):
    """Requests pouring in without end."""

    def busy(self) -> bool:
        return True


async def test_a_burst_of_requests_holds_the_lookups_back_for_a_while_never_for_good(
    services: Services, installed: FakeSaleor, lengo: LengoState, monkeypatch: pytest.MonkeyPatch
) -> None:
    payment = await charged(services, installed, lengo)
    installed.set_owner(payment.saleor_transaction_id, order=("T3JkZXI6MQ==", "1042", EMAIL))
    monkeypatch.setattr(services.callback_queue, "pressure", AlwaysBusy())
    monkeypatch.setattr(order_links, "MAX_DEFERRED_PASSES", 5)
    # The loop's waits, on the injected sleep: each one notes how many lookups Saleor had seen.
    lookups_at_each_wait: list[int] = []
    waited: list[float] = []

    async def sleep(seconds: float) -> None:
        waited.append(seconds)
        lookups_at_each_wait.append(len(owner_queries(installed)))
        await asyncio.sleep(0)

    monkeypatch.setattr(services, "sleep", sleep)

    loop = asyncio.create_task(order_links.run_forever(services))
    try:
        for _ in range(200):
            if len(lookups_at_each_wait) > 6:
                break
            await asyncio.sleep(0.01)
    finally:
        loop.cancel()
        with pytest.raises(asyncio.CancelledError):
            await loop
    # Callbacks go first while requests pour in: five deferred passes, no lookup; then the burst
    # goes on, and the sixth pass runs anyway (a lookup before the next wait).
    assert lookups_at_each_wait[:6] == [0, 0, 0, 0, 0, 1]
    assert set(waited) == {order_links.POLL_SECONDS}
    assert len(owner_queries(installed)) == 1
    assert (await link_of(services, payment.id)).order_number == "1042"


async def test_a_pass_stops_between_batches_when_a_burst_begins(
    services: Services, installed: FakeSaleor, lengo: LengoState, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(3):
        await charged(services, installed, lengo)
    monkeypatch.setattr(order_links, "BATCH_SIZE", 1)
    monkeypatch.setattr(services.callback_queue, "pressure", AlwaysBusy())

    done = await order_links.run_once(services, pressure=services.callback_queue.pressure)

    assert done == 1 and len(owner_queries(installed)) == 1
    assert await order_links.run_once(services) == 2  # without pressure, the rest


async def test_a_batch_of_links_asks_saleor_in_batched_requests_where_saleor_takes_them(
    services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    installed.batch_max_count = order_links.QUERIES_PER_REQUEST
    made = [await charged(services, installed, lengo) for _ in range(12)]
    for n, payment in enumerate(made):
        installed.set_owner(payment.saleor_transaction_id, order=(f"T3JkZXI6{n}", str(n), EMAIL))
    requests_before = len(installed.graphql_requests)

    assert await order_links.run_once(services) == 12

    # 12 lookups in two requests (10 + 2), each answer on its own payment's link.
    assert installed.graphql_requests[requests_before:] == [10, 2]
    assert sorted(q["variables"]["id"] for q in owner_queries(installed)) == sorted(p.saleor_transaction_id for p in made)
    for n, payment in enumerate(made):
        link = await link_of(services, payment.id)
        assert (link.order_number, link.done_at, link.attempts) == (str(n), clock(), 1)


async def test_a_saleor_refusing_batches_is_asked_one_lookup_per_request_and_remembered(
    services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    made = [await charged(services, installed, lengo) for _ in range(3)]
    for payment in made[:2]:
        installed.set_owner(payment.saleor_transaction_id, checkout=("Q2hlY2tvdXQ6Yw==", EMAIL))
    installed.set_owner(made[2].saleor_transaction_id, order=("T3JkZXI6Mw==", "3", EMAIL))  # Saleor's default: no batches
    requests_before = len(installed.graphql_requests)

    assert await order_links.run_once(services) == 3

    # The batch refused (0 operations run), then one request per lookup.
    assert installed.graphql_requests[requests_before:] == [0, 1, 1, 1]
    assert (await link_of(services, made[2].id)).order_number == "3"
    # Remembered: the checkouts asked again later go one per request at once, no batch tried first.
    clock.advance(order_links.FIRST_RETRY_SECONDS)
    requests_before = len(installed.graphql_requests)
    assert await order_links.run_once(services) == 2
    assert installed.graphql_requests[requests_before:] == [1, 1]


async def test_a_batch_that_fails_is_left_out_of_the_pass_and_taken_by_the_next(
    services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = [await charged(services, installed, lengo) for _ in range(3)]
    for n, payment in enumerate(made):
        installed.set_owner(payment.saleor_transaction_id, order=(f"T3JkZXI6{n}", str(n), EMAIL))
    monkeypatch.setattr(order_links, "BATCH_SIZE", 1)
    work = order_links.work
    calls: list[list[int]] = []

    async def failing_once(svc: Services, link_ids: list[int]) -> None:
        calls.append(link_ids)
        if len(calls) == 1:
            raise RuntimeError("the database went away")
        await work(svc, link_ids)

    monkeypatch.setattr(order_links, "work", failing_once)

    assert await order_links.run_once(services) == 3
    # The failed link was not claimed again within the pass (no endless retry of a failure)...
    assert len(calls) == 3 and len({ids[0] for ids in calls}) == 3
    assert len(owner_queries(installed)) == 2
    # ...and once the heartbeat has given its lease back, the next pass (the clock unmoved) takes it.
    await services.leases.beat()
    assert await order_links.run_once(services) == 1
    assert [(await link_of(services, p.id)).order_number for p in made] == ["0", "1", "2"]


async def test_a_pass_over_a_backlog_claims_each_batch_without_carrying_the_links_already_worked(
    services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(4):
        await charged(services, installed, lengo)
    monkeypatch.setattr(order_links, "BATCH_SIZE", 1)
    claim = order_links.claim
    excluded: list[int] = []

    async def watched(svc: Services, *, limit: int, exclude: list[int]) -> list[int]:
        excluded.append(len(exclude))
        return await claim(svc, limit=limit, exclude=exclude)

    monkeypatch.setattr(order_links, "claim", watched)

    assert await order_links.run_once(services) == 4
    # Each claim's query stays the same size however long the backlog (it was all the pass's ids).
    assert excluded == [0, 0, 0, 0, 0]
