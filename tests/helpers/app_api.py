"""The app API as the Dashboard calls it: a client that signs in with a Dashboard token, the documents and inputs the tests send."""

from __future__ import annotations

from typing import Any

import httpx

from saleor_lengo.saleor import installations
from saleor_lengo.db.schema import outbox
from saleor_lengo.saleor.installations import Installation
from saleor_lengo.services import Services
from tests.conftest import LENGO_KEY, LENGO_URL, WEBSITE_ID
from tests.fakes.dashboard import dashboard_headers
from tests.fakes.saleor import FakeSaleor


CONFIG_FIELDS = "id name websiteId licenseKey environment lengoUrl currencies minAmount maxAmount returnUrlPatterns defaultReturnUrl channels"


PAYMENT_FIELDS = (
    "id payId state lengoStatus amount currency confirmedAmount refundedAmount refundableAmount gateway "
    "environment isTestMoney channelId channelSlug sourceType sourceId saleorTransactionId paymentUrl "
    "failureReason configurationId configurationName createdAt updatedAt expiresAt lastStatusAt"
)


CREATE = f"""
mutation Create($input: ConfigurationInput!, $skip: Boolean! = false) {{
  createConfiguration(input: $input, skipCheck: $skip) {{ {CONFIG_FIELDS} }}
}}"""


class Api:
    """The page's calls, and every answer kept so tests can check none leaks the key."""

    def __init__(self, client: httpx.AsyncClient, saleor: FakeSaleor) -> None:
        self.client = client
        self.saleor = saleor
        self.answers: list[str] = []

    async def raw(self, query: str, variables: dict[str, Any] | None = None, **token: Any) -> httpx.Response:
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=dashboard_headers(self.saleor, **token)
        )
        self.answers.append(response.text)
        return response

    async def ok(self, query: str, variables: dict[str, Any] | None = None, **token: Any) -> dict[str, Any]:
        response = await self.raw(query, variables, **token)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body
        return body["data"]  # type: ignore[no-any-return]

    async def fails(self, query: str, variables: dict[str, Any] | None = None, **token: Any) -> dict[str, Any]:
        response = await self.raw(query, variables, **token)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body.get("errors"), body
        return body["errors"][0]  # type: ignore[no-any-return]


def config_input(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Boutique",
        "websiteId": WEBSITE_ID,
        "licenseKey": LENGO_KEY,
        "environment": "sandbox",
        "lengoUrl": LENGO_URL,
        "currencies": ["GNF"],
        "returnUrlPatterns": [r"https://shop\.example/.*"],
    }
    data.update(overrides)
    return data


async def installation(services: Services, saleor: FakeSaleor) -> Installation:
    inst = await installations.find(services.db, saleor.api_url)
    assert inst is not None
    return inst


async def add_event(services: Services, inst_id: int, pid: str, state: str, created: float, **values: Any) -> int:
    async with services.db.write() as conn:
        result = await conn.execute(
            outbox.insert().values(
                payment_id=pid, installation_id=inst_id, saleor_transaction_id="tx", event_type="CHARGE_SUCCESS",
                psp_reference="psp", amount="176500", currency="GNF", message="Paid", available_actions="[]",
                event_time=created, state=state, attempts=values.pop("attempts", 8), next_attempt_at=created,
                created_at=created, **values,
            )
        )
    return int(result.inserted_primary_key[0])  # type: ignore[index]
