"""The database handle: read and write transactions that behave alike on both engines.

SQLite has no row locks, so every write transaction starts with
`BEGIN IMMEDIATE`: it takes the database's write lock up front, which
serialises writers across processes (`serve --workers N`) the way
`SELECT … FOR UPDATE` does on PostgreSQL. Reads use a plain deferred `BEGIN`
and, in WAL mode, never wait for writers.

Within one process, SQLite writers also queue on an asyncio lock before
`BEGIN IMMEDIATE`: a writer waiting in SQLite's busy handler polls the file
lock with sleeps of up to 100 ms, so under concurrent writes the lock sat
idle between holders; the asyncio lock hands it over at once. Connections
are pooled: opening one through aiosqlite costs a thread, a connect and the
PRAGMAs below — more than a short transaction (see benchmarks/README.md).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

SQLITE_BUSY_TIMEOUT_MS = 15_000
SQLITE_POOL_SIZE = 5


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            # Kept connections, and a few more under load; past that a
            # transaction waits for one as long as it would for a busy file.
            # Their aiosqlite threads are daemons (SQLAlchemy's dialect makes
            # them so): an engine nobody disposes does not keep a process alive.
            kwargs["poolclass"] = AsyncAdaptedQueuePool
            kwargs["pool_size"] = SQLITE_POOL_SIZE
            kwargs["max_overflow"] = SQLITE_POOL_SIZE
            kwargs["pool_timeout"] = SQLITE_BUSY_TIMEOUT_MS / 1000
            kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        else:
            kwargs["pool_pre_ping"] = True
            kwargs["pool_size"] = 10
            kwargs["max_overflow"] = 10
            kwargs["pool_timeout"] = 5
            kwargs["connect_args"] = {"timeout": 5, "command_timeout": 15}
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        self._writer: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        if self.is_sqlite:
            _install_sqlite_hooks(self.engine)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            async with conn.begin():
                yield conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction that commits on success and rolls back on any error."""
        if not self.is_sqlite:
            async with self._write_transaction() as conn:
                yield conn
            return
        lock = self._sqlite_writer()
        try:
            # As long as SQLite's own busy timeout: same wait, same error.
            async with asyncio.timeout(SQLITE_BUSY_TIMEOUT_MS / 1000):
                await lock.acquire()
        except TimeoutError:
            raise OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked")) from None
        try:
            async with self._write_transaction() as conn:
                yield conn
        finally:
            lock.release()

    @asynccontextmanager
    async def _write_transaction(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(immediate=True)
            async with conn.begin():
                yield conn

    def _sqlite_writer(self) -> asyncio.Lock:
        """This process's queue of SQLite writers (one per event loop: tests run several)."""
        loop = asyncio.get_running_loop()
        if self._writer is None or self._writer[0] is not loop:
            self._writer = (loop, asyncio.Lock())
        return self._writer[1]

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


def _install_sqlite_hooks(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves (pysqlite's own transaction handling
        # would defer it and never take the write lock up front).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def now() -> float:
    return time.time()
