"""The app's collaborators, built once and handed to handlers (no globals)."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import httpx

from saleor_lengo.crypto import Cipher
from saleor_lengo.db.engine import Database
from saleor_lengo.db.grouped import WriteGroups
from saleor_lengo.db.leases import Leases
from saleor_lengo.logs import get_logger, register_secret
from saleor_lengo.outbound import make_http_client
from saleor_lengo.saleor.circuit import Circuits
from saleor_lengo.pressure import RequestPressure
from saleor_lengo.read_cache import ReadCache
from saleor_lengo.saleor.client import SaleorClient
from saleor_lengo.saleor.jwks import JwksKeeper
from saleor_lengo.settings import Settings

log = get_logger(__name__)

CONFIRMATIONS_AT_ONCE = 20
CONFIRMATIONS_QUEUED = 100


@dataclass
class Services:
    settings: Settings
    db: Database
    cipher: Cipher
    http: httpx.AsyncClient
    saleor: SaleorClient
    jwks: JwksKeeper
    clock: Callable[[], float] = time.time
    # How Lengo calls time their retries: tests pass waits that take no time.
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    # Background confirmations of callbacks running at once (their database
    # work and status call). A burst of callbacks queues here rather than in
    # httpx's pool, whose wait a status call's short budget would count (and
    # which is slow with thousands queued), or in the database's pool.
    confirmation_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(CONFIRMATIONS_AT_ONCE))
    # Confirmations spawned and not finished; past CONFIRMATIONS_QUEUED a new
    # callback is left to the confirmer loop instead (bounded memory in a burst).
    confirmations_spawned: int = 0
    # Wakes the confirmer loop when a callback was left to it.
    callback_signal: asyncio.Event = field(default_factory=asyncio.Event)
    # When the confirmer loop wakes next (inf while it works): a callback
    # deferred to its payment's next check (callbacks/gate.py) wakes it if sooner.
    callback_loop_wakes_at: float = math.inf
    # Payments whose callbacks' status check is in flight in this process (callbacks/gate.py).
    callback_checks_in_flight: set[str] = field(default_factory=set)
    # How fast requests arrive: in a burst, confirmations wait for the answers (pressure.py).
    pressure: RequestPressure = field(default_factory=RequestPressure)
    # Wakes the relay as soon as an outbox row is committed, instead of polling.
    outbox_signal: asyncio.Event = field(default_factory=asyncio.Event)
    # Wakes the reconciler when payments it may take over were freed (a dead process's leases).
    reconcile_signal: asyncio.Event = field(default_factory=asyncio.Event)
    # Wakes the payout worker when a payout was recorded or its callback came (flows/payout_worker.py).
    payout_signal: asyncio.Event = field(default_factory=asyncio.Event)
    # Which Saleor installations this process's relay finds unreachable (saleor/circuit.py).
    circuits: Circuits = field(default_factory=Circuits)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    # Installations and channel configurations, as every webhook reads them.
    cache: ReadCache = field(init=False)
    # Callbacks recorded together in a burst share a transaction (db/grouped.py).
    callback_writes: WriteGroups = field(init=False)
    # This process as the holder of leases on outbox rows, callbacks and payments (db/leases.py).
    leases: Leases = field(init=False)

    def __post_init__(self) -> None:
        self.cache = ReadCache(self.db)
        self.callback_writes = WriteGroups(self.db)
        # The clock read at each call: tests replace `services.clock` after construction.
        self.leases = Leases(self.db, lambda: self.clock())
        self.leases.on_freed.append(self._wake_loops)

    def _wake_loops(self) -> None:
        for signal in (self.outbox_signal, self.callback_signal, self.reconcile_signal, self.payout_signal):
            signal.set()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str = "background") -> None:
        """Run work after the answer was sent; failures are logged, never lost silently."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)

        def _done(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.error("background_task_failed", task=name, error=repr(t.exception()))

        task.add_done_callback(_done)

    def can_confirm_now(self) -> bool:
        """Whether a new callback's confirmation may be spawned (else the confirmer loop takes it)."""
        return self.confirmations_spawned < CONFIRMATIONS_QUEUED and not self.pressure.busy()

    def callback_due(self, at: float) -> None:
        """A callback row is due at `at` (its payment's next check): wake the confirmer loop if it would sleep past it."""
        if at < self.callback_loop_wakes_at:
            self.callback_signal.set()

    def spawn_confirmation(self, coro: Coroutine[Any, Any, Any]) -> None:
        self.confirmations_spawned += 1

        async def counted() -> None:
            try:
                await coro
            finally:
                self.confirmations_spawned -= 1

        self.spawn(counted(), name="callback_confirmation")

    async def drain(self) -> None:
        """Wait for every spawned task (tests, and graceful shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        await self.drain()
        try:
            await self.leases.release()
        except Exception:
            # The database may be away: the holder's leases then run out by themselves.
            log.warning("lease_release_failed", exc_info=True)
        await self.http.aclose()
        await self.db.dispose()


def build_services(
    settings: Settings,
    *,
    http: httpx.AsyncClient | None = None,
    clock: Callable[[], float] = time.time,
    monotonic: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Services:
    register_secret(settings.secret_key)
    for key in settings.secret_key_fallbacks:
        register_secret(key)
    db = Database(settings.database_url)
    client = http or make_http_client(settings.outbound_allowed_networks)
    saleor = SaleorClient(client)
    return Services(
        settings=settings,
        db=db,
        cipher=Cipher(settings.secret_key, settings.secret_key_fallbacks),
        http=client,
        saleor=saleor,
        jwks=JwksKeeper(db, saleor, clock),
        clock=clock,
        monotonic=monotonic,
        sleep=sleep,
    )
