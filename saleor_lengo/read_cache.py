"""This process's copies of what every webhook reads and hardly ever changes.

Every Saleor webhook needs its installation (to verify the signature) and
most need the channel's configuration; both change only when the app is
installed, its keys rotate or a merchant edits a configuration. Reading them
was two transactions per webhook, most of a gateway-initialize's cost
(benchmarks/README.md).

Freshness:
- A write this process makes through `installations` or `configurations`
  invalidates every copy once its transaction commits (`Database.generation`).
  A copy is tagged with the generation current *before* it was read, so a
  read that raced such a write is never kept as current.
- A write made by another process (another `serve` worker, the CLI) is seen
  within `TTL_SECONDS`.
- The route re-reads an installation before refusing a webhook its copy
  could not verify or that names another app (`fresh=True`), so a re-install
  or a key rotation done by another worker costs no refused webhook.
- An unknown installation is never remembered: a new install is served at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from saleor_lengo import configurations
from saleor_lengo.saleor import installations
from saleor_lengo.configurations import Configuration
from saleor_lengo.db.generation import Generation
from saleor_lengo.db.engine import Database
from saleor_lengo.saleor.installations import Installation

TTL_SECONDS = 1.0
MAX_ENTRIES = 1024  # a bound against a flood of made-up channel ids

K = TypeVar("K")
V = TypeVar("V")


class _Copies(dict[K, tuple[int, float, V]]):
    def __init__(self, generation: Generation) -> None:
        super().__init__()
        self._generation = generation

    def get_current(self, key: K, now: float) -> tuple[bool, V | None]:
        entry = self.get(key)
        if entry is None or entry[0] != self._generation.current() or now - entry[1] > TTL_SECONDS:
            return False, None
        return True, entry[2]

    def keep(self, key: K, read_under: int, now: float, value: V) -> None:
        if len(self) >= MAX_ENTRIES:
            self.clear()
        self[key] = (read_under, now, value)


class ReadCache:
    def __init__(self, db: Database, clock: Callable[[], float] = time.monotonic) -> None:
        self._db = db
        self._clock = clock
        self._installations: _Copies[str, Installation] = _Copies(db.generation)
        self._channels: _Copies[tuple[int, str | None, str | None], Configuration | None] = _Copies(db.generation)
        self._configurations: _Copies[int, Configuration | None] = _Copies(db.generation)

    async def installation(self, saleor_api_url: str, *, fresh: bool = False) -> Installation | None:
        now = self._clock()
        if not fresh:
            hit, inst = self._installations.get_current(saleor_api_url, now)
            if hit:
                return inst
        read_under = self._db.generation.current()
        inst = await installations.find(self._db, saleor_api_url)
        if inst is None:
            self._installations.pop(saleor_api_url, None)
        else:
            self._installations.keep(saleor_api_url, read_under, now, inst)
        return inst

    async def channel_configuration(
        self, installation_id: int, channel_id: str | None, channel_slug: str | None
    ) -> Configuration | None:
        """`configurations.for_channel`, from this process's copy when it is current."""
        key = (installation_id, channel_id, channel_slug)
        now = self._clock()
        hit, config = self._channels.get_current(key, now)
        if hit:
            return config
        read_under = self._db.generation.current()
        async with self._db.read() as conn:
            config = await configurations.for_channel(conn, installation_id, channel_id, channel_slug)
        self._channels.keep(key, read_under, now, config)
        return config

    async def configuration(self, configuration_id: int) -> Configuration | None:
        """`configurations.get_by_id`, from this process's copy when it is current."""
        now = self._clock()
        hit, config = self._configurations.get_current(configuration_id, now)
        if hit:
            return config
        read_under = self._db.generation.current()
        async with self._db.read() as conn:
            config = await configurations.get_by_id(conn, configuration_id)
        self._configurations.keep(configuration_id, read_under, now, config)
        return config
