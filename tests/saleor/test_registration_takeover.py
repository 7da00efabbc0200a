"""Hostile registrations: a token of another app on the same Saleor cannot take an installation over."""

from __future__ import annotations

import httpx
from structlog.testing import capture_logs

from saleor_lengo.saleor import installations
from saleor_lengo.services import Services
from tests.conftest import register, send_webhook
from tests.fakes.payloads import gateway_initialize
from tests.fakes.saleor import FakeSaleor

OTHER_APP_TOKEN = "other-app-token-0123456789abcdef"
OTHER_APP_ID = "QXBwOjk5"
PGI = "PAYMENT_GATEWAY_INITIALIZE_SESSION"


async def _register_with(client: httpx.AsyncClient, fake: FakeSaleor, token: str) -> httpx.Response:
    return await client.post(
        "/api/register", json={"auth_token": token}, headers={"Saleor-Api-Url": fake.api_url}
    )


async def _stored(services: Services, fake: FakeSaleor) -> tuple[str, str]:
    inst = await installations.find(services.db, fake.api_url)
    assert inst is not None
    return inst.app_id, inst.token(services.cipher)


async def test_another_apps_token_is_refused_with_409_and_the_installation_keeps_working(
    client: httpx.AsyncClient, installed: FakeSaleor, services: Services
) -> None:
    installed.other_apps[OTHER_APP_TOKEN] = OTHER_APP_ID
    with capture_logs() as logs:
        response = await _register_with(client, installed, OTHER_APP_TOKEN)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "ALREADY_INSTALLED"
    assert OTHER_APP_TOKEN not in response.text
    assert await _stored(services, installed) == (installed.app_id, installed.app_token)
    [warning] = [entry for entry in logs if entry["event"] == "registration_takeover_refused"]
    assert warning["log_level"] == "warning"
    assert warning["offered_app_id"] == OTHER_APP_ID
    # The real app's webhooks are still its own.
    answered = await send_webhook(client, installed, PGI, gateway_initialize(installed.app_id))
    assert answered.status_code == 200


async def test_when_checking_the_stored_token_fails_the_registration_is_503_and_nothing_changes(
    client: httpx.AsyncClient, installed: FakeSaleor, services: Services
) -> None:
    installed.other_apps[OTHER_APP_TOKEN] = OTHER_APP_ID
    installed.down_for_tokens.add(installed.app_token)
    response = await _register_with(client, installed, OTHER_APP_TOKEN)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "INSTALLATION_UNCHECKED"
    assert await _stored(services, installed) == (installed.app_id, installed.app_token)


async def test_a_reinstall_replaces_the_installation_once_saleor_refuses_the_stored_token(
    client: httpx.AsyncClient, installed: FakeSaleor, services: Services
) -> None:
    installed.reinstall()  # the old token is revoked, the app has a new id
    response = await register(client, installed)
    assert response.status_code == 200, response.text
    assert await _stored(services, installed) == (installed.app_id, installed.app_token)


async def test_the_same_app_registering_again_replaces_its_token(
    client: httpx.AsyncClient, installed: FakeSaleor, services: Services
) -> None:
    installed.app_token = "app-token-renewed-0123456789"  # same app id: Saleor re-sent the token
    response = await register(client, installed)
    assert response.status_code == 200, response.text
    assert await _stored(services, installed) == (installed.app_id, "app-token-renewed-0123456789")
