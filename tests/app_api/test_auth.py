"""The app's API lets in only a valid Dashboard token of this app, with the permissions each call needs."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

import httpx
import jwt
import pytest

from saleor_lengo.services import Services
from tests.conftest import LENGO_KEY, keys_fetched_long_ago
from tests.fakes.dashboard import dashboard_claims, dashboard_headers, dashboard_token
from tests.fakes.saleor import FakeSaleor, new_key

VIEWER = "query { viewer { email canWrite } }"
MUTATION = 'mutation { unmapChannel(channel: "nope") { id } }'


async def post(client: httpx.AsyncClient, headers: dict[str, str], query: str = VIEWER) -> httpx.Response:
    return await client.post("/graphql", json={"query": query}, headers=headers)


def reason(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["message"]
    return body["error"]  # type: ignore[no-any-return]


async def test_a_valid_dashboard_token_reads(client: httpx.AsyncClient, installed: FakeSaleor) -> None:
    response = await post(client, dashboard_headers(installed))
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"viewer": {"email": "staff@shop.example", "canWrite": True}}}


async def test_missing_headers_are_401(client: httpx.AsyncClient, installed: FakeSaleor) -> None:
    token = dashboard_token(installed)
    for headers in ({}, {"authorization-bearer": token}, {"saleor-api-url": installed.api_url}):
        response = await post(client, headers)
        assert response.status_code == 401
        assert reason(response)["code"] == "MISSING_TOKEN"


async def test_an_unknown_saleor_url_is_401(client: httpx.AsyncClient, installed: FakeSaleor) -> None:
    headers = dashboard_headers(installed)
    headers["saleor-api-url"] = "http://other.test/graphql/"
    response = await post(client, headers)
    assert response.status_code == 401
    assert reason(response)["code"] == "NOT_INSTALLED"


async def test_an_expired_token_is_401(client: httpx.AsyncClient, installed: FakeSaleor) -> None:
    token = dashboard_token(installed, now=time.time() - 3600, ttl=300)
    response = await post(client, dashboard_headers(installed, token))
    assert response.status_code == 401
    assert reason(response)["code"] == "TOKEN_EXPIRED"


async def test_a_forged_signature_is_401(client: httpx.AsyncClient, installed: FakeSaleor) -> None:
    # Same kid as Saleor's key, another private key: the signature cannot match.
    forger = new_key(installed.current_key.kid)
    response = await post(client, dashboard_headers(installed, dashboard_token(installed, key=forger)))
    assert response.status_code == 401
    assert reason(response)["code"] == "INVALID_TOKEN"


async def test_a_tampered_payload_is_401(client: httpx.AsyncClient, installed: FakeSaleor) -> None:
    header, _payload, signature = dashboard_token(installed, permissions=["HANDLE_PAYMENTS"]).split(".")
    claims = dashboard_claims(installed)  # MANAGE_APPS added
    payload = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    response = await post(client, dashboard_headers(installed, f"{header}.{payload}.{signature}"))
    assert response.status_code == 401


async def test_a_key_unknown_to_saleor_is_401(client: httpx.AsyncClient, installed: FakeSaleor) -> None:
    response = await post(client, dashboard_headers(installed, dashboard_token(installed, key=new_key())))
    assert response.status_code == 401
    assert "JWKS" in reason(response)["message"]


async def test_a_rotated_saleor_key_is_fetched_once(
    client: httpx.AsyncClient, installed: FakeSaleor, services: Services
) -> None:
    installed.rotate()
    before = services.jwks.fetch_count
    keys_fetched_long_ago(services)
    response = await post(client, dashboard_headers(installed))
    assert response.status_code == 200, response.text
    assert services.jwks.fetch_count == before + 1
    assert (await post(client, dashboard_headers(installed))).status_code == 200
    assert services.jwks.fetch_count == before + 1


async def test_unsigned_and_symmetric_tokens_are_401(client: httpx.AsyncClient, installed: FakeSaleor) -> None:
    claims = dashboard_claims(installed)
    kid = {"kid": installed.current_key.kid}
    public_pem = installed.current_key.private.public_key()
    for token in (
        jwt.encode(claims, None, algorithm="none", headers=kid),  # type: ignore[arg-type]
        jwt.encode(claims, "a-shared-secret-long-enough-for-hs256-checks", algorithm="HS256", headers=kid),
        "not.a.token",
        "garbage",
    ):
        response = await post(client, dashboard_headers(installed, token))
        assert response.status_code == 401, (token, response.text)
    assert public_pem  # the public key never signs anything


async def test_a_token_without_exp_is_401(client: httpx.AsyncClient, installed: FakeSaleor) -> None:
    claims = dashboard_claims(installed, exp=None)
    assert "exp" not in claims
    k = installed.current_key
    token = jwt.encode(claims, k.private, algorithm="RS256", headers={"kid": k.kid})
    response = await post(client, dashboard_headers(installed, token))
    assert response.status_code == 401


async def test_a_token_of_another_app_is_401(client: httpx.AsyncClient, installed: FakeSaleor) -> None:
    response = await post(client, dashboard_headers(installed, app="QXBwOjk5"))
    assert response.status_code == 401
    assert reason(response)["code"] == "WRONG_APP"


async def test_a_token_of_another_type_is_401(client: httpx.AsyncClient, installed: FakeSaleor) -> None:
    response = await post(client, dashboard_headers(installed, type="access"))
    assert response.status_code == 401
    assert reason(response)["code"] == "WRONG_TYPE"


async def test_reading_without_handle_payments_is_403(client: httpx.AsyncClient, installed: FakeSaleor) -> None:
    response = await post(client, dashboard_headers(installed, permissions=["MANAGE_APPS", "MANAGE_ORDERS"]))
    assert response.status_code == 403
    assert "HANDLE_PAYMENTS" in reason(response)["message"]


async def test_writing_without_manage_apps_is_403_but_reading_works(
    client: httpx.AsyncClient, installed: FakeSaleor
) -> None:
    headers = dashboard_headers(installed, permissions=["HANDLE_PAYMENTS"])
    response = await post(client, headers, MUTATION)
    assert response.status_code == 403
    assert "MANAGE_APPS" in reason(response)["message"]
    read = await post(client, headers)
    assert read.status_code == 200
    assert read.json()["data"]["viewer"]["canWrite"] is False


async def test_a_named_mutation_among_queries_needs_manage_apps(
    client: httpx.AsyncClient, installed: FakeSaleor
) -> None:
    headers = dashboard_headers(installed, permissions=["HANDLE_PAYMENTS"])
    document = f"query Q {{ viewer {{ email }} }}\nmutation M {MUTATION[len('mutation '):]}"
    as_query = await client.post("/graphql", json={"query": document, "operationName": "Q"}, headers=headers)
    assert as_query.status_code == 200
    as_mutation = await client.post("/graphql", json={"query": document, "operationName": "M"}, headers=headers)
    assert as_mutation.status_code == 403


async def test_a_retired_key_stops_working_once_the_new_set_is_fetched(
    client: httpx.AsyncClient, installed: FakeSaleor, services: Services
) -> None:
    old = dashboard_token(installed)
    installed.rotate()  # Saleor retires the old key
    response = await post(client, dashboard_headers(installed, old))
    assert response.status_code == 200  # the stored JWKS is fresh: no refetch, the old key still verifies
    keys_fetched_long_ago(services)
    # ...until the stored set is refreshed by a token of the new key.
    assert (await post(client, dashboard_headers(installed))).status_code == 200
    assert (await post(client, dashboard_headers(installed, old))).status_code == 401


async def test_malformed_bodies_are_400_not_500(client: httpx.AsyncClient, installed: FakeSaleor) -> None:
    headers = dashboard_headers(installed)
    for content in (b"{", b"[]", b'{"query": 1}', b'{"query": "{ viewer { email } }", "variables": []}'):
        response = await client.post("/graphql", content=content, headers=headers)
        assert response.status_code == 400, content
        assert reason(response)
    syntax = await post(client, headers, "query {")
    assert syntax.status_code == 400
    assert syntax.json()["errors"][0]["message"]


async def test_the_license_key_is_not_in_auth_errors(client: httpx.AsyncClient, installed: FakeSaleor) -> None:
    response = await post(client, {"authorization-bearer": LENGO_KEY, "saleor-api-url": installed.api_url})
    assert response.status_code == 401
    assert LENGO_KEY not in response.text


@pytest.mark.slow
def test_strawberry_is_imported_on_the_first_api_request_only() -> None:
    code = (
        "import sys, saleor_lengo.web.app, saleor_lengo.web.asgi, saleor_lengo.cli; "
        "print('strawberry' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
