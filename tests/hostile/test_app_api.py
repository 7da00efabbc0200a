"""The app's own GraphQL API (`POST /graphql`) under random queries, variables and tokens.

Without a valid Dashboard token: a 4xx whatever the body, nothing changes.
With one: never a 5xx, never an INTERNAL error (the app's mark of a
resolver that raised), and nothing changes unless a mutation ran.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fakes.dashboard import dashboard_headers, dashboard_token
from tests.fakes.saleor import new_key
from tests.hostile.harness import HostileApp, Sent, assert_no_fault, assert_no_internal_error, fuzz
from tests.hostile.strategies import bodies, dumps, header_values, json_objects, json_values

# End-to-end property runs: hundreds of generated requests through the whole app and its database.
pytestmark = pytest.mark.slow

# Pieces of GraphQL, mostly of this schema: joined at random they are
# sometimes valid documents, more often almost valid ones.
GRAPHQL_WORDS = (
    "{", "}", "(", ")", "[", "]", ":", "!", "$", "=", "...", "@include(if: true)", "@skip(if: $x)",
    "query", "mutation", "subscription", "fragment", "on", "Query", "Mutation", "Payment", "q", "$x", "$id: ID!",
    "viewer", "email", "canWrite", "configurations", "channels", "payments", "payment", "deadLetters", "health",
    "items", "totalCount", "endCursor", "timeline", "id", "state", "amount", "name", "licenseKey", "first",
    "after", "filter", "__typename", "__schema", "types", "__type(name: \"Payment\")", "fields",
    "createConfiguration", "updateConfiguration", "deleteConfiguration", "mapChannel", "unmapChannel",
    "retryOutboxEvent", "recheckPayment", "recordManualRefund", "input", "skipCheck", "channel", "paymentId",
    "configurationId", "note", "true", "false", "null", "0", "-1", "2147483648", "1e999", "\"x\"", "\"\"",
    "\"1\"", "\"channel-gnf\"", "\"\\u0000\"", "\"\"\"block\"\"\"", "a:", "b:", "#", ",",
)
graphql_soup = st.lists(st.sampled_from(GRAPHQL_WORDS), max_size=40).map(" ".join)
queries = st.one_of(
    graphql_soup,
    st.text(max_size=200),
    st.sampled_from(
        [
            "{ viewer { email } }",
            "{ payments(first: -1) { totalCount } }",
            "{ payments(first: 100000000) { totalCount } }",
            '{ payments(after: "!!!") { totalCount } }',
            '{ payment(id: "") { id } }',
            '{ payment(id: "\\u0000") { id } }',
            "{ deadLetters(first: -5) { id } }",
            '{ __type(name: "Payment") { fields { name } } }',
            'mutation { deleteConfiguration(id: "abc") }',
            'mutation { retryOutboxEvent(id: "99999999999999999999999") { id } }',
            'mutation { recordManualRefund(paymentId: "nope", amount: "1e999") { id } }',
            'mutation { recordManualRefund(paymentId: "nope", amount: "NaN") { id } }',
            'mutation { unmapChannel(channel: "") { id } }',
            'mutation { mapChannel(channel: "x", configurationId: "-1") { id } }',
            "query A { viewer { email } } query A { viewer { email } }",
            "query A { viewer { email } } mutation B { unmapChannel(channel: \"x\") { id } }",
        ]
    ),
)
graphql_bodies = st.fixed_dictionaries(
    {"query": queries},
    optional={
        "variables": st.one_of(json_objects, json_values),
        "operationName": st.one_of(st.sampled_from(["A", "B", "q", ""]), json_values),
    },
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hs256(claims: dict[str, Any], secret: bytes, header: dict[str, Any]) -> str:
    signing_input = _b64(json.dumps({"alg": "HS256", "typ": "JWT", **header}).encode()) + "." + _b64(json.dumps(claims).encode())
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + _b64(signature)


def forged_tokens(app: HostileApp) -> st.SearchStrategy[str | bytes]:
    """Tokens that must all be refused: garbage, or almost right in one way."""
    fake = app.fake
    stranger = new_key(fake.current_key.kid)  # Saleor's kid, someone else's key
    now = time.time()
    unsigned = ".".join(
        (_b64(b'{"alg":"none","typ":"JWT"}'), _b64(json.dumps({"app": fake.app_id, "type": "thirdparty",
         "exp": now + 300, "user_permissions": ["HANDLE_PAYMENTS", "MANAGE_APPS"]}).encode()), "")
    )
    public_pem = fake.current_key.private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    almost = [
        dashboard_token(fake, key=stranger),
        dashboard_token(fake, now=now - 3600),
        dashboard_token(fake, app="QXBwOjk5"),
        dashboard_token(fake, type="access"),
        dashboard_token(fake, permissions=()),
        dashboard_token(fake, user_permissions="HANDLE_PAYMENTS"),
        dashboard_token(fake, exp=None),
        dashboard_token(fake, exp="tomorrow"),
        unsigned,
        # Algorithm confusion: HS256 keyed with Saleor's public key.
        _hs256({"app": fake.app_id, "type": "thirdparty", "exp": now + 300}, public_pem, {"kid": fake.current_key.kid}),
        _hs256({"app": fake.app_id}, b"k" * 32, {"kid": ["list"]}),
        "x" * 9000,
        "",
    ]
    return st.one_of(st.sampled_from(almost), header_values, st.text(max_size=60))


def test_without_a_valid_dashboard_token_every_request_is_refused_and_changes_nothing(database_url: str) -> None:
    with HostileApp(database_url) as app:
        before = app.snapshot()

        @fuzz(60)
        @given(
            token=st.none() | forged_tokens(app),
            api_url=st.none() | st.just(app.fake.api_url) | header_values,
            body=st.one_of(bodies, graphql_bodies.map(dumps)),
        )
        def check(token: str | bytes | None, api_url: str | bytes | None, body: bytes) -> None:
            headers: dict[str, str | bytes] = {}
            if token is not None:
                headers["authorization-bearer"] = token
            if api_url is not None:
                headers["saleor-api-url"] = api_url
            response = app.post("/graphql", body, headers)
            assert_no_fault(response, "graphql")
            assert response.status in (400, 401, 403, 413), response.text
            assert app.snapshot() == before

        check()


def ran_a_mutation(response: Sent, body: dict[str, Any]) -> bool:
    """Whether a mutation may have changed something: it ran, and at least one of its fields answered."""
    from saleor_lengo.app_api import schema

    operation = body.get("operationName")
    if not isinstance(body.get("query"), str) or not schema.is_mutation(body["query"], operation if isinstance(operation, str) else None):
        return False
    try:
        data = response.json().get("data")
    except (ValueError, AttributeError):
        return False
    return response.status == 200 and isinstance(data, dict) and any(v is not None for v in data.values())


def test_with_a_valid_token_random_queries_never_fail_and_only_mutations_change_anything(database_url: str) -> None:
    with HostileApp(database_url) as app:
        ran: list[str] = []

        @fuzz(70)
        @given(body=graphql_bodies, read_only=st.booleans())
        def check(body: dict[str, Any], read_only: bool) -> None:
            permissions = ("HANDLE_PAYMENTS",) if read_only else ("HANDLE_PAYMENTS", "MANAGE_APPS")
            before = app.snapshot()
            response = app.post("/graphql", dumps(body), dashboard_headers(app.fake, permissions=permissions))
            assert_no_fault(response, f"graphql {body.get('query', '')[:80]!r}")
            assert_no_internal_error(response)
            if ran_a_mutation(response, body):
                assert not read_only, "a read-only user ran a mutation"
                ran.append(body["query"])
            else:
                assert app.snapshot() == before

        check()


# --- the mutations' arguments, one by one: text of any kind where the schema says String ---------

texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "é", "\u2028", "\x00", "x" * 5000, "1e999", "NaN", "-0", "(", "a{99999}", "(a+)+$"]),
)
money_texts = st.one_of(texts, st.decimals(allow_nan=True).map(str), st.integers().map(str))
urls = st.one_of(texts, st.sampled_from(["https://lengo.test", "http://xn--/", "http://[::1", "https://shop.example/r"]))
configuration_inputs = st.fixed_dictionaries(
    {"name": texts, "websiteId": st.one_of(texts, st.just("site-123"))},
    optional={
        "licenseKey": st.one_of(texts, st.just("lengo-license-key-5f2c9a7e41")),
        "environment": st.one_of(st.sampled_from(["production", "sandbox", "simulator", "custom"]), texts),
        "lengoUrl": urls,
        "currencies": st.lists(st.one_of(st.sampled_from(["GNF", "USD", "XOF"]), texts), max_size=4),
        "minAmount": st.none() | money_texts,
        "maxAmount": st.none() | money_texts,
        "returnUrlPatterns": st.lists(texts, max_size=3),
        "defaultReturnUrl": st.none() | urls,
    },
)
MUTATIONS = {
    "create": "mutation($input: ConfigurationInput!, $skip: Boolean!) { createConfiguration(input: $input, skipCheck: $skip) { id } }",
    "update": "mutation($id: ID!, $input: ConfigurationChanges!, $skip: Boolean!) { updateConfiguration(id: $id, changes: $input, skipCheck: $skip) { id } }",
    "delete": "mutation($id: ID!) { deleteConfiguration(id: $id) }",
    "map": "mutation($channel: String!, $id: ID!) { mapChannel(channel: $channel, configurationId: $id) { id } }",
    "unmap": "mutation($channel: String!) { unmapChannel(channel: $channel) { id } }",
    "retry": "mutation($id: ID!) { retryOutboxEvent(id: $id) { id } }",
    "recheck": "mutation($id: ID!) { recheckPayment(id: $id) { id } }",
    "refund": "mutation($id: ID!, $amount: String!, $note: String) { recordManualRefund(paymentId: $id, amount: $amount, note: $note) { id } }",
    "payment": "query($id: ID!) { payment(id: $id) { id timeline { kind } } }",
    "payments": "query($first: Int!, $after: String, $filter: PaymentFilter) { payments(first: $first, after: $after, filter: $filter) { totalCount } }",
}


def test_with_a_valid_token_any_argument_values_are_refused_or_applied_never_a_failure(database_url: str) -> None:
    with HostileApp(database_url) as app:
        ids = st.one_of(
            st.just(str(app.config.id)), st.just(app.payment.id), texts, st.integers().map(str), st.just("2147483648")
        )
        variables = st.fixed_dictionaries(
            {},
            optional={
                "input": configuration_inputs,
                "skip": st.booleans(),
                "id": ids,
                "channel": st.one_of(st.just("channel-gnf"), texts),
                "amount": money_texts,
                "note": st.none() | texts,
                "first": st.integers(min_value=-(2**31), max_value=2**31 - 1),
                "after": st.none() | texts,
                "filter": st.none() | st.dictionaries(texts, json_values, max_size=3),
            },
        )

        @fuzz(80)
        @given(name=st.sampled_from(sorted(MUTATIONS)), values=variables)
        def check(name: str, values: dict[str, Any]) -> None:
            body = {"query": MUTATIONS[name], "variables": values}
            before = app.snapshot()
            response = app.post("/graphql", dumps(body), dashboard_headers(app.fake))
            assert_no_fault(response, f"{name} {values!r}"[:300])
            assert_no_internal_error(response, f"{name} {values!r}"[:500])
            if not ran_a_mutation(response, body):
                assert app.snapshot() == before

        check()
