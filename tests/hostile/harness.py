"""One installed app for a whole property test, driven from Hypothesis' synchronous examples.

Hypothesis runs each example as a plain call, and function-scoped fixtures
would be shared by every example anyway; so a property test builds this
harness in its body instead. The app, its database engine and its HTTP
clients all live on one event loop in a thread of their own
(`LoopThread`), and every example hands that loop a coroutine: pooled
connections never cross loops, and state carries over between examples on
purpose (a hostile request must not spoil the next one either).

`HostileApp` is installed by the fake Saleor, has a configuration mapped to
`channel-gnf` and one open payment with a known callback token, and reaches
no network: any host but the fake Saleor and the fake Lengo answers 404.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from sqlalchemy import Table, select

from saleor_lengo.saleor import installations
from saleor_lengo.db import schema as db
from saleor_lengo.db.migrate import migrate
from saleor_lengo.services import Services, build_services
from saleor_lengo.simulator.api import LengoState
from saleor_lengo.simulator.api import create_app as create_lengo_app
from saleor_lengo.web.app import create_app
from tests.conftest import APP_URL, LENGO_KEY, LENGO_URL, configure_channel, make_settings, register
from tests.fakes.factories import MadePayment, make_payment
from tests.fakes.saleor import FakeSaleor

T = TypeVar("T")

# What a hostile request must never change (the callbacks table is the
# audit log: a callback with a valid token is recorded whatever it says).
GUARDED = (db.installations, db.configurations, db.channel_mappings, db.payments, db.outbox)
# Refetching Saleor's JWKS for an unknown `kid` is the documented rotation
# path (at most 10 a minute); it stores Saleor's keys, never the sender's.
BOOKKEEPING = {"installations": {"jwks_fetched_at"}}
# Asking Lengo for the status after a callback with a valid token records
# what Lengo said; the payment's state, amounts and pay_id stay put unless
# Lengo confirms a change (the fake Lengo never does here).
STATUS_CHECK_COLUMNS = {
    "lengo_status", "last_status_at", "gateway", "updated_at", "next_check_at", "check_attempts", "lease_until",
    "callback_check_at",
}

Snapshot = dict[str, list[tuple[str, ...]]]


class LoopThread:
    """An event loop running in its own thread; `run` waits for one coroutine on it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="hostile-app-loop", daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 120.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        async def cancel_the_rest() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.loop.shutdown_asyncgens()

        self.run(cancel_the_rest())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


def _offline(request: httpx.Request) -> httpx.Response:
    return httpx.Response(404, text=f"no network in tests: {request.url.host}")


@dataclass
class Sent:
    """A response, read in full on the app's loop."""

    status: int
    headers: httpx.Headers
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        import json

        return json.loads(self.content)


class HostileApp:
    def __init__(self, database_url: str) -> None:
        self.fake = FakeSaleor()
        self.lengo = LengoState(license_key=LENGO_KEY, page_base="https://payment.lengo.test", sleep=_no_sleep)
        self.settings = make_settings(database_url)
        self.loop = LoopThread()
        try:
            self.loop.run(self._start())
        except BaseException:
            self.loop.close()
            raise

    async def _start(self) -> None:
        http = httpx.AsyncClient(
            mounts={
                "http://saleor.test": httpx.ASGITransport(app=self.fake.asgi()),
                LENGO_URL: httpx.ASGITransport(app=create_lengo_app(self.lengo)),
                "all://": httpx.MockTransport(_offline),
            },
            follow_redirects=False,
        )
        self.services: Services = build_services(self.settings, http=http)
        await migrate(self.services.db)
        self.app = create_app(self.services)
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=APP_URL)
        answer = await register(self.client, self.fake)
        assert answer.status_code == 200, answer.text
        self.config = await configure_channel(self.services, self.fake)
        self.payment: MadePayment = await make_payment(self.services, self.fake, self.lengo, self.config)
        inst = await installations.find(self.services.db, self.fake.api_url)
        assert inst is not None
        self.installation = inst

    def close(self) -> None:
        async def stop() -> None:
            await self.client.aclose()
            await self.services.aclose()

        try:
            self.loop.run(stop())
        finally:
            self.loop.close()

    def __enter__(self) -> HostileApp:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- requests -------------------------------------------------------------------

    def post(self, path: str, content: bytes = b"", headers: Mapping[str, str | bytes] | None = None) -> Sent:
        """POST on the app, then wait for whatever it spawned (a callback's confirmation)."""

        async def send() -> Sent:
            # Raw bytes, as a server hands them on (httpx would refuse non-ASCII text).
            raw = {k: v if isinstance(v, bytes) else v.encode() for k, v in (headers or {}).items()}
            response = await self.client.post(path, content=content, headers=raw)
            await self.services.background.drain()
            return Sent(response.status_code, response.headers, response.content)

        return self.loop.run(send())

    # --- state --------------------------------------------------------------------------

    def snapshot(self, tables: Iterable[Table] = GUARDED, ignore: Mapping[str, set[str]] | None = None) -> Snapshot:
        skip = {**BOOKKEEPING}
        for name, columns in (ignore or {}).items():
            skip[name] = skip.get(name, set()) | columns

        async def read() -> Snapshot:
            found: Snapshot = {}
            async with self.services.db.read() as conn:
                for table in tables:
                    columns = [c for c in table.columns if c.name not in skip.get(table.name, set())]
                    rows = (await conn.execute(select(*columns))).all()
                    found[table.name] = sorted(tuple(repr(v) for v in row) for row in rows)
            return found

        return self.loop.run(read())

    def count(self, table: Table) -> int:
        async def read() -> int:
            async with self.services.db.read() as conn:
                return len((await conn.execute(select(table))).all())

        return self.loop.run(read())


async def _no_sleep(_seconds: float) -> None:
    return None


def assert_no_fault(response: Sent, what: str = "") -> None:
    """Not a 5xx, and nothing that looks like a stack trace in the body."""
    body = response.text
    assert response.status < 500, f"{what}: HTTP {response.status}: {body[:500]}"
    assert "Traceback" not in body and 'File "' not in body, f"{what}: stack trace in the body: {body[:500]}"


def fuzz(max_examples: int) -> Any:
    """Settings for one property: deadlines off (shared CI machines), the app's state carried across examples."""
    from hypothesis import HealthCheck, settings

    return settings(max_examples=max_examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_no_internal_error(response: Sent, what: str = "") -> None:
    try:
        answer = response.json()
    except ValueError:
        raise AssertionError(f"not JSON: {response.text[:300]}") from None
    errors = answer.get("errors") or [] if isinstance(answer, dict) else []
    internal = [e for e in errors if isinstance(e, dict) and (e.get("extensions") or {}).get("code") == "INTERNAL"]
    assert not internal, f"{what}: a resolver failed: {internal}"
