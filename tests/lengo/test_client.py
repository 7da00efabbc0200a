"""The Lengo client against the simulator (and, for answers the simulator never
gives, against `httpx.MockTransport`): exact requests, every error mapping,
retries within a budget, and an audit trail without secrets."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from structlog.testing import capture_logs

from saleor_lengo.lengo.client import LengoCall, LengoClient, LengoCredentials
from saleor_lengo.lengo.errors import (
    LengoError,
    LengoOutcomeUnknown,
    LengoProtocolError,
    LengoRefused,
    LengoUnauthorized,
    LengoUnavailable,
)
from saleor_lengo.lengo.vocabulary import FINAL_STATUSES, KNOWN_STATUSES, classify
from saleor_lengo.money import Money, Problem, Unholdable
from saleor_lengo.outbound import UnsafeUrl
from saleor_lengo.simulator import LengoState, create_app

LENGO_URL = "http://lengo.test"
KEY = "lengo-license-key-0123456789"
SITE = "ad8b9717"
PHONE = "624897845"
TRICKY_PAY_ID = "a+b/c+d/e+f/g+h/i+j/k=="
CREATE = ("POST", "/api/v1/payments")
STATUS = ("POST", "/api/v1/transaction/status")


def gnf(amount: int | str) -> Money:
    return Money.parse(amount, "GNF")


class Harness:
    """A simulator, an HTTP client wired to it, and a fake clock that only sleep moves."""

    def __init__(self) -> None:
        self.state = LengoState(license_key=KEY)
        self.requests: list[httpx.Request] = []
        self.recorded: list[LengoCall] = []
        self.sleeps: list[float] = []
        self.now = 1000.0

        async def capture(request: httpx.Request) -> None:
            self.requests.append(request)

        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(self.state)),
            base_url=LENGO_URL,
            event_hooks={"request": [capture]},
        )

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now

    async def record(self, call: LengoCall) -> None:
        self.recorded.append(call)

    def client(self, base_url: str = LENGO_URL, key: str = KEY, website_id: str = SITE) -> LengoClient:
        return LengoClient(
            self.http,
            LengoCredentials(base_url, website_id, key),
            recorder=self.record,
            sleep=self.sleep,
            clock=self.clock,
        )

    def count(self, call: tuple[str, str]) -> int:
        return self.state.calls.count(call)


@pytest.fixture
async def h() -> AsyncIterator[Harness]:
    harness = Harness()
    yield harness
    await harness.http.aclose()


def mocked(handler: Callable[[httpx.Request], httpx.Response], recorded: list[LengoCall] | None = None) -> LengoClient:
    """A client whose Lengo answers whatever `handler` says: for answers the simulator never gives."""

    async def record(call: LengoCall) -> None:
        if recorded is not None:
            recorded.append(call)

    async def no_sleep(seconds: float) -> None:
        return None

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return LengoClient(http, LengoCredentials(LENGO_URL, SITE, KEY), recorder=record, sleep=no_sleep)


def answer(status_code: int, body: Any) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status_code, content=json.dumps(body).encode())

    return handler


# --- Create: the request ----------------------------------------------------------


async def test_create_sends_the_gnf_amount_as_a_json_integer_and_the_key_as_issued(h: Harness) -> None:
    created = await h.client().create_payment(
        gnf("176500"), return_url="https://shop.test/back", callback_url="https://app.test/cb/t0k"
    )

    [request] = h.requests
    assert request.method == "POST" and str(request.url) == f"{LENGO_URL}/api/v1/payments"
    assert request.headers["Authorization"] == f"Basic {KEY}"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["Content-Type"] == "application/json"
    assert b'"amount":176500,' in request.content and b"176500.0" not in request.content
    assert json.loads(request.content) == {
        "websiteid": SITE,
        "amount": 176500,
        "currency": "GNF",
        "return_url": "https://shop.test/back",
        "callback_url": "https://app.test/cb/t0k",
    }
    assert h.state.payments[created.pay_id].amount == Decimal(176500)


async def test_create_leaves_out_the_urls_it_was_not_given(h: Harness) -> None:
    await h.client().create_payment(gnf(1500), return_url=None, callback_url=None)

    assert json.loads(h.requests[0].content) == {"websiteid": SITE, "amount": 1500, "currency": "GNF"}


async def test_create_sends_a_two_decimal_currency_as_an_exact_number(h: Harness) -> None:
    await h.client().create_payment(Money.parse("12.50", "USD"), return_url=None, callback_url=None)

    assert b'"amount":12.5,' in h.requests[0].content


async def test_create_refuses_a_non_http_callback_url_before_calling_lengo(h: Harness) -> None:
    for _ in range(2):  # checked URLs are remembered; refused ones must be refused every time
        with pytest.raises(UnsafeUrl):
            await h.client().create_payment(gnf(1500), return_url=None, callback_url="javascript:alert(1)")

    assert h.state.calls == []


async def test_the_base_url_may_end_with_a_slash_or_carry_a_prefix() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"status": "Success", "balance": 0, "currency": "GNF"})

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    for base in ("http://lengo.test/", "http://lengo.test/proxy/lengo"):
        await LengoClient(http, LengoCredentials(base, SITE, KEY)).balance()

    assert seen == [f"http://lengo.test/api/getbalance/{SITE}", f"http://lengo.test/proxy/lengo/api/getbalance/{SITE}"]


# --- Create: the answer ------------------------------------------------------------


async def test_a_pay_id_with_plus_slash_and_padding_is_kept_byte_for_byte(h: Harness) -> None:
    h.state.new_pay_id = lambda: TRICKY_PAY_ID
    client = h.client()

    created = await client.create_payment(gnf(1500), return_url=None, callback_url=None)
    h.state.pay(created.pay_id)
    status = await client.payment_status(created.pay_id)

    assert created.pay_id == TRICKY_PAY_ID
    assert created.payment_url == f"{LENGO_URL}/pay/{quote(TRICKY_PAY_ID, safe='')}"
    assert (status.pay_id, status.status, status.outcome) == (TRICKY_PAY_ID, "SUCCESS", "paid")
    assert json.loads(h.requests[-1].content) == {"pay_id": TRICKY_PAY_ID, "websiteid": SITE}


async def test_create_relays_lengos_unsupported_amount_refusal(h: Harness) -> None:
    with pytest.raises(LengoRefused) as caught:
        await h.client().create_payment(gnf(100), return_url=None, callback_url=None)

    assert caught.value.message == "Unsupported amount"
    assert caught.value.http_status == 400
    assert "Unsupported amount" in caught.value.safe_message
    assert caught.value.retryable is False


async def test_create_relays_lengos_missing_fields_refusal() -> None:
    client = mocked(answer(400, {"status": "ERROR", "message": "Missing body fields"}))

    with pytest.raises(LengoRefused) as caught:
        await client.create_payment(gnf(1500), return_url=None, callback_url=None)

    assert caught.value.message == "Missing body fields"


async def test_a_refusal_message_never_carries_the_key_or_control_characters() -> None:
    client = mocked(answer(400, {"status": "ERROR", "message": f"bad key {KEY}\r\nX-Injected: 1"}))

    with pytest.raises(LengoRefused) as caught:
        await client.create_payment(gnf(1500), return_url=None, callback_url=None)

    assert KEY not in caught.value.safe_message
    assert "\n" not in caught.value.safe_message and "\r" not in caught.value.safe_message


async def test_a_wrong_license_key_is_unauthorized_and_never_shown(h: Harness) -> None:
    with pytest.raises(LengoUnauthorized) as caught:
        await h.client(key="not-the-right-key").create_payment(gnf(1500), return_url=None, callback_url=None)

    assert caught.value.http_status == 401
    assert "not-the-right-key" not in caught.value.safe_message
    assert h.state.payments == {}


async def test_a_500_on_create_is_an_unknown_outcome_after_exactly_one_call(h: Harness) -> None:
    h.state.fail_next = 5

    with pytest.raises(LengoOutcomeUnknown) as caught:
        await h.client().create_payment(gnf(1500), return_url=None, callback_url=None)

    assert caught.value.retryable is False
    assert caught.value.http_status == 500
    assert h.count(CREATE) == 1
    assert h.sleeps == []


async def test_a_payment_created_before_a_500_is_an_unknown_outcome_not_a_failure(h: Harness) -> None:
    h.state.create_then_fail = True

    with pytest.raises(LengoOutcomeUnknown):
        await h.client().create_payment(gnf(1500), return_url=None, callback_url=None)

    assert h.count(CREATE) == 1
    assert len(h.state.payments) == 1  # the ambiguity is real: Lengo has it


async def test_a_timeout_on_create_is_an_unknown_outcome_and_not_retried(h: Harness) -> None:
    h.state.hang_next = 1
    h.state.hang_seconds = 5.0  # were the timeout ignored, the test fails instead of hanging
    started = time.monotonic()

    with pytest.raises(LengoOutcomeUnknown) as caught:
        await h.client().create_payment(gnf(1500), return_url=None, callback_url=None, timeout=0.05)

    assert time.monotonic() - started < 2
    assert "in time" in caught.value.safe_message
    assert h.count(CREATE) == 1


async def test_a_connection_that_breaks_mid_create_is_an_unknown_outcome() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("connection reset", request=request)

    with pytest.raises(LengoOutcomeUnknown):
        await mocked(handler).create_payment(gnf(1500), return_url=None, callback_url=None)


async def test_a_create_that_never_connected_is_unavailable_since_nothing_was_sent() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("name resolution failed", request=request)

    with pytest.raises(LengoUnavailable) as caught:
        await mocked(handler).create_payment(gnf(1500), return_url=None, callback_url=None)

    assert caught.value.retryable is True
    assert "ConnectError" in caught.value.safe_message


@pytest.mark.parametrize(
    ("status_code", "body", "complaint"),
    [
        (200, {"status": "Success", "payment_url": "https://payment.lengopay.com/x"}, "pay_id"),
        (200, {"status": "Success", "pay_id": "eA==", "payment_url": None}, "payment_url"),
        (200, {"status": "Success", "pay_id": "eA==", "payment_url": "javascript:alert(1)"}, "http(s)"),
        (200, ["not", "an", "object"], "pay_id"),
    ],
)
async def test_a_create_answer_without_usable_pay_id_or_url_is_a_protocol_error(
    status_code: int, body: Any, complaint: str
) -> None:
    with pytest.raises(LengoProtocolError) as caught:
        await mocked(answer(status_code, body)).create_payment(gnf(1500), return_url=None, callback_url=None)

    assert complaint in caught.value.safe_message
    assert caught.value.http_status == 200


async def test_a_redirect_is_not_followed_since_it_would_carry_the_key_elsewhere() -> None:
    hosts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        return httpx.Response(301, headers={"Location": "https://evil.test/api/v1/payments"})

    with pytest.raises(LengoProtocolError):
        await mocked(handler).create_payment(gnf(1500), return_url=None, callback_url=None)

    assert hosts == ["lengo.test"]


# --- Status ----------------------------------------------------------------------


async def test_status_reports_the_amount_exactly_and_the_gateway(h: Harness) -> None:
    client = h.client()
    created = await client.create_payment(gnf(176500), return_url=None, callback_url=None)
    h.state.pay(created.pay_id, gateway="MTN MoMo")

    status = await client.payment_status(created.pay_id)

    assert status.amount == Decimal(176500) and isinstance(status.amount, Decimal)
    assert (status.status, status.gateway, status.outcome) == ("SUCCESS", "MTN MoMo", "paid")
    assert status.date


@pytest.mark.parametrize(("raw", "expected"), [("1500.10", "1500.10"), ('"176500"', "176500"), ("null", None)])
async def test_status_amounts_are_parsed_exactly_from_numbers_and_strings(raw: str, expected: str | None) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=f'{{"status": "PENDING", "pay_id": "eA==", "amount": {raw}}}'.encode())

    status = await mocked(handler).payment_status("eA==")

    if expected is None:
        assert status.amount is None
    else:
        assert isinstance(status.amount, Decimal) and str(status.amount) == expected


async def test_a_status_amount_that_is_not_a_number_is_kept_as_unusable_not_an_error() -> None:
    # The status is still Lengo's word that the payment is paid: the payment
    # is held for review (flows.lengo_status), not left unread.
    client = mocked(answer(200, {"status": "SUCCESS", "pay_id": "eA==", "amount": "lots"}))

    status = await client.payment_status("eA==")

    assert status.outcome == "paid"
    assert isinstance(status.amount, Unholdable) and status.amount.problem == Problem.NOT_A_NUMBER


async def test_a_status_without_a_pay_id_is_taken_as_about_the_one_asked() -> None:
    status = await mocked(answer(200, {"status": "FAILED"})).payment_status(TRICKY_PAY_ID)

    assert (status.pay_id, status.outcome) == (TRICKY_PAY_ID, "failed")


@pytest.mark.parametrize(
    "answered",
    [
        "a b/c b/e b/g b/i b/k==",  # "+" turned into spaces by a form decoder
        "a+b/c+d/e+f/g+h/i+j/k",  # padding stripped
        "a%2Bb%2Fc+d/e+f/g+h/i+j/k==",  # URL-encoded
        "A+B/C+D/E+F/G+H/I+J/K==",  # another case
        123,
    ],
)
async def test_a_status_about_another_pay_id_is_refused(answered: object) -> None:
    recorded: list[LengoCall] = []
    client = mocked(answer(200, {"status": "SUCCESS", "pay_id": answered, "amount": 1500}), recorded)

    with pytest.raises(LengoProtocolError):
        await client.payment_status(TRICKY_PAY_ID)

    assert [c.outcome for c in recorded] == ["protocol_error"]  # not retried


async def test_status_is_retried_after_500s_and_succeeds_within_budget(h: Harness) -> None:
    client = h.client()
    created = await client.create_payment(gnf(1500), return_url=None, callback_url=None)
    h.state.fail_next = 3

    status = await client.payment_status(created.pay_id, budget=8.0)

    assert status.status == "INITIATED"
    assert h.count(STATUS) == 4
    assert h.sleeps == [0.2, 0.4, 0.8]


async def test_status_gives_up_with_the_last_error_when_the_budget_is_spent(h: Harness) -> None:
    h.state.fail_rate = 1.0

    with pytest.raises(LengoUnavailable) as caught:
        await h.client().payment_status("eA==", budget=8.0)

    assert caught.value.http_status == 500
    # Backoff doubles up to 2 s and stops when less than half a second would be left.
    assert h.sleeps == [0.2, 0.4, 0.8, 1.6, 2.0, 2.0]
    assert sum(h.sleeps) <= 8.0
    assert h.count(STATUS) == len(h.sleeps) + 1


async def test_a_hung_status_attempt_never_outlasts_the_budget(h: Harness) -> None:
    h.state.hang_next = 10
    h.state.hang_seconds = 5.0
    client = LengoClient(h.http, LengoCredentials(LENGO_URL, SITE, KEY), sleep=h.sleep)  # real clock
    started = time.monotonic()

    with pytest.raises(LengoUnavailable):
        await client.payment_status("eA==", budget=0.3)

    assert time.monotonic() - started < 1.5
    assert h.count(STATUS) == 1


async def test_an_html_404_means_a_wrong_base_url_and_is_unavailable(h: Harness) -> None:
    client = h.client(base_url=f"{LENGO_URL}/wrong")

    with pytest.raises(LengoUnavailable) as on_create:
        await client.create_payment(gnf(1500), return_url=None, callback_url=None)
    with pytest.raises(LengoUnavailable) as on_status:
        await client.payment_status("eA==", budget=1.0)

    assert on_create.value.http_status == on_status.value.http_status == 404
    assert h.state.payments == {}
    assert ("POST", "/wrong/api/v1/transaction/status") in h.state.calls
    assert h.sleeps  # status was retried: the endpoint may come back


async def test_status_of_a_payment_lengo_does_not_know_is_refused_without_retry(h: Harness) -> None:
    with pytest.raises(LengoRefused) as caught:
        await h.client().payment_status("bm90LWEtcGF5bWVudA==")

    assert (caught.value.http_status, caught.value.message) == (404, "Transaction not found")
    assert h.count(STATUS) == 1


async def test_a_refused_key_on_status_is_not_retried(h: Harness) -> None:
    with pytest.raises(LengoUnauthorized):
        await h.client(key="wrong-key-000").payment_status("eA==")

    assert h.count(STATUS) == 1 and h.sleeps == []


async def test_status_answered_as_html_with_200_is_a_protocol_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, html="<html>maintenance</html>")

    with pytest.raises(LengoProtocolError) as caught:
        await mocked(handler).payment_status("eA==")

    assert "without JSON" in caught.value.safe_message


# --- Balance -----------------------------------------------------------------------


async def test_balance_reports_the_sites_balance_and_encodes_the_site_id(h: Harness) -> None:
    site = "site/1 é"
    client = h.client(website_id=site)
    created = await client.create_payment(gnf(2500), return_url=None, callback_url=None)
    h.state.pay(created.pay_id)

    balance = await client.balance()

    assert (balance.balance, balance.currency) == (Decimal(2500), "GNF")
    assert h.requests[-1].url.raw_path == b"/api/getbalance/site%2F1%20%C3%A9"


async def test_a_balance_without_an_amount_is_a_protocol_error() -> None:
    with pytest.raises(LengoProtocolError):
        await mocked(answer(200, {"status": "Success", "currency": "GNF"})).balance()


# --- Audit and secrets -------------------------------------------------------------


async def test_the_recorder_gets_one_call_per_attempt_without_key_or_phone(h: Harness) -> None:
    client = h.client()
    created = await client.create_payment(gnf(1500), return_url=None, callback_url=None)
    h.state.pay(created.pay_id, account=PHONE)
    h.state.fail_next = 2
    await client.payment_status(created.pay_id)
    await client.balance()

    assert [(c.operation, c.outcome, c.http_status) for c in h.recorded] == [
        ("create_payment", "ok", 200),
        ("payment_status", "unavailable", 500),
        ("payment_status", "unavailable", 500),
        ("payment_status", "ok", 200),
        ("balance", "ok", 200),
    ]
    assert created.pay_id in h.recorded[0].detail
    assert "SUCCESS" in h.recorded[3].detail
    for call in h.recorded:
        assert KEY not in repr(call) and PHONE not in repr(call)
        assert call.duration_ms >= 0 and call.started_at.tzinfo is not None


async def test_failed_calls_are_recorded_with_their_safe_message(h: Harness) -> None:
    with pytest.raises(LengoUnauthorized) as caught:
        await h.client(key="wrong-key-000").create_payment(gnf(1500), return_url=None, callback_url=None)

    [call] = h.recorded
    assert (call.outcome, call.http_status, call.detail) == ("unauthorized", 401, caught.value.safe_message)
    assert "wrong-key-000" not in call.detail


async def test_a_failing_recorder_does_not_lose_a_created_payment(h: Harness) -> None:
    async def broken(call: LengoCall) -> None:
        raise RuntimeError("audit table is gone")

    client = LengoClient(h.http, LengoCredentials(LENGO_URL, SITE, KEY), recorder=broken)

    created = await client.create_payment(gnf(1500), return_url=None, callback_url=None)

    assert created.pay_id in h.state.payments


async def test_logs_never_carry_the_key_or_the_payers_phone(h: Harness) -> None:
    client = h.client()
    with capture_logs() as logs:
        created = await client.create_payment(gnf(1500), return_url=None, callback_url=None)
        h.state.pay(created.pay_id, account=PHONE)
        await client.payment_status(created.pay_id)
        with pytest.raises(LengoError):
            await h.client(key="wrong-key-000").balance()

    assert len(logs) == 3
    assert all(KEY not in repr(entry) and PHONE not in repr(entry) for entry in logs)


def test_credentials_never_show_the_key() -> None:
    credentials = LengoCredentials(LENGO_URL, SITE, KEY)

    assert KEY not in repr(credentials) and KEY not in str(credentials)
    assert SITE in repr(credentials)


@pytest.mark.parametrize(
    ("base_url", "site", "key"),
    [
        ("ftp://lengo.test", SITE, KEY),
        ("http://user:pw@lengo.test", SITE, KEY),
        (LENGO_URL, "", KEY),
        (LENGO_URL, SITE, ""),
        (LENGO_URL, SITE, "key\r\nX-Injected: 1"),
    ],
)
def test_credentials_refuse_unusable_urls_and_values(base_url: str, site: str, key: str) -> None:
    with pytest.raises(ValueError):
        LengoCredentials(base_url, site, key)


async def test_a_cancelled_call_is_not_swallowed(h: Harness) -> None:
    h.state.hang_next = 1
    task = asyncio.create_task(h.client().create_payment(gnf(1500), return_url=None, callback_url=None))
    await asyncio.sleep(0.05)

    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task


# --- Vocabulary ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("SUCCESS", "paid"),
        ("Success", "paid"),
        ("FAILED", "failed"),
        ("INITIATED", "open"),
        ("PENDING", "open"),
        ("CANCELLED", "open"),
        ("EXPIRED", "open"),
        ("", "open"),
    ],
)
def test_only_success_and_failed_are_final_and_anything_unknown_stays_open(status: str, outcome: str) -> None:
    assert classify(status) == outcome


def test_the_final_statuses_are_the_known_success_and_failure() -> None:
    assert FINAL_STATUSES == {"SUCCESS", "FAILED"}
    assert FINAL_STATUSES < KNOWN_STATUSES
