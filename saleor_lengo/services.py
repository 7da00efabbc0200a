"""The app's collaborators, built once per process by the composition roots (web app, workers, commands).

Nothing else imports this module: each use case declares the few
collaborators it uses (its `Needs`, from `needs.py`), and this object,
holding them all, satisfies every such declaration.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

from saleor_lengo.background import Background
from saleor_lengo.callback_queue import CallbackQueue
from saleor_lengo.crypto import Cipher
from saleor_lengo.db.engine import Database
from saleor_lengo.db.grouped import WriteGroups
from saleor_lengo.db.leases import Leases
from saleor_lengo.logs import get_logger, register_secret
from saleor_lengo.metrics import Metrics
from saleor_lengo.outbound import make_http_client
from saleor_lengo.saleor.circuit import Circuits
from saleor_lengo.pressure import RequestPressure
from saleor_lengo.read_cache import ReadCache
from saleor_lengo.saleor.client import SaleorClient
from saleor_lengo.saleor.jwks import JwksKeeper
from saleor_lengo.settings import Settings
from saleor_lengo.wakeups import Wakeups

log = get_logger(__name__)


@dataclass
class Services:
    """References to what is built once per process; the state each owns lives in it, not here."""

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
    # Which Saleor installations this process's relay finds unreachable (saleor/circuit.py).
    circuits: Circuits = field(default_factory=Circuits)
    # Work run after an answer was sent (background.py).
    background: Background = field(default_factory=Background)
    # This app's Prometheus counters (metrics.py).
    metrics: Metrics = field(default_factory=Metrics)
    # What wakes the relay, the confirmer loop, the reconciler and the payout worker early (wakeups.py).
    wakeups: Wakeups = field(default_factory=Wakeups)
    # Which callbacks are confirmed at once, which left to the confirmer loop (callback_queue.py).
    callback_queue: CallbackQueue = field(init=False)
    # Installations and channel configurations, as every webhook reads them.
    cache: ReadCache = field(init=False)
    # Callbacks recorded together in a burst share a transaction (db/grouped.py).
    callback_writes: WriteGroups = field(init=False)
    # This process as the holder of leases on outbox rows, callbacks and payments (db/leases.py).
    leases: Leases = field(init=False)

    def __post_init__(self) -> None:
        self.callback_queue = CallbackQueue(self.background, self.wakeups.callbacks, RequestPressure())
        self.cache = ReadCache(self.db)
        self.callback_writes = WriteGroups(self.db)
        # The clock read at each call: tests replace `services.clock` after construction.
        self.leases = Leases(self.db, lambda: self.clock())
        self.leases.on_freed.append(self.wakeups.wake_all)

    async def aclose(self) -> None:
        await self.background.drain()
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
