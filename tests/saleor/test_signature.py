from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from saleor_lengo.saleor.keys import parse_document
from saleor_lengo.saleor.signature import SignatureError, verify
from saleor_lengo.services import Services
from tests.conftest import keys_fetched_long_ago, send_webhook
from tests.fakes.payloads import gateway_initialize
from tests.fakes.saleor import FakeSaleor, SigningKey, new_key, saleor_json
from tests.reference import RECORDED, needs_reference, recorded

PGI = "PAYMENT_GATEWAY_INITIALIZE_SESSION"
PGI_PATH = "/api/webhooks/saleor/payment-gateway-initialize-session"


def _recorded_signed() -> list[Path]:
    return sorted(p for p in recorded("[0-9][0-9]-*.json") if "Saleor-Signature" in json.loads(p.read_text())["headers"])


def test_fake_saleor_signs_exactly_like_saleor(fake_saleor: FakeSaleor) -> None:
    raw = b'{"a": 1.0}'
    sig = fake_saleor.sign(raw)
    header_b64, middle, _ = sig.split(".")
    assert middle == ""
    header = json.loads(base64.urlsafe_b64decode(header_b64 + "=="))
    assert header["alg"] == "RS256" and header["b64"] is False and header["crit"] == ["b64"]
    assert header["kid"] == fake_saleor.current_key.kid
    key = jwt.PyJWKSet.from_dict(fake_saleor.jwks())[fake_saleor.current_key.kid].key
    jwt.api_jws.PyJWS().decode_complete(sig, key, algorithms=["RS256"], detached_payload=raw)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.api_jws.PyJWS().decode_complete(sig, key, algorithms=["RS256"], detached_payload=raw + b" ")


@needs_reference
@pytest.mark.parametrize("path", _recorded_signed(), ids=lambda p: p.stem)
def test_every_recorded_saleor_request_verifies_and_fails_once_a_byte_changes(path: Path) -> None:
    record = json.loads(path.read_text())
    jwks = parse_document(json.loads((RECORDED / "jwks.json").read_text()))
    raw = base64.b64decode(record["body_base64"])
    signature = record["headers"]["Saleor-Signature"]
    verify(signature, raw, jwks)
    with pytest.raises(SignatureError):
        verify(signature, raw + b" ", jwks)
    flipped = bytearray(raw)
    flipped[len(flipped) // 2] ^= 0x01
    with pytest.raises(SignatureError):
        verify(signature, bytes(flipped), jwks)


@needs_reference
def test_there_are_recorded_requests_to_verify() -> None:
    assert len(_recorded_signed()) == 16


async def test_signed_webhook_is_answered(client: httpx.AsyncClient, installed: FakeSaleor) -> None:
    r = await send_webhook(client, installed, PGI, gateway_initialize(installed.app_id))
    assert r.status_code == 200
    assert "data" in r.json()


async def test_missing_headers_are_400(client: httpx.AsyncClient, installed: FakeSaleor) -> None:
    raw, headers = installed.webhook(PGI, gateway_initialize(installed.app_id))
    for name in ("Saleor-Signature", "Saleor-Api-Url"):
        h = {k: v for k, v in headers.items() if k != name}
        r = await client.post(PGI_PATH, content=raw, headers=h)
        assert r.status_code == 400, name
        assert "Missing" in r.json()["error"]["message"]


async def test_event_header_for_another_route_is_400(client: httpx.AsyncClient, installed: FakeSaleor) -> None:
    raw, headers = installed.webhook("TRANSACTION_INITIALIZE_SESSION", gateway_initialize(installed.app_id))
    r = await client.post(PGI_PATH, content=raw, headers=headers)
    assert r.status_code == 400


async def test_unregistered_saleor_is_401(client: httpx.AsyncClient, fake_saleor: FakeSaleor) -> None:
    r = await send_webhook(client, fake_saleor, PGI, gateway_initialize(fake_saleor.app_id))
    assert r.status_code == 401
    assert "not installed" in r.json()["error"]["message"]


async def test_bad_signature_is_401(client: httpx.AsyncClient, installed: FakeSaleor) -> None:
    raw, headers = installed.webhook(PGI, gateway_initialize(installed.app_id))
    tampered = raw.replace(b"176500.0", b"1.0")
    r = await client.post(PGI_PATH, content=tampered, headers=headers)
    assert r.status_code == 401
    assert r.json()["error"]["message"].startswith("Invalid signature")


async def test_garbage_signature_is_401_without_refetch(client: httpx.AsyncClient, installed: FakeSaleor) -> None:
    raw, headers = installed.webhook(PGI, gateway_initialize(installed.app_id))
    before = installed.jwks_requests
    headers["Saleor-Signature"] = "not-a-jws"
    r = await client.post(PGI_PATH, content=raw, headers=headers)
    assert r.status_code == 401
    assert installed.jwks_requests == before


async def test_signature_by_another_key_with_a_known_kid_is_401(client: httpx.AsyncClient, installed: FakeSaleor) -> None:
    impostor = new_key(kid=installed.current_key.kid)
    raw, headers = installed.webhook(PGI, gateway_initialize(installed.app_id), key=impostor)
    r = await client.post(PGI_PATH, content=raw, headers=headers)
    assert r.status_code == 401


async def test_wrong_recipient_is_403(client: httpx.AsyncClient, installed: FakeSaleor) -> None:
    body = gateway_initialize(installed.app_id)
    body["recipient"] = {"id": "QXBwOjk5"}
    r = await send_webhook(client, installed, PGI, body)
    assert r.status_code == 403


async def test_malformed_json_with_valid_signature_is_400(client: httpx.AsyncClient, installed: FakeSaleor) -> None:
    raw = b'{"recipient": '
    headers = {"Saleor-Signature": installed.sign(raw), "Saleor-Api-Url": installed.api_url, "Saleor-Event": PGI.lower()}
    r = await client.post(PGI_PATH, content=raw, headers=headers)
    assert r.status_code == 400
    assert "Malformed JSON" in r.json()["error"]["message"]


async def test_oversized_body_is_413(client: httpx.AsyncClient, installed: FakeSaleor) -> None:
    raw = b'{"x": "' + b"a" * 300_000 + b'"}'
    headers = {"Saleor-Signature": installed.sign(raw), "Saleor-Api-Url": installed.api_url}
    r = await client.post(PGI_PATH, content=raw, headers=headers)
    assert r.status_code == 413


async def test_a_genuine_webhook_sent_again_is_answered_again(client: httpx.AsyncClient, installed: FakeSaleor) -> None:
    raw, headers = installed.webhook(PGI, gateway_initialize(installed.app_id))
    first = await client.post(PGI_PATH, content=raw, headers=headers)
    second = await client.post(PGI_PATH, content=raw, headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()


async def test_rotation_to_a_new_kid_succeeds_after_one_refetch_and_retires_the_old_key(
    client: httpx.AsyncClient, installed: FakeSaleor, services: Services
) -> None:
    old = installed.current_key
    before = installed.jwks_requests
    installed.rotate(retire_old=True)
    keys_fetched_long_ago(services)
    r = await send_webhook(client, installed, PGI, gateway_initialize(installed.app_id))
    assert r.status_code == 200
    assert installed.jwks_requests == before + 1
    # The stored set was replaced: the retired key no longer verifies.
    raw, headers = installed.webhook(PGI, gateway_initialize(installed.app_id), key=old)
    r = await client.post(PGI_PATH, content=raw, headers=headers)
    assert r.status_code == 401


async def test_unknown_kids_cost_one_fetch_per_interval(
    client: httpx.AsyncClient, installed: FakeSaleor, services: Services
) -> None:
    stranger = new_key()
    before = installed.jwks_requests
    keys_fetched_long_ago(services)
    for _ in range(5):
        raw, headers = installed.webhook(PGI, gateway_initialize(installed.app_id), key=stranger)
        r = await client.post(PGI_PATH, content=raw, headers=headers)
        assert r.status_code == 401
    assert installed.jwks_requests == before + 1


async def test_bad_signature_with_a_fresh_jwks_does_not_refetch(client: httpx.AsyncClient, installed: FakeSaleor) -> None:
    before = installed.jwks_requests
    raw, headers = installed.webhook(PGI, gateway_initialize(installed.app_id))
    r = await client.post(PGI_PATH, content=raw + b" ", headers=headers)
    assert r.status_code == 401
    assert installed.jwks_requests == before


async def test_flood_of_forged_signatures_with_a_stale_jwks_stays_under_the_cap(
    client: httpx.AsyncClient, installed: FakeSaleor, services: Services
) -> None:
    # Make the stored set look old, so each failure may ask for a refetch.
    keys_fetched_long_ago(services, 3600)
    before = installed.jwks_requests

    # One stranger's key under 30 key ids the JWKS lacks (30 key generations would cost ~2 s).
    forger = new_key()

    async def forged(i: int) -> int:
        stranger = SigningKey(f"forged-{i}", forger.private)
        raw, headers = installed.webhook(PGI, gateway_initialize(installed.app_id), key=stranger)
        return (await client.post(PGI_PATH, content=raw, headers=headers)).status_code

    statuses = await asyncio.gather(*(forged(i) for i in range(30)))
    assert set(statuses) == {401}
    assert installed.jwks_requests - before == 1


async def test_concurrent_requests_with_a_new_kid_share_one_fetch(
    client: httpx.AsyncClient, installed: FakeSaleor, services: Services
) -> None:
    before = installed.jwks_requests
    installed.rotate(retire_old=True)
    keys_fetched_long_ago(services)
    bodies: list[tuple[bytes, dict[str, Any]]] = [installed.webhook(PGI, gateway_initialize(installed.app_id)) for _ in range(8)]
    responses = await asyncio.gather(*(client.post(PGI_PATH, content=b, headers=h) for b, h in bodies))
    assert {r.status_code for r in responses} == {200}
    assert installed.jwks_requests == before + 1


@needs_reference
def test_saleor_json_matches_recorded_serialisation() -> None:
    record = json.loads((RECORDED / "02-payment-gateway-initialize-session-usd.json").read_text())
    from decimal import Decimal

    body = json.loads(record["body"], parse_float=Decimal)
    assert saleor_json(body) == base64.b64decode(record["body_base64"])
