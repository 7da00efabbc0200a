"""A faithful fake Saleor: signs webhooks as Saleor does, serves a JWKS with
key rotation, and answers GraphQL only for documents that validate against
the real schema (from the reference data, see tests/reference.py).

The GraphQL endpoint executes documents with graphql-core against that very
schema (tests/fakes/saleor_graphql.py), with resolvers for what the app uses
(`app`, `channels`, `transactionEventReport`), so a selection the real Saleor
would refuse is refused here too. Without the reference data it still runs,
validating nothing (the test run's header says so). `transactionEventReport` deduplicates as Saleor 3.23 does
(`PAYMENT-APPS.md` §5 and §7): same (transaction, pspReference, type) and
amount → `alreadyProcessed: true`; another amount → `INCORRECT_DETAILS` and
a `CHARGE_FAILURE` event. Like Saleor's GraphQL view, it takes a JSON list
of operations in one request and answers a list in the same order, each
operation validated and executed on its own, the HTTP status the worst of
theirs (400 when one of them is invalid, the others' data kept).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from graphql import GraphQLError
from jwt.algorithms import RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.known_secrets import remember
from tests.fakes.saleor_graphql import execute, validation_errors

__all__ = ["FakeSaleor", "SigningKey", "new_key", "saleor_json", "validation_errors"]

NOT_DEDUPLICATED = {"CHARGE_ACTION_REQUIRED", "AUTHORIZATION_ACTION_REQUIRED"}


def saleor_json(value: Any) -> bytes:
    """Serialise like Saleor (Python json.dumps, ", "/": " separators, ensure_ascii, floats with a fraction)."""

    def convert(v: Any) -> Any:
        if isinstance(v, Decimal):
            return float(v)
        if isinstance(v, dict):
            return {k: convert(x) for k, x in v.items()}
        if isinstance(v, list):
            return [convert(x) for x in v]
        return v

    return json.dumps(convert(value)).encode()


@dataclass
class SigningKey:
    kid: str
    private: rsa.RSAPrivateKey

    def public_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(self.private.public_key()))
        jwk.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        return jwk


# Making a 2048-bit RSA key costs 50-100 ms of CPU, and nearly every test makes
# one: keys are reused from test to test, never within one (the suite's
# conftest calls `reuse_keys_from_here()` before each test).
_private_keys: list[rsa.RSAPrivateKey] = []
_next_private_key = 0


def reuse_keys_from_here() -> None:
    global _next_private_key
    _next_private_key = 0


def _private_key() -> rsa.RSAPrivateKey:
    global _next_private_key
    if _next_private_key == len(_private_keys):
        _private_keys.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    _next_private_key += 1
    return _private_keys[_next_private_key - 1]


def new_key(kid: str | None = None) -> SigningKey:
    """A key no other `new_key()` of this test has: Saleor's own, a rotated one, a stranger's."""
    return SigningKey(kid or secrets.token_urlsafe(16), _private_key())


@dataclass
class Event:
    type: str
    psp_reference: str
    amount: Decimal
    message: str
    id: str
    source: str  # "report" | "sync"


@dataclass
class FakeSaleor:
    api_url: str = "http://saleor.test/graphql/"
    app_id: str = "QXBwOjE="
    app_token: str = field(default_factory=lambda: "app-token-" + secrets.token_urlsafe(24))
    keys: list[SigningKey] = field(default_factory=lambda: [new_key()])
    installed: bool = True
    down: int = 0  # answer 503 to this many GraphQL calls (-1: until told otherwise)
    transactions: dict[str, list[Event]] = field(default_factory=dict)
    # Each transaction's checkout and, once it is completed, its order (`set_owner`).
    owners: dict[str, dict[str, Any]] = field(default_factory=dict)
    channels: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {"id": "Q2hhbm5lbDox", "slug": "default-channel", "name": "Default", "currencyCode": "USD"},
            {"id": "Q2hhbm5lbDoy", "slug": "channel-gnf", "name": "Guinée", "currencyCode": "GNF"},
        ]
    )
    graphql_calls: list[dict[str, Any]] = field(default_factory=list)  # one per operation
    graphql_requests: list[int] = field(default_factory=list)  # one per HTTP request: its operations
    jwks_requests: int = 0
    jwks_down: bool = False
    # Other apps installed on this Saleor: their token → their id (`{ app { id } }` answers each its own).
    other_apps: dict[str, str] = field(default_factory=dict)
    # GraphQL requests carrying one of these tokens are answered 503 (a Saleor failing part-way).
    down_for_tokens: set[str] = field(default_factory=set)
    # Answered to the JWKS URL instead of the keys when set: (status, body, headers).
    jwks_answer: tuple[int, bytes, dict[str, str]] | None = None
    # Saleor's GRAPHQL_BATCH_MAX_COUNT: a JSON list of more operations is refused whole (400).
    # Saleor's default is 1 — no batching — so the fake's is too; a test of batching raises it.
    batch_max_count: int = 1
    _event_seq: int = 0

    def __post_init__(self) -> None:
        remember(self.app_token)  # the redaction guard fails the run if it is ever logged

    # -- keys and signatures -------------------------------------------------
    @property
    def current_key(self) -> SigningKey:
        return self.keys[-1]

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.public_jwk() for k in self.keys]}

    def rotate(self, *, retire_old: bool = True) -> SigningKey:
        key = new_key()
        self.keys = [key] if retire_old else [*self.keys, key]
        return key

    def sign(self, raw_body: bytes, key: SigningKey | None = None) -> str:
        """`Saleor-Signature`: RS256 JWS, detached and unencoded payload (`b64: false`)."""
        k = key or self.current_key
        return jwt.api_jws.PyJWS().encode(
            raw_body,
            k.private,
            algorithm="RS256",
            headers={"kid": k.kid, "b64": False, "crit": ["b64"]},
            is_payload_detached=True,
        )

    def webhook(self, event: str, body: dict[str, Any], *, key: SigningKey | None = None) -> tuple[bytes, dict[str, str]]:
        raw = saleor_json(body)
        domain = self.api_url.split("/")[2]
        sig = self.sign(raw, key)
        headers = {
            "Content-Type": "application/json",
            "Saleor-Event": event.lower(),
            "Saleor-Domain": domain,
            "Saleor-Signature": sig,
            "Saleor-Api-Url": self.api_url,
            "X-Saleor-Event": event.lower(),
            "X-Saleor-Domain": domain,
            "X-Saleor-Signature": sig,
        }
        return raw, headers

    # -- what Saleor keeps -----------------------------------------------------
    def _next_event_id(self) -> str:
        self._event_seq += 1
        return f"VHJhbnNhY3Rpb25FdmVudDo{self._event_seq}"

    def record_sync_answer(self, transaction_id: str, answer: dict[str, Any], requested: Decimal = Decimal(0)) -> None:
        """Saleor turns a sync answer into an event, deduplicated like reports."""
        result = answer.get("result")
        if "pspReference" not in answer:
            return
        if not result:
            # An async answer: Saleor records the request, with the app's pspReference, and waits for the outcome.
            self._add_event(transaction_id, "REFUND_REQUEST", str(answer["pspReference"]),
                                       requested, "", "sync")
            return
        amount = Decimal(str(answer.get("amount", "0")))
        self._add_event(transaction_id, str(result), str(answer["pspReference"]), amount, answer.get("message", ""), "sync")

    def _add_event(self, tx: str, type_: str, psp: str, amount: Decimal, message: str, source: str) -> tuple[Event, bool]:
        events = self.transactions.setdefault(tx, [])
        if type_ not in NOT_DEDUPLICATED:
            for e in events:
                if e.type == type_ and e.psp_reference == psp:
                    if e.amount != amount:
                        raise ValueError("INCORRECT_DETAILS")
                    return e, True
        event = Event(type_, psp, amount, message, self._next_event_id(), source)
        events.append(event)
        return event, False

    def events(self, tx: str, type_: str | None = None) -> list[Event]:
        return [e for e in self.transactions.get(tx, []) if type_ is None or e.type == type_]

    def charged_amount(self, tx: str) -> Decimal:
        return sum((e.amount for e in self.events(tx, "CHARGE_SUCCESS")), Decimal(0))

    # -- GraphQL resolvers ------------------------------------------------------
    def _authorised(self, info: Any) -> bool:
        return bool(self.installed and info.context.get("token") == self.app_token)

    @staticmethod
    def _permission_error(permission: str) -> GraphQLError:
        return GraphQLError(
            f"To access this path, you need one of the following permissions: {permission}",
            extensions={"exception": {"code": "PermissionDenied"}},
        )

    def _resolve_app(self, info: Any) -> dict[str, Any]:
        other = self.other_apps.get(info.context.get("token"))
        if other is not None:
            return {"id": other}
        if not self._authorised(info):
            raise self._permission_error("AUTHENTICATED_APP")
        return {"id": self.app_id}

    def _resolve_channels(self, info: Any) -> list[dict[str, Any]]:
        if not self._authorised(info):
            raise self._permission_error("AUTHENTICATED_APP, AUTHENTICATED_STAFF_USER")
        return self.channels

    def _resolve_report(self, info: Any, **args: Any) -> dict[str, Any]:
        if not self._authorised(info):
            raise self._permission_error("HANDLE_PAYMENTS")
        tx = args["id"]
        if tx not in self.transactions:
            return {"alreadyProcessed": None, "transactionEvent": None, "errors": [
                {"field": "id", "code": "NOT_FOUND", "message": f"Couldn't resolve to a node: {tx}"}]}
        amount = Decimal(str(args["amount"]))
        try:
            event, already = self._add_event(tx, args["type"], args["pspReference"], amount, args.get("message") or "", "report")
        except ValueError:
            self._add_event(tx, "CHARGE_FAILURE", args["pspReference"] + "#failure", amount,
                            "Event with given pspReference already exists with different amount", "report")
            return {"alreadyProcessed": None, "transactionEvent": None, "errors": [
                {"field": "pspReference", "code": "INCORRECT_DETAILS",
                 "message": "Incorrect value provided for the event. Event with given pspReference and type already exists with different amount."}]}
        return {"alreadyProcessed": already, "transactionEvent": {"id": event.id}, "errors": []}

    def _resolve_transaction(self, info: Any, **args: Any) -> dict[str, Any] | None:
        if not self._authorised(info):
            raise self._permission_error("HANDLE_PAYMENTS, MANAGE_ORDERS")
        tx = args.get("id")
        if tx not in self.transactions:
            return None
        owner = self.owners.get(tx, {})
        return {"id": tx, "order": owner.get("order"), "checkout": owner.get("checkout"), "events": [
            {"type": e.type, "pspReference": e.psp_reference, "amount": {"amount": float(e.amount), "currency": "GNF"}}
            for e in self.transactions[tx]
        ]}

    def set_owner(self, tx: str, *, checkout: tuple[str, str | None] | None = None,
                  order: tuple[str, str, str | None] | None = None) -> None:
        """The transaction's checkout (id, email) and order (id, number, userEmail), as Saleor links them:
        completing the checkout makes the order and deletes the checkout, so a transaction has one or the other."""
        self.transactions.setdefault(tx, [])
        if order is not None:
            self.owners[tx] = {"order": {"id": order[0], "number": order[1], "userEmail": order[2]}, "checkout": None}
        elif checkout is not None:
            self.owners[tx] = {"order": None, "checkout": {"id": checkout[0], "email": checkout[1]}}

    def reinstall(self) -> None:
        """Delete the app and install it again: Saleor gives it a new id and token, the old token stops working."""
        self.app_id = "QXBwOj" + secrets.token_hex(4)
        self.app_token = "app-token-" + secrets.token_urlsafe(24)
        remember(self.app_token)
        self.installed = True

    def open_transaction(self, tx: str) -> None:
        self.transactions.setdefault(tx, [])

    # -- HTTP ----------------------------------------------------------------------
    async def _graphql(self, request: Request) -> Response:
        try:
            body = json.loads(await request.body())
        except ValueError:
            # Saleor's words and status for a body it cannot read.
            return JSONResponse({"errors": [{"message": "Unable to parse query."}]}, status_code=400)
        auth = request.headers.get("authorization", "")
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else None
        batch = body if isinstance(body, list) else [body]
        # Saleor's GRAPHQL_BATCH_MAX_COUNT: a longer list runs no operation at all.
        refused = isinstance(body, list) and len(body) > self.batch_max_count
        self.graphql_requests.append(0 if refused else len(batch))
        for entry in [] if refused else batch:
            self.graphql_calls.append({"query": entry.get("query"), "variables": entry.get("variables"), "token": token})
        if self.down or token in self.down_for_tokens:
            if self.down > 0:
                self.down -= 1
            return Response("Service Unavailable", status_code=503)
        if refused:
            # saleor/graphql/views.py: checked before any operation runs, in Saleor's error format.
            return JSONResponse({"errors": [{"message": "Number of batch queries exceeded.",
                                             "extensions": {"exception": {"code": "GraphQLError"}}}]},
                                status_code=400)
        answers = [await self._operation(entry, token) for entry in batch]
        status = max(code for _, code in answers)
        if isinstance(body, list):
            return Response(json.dumps([payload for payload, _ in answers], default=str), status_code=status,
                            media_type="application/json")
        [(payload, _)] = answers
        return Response(json.dumps(payload, default=str), status_code=status, media_type="application/json")

    async def _operation(self, entry: dict[str, Any], token: str | None) -> tuple[dict[str, Any], int]:
        """One operation's answer and HTTP status, as Saleor's `get_response` makes them."""
        document = entry.get("query") or ""
        errors = validation_errors(document)
        if errors:
            return {"errors": [{"message": m} for m in errors]}, 400

        fake = self

        class Root:
            def app(self, info: Any) -> dict[str, Any]:
                return fake._resolve_app(info)

            def channels(self, info: Any) -> list[dict[str, Any]]:
                return fake._resolve_channels(info)

            def transactionEventReport(self, info: Any, **args: Any) -> dict[str, Any]:
                return fake._resolve_report(info, **args)

            def transaction(self, info: Any, **args: Any) -> dict[str, Any] | None:
                return fake._resolve_transaction(info, **args)

        return execute(document, entry.get("variables") or {}, Root(), {"token": token}), 200

    async def _jwks(self, _request: Request) -> Response:
        self.jwks_requests += 1
        if self.jwks_down:
            return Response("down", status_code=502)
        if self.jwks_answer is not None:
            status, body, headers = self.jwks_answer
            return Response(body, status_code=status, headers=headers, media_type="application/json")
        return JSONResponse(self.jwks())

    def asgi(self) -> Starlette:
        return Starlette(routes=[
            Route("/graphql/", self._graphql, methods=["POST"]),
            Route("/.well-known/jwks.json", self._jwks, methods=["GET"]),
        ])

    # -- payload builders (shaped like the recorded requests) ----------------------
    def recipient(self) -> dict[str, str]:
        return {"id": self.app_id}
