"""The limits that keep one request cheap: body size, JSON depth, GraphQL depth, aliases, tokens and fragments.

Every POST route the app serves is found from the app itself, so a route
added later without a body cap fails here.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from starlette.routing import Route

from saleor_lengo import jsonutil
from saleor_lengo.db.schema import callbacks
from saleor_lengo.saleor.events import SYNC_EVENTS
from saleor_lengo.web.callback_routes import MAX_CALLBACK_BYTES
from saleor_lengo.web.dashboard_routes import MAX_QUERY_BYTES
from saleor_lengo.web.responses import MAX_BODY_BYTES
from tests.fakes.dashboard import dashboard_headers
from tests.hostile.harness import HostileApp, Sent, assert_no_fault

REGISTRATION_CAP = 16 * 1024


@pytest.fixture
def app(database_url: str) -> Iterator[HostileApp]:
    with HostileApp(database_url) as hostile:
        yield hostile


def post_routes(app: HostileApp) -> list[str]:
    """Every POST path of the app, with the harness payment's token where a path takes one."""
    paths = []
    for route in app.app.routes:
        if isinstance(route, Route) and "POST" in (route.methods or ()):
            paths.append(route.path.replace("{token}", app.payment.token))
    return paths


def everything_but_the_body(app: HostileApp) -> dict[str, str]:
    """Headers that get a request past every check that comes before reading the body."""
    return {**dashboard_headers(app.fake), "saleor-signature": "checked-after-the-body"}


def post_streamed(app: HostileApp, path: str, body: bytes, headers: dict[str, str]) -> Sent:
    """POST without Content-Length, in chunks: the cap must hold while reading, not only on the header."""

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    async def send() -> Sent:
        response = await app.client.post(path, content=chunks(), headers=headers)
        await app.services.background.drain()
        return Sent(response.status_code, response.headers, response.content)

    return app.loop.run(send())


def test_the_app_serves_the_post_routes_this_file_knows(app: HostileApp) -> None:
    known = {"/api/register", "/graphql", *(e.path for e in SYNC_EVENTS)}
    callback = f"/api/lengo/callback/{app.payment.token}"
    payout_callback = f"/api/lengo/callback/payout/{app.payment.token}"
    assert set(post_routes(app)) == known | {callback, callback + "/", payout_callback}


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
def test_every_post_route_refuses_a_body_beyond_its_cap_with_413_and_changes_nothing(
    app: HostileApp, streamed: bool
) -> None:
    before = app.snapshot((*app_tables(), callbacks))
    body = b"{" + b" " * (MAX_BODY_BYTES + 1) + b"}"
    headers = everything_but_the_body(app)
    for path in post_routes(app):
        response = post_streamed(app, path, body, headers) if streamed else app.post(path, body, headers)
        assert_no_fault(response, path)
        assert response.status == 413, f"{path}: HTTP {response.status} {response.text[:200]}"
    assert app.snapshot((*app_tables(), callbacks)) == before


def app_tables() -> tuple[Any, ...]:
    from tests.hostile.harness import GUARDED

    return GUARDED


@pytest.mark.parametrize(
    ("route", "cap"),
    [("register", REGISTRATION_CAP), ("webhook", MAX_BODY_BYTES), ("callback", MAX_CALLBACK_BYTES), ("graphql", MAX_QUERY_BYTES)],
)
def test_each_cap_is_exact_a_body_at_the_cap_is_read_one_byte_more_is_413(app: HostileApp, route: str, cap: int) -> None:
    path = {
        "register": "/api/register",
        "webhook": SYNC_EVENTS[0].path,
        "callback": f"/api/lengo/callback/{app.payment.token}",
        "graphql": "/graphql",
    }[route]
    headers = everything_but_the_body(app)
    at_cap = app.post(path, b" " * cap, headers)
    assert_no_fault(at_cap, route)
    assert at_cap.status != 413, at_cap.text
    assert app.post(path, b" " * (cap + 1), headers).status == 413


def deep(depth: int, kind: str) -> bytes:
    if kind == "list":
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


def test_the_json_reader_refuses_deep_nesting_without_a_recursion_error() -> None:
    for depth in (jsonutil.MAX_DEPTH + 2, 10_000, 200_000):
        for kind in ("list", "object"):
            with pytest.raises(jsonutil.JsonError):
                jsonutil.loads(deep(depth, kind))
    assert jsonutil.loads(deep(jsonutil.MAX_DEPTH - 1, "object"))


def test_the_json_reader_refuses_a_nul_in_every_encoding_json_allows() -> None:
    """The reader skips its walk when the text rules problems out: never for UTF-16/32, where bytes mislead."""
    for encoding in ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"):
        raw = json.dumps({"a": ["b", {"c": "x\u0000y"}]}).encode(encoding)
        with pytest.raises(jsonutil.JsonError, match="NUL"):
            jsonutil.loads(raw)
        with pytest.raises(jsonutil.JsonError, match="NUL"):
            jsonutil.loads(raw.decode(encoding))
        assert jsonutil.loads(json.dumps({"a": "{[" * 40}).encode(encoding)) == {"a": "{[" * 40}


def deep_within(cap: int, kind: str) -> bytes:
    """As deep as 10,000 levels, or as deep as fits under the route's body cap."""
    per_level = 2 if kind == "list" else 6
    return deep(min(10_000, (cap - 64) // per_level), kind)


@pytest.mark.parametrize("kind", ["list", "object"])
def test_every_json_route_answers_deep_nesting_with_400(app: HostileApp, kind: str) -> None:
    before = app.snapshot()
    register = app.post("/api/register", deep_within(REGISTRATION_CAP, kind), {"saleor-api-url": app.fake.api_url})
    assert register.status == 400, register.text
    for event in SYNC_EVENTS:
        body = deep_within(MAX_BODY_BYTES, kind)
        _, headers = app.fake.webhook(event.name, {})
        headers["Saleor-Signature"] = headers["X-Saleor-Signature"] = app.fake.sign(body)
        webhook = app.post(event.path, body, headers)
        assert webhook.status == 400, f"{event.name}: {webhook.text}"
    callback = app.post(f"/api/lengo/callback/{app.payment.token}", deep_within(MAX_CALLBACK_BYTES, kind))
    assert callback.status == 400, callback.text
    graphql = app.post("/graphql", deep_within(MAX_QUERY_BYTES, kind), dashboard_headers(app.fake))
    assert graphql.status == 400, graphql.text
    inside = b'{"query": "{ viewer { email } }", "variables": {"v": ' + deep_within(MAX_QUERY_BYTES - 100, kind) + b"}}"
    assert app.post("/graphql", inside, dashboard_headers(app.fake)).status == 400
    assert app.snapshot() == before


def graphql(app: HostileApp, query: str) -> Sent:
    return app.post("/graphql", json.dumps({"query": query}).encode(), dashboard_headers(app.fake))


def refused(response: Sent, words: str) -> None:
    assert_no_fault(response)
    assert response.status == 400, response.text
    messages = " ".join(e["message"] for e in response.json()["errors"])
    assert words in messages, messages


def laughs(fragments: int) -> str:
    """Each fragment spreads the previous one twice: 2**fragments fields once expanded, in a few hundred bytes."""
    parts = ["fragment F0 on Query { viewer { email } }"]
    parts += [f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, fragments + 1)]
    return f"{{ ...F{fragments} }} " + " ".join(parts)


def test_graphql_limits_refuse_expensive_documents_quickly_and_clearly(app: HostileApp) -> None:
    cases = [
        # Depth: fields need not exist, the limit is measured first.
        ("{ " + "a { " * 12 + "b" + " }" * 12 + " }", "exceeds maximum operation depth"),
        ("{ payments { items { " + "x { " * 9 + "y" + " }" * 9 + " } } }", "exceeds maximum operation depth"),
        # Aliases: 16 is one too many; 1,500 is a bomb.
        ("{ " + " ".join(f"a{i}: viewer {{ email }}" for i in range(16)) + " }", "aliases found"),
        ("{ " + " ".join(f"a{i}: payments {{ totalCount }}" for i in range(1500)) + " }", "tokens"),
        ("{ " + " ".join(f"a{i}: health {{ openPayments }}" for i in range(300)) + " }", "aliases found"),
        # Tokens.
        ("{ viewer { " + "email " * 2500 + "} }", "tokens"),
        # Fragments: a billion fields from 30 lines.
        (laughs(30), "fragments are expanded"),
        ("{ ...F } fragment F on Query { ...F }", "within itself"),
        ("{ ...Nowhere }", "Unknown fragment"),
        ("{ viewer { } }", "may not be empty"),
    ]
    # Each refusal names the validation rule that stopped it: refused before anything was resolved.
    for query, words in cases:
        refused(graphql(app, query), words)


def test_graphql_limits_leave_the_dashboard_pages_queries_alone(app: HostileApp) -> None:
    query = """
      query Page($first: Int!) {
        viewer { email canWrite saleorApiUrl }
        configurations { id name websiteId licenseKey environment currencies channels }
        payments(first: $first) { totalCount hasNextPage endCursor items { id state amount currency } }
        health { openPayments pendingEvents deadEvents }
        deadLetters(first: 10) { id }
      }
    """
    response = app.post(
        "/graphql", json.dumps({"query": query, "variables": {"first": 25}}).encode(), dashboard_headers(app.fake)
    )
    assert response.status == 200, response.text
    assert "errors" not in response.json(), response.text


def test_a_nul_character_anywhere_is_the_senders_mistake_on_every_route(app: HostileApp) -> None:
    """Valid JSON, but PostgreSQL cannot store it: refused with 400 before anything is written."""
    before = app.snapshot()
    nul = "a\u0000b"
    register = app.post("/api/register", json.dumps({"auth_token": nul}).encode(), {"saleor-api-url": app.fake.api_url})
    assert register.status == 400, register.text
    for event in SYNC_EVENTS:
        raw = json.dumps({"recipient": {"id": app.fake.app_id}, "transaction": {"id": nul}, nul: 1}).encode()
        _, headers = app.fake.webhook(event.name, {})
        headers["Saleor-Signature"] = headers["X-Saleor-Signature"] = app.fake.sign(raw)
        webhook = app.post(event.path, raw, headers)
        assert webhook.status == 400, f"{event.name}: {webhook.text}"
    recorded = app.count(callbacks)
    path = f"/api/lengo/callback/{app.payment.token}"
    for body in (json.dumps({"pay_id": nul, "status": "SUCCESS"}).encode(), b"pay_id=a%00b&status=SUCCESS"):
        callback = app.post(path, body)
        assert callback.status == 400, callback.text
    assert app.count(callbacks) == recorded + 2  # recorded as malformed, for the audit trail
    headers = dashboard_headers(app.fake)
    for body in (
        {"query": "query($id: ID!) { payment(id: $id) { id } }", "variables": {"id": nul}},
        {"query": '{ payment(id: "a\\u0000b") { id } }'},
        {"query": 'mutation { unmapChannel(channel: "\\u0000") { id } }'},
    ):
        graphql = app.post("/graphql", json.dumps(body).encode(), headers)
        assert graphql.status == 400, graphql.text
    assert app.snapshot() == before
