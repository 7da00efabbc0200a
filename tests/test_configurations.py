"""Configurations per channel: lookup by channel id or slug, return-URL rules, secrets, live changes."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select

from saleor_lengo import configurations
from saleor_lengo.saleor import installations
from saleor_lengo.configurations import Configuration, ConfigurationError, ConfigurationInput
from saleor_lengo.db.schema import configurations as configurations_table
from saleor_lengo.services import Services
from tests.conftest import LENGO_KEY, LENGO_URL, WEBSITE_ID, configure_channel, send_webhook
from tests.fakes.payloads import gateway_initialize
from tests.fakes.saleor import FakeSaleor

PATTERN = r"https://shop\.example/checkout/return(\?.*)?"


def config(*patterns: str) -> Configuration:
    return Configuration(
        id=1, installation_id=1, name="guinea", website_id=WEBSITE_ID, license_key_enc="x", license_key_last4="7e41",
        environment="sandbox", lengo_url=LENGO_URL, currencies=("GNF",), min_amount=None, max_amount=None,
        return_url_patterns=patterns, default_return_url=None,
    )


@pytest.mark.parametrize(
    "url", ["https://shop.example/checkout/return", "https://shop.example/checkout/return?step=2&x=%2F"]
)
def test_a_return_url_matching_a_pattern_whole_is_allowed(url: str) -> None:
    assert config(PATTERN).return_url_refusal(url) is None


@pytest.mark.parametrize(
    "url",
    [
        # Contains an allowed URL, but is not one.
        "https://evil.example/?u=https://shop.example/checkout/return",
        "https://shop.example/checkout/return.evil.example",
        "https://shop.example/checkout/returnx",
        "https://shop.example.evil.example/checkout/return",
        "https://evil.example/#https://shop.example/checkout/return",
        "http://shop.example/checkout/return",
    ],
)
def test_a_return_url_that_only_contains_an_allowed_one_is_refused(url: str) -> None:
    assert str(config(PATTERN).return_url_refusal(url)) == (
        "Return URL not allowed by configuration 'guinea': it matches none of its return URL patterns."
    )


@pytest.mark.parametrize("url", ["javascript:alert(1)", "/checkout/return", "//evil.example/x", "https://u:p@shop.example/"])
def test_a_return_url_that_is_not_an_absolute_http_url_is_refused(url: str) -> None:
    assert str(config(PATTERN).return_url_refusal(url)) == "The return URL must be an absolute http(s) URL."


def test_without_patterns_only_loopback_return_urls_are_allowed_and_the_refusal_names_the_setting() -> None:
    bare = config()
    assert bare.return_url_refusal("http://localhost:3000/checkout/return") is None
    assert bare.return_url_refusal("http://127.0.0.1:3000/return?x=1") is None
    assert str(bare.return_url_refusal("https://shop.example/checkout/return")) == (
        "Return URL not allowed: Lengo account 'guinea' has no return URL pattern; add one that matches "
        "your storefront in Extensions → Lengo Pay → Lengo account → Change → “Return URL patterns”."
    )


def test_the_license_key_never_shows_in_a_repr_or_the_public_view() -> None:
    c = config(PATTERN)
    assert "license_key_enc" not in repr(c)
    assert c.public()["licenseKey"] == "••••7e41"


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"currencies": ("francs",)}, "currencies must be ISO 4217 codes such as GNF"),
        ({"min_amount": "2000", "max_amount": "1000"}, "min_amount is above max_amount"),
        ({"min_amount": "-1"}, "min_amount must not be negative"),
        ({"return_url_patterns": ("(",)}, "return URL pattern '(' is not a valid regex"),
        ({"environment": "staging"}, "environment must be one of production, sandbox, simulator"),
        ({"default_return_url": "ftp://shop.example/"}, "default return URL"),
    ],
)
def test_invalid_configuration_input_names_the_field(changes: dict[str, object], error: str) -> None:
    fields: dict[str, object] = {"name": "guinea", "website_id": WEBSITE_ID, "license_key": LENGO_KEY, **changes}
    with pytest.raises(ConfigurationError, match=error.replace("(", r"\(")):
        ConfigurationInput(**fields).validated()  # type: ignore[arg-type]


async def test_the_channel_id_is_matched_before_the_slug(services: Services, installed: FakeSaleor) -> None:
    by_slug = await configure_channel(services, installed, channel="channel-gnf", name="by-slug")
    by_id = await configure_channel(services, installed, channel="Q2hhbm5lbDoy", name="by-id")
    inst = await installations.find(services.db, installed.api_url)
    assert inst is not None

    async with services.db.read() as conn:
        both = await configurations.for_channel(conn, inst.id, "Q2hhbm5lbDoy", "channel-gnf")
        slug_only = await configurations.for_channel(conn, inst.id, "Q2hhbm5lbDo5", "channel-gnf")
        neither = await configurations.for_channel(conn, inst.id, "Q2hhbm5lbDo5", "other")

    assert both is not None and both.id == by_id.id
    assert slug_only is not None and slug_only.id == by_slug.id
    assert neither is None


async def test_the_license_key_is_stored_encrypted(services: Services, installed: FakeSaleor) -> None:
    saved = await configure_channel(services, installed)

    async with services.db.read() as conn:
        (stored,) = (await conn.execute(select(configurations_table.c.license_key_enc))).scalars().all()
    assert LENGO_KEY not in stored
    assert saved.credentials(services.cipher).license_key == LENGO_KEY


async def test_a_change_applies_to_a_running_app_at_once(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor
) -> None:
    async def available() -> dict[str, object]:
        response = await send_webhook(
            client, installed, "PAYMENT_GATEWAY_INITIALIZE_SESSION", gateway_initialize(installed.app_id)
        )
        data: dict[str, object] = response.json()["data"]
        return data

    assert (await available())["available"] is False

    await configure_channel(services, installed, name="first")
    assert (await available())["available"] is True

    # Remapped to a configuration without GNF: the very next request sees it.
    await configure_channel(services, installed, name="second", currencies=("XOF",))
    data = await available()
    assert data["available"] is False
    assert data["currencies"] == ["XOF"]

    await configure_channel(services, installed, name="second", currencies=("XOF", "GNF"), min_amount="1000")
    data = await available()
    assert (data["available"], data["minAmount"]) == (True, 1000)
    assert Decimal(str(data["minAmount"])) == Decimal(1000)
