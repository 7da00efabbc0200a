"""Lengo's callback can beat its own answer to the create (API.md: "seen").

The fake Lengo here pays the payment and delivers its callback to the app
while the create request is still unanswered; the app must record it, then
confirm it as soon as the pay_id is stored — not 30 s later by the retry loop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select

from saleor_lengo import jsonutil
from saleor_lengo.callbacks import receive
from saleor_lengo.db.schema import callbacks
from saleor_lengo.outbox import relay
from saleor_lengo.services import Services
from saleor_lengo.simulator.api import LengoState
from saleor_lengo.simulator.api import create_app as create_lengo_app
from saleor_lengo.web.app import create_app
from tests.conftest import APP_URL, LENGO_URL, configure_channel, send_webhook
from tests.fakes.payloads import new_transaction_id, session
from tests.fakes.saleor import FakeSaleor


class CallbackFirstLengo(httpx.AsyncBaseTransport):
    """Creates the payment, pays it and sends its callback before answering the create."""

    def __init__(self, lengo: LengoState) -> None:
        self.lengo = lengo
        self.inner = httpx.ASGITransport(app=create_lengo_app(lengo))
        self.app_client: httpx.AsyncClient | None = None
        self.callback_statuses: list[int] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path == "/api/v1/payments" and response.status_code == 200:
            await response.aread()
            pay_id = jsonutil.loads(response.content)["pay_id"]
            self.lengo.pay(pay_id)
            assert self.app_client is not None
            self.callback_statuses += await self.lengo.send_callback(pay_id, self.app_client)
        return response


@pytest.fixture
def early_lengo(lengo: LengoState) -> CallbackFirstLengo:
    return CallbackFirstLengo(lengo)


@pytest.fixture
def transports(fake_saleor: FakeSaleor, early_lengo: CallbackFirstLengo) -> dict[str, httpx.AsyncBaseTransport]:
    return {"http://saleor.test": httpx.ASGITransport(app=fake_saleor.asgi()), LENGO_URL: early_lengo}


@pytest.fixture
async def app_client(services: Services, early_lengo: CallbackFirstLengo) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(services)), base_url=APP_URL) as c:
        early_lengo.app_client = c
        yield c


async def test_a_callback_that_beats_the_create_answer_is_confirmed_as_soon_as_the_pay_id_is_stored(
    services: Services, app_client: httpx.AsyncClient, fake_saleor: FakeSaleor, early_lengo: CallbackFirstLengo
) -> None:
    from tests.conftest import register

    assert (await register(app_client, fake_saleor)).status_code == 200
    await configure_channel(services, fake_saleor)
    tx = new_transaction_id()
    fake_saleor.open_transaction(tx)

    body = session("TRANSACTION_INITIALIZE_SESSION", fake_saleor.app_id, tx, data={"returnUrl": "https://shop.example/checkout/return"})
    answer = await send_webhook(app_client, fake_saleor, "TRANSACTION_INITIALIZE_SESSION", body)
    assert answer.json()["result"] == "CHARGE_ACTION_REQUIRED"
    assert early_lengo.callback_statuses == [200]  # acknowledged while the create was unanswered

    await services.background.drain()  # the confirmation spawned right after the pay_id was stored
    async with services.db.read() as conn:
        [row] = (await conn.execute(select(callbacks))).all()
    assert row.outcome == receive.CONFIRMED
    assert await relay.run_once(services) == 1
    [event] = fake_saleor.events(tx, "CHARGE_SUCCESS")
    assert event.amount == Decimal("176500")
    assert event.psp_reference == answer.json()["pspReference"]
