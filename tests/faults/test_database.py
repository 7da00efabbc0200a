"""The database briefly unavailable: what each sender is told, and nothing half-written.

Callbacks and action requests answer 503, since Lengo and Saleor send them
again. Session webhooks answer 200 with a well-formed result that says so
(`flows.storage_unavailable`), since Saleor never sends those again. Once
the database is back, nothing is half-written and nothing is stuck: every
payment Lengo reports paid is in Saleor exactly once.

The outage is the app's own engine failing (`tests.faults.outage`), on
SQLite and on PostgreSQL; one test has it strike each statement of a whole
checkout in turn. On PostgreSQL, the server also kills the app's
connections while a burst of callbacks and checkouts runs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from dataclasses import dataclass
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from saleor_lengo import pressure
from saleor_lengo.configurations import Configuration
from saleor_lengo.db import engine, schema
from saleor_lengo.lengo import vocabulary
from saleor_lengo.outbox import relay
from saleor_lengo.services import Services
from saleor_lengo.simulator.api import LengoState
from tests.conftest import keys_fetched_long_ago
from tests.fakes.factories import MadePayment, make_payment
from tests.fakes.saleor import FakeSaleor
from tests.faults.ledger import Clock, assert_nothing_half_written, assert_nothing_stuck, recover
from tests.faults.outage import DatabaseOutage
from tests.faults.shop import ACTION_EVENTS, AMOUNT, SESSION_EVENTS, Answered, Shop

# Fault injection.
pytestmark = pytest.mark.slow

UNAVAILABLE = "LENGO_UNAVAILABLE"
ISSUED_AT = "2026-11-28T03:50:07.100000+00:00"
TABLES = (schema.payments, schema.callbacks, schema.outbox, schema.action_answers, schema.payment_transitions)


@pytest.fixture
def shop(client: httpx.AsyncClient, installed: FakeSaleor) -> Shop:
    return Shop(client, installed)


@pytest.fixture(params=[False, True], ids=["statements-fail", "cannot-connect"])
async def outage(request: pytest.FixtureRequest, services: Services) -> AsyncIterator[DatabaseOutage]:
    outage = DatabaseOutage(services.db, cannot_connect=request.param)
    try:
        yield outage
    finally:
        outage.close()


async def row_counts(services: Services) -> dict[str, int]:
    async with services.db.read() as conn:
        return {t.name: (await conn.execute(select(func.count()).select_from(t))).scalar_one() for t in TABLES}


@pytest.fixture
async def paid(services: Services, installed: FakeSaleor, lengo: LengoState, config: Configuration) -> MadePayment:
    """A payment the shopper has paid at Lengo; the app has not heard of it yet."""
    made = await make_payment(services, installed, lengo, config)
    lengo.pay(made.pay_id)
    return made


@dataclass
class Answers:
    callback: list[int]
    actions: dict[str, Answered]
    gateway: Answered
    started: Answered
    processed: Answered


async def every_sender(shop: Shop, client: httpx.AsyncClient, lengo: LengoState, made: MadePayment) -> Answers:
    """Lengo's callback, each action request, then each session webhook, for `made` (and a new checkout)."""
    callback = await lengo.send_callback(made.pay_id, client)
    actions = {event: await shop.action(event, made.transaction_id, made.pay_id, issued_at=ISSUED_AT)
               for event in ACTION_EVENTS}
    gateway = await shop.gateway_initialize()
    _, started = await shop.initialize()
    processed = await shop.process(made.transaction_id, made.pay_id, made.amount)
    return Answers(callback, actions, gateway, started, processed)


async def senders_again_and_saleor_hears_once(
    services: Services, shop: Shop, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState, made: MadePayment
) -> None:
    """The database is back: Lengo and Saleor send theirs again; Saleor gets one CHARGE_SUCCESS."""
    assert await lengo.send_callback(made.pay_id, client) == [200]
    for event in ACTION_EVENTS:
        again = await shop.action(event, made.transaction_id, made.pay_id, issued_at=ISSUED_AT)
        assert again.status == 200, again
    await services.background.drain()
    assert await relay.run_once(services) == 1
    assert (await shop.process(made.transaction_id, made.pay_id, made.amount)).body["result"] == "CHARGE_SUCCESS"

    [success] = installed.events(made.transaction_id, "CHARGE_SUCCESS")
    assert success.amount == made.amount
    await assert_nothing_half_written(services)


async def test_while_the_database_is_down_senders_that_retry_get_503_and_session_webhooks_a_clear_answer(
    services: Services, shop: Shop, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState,
    paid: MadePayment, outage: DatabaseOutage,
) -> None:
    before, lengo_calls = await row_counts(services), len(lengo.calls)

    with outage.down():
        answers = await every_sender(shop, client, lengo, paid)

    assert outage.failures > 0
    assert answers.callback == [503]
    assert {event: a.status for event, a in answers.actions.items()} == dict.fromkeys(ACTION_EVENTS, 503)
    # Each session answer is HTTP 200 and valid for Saleor (Shop checks the schema).
    gateway, started, processed = answers.gateway, answers.started, answers.processed
    assert gateway.status == 200
    assert gateway.body["data"]["available"] is False
    assert gateway.body["data"]["error"]["code"] == UNAVAILABLE
    assert started.status == 200
    assert started.body["result"] == "CHARGE_FAILURE"
    assert started.body["data"]["error"]["code"] == UNAVAILABLE
    assert "database" in started.body["message"]
    assert "paymentUrl" not in started.body["data"]
    # Still open (the payment may be paid): the storefront asks again, the shopper does not pay twice.
    assert processed.status == 200
    assert processed.body["result"] == "CHARGE_ACTION_REQUIRED"
    assert processed.body["data"]["error"]["code"] == UNAVAILABLE
    assert "pspReference" not in processed.body and "amount" not in processed.body
    # Nothing written, nothing asked of Lengo (no payment link exists that nobody knows of).
    assert await row_counts(services) == before
    assert len(lengo.calls) == lengo_calls
    assert installed.events(paid.transaction_id, "CHARGE_SUCCESS") == []

    await senders_again_and_saleor_hears_once(services, shop, client, installed, lengo, paid)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_while_another_process_holds_sqlites_write_lock_writers_are_told_so_and_nothing_is_lost(
    services: Services, shop: Shop, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState,
    paid: MadePayment, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A `serve` worker or a CLI command keeping the write lock past the busy timeout: every write gives up."""
    monkeypatch.setattr(engine, "SQLITE_BUSY_TIMEOUT_MS", 50)  # the wait is the same code, only shorter
    before, lengo_calls = await row_counts(services), len(lengo.calls)
    outage = DatabaseOutage(services.db)

    with outage.locked():
        answers = await every_sender(shop, client, lengo, paid)
    outage.close()

    assert answers.callback == [503]
    assert {event: a.status for event, a in answers.actions.items()} == dict.fromkeys(ACTION_EVENTS, 503)
    assert answers.gateway.body["data"]["available"] is True  # reads never wait for the writer in WAL mode
    assert answers.started.body["result"] == "CHARGE_FAILURE"
    assert answers.started.body["data"]["error"]["code"] == UNAVAILABLE
    # Lengo says paid, but that cannot be stored yet: still open, and the storefront asks again.
    assert answers.processed.body["result"] == "CHARGE_ACTION_REQUIRED", answers.processed
    assert answers.processed.body["data"]["error"]["code"] == UNAVAILABLE
    assert await row_counts(services) == before
    # No payment link nobody knows of: only status questions (a cancelation asks first) reached Lengo.
    assert {path for _, path in lengo.calls[lengo_calls:]} <= {"/api/v1/transaction/status"}

    await senders_again_and_saleor_hears_once(services, shop, client, installed, lengo, paid)


async def test_process_during_an_outage_does_not_lose_a_payment_made_meanwhile(
    services: Services,
    shop: Shop,
    client: httpx.AsyncClient,
    installed: FakeSaleor,
    lengo: LengoState,
    config: Configuration,
    outage: DatabaseOutage,
    clock: Clock,
) -> None:
    tx, started = await shop.initialize()
    pay_id = started.body["pspReference"]
    lengo.pay(pay_id)

    with outage.down():
        # Lengo's callback cannot be recorded; the storefront's polls cannot be answered.
        assert await lengo.send_callback(pay_id, client) == [503]
        for _ in range(3):
            assert (await shop.process(tx, pay_id)).body["result"] == "CHARGE_ACTION_REQUIRED"

    # Lengo's callback never comes back (it gave up): the reconciler finds the payment.
    await recover(services, clock)

    [success] = installed.events(tx, "CHARGE_SUCCESS")
    assert success.amount == AMOUNT
    assert installed.events(tx, "CHARGE_FAILURE") == []
    await assert_nothing_half_written(services)
    await assert_nothing_stuck(services, paid=lambda p: lengo.payments[p].status == vocabulary.SUCCESS)


# --- A blip at each statement of a whole checkout ----------------------------------


async def checkout(
    shop: Shop,
    client: httpx.AsyncClient,
    lengo: LengoState,
    log: Counter[str],
    settle: Callable[[], Awaitable[None]],
    expire_copies: Callable[[], None],
) -> tuple[str, str]:
    """A shopper pays, as the senders do it: Saleor never resends a session webhook, the storefront
    starts a new transaction after a failed initialize, Lengo and Saleor resend what got a 503.

    Each checkout starts with this process's copies of the installation and
    configurations expired (as a second later in a busy app), so their reads
    are among the statements a blip can hit."""
    expire_copies()
    gateway = await shop.gateway_initialize()
    log["gateway " + ("available" if gateway.body["data"]["available"] else gateway.body["data"]["error"]["code"])] += 1
    for _ in range(3):
        tx, started = await shop.initialize()
        assert started.status == 200
        log["initialize " + started.body["result"]] += 1
        if started.body["result"] == "CHARGE_ACTION_REQUIRED":
            break
        assert started.body["data"]["error"]["code"] == UNAVAILABLE, started.body
    else:
        raise AssertionError("three initializes in a row failed after a single blip")
    pay_id = started.body["pspReference"]
    lengo.pay(pay_id)

    for _ in range(3):
        [status] = await lengo.send_callback(pay_id, client)
        log[f"callback {status}"] += 1
        assert status in (200, 503)
        if status == 200:
            break
    await settle()  # the confirmation in the background, then the relay
    processed = await shop.process(tx, pay_id)
    log["process " + processed.body["result"]] += 1
    assert processed.body["result"] in ("CHARGE_SUCCESS", "CHARGE_ACTION_REQUIRED"), processed.body

    for _ in range(3):
        refund = await shop.action("TRANSACTION_REFUND_REQUESTED", tx, pay_id, issued_at=ISSUED_AT, amount=AMOUNT)
        log[f"refund {refund.status}"] += 1
        assert refund.status in (200, 503)
        if refund.status == 200:
            assert refund.body["result"] == "REFUND_FAILURE"
            break
    return tx, pay_id


async def test_a_blip_at_any_statement_of_a_checkout_leaves_nothing_half_written_and_one_event_in_saleor(
    services: Services,
    client: httpx.AsyncClient,
    installed: FakeSaleor,
    lengo: LengoState,
    config: Configuration,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shop = Shop(client, installed)
    outage = DatabaseOutage(services.db)  # SQLite fails the statement itself; PostgreSQL loses its connection
    # Every checkout must run the statements the first one counted. This loop
    # sends requests as fast as the machine goes: on a fast one, above
    # pressure.BUSY_PER_SECOND, where callbacks are left to the confirmer loop
    # (a path with tests of its own, tests/callbacks/test_callbacks.py) and a checkout
    # runs fewer statements than counted. Never a burst here.
    monkeypatch.setattr(pressure, "BUSY_PER_SECOND", float("inf"))

    async def settle() -> None:
        await services.background.drain()
        with contextlib.suppress(SQLAlchemyError, OSError):  # as the relay loop of `serve` does
            await relay.run_once(services)

    with outage.counting():
        await checkout(shop, client, lengo, Counter(), settle, services.db.generation.bump)
    statements = outage.statements
    assert statements > 20, statements
    # Every kind of step of the path that runs in production is among those struck, the COMMITs included.
    kinds = set(outage.kinds)
    if services.db.is_sqlite:
        assert {"BEGIN", "BEGIN IMMEDIATE", "SAVEPOINT GROUPED_WRITE", "RELEASE GROUPED_WRITE", "COMMIT"} <= kinds, kinds
    else:
        assert "COMMIT" in kinds, kinds

    log: Counter[str] = Counter()
    paid: list[str] = []
    try:
        for k in range(1, statements + 1):
            with outage.counting(fail_at=frozenset({k})):
                tx, _ = await checkout(shop, client, lengo, log, settle, services.db.generation.bump)
            log[f"failed {outage.failures}"] += 1
            paid.append(tx)
            await recover(services, clock, rounds=1)
    finally:
        outage.close()

    await assert_nothing_half_written(services)
    await assert_nothing_stuck(services, paid=lambda p: lengo.payments[p].status == vocabulary.SUCCESS)
    for tx in paid:
        [success] = installed.events(tx, "CHARGE_SUCCESS")
        assert success.amount == AMOUNT
    # Every kind of degraded answer was met at least once.
    for seen in ("callback 503", "refund 503", "initialize CHARGE_FAILURE", "gateway LENGO_UNAVAILABLE"):
        assert log[seen], log
    assert log["failed 1"] >= statements * 0.9, log



# --- PostgreSQL: its connections killed under load ----------------------------------


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_postgresql_connections_killed_under_a_burst_give_503_or_clear_answers_and_lose_nothing(
    services: Services,
    shop: Shop,
    client: httpx.AsyncClient,
    installed: FakeSaleor,
    lengo: LengoState,
    config: Configuration,
    clock: Clock,
    database_url: str,
) -> None:
    made = [await make_payment(services, installed, lengo, config) for _ in range(12)]
    for m in made:
        lengo.pay(m.pay_id)
    killed = 0
    stop = asyncio.Event()

    async def kill_connections() -> None:
        nonlocal killed
        admin = await asyncpg.connect(database_url)
        try:
            while not stop.is_set():
                killed += await admin.fetchval(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
                await asyncio.sleep(0.08)  # between kills some transactions get through
        finally:
            await admin.close()

    killer = asyncio.create_task(kill_connections())
    try:
        callbacks = await asyncio.gather(*(lengo.send_callback(m.pay_id, client) for m in made))
        processed = await asyncio.gather(*(shop.process(m.transaction_id, m.pay_id, m.amount) for m in made))
        gateways = await asyncio.gather(*(shop.gateway_initialize() for _ in range(4)))
        await services.background.drain()
    finally:
        stop.set()
        await killer

    assert killed > 0
    assert {status for [status] in callbacks} <= {200, 503}
    assert {p.status for p in processed + gateways} == {200}  # and well-formed (Shop checks)
    # Lengo sends again what got a 503; then time passes.
    for m, [status] in zip(made, callbacks, strict=True):
        if status != 200:
            assert await lengo.send_callback(m.pay_id, client) == [200]
    await services.background.drain()
    await recover(services, clock)

    for m in made:
        [success] = installed.events(m.transaction_id, "CHARGE_SUCCESS")
        assert success.amount == m.amount
    await assert_nothing_half_written(services)
    await assert_nothing_stuck(services, paid=lambda p: lengo.payments[p].status == vocabulary.SUCCESS)


@pytest.mark.parametrize("event", SESSION_EVENTS + ACTION_EVENTS)
async def test_new_saleor_keys_that_cannot_be_stored_are_a_storage_fault_not_a_500(
    services: Services,
    shop: Shop,
    installed: FakeSaleor,
    lengo: LengoState,
    config: Configuration,
    event: str,
) -> None:
    made = await make_payment(services, installed, lengo, config)
    installed.rotate()  # the next webhook is signed with a key the app must fetch, then store
    keys_fetched_long_ago(services)
    outage = DatabaseOutage(services.db)

    with outage.counting(fail_if=lambda sql: sql.lstrip().upper().startswith("UPDATE INSTALLATIONS")):
        if event == "PAYMENT_GATEWAY_INITIALIZE_SESSION":
            answered = await shop.gateway_initialize()
        elif event == "TRANSACTION_INITIALIZE_SESSION":
            _, answered = await shop.initialize()
        elif event == "TRANSACTION_PROCESS_SESSION":
            answered = await shop.process(made.transaction_id, made.pay_id, made.amount)
        else:
            answered = await shop.action(event, made.transaction_id, made.pay_id, issued_at=ISSUED_AT)

    outage.close()
    assert outage.failures == 1
    if event in ACTION_EVENTS:
        assert answered.status == 503, answered
    else:
        assert answered.status == 200, answered
        assert (answered.body.get("data") or {}).get("error", {}).get("code") == UNAVAILABLE, answered.body
