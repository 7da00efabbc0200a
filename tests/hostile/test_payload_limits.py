"""Fields that key stored rows are refused when they are not short strings (found by the fuzzer on PostgreSQL)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import send_webhook
from tests.fakes.payloads import action_request, new_transaction_id, session
from tests.fakes.saleor import FakeSaleor


@pytest.mark.parametrize(
    "issued_at",
    [{"m": [None, 1]}, "2026-11-28T03:50:07." + "9" * 80, ["x"]],
    ids=["object", "too-long", "list"],
)
async def test_an_action_request_whose_issued_at_is_not_a_short_string_is_a_400(
    client: httpx.AsyncClient, installed: FakeSaleor, issued_at: Any
) -> None:
    body = action_request("TRANSACTION_CHARGE_REQUESTED", installed.app_id, new_transaction_id(), psp="x")
    body["issuedAt"] = issued_at
    response = await send_webhook(client, installed, "TRANSACTION_CHARGE_REQUESTED", body)
    assert response.status_code == 400
    assert "issuedAt" in response.json()["error"]["message"]


async def test_a_transaction_id_longer_than_any_saleor_id_is_a_400(client: httpx.AsyncClient, installed: FakeSaleor) -> None:
    body = session("TRANSACTION_PROCESS_SESSION", installed.app_id, "T" * 300)
    response = await send_webhook(client, installed, "TRANSACTION_PROCESS_SESSION", body)
    assert response.status_code == 400
    assert "transaction.id" in response.json()["error"]["message"]
