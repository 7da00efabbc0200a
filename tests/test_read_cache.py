"""The process's copies of installations and channel configurations: used, and never trusted past their freshness."""

from __future__ import annotations

import json

import httpx
from sqlalchemy import update

from saleor_lengo import configurations
from saleor_lengo.saleor import installations
from saleor_lengo.configurations import ConfigurationInput
from saleor_lengo.db.engine import now
from saleor_lengo.db.schema import configurations as configurations_table
from saleor_lengo.db.schema import installations as installations_table
from saleor_lengo.read_cache import TTL_SECONDS, ReadCache
from saleor_lengo.services import Services
from tests.conftest import configure_channel
from tests.fakes.payloads import gateway_initialize
from tests.fakes.saleor import FakeSaleor
from tests.faults.outage import DatabaseOutage
from tests.helpers.sessions import gateway_data


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def with_clock(services: Services) -> Clock:
    clock = Clock()
    services.cache = ReadCache(services.db, clock=clock)
    return clock


async def currencies(client: httpx.AsyncClient, saleor: FakeSaleor) -> list[str]:
    answer = await gateway_data(client, saleor, gateway_initialize(saleor.app_id))
    return list(answer["data"]["currencies"])


async def test_a_repeated_webhook_is_served_from_the_copies_without_a_statement(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor
) -> None:
    with_clock(services)
    await configure_channel(services, installed)
    outage = DatabaseOutage(services.db)
    try:
        with outage.counting():
            assert await currencies(client, installed) == ["GNF"]
        first = outage.statements
        with outage.counting():
            assert await currencies(client, installed) == ["GNF"]
        again = outage.statements
    finally:
        outage.close()

    assert first >= 2  # the installation, then the channel's configuration
    assert again == 0


async def test_a_change_made_by_this_process_is_seen_by_the_next_webhook(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor
) -> None:
    with_clock(services)  # frozen: only the invalidation can make the change visible
    config = await configure_channel(services, installed)
    assert await currencies(client, installed) == ["GNF"]

    async with services.db.write() as conn:
        data = ConfigurationInput(
            name=config.name,
            website_id=config.website_id,
            license_key=None,
            environment=config.environment,
            lengo_url=config.lengo_url,
            currencies=("GNF", "XOF"),
            return_url_patterns=config.return_url_patterns,
        )
        await configurations.save(conn, services.cipher, config.installation_id, data, config_id=config.id)

    assert await currencies(client, installed) == ["GNF", "XOF"]

    async with services.db.write() as conn:
        assert await configurations.unmap_channel(conn, config.installation_id, "channel-gnf")

    answer = await gateway_data(client, installed, gateway_initialize(installed.app_id))
    assert answer["data"]["available"] is False
    assert answer["data"]["error"]["code"] == "NOT_CONFIGURED"


async def test_a_change_made_by_another_process_is_seen_once_the_copy_is_a_ttl_old(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor
) -> None:
    clock = with_clock(services)
    config = await configure_channel(services, installed)
    assert await currencies(client, installed) == ["GNF"]

    # Another process's write: committed to the database, unknown to this process.
    async with services.db.write() as conn:
        await conn.execute(
            update(configurations_table)
            .where(configurations_table.c.id == config.id)
            .values(currencies=json.dumps(["GNF", "XOF"]))
        )

    clock.t += TTL_SECONDS / 2
    assert await currencies(client, installed) == ["GNF"]
    clock.t += TTL_SECONDS
    assert await currencies(client, installed) == ["GNF", "XOF"]


async def test_a_reinstall_by_another_process_is_accepted_at_once(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor
) -> None:
    with_clock(services)  # frozen: the copy stays "fresh" throughout
    await configure_channel(services, installed)
    assert await currencies(client, installed) == ["GNF"]

    # Another worker registered the app again: Saleor gave it a new id.
    async with services.db.write() as conn:
        await conn.execute(
            update(installations_table)
            .where(installations_table.c.saleor_api_url == installed.api_url)
            .values(app_id="QXBwOjI=", updated_at=now())
        )
    installed.app_id = "QXBwOjI="

    assert await currencies(client, installed) == ["GNF"]
    # And the copy was replaced, not merely bypassed once.
    inst = await services.cache.installation(installed.api_url)
    assert inst is not None and inst.app_id == "QXBwOjI="


async def test_a_webhook_for_another_app_is_still_refused_after_a_fresh_read(
    services: Services, client: httpx.AsyncClient, installed: FakeSaleor
) -> None:
    await configure_channel(services, installed)
    body = gateway_initialize("QXBwOjk5")  # not the installed app's id, in the copy or in the database
    raw, headers = installed.webhook("PAYMENT_GATEWAY_INITIALIZE_SESSION", body)

    response = await client.post("/api/webhooks/saleor/payment-gateway-initialize-session", content=raw, headers=headers)

    assert response.status_code == 403
    assert response.json()["error"]["message"] == "This webhook is addressed to another app."


async def test_an_unknown_saleor_is_not_remembered_as_unknown(services: Services, installed: FakeSaleor) -> None:
    with_clock(services)  # frozen: a remembered "unknown" would last
    url = "http://other-saleor.test/graphql/"
    assert await services.cache.installation(url) is None

    # Installed meanwhile by another worker.
    async with services.db.write() as conn:
        await conn.execute(
            installations_table.insert().values(
                saleor_api_url=url,
                app_id="QXBwOjc=",
                token_enc=services.cipher.encrypt("another-token"),
                jwks=json.dumps(installed.jwks()),
                jwks_fetched_at=now(),
                created_at=now(),
                updated_at=now(),
            )
        )

    inst = await services.cache.installation(url)
    assert inst is not None and inst.app_id == "QXBwOjc="
    assert await installations.find(services.db, url) == inst
