"""`saleor-lengo payments list|show` and `saleor-lengo reconcile --once`, run as the real command."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from saleor_lengo.outbox import relay
from saleor_lengo.payments import store
from saleor_lengo.payments.model import Payment, State
from saleor_lengo.services import Services
from saleor_lengo.simulator.api import DEFAULT_ACCOUNT, LengoState
from tests.conftest import LENGO_KEY, TEST_SECRET_KEY, send_webhook
from tests.fakes.factories import get_payment
from tests.fakes.payloads import action_request
from tests.fakes.payment_rows import open_payment
from tests.fakes.saleor import FakeSaleor
from tests.helpers.cli import saleor_lengo

# End-to-end: each runs the real `saleor-lengo` command in a process.
pytestmark = [pytest.mark.usefixtures("installed"), pytest.mark.slow]


async def paid_through_a_callback(
    services: Services, client: httpx.AsyncClient, fake_saleor: FakeSaleor, lengo: LengoState
) -> Payment:
    """A payment with a whole history: created, paid, called back, reported, and a refund asked for."""
    payment = await open_payment(services, fake_saleor, lengo)
    assert payment.pay_id
    lengo.pay(payment.pay_id)
    assert await lengo.send_callback(payment.pay_id, client) == [200]
    await services.background.drain()
    assert await relay.run_once(services) == 1
    refund = action_request(
        "TRANSACTION_REFUND_REQUESTED", fake_saleor.app_id, payment.saleor_transaction_id, psp=payment.pay_id,
        amount=Decimal("176500.0"),
    )
    answer = (await send_webhook(client, fake_saleor, "TRANSACTION_REFUND_REQUESTED", refund)).json()
    assert answer["result"] == "REFUND_FAILURE"
    paid = await get_payment(services, payment.id)
    assert paid.state == State.SUCCEEDED
    return paid


async def test_payments_show_tells_the_whole_history_without_a_secret_or_a_phone(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState
) -> None:
    payment = await paid_through_a_callback(services, client, installed, lengo)

    run = await saleor_lengo(services, "payments", "show", payment.id)

    assert run.code == 0, run.err
    out = run.out
    assert f"Payment {payment.id} — succeeded" in out
    assert "amount              176500 GNF (confirmed 176500 GNF)" in out
    assert f"Lengo pay_id        {payment.pay_id}" in out
    assert "Lengo status        SUCCESS via Orange Money" in out
    assert "payer               ••••7845 (masked; in full in the Lengo merchant portal)" in out
    assert "action_required → succeeded: Lengo status SUCCESS (callback)" in out
    assert "Requests to Lengo (1)" in out and "payment_status ok HTTP 200" in out
    assert "Callbacks from Lengo (1)" in out and "SUCCESS 176500 payer ••••7845  → confirmed" in out
    assert "Status checks (1)" in out
    assert "Events reported to Saleor (1)" in out
    assert f"CHARGE_SUCCESS 176500 GNF psp {payment.pay_id}  [delivered " in out
    assert "Action requests from Saleor (1)" in out and "REFUND → REFUND_FAILURE" in out
    for secret in (DEFAULT_ACCOUNT, "624 897 845", LENGO_KEY, TEST_SECRET_KEY, installed.app_token):
        assert secret not in out
        assert secret not in run.err


async def test_payments_show_finds_a_payment_by_pay_id_or_transaction_and_speaks_json(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState
) -> None:
    payment = await paid_through_a_callback(services, client, installed, lengo)
    assert payment.pay_id

    by_pay_id = await saleor_lengo(services, "payments", "show", payment.pay_id, "--json")
    by_transaction = await saleor_lengo(services, "payments", "show", payment.saleor_transaction_id, "--json")

    assert by_pay_id.code == by_transaction.code == 0
    doc = json.loads(by_pay_id.out)
    assert doc == json.loads(by_transaction.out)
    assert doc["payment"]["id"] == payment.id
    assert [c["client"] for c in doc["callbacks"]] == ["••••7845"]
    assert [(e["type"], e["delivery"]) for e in doc["events"]] == [("CHARGE_SUCCESS", "delivered")]
    assert [(t["from"], t["to"]) for t in doc["transitions"]] == [("action_required", "succeeded")]
    assert [a["action"] for a in doc["actionRequests"]] == ["REFUND"]
    assert DEFAULT_ACCOUNT not in by_pay_id.out


async def test_payments_show_of_an_unknown_id_fails_with_a_message(services: Services) -> None:
    run = await saleor_lengo(services, "payments", "show", "nope")

    assert run.code == 1
    assert run.out == ""
    assert "no payment has the id, pay_id or Saleor transaction id 'nope'" in run.err


async def test_payments_list_filters_by_status(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState
) -> None:
    paid = await paid_through_a_callback(services, client, installed, lengo)
    waiting = await open_payment(services, installed, lengo)

    everything = await saleor_lengo(services, "payments", "list")
    succeeded = await saleor_lengo(services, "payments", "list", "--status", "succeeded")
    open_ones = await saleor_lengo(services, "payments", "list", "--status", "action_required", "--json")
    bad = await saleor_lengo(services, "payments", "list", "--status", "paid")

    assert everything.code == 0
    assert everything.out.splitlines()[0].split() == ["created", "id", "state", "amount", "lengo", "pay_id", "saleor", "transaction"]
    assert paid.id in everything.out and waiting.id in everything.out
    assert paid.id in succeeded.out and waiting.id not in succeeded.out
    assert [(r["id"], r["state"], r["amount"], r["currency"]) for r in json.loads(open_ones.out)] == [
        (waiting.id, "action_required", "176500", "GNF")
    ]
    assert bad.code == 2


async def test_reconcile_once_checks_the_due_payments_and_exits(
    services: Services, installed: FakeSaleor, lengo: LengoState
) -> None:
    payment = await open_payment(services, installed, lengo)
    assert payment.pay_id
    lengo.pay(payment.pay_id)
    async with services.db.write() as conn:
        await store.update_fields(conn, payment.id, next_check_at=services.clock() - 1)

    run = await saleor_lengo(services, "reconcile", "--once")

    assert run.code == 0, run.err
    # The subprocess cannot reach the in-memory fake Lengo: the check fails and
    # is scheduled again, the payment stays open. That is the unreachable case.
    assert run.out.strip() == "checked 1 payment"
    found = await get_payment(services, payment.id)
    assert found.state == State.ACTION_REQUIRED
    assert found.check_attempts == 1
    assert found.next_check_at is not None and found.next_check_at > services.clock()
