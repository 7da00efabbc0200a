"""The six webhook routes under unsigned, badly signed and signed-but-strange bodies.

Unsigned or forged: a 4xx and nothing changes. Signed by Saleor but not a
JSON object, or addressed to another app: a 4xx and nothing changes.
Signed, for this app, of a random shape (a valid body with fields deleted
or replaced by JSON of any shape, or a random object): a 4xx with nothing
changed, or an answer that Saleor's JSON schema for the event accepts.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from saleor_lengo.saleor.events import SYNC_EVENTS, SyncEvent
from tests.conftest import RETURN_URL
from tests.fakes.payloads import action_request, gateway_initialize, new_transaction_id, session
from tests.fakes.saleor import new_key, saleor_json
from tests.reference import check_answer
from tests.hostile.harness import HostileApp, Sent, assert_no_fault, fuzz
from tests.hostile.strategies import bodies, extra_headers, header_values, json_objects, mutations, nasty_bytes

# End-to-end property runs: hundreds of generated requests through the whole app and its database.
pytestmark = pytest.mark.slow

SCHEMAS = {e.name: "".join(w.capitalize() for w in e.name.split("_")) for e in SYNC_EVENTS}


def valid_body(app: HostileApp, event: SyncEvent) -> dict[str, Any]:
    """What Saleor would send for the harness's open payment (a new checkout for an initialize)."""
    app_id, tx = app.fake.app_id, app.payment.transaction_id
    if event.name == "PAYMENT_GATEWAY_INITIALIZE_SESSION":
        return gateway_initialize(app_id)
    if event.name == "TRANSACTION_INITIALIZE_SESSION":
        return session(event.name, app_id, new_transaction_id(), data={"returnUrl": RETURN_URL})
    if event.name == "TRANSACTION_PROCESS_SESSION":
        return session(event.name, app_id, tx, psp=app.payment.pay_id)
    return action_request(event.name, app_id, tx, psp=app.payment.pay_id, amount=Decimal("150000"))


def signed_post(app: HostileApp, event: SyncEvent, raw: bytes) -> Sent:
    _, headers = app.fake.webhook(event.name, {})
    headers["Saleor-Signature"] = headers["X-Saleor-Signature"] = app.fake.sign(raw)
    return app.post(event.path, raw, headers)


@pytest.mark.parametrize("event", SYNC_EVENTS, ids=lambda e: e.kebab)
def test_a_webhook_without_a_valid_signature_changes_nothing(database_url: str, event: SyncEvent) -> None:
    with HostileApp(database_url) as app:
        before = app.snapshot()
        stranger = new_key()
        base = saleor_json(valid_body(app, event))

        @fuzz(30)
        @given(
            body=st.one_of(bodies, st.just(base)),
            signature=st.one_of(
                header_values,
                st.sampled_from(["stranger", "other-body", "garbage-kid", "empty"]),
            ),
            api_url=st.one_of(st.just(app.fake.api_url), header_values),
            headers=extra_headers,
        )
        def check(body: bytes, signature: str | bytes, api_url: str | bytes, headers: dict[str, Any]) -> None:
            if signature == "stranger":  # a well-formed JWS by a key Saleor never published
                signature = app.fake.sign(body, stranger)
            elif signature == "other-body":  # Saleor's own signature, of another body
                signature = app.fake.sign(body + b" ")
            elif signature == "garbage-kid":
                signature = "eyJhbGciOiJSUzI1NiIsImtpZCI6WzFdfQ..c2ln"  # kid is a list
            elif signature == "empty":
                signature = ""
            sent = {**headers, "saleor-signature": signature, "saleor-api-url": api_url}
            response = app.post(event.path, body, sent)
            assert_no_fault(response, event.name)
            assert 400 <= response.status < 500, response.text
            assert app.snapshot() == before

        check()


@pytest.mark.parametrize("event", SYNC_EVENTS, ids=lambda e: e.kebab)
def test_a_signed_body_that_is_not_a_json_object_for_this_app_changes_nothing(
    database_url: str, event: SyncEvent
) -> None:
    with HostileApp(database_url) as app:
        before = app.snapshot()
        elsewhere = {**valid_body(app, event), "recipient": {"id": "QXBwOjk5"}}

        @fuzz(20)
        @given(raw=st.one_of(st.binary(max_size=256), nasty_bytes, st.just(saleor_json(elsewhere))))
        def check(raw: bytes) -> None:
            response = signed_post(app, event, raw)
            assert_no_fault(response, event.name)
            assert 400 <= response.status < 500, response.text
            assert app.snapshot() == before

        check()


@pytest.mark.parametrize("event", SYNC_EVENTS, ids=lambda e: e.kebab)
def test_a_signed_body_of_any_shape_gets_a_4xx_or_a_well_formed_answer(database_url: str, event: SyncEvent) -> None:
    with HostileApp(database_url) as app:
        base = valid_body(app, event)
        recipient = {"recipient": {"id": app.fake.app_id}}
        answered: dict[int, int] = {}

        @fuzz(50)
        @given(
            body=st.one_of(
                mutations(base),
                mutations(base, max_edits=1),
                json_objects.map(lambda d: {**d, **recipient}),
            )
        )
        def check(body: dict[str, Any]) -> None:
            before = app.snapshot()
            response = signed_post(app, event, saleor_json(body))
            assert_no_fault(response, event.name)
            answered[response.status] = answered.get(response.status, 0) + 1
            if response.status == 200:
                check_answer(SCHEMAS[event.name], response.json())
            else:
                assert 400 <= response.status < 500, response.text
                assert app.snapshot() == before

        check()
        # The mutations must reach the handlers, not only the envelope checks.
        assert answered.get(200, 0) > 0, answered
