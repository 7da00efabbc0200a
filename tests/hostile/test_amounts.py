"""Issue 20's examples, each a class of hostile amount, from every source.

A fake Lengo answering as a broken or hostile gateway could, signed
webhooks with amounts no payment has, a callback with a huge exponent, and
a staff member typing 5,000 digits. Each failed on the main branch before
the one amount parser (`money.read_amount`/`parse_amount`) and the
`needs_review` state.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from structlog.testing import capture_logs

from saleor_lengo.callbacks import receive
from saleor_lengo.configurations import Configuration, ConfigurationError, ConfigurationInput
from saleor_lengo.db.schema import callbacks, lengo_requests, outbox, payment_transitions
from saleor_lengo.lengo import vocabulary
from saleor_lengo.outbox import relay
from saleor_lengo.payments.model import State
from saleor_lengo.services import Services
from saleor_lengo.simulator.api import LengoState
from tests.conftest import LENGO_KEY, RETURN_URL, WEBSITE_ID
from tests.fakes.factories import MadePayment, get_payment
from tests.fakes.payloads import action_request, gateway_initialize, new_transaction_id, session
from tests.fakes.saleor import FakeSaleor
from tests.helpers.app_api import CREATE, Api, config_input
from tests.helpers.sessions import assert_valid

PLACEHOLDER = Decimal("424242.0")


async def paid_with_status_amount(
    services: Services, client: httpx.AsyncClient, lengo: LengoState, made: MadePayment, amount_json: str | None
) -> None:
    """Lengo's status says SUCCESS with `amount` as this raw JSON text; its callback arrives; the relay runs."""
    lengo.pay(made.pay_id)
    lengo.payments[made.pay_id].status_amount_json = amount_json
    assert await lengo.send_callback(made.pay_id, client) == [200]
    await services.background.drain()
    await relay.run_once(services)


# --- A Lengo SUCCESS whose amount cannot be right ----------------------------------------


@pytest.mark.parametrize(
    "amount_json",
    [
        "0",  # was: a CHARGE_SUCCESS of the whole order (a falsy amount fell back to the payment's)
        "-48000",  # was: sent to Saleor as a charge
        "1.5",  # was: rounded to 2
        "0.0",
        '"abc"',  # was: a protocol error, retried for ever
        "1e30",
        "1e999999999",  # was: a billion-digit string for a log column
        "true",
        "{}",
    ],
)
async def test_a_success_whose_amount_is_no_positive_gnf_amount_is_held_for_review_and_nothing_reported(
    services: Services,
    client: httpx.AsyncClient,
    installed: FakeSaleor,
    lengo: LengoState,
    made: MadePayment,
    amount_json: str,
) -> None:
    with capture_logs() as logs:
        await paid_with_status_amount(services, client, lengo, made, amount_json)

    assert installed.events(made.transaction_id) == []
    async with services.db.read() as conn:
        assert (await conn.execute(select(outbox))).all() == []
    payment = await get_payment(services, made.id)
    assert payment.state == State.NEEDS_REVIEW
    assert payment.confirmed_amount is None
    assert payment.failure_reason and "cannot be right" in payment.failure_reason
    [warning] = [e for e in logs if e["event"] == "payment_needs_review"]
    assert warning["log_level"] == "warning" and warning["payment_id"] == made.id


@pytest.mark.parametrize("amount_json", ["", "null"])
async def test_a_success_without_an_amount_is_the_created_amount(
    services: Services,
    client: httpx.AsyncClient,
    installed: FakeSaleor,
    lengo: LengoState,
    made: MadePayment,
    amount_json: str,
) -> None:
    await paid_with_status_amount(services, client, lengo, made, amount_json)

    [event] = installed.events(made.transaction_id, "CHARGE_SUCCESS")
    assert event.amount == Decimal("150000")
    assert (await get_payment(services, made.id)).state == State.SUCCEEDED


async def test_a_valid_amount_other_than_the_payments_is_reported_as_what_was_paid(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState, made: MadePayment
) -> None:
    await paid_with_status_amount(services, client, lengo, made, "120000.0")

    [event] = installed.events(made.transaction_id, "CHARGE_SUCCESS")
    assert event.amount == Decimal("120000")
    assert "Lengo confirmed GNF\u00a0120,000 but GNF\u00a0150,000 was requested." in event.message


async def test_a_held_payment_is_not_moved_by_lengo_again_until_staff_resolve_it(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState, made: MadePayment
) -> None:
    await paid_with_status_amount(services, client, lengo, made, "0")
    lengo.payments[made.pay_id].status_amount_json = None  # Lengo now says 150000

    assert await lengo.send_callback(made.pay_id, client) == [200]
    await services.background.drain()
    await relay.run_once(services)

    assert (await get_payment(services, made.id)).state == State.NEEDS_REVIEW
    assert installed.events(made.transaction_id) == []


# --- A callback with a huge exponent ------------------------------------------------------


def _refuse_unbounded_format(value: object, spec: str = "") -> str:
    if isinstance(value, Decimal) and value.is_finite() and value != 0 and abs(value.adjusted()) > 100:
        raise AssertionError("an unbounded amount reached format()")
    return format(value, spec)


@pytest.mark.parametrize(
    "body",
    [
        b'{"pay_id": "PAY", "status": "SUCCESS", "amount": 1e999999999}',
        b'{"pay_id": "PAY", "status": "SUCCESS", "amount": "1e999999999"}',
        b"pay_id=PAY&status=SUCCESS&amount=1e999999999",
        b'{"pay_id": "PAY", "status": "SUCCESS", "amount": 1' + b"0" * 5000 + b"}",
    ],
)
async def test_a_callback_amount_with_a_huge_exponent_is_refused_before_anything_is_built_from_it(
    services: Services,
    client: httpx.AsyncClient,
    lengo: LengoState,
    made: MadePayment,
    monkeypatch: pytest.MonkeyPatch,
    body: bytes,
) -> None:
    # The column's text was built with format(amount, "f"): a billion digits.
    monkeypatch.setattr(receive, "format", _refuse_unbounded_format, raising=False)
    raw = body.replace(b"PAY", made.pay_id.encode())

    response = await client.post(made.callback_url, content=raw)

    assert response.status_code == 400
    reason = response.json()["error"]["message"]
    assert re.fullmatch(r"amount is (too large \(at most 15 digits before the decimal point\)|a number of \d+ characters)", reason)
    async with services.db.read() as conn:
        [row] = (await conn.execute(select(callbacks).where(callbacks.c.payment_id == made.id))).all()
    assert (row.outcome, row.amount) == (receive.MALFORMED, None)
    assert (await get_payment(services, made.id)).state == State.ACTION_REQUIRED
    assert not any(path == vocabulary.PAYMENT_STATUS_PATH for _, path in lengo.calls)


# --- Signed webhooks with amounts the app cannot hold --------------------------------------


async def send_raw_amount(
    client: httpx.AsyncClient, saleor: FakeSaleor, event: str, body: dict[str, Any], token: bytes
) -> httpx.Response:
    """`body` with its amount replaced by this JSON token, signed like Saleor signs."""
    raw, headers = saleor.webhook(event, body)
    assert raw.count(b"424242.0") == 1
    raw = raw.replace(b"424242.0", token)
    signature = saleor.sign(raw)
    headers = {k: signature if k.lower().endswith("saleor-signature") else v for k, v in headers.items()}
    return await client.post("/api/webhooks/saleor/" + event.lower().replace("_", "-"), content=raw, headers=headers)


HUGE = [b"1e30", b"1e999", b"1e999999999", b"-1e999", b"1e99999999999999999999", b"1" + b"0" * 5000]


@pytest.mark.parametrize("token", HUGE)
async def test_an_initialize_with_an_amount_the_app_cannot_hold_gets_the_sessions_refusal(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState, config: Configuration,
    token: bytes,
) -> None:
    event = "TRANSACTION_INITIALIZE_SESSION"
    body = session(event, installed.app_id, new_transaction_id(), amount=PLACEHOLDER, data={"returnUrl": RETURN_URL})

    response = await send_raw_amount(client, installed, event, body, token)

    assert response.status_code == 200, response.text
    answer = response.json()
    assert_valid("TransactionInitializeSession", answer)
    assert answer["result"] == "CHARGE_FAILURE" and "amount" not in answer
    assert answer["data"]["error"]["code"] == "AMOUNT_OUT_OF_RANGE"
    assert lengo.calls == []
    async with services.db.read() as conn:
        assert (await conn.execute(select(lengo_requests))).all() == []


async def test_an_initialize_with_more_decimals_than_any_currency_is_amount_not_whole(
    client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState, config: Configuration
) -> None:
    event = "TRANSACTION_INITIALIZE_SESSION"
    body = session(event, installed.app_id, new_transaction_id(), amount=PLACEHOLDER, data={"returnUrl": RETURN_URL})

    response = await send_raw_amount(client, installed, event, body, b"1000.00001")

    assert response.status_code == 200
    assert response.json()["data"]["error"]["code"] == "AMOUNT_NOT_WHOLE"
    assert lengo.calls == []


@pytest.mark.parametrize("token", [b"1e30", b"1e999", b"-5"])
async def test_a_gateway_initialize_with_an_amount_the_app_cannot_hold_is_not_available(
    client: httpx.AsyncClient, installed: FakeSaleor, config: Configuration, token: bytes
) -> None:
    event = "PAYMENT_GATEWAY_INITIALIZE_SESSION"
    response = await send_raw_amount(client, installed, event, gateway_initialize(installed.app_id, amount=PLACEHOLDER), token)

    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert (data["available"], data["error"]["code"]) == (False, "AMOUNT_OUT_OF_RANGE")


@pytest.mark.parametrize("event", ["TRANSACTION_REFUND_REQUESTED", "TRANSACTION_CHARGE_REQUESTED", "TRANSACTION_CANCELATION_REQUESTED"])
@pytest.mark.parametrize("token", [b"1e30", b"1e999999999"])
async def test_an_action_request_with_an_amount_the_app_cannot_hold_is_answered_without_echoing_it(
    client: httpx.AsyncClient, installed: FakeSaleor, made: MadePayment, event: str, token: bytes
) -> None:
    body = action_request(event, installed.app_id, made.transaction_id, psp=made.pay_id, amount=PLACEHOLDER)

    response = await send_raw_amount(client, installed, event, body, token)

    assert response.status_code == 200, response.text
    assert "amount" not in response.json()


async def test_a_process_call_with_an_amount_the_app_cannot_hold_still_says_where_the_payment_stands(
    client: httpx.AsyncClient, installed: FakeSaleor, made: MadePayment
) -> None:
    event = "TRANSACTION_PROCESS_SESSION"
    body = session(event, installed.app_id, made.transaction_id, amount=PLACEHOLDER)

    response = await send_raw_amount(client, installed, event, body, b"1e999")

    assert response.status_code == 200, response.text
    assert response.json()["result"] == "CHARGE_ACTION_REQUIRED"


# --- A staff member's 5,000-digit minimum amount -------------------------------------------


FIVE_THOUSAND_DIGITS = "9" * 5000


def test_a_five_thousand_digit_minimum_amount_is_refused() -> None:
    data = ConfigurationInput(name="guinea", website_id=WEBSITE_ID, license_key=LENGO_KEY, min_amount=FIVE_THOUSAND_DIGITS)

    with pytest.raises(ConfigurationError, match="min_amount: longer than 40 characters"):
        data.validated()


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("max_amount", "1e999999999", r"max_amount: too large \(at most 15 digits before the decimal point\)"),
        ("max_amount", "1e15", r"max_amount: too large \(at most 15 digits before the decimal point\)"),
        ("min_amount", "1000.5", "min_amount: amounts in GNF must be whole"),
        ("min_amount", "NaN", "min_amount must be a number"),
    ],
)
def test_a_bound_no_gnf_payment_can_have_is_refused(field: str, value: str, error: str) -> None:
    data = ConfigurationInput(name="guinea", website_id=WEBSITE_ID, license_key=LENGO_KEY, **{field: value})  # type: ignore[arg-type]

    with pytest.raises(ConfigurationError, match=error):
        data.validated()


async def test_the_app_api_refuses_a_five_thousand_digit_minimum_amount(
    client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState
) -> None:
    error = await Api(client, installed).fails(CREATE, {"input": config_input(minAmount=FIVE_THOUSAND_DIGITS), "skip": True})

    assert error["message"] == "min_amount: longer than 40 characters"
