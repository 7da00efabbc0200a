"""Handler tests see every request the app sends Lengo (`lengo_http`), and can make the next ones fail."""

from __future__ import annotations

import httpx
import pytest

from saleor_lengo.simulator.api import LengoState
from saleor_lengo.simulator.api import create_app as create_lengo_app
from tests.conftest import LENGO_URL
from tests.fakes.saleor import FakeSaleor
from tests.helpers.lengo import LengoRecorder


@pytest.fixture
def lengo_http(lengo: LengoState) -> LengoRecorder:
    return LengoRecorder(httpx.ASGITransport(app=create_lengo_app(lengo)))


@pytest.fixture
def transports(fake_saleor: FakeSaleor, lengo_http: LengoRecorder) -> dict[str, httpx.AsyncBaseTransport]:
    return {"http://saleor.test": httpx.ASGITransport(app=fake_saleor.asgi()), LENGO_URL: lengo_http}
