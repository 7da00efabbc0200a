"""The outbox relay: every committed event reaches Saleor once, through outages, repeats, crashes and replicas.

Outbox rows are made the real way — a Lengo status applied through the
state machine — on payments put in the database directly. What counts is
what the fake Saleor keeps (it deduplicates like Saleor).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs
from sqlalchemy import insert, update
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from saleor_lengo.configurations import Configuration
from saleor_lengo.db import leases
from saleor_lengo.db.schema import lease_holders, outbox
from saleor_lengo.outbox import admin, relay
from saleor_lengo.services import Services, build_services
from saleor_lengo.simulator.api import LengoState
from saleor_lengo import workers
from saleor_lengo.callbacks import confirmation as callback_confirm
from tests.conftest import WriteCounter, configure_channel, register
from tests.fakes.factories import make_payment
from tests.fakes.saleor import FakeSaleor
from tests.helpers.in_flight import InFlight
from tests.helpers.outbox import later, lengo_says, paid_payment, report_calls, rows
from tests.leases import dead_holder


@pytest.fixture
async def second_services(
    services: Services, transports: dict[str, httpx.AsyncBaseTransport]
) -> AsyncIterator[Services]:
    """Another process on the same database: its own engine, HTTP client and memory."""
    http = httpx.AsyncClient(mounts=dict(transports), follow_redirects=False)
    other = build_services(services.settings, http=http)
    yield other
    await other.aclose()


async def test_while_saleor_is_down_nothing_is_lost_and_once_up_everything_is_delivered_in_order_per_payment(
    services: Services, installed: FakeSaleor, lengo: LengoState, config: Configuration
) -> None:
    late = await make_payment(services, installed, lengo, config)
    await lengo_says(services, late, "FAILED")
    await lengo_says(services, late, "SUCCESS")  # paid after the failure was reported
    paid = await paid_payment(services, installed, lengo, config, amount=Decimal("250000"))
    declined = await make_payment(services, installed, lengo, config)
    await lengo_says(services, declined, "FAILED")
    installed.down = -1

    assert await relay.run_once(services) == 0
    assert await relay.run_once(services) == 0  # backing off: nothing is due again yet

    assert [r.state for r in await rows(services)] == ["pending"] * 4
    assert all("503" in r.last_error for r in await rows(services) if r.attempts)
    assert installed.transactions[paid.transaction_id] == []

    installed.down = 0
    later(services, 3600)
    assert await relay.run_once(services) == 4

    assert [r.state for r in await rows(services)] == ["delivered"] * 4
    assert [e.type for e in installed.events(late.transaction_id)] == ["CHARGE_FAILURE", "CHARGE_SUCCESS"]
    assert installed.charged_amount(paid.transaction_id) == Decimal("250000")
    assert [e.type for e in installed.events(declined.transaction_id)] == ["CHARGE_FAILURE"]


async def test_a_later_event_waits_while_an_earlier_one_of_the_same_payment_is_pending_but_other_payments_do_not(
    services: Services, installed: FakeSaleor, lengo: LengoState, config: Configuration
) -> None:
    late = await make_payment(services, installed, lengo, config)
    await lengo_says(services, late, "FAILED")
    installed.down = 1  # the failure's delivery hits an outage
    assert await relay.run_once(services) == 0

    await lengo_says(services, late, "SUCCESS")  # due now, but its payment's failure is not delivered yet
    other = await paid_payment(services, installed, lengo, config)
    assert await relay.run_once(services) == 1

    assert installed.events(late.transaction_id) == []
    assert len(installed.events(other.transaction_id, "CHARGE_SUCCESS")) == 1

    later(services, 3600)
    assert await relay.run_once(services) == 2
    assert [e.type for e in installed.events(late.transaction_id)] == ["CHARGE_FAILURE", "CHARGE_SUCCESS"]


async def test_already_processed_counts_as_delivered(
    services: Services, installed: FakeSaleor, lengo: LengoState, config: Configuration
) -> None:
    made = await paid_payment(services, installed, lengo, config)
    # Saleor already has it: the storefront's process call answered CHARGE_SUCCESS first.
    installed.record_sync_answer(
        made.transaction_id, {"result": "CHARGE_SUCCESS", "pspReference": made.pay_id, "amount": made.amount}
    )

    assert await relay.run_once(services) == 1

    [row] = await rows(services, made.id)
    assert (row.state, row.already_processed, row.last_error) == ("delivered", True, None)
    assert len(installed.events(made.transaction_id, "CHARGE_SUCCESS")) == 1


async def test_a_repeat_delivery_after_a_lost_commit_still_leaves_one_event_in_saleor(
    services: Services, installed: FakeSaleor, lengo: LengoState, config: Configuration
) -> None:
    made = await paid_payment(services, installed, lengo, config)
    assert await relay.run_once(services) == 1
    # As if the process died after Saleor answered, before "delivered" was committed.
    async with services.db.write() as conn:
        await conn.execute(update(outbox).values(state="pending", delivered_at=None, already_processed=None))

    assert await relay.run_once(services) == 1

    assert report_calls(installed) == 2
    assert len(installed.events(made.transaction_id, "CHARGE_SUCCESS")) == 1
    [row] = await rows(services, made.id)
    assert (row.state, row.already_processed) == ("delivered", True)


async def test_an_event_saleor_holds_with_another_amount_is_a_dead_letter_with_the_reason(
    services: Services, installed: FakeSaleor, lengo: LengoState, config: Configuration
) -> None:
    made = await paid_payment(services, installed, lengo, config)
    installed.record_sync_answer(
        made.transaction_id, {"result": "CHARGE_SUCCESS", "pspReference": made.pay_id, "amount": Decimal("1000")}
    )

    assert await relay.run_once(services) == 0
    later(services, 3600)
    assert await relay.run_once(services) == 0  # a dead letter is not retried by itself

    [row] = await rows(services, made.id)
    assert row.state == "dead"
    assert "INCORRECT_DETAILS" in row.last_error
    assert report_calls(installed) == 1
    assert [e.id for e in await admin.list_entries(services.db, state="dead")] == [row.id]


async def test_an_unknown_transaction_is_a_dead_letter_and_a_retry_delivers_it_once_the_cause_is_fixed(
    services: Services, installed: FakeSaleor, lengo: LengoState, config: Configuration
) -> None:
    made = await paid_payment(services, installed, lengo, config, open_in_saleor=False)

    assert await relay.run_once(services) == 0
    [row] = await rows(services, made.id)
    assert row.state == "dead"
    assert "NOT_FOUND" in row.last_error

    installed.open_transaction(made.transaction_id)
    retried = await admin.retry(services.db, row.id, now=services.clock())
    assert (retried.state, retried.attempts) == ("pending", 0)
    assert await relay.run_once(services) == 1

    assert len(installed.events(made.transaction_id, "CHARGE_SUCCESS")) == 1
    [row] = await rows(services, made.id)
    assert (row.state, row.last_error) == ("delivered", None)


async def test_an_uninstalled_app_is_a_dead_letter_saying_so_and_retry_all_dead_delivers_after_reinstall(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState, config: Configuration
) -> None:
    first = await paid_payment(services, installed, lengo, config)
    second = await paid_payment(services, installed, lengo, config)
    installed.installed = False

    assert await relay.run_once(services) == 0
    assert {r.state for r in await rows(services)} == {"dead"}
    assert all("uninstalled" in r.last_error.lower() for r in await rows(services))

    installed.reinstall()
    assert (await register(client, installed)).status_code == 200
    assert await admin.retry_all_dead(services.db, now=services.clock()) == 2
    assert await relay.run_once(services) == 2

    assert len(installed.events(first.transaction_id, "CHARGE_SUCCESS")) == 1
    assert len(installed.events(second.transaction_id, "CHARGE_SUCCESS")) == 1


async def test_a_delivered_row_cannot_be_retried(
    services: Services, installed: FakeSaleor, lengo: LengoState, config: Configuration
) -> None:
    made = await paid_payment(services, installed, lengo, config)
    await relay.run_once(services)
    [row] = await rows(services, made.id)

    with pytest.raises(admin.NotRetryable):
        await admin.retry(services.db, row.id, now=services.clock())
    with pytest.raises(admin.NotRetryable):
        await admin.retry(services.db, row.id + 1000, now=services.clock())


async def test_a_row_committed_before_a_crash_is_delivered_by_a_new_process(
    services: Services, installed: FakeSaleor, lengo: LengoState, config: Configuration, second_services: Services
) -> None:
    made = await paid_payment(services, installed, lengo, config)  # committed; this process never relays it

    assert await relay.run_once(second_services) == 1

    assert len(installed.events(made.transaction_id, "CHARGE_SUCCESS")) == 1


async def test_a_row_leased_by_a_relay_that_died_is_taken_over_as_soon_as_its_death_is_known(
    services: Services, installed: FakeSaleor, lengo: LengoState, config: Configuration, second_services: Services
) -> None:
    made = await paid_payment(services, installed, lengo, config)
    async with services.db.write() as conn:  # claimed by a relay on this host that was then killed
        await conn.execute(insert(lease_holders).values(dead_holder(second_services.leases.host, services.clock())))
        await conn.execute(
            update(outbox).values(lease_owner="dead-relay", lease_until=services.clock() + leases.LEASE_SECONDS)
        )

    assert await relay.run_once(second_services) == 0  # its holder is not known dead yet
    assert await second_services.leases.beat() == ["dead-relay"]  # no clock moved: the pid is gone
    assert await relay.run_once(second_services) == 1

    assert len(installed.events(made.transaction_id, "CHARGE_SUCCESS")) == 1


async def test_two_relays_on_one_database_deliver_each_row_once(
    services: Services, installed: FakeSaleor, lengo: LengoState, config: Configuration, second_services: Services
) -> None:
    made = [await paid_payment(services, installed, lengo, config) for _ in range(30)]

    delivered = await asyncio.gather(relay.run_once(services), relay.run_once(second_services))

    assert sum(delivered) == 30
    assert report_calls(installed) == 30
    assert all(len(installed.events(m.transaction_id, "CHARGE_SUCCESS")) == 1 for m in made)
    assert {(r.state, r.already_processed, r.attempts) for r in await rows(services)} == {("delivered", False, 1)}


async def test_the_relay_loop_is_woken_by_the_outbox_signal(
    services: Services, installed: FakeSaleor, lengo: LengoState, config: Configuration
) -> None:
    loop = asyncio.create_task(relay.run_forever(services))
    try:
        await asyncio.sleep(0.05)  # the first pass found nothing and now waits
        made = await paid_payment(services, installed, lengo, config)
        services.wakeups.outbox.set()
        for _ in range(100):
            if [r.state for r in await rows(services)] == ["delivered"]:
                break
            await asyncio.sleep(0.02)  # far below the relay's poll interval
        await asyncio.sleep(0.1)  # its pass ends with an empty claim: stop it while it waits, not mid-query
    finally:
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)

    assert len(installed.events(made.transaction_id, "CHARGE_SUCCESS")) == 1


async def test_the_report_carries_the_events_fields(
    services: Services, installed: FakeSaleor, lengo: LengoState, config: Configuration
) -> None:
    made = await paid_payment(services, installed, lengo, config)

    await relay.run_once(services)

    [call] = [c for c in installed.graphql_calls if "transactionEventReport" in c["query"]]
    sent = call["variables"]
    assert call["token"] == installed.app_token
    assert (sent["id"], sent["type"], sent["amount"], sent["pspReference"]) == (
        made.transaction_id, "CHARGE_SUCCESS", "150000", made.pay_id,
    )
    # The link leads staff to the payment in the app's page in the Dashboard (Saleor 3.23's routes).
    assert sent["externalUrl"] == f"http://saleor.test/dashboard/extensions/app/QXBwOjE%3D?payment={made.id}"
    assert sent["time"].endswith("+00:00")
    assert sent["message"] == (
        "Paid on Lengo Pay with Orange Money: GNF\u00a0150,000. TEST PAYMENT (custom): no real money."
    )


async def test_a_french_shop_gets_its_reports_in_french_with_amounts_as_its_dashboard_writes_them(
    services: Services, installed: FakeSaleor, lengo: LengoState
) -> None:
    config = await configure_channel(services, installed, language="fr")
    made = await paid_payment(services, installed, lengo, config)

    await relay.run_once(services)

    [call] = [c for c in installed.graphql_calls if "transactionEventReport" in c["query"]]
    assert call["variables"]["message"] == (
        "Payé sur Lengo Pay avec Orange Money\u00a0: 150\u202f000\u00a0GNF. PAIEMENT DE TEST (custom)\u00a0: pas d'argent réel."
    )
    # The app's own pages keep the English.
    [row] = await rows(services, made.id)
    assert row.message == "Paid on Lengo Pay with Orange Money: 150000 GNF. TEST PAYMENT (custom): no real money."


async def test_a_row_kept_without_words_is_sent_with_its_stored_message(
    services: Services, installed: FakeSaleor, lengo: LengoState
) -> None:
    # Rows written before messages were kept as words carry their English message only.
    config = await configure_channel(services, installed, language="fr")
    made = await paid_payment(services, installed, lengo, config)
    async with services.db.write() as conn:
        await conn.execute(update(outbox).where(outbox.c.payment_id == made.id).values(words=None, message="Paid (old row)."))

    await relay.run_once(services)

    [call] = [c for c in installed.graphql_calls if "transactionEventReport" in c["query"]]
    assert call["variables"]["message"] == "Paid (old row)."


def test_the_backoff_grows_exponentially_with_jitter_and_is_capped() -> None:
    rng = random.Random(7)
    delays = [relay.retry_delay(n, rng) for n in range(1, 20)]

    assert relay.FIRST_RETRY_SECONDS / 2 <= delays[0] <= relay.FIRST_RETRY_SECONDS
    assert relay.FIRST_RETRY_SECONDS * 4 <= delays[4] <= relay.FIRST_RETRY_SECONDS * 16
    assert max(delays) <= relay.MAX_RETRY_SECONDS
    assert len({round(d, 6) for d in delays[-5:]}) == 5  # jittered, not in lockstep


def test_serve_runs_the_relay_and_the_callback_retry_loop() -> None:
    assert relay.run_forever in workers.LOOPS
    assert callback_confirm.run_forever in workers.LOOPS


async def test_a_batch_goes_out_after_one_probe_in_concurrent_batched_requests_and_its_verdicts_are_written_together(
    services: Services, installed: FakeSaleor, lengo: LengoState, config: Configuration, monkeypatch: pytest.MonkeyPatch
) -> None:
    installed.batch_max_count = 10  # an operator raised Saleor's GRAPHQL_BATCH_MAX_COUNT (default 1)
    made = [await paid_payment(services, installed, lengo, config, amount=Decimal(10_000 + i)) for i in range(22)]
    batches = InFlight(services.saleor.graphql_batch, delay=0.01)
    monkeypatch.setattr(services.saleor, "graphql_batch", batches)
    await services.leases.ensure()  # this process registered as a lease holder (once, at its first claim)
    writes = WriteCounter(monkeypatch, services.db)
    requests_before = len(installed.graphql_requests)

    assert await relay.run_once(services) == 22

    # The probe alone, then the other 21 in three requests of seven, all three at once.
    assert installed.graphql_requests[requests_before:] == [1, 7, 7, 7]
    assert batches.most == 3
    assert writes.count == 1 + 1 + 1 + 1  # the claim, the probe's verdict, the others' verdicts, the empty claim
    delivered = {r.payment_id: r for r in await rows(services)}
    for m in made:
        [event] = installed.events(m.transaction_id, "CHARGE_SUCCESS")
        assert event.amount == m.amount
        # Each report's own result reached its own row, whichever request carried it.
        assert (delivered[m.id].state, delivered[m.id].saleor_event_id) == (relay.DELIVERED, event.id)
    assert await relay.run_once(services) == 0


async def test_a_report_refused_inside_a_batched_request_gets_its_own_verdict_and_the_others_are_delivered(
    services: Services, installed: FakeSaleor, lengo: LengoState, config: Configuration
) -> None:
    installed.batch_max_count = 10
    probe = await paid_payment(services, installed, lengo, config)
    fine = await paid_payment(services, installed, lengo, config)
    unknown = await paid_payment(services, installed, lengo, config, open_in_saleor=False)
    conflicting = await paid_payment(services, installed, lengo, config)
    installed.record_sync_answer(
        conflicting.transaction_id, {"result": "CHARGE_SUCCESS", "pspReference": conflicting.pay_id, "amount": Decimal("1")}
    )
    also_fine = await paid_payment(services, installed, lengo, config)
    requests_before = len(installed.graphql_requests)

    assert await relay.run_once(services) == 3

    assert installed.graphql_requests[requests_before:] == [1, 4]
    by_payment = {r.payment_id: r for r in await rows(services)}
    for m in (probe, fine, also_fine):
        assert by_payment[m.id].state == relay.DELIVERED
        assert len(installed.events(m.transaction_id, "CHARGE_SUCCESS")) == 1
    assert (by_payment[unknown.id].state, by_payment[conflicting.id].state) == (relay.DEAD, relay.DEAD)
    assert "NOT_FOUND" in by_payment[unknown.id].last_error
    assert "INCORRECT_DETAILS" in by_payment[conflicting.id].last_error


@dataclass
class SaleorFailingBatches(FakeSaleor):
    """Answers 503 to the first `failing` batched requests; single operations go through."""

    failing: int = 0
    batch_max_count: int = 10

    async def _graphql(self, request: Request) -> Response:
        if self.failing and (await request.body()).lstrip().startswith(b"["):
            self.failing -= 1
            self.graphql_requests.append(0)
            return Response("Service Unavailable", status_code=503)
        return await super()._graphql(request)


@dataclass
class SaleorWithoutBatching(FakeSaleor):
    """A GraphQL server that reads a list body as one operation without a query, as servers without batching do."""

    async def _graphql(self, request: Request) -> Response:
        if (await request.body()).lstrip().startswith(b"["):
            self.graphql_requests.append(0)
            return JSONResponse({"errors": [{"message": "Must provide a query string."}]}, status_code=400)
        return await super()._graphql(request)


@pytest.fixture
def fake_saleor(request: pytest.FixtureRequest) -> FakeSaleor:
    """The conftest's fake Saleor, or the kind a test names (a new one for each database it runs on)."""
    make: Callable[[], FakeSaleor] = getattr(request, "param", FakeSaleor)
    return make()


@pytest.mark.parametrize("fake_saleor", [lambda: SaleorFailingBatches(failing=1)], ids=["batch-503"], indirect=True)
async def test_a_batched_request_that_fails_as_a_whole_leaves_each_of_its_reports_to_be_retried(
    services: Services, installed: SaleorFailingBatches, lengo: LengoState, config: Configuration
) -> None:
    made = [await paid_payment(services, installed, lengo, config) for _ in range(4)]

    assert await relay.run_once(services) == 1  # the probe; the batch of the other three met a 503

    states = [(r.state, r.attempts, "503" in (r.last_error or "")) for r in await rows(services)]
    assert states == [(relay.DELIVERED, 1, False)] + [(relay.PENDING, 1, True)] * 3
    later(services, 3600)
    assert await relay.run_once(services) == 3
    for m in made:
        assert len(installed.events(m.transaction_id, "CHARGE_SUCCESS")) == 1


@pytest.mark.parametrize("fake_saleor", [SaleorWithoutBatching], ids=["no-batching"], indirect=True)
async def test_a_saleor_that_does_not_take_batches_gets_the_reports_one_by_one(
    services: Services, installed: SaleorWithoutBatching, lengo: LengoState, config: Configuration
) -> None:
    made = [await paid_payment(services, installed, lengo, config) for _ in range(5)]
    requests_before = len(installed.graphql_requests)

    assert await relay.run_once(services) == 5

    # The probe, the refused batch (0 operations run), then the four one by one.
    assert installed.graphql_requests[requests_before:] == [1, 0, 1, 1, 1, 1]
    assert {r.state for r in await rows(services)} == {relay.DELIVERED}
    for m in made:
        assert len(installed.events(m.transaction_id, "CHARGE_SUCCESS")) == 1


async def test_a_stock_saleor_refuses_batches_so_the_relay_sends_one_report_per_request_for_an_hour(
    services: Services, installed: FakeSaleor, lengo: LengoState, config: Configuration, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert installed.batch_max_count == 1  # Saleor's default GRAPHQL_BATCH_MAX_COUNT
    singles = InFlight(services.saleor.graphql, delay=0.005)
    monkeypatch.setattr(services.saleor, "graphql", singles)
    first = [await paid_payment(services, installed, lengo, config) for _ in range(25)]
    before = len(installed.graphql_requests)

    with capture_logs() as logs:
        assert await relay.run_once(services) == 25

    # The probe; then each chunk's batch is refused (at most 4 batched requests at a time) and its
    # rows go one after another in that chunk's slot.
    sent = installed.graphql_requests[before:]
    assert sent[0] == 1 and sent.count(1) == 25 and 1 <= sent.count(0) <= relay.MAX_REQUESTS_IN_FLIGHT
    assert 1 < singles.most <= relay.MAX_REQUESTS_IN_FLIGHT
    assert [e["event"] for e in logs if e["event"] == "outbox_batches_refused"] == ["outbox_batches_refused"]
    assert all(len(installed.events(m.transaction_id, "CHARGE_SUCCESS")) == 1 for m in first)

    # Within the hour: one report per request straight away, no batch tried, 8 at a time.
    later(services, 3000)
    more = [await paid_payment(services, installed, lengo, config) for _ in range(20)]
    before, singles.most = len(installed.graphql_requests), 0
    assert await relay.run_once(services) == 20
    assert installed.graphql_requests[before:] == [1] * 20
    assert singles.most == relay.MAX_SINGLE_REQUESTS_IN_FLIGHT

    # After it, a batch is tried again: the operator may have raised the setting meanwhile.
    later(services, 700)
    installed.batch_max_count = 10
    last = [await paid_payment(services, installed, lengo, config) for _ in range(10)]
    before = len(installed.graphql_requests)
    assert await relay.run_once(services) == 10
    assert installed.graphql_requests[before:] == [10]
    assert all(len(installed.events(m.transaction_id, "CHARGE_SUCCESS")) == 1 for m in [*more, *last])
