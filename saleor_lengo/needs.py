"""The collaborators a use case may ask for, one small protocol each.

A use case declares what it uses as a protocol built from these (each
flow's `Needs`), and takes its collaborators as that: its signature says
what it touches, mypy refuses a use of anything it did not declare, and a
test may hand it an object holding only those. The process builds them
once (`services.Services` satisfies every `Needs`); only the composition
roots — the web app, the workers, the commands — know that object.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import httpx

    from saleor_lengo.background import Background
    from saleor_lengo.callback_queue import CallbackQueue
    from saleor_lengo.crypto import Cipher
    from saleor_lengo.db.engine import Database
    from saleor_lengo.db.grouped import WriteGroups
    from saleor_lengo.db.leases import Leases
    from saleor_lengo.metrics import Metrics
    from saleor_lengo.read_cache import ReadCache
    from saleor_lengo.saleor.circuit import Circuits
    from saleor_lengo.saleor.client import SaleorClient
    from saleor_lengo.saleor.jwks import JwksKeeper
    from saleor_lengo.settings import Settings
    from saleor_lengo.wakeups import Wakeups


class HasDb(Protocol):
    @property
    def db(self) -> Database: ...


class HasClock(Protocol):
    """Wall-clock seconds (`time.time`): what is stored and compared with stored times."""

    @property
    def clock(self) -> Callable[[], float]: ...


class HasTimer(Protocol):
    """A monotonic clock and a sleep: how a use case's waits and retries are timed.

    Tests pass ones that take no time. What stays on real time is what waits
    for the world outside the process: I/O deadlines (`asyncio.timeout`),
    SQLite's lock held by another process (db/engine.py), a burst of real
    requests (pressure.py), the lease heartbeat other processes watch, and
    the background loops' pauses, which a wake-up event cuts short.
    """

    @property
    def monotonic(self) -> Callable[[], float]: ...

    @property
    def sleep(self) -> Callable[[float], Awaitable[None]]: ...


class HasSettings(Protocol):
    @property
    def settings(self) -> Settings: ...


class HasCipher(Protocol):
    @property
    def cipher(self) -> Cipher: ...


class HasHttp(Protocol):
    """The outbound HTTP pool, for Lengo's API."""

    @property
    def http(self) -> httpx.AsyncClient: ...


class HasSaleor(Protocol):
    @property
    def saleor(self) -> SaleorClient: ...


class HasJwks(Protocol):
    @property
    def jwks(self) -> JwksKeeper: ...


class HasCache(Protocol):
    @property
    def cache(self) -> ReadCache: ...


class HasLeases(Protocol):
    @property
    def leases(self) -> Leases: ...


class HasWakeups(Protocol):
    @property
    def wakeups(self) -> Wakeups: ...


class HasMetrics(Protocol):
    @property
    def metrics(self) -> Metrics: ...


class HasCircuits(Protocol):
    @property
    def circuits(self) -> Circuits: ...


class HasBackground(Protocol):
    @property
    def background(self) -> Background: ...


class HasCallbackQueue(Protocol):
    @property
    def callback_queue(self) -> CallbackQueue: ...


class HasCallbackWrites(Protocol):
    @property
    def callback_writes(self) -> WriteGroups: ...


__all__ = [
    "HasBackground",
    "HasCache",
    "HasCallbackQueue",
    "HasCallbackWrites",
    "HasCipher",
    "HasCircuits",
    "HasClock",
    "HasDb",
    "HasHttp",
    "HasJwks",
    "HasLeases",
    "HasMetrics",
    "HasSaleor",
    "HasSettings",
    "HasTimer",
    "HasWakeups",
]
