"""TRANSACTION_INITIALIZE_SESSION: checks, store-before-call, the Lengo create, and repeats."""

from __future__ import annotations

import asyncio
import base64
import json
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest
from sqlalchemy import select, update

from saleor_lengo.crypto import token_digest
from saleor_lengo.db.schema import configurations as configurations_table
from saleor_lengo.db.schema import lengo_requests, payment_transitions, payments
from saleor_lengo.flows import initialize
from saleor_lengo.payments.model import State
from saleor_lengo.services import Services
from saleor_lengo.simulator.api import LengoState
from tests.conftest import APP_URL, RETURN_URL, WEBSITE_ID, configure_channel, send_webhook
from tests.fakes.payloads import USD_CHANNEL, new_transaction_id, session
from tests.fakes.saleor import FakeSaleor
from tests.fakes.waits import InstantWaits
from tests.helpers.lengo import LengoRecorder
from tests.helpers.sessions import (
    CREATE_PATH,
    assert_valid,
    creates,
    initialize_session,
    insert_creating,
    only_pay_id,
    app_link,
    page_url,
    payment_of,
    recorded_body,
)
from tests.reference import needs_reference

EVENT = "TRANSACTION_INITIALIZE_SESSION"


# --- Helpers shared with the process tests ------------------------------------------


# --- Success -----------------------------------------------------------------------


async def test_a_gnf_checkout_gets_a_lengo_payment_page_and_an_exact_action_required_answer(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState, lengo_http: LengoRecorder
) -> None:
    config = await configure_channel(services, installed)
    tx = new_transaction_id()

    answer = await initialize_session(client, installed, tx)

    pay_id = only_pay_id(lengo)
    assert answer == {
        "result": "CHARGE_ACTION_REQUIRED",
        "pspReference": pay_id,
        "amount": 176500,
        "data": {"paymentUrl": page_url(pay_id), "payId": pay_id},
        "externalUrl": await app_link(services, installed, tx),
        "message": (
            "Lengo Pay payment page created for GNF\u00a0176,500; waiting for the shopper to pay. "
            f"TEST PAYMENT ({config.environment}): no real money."
        ),
        "actions": ["CANCEL"],
    }

    (raw,) = lengo_http.raw_bodies(CREATE_PATH)
    sent = json.loads(raw)
    token = sent["callback_url"].rsplit("/", 1)[1]
    assert sent == {
        "websiteid": WEBSITE_ID,
        "amount": 176500,
        "currency": "GNF",
        "return_url": f"{RETURN_URL}?transactionId={quote(tx, safe='')}",
        "callback_url": f"{APP_URL}/api/lengo/callback/{token}",
    }
    assert type(sent["amount"]) is int and b'"amount":176500,' in raw
    assert parse_qs(urlsplit(sent["return_url"]).query) == {"transactionId": [tx]}
    assert len(base64.urlsafe_b64decode(token + "==")) >= 16  # at least 128 bits

    payment = await payment_of(services, installed, tx)
    assert payment.state == State.ACTION_REQUIRED
    assert (payment.pay_id, payment.payment_url) == (pay_id, page_url(pay_id))
    assert (payment.amount, payment.currency, payment.return_url) == (Decimal("176500"), "GNF", RETURN_URL)
    assert payment.lease_until is None
    assert payment.expires_at == pytest.approx(payment.created_at + services.settings.payment_ttl_seconds)
    assert payment.watch_until == pytest.approx(payment.expires_at + services.settings.payment_watch_seconds)
    async with services.db.read() as conn:
        row = (await conn.execute(select(payments))).one()
        audit = (await conn.execute(select(lengo_requests.c.payment_id, lengo_requests.c.operation))).all()
        moves = (await conn.execute(select(payment_transitions.c.to_state))).scalars().all()
    # Only the token's digest is stored, nowhere the token itself.
    assert row.callback_token_digest == token_digest(token)
    assert all(token not in str(value) for value in row)
    assert [tuple(a) for a in audit] == [(payment.id, "create_payment")]
    assert moves == ["action_required"]


async def test_the_return_url_keeps_the_storefronts_query_and_replaces_a_stale_transaction_id() -> None:
    url = "https://shop.example/checkout/return?step=pay&note=a%20b&transactionId=old#top"
    assert initialize.with_transaction_id(url, "VHg6MQ==") == (
        "https://shop.example/checkout/return?step=pay&note=a%20b&transactionId=VHg6MQ%3D%3D#top"
    )
    assert initialize.with_transaction_id(RETURN_URL, "a+b/c=") == RETURN_URL + "?transactionId=a%2Bb%2Fc%3D"


async def test_a_production_payment_does_not_say_test_payment(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState
) -> None:
    config = await configure_channel(services, installed)
    async with services.db.write() as conn:
        await conn.execute(update(configurations_table).where(configurations_table.c.id == config.id).values(environment="production"))

    answer = await initialize_session(client, installed, new_transaction_id())

    assert answer["message"] == "Lengo Pay payment page created for GNF\u00a0176,500; waiting for the shopper to pay."


async def test_the_configured_default_return_url_is_used_when_the_storefront_sends_none(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState, lengo_http: LengoRecorder
) -> None:
    await configure_channel(services, installed, default_return_url="https://shop.example/thanks?from=lengo")
    tx = new_transaction_id()

    answer = await initialize_session(client, installed, tx, data=None)

    assert answer["result"] == "CHARGE_ACTION_REQUIRED"
    (raw,) = lengo_http.raw_bodies(CREATE_PATH)
    assert json.loads(raw)["return_url"] == f"https://shop.example/thanks?from=lengo&transactionId={quote(tx, safe='')}"


# --- Refusals before anything is stored ------------------------------------------------


async def assert_refused_before_lengo(services: Services, lengo: LengoState) -> None:
    assert creates(lengo) == 0
    async with services.db.read() as conn:
        assert (await conn.execute(select(payments))).all() == []


async def test_an_unconfigured_channel_is_refused_with_not_configured(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState
) -> None:
    answer = await initialize_session(client, installed, new_transaction_id())

    assert answer == {
        "result": "CHARGE_FAILURE",
        "amount": 176500,
        "message": (
            "No Lengo account takes the payments of channel 'channel-gnf': in Extensions → Lengo Pay → Lengo account, "
            "connect an account and choose it for this channel."
        ),
        "data": {"error": {"code": "NOT_CONFIGURED", "message": "Lengo Pay is not available for this shop."}},
        "actions": [],
    }
    await assert_refused_before_lengo(services, lengo)


async def test_the_configuration_is_found_by_channel_id_as_well_as_by_slug(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState
) -> None:
    await configure_channel(services, installed, channel="Q2hhbm5lbDoy")

    answer = await initialize_session(client, installed, new_transaction_id())

    assert answer["result"] == "CHARGE_ACTION_REQUIRED"


async def test_a_currency_the_configuration_does_not_accept_is_refused(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState
) -> None:
    await configure_channel(services, installed, channel="default-channel")

    answer = await initialize_session(client, installed, new_transaction_id(), channel=USD_CHANNEL, amount=Decimal("22.38"))

    text = "Lengo Pay accepts GNF here, not USD."
    assert answer == {
        "result": "CHARGE_FAILURE",
        "amount": 22.38,
        "message": text,
        "data": {"error": {"code": "CURRENCY_NOT_SUPPORTED", "message": text}},
        "actions": [],
    }
    await assert_refused_before_lengo(services, lengo)


async def test_a_fractional_gnf_amount_is_refused_and_never_rounded(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState
) -> None:
    await configure_channel(services, installed)

    answer = await initialize_session(client, installed, new_transaction_id(), amount=Decimal("176500.5"))

    text = "Amounts in GNF must be whole: 176500.5 GNF cannot be paid."
    assert answer == {
        "result": "CHARGE_FAILURE",
        "amount": 176500.5,
        "message": text,
        "data": {"error": {"code": "AMOUNT_NOT_WHOLE", "message": text}},
        "actions": [],
    }
    await assert_refused_before_lengo(services, lengo)


@pytest.mark.parametrize(
    ("amount", "staff", "shopper"),
    [
        (
            Decimal("500.0"),
            "Lengo Pay takes amounts between GNF\u00a01,000 and GNF\u00a015,000,000, not GNF\u00a0500.",
            "Lengo Pay takes amounts between 1000 GNF and 15000000 GNF, not 500 GNF.",
        ),
        (
            Decimal("15000001.0"),
            "Lengo Pay takes amounts between GNF\u00a01,000 and GNF\u00a015,000,000, not GNF\u00a015,000,001.",
            "Lengo Pay takes amounts between 1000 GNF and 15000000 GNF, not 15000001 GNF.",
        ),
    ],
)
async def test_an_amount_outside_the_configured_bounds_is_refused(
    services: Services,
    client: httpx.AsyncClient,
    installed: FakeSaleor,
    lengo: LengoState,
    amount: Decimal,
    staff: str,
    shopper: str,
) -> None:
    await configure_channel(services, installed, min_amount="1000", max_amount="15000000")

    answer = await initialize_session(client, installed, new_transaction_id(), amount=amount)

    assert answer["result"] == "CHARGE_FAILURE"
    # Staff read it in the Dashboard, amounts as it writes them; the storefront gets plain text it can show as is.
    assert answer["message"] == staff
    assert answer["data"] == {"error": {"code": "AMOUNT_OUT_OF_RANGE", "message": shopper}}
    await assert_refused_before_lengo(services, lengo)


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/?u=https://shop.example/checkout/return",
        "https://shop.example/checkout/return.evil.example",
        "https://shop.example.evil.example/checkout/return",
        "http://shop.example/checkout/return",
        "https://evil.example/#https://shop.example/checkout/return",
        "javascript:alert(1)//https://shop.example/checkout/return",
        "//evil.example/checkout/return",
    ],
)
async def test_a_return_url_the_patterns_do_not_match_whole_is_refused(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState, url: str
) -> None:
    await configure_channel(services, installed)

    answer = await initialize_session(client, installed, new_transaction_id(), data={"returnUrl": url})

    assert answer["result"] == "CHARGE_FAILURE"
    assert answer["data"] == {
        "error": {
            "code": "RETURN_URL_NOT_ALLOWED",
            "message": "This shop is not allowed to send shoppers back to this return URL.",
        }
    }
    assert answer["message"] in (
        "Return URL not allowed by configuration 'channel-gnf': it matches none of its return URL patterns.",
        "The return URL must be an absolute http(s) URL.",
    )
    await assert_refused_before_lengo(services, lengo)


async def test_a_configuration_without_patterns_refuses_a_public_return_url_and_names_the_setting(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState
) -> None:
    await configure_channel(services, installed, return_url_patterns=())

    answer = await initialize_session(client, installed, new_transaction_id())

    assert answer["result"] == "CHARGE_FAILURE"
    assert answer["data"]["error"]["code"] == "RETURN_URL_NOT_ALLOWED"
    assert answer["message"] == (
        "Return URL not allowed: Lengo account 'channel-gnf' has no return URL pattern; add one that matches "
        "your storefront in Extensions → Lengo Pay → Lengo account → Change → “Return URL patterns”."
    )
    await assert_refused_before_lengo(services, lengo)

    local = await initialize_session(
        client, installed, new_transaction_id(), data={"returnUrl": "http://localhost:3000/checkout/return"}
    )
    assert local["result"] == "CHARGE_ACTION_REQUIRED"


async def test_no_return_url_and_no_default_is_refused(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState
) -> None:
    await configure_channel(services, installed)

    answer = await initialize_session(client, installed, new_transaction_id(), data={"other": 1})

    assert answer["data"]["error"]["code"] == "RETURN_URL_NOT_ALLOWED"
    assert answer["message"] == (
        "The storefront sent no data.returnUrl and Lengo account 'channel-gnf' has no default return URL: set one in "
        "Extensions → Lengo Pay → Lengo account → Change → “Default return URL”, or have the storefront send data.returnUrl."
    )
    await assert_refused_before_lengo(services, lengo)


# --- Lengo says no, or says nothing ------------------------------------------------------


async def failed_payment_checks(
    services: Services, client: httpx.AsyncClient, saleor: FakeSaleor, tx: str, answer: dict[str, Any]
) -> None:
    payment = await payment_of(services, saleor, tx)
    assert payment.state == State.FAILED and payment.pay_id is None and payment.lease_until is None
    # The stored reason keeps the shopper code, so a repeat answers the same failure.
    code, _, _ = (payment.failure_reason or "").partition(" ")
    assert code == f"[{answer['data']['error']['code']}]"
    # A repeat answers the very same message.
    again = await initialize_session(client, saleor, tx)
    assert again["message"] == answer["message"]


async def test_lengo_refusing_the_request_is_a_charge_failure_with_a_safe_shopper_error(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState
) -> None:
    config = await configure_channel(services, installed)
    tx = new_transaction_id()

    # The fake Lengo, like the real one, refuses 500 GNF: "Unsupported amount".
    answer = await initialize_session(client, installed, tx, amount=Decimal("500.0"))

    assert answer == {
        "result": "CHARGE_FAILURE",
        "amount": 500,
        "externalUrl": await app_link(services, installed, tx),
        "message": (
            "Lengo Pay refused to create a payment of GNF\u00a0500: Unsupported amount. No payment was created. "
            f"TEST PAYMENT ({config.environment}): no real money."
        ),
        "data": {
            "error": {
                "code": "LENGO_REFUSED",
                "message": "Lengo Pay refused this payment. Please choose another payment method.",
            }
        },
        "actions": [],
    }
    await failed_payment_checks(services, client, installed, tx, answer)


async def test_lengo_refusing_the_license_key_tells_staff_to_check_the_configuration(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState
) -> None:
    await configure_channel(services, installed)
    lengo.license_key = "another-key-entirely"
    tx = new_transaction_id()

    answer = await initialize_session(client, installed, tx)

    assert answer["result"] == "CHARGE_FAILURE"
    assert answer["message"].startswith(
        "Lengo Pay refused the license key of configuration 'channel-gnf' (HTTP 401): "
        "check its site id, license key and environment. No payment was created."
    )
    assert answer["data"]["error"]["code"] == "LENGO_REFUSED"
    await failed_payment_checks(services, client, installed, tx, answer)


UNKNOWN_SHOPPER_ERROR = {
    "code": "OUTCOME_UNKNOWN",
    "message": "Lengo Pay did not confirm the payment page. Please start the payment again.",
}


async def test_a_lengo_500_on_create_is_an_unknown_outcome_and_is_not_retried(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState
) -> None:
    config = await configure_channel(services, installed)
    lengo.create_then_fail = True  # the payment exists at Lengo, the answer is a 500
    tx = new_transaction_id()

    answer = await initialize_session(client, installed, tx)

    assert answer == {
        "result": "CHARGE_FAILURE",
        "amount": 176500,
        "externalUrl": await app_link(services, installed, tx),
        "message": (
            "Lengo answered HTTP 500; a payment of GNF\u00a0176,500 may or may not exist on Lengo's side. "
            "This attempt is marked failed and its link was never shown to anyone: "
            f"check the Lengo portal (site {WEBSITE_ID}) before the shopper pays again. "
            f"TEST PAYMENT ({config.environment}): no real money."
        ),
        "data": {"error": UNKNOWN_SHOPPER_ERROR},
        "actions": [],
    }
    assert creates(lengo) == 1
    await failed_payment_checks(services, client, installed, tx, answer)


async def test_a_lengo_timeout_on_create_is_an_unknown_outcome(
    services: Services,
    client: httpx.AsyncClient,
    installed: FakeSaleor,
    lengo: LengoState,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await configure_channel(services, installed)
    monkeypatch.setattr(initialize, "CREATE_BUDGET_SECONDS", 0.3)
    lengo.hang_next, lengo.hang_seconds = 1, 5.0
    tx = new_transaction_id()

    answer = await initialize_session(client, installed, tx)

    assert answer["result"] == "CHARGE_FAILURE"
    # The client's own timeout, or (with a transport that ignores it) the use case's bound.
    assert answer["message"].startswith(("Lengo did not answer in time; ", "Lengo Pay did not answer within 0.3 s; "))
    assert "a payment of GNF\u00a0176,500 may or may not exist on Lengo's side" in answer["message"]
    assert "check the Lengo portal" in answer["message"]
    assert answer["data"] == {"error": UNKNOWN_SHOPPER_ERROR}
    assert creates(lengo) == 1
    await failed_payment_checks(services, client, installed, tx, answer)


async def test_a_broken_connection_on_create_is_an_unknown_outcome(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo_http: LengoRecorder
) -> None:
    await configure_channel(services, installed)
    lengo_http.raise_next.append(httpx.ReadTimeout("read timed out"))
    tx = new_transaction_id()

    answer = await initialize_session(client, installed, tx)

    assert answer["data"] == {"error": UNKNOWN_SHOPPER_ERROR}
    assert answer["message"].startswith("Lengo did not answer in time; a payment of GNF\u00a0176,500 may or may not exist")
    await failed_payment_checks(services, client, installed, tx, answer)


async def test_lengo_unreachable_before_sending_is_lengo_unavailable(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo_http: LengoRecorder
) -> None:
    config = await configure_channel(services, installed)
    lengo_http.raise_next.append(httpx.ConnectError("connection refused"))
    tx = new_transaction_id()

    answer = await initialize_session(client, installed, tx)

    assert answer == {
        "result": "CHARGE_FAILURE",
        "amount": 176500,
        "externalUrl": await app_link(services, installed, tx),
        "message": (
            "Lengo Pay could not be reached (Lengo could not be reached (ConnectError)); no payment was created. "
            f"The shopper may try again. TEST PAYMENT ({config.environment}): no real money."
        ),
        "data": {
            "error": {
                "code": "LENGO_UNAVAILABLE",
                "message": "Lengo Pay cannot be reached right now. Please try again in a few minutes.",
            }
        },
        "actions": [],
    }
    await failed_payment_checks(services, client, installed, tx, answer)


# --- One Lengo payment per Saleor transaction ------------------------------------------------


async def test_a_repeat_returns_the_same_payment_without_a_second_lengo_create(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState
) -> None:
    await configure_channel(services, installed)
    tx = new_transaction_id()

    first = await initialize_session(client, installed, tx)
    second = await initialize_session(client, installed, tx, psp=first["pspReference"])

    assert second == first
    assert creates(lengo) == 1


async def test_a_repeat_gets_the_first_payment_even_after_the_configuration_stopped_accepting_it(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState
) -> None:
    await configure_channel(services, installed)
    tx = new_transaction_id()
    first = await initialize_session(client, installed, tx)
    # The merchant lowers the maximum below this checkout's amount: a new
    # checkout is refused, but the shopper already holds this payment's link.
    await configure_channel(services, installed, max_amount="1000")

    repeat = await initialize_session(client, installed, tx)
    fresh = await initialize_session(client, installed, new_transaction_id())

    assert first["result"] == "CHARGE_ACTION_REQUIRED"
    assert repeat == first
    assert fresh["result"] == "CHARGE_FAILURE" and fresh["data"]["error"]["code"] == "AMOUNT_OUT_OF_RANGE"
    assert creates(lengo) == 1


async def test_concurrent_repeats_make_one_lengo_payment(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState
) -> None:
    await configure_channel(services, installed)
    tx = new_transaction_id()
    body = session(EVENT, installed.app_id, tx, data={"returnUrl": RETURN_URL})

    responses = await asyncio.gather(*(send_webhook(client, installed, EVENT, body) for _ in range(5)))

    answers = [r.json() for r in responses]
    assert [r.status_code for r in responses] == [200] * 5
    assert creates(lengo) == 1
    pay_id = only_pay_id(lengo)
    assert all(a == answers[0] for a in answers)
    assert answers[0]["result"] == "CHARGE_ACTION_REQUIRED" and answers[0]["pspReference"] == pay_id
    async with services.db.read() as conn:
        assert len((await conn.execute(select(payments))).all()) == 1


async def test_a_repeat_of_a_failed_initialize_answers_the_same_failure(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState
) -> None:
    await configure_channel(services, installed)
    lengo.fail_next = 1
    tx = new_transaction_id()

    first = await initialize_session(client, installed, tx)
    second = await initialize_session(client, installed, tx)

    assert first["result"] == "CHARGE_FAILURE" and first["data"] == {"error": UNKNOWN_SHOPPER_ERROR}
    assert second == first
    assert creates(lengo) == 1


@needs_reference
async def test_the_recorded_repeat_with_the_same_idempotency_key_returns_the_first_payment(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState, lengo_http: LengoRecorder
) -> None:
    # Files 03 and 04: a USD checkout in a channel that authorizes, then the same
    # transaction again carrying the first answer's pspReference.
    config = await configure_channel(
        services, installed, channel="default-channel", currencies=("USD",),
    )
    first_body = recorded_body("03", installed.app_id)
    first = (await send_webhook(client, installed, EVENT, first_body)).json()
    assert_valid("TransactionInitializeSession", first)
    pay_id = only_pay_id(lengo)
    assert first == {
        "result": "CHARGE_ACTION_REQUIRED",  # AUTHORIZATION is served as a charge
        "pspReference": pay_id,
        "amount": 22.38,
        "data": {"paymentUrl": page_url(pay_id), "payId": pay_id},
        "externalUrl": await app_link(services, installed, first_body["transaction"]["id"]),
        "message": (
            "Lengo Pay payment page created for $22.38; waiting for the shopper to pay. "
            f"TEST PAYMENT ({config.environment}): no real money."
        ),
        "actions": ["CANCEL"],
    }
    assert json.loads(lengo_http.raw_bodies(CREATE_PATH)[0])["amount"] == 22.38

    repeat_body = recorded_body("04", installed.app_id)
    assert repeat_body["transaction"]["id"] == first_body["transaction"]["id"]
    assert repeat_body["idempotencyKey"] == first_body["idempotencyKey"] == "idem-1"
    repeat_body["transaction"]["pspReference"] = first["pspReference"]
    repeat = (await send_webhook(client, installed, EVENT, repeat_body)).json()

    assert repeat == first
    assert creates(lengo) == 1


# --- A repeat while the first request is still creating ----------------------------------------


async def test_a_repeat_waits_a_bounded_time_for_a_payment_still_being_created(
    services: Services,
    client: httpx.AsyncClient,
    installed: FakeSaleor,
    lengo: LengoState,
    waits: InstantWaits,
) -> None:
    tx = new_transaction_id()
    await insert_creating(services, installed, tx, lease_in=60)

    answer = await initialize_session(client, installed, tx)

    # It polled for the whole bounded wait (on the injected clock: the test takes no time).
    assert set(waits.slept) == {initialize.REPEAT_POLL_SECONDS}
    waited = sum(waits.slept)
    assert initialize.REPEAT_WAIT_SECONDS - 2 * initialize.REPEAT_POLL_SECONDS < waited <= initialize.REPEAT_WAIT_SECONDS

    assert answer["result"] == "CHARGE_FAILURE"
    assert answer["data"] == {"error": UNKNOWN_SHOPPER_ERROR}
    assert answer["message"].startswith("An earlier request for this transaction is still waiting for Lengo Pay")
    assert creates(lengo) == 0
    assert (await payment_of(services, installed, tx)).state == State.CREATING


async def test_a_repeat_gives_up_a_payment_whose_creating_request_died(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState
) -> None:
    tx = new_transaction_id()
    await insert_creating(services, installed, tx, lease_in=-1)

    answer = await initialize_session(client, installed, tx)

    assert answer["result"] == "CHARGE_FAILURE"
    assert answer["data"] == {"error": UNKNOWN_SHOPPER_ERROR}
    assert answer["message"].startswith("The request creating this payment at Lengo Pay never finished")
    assert creates(lengo) == 0
    payment = await payment_of(services, installed, tx)
    assert payment.state == State.FAILED
    assert await initialize_session(client, installed, tx) == answer


async def test_a_french_shop_reads_the_answer_in_french_and_its_link_opens_the_payment(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, lengo: LengoState
) -> None:
    await configure_channel(services, installed, language="fr", min_amount="1000")
    tx = new_transaction_id()

    answer = await initialize_session(client, installed, tx)
    refused = await initialize_session(client, installed, new_transaction_id(), amount=Decimal("500.0"))

    assert answer["message"] == (
        "Page de paiement Lengo Pay créée pour 176\u202f500\u00a0GNF\u00a0; en attente du paiement du client. "
        "PAIEMENT DE TEST (custom)\u00a0: pas d'argent réel."
    )
    payment = await payment_of(services, installed, tx)
    assert answer["externalUrl"] == f"http://saleor.test/dashboard/extensions/app/QXBwOjE%3D?payment={payment.id}"
    assert answer["data"]["paymentUrl"] == page_url(only_pay_id(lengo))
    assert refused["message"] == "Lengo Pay prend des montants d'au moins 1\u202f000\u00a0GNF, pas 500\u00a0GNF."
