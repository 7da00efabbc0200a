"""Real Saleor 3.23 bodies (the reference data's saleor/recorded/) parse into exact Decimals."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from saleor_lengo import jsonutil
from saleor_lengo.money import Money
from saleor_lengo.flows.sync_responses import amount_of
from saleor_lengo.saleor.payloads import ActionRequest, GatewayInitialize, Session
from tests.reference import RECORDED, needs_reference

pytestmark = needs_reference

# file number → (the amount exactly as Saleor wrote it, currency)
EXPECTED: dict[str, tuple[str, str]] = {
    "02": ("22.38", "USD"),
    "03": ("22.38", "USD"),
    "04": ("22.38", "USD"),
    "05": ("22.38", "USD"),
    "06": ("22.38", "USD"),
    "07": ("0.0", "USD"),
    "08": ("0.0", "USD"),
    "09": ("10.0", "USD"),
    "10": ("5.0", "USD"),
    "11": ("0.0", "USD"),
    "12": ("0.0", "USD"),
    "13": ("1.19", "USD"),
    "14": ("176500.0", "GNF"),
    "15": ("176500.0", "GNF"),
    "16": ("176500.0", "GNF"),
    "17": ("88250.0", "GNF"),
}


def _payment_requests() -> list[Path]:
    return sorted(
        p
        for p in RECORDED.glob("[0-9][0-9]-*.json")
        if json.loads(p.read_text())["event"].startswith(("TRANSACTION_", "PAYMENT_GATEWAY_"))
    )


def _load(path: Path) -> tuple[str, dict[str, Any]]:
    record = json.loads(path.read_text())
    body = jsonutil.loads(base64.b64decode(record["body_base64"]))
    assert isinstance(body, dict)
    return record["event"], body


def test_every_recorded_payment_webhook_is_covered() -> None:
    assert [p.name[:2] for p in _payment_requests()] == sorted(EXPECTED)


@pytest.mark.parametrize("path", _payment_requests(), ids=lambda p: p.stem)
def test_a_recorded_body_parses_into_the_exact_decimal_saleor_wrote(path: Path) -> None:
    event, body = _load(path)
    literal, currency = EXPECTED[path.name[:2]]

    if event == "PAYMENT_GATEWAY_INITIALIZE_SESSION":
        parsed = GatewayInitialize.parse(body)
        amount = parsed.amount
        assert parsed.source.channel.currency == currency
    elif event in ("TRANSACTION_INITIALIZE_SESSION", "TRANSACTION_PROCESS_SESSION"):
        session = Session.parse(body)
        amount = session.action.amount
        assert session.action.currency == currency
        assert session.transaction.id == body["merchantReference"]
        assert session.source.channel.currency == currency
    else:
        request = ActionRequest.parse(body)
        amount = request.action.amount
        assert request.action.currency == currency

    assert isinstance(amount, Decimal)
    # Never through a binary float: the very digits Saleor sent.
    assert str(amount) == literal
    money = Money.parse(amount, currency)
    assert money.fits_precision()


def test_the_recorded_gnf_amount_is_176500_whole_francs() -> None:
    _, body = _load(next(RECORDED.glob("15-*.json")))
    session = Session.parse(body)

    assert session.action.amount == Decimal(176500)
    money = Money.parse(session.action.amount, "GNF")
    assert money.to_lengo() == 176500 and type(money.to_lengo()) is int
    assert jsonutil.dumps({"amount": amount_of(session.action.amount, "GNF")}) == '{"amount":176500}'
    assert session.action.action_type == "CHARGE"
    assert session.idempotency_key == "idem-gnf-1"
    assert (session.source.channel.id, session.source.channel.slug) == ("Q2hhbm5lbDoz", "channel-gnf")
    assert session.data == {"returnUrl": "https://shop.example/checkout/return"}


def test_the_recorded_usd_amount_stays_22_38() -> None:
    _, body = _load(next(RECORDED.glob("03-*.json")))
    session = Session.parse(body)

    assert session.action.amount == Decimal("22.38")
    assert session.action.action_type == "AUTHORIZATION"
    assert Money.parse(session.action.amount, "USD").to_lengo() == Decimal("22.38")
    assert jsonutil.dumps({"amount": amount_of(session.action.amount, "USD")}) == '{"amount":22.38}'
    assert session.transaction.psp_reference == ""
    assert session.idempotency_key == "idem-1"


def test_the_recorded_repeat_carries_the_first_answers_psp_reference() -> None:
    _, first = _load(next(RECORDED.glob("03-*.json")))
    _, repeat = _load(next(RECORDED.glob("04-*.json")))

    a, b = Session.parse(first), Session.parse(repeat)

    assert a.transaction.id == b.transaction.id
    assert a.idempotency_key == b.idempotency_key
    assert b.transaction.psp_reference == "DwZ4ONIgRG+16/Xv2qTXpw=="
