"""Saleor's session webhooks sent to the app and their answers checked against Saleor's schema."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

import httpx

from saleor_lengo import jsonutil
from saleor_lengo.saleor import installations
from saleor_lengo.db.schema import payments
from saleor_lengo.payments import store
from saleor_lengo.payments.model import Payment
from saleor_lengo.services import Services
from saleor_lengo.simulator.api import LengoState
from tests.conftest import RETURN_URL, configure_channel, send_webhook
from tests.fakes.payloads import session
from tests.fakes.saleor import FakeSaleor
from tests.reference import RECORDED, check_answer


INITIALIZE = "TRANSACTION_INITIALIZE_SESSION"
GATEWAY_INITIALIZE = "PAYMENT_GATEWAY_INITIALIZE_SESSION"
CREATE_PATH = "/api/v1/payments"


def assert_valid(schema_name: str, answer: dict[str, Any]) -> None:
    """The floor: Saleor's own schema for the answer (tests assert the exact answer too)."""
    check_answer(schema_name, answer, formats=True)


def creates(lengo: LengoState) -> int:
    return sum(1 for method, path in lengo.calls if method == "POST" and path == CREATE_PATH)


async def initialize_session(
    client: httpx.AsyncClient, saleor: FakeSaleor, tx: str, **fields: Any
) -> dict[str, Any]:
    fields.setdefault("data", {"returnUrl": RETURN_URL})
    response = await send_webhook(client, saleor, INITIALIZE, session(INITIALIZE, saleor.app_id, tx, **fields))
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    assert_valid("TransactionInitializeSession", answer)
    return answer


async def payment_of(services: Services, saleor: FakeSaleor, tx: str) -> Payment:
    inst = await installations.find(services.db, saleor.api_url)
    assert inst is not None
    async with services.db.read() as conn:
        payment = await store.get_by_transaction(conn, inst.id, tx)
    assert payment is not None
    return payment


async def app_link(services: Services, saleor: FakeSaleor, tx: str) -> str:
    """The transaction's link for staff: its payment in the app's page, where the fake Saleor serves its Dashboard."""
    payment = await payment_of(services, saleor, tx)
    return f"http://saleor.test/dashboard/extensions/app/{quote(saleor.app_id, safe='')}?payment={payment.id}"


def page_url(pay_id: str) -> str:
    return f"https://payment.lengo.test/{quote(pay_id, safe='')}"


def only_pay_id(lengo: LengoState) -> str:
    (pay_id,) = lengo.payments
    return pay_id


def recorded_body(name: str, app_id: str) -> dict[str, Any]:
    record = json.loads(next(RECORDED.glob(f"{name}-*.json")).read_text())
    body: dict[str, Any] = jsonutil.loads(base64.b64decode(record["body_base64"]))
    body["recipient"] = {"id": app_id}
    return body


async def insert_creating(services: Services, saleor: FakeSaleor, tx: str, *, lease_in: float) -> None:
    config = await configure_channel(services, saleor)
    inst = await installations.find(services.db, saleor.api_url)
    assert inst is not None
    now = services.clock()
    async with services.db.write() as conn:
        await conn.execute(
            payments.insert().values(
                id="c" * 32, installation_id=inst.id, configuration_id=config.id, saleor_transaction_id=tx,
                callback_token_digest="d" * 64, state="creating", amount="176500", currency="GNF",
                environment=config.environment, created_at=now, updated_at=now, expires_at=now + 60,
                watch_until=now + 120, lease_until=now + lease_in,
            )
        )


async def gateway_data(client: httpx.AsyncClient, saleor: FakeSaleor, body: dict[str, Any]) -> dict[str, Any]:
    response = await send_webhook(client, saleor, GATEWAY_INITIALIZE, body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    assert_valid("PaymentGatewayInitializeSession", answer)
    assert list(answer) == ["data"]
    return answer
