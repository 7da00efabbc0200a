"""Batched GraphQL requests to Saleor: one HTTP request, one result per operation.

Saleor's GraphQL view takes a JSON list of operations and answers a list in
the same order, each operation validated and executed on its own; the HTTP
status is the worst of the operations' (400 as soon as one is invalid, the
others' data still there) — when its operator allowed batches: a list of
more than `GRAPHQL_BATCH_MAX_COUNT` operations (default 1) is refused whole,
before any runs. The fake Saleor does the same, and the client turns each
entry into its own data or error, or a refusal into `SaleorBatchRefused`.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from saleor_lengo.saleor.client import SaleorBatchRefused, SaleorClient, SaleorError, SaleorPermissionDenied
from saleor_lengo.saleor.documents import load
from tests.fakes.saleor import FakeSaleor
from tests.reference import needs_reference

REPORT = "mutations/transaction-event-report.graphql"
API_URL = "https://saleor.example/graphql/"


def report_variables(tx: str, amount: str = "1500") -> dict[str, Any]:
    return {"id": tx, "type": "CHARGE_SUCCESS", "amount": amount, "pspReference": "psp-" + tx,
            "time": "2026-11-28T10:00:00+00:00", "message": "paid"}


def client_answering(status: int, body: Any) -> tuple[SaleorClient, list[Any]]:
    """A client whose Saleor answers `body` with `status`, and the bodies it was sent."""
    sent: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(status, content=json.dumps(body).encode(), headers={"Content-Type": "application/json"})

    return SaleorClient(httpx.AsyncClient(transport=httpx.MockTransport(handler))), sent


@needs_reference  # the invalid operation is told apart by Saleor's schema
async def test_the_fake_saleor_answers_a_list_with_a_list_each_operation_on_its_own() -> None:
    fake = FakeSaleor(batch_max_count=3)
    fake.open_transaction("tx-1")
    fake.open_transaction("tx-2")
    report = load(REPORT)
    body = [
        {"query": report, "variables": report_variables("tx-1")},
        {"query": "mutation { noSuchMutation { id } }", "variables": {}},
        {"query": report, "variables": report_variables("tx-2")},
    ]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.asgi()), base_url="http://saleor.test") as http:
        response = await http.post("/graphql/", json=body, headers={"Authorization": f"Bearer {fake.app_token}"})

    assert response.status_code == 400  # the worst of the three
    first, invalid, third = response.json()
    assert first["data"]["transactionEventReport"]["errors"] == []
    assert "data" not in invalid and "noSuchMutation" in invalid["errors"][0]["message"]
    assert third["data"]["transactionEventReport"]["errors"] == []
    assert [e.type for e in fake.events("tx-1")] == ["CHARGE_SUCCESS"]  # executed despite the invalid one
    assert [e.type for e in fake.events("tx-2")] == ["CHARGE_SUCCESS"]
    assert fake.graphql_requests == [3]
    assert len(fake.graphql_calls) == 3


@pytest.mark.parametrize(("allowed", "sent"), [(1, 2), (3, 4)])
async def test_the_fake_saleor_refuses_a_list_longer_than_its_batch_max_count_as_saleor_does(
    allowed: int, sent: int
) -> None:
    fake = FakeSaleor(batch_max_count=allowed)
    fake.open_transaction("tx-1")
    body = [{"query": load(REPORT), "variables": report_variables("tx-1", str(1000 + i))} for i in range(sent)]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.asgi()), base_url="http://saleor.test") as http:
        response = await http.post("/graphql/", json=body, headers={"Authorization": f"Bearer {fake.app_token}"})

    # saleor/graphql/views.py, GRAPHQL_BATCH_MAX_COUNT: the whole request, before any operation runs.
    assert (response.status_code, response.json()) == (400, {"errors": [{
        "message": "Number of batch queries exceeded.", "extensions": {"exception": {"code": "GraphQLError"}}}]})
    assert fake.events("tx-1") == [] and fake.graphql_calls == [] and fake.graphql_requests == [0]


async def test_the_client_reads_saleors_refusal_of_a_batch_as_a_refused_batch_and_says_why() -> None:
    fake = FakeSaleor()
    fake.open_transaction("tx-1")
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.asgi()))
    try:
        with pytest.raises(SaleorBatchRefused, match="Number of batch queries exceeded"):
            await SaleorClient(http).graphql_batch(
                fake.api_url, fake.app_token, REPORT, [report_variables("tx-1"), report_variables("tx-1", "2")]
            )
    finally:
        await http.aclose()
    assert fake.events("tx-1") == []


async def test_the_fake_saleor_refuses_an_unreadable_body_as_saleor_does() -> None:
    fake = FakeSaleor()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.asgi()), base_url="http://saleor.test") as http:
        response = await http.post("/graphql/", content=b"[{", headers={"Content-Type": "application/json"})
    assert (response.status_code, response.json()) == (400, {"errors": [{"message": "Unable to parse query."}]})


async def test_a_batch_is_one_request_with_one_operation_per_set_of_variables_and_its_results_in_order() -> None:
    answers: list[dict[str, Any]] = [
        {"data": {"transactionEventReport": {"alreadyProcessed": False, "transactionEvent": {"id": "E1"}, "errors": []}}},
        {"errors": [{"message": "Variable '$amount' got invalid value"}]},  # invalid: no data
        {"data": {"transactionEventReport": None}, "errors": [{"message": "Internal Server Error"}]},
        {"data": {"transactionEventReport": None},
         "errors": [{"message": "To access this path, you need one of the following permissions: HANDLE_PAYMENTS",
                     "extensions": {"exception": {"code": "PermissionDenied"}}}]},
    ]
    client, sent = client_answering(400, answers)
    variables = [report_variables(f"tx-{i}") for i in range(4)]

    first, invalid, failed, denied = await client.graphql_batch(API_URL, "token", REPORT, variables)

    [body] = sent
    assert body == [{"query": load(REPORT), "variables": v} for v in variables]
    assert first == answers[0]["data"]
    assert isinstance(invalid, SaleorError) and not invalid.transient and "invalid value" in str(invalid)
    assert isinstance(failed, SaleorError) and failed.transient
    assert isinstance(denied, SaleorPermissionDenied)


@pytest.mark.parametrize("answer", [
    {"errors": [{"message": "Must provide a query string."}]},  # a server without batching
    [{"data": {}}],  # fewer results than operations
    [{"data": {}}, "not an object"],
])
async def test_an_answer_that_is_not_one_result_per_operation_is_a_refused_batch(answer: Any) -> None:
    client, _ = client_answering(400, answer)
    with pytest.raises(SaleorBatchRefused):
        await client.graphql_batch(API_URL, "token", REPORT, [report_variables("a"), report_variables("b")])


@pytest.mark.parametrize(("status", "error", "transient"), [
    (503, SaleorError, True), (429, SaleorError, True), (401, SaleorPermissionDenied, False),
])
async def test_what_concerns_the_whole_batched_request_raises(status: int, error: type[SaleorError], transient: bool) -> None:
    client, _ = client_answering(status, {"detail": "no"})
    with pytest.raises(error) as raised:
        await client.graphql_batch(API_URL, "token", REPORT, [report_variables("a"), report_variables("b")])
    assert type(raised.value) is error and raised.value.transient is transient
