"""A cash-in's callback: only a hint to ask Lengo now; its token names the payout, a forged one nothing."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from saleor_lengo.flows import payout_worker
from saleor_lengo.payouts.model import PayoutState
from saleor_lengo.services import Services
from saleor_lengo.settings import Settings
from saleor_lengo.simulator.api import LengoState
from tests.conftest import make_settings
from tests.faults.ledger import Clock
from tests.fakes.saleor import FakeSaleor
from tests.helpers.payouts import all_payouts, payable_payment, payouts_on, refund

pytestmark = pytest.mark.usefixtures("installed")

@pytest.fixture
def settings(database_url: str) -> Settings:
    # Lengo's doc wants an HTTPS callback URL: with an http APP_URL none is sent.
    return make_settings(
        database_url, APP_URL="https://lengo-app.example", ALLOWED_DOMAIN_PATTERN=r"http://saleor\.test/graphql/"
    )


async def test_a_cash_in_callback_is_only_a_hint_to_ask_lengo_now(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState, clock: Clock
) -> None:
    payment = await payable_payment(services, installed, lengo)
    await payouts_on(services)
    lengo.cashin_statuses = ["PENDING"]
    await refund(client, installed, payment, Decimal(10000))

    await payout_worker.run_once(services)
    await payout_worker.run_once(services)
    [payout] = await all_payouts(services)
    assert payout.state == PayoutState.SENT and payout.cashin_pay_id
    cashin = lengo.cashins[payout.cashin_pay_id]
    assert cashin.callback_url and cashin.callback_url.startswith("https://lengo-app.example/api/lengo/callback/payout/")
    lengo.settle_cashin(cashin.pay_id, "SUCCESS")
    forged = cashin.callback_url.rsplit("/", 1)[0] + "/not-a-token"

    app = httpx.AsyncClient(transport=client._transport, base_url="https://lengo-app.example")  # type: ignore[attr-defined]
    assert await lengo.send_cashin_callback(cashin.pay_id, app) == 200
    cashin.callback_url = forged
    assert await lengo.send_cashin_callback(cashin.pay_id, app) == 404
    await app.aclose()

    await payout_worker.run_once(services)  # due at once: no clock moved
    [payout] = await all_payouts(services)
    assert payout.state == PayoutState.PAID_OUT
