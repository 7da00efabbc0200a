"""A burst of Lengo calls cut short by their budget must not leave the app unable to reach Lengo.

Over real sockets (the in-process transports of the other tests have no
connection pool): httpx's pool keeps its connection slots taken for good
when a request is cancelled inside it, so a burst of timeouts used to leave
every later call waiting for a slot and timing out, until a restart.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
import uvicorn

from saleor_lengo.lengo import vocabulary
from saleor_lengo.lengo.client import LengoClient, LengoCredentials
from saleor_lengo.lengo.errors import LengoUnavailable
from saleor_lengo.simulator.api import LengoState, SimPayment, create_app
from tests.conftest import LENGO_KEY, WEBSITE_ID

PAY_ID = "UG9vbFRlc3RQYXlJZDAwMQ=="


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def lengo_over_tcp() -> AsyncIterator[tuple[LengoState, str]]:
    state = LengoState(license_key=LENGO_KEY)
    state.payments[PAY_ID] = SimPayment(
        pay_id=PAY_ID, website_id=WEBSITE_ID, amount=Decimal("150000"), currency="GNF", return_url=None,
        callback_url=None, status=vocabulary.SUCCESS, gateway="Orange Money", account="624897845",
        created_at=datetime.now(UTC),
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(state), host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off", access_log=False))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield state, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def test_after_a_burst_of_timed_out_status_calls_the_next_call_gets_through(
    lengo_over_tcp: tuple[LengoState, str],
) -> None:
    state, url = lengo_over_tcp
    # As the app's client (outbound.make_http_client) but with a pool of 10, not 100:
    # the benchmark's burst of ~600 confirmations saturated the app's; 300 calls saturate this one.
    http = httpx.AsyncClient(
        timeout=httpx.Timeout(10.0, connect=3.0),
        follow_redirects=False,
        limits=httpx.Limits(max_connections=10, max_keepalive_connections=5),
    )
    client = LengoClient(http, LengoCredentials(base_url=url, website_id=WEBSITE_ID, license_key=LENGO_KEY))
    try:
        state.slow = 0.2  # every answer comes after the callers' budget
        burst = await asyncio.gather(
            *(client.payment_status(PAY_ID, budget=0.05) for _ in range(300)), return_exceptions=True
        )
        assert all(isinstance(r, LengoUnavailable) for r in burst), {type(r).__name__ for r in burst}

        state.slow = 0.0
        statuses = await asyncio.gather(*(client.payment_status(PAY_ID, budget=3.0) for _ in range(30)))

        assert {s.status for s in statuses} == {vocabulary.SUCCESS}
    finally:
        await http.aclose()
