"""A refund request answered with a payout: the checks, one ledger, the daily limit, the async answer."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from saleor_lengo.configurations import Configuration
from saleor_lengo.lengo import vocabulary
from saleor_lengo.outbox import relay
from saleor_lengo.payouts.model import PayoutState
from saleor_lengo.services import Services
from saleor_lengo.simulator.api import LengoState
from tests.faults.ledger import Clock
from tests.fakes.factories import get_payment
from tests.fakes.payment_rows import open_payment, paid_payment
from tests.fakes.saleor import FakeSaleor
from tests.helpers.app_api import Api
from tests.helpers.outbox import rows
from tests.helpers.payouts import all_payouts, payable_payment, payouts_on, refund, work_payouts

pytestmark = pytest.mark.usefixtures("installed")
LATER = "2026-12-05T09:00:00.000000+00:00"
RECORD = """mutation($id: ID!, $amount: String!) {
  recordManualRefund(paymentId: $id, amount: $amount) { refundedAmount } }"""
SHOWN = "query($id: ID!) { payment(id: $id) { refundedAmount refundableAmount } }"


async def test_a_refund_is_answered_with_the_payouts_own_psp_reference_and_no_result(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    payment = await payable_payment(services, installed, lengo)
    await payouts_on(services)

    answer = await refund(client, installed, payment, Decimal(50000))

    [payout] = await all_payouts(services)
    assert answer == {"pspReference": payout.psp_reference, "actions": ["REFUND"]}
    assert (payout.state, payout.amount, payout.type_account) == (PayoutState.SENDING, Decimal(50000), "lp-om-gn")
    assert payout.account_masked == "••••7845" and "624897845" not in payout.account_enc
    assert services.cipher.decrypt(payout.account_enc) == "624897845"
    assert [e.type for e in installed.events(payment.saleor_transaction_id)][-1] == "REFUND_REQUEST"
    assert not any(path == vocabulary.CASHIN_REQUEST_PATH for _, path in lengo.calls)  # nothing sent in the webhook


async def test_a_refund_repeated_by_saleor_gets_the_same_answer_and_one_payout(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    payment = await payable_payment(services, installed, lengo)
    await payouts_on(services)

    first = await refund(client, installed, payment, Decimal(50000))
    again = await refund(client, installed, payment, Decimal(50000))

    assert first == again
    assert len(await all_payouts(services)) == 1


async def test_refunds_add_up_and_never_exceed_the_charge(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    payment = await payable_payment(services, installed, lengo, amount=Decimal(100000))
    await payouts_on(services)

    first = await refund(client, installed, payment, Decimal(60000))
    second = await refund(client, installed, payment, Decimal(40001), issued_at=LATER)
    third = await refund(client, installed, payment, Decimal(40000), issued_at="2026-12-05T10:00:00+00:00")

    assert first["actions"] == ["REFUND"]
    assert second["result"] == "REFUND_FAILURE"
    assert second["message"].startswith("Nothing was refunded: at most GNF\u00a040,000 can still be refunded")
    assert third == {"pspReference": third["pspReference"], "actions": []}  # fully refunded once both pay
    assert sum(p.amount for p in await all_payouts(services)) == Decimal(100000)


async def test_the_daily_limit_counts_every_payout_of_the_last_24_hours(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    one = await payable_payment(services, installed, lengo, amount=Decimal(100000))
    two = await payable_payment(services, installed, lengo, amount=Decimal(100000))
    await payouts_on(services, limit="150000")

    assert "pspReference" in await refund(client, installed, one, Decimal(100000))
    refused = await refund(client, installed, two, Decimal(60000))
    assert refused["result"] == "REFUND_FAILURE" and "daily payout limit reached" in refused["message"]

    clock.advance(86401)
    assert "result" not in await refund(client, installed, two, Decimal(60000), issued_at=LATER)


async def test_payouts_off_or_a_payment_without_a_known_payer_are_refunded_by_hand(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    payment = await payable_payment(services, installed, lengo)
    assert (await refund(client, installed, payment, Decimal(1000)))["result"] == "REFUND_FAILURE"

    await payouts_on(services)
    card = await paid_payment(services, installed, lengo)
    lengo.payments[card.pay_id or ""].gateway = "Visa"
    from saleor_lengo.payments import store
    async with services.db.write() as conn:
        await store.update_fields(conn, card.id, gateway="Visa")
        card = await store.get(conn, card.id)  # type: ignore[assignment]
    answer = await refund(client, installed, card, Decimal(1000), issued_at=LATER)
    assert answer["result"] == "REFUND_FAILURE" and "by hand" in answer["message"] and answer["actions"] == []
    assert await all_payouts(services) == []


async def test_a_charge_of_a_payment_refundable_by_payout_offers_the_refund_button(
    services: Services, installed: FakeSaleor, lengo: LengoState, config: Configuration
) -> None:
    await payouts_on(services)
    payment = await payable_payment(services, installed, lengo)

    [row] = [r for r in await rows(services, payment.id) if r.event_type == "CHARGE_SUCCESS"]
    assert row.available_actions == '["REFUND"]'
    await relay.run_once(services)
    assert installed.graphql_calls[-1]["variables"]["availableActions"] == ["REFUND"]


async def test_in_approval_mode_a_payout_is_recorded_and_never_sent(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    payment = await payable_payment(services, installed, lengo)
    await payouts_on(services, mode="approval")

    answer = await refund(client, installed, payment, Decimal(50000))
    await work_payouts(services, clock)

    [payout] = await all_payouts(services)
    assert payout.state == PayoutState.AWAITING_APPROVAL and answer == {"pspReference": payout.psp_reference, "actions": ["REFUND"]}
    assert not any(path.startswith("/api/v2/cashin") for _, path in lengo.calls)


async def test_a_refund_recorded_by_hand_shares_the_ledger_with_payouts(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    payment = await payable_payment(services, installed, lengo, amount=Decimal(100000))
    await payouts_on(services, mode="approval")
    await refund(client, installed, payment, Decimal(70000))

    api = Api(client, installed)
    # The page offers what the ledger allows: the payout awaiting approval holds its share.
    shown = await api.ok(SHOWN, {"id": payment.id})
    assert shown["payment"] == {"refundedAmount": "0", "refundableAmount": "30000"}
    refused = await api.fails(RECORD, {"id": payment.id, "amount": "40000"})
    assert "At most 30000 GNF can be refunded" in refused["message"] and "held by payouts" in refused["message"]
    await api.ok(RECORD, {"id": payment.id, "amount": "30000"})
    shown = await api.ok(SHOWN, {"id": payment.id})
    assert shown["payment"] == {"refundedAmount": "30000", "refundableAmount": "0"}

    again = await refund(client, installed, payment, Decimal(1000), issued_at=LATER)
    assert again["result"] == "REFUND_FAILURE" and again["actions"] == []


async def test_the_payer_is_the_one_lengos_status_names_never_a_callbacks_client(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState, config: Configuration
) -> None:
    await payouts_on(services)
    payment = await open_payment(services, installed, lengo)
    assert payment.pay_id
    lengo.pay(payment.pay_id)  # the status names the simulator's payer, 624897845

    assert await lengo.send_callback(payment.pay_id, client, override={"Client": "620000001"}) == [200]
    await services.background.drain()

    paid = await get_payment(services, payment.id)
    assert paid.state.value == "succeeded" and paid.payer_account_enc is not None
    assert services.cipher.decrypt(paid.payer_account_enc) == "624897845"
    assert paid.payer_account_masked == "••••7845"
