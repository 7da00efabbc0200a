"""Saleor's JWKS under attack: a forged burst cannot delay a genuine rotation, and a huge or bogus set is refused."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import httpx
import pytest

from saleor_lengo.saleor import installations
from saleor_lengo.saleor.jwks import MIN_FETCH_INTERVAL
from saleor_lengo.saleor.keys import MAX_JWKS_BYTES, MAX_KEYS
from saleor_lengo.services import Services
from tests.conftest import register, send_webhook
from tests.fakes.payloads import gateway_initialize
from tests.fakes.saleor import FakeSaleor, SigningKey, new_key

PGI = "PAYMENT_GATEWAY_INITIALIZE_SESSION"
PGI_PATH = "/api/webhooks/saleor/payment-gateway-initialize-session"


class Clock:
    def __init__(self) -> None:
        self.t = time.time()

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock(services: Services, installed: FakeSaleor) -> Clock:
    """The key keeper's clock, from just after the registration's fetch."""
    clock = Clock()
    services.jwks._clock = clock
    return clock


async def _forged(client: httpx.AsyncClient, fake: FakeSaleor, key: SigningKey) -> int:
    raw, headers = fake.webhook(PGI, gateway_initialize(fake.app_id), key=key)
    return (await client.post(PGI_PATH, content=raw, headers=headers)).status_code


async def test_a_genuine_rotation_is_accepted_five_seconds_on_whatever_forged_key_ids_came_before(
    client: httpx.AsyncClient, clock: Clock, installed: FakeSaleor
) -> None:
    started, registered_fetches = clock.t, installed.jwks_requests
    forger = new_key()
    # A burst of forged webhooks just before Saleor rotates, each naming a key id the JWKS
    # lacks: the app may fetch the set without the new key, and must not run out of fetches.
    for i in range(30):
        clock.t = started + MIN_FETCH_INTERVAL + i * 0.1
        assert await _forged(client, installed, SigningKey(f"forged-{i}", forger.private)) == 401
    new = installed.rotate(retire_old=False)
    rotated_at = clock.t
    # Saleor signs with the new key from now on; the forgers keep going.
    for i in range(20):
        clock.t = rotated_at + i * (MIN_FETCH_INTERVAL - 0.1) / 20
        await _forged(client, installed, SigningKey(f"forged-after-{i}", forger.private))
    clock.t = rotated_at + MIN_FETCH_INTERVAL
    answered = await send_webhook(client, installed, PGI, gateway_initialize(installed.app_id))
    assert answered.status_code == 200, answered.text
    assert installed.current_key is new
    # And never more than one fetch per MIN_FETCH_INTERVAL, whatever the key ids.
    assert installed.jwks_requests - registered_fetches <= (clock.t - started) / MIN_FETCH_INTERVAL + 1


async def test_a_burst_of_forged_key_ids_at_once_costs_one_fetch(
    client: httpx.AsyncClient, clock: Clock, installed: FakeSaleor
) -> None:
    import asyncio

    clock.t += MIN_FETCH_INTERVAL
    before = installed.jwks_requests
    # One stranger's key under 40 key ids the JWKS lacks: the app sees 40 unknown ids either way,
    # and the test does not pay for 40 RSA key generations.
    forger = new_key()
    keys = [SigningKey(f"k{i}", forger.private) for i in range(40)]
    statuses = await asyncio.gather(*(_forged(client, installed, key) for key in keys))
    assert set(statuses) == {401}
    assert installed.jwks_requests == before + 1


def _padded_jwks(fake: FakeSaleor) -> bytes:
    body = fake.jwks()
    body["padding"] = "x" * (MAX_JWKS_BYTES + 1)
    return json.dumps(body).encode()


def _too_many_keys(fake: FakeSaleor) -> bytes:
    return json.dumps({"keys": [new_key().public_jwk() for _ in range(MAX_KEYS + 1)]}).encode()


def _private_key(fake: FakeSaleor) -> bytes:
    from jwt.algorithms import RSAAlgorithm

    jwk = json.loads(RSAAlgorithm.to_jwk(fake.current_key.private))
    jwk["kid"] = fake.current_key.kid
    return json.dumps({"keys": [jwk]}).encode()


def _not_rsa(fake: FakeSaleor) -> bytes:
    return json.dumps({"keys": [{"kty": "EC", "crv": "P-256", "kid": "ec", "x": "AA", "y": "AA"}]}).encode()


def _broken_modulus(fake: FakeSaleor) -> bytes:
    jwk = fake.current_key.public_jwk()
    jwk["n"] = "!!not-base64!!"
    return json.dumps({"keys": [jwk]}).encode()


def _tiny_key(fake: FakeSaleor) -> bytes:
    from cryptography.hazmat.primitives.asymmetric import rsa

    weak = SigningKey("weak", rsa.generate_private_key(public_exponent=65537, key_size=1024))
    return json.dumps({"keys": [weak.public_jwk()]}).encode()


BAD_SETS: dict[str, Callable[[FakeSaleor], bytes]] = {
    "over 64 KiB": _padded_jwks,
    "more than 10 keys": _too_many_keys,
    "a private key": _private_key,
    "not RSA": _not_rsa,
    "a broken modulus": _broken_modulus,
    "a 1024-bit key": _tiny_key,
}


@pytest.mark.parametrize("bad", BAD_SETS, ids=list(BAD_SETS))
async def test_a_jwks_out_of_bounds_refuses_the_registration(
    bad: str, client: httpx.AsyncClient, fake_saleor: FakeSaleor, services: Services
) -> None:
    fake_saleor.jwks_answer = (200, BAD_SETS[bad](fake_saleor), {})
    response = await register(client, fake_saleor)
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "JWKS_UNAVAILABLE"
    assert await installations.find(services.db, fake_saleor.api_url) is None


async def test_an_oversized_jwks_at_rotation_is_not_stored(
    client: httpx.AsyncClient, clock: Clock, installed: FakeSaleor, services: Services
) -> None:
    stored = await installations.find(services.db, installed.api_url)
    assert stored is not None
    installed.rotate(retire_old=False)
    installed.jwks_answer = (200, _padded_jwks(installed), {})
    clock.t += MIN_FETCH_INTERVAL
    answered = await send_webhook(client, installed, PGI, gateway_initialize(installed.app_id))
    assert answered.status_code == 401
    after = await installations.find(services.db, installed.api_url)
    assert after is not None and after.jwks == stored.jwks


async def test_a_stored_jwks_is_parsed_once_not_on_every_read(installed: FakeSaleor, services: Services) -> None:
    first = await installations.find(services.db, installed.api_url)
    second = await installations.find(services.db, installed.api_url)
    assert first is not None and second is not None
    assert first.jwks is second.jwks
