"""The simulator answers as API.md says Lengo does, and misbehaves on request."""

from __future__ import annotations

import asyncio
import base64
import json
import random
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, quote

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from saleor_lengo import jsonutil
from saleor_lengo.simulator import LengoState, create_app
from saleor_lengo.simulator.api import random_pay_id

LENGO_URL = "http://lengo.test"
KEY = "bGljZW5zZS1rZXktZm9yLXRlc3Rz"
AUTH = {"Authorization": f"Basic {KEY}"}
SITE = "ad8b9717"


@pytest.fixture
def state() -> LengoState:
    return LengoState(license_key=KEY)


@pytest.fixture
async def api(state: LengoState) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(state))
    async with httpx.AsyncClient(transport=transport, base_url=LENGO_URL) as http:
        yield http


async def create(http: httpx.AsyncClient, **fields: Any) -> httpx.Response:
    body = {"websiteid": SITE, "amount": 1500, "currency": "GNF", **fields}
    return await http.post("/api/v1/payments", content=jsonutil.dumps(body), headers=AUTH)


async def created_pay_id(http: httpx.AsyncClient, **fields: Any) -> str:
    response = await create(http, **fields)
    assert response.status_code == 200, response.text
    pay_id = response.json()["pay_id"]
    assert isinstance(pay_id, str)
    return pay_id


async def status_of(http: httpx.AsyncClient, pay_id: str) -> httpx.Response:
    return await http.post(
        "/api/v1/transaction/status", content=jsonutil.dumps({"pay_id": pay_id, "websiteid": SITE}), headers=AUTH
    )


# --- Create -------------------------------------------------------------------


async def test_create_answers_success_with_a_padded_pay_id_and_a_payment_url(
    api: httpx.AsyncClient, state: LengoState
) -> None:
    response = await create(api, callback_url="https://shop.test/cb", return_url="https://shop.test/back")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "Success"
    assert len(body["pay_id"]) == 24 and body["pay_id"].endswith("==")
    assert body["payment_url"] == f"{LENGO_URL}/pay/{quote(body['pay_id'], safe='')}"
    payment = state.payments[body["pay_id"]]
    assert (payment.amount, payment.currency, payment.website_id) == (Decimal(1500), "GNF", SITE)
    assert (payment.callback_url, payment.return_url, payment.status) == (
        "https://shop.test/cb",
        "https://shop.test/back",
        "INITIATED",
    )


async def test_payment_url_uses_the_configured_page_base(api: httpx.AsyncClient, state: LengoState) -> None:
    state.page_base = "https://payment.lengopay.com/"
    state.new_pay_id = lambda: "ab+c/d=="

    body = (await create(api)).json()

    assert body["payment_url"] == "https://payment.lengopay.com/ab%2Bc%2Fd%3D%3D"


def test_generated_pay_ids_are_base64_and_some_hold_plus_or_slash() -> None:
    ids = [random_pay_id() for _ in range(300)]

    assert all(len(i) == 24 and base64.b64decode(i, validate=True) for i in ids)
    assert any("+" in i or "/" in i for i in ids)
    assert len(set(ids)) == len(ids)


async def test_create_accepts_the_amount_as_a_numeric_string(api: httpx.AsyncClient, state: LengoState) -> None:
    pay_id = await created_pay_id(api, amount="176500")

    assert state.payments[pay_id].amount == Decimal("176500")


@pytest.mark.parametrize(
    "fields",
    [{"websiteid": None}, {"amount": None}, {"currency": None}, {"currency": ""}],
)
async def test_create_without_a_required_field_is_refused_as_missing(
    api: httpx.AsyncClient, state: LengoState, fields: dict[str, Any]
) -> None:
    body = {"websiteid": SITE, "amount": 1500, "currency": "GNF", **fields}
    body = {k: v for k, v in body.items() if v is not None}

    response = await api.post("/api/v1/payments", content=jsonutil.dumps(body), headers=AUTH)

    assert response.status_code == 400
    assert response.json() == {"status": "ERROR", "message": "Missing body fields"}
    assert state.payments == {}


@pytest.mark.parametrize("amount", [100, 999, 0, -1500, "1500.5", "abc"])
async def test_create_refuses_amounts_lengo_does_not_support(
    api: httpx.AsyncClient, state: LengoState, amount: object
) -> None:
    response = await create(api, amount=amount)

    assert response.status_code == 400
    assert response.json() == {"status": "ERROR", "message": "Unsupported amount"}
    assert state.payments == {}


async def test_create_accepts_the_smallest_gnf_amount(api: httpx.AsyncClient, state: LengoState) -> None:
    pay_id = await created_pay_id(api, amount=1000)

    assert state.payments[pay_id].amount == Decimal(1000)


# --- Authentication -------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic wrong-key"},
        {"Authorization": f"Bearer {KEY}"},
        {"Authorization": "Basic " + base64.b64encode(f"{SITE}:{KEY}".encode()).decode()},
    ],
)
async def test_anything_but_basic_and_the_key_as_issued_is_unauthorized(
    api: httpx.AsyncClient, state: LengoState, headers: dict[str, str]
) -> None:
    body = {"websiteid": SITE, "amount": 1500, "currency": "GNF"}

    response = await api.post("/api/v1/payments", content=jsonutil.dumps(body), headers=headers)

    assert response.status_code == 401
    assert response.json() == {"error": "Unauthorized !"}
    assert state.payments == {}


async def test_without_a_configured_key_any_non_empty_key_is_accepted(
    api: httpx.AsyncClient, state: LengoState
) -> None:
    state.license_key = None
    body = jsonutil.dumps({"websiteid": SITE, "amount": 1500, "currency": "GNF"})

    accepted = await api.post("/api/v1/payments", content=body, headers={"Authorization": "Basic anything"})
    refused = await api.post("/api/v1/payments", content=body, headers={"Authorization": "Basic "})

    assert (accepted.status_code, refused.status_code) == (200, 401)


async def test_status_and_balance_need_the_key_too(api: httpx.AsyncClient) -> None:
    pay_id = await created_pay_id(api)

    status = await api.post("/api/v1/transaction/status", json={"pay_id": pay_id, "websiteid": SITE})
    balance = await api.get(f"/api/getbalance/{SITE}")

    assert (status.status_code, balance.status_code) == (401, 401)


# --- Status -------------------------------------------------------------------


async def test_status_reports_the_payment_with_an_integer_gnf_amount(
    api: httpx.AsyncClient, state: LengoState
) -> None:
    pay_id = await created_pay_id(api, amount=176500)
    state.pay(pay_id, gateway="MTN MoMo", account="664000000")

    response = await status_of(api, pay_id)

    assert response.status_code == 200
    assert '"amount":176500,' in response.text
    body = response.json()
    assert {k: body[k] for k in ("status", "pay_id", "amount", "gateway", "account")} == {
        "status": "SUCCESS",
        "pay_id": pay_id,
        "amount": 176500,
        "gateway": "MTN MoMo",
        "account": "664000000",
    }
    assert isinstance(body["date"], str) and body["date"]


async def test_status_follows_set_status_pay_and_decline(api: httpx.AsyncClient, state: LengoState) -> None:
    pay_id = await created_pay_id(api)

    seen = [(await status_of(api, pay_id)).json()["status"]]
    state.set_status(pay_id, "PENDING")
    seen.append((await status_of(api, pay_id)).json()["status"])
    state.decline(pay_id)
    seen.append((await status_of(api, pay_id)).json()["status"])

    assert seen == ["INITIATED", "PENDING", "FAILED"]


async def test_status_of_an_unknown_pay_id_is_a_json_404(api: httpx.AsyncClient) -> None:
    response = await status_of(api, "bm90LWEtcGF5bWVudA==")

    assert response.status_code == 404
    assert response.json() == {"status": "ERROR", "message": "Transaction not found"}


async def test_status_of_another_sites_payment_is_not_found(api: httpx.AsyncClient) -> None:
    pay_id = await created_pay_id(api, websiteid="other-site")

    assert (await status_of(api, pay_id)).status_code == 404


async def test_status_without_pay_id_is_refused_as_missing(api: httpx.AsyncClient) -> None:
    response = await api.post("/api/v1/transaction/status", json={"websiteid": SITE}, headers=AUTH)

    assert response.status_code == 400
    assert response.json()["message"] == "Missing body fields"


# --- Balance and unknown routes -------------------------------------------------


async def test_balance_sums_the_sites_successful_gnf_payments(api: httpx.AsyncClient, state: LengoState) -> None:
    state.pay(await created_pay_id(api, amount=1500))
    state.pay(await created_pay_id(api, amount=2500))
    await created_pay_id(api, amount=9000)  # not paid
    state.pay(await created_pay_id(api, amount=7000, websiteid="other-site"))

    response = await api.get(f"/api/getbalance/{SITE}", headers=AUTH)

    assert response.status_code == 200
    assert response.json() == {"status": "Success", "balance": 4000, "currency": "GNF"}


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/v1/payments/abc%3D%3D"), ("GET", "/nowhere"), ("GET", "/api/v1/payments")],
)
async def test_unknown_routes_answer_an_html_404(
    api: httpx.AsyncClient, state: LengoState, method: str, path: str
) -> None:
    response = await api.request(method, path, headers=AUTH)

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    with pytest.raises(json.JSONDecodeError):
        response.json()
    assert state.calls == [(method, path)]


# --- Misbehaviour -----------------------------------------------------------------


async def test_fail_next_answers_500_that_many_times_then_recovers(
    api: httpx.AsyncClient, state: LengoState
) -> None:
    state.fail_next = 2

    codes = [(await create(api)).status_code for _ in range(3)]

    assert codes == [500, 500, 200]
    assert len(state.payments) == 1
    assert state.fail_next == 0


async def test_fail_rate_draws_from_the_injected_random(api: httpx.AsyncClient, state: LengoState) -> None:
    state.rng = random.Random(7)
    state.fail_rate = 0.5
    replay = random.Random(7)
    expected = [500 if replay.random() < 0.5 else 200 for _ in range(20)]

    codes = [(await create(api)).status_code for _ in range(20)]

    assert codes == expected
    assert 500 in codes and 200 in codes


async def test_create_then_fail_stores_the_payment_but_answers_500(
    api: httpx.AsyncClient, state: LengoState
) -> None:
    state.create_then_fail = True

    response = await create(api)

    assert response.status_code == 500
    assert len(state.payments) == 1


async def test_slow_waits_before_every_call(api: httpx.AsyncClient, state: LengoState) -> None:
    waited: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waited.append(seconds)

    state.sleep = fake_sleep
    state.slow = 1.5

    await create(api)
    await api.get(f"/api/getbalance/{SITE}", headers=AUTH)

    assert waited == [1.5, 1.5]


async def test_hang_next_holds_the_answer_past_a_client_timeout(api: httpx.AsyncClient, state: LengoState) -> None:
    state.hang_next = 1

    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await create(api)
    after = await create(api)

    assert after.status_code == 200
    assert state.hang_next == 0


async def test_calls_are_logged_with_the_path_as_sent(api: httpx.AsyncClient, state: LengoState) -> None:
    await create(api)
    await api.get("/api/getbalance/" + quote("site/1", safe=""), headers=AUTH)

    assert state.calls == [("POST", "/api/v1/payments"), ("GET", "/api/getbalance/site%2F1")]


# --- Callbacks ----------------------------------------------------------------------


class Merchant:
    """A callback receiver that records what it got and answers a chosen status."""

    def __init__(self, answer: int = 200) -> None:
        self.answer = answer
        self.received: list[tuple[str, bytes]] = []

    def app(self) -> Starlette:
        async def callback(request: Request) -> Response:
            self.received.append((request.headers.get("content-type", ""), await request.body()))
            return PlainTextResponse("ok", status_code=self.answer)

        return Starlette(routes=[Route("/cb/{token}", callback, methods=["POST"])])


@pytest.fixture
def merchant() -> Merchant:
    return Merchant()


@pytest.fixture
async def shop(merchant: Merchant) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=merchant.app())) as http:
        yield http


async def test_a_callback_carries_lengos_json_body(
    api: httpx.AsyncClient, state: LengoState, merchant: Merchant, shop: httpx.AsyncClient
) -> None:
    pay_id = await created_pay_id(api, amount=176500, callback_url="http://shop.test/cb/tok")
    state.pay(pay_id)

    statuses = await state.send_callback(pay_id, shop)

    assert statuses == [200]
    [(content_type, raw)] = merchant.received
    assert content_type == "application/json"
    assert b'"amount":176500,' in raw
    assert json.loads(raw) == {
        "pay_id": pay_id,
        "status": "SUCCESS",
        "amount": 176500,
        "message": "Transaction Successful",
        "Client": "624897845",
    }


async def test_a_declined_payments_callback_says_transaction_failed(
    api: httpx.AsyncClient, state: LengoState, merchant: Merchant, shop: httpx.AsyncClient
) -> None:
    pay_id = await created_pay_id(api, callback_url="http://shop.test/cb/tok")
    state.decline(pay_id)

    await state.send_callback(pay_id, shop)

    body = json.loads(merchant.received[0][1])
    assert (body["status"], body["message"]) == ("FAILED", "Transaction Failed")


async def test_callbacks_can_be_repeated_late_forged_or_form_encoded(
    api: httpx.AsyncClient, state: LengoState, merchant: Merchant, shop: httpx.AsyncClient
) -> None:
    waited: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waited.append(seconds)

    state.sleep = fake_sleep
    pay_id = await created_pay_id(api, callback_url="http://shop.test/cb/tok")
    state.pay(pay_id)
    merchant.answer = 429

    statuses = await state.send_callback(pay_id, shop, copies=2, delay=30.0, form=True, override={"amount": 1})

    assert statuses == [429, 429]
    assert waited == [30.0, 30.0]
    assert len(merchant.received) == 2
    content_type, raw = merchant.received[0]
    assert content_type == "application/x-www-form-urlencoded"
    assert parse_qs(raw.decode()) == {
        "pay_id": [pay_id],
        "status": ["SUCCESS"],
        "amount": ["1"],
        "message": ["Transaction Successful"],
        "Client": ["624897845"],
    }


async def test_a_callback_needs_a_callback_url(api: httpx.AsyncClient, state: LengoState) -> None:
    pay_id = await created_pay_id(api)

    with pytest.raises(ValueError):
        await state.send_callback(pay_id, api)


# --- Cash-in --------------------------------------------------------------------------


def cashin_body(**fields: Any) -> bytes:
    return jsonutil.dumps({
        "amount": "1000", "currency": "GNF", "websiteid": SITE, "type_account": "lp-om-gn", "account": "624897845",
        **fields,
    }).encode()


async def test_a_cash_in_answers_lengos_documented_shapes(api: httpx.AsyncClient, state: LengoState) -> None:
    state.funds[SITE] = Decimal(5000)

    missing = await api.post("/api/v2/cashin/request", content=cashin_body(account=""), headers=AUTH)
    too_much = await api.post("/api/v2/cashin/request", content=cashin_body(amount="6000"), headers=AUTH)
    unauthorized = await api.post("/api/v2/cashin/request", content=cashin_body(), headers={"Authorization": "Basic no"})
    ok = await api.post("/api/v2/cashin/request", content=cashin_body(), headers=AUTH)
    unknown = await api.post("/api/v2/cashin/transaction", content=jsonutil.dumps({"pay_id": "nope", "websiteid": SITE}),
                             headers=AUTH)
    history = await api.post("/api/v1/cashin/all-transactions", content=jsonutil.dumps({"websiteid": SITE}), headers=AUTH)
    other_site = await api.post("/api/v1/cashin/all-transactions", content=jsonutil.dumps({"websiteid": "x"}), headers=AUTH)

    assert (missing.status_code, missing.json()) == (400, {"status": "ERROR", "message": "Missing body fields"})
    assert (too_much.status_code, too_much.json()) == (400, {"status": "ERROR", "message": "Insufficient balance"})
    assert (unauthorized.status_code, unauthorized.json()) == (401, {"error": "Unauthorized !"})
    assert ok.status_code == 200 and ok.json()["status"] == "Success" and ok.json()["message"]
    assert unknown.status_code == 404
    [entry] = history.json()
    assert (entry["pay_id"], entry["account"], entry["amount"], entry["gateway"]) == (
        ok.json()["pay_id"], 624897845, 1000, "Orange Money"
    )
    assert other_site.json() == []
    assert state.balance(SITE) == Decimal(4000)
