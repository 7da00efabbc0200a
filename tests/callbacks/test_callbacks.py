"""Lengo's callback: recorded first, answered at once, confirmed with Lengo's status, reported to Saleor once.

Payments are put in the database directly (`tests.fakes.factories`); the
fake Lengo sends its callback to the app as Lengo would; what counts is what
the fake Saleor keeps after the relay ran.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import httpx
import pytest
import structlog
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from structlog.testing import capture_logs

from saleor_lengo import jsonutil
from saleor_lengo.callbacks import confirmation as callback_confirm
from saleor_lengo.callbacks import receive
from saleor_lengo.configurations import Configuration
from saleor_lengo.db.schema import callbacks, outbox
from saleor_lengo.outbox import relay
from saleor_lengo.payments.model import State
from saleor_lengo.payments.state_machine import transition
from saleor_lengo.payments import store
from saleor_lengo import pressure
from saleor_lengo.callback_queue import CONFIRMATIONS_AT_ONCE, CONFIRMATIONS_QUEUED
from saleor_lengo.services import Services, build_services
from saleor_lengo.simulator.api import LengoState
from tests.conftest import WriteCounter
from tests.fakes.factories import MadePayment, get_payment, make_payment, store_pay_id
from tests.fakes.saleor import FakeSaleor
from tests.helpers.lengo import status_calls

PHONE = "624897845"


async def callback_rows(services: Services, payment_id: str | None = None) -> list[Any]:
    query = select(callbacks).order_by(callbacks.c.id)
    if payment_id is not None:
        query = query.where(callbacks.c.payment_id == payment_id)
    async with services.db.read() as conn:
        return list((await conn.execute(query)).all())


async def settle(services: Services) -> int:
    """Let the background confirmations finish, then run the relay once."""
    await services.background.drain()
    return await relay.run_once(services)


def advance(services: Services, seconds: float) -> Callable[[], float]:
    later = services.clock() + seconds
    services.clock = lambda: later
    return services.clock


async def test_a_success_callback_puts_exactly_one_charge_success_with_the_exact_amount_in_saleor(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState, made: MadePayment
) -> None:
    lengo.pay(made.pay_id)

    assert await lengo.send_callback(made.pay_id, client) == [200]
    assert await settle(services) == 1

    [event] = installed.events(made.transaction_id, "CHARGE_SUCCESS")
    assert event.amount == Decimal("150000")
    assert event.psp_reference == made.pay_id
    assert (await get_payment(services, made.id)).state == State.SUCCEEDED
    [row] = await callback_rows(services, made.id)
    assert (row.outcome, row.status, row.amount) == (receive.CONFIRMED, "SUCCESS", "150000")


async def test_a_failure_callback_confirmed_by_lengo_reports_charge_failure(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState, made: MadePayment
) -> None:
    lengo.decline(made.pay_id)

    assert await lengo.send_callback(made.pay_id, client) == [200]
    await settle(services)

    assert len(installed.events(made.transaction_id, "CHARGE_FAILURE")) == 1
    assert installed.events(made.transaction_id, "CHARGE_SUCCESS") == []
    assert (await get_payment(services, made.id)).state == State.FAILED


async def test_the_same_callback_five_times_at_once_gives_one_event_in_saleor(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState, made: MadePayment
) -> None:
    lengo.pay(made.pay_id)

    answers = await asyncio.gather(*(lengo.send_callback(made.pay_id, client) for _ in range(5)))
    await settle(services)
    # And Lengo's retries, later.
    assert await lengo.send_callback(made.pay_id, client, copies=2) == [200, 200]
    await settle(services)

    assert [a for [a] in answers] == [200] * 5
    assert len(installed.events(made.transaction_id, "CHARGE_SUCCESS")) == 1
    assert installed.charged_amount(made.transaction_id) == Decimal("150000")
    async with services.db.read() as conn:
        rows = (await conn.execute(select(outbox).where(outbox.c.payment_id == made.id))).all()
    assert len(rows) == 1
    outcomes = [r.outcome for r in await callback_rows(services, made.id)]
    assert len(outcomes) == 7
    # The copies that arrive once the payment is paid are duplicates, not errors.
    assert set(outcomes) <= {receive.CONFIRMED, receive.DUPLICATE} and receive.DUPLICATE in outcomes
    assert [r.last_error for r in await callback_rows(services, made.id)] == [None] * 7


async def test_a_forged_success_for_a_payment_lengo_still_reports_initiated_changes_nothing(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState, made: MadePayment
) -> None:
    assert lengo.payments[made.pay_id].status == "INITIATED"

    with capture_logs() as logs:
        answers = await lengo.send_callback(
            made.pay_id, client, override={"status": "SUCCESS", "message": "Transaction Successful", "Client": PHONE}
        )
        delivered = await settle(services)

    assert answers == [200]  # answered as soon as recorded, whatever it claims
    assert delivered == 0
    assert installed.events(made.transaction_id) == []
    assert (await get_payment(services, made.id)).state == State.ACTION_REQUIRED
    [row] = await callback_rows(services, made.id)
    assert row.outcome == receive.UNCONFIRMED
    assert "INITIATED" in row.last_error
    [warning] = [e for e in logs if e["event"] == "callback_unconfirmed"]
    assert warning["log_level"] == "warning"
    assert (warning["callback_status"], warning["lengo_status"]) == ("SUCCESS", "INITIATED")


async def test_an_unknown_token_is_a_bare_404(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState, made: MadePayment
) -> None:
    lengo.pay(made.pay_id)
    body = jsonutil.dumps(lengo.callback_body(made.pay_id))

    response = await client.post("/api/lengo/callback/not-a-token", content=body)
    malformed = await client.post("/api/lengo/callback/not-a-token/", content=b"garbage")

    assert (response.status_code, response.content) == (404, b"")
    assert (malformed.status_code, malformed.content) == (404, b"")
    assert await callback_rows(services) == []
    assert (await get_payment(services, made.id)).state == State.ACTION_REQUIRED


async def test_a_callback_with_another_pay_id_is_refused_recorded_and_logged_as_suspicious(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState, made: MadePayment
) -> None:
    lengo.pay(made.pay_id)  # even a true statement with the wrong pay_id is not acted on

    with capture_logs() as logs:
        answers = await lengo.send_callback(made.pay_id, client, override={"pay_id": "QUJDREVGR0hJSktMTU5PUA=="})
        await settle(services)

    assert answers == [400]
    [row] = await callback_rows(services, made.id)
    assert (row.outcome, row.pay_id) == (receive.MISMATCH, "QUJDREVGR0hJSktMTU5PUA==")
    assert any(e["event"] == "callback_suspicious" and e["log_level"] == "warning" for e in logs)
    assert status_calls(lengo) == 0
    assert installed.events(made.transaction_id) == []


async def test_a_callback_before_the_pay_id_was_stored_is_confirmed_once_it_is_known(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState, config: Configuration
) -> None:
    made = await make_payment(services, installed, lengo, config, with_pay_id=False)
    lengo.pay(made.pay_id)

    assert await lengo.send_callback(made.pay_id, client) == [200]
    await settle(services)
    [row] = await callback_rows(services, made.id)
    assert row.outcome == receive.WAITING_PAY_ID
    assert status_calls(lengo) == 0

    await store_pay_id(services, made)  # Lengo's answer to the create arrives
    assert await callback_confirm.confirm_waiting_callbacks(services, made.id) == 1
    assert await settle(services) == 1

    assert len(installed.events(made.transaction_id, "CHARGE_SUCCESS")) == 1
    [row] = await callback_rows(services, made.id)
    assert row.outcome == receive.CONFIRMED


async def test_the_retry_loop_also_confirms_a_callback_that_waited_for_its_pay_id(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState, config: Configuration
) -> None:
    made = await make_payment(services, installed, lengo, config, with_pay_id=False)
    lengo.pay(made.pay_id)
    assert await lengo.send_callback(made.pay_id, client) == [200]
    await services.background.drain()
    assert await callback_confirm.run_due_once(services) == 0  # nothing due yet

    await store_pay_id(services, made)  # ...but nobody calls confirm_waiting_callbacks
    advance(services, receive.WAITING_RECHECK_SECONDS + 1)
    assert await callback_confirm.run_due_once(services) == 1
    assert await relay.run_once(services) == 1

    assert len(installed.events(made.transaction_id, "CHARGE_SUCCESS")) == 1


async def test_a_waiting_callback_with_another_pay_id_is_never_confirmed(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState, config: Configuration
) -> None:
    made = await make_payment(services, installed, lengo, config, with_pay_id=False)
    lengo.pay(made.pay_id)
    forged = "Wm9yZ2VkUGF5SWRGb3JnZWQ="
    assert await lengo.send_callback(made.pay_id, client, override={"pay_id": forged}) == [200]

    await store_pay_id(services, made)
    assert await callback_confirm.confirm_waiting_callbacks(services, made.id) == 0
    await settle(services)

    [row] = await callback_rows(services, made.id)
    assert row.outcome == receive.MISMATCH
    assert installed.events(made.transaction_id) == []


async def test_when_the_status_endpoint_is_down_the_callback_is_answered_200_and_confirmed_later_even_after_a_restart(
    services: Services,
    client: httpx.AsyncClient,
    installed: FakeSaleor,
    lengo: LengoState,
    made: MadePayment,
    transports: dict[str, httpx.AsyncBaseTransport],
) -> None:
    lengo.pay(made.pay_id)
    lengo.fail_next = 1000

    assert await lengo.send_callback(made.pay_id, client) == [200]
    await settle(services)

    assert (await get_payment(services, made.id)).state == State.ACTION_REQUIRED
    [row] = await callback_rows(services, made.id)
    assert (row.outcome, row.attempts) == (receive.RECORDED, 1)
    assert row.next_attempt_at > services.clock()
    assert "500" in row.last_error
    assert installed.events(made.transaction_id) == []

    lengo.fail_next = 0
    assert await callback_confirm.run_due_once(services) == 0  # backing off: not due yet

    # A new process (the old one forgot everything but the database), an hour later.
    later = services.clock() + 3600
    http = httpx.AsyncClient(mounts=dict(transports), follow_redirects=False)
    restarted = build_services(services.settings, http=http, clock=lambda: later)
    try:
        assert await callback_confirm.run_due_once(restarted) == 1
        assert await relay.run_once(restarted) == 1
    finally:
        await restarted.aclose()

    assert len(installed.events(made.transaction_id, "CHARGE_SUCCESS")) == 1
    [row] = await callback_rows(services, made.id)
    assert (row.outcome, row.attempts) == (receive.CONFIRMED, 2)


async def test_a_form_encoded_callback_is_accepted(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState, made: MadePayment
) -> None:
    lengo.pay(made.pay_id)

    assert await lengo.send_callback(made.pay_id, client, form=True) == [200]
    await settle(services)

    assert len(installed.events(made.transaction_id, "CHARGE_SUCCESS")) == 1
    [row] = await callback_rows(services, made.id)
    assert row.content_type == "application/x-www-form-urlencoded"


async def test_a_form_body_with_an_unencoded_plus_in_the_pay_id_still_matches(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState, config: Configuration
) -> None:
    made = await make_payment(services, installed, lengo, config, pay_id="kq+Vd1/zR2u+X8Q6hT5aMw==")
    lengo.pay(made.pay_id)
    # Written by hand, as a careless sender would: "+" and "/" left as they are.
    body = f"pay_id={made.pay_id}&status=SUCCESS&amount=150000&message=Transaction+Successful&Client={PHONE}"

    response = await client.post(
        made.callback_url, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    await settle(services)

    assert response.status_code == 200
    [row] = await callback_rows(services, made.id)
    assert (row.pay_id, row.message, row.outcome) == (made.pay_id, "Transaction Successful", receive.CONFIRMED)
    assert len(installed.events(made.transaction_id, "CHARGE_SUCCESS")) == 1


async def test_the_callback_url_with_a_trailing_slash_is_served_without_a_redirect(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState, made: MadePayment
) -> None:
    lengo.pay(made.pay_id)

    response = await client.post(
        made.callback_url + "/",
        content=jsonutil.dumps(lengo.callback_body(made.pay_id)),
        headers={"Content-Type": "application/json"},
    )
    await settle(services)

    assert response.status_code == 200
    assert "location" not in response.headers
    assert len(installed.events(made.transaction_id, "CHARGE_SUCCESS")) == 1


async def test_a_body_over_the_cap_is_refused_with_413_and_not_recorded(
    services: Services, client: httpx.AsyncClient, made: MadePayment
) -> None:
    huge = b'{"pay_id": "' + b"A" * 64 * 1024 + b'", "status": "SUCCESS"}'

    response = await client.post(made.callback_url, content=huge, headers={"Content-Type": "application/json"})

    assert response.status_code == 413
    assert await callback_rows(services) == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "neither JSON nor form"),
        (b'["pay_id"]', "JSON object"),
        (b'{"status": "SUCCESS"}', "pay_id is missing"),
        (b'{"pay_id": "abc=", "amount": 1500}', "status is missing"),
        (b'{"pay_id": "abc=", "status": "SUCCESS", "amount": "lots"}', "amount is not a number"),
    ],
)
async def test_a_malformed_body_with_a_valid_token_is_refused_with_a_reason_but_kept_in_the_audit_trail(
    services: Services, client: httpx.AsyncClient, lengo: LengoState, made: MadePayment, body: bytes, reason: str
) -> None:
    response = await client.post(made.callback_url, content=body, headers={"Content-Type": "application/json"})
    await services.background.drain()

    assert response.status_code == 400
    assert reason in response.json()["error"]["message"]
    [row] = await callback_rows(services, made.id)
    assert row.outcome == receive.MALFORMED
    assert reason in row.last_error
    assert status_calls(lengo) == 0


async def test_the_payers_phone_is_stored_encrypted_shown_masked_and_never_logged(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState, made: MadePayment
) -> None:
    lengo.pay(made.pay_id, account=PHONE)

    # With the request's bound context too (request id, path), as it is written.
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        assert await lengo.send_callback(made.pay_id, client) == [200]
        await settle(services)

    [row] = await callback_rows(services, made.id)
    assert row.client_masked == "••••7845"
    assert services.cipher.decrypt(row.client_enc) == PHONE
    assert not any(PHONE in str(value) for value in row._mapping.values())
    assert any(e["event"] == "callback_recorded" and "request_id" in e for e in logs)
    assert PHONE not in repr(logs)
    assert made.token not in repr(logs)  # nor the callback URL's token


async def test_a_callback_that_cannot_be_recorded_is_answered_503_so_lengo_sends_it_again(
    services: Services, client: httpx.AsyncClient, lengo: LengoState, made: MadePayment, monkeypatch: pytest.MonkeyPatch
) -> None:
    lengo.pay(made.pay_id)

    @asynccontextmanager
    async def broken_write() -> AsyncIterator[Any]:
        raise OperationalError("INSERT", None, Exception("disk I/O error"))
        yield  # pragma: no cover

    monkeypatch.setattr(services.db, "write", broken_write)
    answers = await lengo.send_callback(made.pay_id, client)
    monkeypatch.undo()

    assert answers == [503]
    assert await callback_rows(services) == []


async def test_a_success_after_a_cancel_is_still_reported_with_a_refund_due(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState, made: MadePayment
) -> None:
    async with services.db.write() as conn:
        payment = await store.get(conn, made.id, lock=True)
        assert payment is not None
        await transition(conn, payment, State.CANCELED, reason="Canceled by staff.", now=services.clock())
    lengo.pay(made.pay_id)

    assert await lengo.send_callback(made.pay_id, client) == [200]
    await settle(services)

    [event] = installed.events(made.transaction_id, "CHARGE_SUCCESS")
    assert event.amount == Decimal("150000")
    assert "refund due" in event.message
    assert (await get_payment(services, made.id)).state == State.SUCCEEDED


@pytest.mark.parametrize("form", [False, True])
async def test_the_body_format_is_read_from_the_body_not_from_a_wrong_content_type(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState, made: MadePayment, form: bool
) -> None:
    lengo.pay(made.pay_id)
    fields = {"pay_id": made.pay_id, "status": "SUCCESS", "amount": "150000", "Client": PHONE}
    if form:
        body, declared = str(httpx.QueryParams(fields)).encode(), "application/json"
    else:
        body, declared = jsonutil.dumps(fields).encode(), "application/x-www-form-urlencoded"

    response = await client.post(made.callback_url, content=body, headers={"Content-Type": declared})
    await settle(services)

    assert response.status_code == 200
    [row] = await callback_rows(services, made.id)
    assert (row.pay_id, row.outcome, row.client_masked) == (made.pay_id, receive.CONFIRMED, "••••7845")
    assert len(installed.events(made.transaction_id, "CHARGE_SUCCESS")) == 1


async def test_in_a_burst_a_callback_past_the_queue_is_left_due_to_the_confirmer_loop(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState, made: MadePayment
) -> None:
    lengo.pay(made.pay_id)
    services.callback_queue.spawned = CONFIRMATIONS_QUEUED  # as many as may wait are waiting

    assert await lengo.send_callback(made.pay_id, client) == [200]
    await services.background.drain()

    # Recorded, due at once, woken loop; not confirmed by a task of its own.
    [row] = await callback_rows(services, made.id)
    assert row.outcome == receive.RECORDED
    assert row.next_attempt_at <= services.clock()
    assert services.wakeups.callbacks.is_set()
    assert status_calls(lengo) == 0
    assert (await get_payment(services, made.id)).state == State.ACTION_REQUIRED

    assert await callback_confirm.run_due_once(services) == 1
    assert await relay.run_once(services) == 1
    [event] = installed.events(made.transaction_id, "CHARGE_SUCCESS")
    assert event.amount == Decimal("150000")
    [row] = await callback_rows(services, made.id)
    assert row.outcome == receive.CONFIRMED


async def test_in_a_burst_of_requests_a_callback_is_answered_and_its_confirmation_left_to_the_loop(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState, made: MadePayment
) -> None:
    lengo.pay(made.pay_id)
    for _ in range(int(pressure.BUSY_PER_SECOND * pressure.WINDOW_SECONDS)):
        services.callback_queue.pressure.started()  # requests arriving faster than BUSY_PER_SECOND

    assert await lengo.send_callback(made.pay_id, client) == [200]
    await services.background.drain()

    [row] = await callback_rows(services, made.id)
    assert row.outcome == receive.RECORDED and row.next_attempt_at <= services.clock()
    assert services.wakeups.callbacks.is_set()
    assert status_calls(lengo) == 0 and services.callback_queue.spawned == 0
    assert await callback_confirm.run_due_once(services) == 1
    [row] = await callback_rows(services, made.id)
    assert row.outcome == receive.CONFIRMED


async def test_the_confirmer_loop_confirms_a_batch_at_once_within_the_slots(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState, config: Configuration
) -> None:
    made = [await make_payment(services, installed, lengo, config) for _ in range(CONFIRMATIONS_AT_ONCE + 5)]
    services.callback_queue.spawned = CONFIRMATIONS_QUEUED
    for m in made:
        lengo.pay(m.pay_id)
        assert await lengo.send_callback(m.pay_id, client) == [200]
    in_flight, most = 0, 0
    status_call = lengo.sleep
    all_slots_busy = asyncio.Event()

    async def counting_sleep(seconds: float) -> None:  # every API call passes here (LengoState.slow)
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        if in_flight == CONFIRMATIONS_AT_ONCE:
            all_slots_busy.set()
        # Lengo answers once every slot is taken (whatever the database's pace),
        # or after a while if they never all are.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(all_slots_busy.wait(), timeout=0.5)
        in_flight -= 1
        await status_call(seconds)

    lengo.sleep = counting_sleep
    lengo.slow = 0.001

    assert await callback_confirm.run_due_once(services) == len(made)

    assert most == CONFIRMATIONS_AT_ONCE  # concurrently, but never more than the slots
    assert {r.outcome for r in await callback_rows(services)} == {receive.CONFIRMED}


class _Burst:
    """Requests arriving faster than pressure.BUSY_PER_SECOND for as long as the test runs; the hold already over."""

    def busy(self) -> bool:
        return True

    async def until_quiet(self, max_wait: float = 0.0) -> None:
        await asyncio.sleep(0)


async def test_in_a_long_burst_the_confirmer_loop_goes_on_in_small_batches(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState, config: Configuration,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = [await make_payment(services, installed, lengo, config) for _ in range(callback_confirm.BATCH_IN_BURST + 5)]
    services.callback_queue.pressure = _Burst()  # type: ignore[assignment]
    for m in made:
        lengo.pay(m.pay_id)
        assert await lengo.send_callback(m.pay_id, client) == [200]  # each left to the loop
    assert status_calls(lengo) == 0
    batches: list[tuple[int, int]] = []
    run_due_once = callback_confirm.run_due_once

    async def counted(services: Services, *, limit: int = callback_confirm.BATCH) -> int:
        tried = await run_due_once(services, limit=limit)
        batches.append((limit, tried))
        return tried

    monkeypatch.setattr(callback_confirm, "run_due_once", counted)
    loop = asyncio.ensure_future(callback_confirm.run_forever(services))
    try:
        for _ in range(500):
            if sum(tried for _, tried in batches) >= len(made):
                break
            await asyncio.sleep(0.01)
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
    small = callback_confirm.BATCH_IN_BURST
    assert batches[:2] == [(small, small), (small, 5)]
    assert {r.outcome for r in await callback_rows(services)} == {receive.CONFIRMED}


async def test_callbacks_arriving_together_are_recorded_in_one_transaction_each_answered_as_alone(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState, config: Configuration,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """db/grouped.py: on SQLite one transaction for the group; each callback still gets its own answer."""
    made = [await make_payment(services, installed, lengo, config) for _ in range(5)]
    for m in made:
        lengo.pay(m.pay_id)
    await services.leases.ensure()  # this process registered as a lease holder (once, at its first claim)
    # Only the recording is counted: the confirmations, left to the confirmer loop as in a
    # burst, would otherwise race the answers on PostgreSQL and add writes of their own.
    monkeypatch.setattr(services.callback_queue, "can_confirm_now", lambda: False)
    transactions = WriteCounter(monkeypatch, services.db)
    answers = await asyncio.gather(
        *(lengo.send_callback(m.pay_id, client) for m in made[:3]),
        client.post("/api/lengo/callback/not-a-token", content=jsonutil.dumps(lengo.callback_body(made[0].pay_id))),
        lengo.send_callback(made[3].pay_id, client, override={"pay_id": ""}),  # malformed
        lengo.send_callback(made[4].pay_id, client, override={"pay_id": "QUJDREVGR0hJSktMTU5PUA=="}),  # mismatch
    )

    assert [a if isinstance(a, list) else [a.status_code] for a in answers] == [[200], [200], [200], [404], [400], [400]]
    assert transactions.count == (1 if services.db.is_sqlite else 6)
    rows = {r.payment_id: r for r in await callback_rows(services)}
    assert [rows[m.id].outcome for m in made] == [receive.RECORDED] * 3 + [receive.MALFORMED, receive.MISMATCH]
    assert all(rows[m.id].client_masked and PHONE not in (rows[m.id].client_enc or "") for m in made[:3])
    assert await callback_confirm.run_due_once(services) == 3
    assert await settle(services) == 3
    assert all(len(installed.events(m.transaction_id, "CHARGE_SUCCESS")) == 1 for m in made[:3])
