"""The minimal handlers the app is measured against: the least any app could do for each request.

Each is a factory for `uvicorn --factory` (one worker, as the app), configured
through the environment:

- `webhook_app`: verifies the JWS with PyJWT (detached, `b64: false`, key
  parsed once at start) and answers JSON. No database, no parsing.
- `callback_app`: looks the token up, records the callback in SQLite and
  answers; then, in a background task, asks the fake Lengo's status endpoint
  (the same call the app makes) and marks the row confirmed.
- `initialize_app`: verifies the JWS, makes Lengo's create call, inserts one
  row in SQLite, answers. (Verifying is kept: an app that skips it is not an app.)

SQLite through the standard library's `sqlite3`, one connection, WAL and
`synchronous=NORMAL` as the app sets them, autocommit: each statement is
its own committed transaction. httpx with 20 kept-alive connections (the
app keeps 20 alive too, and may open up to 100).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import secrets
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx
import jwt
from jwt.api_jws import PyJWS
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

WEBHOOK_PATH = "/api/webhooks/saleor/payment-gateway-initialize-session"
INITIALIZE_PATH = "/api/webhooks/saleor/transaction-initialize-session"
CALLBACK_PATH = "/api/lengo/callback/{token}"
LENGO_CREATE = "/api/v1/payments"
LENGO_STATUS = "/api/v1/transaction/status"


def _json(content: Any, status: int = 200) -> Response:
    return Response(json.dumps(content), status_code=status, media_type="application/json")


class _Verifier:
    def __init__(self, jwks_path: str) -> None:
        jwks = json.loads(Path(jwks_path).read_text())
        self.keys = {k["kid"]: jwt.PyJWK(k).key for k in jwks["keys"]}
        self.jws = PyJWS(algorithms=["RS256"])

    def ok(self, signature: str | None, raw: bytes) -> bool:
        if not signature:
            return False
        try:
            key = self.keys[jwt.get_unverified_header(signature)["kid"]]
            self.jws.decode_complete(signature, key, algorithms=["RS256"], detached_payload=raw)
        except (jwt.PyJWTError, KeyError):
            return False
        return True


def _db(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


def _http() -> httpx.AsyncClient:
    # At most 20 connections, all kept alive, and no pool timeout: a burst of
    # confirmations queues for a connection instead of opening a hundred at
    # once against a one-process fake Lengo (connect timeouts, retries).
    return httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=3.0, pool=None),
                             limits=httpx.Limits(max_connections=20, max_keepalive_connections=20))


def _lengo_headers() -> dict[str, str]:
    return {"Authorization": f"Basic {os.environ['BENCH_LICENSE_KEY']}", "Accept": "application/json",
            "Content-Type": "application/json"}


def webhook_app() -> Starlette:
    verifier = _Verifier(os.environ["BENCH_JWKS"])
    answer = {"data": {"available": True, "environment": "simulator", "currencies": ["GNF"],
                       "minAmount": None, "maxAmount": None, "error": None}}

    async def endpoint(request: Request) -> Response:
        raw = await request.body()
        if not verifier.ok(request.headers.get("saleor-signature"), raw):
            return _json({"error": "invalid signature"}, 401)
        return _json(answer)

    return Starlette(routes=[Route(WEBHOOK_PATH, endpoint, methods=["POST"])])


def create_callback_db(path: Path, tokens_and_pay_ids: Iterable[tuple[str, str]]) -> None:
    db = _db(str(path))
    db.execute("CREATE TABLE payments (token_digest TEXT PRIMARY KEY, pay_id TEXT NOT NULL)")
    db.execute("CREATE TABLE callbacks (id INTEGER PRIMARY KEY, token_digest TEXT NOT NULL, body BLOB NOT NULL,"
               " received_at REAL NOT NULL, lengo_status TEXT, confirmed_at REAL)")
    db.execute("BEGIN")
    db.executemany("INSERT INTO payments VALUES (?, ?)",
                   ((hashlib.sha256(t.encode()).hexdigest(), p) for t, p in tokens_and_pay_ids))
    db.execute("COMMIT")
    db.close()


def callback_app() -> Starlette:
    db = _db(os.environ["BENCH_DB"])
    http = _http()
    lengo = os.environ["BENCH_LENGO_URL"]
    website = os.environ["BENCH_WEBSITE_ID"]
    headers = _lengo_headers()
    tasks: set[asyncio.Task[None]] = set()
    # httpx's pool looks at every queued request each time a connection frees up: thousands of
    # queued confirmations cost quadratic time. Twenty at a time, the others wait here instead.
    calls = asyncio.Semaphore(20)

    async def confirm(callback_id: int, pay_id: str) -> None:
        while True:  # a burst can outrun the fake Lengo's accept queue: try again rather than lose it
            try:
                async with calls:
                    r = await http.post(lengo + LENGO_STATUS, headers=headers,
                                        content=json.dumps({"pay_id": pay_id, "websiteid": website}))
                break
            except httpx.TransportError:
                await asyncio.sleep(0.2)
        status = r.json()["status"]
        db.execute("UPDATE callbacks SET lengo_status = ?, confirmed_at = ? WHERE id = ?", (status, time.time(), callback_id))

    async def callback(request: Request) -> Response:
        raw = await request.body()
        digest = hashlib.sha256(request.path_params["token"].encode()).hexdigest()
        row = db.execute("SELECT pay_id FROM payments WHERE token_digest = ?", (digest,)).fetchone()
        if row is None:
            return Response(status_code=404)
        cur = db.execute("INSERT INTO callbacks (token_digest, body, received_at) VALUES (?, ?, ?)",
                         (digest, raw, time.time()))
        task = asyncio.ensure_future(confirm(int(cur.lastrowid or 0), row[0]))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return _json({"received": True})

    return Starlette(routes=[Route(CALLBACK_PATH, callback, methods=["POST"])])


def create_initialize_db(path: Path) -> None:
    db = _db(str(path))
    db.execute("CREATE TABLE payments (id INTEGER PRIMARY KEY, transaction_id TEXT NOT NULL, token_digest TEXT NOT NULL,"
               " pay_id TEXT, payment_url TEXT, amount TEXT NOT NULL, created_at REAL NOT NULL)")
    db.close()


def initialize_app() -> Starlette:
    verifier = _Verifier(os.environ["BENCH_JWKS"])
    db = _db(os.environ["BENCH_DB"])
    http = _http()
    lengo = os.environ["BENCH_LENGO_URL"]
    website = os.environ["BENCH_WEBSITE_ID"]
    own_url = os.environ["BENCH_OWN_URL"]
    headers = _lengo_headers()

    async def endpoint(request: Request) -> Response:
        raw = await request.body()
        if not verifier.ok(request.headers.get("saleor-signature"), raw):
            return _json({"error": "invalid signature"}, 401)
        body = json.loads(raw)
        tx = body["transaction"]["id"]
        amount = body["action"]["amount"]
        token = secrets.token_urlsafe(24)
        create = {"websiteid": website, "amount": int(amount), "currency": body["action"]["currency"],
                  "return_url": f"{body['data']['returnUrl']}?transactionId={tx}",
                  "callback_url": f"{own_url}/api/lengo/callback/{token}"}
        r = await http.post(lengo + LENGO_CREATE, content=json.dumps(create), headers=headers)
        created = r.json()
        db.execute("INSERT INTO payments (transaction_id, token_digest, pay_id, payment_url, amount, created_at)"
                   " VALUES (?, ?, ?, ?, ?, ?)",
                   (tx, hashlib.sha256(token.encode()).hexdigest(), created["pay_id"], created["payment_url"],
                    str(amount), time.time()))
        return _json({"result": "CHARGE_ACTION_REQUIRED", "amount": amount, "pspReference": created["pay_id"],
                      "data": {"paymentUrl": created["payment_url"], "payId": created["pay_id"]}})

    return Starlette(routes=[Route(INITIALIZE_PATH, endpoint, methods=["POST"])])
