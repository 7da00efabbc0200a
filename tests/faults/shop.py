"""Saleor and the shopper, in process, for the fault tests.

`Shop` sends the signed webhooks Saleor sends, checks every answer against
Saleor's JSON schema for its event, and records it as Saleor does (a sync
answer becomes an event, deduplicated like reports), so `saleor.events(tx)`
is what Saleor keeps whichever way an event arrived.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from tests.conftest import RETURN_URL, send_webhook
from tests.fakes import payloads
from tests.fakes.saleor import FakeSaleor
from tests.reference import check_answer

AMOUNT = Decimal("176500.0")
SESSION_EVENTS = ("PAYMENT_GATEWAY_INITIALIZE_SESSION", "TRANSACTION_INITIALIZE_SESSION", "TRANSACTION_PROCESS_SESSION")
ACTION_EVENTS = ("TRANSACTION_CHARGE_REQUESTED", "TRANSACTION_REFUND_REQUESTED", "TRANSACTION_CANCELATION_REQUESTED")


def assert_valid(event: str, answer: Any) -> None:
    assert event in (*SESSION_EVENTS, *ACTION_EVENTS), event
    check_answer("".join(word.capitalize() for word in event.split("_")), answer, formats=True)


@dataclass
class Answered:
    status: int
    body: dict[str, Any]


@dataclass
class Shop:
    client: httpx.AsyncClient
    saleor: FakeSaleor

    async def send(self, event: str, body: dict[str, Any], *, tx: str | None = None) -> Answered:
        """One webhook; a 200 is schema-checked and, when it names a transaction, kept by Saleor."""
        response = await send_webhook(self.client, self.saleor, event, body)
        if response.status_code != 200:
            assert not response.headers.get("content-type", "").startswith("text/html"), response.text
            return Answered(response.status_code, response.json() if response.content else {})
        answer: dict[str, Any] = response.json()
        assert_valid(event, answer)
        if tx is not None:
            recorded = dict(answer)
            recorded.setdefault("amount", str(body.get("action", {}).get("amount", "0")))
            self.saleor.record_sync_answer(tx, recorded)
        return Answered(200, answer)

    async def gateway_initialize(self) -> Answered:
        return await self.send("PAYMENT_GATEWAY_INITIALIZE_SESSION", payloads.gateway_initialize(self.saleor.app_id))

    async def initialize(self, tx: str | None = None, amount: Decimal = AMOUNT) -> tuple[str, Answered]:
        tx = tx or payloads.new_transaction_id()
        self.saleor.open_transaction(tx)
        body = payloads.session(
            "TRANSACTION_INITIALIZE_SESSION", self.saleor.app_id, tx, amount=amount,
            data={"returnUrl": RETURN_URL}, idempotency_key="faults-" + tx[-12:],
        )
        return tx, await self.send("TRANSACTION_INITIALIZE_SESSION", body, tx=tx)

    async def process(self, tx: str, psp: str = "", amount: Decimal = AMOUNT) -> Answered:
        body = payloads.session("TRANSACTION_PROCESS_SESSION", self.saleor.app_id, tx, amount=amount, psp=psp)
        return await self.send("TRANSACTION_PROCESS_SESSION", body, tx=tx)

    async def action(self, event: str, tx: str, psp: str, *, issued_at: str, amount: Decimal = Decimal("0.0")) -> Answered:
        body = payloads.action_request(event, self.saleor.app_id, tx, psp=psp, amount=amount, issued_at=issued_at)
        return await self.send(event, body, tx=tx)
