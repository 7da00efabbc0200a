"""Log lines carry the request id; secrets, tokens and payers' phones never appear in clear.

These read the lines as the app renders them (JSON, through
`saleor_lengo.logs`), from the buffer of the session's redaction guard
(`tests/redaction_guard.py`), which also fails the run on any leak anywhere.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from saleor_lengo.configurations import Configuration
from saleor_lengo.logs import get_logger
from saleor_lengo.services import Services
from saleor_lengo.simulator.api import LengoState
from saleor_lengo.web.app import RequestContext
from tests import redaction_guard
from tests.conftest import LENGO_KEY, TEST_SECRET_KEY, configure_channel
from tests.fakes.dashboard import dashboard_headers
from tests.fakes.factories import make_payment
from tests.fakes.saleor import FakeSaleor

REQUEST_ID = re.compile(r"^[0-9a-f]{16}$")


def rendered_since(position: int) -> list[dict[str, Any]]:
    """The structlog lines written since `position`, parsed (stdlib lines are not JSON, and skipped)."""
    lines = []
    for line in redaction_guard.lines_since(position):
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            lines.append(value)
    return lines


async def test_each_requests_log_lines_carry_its_own_request_id(client: httpx.AsyncClient) -> None:
    start = redaction_guard.mark()
    for _ in range(2):
        response = await client.post("/api/lengo/callback/no-such-token", json={"pay_id": "x", "status": "SUCCESS"})
        assert response.status_code == 404
    lines = [line for line in rendered_since(start) if line.get("event") == "callback_unknown_token"]
    assert len(lines) == 2, lines
    ids = [line.get("request_id") for line in lines]
    assert all(isinstance(i, str) and REQUEST_ID.match(i) for i in ids), ids
    assert ids[0] != ids[1]
    # The route template, never the token in the path.
    assert {line.get("path") for line in lines} == {"/api/lengo/callback/{token}"}


async def test_a_callback_logs_neither_its_token_nor_the_payers_phone(
    client: httpx.AsyncClient, services: Services, installed: FakeSaleor, lengo: LengoState
) -> None:
    config: Configuration = await configure_channel(services, installed)
    payment = await make_payment(services, installed, lengo, config)
    lengo.pay(payment.pay_id)
    start = redaction_guard.mark()
    for body in (
        {"pay_id": payment.pay_id, "status": "SUCCESS", "amount": 150000, "Client": "624897845"},
        {"pay_id": "another", "status": "SUCCESS", "Client": "624897845"},  # mismatch: logged as suspicious
        {"status": "SUCCESS", "Client": "624897845"},  # malformed
    ):
        await client.post(f"/api/lengo/callback/{payment.token}", json=body)
    await services.background.drain()
    written = "\n".join(redaction_guard.lines_since(start))
    assert "callback_recorded" in written and "callback_suspicious" in written and "callback_malformed" in written
    assert payment.token not in written
    assert "624897845" not in written


async def test_secrets_are_masked_by_field_name_and_by_value(services: Services) -> None:
    log = get_logger("test_log_redaction")
    start = redaction_guard.mark()
    log.warning(
        "redaction_probe",
        license_key=LENGO_KEY,
        authorization="Basic " + LENGO_KEY,
        client="624897845",
        detail=f"the key {TEST_SECRET_KEY} in a sentence",
        nested={"token": "abc-def-ghi-jkl", "phone": "624897845", "ok": "visible"},
    )
    (line,) = [line for line in rendered_since(start) if line.get("event") == "redaction_probe"]
    text = json.dumps(line)
    assert LENGO_KEY not in text and TEST_SECRET_KEY not in text and "624897845" not in text
    assert "abc-def-ghi-jkl" not in text
    assert line["nested"]["ok"] == "visible"
    assert line["license_key"] == "[redacted]"


async def test_a_crash_is_logged_with_its_traceback_and_without_the_secrets_in_it(
    services: Services, installed: FakeSaleor
) -> None:
    # The key is one the app holds (a stored configuration), as in production; in a shuffled run
    # nothing else may have stored it before this test.
    await configure_channel(services, installed)

    async def crashing(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        raise RuntimeError(f"could not use {request.headers['x-key']} with {TEST_SECRET_KEY}")

    app = RequestContext(crashing, services.callback_queue.pressure)
    start = redaction_guard.mark()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app.test") as http:
        response = await http.post("/anything", headers={"x-key": LENGO_KEY})
    assert response.status_code == 500
    assert "Traceback" not in response.text and LENGO_KEY not in response.text
    (line,) = [line for line in rendered_since(start) if line.get("event") == "unhandled_error"]
    assert REQUEST_ID.match(line["request_id"])
    assert "Traceback" in line["exception"] and "RuntimeError" in line["exception"]
    assert LENGO_KEY not in line["exception"] and TEST_SECRET_KEY not in line["exception"]


async def test_the_app_api_logs_no_dashboard_token(client: httpx.AsyncClient, installed: FakeSaleor) -> None:
    headers = dashboard_headers(installed)
    start = redaction_guard.mark()
    await client.post("/graphql", json={"query": "{ viewer { email } }"}, headers=headers)
    await client.post("/graphql", json={"query": "{ nope }"}, headers=headers)
    broken = {**headers, "authorization-bearer": headers["authorization-bearer"][:-4] + "AAAA"}
    await client.post("/graphql", json={"query": "{ viewer { email } }"}, headers=broken)
    written = "\n".join(redaction_guard.lines_since(start))
    assert headers["authorization-bearer"] not in written
    assert headers["authorization-bearer"].rsplit(".", 1)[-1][:-4] not in written


def test_the_guard_finds_a_secret_in_a_line_and_reports_it_masked() -> None:
    redaction_guard.remember("guard-self-test-secret-value")
    found = redaction_guard._lines_with_secrets(["fine", "oops guard-self-test-secret-value leaked"])
    assert len(found) == 1
    assert "guard-self-test-secret-value" not in found[0]
    assert found[0].startswith("gua…ue")


def test_the_guard_finds_any_callback_url_with_its_token_even_one_it_never_saw() -> None:
    found = redaction_guard._lines_with_secrets(
        [
            '{"path": "/api/lengo/callback/{token}", "event": "callback_recorded"}',
            "INFO httpx HTTP Request: POST http://127.0.0.1:1/api/lengo/callback/Zm9vYmFyYmF6cXV4cXV1eA \"HTTP/1.1 200\"",
        ]
    )
    assert len(found) == 1 and "Zm9vYmFyYmF6cXV4cXV1eA" not in found[0]
