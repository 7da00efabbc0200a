"""PAYMENT_GATEWAY_INITIALIZE_SESSION: whether Lengo can take this checkout, always as data."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from saleor_lengo.services import Services
from tests.conftest import configure_channel
from tests.fakes.payloads import USD_CHANNEL, gateway_initialize
from tests.fakes.saleor import FakeSaleor
from tests.helpers.sessions import gateway_data, recorded_body
from tests.reference import needs_reference

EVENT = "PAYMENT_GATEWAY_INITIALIZE_SESSION"


async def test_a_configured_channel_is_available_with_its_environment_currencies_and_bounds(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor
) -> None:
    config = await configure_channel(services, installed, min_amount="1000", max_amount="15000000")

    answer = await gateway_data(client, installed, gateway_initialize(installed.app_id))

    assert answer == {
        "data": {
            "available": True,
            "environment": config.environment,
            "currencies": ["GNF"],
            "minAmount": 1000,
            "maxAmount": 15000000,
            "error": None,
        }
    }


async def test_bounds_that_are_not_configured_are_null(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor
) -> None:
    config = await configure_channel(services, installed, currencies=("GNF", "XOF"))

    answer = await gateway_data(client, installed, gateway_initialize(installed.app_id, amount=None))

    assert answer == {
        "data": {
            "available": True,
            "environment": config.environment,
            "currencies": ["GNF", "XOF"],
            "minAmount": None,
            "maxAmount": None,
            "error": None,
        }
    }


async def test_an_unconfigured_channel_is_unavailable_with_an_error_not_an_http_error(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor
) -> None:
    answer = await gateway_data(client, installed, gateway_initialize(installed.app_id))

    assert answer == {
        "data": {
            "available": False,
            "environment": None,
            "currencies": [],
            "minAmount": None,
            "maxAmount": None,
            "error": {"code": "NOT_CONFIGURED", "message": "Lengo Pay is not available for this shop."},
        }
    }


async def test_a_currency_the_configuration_does_not_take_is_unavailable(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor
) -> None:
    config = await configure_channel(services, installed, channel="default-channel")

    answer = await gateway_data(
        client, installed, gateway_initialize(installed.app_id, channel=USD_CHANNEL, amount=Decimal("22.38"))
    )

    assert answer == {
        "data": {
            "available": False,
            "environment": config.environment,
            "currencies": ["GNF"],
            "minAmount": None,
            "maxAmount": None,
            "error": {"code": "CURRENCY_NOT_SUPPORTED", "message": "Lengo Pay accepts GNF here, not USD."},
        }
    }


@pytest.mark.parametrize(
    ("amount", "code", "message"),
    [
        (Decimal("176500.5"), "AMOUNT_NOT_WHOLE", "Amounts in GNF must be whole: 176500.5 GNF cannot be paid."),
        (Decimal("500.0"), "AMOUNT_OUT_OF_RANGE", "Lengo Pay takes amounts of at least 1000 GNF, not 500 GNF."),
    ],
)
async def test_an_amount_lengo_cannot_take_is_unavailable(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor, amount: Decimal, code: str, message: str
) -> None:
    await configure_channel(services, installed, min_amount="1000")

    answer = await gateway_data(client, installed, gateway_initialize(installed.app_id, amount=amount))

    assert answer["data"]["available"] is False
    assert answer["data"]["error"] == {"code": code, "message": message}


@needs_reference
async def test_the_recorded_gnf_request_is_answered_available(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor
) -> None:
    config = await configure_channel(services, installed)

    answer = await gateway_data(client, installed, recorded_body("14", installed.app_id))

    assert answer == {
        "data": {
            "available": True,
            "environment": config.environment,
            "currencies": ["GNF"],
            "minAmount": None,
            "maxAmount": None,
            "error": None,
        }
    }
