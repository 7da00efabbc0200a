from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from saleor_lengo.services import Services, build_services
from tests.faults.ledger import Clock
from tests.fakes.saleor import FakeSaleor
from tests.helpers.app_api import Api


@pytest.fixture
async def second_services(
    services: Services, clock: Clock, transports: dict[str, httpx.AsyncBaseTransport]
) -> AsyncIterator[Services]:
    """Another process on the same database and host, on the same clock."""
    http = httpx.AsyncClient(mounts=dict(transports), follow_redirects=False)
    other = build_services(services.settings, http=http, clock=clock)
    yield other
    await other.aclose()


@pytest.fixture
def api(client: httpx.AsyncClient, installed: FakeSaleor) -> Api:
    return Api(client, installed)
