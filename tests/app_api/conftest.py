"""The app API client, signed in for the installed Saleor."""

from __future__ import annotations

import httpx
import pytest

from tests.fakes.saleor import FakeSaleor
from tests.helpers.app_api import Api


@pytest.fixture
def api(client: httpx.AsyncClient, installed: FakeSaleor) -> Api:
    return Api(client, installed)
