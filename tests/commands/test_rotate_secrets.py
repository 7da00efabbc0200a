"""Rotating SECRET_KEY: old keys in SECRET_KEY_FALLBACKS still decrypt, and `rotate-secrets` lets them go."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import select, update

from saleor_lengo.saleor import installations
from saleor_lengo.commands.rotate_secrets import encrypted_columns, rotate_all
from saleor_lengo.crypto import Cipher, DecryptionError
from saleor_lengo.db.schema import callbacks, configurations
from saleor_lengo.db.schema import installations as installations_table
from saleor_lengo.services import Services
from tests.conftest import LENGO_KEY, TEST_SECRET_KEY, configure_channel
from tests.fakes.dashboard import insert_payment
from tests.fakes.saleor import FakeSaleor

NEW_KEY = "the-new-secret-key-0123456789-abcdefghijklmnop"
PHONE = "624897845"


async def secrets_in(services: Services) -> list[str]:
    async with services.db.read() as conn:
        return [
            *(await conn.execute(select(installations_table.c.token_enc))).scalars(),
            *(await conn.execute(select(configurations.c.license_key_enc))).scalars(),
            *(await conn.execute(select(callbacks.c.client_enc).where(callbacks.c.client_enc.is_not(None)))).scalars(),
        ]


async def stored(services: Services, installed: FakeSaleor) -> None:
    config = await configure_channel(services, installed)
    inst = await installations.find(services.db, installed.api_url)
    assert inst is not None
    pid = await insert_payment(services.db, installation_id=inst.id, configuration_id=config.id)
    async with services.db.write() as conn:
        await conn.execute(
            callbacks.insert().values(
                payment_id=pid, received_at=1.0, client_enc=services.cipher.encrypt(PHONE), outcome="confirmed"
            )
        )
        await conn.execute(callbacks.insert().values(payment_id=pid, received_at=2.0, outcome="ignored"))


def test_every_encrypted_column_is_covered() -> None:
    assert {f"{t.name}.{c}" for t, c in encrypted_columns()} == {
        "installations.token_enc",
        "configurations.license_key_enc",
        "callbacks.client_enc",
        "payments.payer_account_enc",
        "payouts.account_enc",
        "payment_orders.email_enc",
    }


async def test_fallback_keys_still_decrypt_and_rotation_lets_them_go(
    services: Services, installed: FakeSaleor
) -> None:
    await stored(services, installed)
    old = await secrets_in(services)
    assert sorted(Cipher(TEST_SECRET_KEY).decrypt(s) for s in old) == sorted([installed.app_token, LENGO_KEY, PHONE])

    rotating = Cipher(NEW_KEY, (TEST_SECRET_KEY,))
    # With the old key as a fallback, everything still reads; new writes use the new key.
    assert sorted(rotating.decrypt(s) for s in old) == sorted([installed.app_token, LENGO_KEY, PHONE])
    assert Cipher(NEW_KEY).decrypt(rotating.encrypt("fresh")) == "fresh"
    with pytest.raises(DecryptionError):
        Cipher(NEW_KEY).decrypt(old[0])

    counts = await rotate_all(services.db, rotating)
    assert counts == {
        "installations.token_enc": 1, "configurations.license_key_enc": 1, "callbacks.client_enc": 1,
        "payments.payer_account_enc": 0, "payouts.account_enc": 0, "payment_orders.email_enc": 0,
        "payment_orders.email_hash": 0,
    }
    new_only = Cipher(NEW_KEY)
    rotated = await secrets_in(services)
    assert sorted(new_only.decrypt(s) for s in rotated) == sorted([installed.app_token, LENGO_KEY, PHONE])
    with pytest.raises(DecryptionError):
        Cipher(TEST_SECRET_KEY).decrypt(rotated[0])
    inst = await installations.find(services.db, installed.api_url)
    assert inst is not None and inst.token(new_only) == installed.app_token


async def test_rotation_works_in_batches(services: Services, installed: FakeSaleor, monkeypatch: pytest.MonkeyPatch) -> None:
    from saleor_lengo.commands import rotate_secrets

    await stored(services, installed)
    inst = await installations.find(services.db, installed.api_url)
    assert inst is not None
    async with services.db.write() as conn:
        pid = (await conn.execute(select(callbacks.c.payment_id))).scalars().first()
        for i in range(7):
            await conn.execute(
                callbacks.insert().values(payment_id=pid, received_at=10.0 + i, client_enc=services.cipher.encrypt(f"62400000{i}"), outcome="confirmed")
            )
    monkeypatch.setattr(rotate_secrets, "BATCH", 3)
    counts = await rotate_all(services.db, Cipher(NEW_KEY, (TEST_SECRET_KEY,)))
    assert counts["callbacks.client_enc"] == 8
    assert all(Cipher(NEW_KEY).decrypt(s) for s in await secrets_in(services))


def _cli(database_url: str, secret: str, fallbacks: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "SECRET_KEY_FALLBACKS", "DATABASE_URL")}
    env.update(DATABASE_URL=database_url, SECRET_KEY=secret, SECRET_KEY_FALLBACKS=fallbacks, LOG_LEVEL="WARNING")
    return subprocess.run(
        [sys.executable, "-m", "saleor_lengo.cli", "rotate-secrets"], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.mark.slow
async def test_the_rotate_secrets_command_re_encrypts_every_stored_secret_under_the_new_key(services: Services, installed: FakeSaleor, database_url: str) -> None:
    await stored(services, installed)
    done = _cli(database_url, NEW_KEY, TEST_SECRET_KEY)
    assert done.returncode == 0, done.stderr
    assert "3 secrets now use SECRET_KEY" in done.stdout
    assert LENGO_KEY not in done.stdout + done.stderr
    assert sorted(Cipher(NEW_KEY).decrypt(s) for s in await secrets_in(services)) == sorted(
        [installed.app_token, LENGO_KEY, PHONE]
    )


@pytest.mark.slow
async def test_a_secret_no_key_can_read_stops_the_command_with_a_reason(
    services: Services, installed: FakeSaleor, database_url: str
) -> None:
    await stored(services, installed)
    async with services.db.write() as conn:
        await conn.execute(update(configurations).values(license_key_enc=Cipher("x" * 40).encrypt(LENGO_KEY)))
    done = _cli(database_url, NEW_KEY, TEST_SECRET_KEY)
    assert done.returncode == 1
    assert "configurations.license_key_enc" in done.stderr and "SECRET_KEY_FALLBACKS" in done.stderr
