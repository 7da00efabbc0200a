"""The simulator's payment page and the `saleor-lengo simulator` command."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from saleor_lengo import jsonutil
from saleor_lengo.cli import build_parser
from saleor_lengo.commands import simulator as command
from saleor_lengo.simulator.api import LengoState
from saleor_lengo.simulator.page import CallbackPolicy, PaymentPage
from saleor_lengo.simulator.server import create_server

SIM = "http://sim.test"
SHOP = "http://shop.test"
KEY = "simulator-page-key"
RETURN = f"{SHOP}/checkout/return?transactionId=VHJhbnNhY3Rpb25JdGVtOjE%3D"


class Merchant:
    """Records the callbacks it receives; answers `statuses` in turn, then 200."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.received: list[tuple[str, dict[str, Any]]] = []

    async def callback(self, request: Request) -> Response:
        self.received.append((request.headers.get("content-type", ""), json.loads(await request.body())))
        return Response(status_code=self.statuses.pop(0) if self.statuses else 200)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/cb/{token}", self.callback, methods=["POST"])])


async def no_sleep(_seconds: float) -> None:
    return None


@pytest.fixture
def state() -> LengoState:
    return LengoState(license_key=KEY, sleep=no_sleep)


@pytest.fixture
def merchant() -> Merchant:
    return Merchant()


def make_sim(state: LengoState, merchant: Merchant, policy: CallbackPolicy) -> tuple[Starlette, PaymentPage]:
    app = create_server(state, policy)
    page: PaymentPage = app.state.page
    page.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=merchant.app()), base_url=SHOP)
    return app, page


@pytest.fixture
async def sim(state: LengoState, merchant: Merchant) -> AsyncIterator[tuple[httpx.AsyncClient, PaymentPage]]:
    app, page = make_sim(state, merchant, CallbackPolicy())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SIM) as http:
        yield http, page
    await page.aclose()


async def create(http: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    body = {"websiteid": "site", "amount": 176500, "currency": "GNF", "return_url": RETURN,
            "callback_url": f"{SHOP}/cb/secret-token", **fields}
    response = await http.post("/api/v1/payments", content=jsonutil.dumps(body), headers={"Authorization": f"Basic {KEY}"})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def press(http: httpx.AsyncClient, payment_url: str, choice: str) -> httpx.Response:
    return await http.post(payment_url, content=f"choice={choice}",
                           headers={"Content-Type": "application/x-www-form-urlencoded"})


async def test_the_payment_page_shows_the_amount_the_choices_and_that_it_is_a_simulator(
    sim: tuple[httpx.AsyncClient, PaymentPage],
) -> None:
    http, _ = sim
    created = await create(http)

    page = await http.get(created["payment_url"])

    assert page.status_code == 200
    assert "SIMULATOR" in page.text
    assert "176\u202f500 GNF" in page.text
    for button in ("Pay with Orange Money", "Pay with MTN MoMo", "Decline", "Abandon"):
        assert button in page.text
    assert f"action='/pay/{quote(created['pay_id'], safe='')}'" in page.text


async def test_every_simulator_page_says_it_is_a_simulator(sim: tuple[httpx.AsyncClient, PaymentPage]) -> None:
    http, _ = sim
    created = await create(http)
    await press(http, created["payment_url"], "orange-money")

    pages = [await http.get("/"), await http.get(created["payment_url"]), await http.get("/pay/unknown")]

    assert [p.status_code for p in pages] == [200, 200, 404]
    assert all("SIMULATOR" in p.text for p in pages)


async def test_paying_sets_success_sends_a_json_callback_and_sends_the_shopper_back(
    sim: tuple[httpx.AsyncClient, PaymentPage], state: LengoState, merchant: Merchant
) -> None:
    http, page = sim
    created = await create(http)

    back = await press(http, created["payment_url"], "mtn-momo")
    await page.drain()

    assert back.status_code == 303
    assert back.headers["location"] == RETURN
    payment = state.payments[created["pay_id"]]
    assert (payment.status, payment.gateway) == ("SUCCESS", "MTN MoMo")
    [(content_type, body)] = merchant.received
    assert content_type == "application/json"
    assert body == {"pay_id": created["pay_id"], "status": "SUCCESS", "amount": 176500,
                    "message": "Transaction Successful", "Client": "664123456"}


async def test_declining_sets_failed_and_sends_a_failure_callback(
    sim: tuple[httpx.AsyncClient, PaymentPage], state: LengoState, merchant: Merchant
) -> None:
    http, page = sim
    created = await create(http)

    back = await press(http, created["payment_url"], "decline")
    await page.drain()

    assert (back.status_code, back.headers["location"]) == (303, RETURN)
    assert state.payments[created["pay_id"]].status == "FAILED"
    assert [body["status"] for _, body in merchant.received] == ["FAILED"]


async def test_abandoning_goes_back_to_the_shop_and_changes_nothing(
    sim: tuple[httpx.AsyncClient, PaymentPage], state: LengoState, merchant: Merchant
) -> None:
    http, page = sim
    created = await create(http)

    back = await press(http, created["payment_url"], "abandon")
    await page.drain()

    assert (back.status_code, back.headers["location"]) == (303, RETURN)
    assert state.payments[created["pay_id"]].status == "INITIATED"
    assert merchant.received == []


async def test_a_settled_payment_cannot_be_paid_or_declined_again(
    sim: tuple[httpx.AsyncClient, PaymentPage], state: LengoState, merchant: Merchant
) -> None:
    http, page = sim
    created = await create(http)
    await press(http, created["payment_url"], "orange-money")

    again = await press(http, created["payment_url"], "decline")
    await page.drain()

    assert again.status_code == 409
    assert state.payments[created["pay_id"]].status == "SUCCESS"
    assert len(merchant.received) == 1


async def test_without_a_return_url_the_page_says_what_happened(sim: tuple[httpx.AsyncClient, PaymentPage]) -> None:
    http, _ = sim
    created = await create(http, return_url=None)

    done = await press(http, created["payment_url"], "orange-money")

    assert done.status_code == 200
    assert "Paid 176\u202f500 GNF with Orange Money" in done.text


async def test_an_unknown_choice_is_refused(sim: tuple[httpx.AsyncClient, PaymentPage], state: LengoState) -> None:
    http, _ = sim
    created = await create(http)

    refused = await press(http, created["payment_url"], "steal")

    assert refused.status_code == 400
    assert state.payments[created["pay_id"]].status == "INITIATED"


async def test_a_pay_id_with_slash_and_plus_reaches_its_page(
    sim: tuple[httpx.AsyncClient, PaymentPage], state: LengoState
) -> None:
    http, _ = sim
    state.new_pay_id = lambda: "ab+/cd/ef+gh/ij+kl/mn=="
    created = await create(http)

    back = await press(http, created["payment_url"], "orange-money")

    assert back.status_code == 303
    assert state.payments["ab+/cd/ef+gh/ij+kl/mn=="].status == "SUCCESS"


async def test_callbacks_are_repeated_delayed_or_withheld_as_configured(
    state: LengoState, merchant: Merchant
) -> None:
    waits: list[float] = []

    async def record_sleep(seconds: float) -> None:
        waits.append(seconds)

    state.sleep = record_sleep
    app, page = make_sim(state, merchant, CallbackPolicy(delay=2.5, copies=3))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SIM) as http:
        created = await create(http)
        await press(http, created["payment_url"], "orange-money")
        await page.drain()
        status = (await http.get(f"/_simulator/payments/{quote(created['pay_id'], safe='')}")).json()
    await page.aclose()

    assert len(merchant.received) == 3
    assert waits == [2.5, 2.5, 2.5]
    assert [(c["copy"], c["status"]) for c in status["callbacks"]] == [(1, 200), (2, 200), (3, 200)]


async def test_no_callback_means_none_is_sent(state: LengoState, merchant: Merchant) -> None:
    app, page = make_sim(state, merchant, CallbackPolicy(enabled=False))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SIM) as http:
        created = await create(http)
        back = await press(http, created["payment_url"], "orange-money")
        await page.drain()
    await page.aclose()

    assert back.status_code == 303
    assert state.payments[created["pay_id"]].status == "SUCCESS"
    assert merchant.received == []


async def test_a_refused_callback_is_retried_until_acknowledged(state: LengoState) -> None:
    merchant = Merchant(500, 429)
    app, page = make_sim(state, merchant, CallbackPolicy())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SIM) as http:
        created = await create(http)
        await press(http, created["payment_url"], "orange-money")
        await page.drain()
        status = (await http.get(f"/_simulator/payments/{quote(created['pay_id'], safe='')}")).json()
    await page.aclose()

    assert [c["status"] for c in status["callbacks"]] == [500, 429, 200]
    assert status["callbacks_in_flight"] is False


async def test_the_api_is_served_beside_the_page_with_lengo_answers(sim: tuple[httpx.AsyncClient, PaymentPage]) -> None:
    http, _ = sim

    unauthorized = await http.post("/api/v1/payments", content=b"{}", headers={"Authorization": "Basic wrong"})
    unknown = await http.get("/api/v1/payments/abc")

    assert (unauthorized.status_code, unauthorized.json()) == (401, {"error": "Unauthorized !"})
    assert unknown.status_code == 404 and unknown.headers["content-type"].startswith("text/html")


# --- The command ---------------------------------------------------------------------


def parse(*argv: str) -> Any:
    return build_parser().parse_args(["simulator", *argv])


def test_the_command_maps_its_options_to_the_simulator_switches() -> None:
    args = parse("--port", "9101", "--license-key", "K", "--callback-delay", "1.5", "--duplicate-callbacks", "3",
                 "--fail-rate", "0.25", "--slow", "2", "--public-url", "http://localhost:9101/")

    state, policy = command.build_state(args), command.build_policy(args)

    assert (args.host, args.port) == ("127.0.0.1", 9101)
    assert (state.license_key, state.fail_rate, state.slow, state.page_base) == ("K", 0.25, 2.0, "http://localhost:9101/pay")
    assert (policy.enabled, policy.delay, policy.copies) == (True, 1.5, 3)


def test_the_command_defaults_accept_any_key_on_port_8001(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LENGO_SIMULATOR_LICENSE_KEY", raising=False)
    args = parse("--no-callback")

    state, policy = command.build_state(args), command.build_policy(args)

    assert args.port == 8001
    assert (state.license_key, state.fail_rate, state.slow, state.page_base) == (None, 0.0, 0.0, None)
    assert policy.enabled is False


@pytest.mark.parametrize(
    "argv",
    [["--fail-rate", "1.5"], ["--fail-rate", "nan"], ["--slow", "-1"], ["--duplicate-callbacks", "0"],
     ["--callback-delay", "soon"]],
)
def test_the_command_refuses_nonsense_switches(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        parse(*argv)

    assert exc.value.code == 2
    assert "simulator" in capsys.readouterr().err


def test_the_amount_on_the_page_keeps_minor_units() -> None:
    from saleor_lengo.simulator.page import _amount
    from saleor_lengo.simulator.api import SimPayment

    payment = SimPayment("p", "s", Decimal("1234.50"), "USD", None, None, "INITIATED", None, None, None)  # type: ignore[arg-type]

    assert _amount(payment) == "1\u202f234.50 USD"
