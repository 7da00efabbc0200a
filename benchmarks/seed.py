"""Seeding the app's database directly through its own modules (as tests/fakes/factories.py does).

An installation of a Saleor (signing keys from `tests.fakes.saleor.FakeSaleor`),
one configuration mapped to the GNF channel and pointing at the fake Lengo,
and, for the callback and relay scenarios, many payments with known
callback tokens (and outbox rows waiting for delivery).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

from saleor_lengo import configurations
from saleor_lengo.saleor import installations
from saleor_lengo.configurations import ConfigurationInput
from saleor_lengo.crypto import Cipher, token_digest
from saleor_lengo.db.engine import Database
from saleor_lengo.db.migrate import migrate
from saleor_lengo.db.schema import outbox, payments
from saleor_lengo.settings import _database_url
from saleor_lengo.saleor.keys import parse_document
from tests.fakes.saleor import FakeSaleor

SECRET_KEY = "benchmark-secret-key-0123456789-abcdefghijkl"
LICENSE_KEY = "benchmark-license-key-5f2c9a7e"
WEBSITE_ID = "bench-site"
CHANNEL = {"id": "Q2hhbm5lbDoy", "slug": "channel-gnf", "currencyCode": "GNF"}
RETURN_URL = "https://shop.example/checkout/return"
RETURN_URL_PATTERN = r"https://shop\.example/checkout/return(\?.*)?"
AMOUNT = "150000"  # GNF: every seeded payment, and what the fake Lengo reports for it


@dataclass(frozen=True)
class SeededPayment:
    token: str
    pay_id: str


# Settings added by `python -m benchmarks.run --app-env NAME=VALUE` (e.g. LOG_FORMAT=console).
EXTRA_APP_ENV: dict[str, str] = {}


def app_env(database_url: str, app_url: str) -> dict[str, str]:
    """The settings the app runs with in every scenario: as the Dockerfile deploys it (JSON logs at INFO).

    BENCH_APP_ROOT=DIR runs the app's processes from another checkout (e.g. a
    `git worktree` of an older commit), to measure a change against what came before.
    """
    env = {"DATABASE_URL": database_url, "APP_URL": app_url, "SECRET_KEY": SECRET_KEY, "LOG_FORMAT": "json",
           **EXTRA_APP_ENV}
    other = os.environ.get("BENCH_APP_ROOT")
    if other:
        env["PYTHONPATH"] = os.pathsep.join([other, str(Path(__file__).resolve().parents[1])])
    return env


def pay_id_for(i: int) -> str:
    # Lengo's shape: 24 base64 characters ending in "=="; unique per index.
    return f"BENCH{i:017d}=="


def new_payments(n: int, *, start: int = 0) -> list[SeededPayment]:
    return [SeededPayment(secrets.token_urlsafe(32), pay_id_for(start + i)) for i in range(n)]


async def seed_app(
    database_url: str,
    saleor: FakeSaleor,
    lengo_url: str,
    *,
    callback_payments: Sequence[SeededPayment] = (),
    outbox_events: int = 0,
) -> None:
    """Migrate, install, configure, then add payments (action_required, known token) and outbox rows."""
    db = Database(_database_url(database_url))
    cipher = Cipher(SECRET_KEY)
    try:
        await migrate(db)
        inst = await installations.save(
            db, cipher, saleor_api_url=saleor.api_url, app_id=saleor.app_id, token=saleor.app_token, jwks=parse_document(saleor.jwks())
        )
        data = ConfigurationInput(
            name="bench", website_id=WEBSITE_ID, license_key=LICENSE_KEY, environment="simulator",
            lengo_url=lengo_url, currencies=("GNF",), return_url_patterns=(RETURN_URL_PATTERN,),
        )
        async with db.write() as conn:
            config = await configurations.save(conn, cipher, inst.id, data)
            await configurations.map_channel(conn, inst.id, CHANNEL["slug"], config.id)
        now = time.time()
        rows = [
            {
                "id": uuid4().hex, "installation_id": inst.id, "configuration_id": config.id,
                "saleor_transaction_id": f"VHJhbnNhY3Rpb25JdGVtOmJlbmNo{i:08d}", "callback_token_digest": token_digest(p.token),
                "state": "action_required", "pay_id": p.pay_id, "payment_url": f"{lengo_url}/pay/{p.pay_id}",
                "amount": AMOUNT, "currency": "GNF", "environment": config.environment, "channel_slug": CHANNEL["slug"],
                "created_at": now, "updated_at": now, "expires_at": now + 86400, "watch_until": now + 86400 * 8,
                # Not due for a reconciler check during the run.
                "next_check_at": now + 86400, "check_attempts": 0,
            }
            for i, p in enumerate(callback_payments)
        ]
        for lo in range(0, len(rows), 5000):
            async with db.write() as conn:
                await conn.execute(payments.insert(), rows[lo:lo + 5000])
        if outbox_events:
            await _seed_outbox(db, inst.id, config.id, outbox_events, now)
    finally:
        await db.dispose()


async def _seed_outbox(db: Database, installation_id: int, config_id: int, n: int, now: float) -> None:
    """`n` succeeded payments, each with one pending CHARGE_SUCCESS event (as a confirmed callback leaves)."""
    for lo in range(0, n, 5000):
        chunk = range(lo, min(n, lo + 5000))
        pays = [
            {
                "id": f"relay{i:027d}", "installation_id": installation_id, "configuration_id": config_id,
                "saleor_transaction_id": f"VHJhbnNhY3Rpb25JdGVtOnJlbGF5{i:08d}",
                "callback_token_digest": token_digest(f"relay-{i}"), "state": "succeeded", "pay_id": pay_id_for(10**9 + i),
                "amount": AMOUNT, "currency": "GNF", "environment": "simulator", "channel_slug": CHANNEL["slug"],
                "created_at": now, "updated_at": now, "expires_at": now + 86400, "watch_until": now + 86400 * 8,
                "check_attempts": 0,
            }
            for i in chunk
        ]
        events = [
            {
                "payment_id": p["id"], "installation_id": installation_id, "saleor_transaction_id": p["saleor_transaction_id"],
                "event_type": "CHARGE_SUCCESS", "psp_reference": p["pay_id"], "amount": AMOUNT, "currency": "GNF",
                "message": "Paid with Orange Money.", "external_url": None, "available_actions": json.dumps([]),
                "event_time": now, "state": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now,
            }
            for p in pays
        ]
        async with db.write() as conn:
            await conn.execute(payments.insert(), pays)
            await conn.execute(outbox.insert(), events)


def seed(database_url: str, saleor: FakeSaleor, lengo_url: str, **kwargs: object) -> None:
    asyncio.run(seed_app(database_url, saleor, lengo_url, **kwargs))  # type: ignore[arg-type]


def write_lengo_seed(path: Path, seeded: Sequence[SeededPayment], status: str = "SUCCESS") -> None:
    """What the fake Lengo knows before the run: these pay_ids, with this status."""
    path.write_text(json.dumps({"status": status, "amount": AMOUNT, "website_id": WEBSITE_ID,
                                "pay_ids": [p.pay_id for p in seeded]}))
