"""Lengo's callback route under any token and any body.

An unknown token: a 4xx, and not even the audit log grows. The payment's
own token with anything in the body: 200 or 400, the callback recorded once
(the audit trail), and nothing else changes, because the fake Lengo, asked
for the status, still says the payment is open: a callback is a hint only.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from saleor_lengo.db.schema import callbacks, payments
from saleor_lengo.payments.model import State
from tests.hostile.harness import GUARDED, STATUS_CHECK_COLUMNS, HostileApp, assert_no_fault, fuzz
from tests.hostile.strategies import bodies, dumps, extra_headers, mutations, tokens

# End-to-end property runs: hundreds of generated requests through the whole app and its database.
pytestmark = pytest.mark.slow

CONTENT_TYPES = st.sampled_from(
    [None, "application/json", "application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x", "\x7f"]
)


def callback_path(token: str, slash: bool = False) -> str:
    return "/api/lengo/callback/" + quote(token, safe="") + ("/" if slash else "")


def test_a_callback_with_an_unknown_token_changes_nothing_not_even_the_audit_log(database_url: str) -> None:
    with HostileApp(database_url) as app:
        before = app.snapshot((*GUARDED, callbacks))

        @fuzz(60)
        @given(token=tokens, slash=st.booleans(), body=bodies, content_type=CONTENT_TYPES, headers=extra_headers)
        def check(token: str, slash: bool, body: bytes, content_type: str | None, headers: dict[str, Any]) -> None:
            if content_type is not None:
                headers = {**headers, "content-type": content_type}
            response = app.post(callback_path(token, slash), body, headers)
            assert_no_fault(response, f"callback {token[:40]!r}")
            assert 400 <= response.status < 500, response.text
            assert app.snapshot((*GUARDED, callbacks)) == before

        check()


def callback_fields(app: HostileApp) -> st.SearchStrategy[dict[str, Any]]:
    """Lengo's five fields as it sends them, or with some missing or replaced by JSON of any shape."""
    right = {
        "pay_id": app.payment.pay_id,
        "status": "SUCCESS",
        "amount": int(app.payment.amount),
        "message": "Paiement effectué",
        "Client": "624897845",
    }
    return st.one_of(st.just(right), mutations(right, max_edits=1), mutations(right, max_edits=3))


def test_a_callback_with_the_payments_token_is_recorded_and_only_lengo_decides(database_url: str) -> None:
    with HostileApp(database_url) as app:
        path = callback_path(app.payment.token)
        ignore = {"payments": STATUS_CHECK_COLUMNS}
        before = app.snapshot(ignore=ignore)
        outcomes: dict[int, int] = {}

        @fuzz(80)
        @given(
            body=st.one_of(
                bodies,
                callback_fields(app).map(dumps),
                callback_fields(app).map(lambda d: urlencode({k: str(v) for k, v in d.items()}).encode()),
            ),
            slash=st.booleans(),
            content_type=CONTENT_TYPES,
        )
        def check(body: bytes, slash: bool, content_type: str | None) -> None:
            recorded = app.count(callbacks)
            headers = {"content-type": content_type} if content_type is not None else {}
            response = app.post(callback_path(app.payment.token, slash), body, headers)
            assert_no_fault(response, "callback")
            assert response.status in (200, 400, 413), response.text
            outcomes[response.status] = outcomes.get(response.status, 0) + 1
            assert app.count(callbacks) == recorded + (0 if response.status == 413 else 1)
            assert app.snapshot(ignore=ignore) == before

        check()
        assert outcomes.get(200, 0) > 0 and outcomes.get(400, 0) > 0, outcomes
        assert path  # the same payment throughout
        state = app.snapshot([payments])["payments"]
        assert all(repr(State.ACTION_REQUIRED.value) in row for row in state)
