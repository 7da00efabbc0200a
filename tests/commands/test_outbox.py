"""`saleor-lengo outbox list|retry` and `saleor-lengo relay --once`, run as the CLI runs them.

The CLI starts its own event loop (`asyncio.run`), so it runs in a thread
here, against the very database the fixtures filled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import structlog
from sqlalchemy import select, update

from saleor_lengo.cli import main
from saleor_lengo.configurations import Configuration
from saleor_lengo.db.schema import outbox
from saleor_lengo.lengo.client import PaymentStatus
from saleor_lengo.outbox import relay
from saleor_lengo.flows.lengo_status import apply_status
from saleor_lengo.services import Services
from saleor_lengo.simulator.api import LengoState
from tests.conftest import APP_URL, TEST_SECRET_KEY, register
from tests.fakes.factories import MadePayment, make_payment
from tests.fakes.saleor import FakeSaleor


@pytest.fixture(autouse=True)
def cli_env(services: Services, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DATABASE_URL", services.settings.database_url)
    monkeypatch.setenv("SECRET_KEY", TEST_SECRET_KEY)
    monkeypatch.setenv("APP_URL", APP_URL)
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    # The CLI configures logging for the whole process: give the next tests theirs back.
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


async def cli(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


async def paid(services: Services, fake: FakeSaleor, lengo: LengoState, config: Configuration, **kw: Any) -> MadePayment:
    made = await make_payment(services, fake, lengo, config, **kw)
    status = PaymentStatus(status="SUCCESS", pay_id=made.pay_id, amount=made.amount, date=None, gateway=None)
    await apply_status(services, made.id, status, source="test")
    return made


async def outbox_rows(services: Services) -> list[Any]:
    async with services.db.read() as conn:
        return list((await conn.execute(select(outbox).order_by(outbox.c.id))).all())


async def test_outbox_list_shows_every_row_and_dead_only_the_dead_letters(
    services: Services, installed: FakeSaleor, lengo: LengoState, config: Configuration, capsys: pytest.CaptureFixture[str]
) -> None:
    delivered = await paid(services, installed, lengo, config)
    await relay.run_once(services)
    unknown = await paid(services, installed, lengo, config, open_in_saleor=False)
    await relay.run_once(services)
    good, dead = await outbox_rows(services)

    assert await cli("outbox", "list") == 0
    everything = capsys.readouterr().out
    assert await cli("outbox", "list", "--dead") == 0
    only_dead = capsys.readouterr().out

    assert delivered.transaction_id in everything and unknown.transaction_id in everything
    assert "delivered" in everything and "NOT_FOUND" in everything
    assert unknown.transaction_id in only_dead and "NOT_FOUND" in only_dead
    assert delivered.transaction_id not in only_dead
    assert f"{dead.id:>6}  dead" in only_dead


async def test_outbox_list_on_an_empty_outbox_says_so(services: Services, capsys: pytest.CaptureFixture[str]) -> None:
    assert await cli("outbox", "list", "--dead") == 0
    assert "no dead letters" in capsys.readouterr().out


async def test_outbox_retry_id_queues_a_dead_row_again_and_the_relay_delivers_it(
    services: Services, installed: FakeSaleor, lengo: LengoState, config: Configuration, capsys: pytest.CaptureFixture[str]
) -> None:
    made = await paid(services, installed, lengo, config, open_in_saleor=False)
    await relay.run_once(services)
    [row] = await outbox_rows(services)
    assert row.state == "dead"
    installed.open_transaction(made.transaction_id)  # the cause, fixed

    assert await cli("outbox", "retry", str(row.id)) == 0
    assert f"outbox row {row.id} queued again" in capsys.readouterr().out
    assert [r.state for r in await outbox_rows(services)] == ["pending"]
    assert await relay.run_once(services) == 1
    assert len(installed.events(made.transaction_id, "CHARGE_SUCCESS")) == 1


async def test_outbox_retry_all_dead_queues_every_dead_row(
    services: Services,
    client: httpx.AsyncClient,
    installed: FakeSaleor,
    lengo: LengoState,
    config: Configuration,
    capsys: pytest.CaptureFixture[str],
) -> None:
    made = [await paid(services, installed, lengo, config) for _ in range(2)]
    installed.installed = False  # uninstalled: the rows become dead letters
    await relay.run_once(services)
    installed.reinstall()
    assert (await register(client, installed)).status_code == 200

    assert await cli("outbox", "retry", "--all-dead") == 0
    assert "2 dead row(s) queued again" in capsys.readouterr().out
    assert await relay.run_once(services) == 2
    assert all(len(installed.events(m.transaction_id, "CHARGE_SUCCESS")) == 1 for m in made)


async def test_outbox_retry_of_a_delivered_or_missing_row_fails_with_a_message(
    services: Services, installed: FakeSaleor, lengo: LengoState, config: Configuration, capsys: pytest.CaptureFixture[str]
) -> None:
    await paid(services, installed, lengo, config)
    await relay.run_once(services)
    [row] = await outbox_rows(services)

    assert await cli("outbox", "retry", str(row.id)) == 1
    assert "delivered already" in capsys.readouterr().err
    assert await cli("outbox", "retry", "999999") == 1
    assert "no outbox row 999999" in capsys.readouterr().err


def test_outbox_retry_needs_an_id_or_all_dead(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["outbox", "retry"])
    assert exit_info.value.code == 2


async def test_relay_once_drains_an_empty_outbox_and_exits(
    services: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await cli("relay", "--once") == 0
    assert "delivered 0 event(s); 0 pending (backing off), 0 dead" in capsys.readouterr().out


async def test_outbox_list_shows_each_saleors_circuit_and_oldest_pending_event(
    services: Services, installed: FakeSaleor, lengo: LengoState, config: Configuration, capsys: pytest.CaptureFixture[str]
) -> None:
    await paid(services, installed, lengo, config)
    async with services.db.write() as conn:  # waiting for ten minutes
        await conn.execute(update(outbox).values(created_at=services.clock() - 600))
    installed.down = -1
    while not services.circuits.open_ids():  # the relay of this (live) process finds Saleor unreachable
        await relay.run_once(services)
        async with services.db.write() as conn:
            await conn.execute(update(outbox).values(next_attempt_at=services.clock()))

    assert await cli("outbox", "list") == 0
    out = capsys.readouterr().out

    [line] = [line for line in out.splitlines() if line.startswith("saleor ")]
    assert installed.api_url in line and "circuit OPEN" in line and "pending 1" in line
    assert "oldest pending 10m0" in line or "oldest pending 10m1" in line
