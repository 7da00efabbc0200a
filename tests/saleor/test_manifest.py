from __future__ import annotations

import struct

import httpx

from saleor_lengo import __version__
from saleor_lengo.saleor.events import SYNC_EVENTS
from tests.fakes.saleor import validation_errors
from tests.reference import needs_reference

EXPECTED_EVENTS = {
    "PAYMENT_GATEWAY_INITIALIZE_SESSION",
    "TRANSACTION_INITIALIZE_SESSION",
    "TRANSACTION_PROCESS_SESSION",
    "TRANSACTION_CHARGE_REQUESTED",
    "TRANSACTION_REFUND_REQUESTED",
    "TRANSACTION_CANCELATION_REQUESTED",
}


async def test_manifest_lists_the_six_events_with_absolute_urls_under_app_url(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/manifest")
    assert response.status_code == 200
    m = response.json()
    assert m["id"] == "saleor.app.payment.lengo"
    assert m["name"] == "Lengo Pay"
    assert m["version"] == __version__
    assert m["permissions"] == ["HANDLE_PAYMENTS"]
    assert m["appUrl"] == "http://127.0.0.1:8000/app"
    assert m["tokenTargetUrl"] == "http://127.0.0.1:8000/api/register"
    assert m["brand"]["logo"]["default"] == "http://127.0.0.1:8000/logo.png"
    assert m["requiredSaleorVersion"] == ">=3.23 <4"
    assert {e for w in m["webhooks"] for e in w["syncEvents"]} == EXPECTED_EVENTS
    for webhook in m["webhooks"]:
        (event,) = webhook["syncEvents"]
        assert webhook["targetUrl"] == "http://127.0.0.1:8000/api/webhooks/saleor/" + event.lower().replace("_", "-")
        assert webhook["isActive"] is True
        assert "recipient" in webhook["query"]


@needs_reference
async def test_every_manifest_subscription_validates_against_saleors_schema(client: httpx.AsyncClient) -> None:
    for webhook in (await client.get("/api/manifest")).json()["webhooks"]:
        assert validation_errors(webhook["query"]) == []


async def test_every_manifest_target_url_is_a_route_that_answers(client: httpx.AsyncClient) -> None:
    m = (await client.get("/api/manifest")).json()
    for webhook in m["webhooks"]:
        path = webhook["targetUrl"].removeprefix("http://127.0.0.1:8000")
        # Unsigned: the route exists and refuses, rather than 404/405.
        response = await client.post(path, content=b"{}")
        assert response.status_code == 400, path


async def test_the_homepage_support_and_privacy_links_lead_to_the_projects_own_documentation(
    client: httpx.AsyncClient,
) -> None:
    m = (await client.get("/api/manifest")).json()
    pages = {}
    for key in ("homepageUrl", "supportUrl", "dataPrivacyUrl"):
        assert m[key].startswith("http://127.0.0.1:8000/"), (key, m[key])
        response = await client.get(m[key].removeprefix("http://127.0.0.1:8000"))
        assert response.status_code == 200, key
        assert response.headers["content-type"].startswith("text/plain"), key
        pages[key] = response.text
    assert pages["homepageUrl"].startswith("# saleor-lengo") and "## Settings" in pages["homepageUrl"]
    assert pages["supportUrl"] != pages["homepageUrl"] and pages["supportUrl"].startswith("#")
    assert pages["dataPrivacyUrl"].startswith("# saleor-lengo: what it stores about people")


def test_the_registry_derives_paths_from_event_names() -> None:
    names = [e.name for e in SYNC_EVENTS]
    assert set(names) == EXPECTED_EVENTS
    assert len(names) == len(set(names))


async def test_logo_is_a_square_png_of_at_least_256_pixels_as_saleor_requires(client: httpx.AsyncClient) -> None:
    response = await client.get("/logo.png")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    png = response.content
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and png[12:16] == b"IHDR"  # IHDR is always the first chunk
    width, height = struct.unpack(">II", png[16:24])
    # Saleor refuses a smaller or non-square logo, and the Dashboard then shows none.
    assert width == height >= 256


async def test_health_answers_ok_and_ready_answers_ready(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}
    assert (await client.get("/ready")).json() == {"status": "ready"}
