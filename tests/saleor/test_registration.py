from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from saleor_lengo.saleor import installations
from saleor_lengo.db.schema import installations as installations_table
from saleor_lengo.services import Services, build_services
from saleor_lengo.web.app import create_app
from tests.conftest import APP_URL, make_settings, register
from tests.fakes.saleor import FakeSaleor


async def test_registration_stores_the_installation_with_encrypted_token_and_jwks(
    client: httpx.AsyncClient, fake_saleor: FakeSaleor, services: Services
) -> None:
    response = await register(client, fake_saleor)
    assert response.status_code == 200
    assert response.json() == {"success": True}
    inst = await installations.find(services.db, fake_saleor.api_url)
    assert inst is not None
    assert inst.app_id == fake_saleor.app_id
    assert inst.token(services.cipher) == fake_saleor.app_token
    assert inst.jwks.document == fake_saleor.jwks()
    async with services.db.read() as conn:
        row = (await conn.execute(select(installations_table))).one()
    assert fake_saleor.app_token not in row.token_enc


async def test_reinstalling_the_same_saleor_replaces_the_installation(
    client: httpx.AsyncClient, fake_saleor: FakeSaleor, services: Services
) -> None:
    assert (await register(client, fake_saleor)).status_code == 200
    fake_saleor.app_token = "second-token-abcdefgh"
    fake_saleor.app_id = "QXBwOjI="
    assert (await register(client, fake_saleor)).status_code == 200
    async with services.db.read() as conn:
        rows = (await conn.execute(select(installations_table))).all()
    assert len(rows) == 1
    inst = await installations.find(services.db, fake_saleor.api_url)
    assert inst is not None and inst.app_id == "QXBwOjI="
    assert inst.token(services.cipher) == "second-token-abcdefgh"


async def test_missing_header_or_token_is_400(client: httpx.AsyncClient, fake_saleor: FakeSaleor) -> None:
    r = await client.post("/api/register", json={"auth_token": "x"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "MISSING_SALEOR_API_URL"
    r = await client.post("/api/register", json={}, headers={"Saleor-Api-Url": fake_saleor.api_url})
    assert r.status_code == 400
    assert r.json() == {"success": False, "error": {"code": "MISSING_AUTH_TOKEN", "message": "Missing auth_token in the body."}}
    r = await client.post("/api/register", content=b"{not json", headers={"Saleor-Api-Url": fake_saleor.api_url})
    assert r.status_code == 400


async def test_token_refused_by_saleor_is_401_and_nothing_is_stored(
    client: httpx.AsyncClient, fake_saleor: FakeSaleor, services: Services
) -> None:
    r = await client.post(
        "/api/register", json={"auth_token": "forged-token-123"}, headers={"Saleor-Api-Url": fake_saleor.api_url}
    )
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "INVALID_TOKEN"
    assert await installations.find(services.db, fake_saleor.api_url) is None


async def test_unreachable_jwks_refuses_the_installation(
    client: httpx.AsyncClient, fake_saleor: FakeSaleor, services: Services
) -> None:
    fake_saleor.jwks_down = True
    r = await register(client, fake_saleor)
    assert r.status_code == 502
    assert r.json()["error"]["code"] == "JWKS_UNAVAILABLE"
    assert await installations.find(services.db, fake_saleor.api_url) is None


async def _client_with(settings_overrides: dict[str, str], database_url: str, transports: dict[str, httpx.AsyncBaseTransport]) -> tuple[httpx.AsyncClient, Services]:
    from saleor_lengo.db.migrate import migrate

    svc = build_services(make_settings(database_url, **settings_overrides), http=httpx.AsyncClient(mounts=dict(transports)))
    await migrate(svc.db)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(svc)), base_url=APP_URL), svc


@pytest.mark.parametrize(
    ("pattern", "accepted"),
    [
        (r"http://saleor\.test/graphql/", True),
        (r"http://saleor\.test/graph", False),  # a prefix is not the whole URL
        (r"saleor\.test", False),  # merely contained
        (r"https://shop\.example/graphql/", False),
    ],
)
async def test_allowed_domain_pattern_must_match_the_whole_url(
    pattern: str, accepted: bool, database_url: str, transports: dict[str, httpx.AsyncBaseTransport], fake_saleor: FakeSaleor
) -> None:
    c, svc = await _client_with({"ALLOWED_DOMAIN_PATTERN": pattern, "APP_URL": "https://pay.example.com"}, database_url, transports)
    async with c:
        r = await register(c, fake_saleor)
    await svc.aclose()
    if accepted:
        assert r.status_code == 200
    else:
        assert r.status_code == 403
        assert r.json()["error"]["code"] == "SALEOR_URL_NOT_ALLOWED"


async def test_url_that_contains_an_allowed_one_is_refused(
    database_url: str, transports: dict[str, httpx.AsyncBaseTransport]
) -> None:
    evil = FakeSaleor(api_url="http://saleor.test.evil.example/graphql/?http://saleor.test/graphql/")
    c, svc = await _client_with({"ALLOWED_DOMAIN_PATTERN": r"http://saleor\.test/graphql/"}, database_url, transports)
    async with c:
        r = await register(c, evil)
    await svc.aclose()
    assert r.status_code == 403


async def test_no_pattern_with_a_public_app_url_refuses_and_names_the_setting(
    database_url: str, transports: dict[str, httpx.AsyncBaseTransport], fake_saleor: FakeSaleor
) -> None:
    c, svc = await _client_with({"APP_URL": "https://pay.example.com"}, database_url, transports)
    async with c:
        r = await register(c, fake_saleor)
    await svc.aclose()
    assert r.status_code == 403
    assert "ALLOWED_DOMAIN_PATTERN" in r.json()["error"]["message"]
    assert fake_saleor.graphql_calls == []  # refused before calling the URL it was given


async def test_non_http_saleor_url_is_refused(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/register", json={"auth_token": "x"}, headers={"Saleor-Api-Url": "file:///etc/passwd"})
    assert r.status_code == 400
