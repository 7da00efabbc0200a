"""Cash-in calls (payouts) against the simulator, and Lengo's answers read defensively."""

from __future__ import annotations

from collections.abc import AsyncIterator
import json
from decimal import Decimal

import httpx
import pytest

from saleor_lengo.lengo import cashin, vocabulary
from saleor_lengo.lengo.client import LengoCall
from saleor_lengo.lengo.errors import LengoOutcomeUnknown, LengoProtocolError, LengoRefused, LengoUnavailable
from saleor_lengo.money import Money
from tests.lengo.test_client import KEY, SITE, Harness, answer, mocked

PHONE = "624897845"
REQUEST = ("POST", vocabulary.CASHIN_REQUEST_PATH)


@pytest.fixture
async def h() -> AsyncIterator[Harness]:
    harness = Harness()
    harness.state.funds[SITE] = Decimal(100000)
    yield harness
    await harness.http.aclose()


async def test_a_cash_in_sends_the_documented_body_and_lowers_the_balance(h: Harness) -> None:
    client = h.client()

    requested = await client.cashin_request(
        Money.parse("25000", "GNF"), type_account=vocabulary.ORANGE_MONEY_ACCOUNT, account=PHONE,
        callback_url="https://app.example/payout/tok",
    )

    sent = h.requests[-1]
    assert sent.url.path == vocabulary.CASHIN_REQUEST_PATH
    assert sent.headers["authorization"] == f"Basic {KEY}"

    assert json.loads(sent.content) == {
        "amount": "25000", "currency": "GNF", "websiteid": SITE, "type_account": "lp-om-gn",
        "account": PHONE, "callback_url": "https://app.example/payout/tok",
    }
    assert (await client.balance()).balance == Decimal(75000)
    status = await client.cashin_status(requested.pay_id)
    assert (status.status, status.amount, status.account, status.outcome) == ("SUCCESS", Decimal(25000), PHONE, "paid")
    assert h.state.wallets == {PHONE: Decimal(25000)}
    [entry] = await client.cashin_history()
    assert entry.pay_id == requested.pay_id and entry.date is not None
    assert [c.operation for c in h.recorded] == ["cashin_request", "balance", "cashin_status", "cashin_history"]
    assert all(PHONE not in c.detail for c in h.recorded)


async def test_a_cash_in_above_the_balance_is_refused_with_lengos_words(h: Harness) -> None:
    with pytest.raises(LengoRefused) as refused:
        await h.client().cashin_request(
            Money.parse("100001", "GNF"), type_account=vocabulary.MTN_MOMO_ACCOUNT, account=PHONE, callback_url=None
        )
    assert refused.value.message == vocabulary.MESSAGE_INSUFFICIENT_BALANCE
    assert h.state.cashins == {}


async def test_a_cash_in_accepted_then_answered_500_is_an_unknown_outcome(h: Harness) -> None:
    h.state.cashin_then_fail = 1
    with pytest.raises(LengoOutcomeUnknown):
        await h.client().cashin_request(
            Money.parse("1000", "GNF"), type_account=vocabulary.ORANGE_MONEY_ACCOUNT, account=PHONE, callback_url=None
        )
    assert len(h.state.cashins) == 1


async def test_a_cash_in_that_could_not_connect_is_known_never_sent() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(LengoUnavailable):
        await mocked(refuse).cashin_request(
            Money.parse("1000", "GNF"), type_account=vocabulary.ORANGE_MONEY_ACCOUNT, account=PHONE, callback_url=None
        )


async def test_a_cash_in_answer_without_a_pay_id_is_not_taken_for_a_refusal() -> None:
    with pytest.raises(LengoProtocolError):
        await mocked(answer(200, {"status": "Success"})).cashin_request(
            Money.parse("1000", "GNF"), type_account=vocabulary.ORANGE_MONEY_ACCOUNT, account=PHONE, callback_url=None
        )


async def test_failure_then_success_is_what_successive_status_reads_say(h: Harness) -> None:
    h.state.cashin_statuses = ["FAILED", "SUCCESS"]
    client = h.client()
    requested = await client.cashin_request(
        Money.parse("1000", "GNF"), type_account=vocabulary.ORANGE_MONEY_ACCOUNT, account=PHONE, callback_url=None
    )
    assert (await client.cashin_status(requested.pay_id)).outcome == "failed"
    assert (await client.cashin_status(requested.pay_id)).outcome == "paid"


def test_history_entries_that_cannot_be_read_are_left_out() -> None:
    entries = cashin.read_history([
        {"pay_id": "a", "status": "SUCCESS", "amount": 1000, "account": 624897845, "date": "2026-12-05 10:00:00"},
        {"pay_id": "b", "status": "PENDING", "amount": 1.5, "account": "not a phone", "date": "yesterday"},
        {"status": "SUCCESS"},
        "garbage",
    ])
    assert [(e.pay_id, e.amount, e.account, e.date is None) for e in entries] == [
        ("a", Decimal(1000), PHONE, False), ("b", None, None, True)
    ]
    with pytest.raises(LengoProtocolError):
        cashin.read_history({"status": "ERROR"})


@pytest.mark.parametrize(
    ("gateway", "expected"),
    [
        ("Orange Money", "lp-om-gn"), ("ORANGE_MONEY", "lp-om-gn"), ("MTN MoMo", "lp-momo-gn"),
        ("Mobile Money MTN", "lp-momo-gn"), ("Visa", None), ("Kulu", None), (None, None), ("Orange MTN", None),
    ],
)
def test_only_orange_money_and_mtn_momo_can_be_paid_out(gateway: str | None, expected: str | None) -> None:
    assert vocabulary.payout_account_type(gateway) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("624897845", "624897845"), (624897845, "624897845"), ("+224624897845", "624897845"),
     ("62489784", None), ("6248978451", None), (True, None), ("62489784x", None), (None, None)],
)
def test_a_payer_number_is_nine_digits(raw: object, expected: str | None) -> None:
    assert vocabulary.payer_number(raw) == expected





async def test_a_refusal_quoting_the_payers_number_is_masked() -> None:
    calls: list[LengoCall] = []
    with pytest.raises(LengoRefused) as refused:
        await mocked(answer(400, {"status": "ERROR", "message": f"Invalid account {PHONE}"}), calls).cashin_request(
            Money.parse("1000", "GNF"), type_account=vocabulary.ORANGE_MONEY_ACCOUNT, account=PHONE, callback_url=None
        )
    assert PHONE not in refused.value.safe_message and "••••7845" in refused.value.safe_message
    assert all(PHONE not in c.detail for c in calls) and calls
