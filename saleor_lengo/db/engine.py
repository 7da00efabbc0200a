"""The database handle: read and write transactions that behave alike on both engines.

SQLite has no row locks, so every write transaction starts with
`BEGIN IMMEDIATE`: it takes the database's write lock up front, which
serialises writers across processes (`serve --workers N`) the way
`SELECT … FOR UPDATE` does on PostgreSQL. Reads use a plain deferred `BEGIN`
and, in WAL mode, never wait for writers.

SQLite runs on the event loop's own thread, through the standard library's
`sqlite3` (SQLAlchemy's synchronous pysqlite dialect). A statement on a local
file takes microseconds; handing each one to a driver thread (aiosqlite) cost
a thread wake-up, a GIL hand-off and an event-loop wake-up per trip, nine trips
per one-SELECT transaction — about 2 ms of CPU per transaction, most of every
request's cost (benchmarks/README.md). The one wait that could block the loop
is the write lock another process holds: so `BEGIN IMMEDIATE` is tried without
SQLite's busy handler and, while the lock is taken, retried after an asyncio
sleep, up to the same 15 s SQLite's busy timeout gave. Within one process,
writers queue on an asyncio lock first, so only other processes (another
worker, a CLI command) ever make it retry. WAL with `synchronous=NORMAL`
means a commit writes to the log without an fsync: nothing blocks on the disk.
A SQLite transaction is begun and committed on the `sqlite3` connection
itself, and the payment path's fixed statements run straight on it
(`_RawSqliteTx`, `prepared.py`); other statements go through a SQLAlchemy
Connection joined to the same transaction. That is the one path, always:
the fault tests strike the `sqlite3` connections it runs on
(`tests/faults/outage.py`), so what they prove is what runs in production.

PostgreSQL goes through asyncpg as before. Both hand the code inside a
transaction a `Tx`, whose `execute` is awaited the same way on either.
"""

from __future__ import annotations

import abc
import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar, TypeVarTuple, Unpack, cast, overload

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import PoolProxiedConnection, QueuePool, StaticPool
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.selectable import TypedReturnsRows

from saleor_lengo.db import prepared
from saleor_lengo.db.generation import Generation

SQLITE_BUSY_TIMEOUT_MS = 15_000
# Kept open between transactions. More are opened when more transactions are
# in flight (each is a local file open and four PRAGMAs, ~0.1 ms) and closed
# when returned: a checkout must never wait, since the loop that would wait is
# the one the holders need to finish.
SQLITE_POOL_SIZE = 10
# A read in WAL mode waits only in rare moments (recovery after a crash, a
# checkpoint resetting the log); it may block the loop that briefly.
SQLITE_READ_BUSY_TIMEOUT_MS = 2_000
_SQLITE_BUSY_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})

T = TypeVar("T")
_Ts = TypeVarTuple("_Ts")


class Tx(abc.ABC):
    """The connection of one transaction: what code inside `read()`/`write()` executes on."""

    __slots__ = ("_after_commit", "_generation")

    def __init__(self, generation: Generation) -> None:
        self._after_commit: list[Callable[[], None]] = []
        self._generation = generation

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once this transaction has committed (not if it rolls back)."""
        self._after_commit.append(callback)

    def settings_changed(self) -> None:
        """This transaction writes an installation or a configuration: cached copies are stale once it commits."""
        self.after_commit(self._generation.bump)

    def _committed(self) -> None:
        for callback in self._after_commit:
            callback()

    def _sqlite_control(self, sql: str) -> None:
        """A SAVEPOINT, RELEASE or ROLLBACK TO on this SQLite transaction (`grouped.py`)."""
        # Not a gap: grouped writes run on SQLite only, PostgreSQL's each in its own transaction.
        raise TypeError(f"{type(self).__name__} takes no savepoints: grouped writes are SQLite's only")

    # Typed as SQLAlchemy types its own execute: a select of columns gives rows of their types.
    @overload
    async def execute(self, statement: TypedReturnsRows[Unpack[_Ts]], parameters: Any = None) -> CursorResult[Unpack[_Ts]]: ...

    @overload
    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Unpack[tuple[Any, ...]]]: ...

    @abc.abstractmethod
    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Unpack[tuple[Any, ...]]]: ...


class _RawSqliteTx(Tx):
    """A transaction run on the `sqlite3` connection itself (BEGIN, prepared statements, COMMIT).

    SQLAlchemy's Connection set-up, begin and commit cost more than SQLite's
    own work for the short transactions of the payment path
    (benchmarks/README.md). A statement `prepared.py` does not run makes a
    SQLAlchemy Connection join this same DBAPI connection and transaction
    (its "begin" finds the transaction open and sends nothing); from then on
    that Connection commits or rolls back, and returns the connection to the pool.
    """

    __slots__ = ("_engine", "_fairy", "_dbapi", "_joined")

    def __init__(self, generation: Generation, engine: Engine, fairy: PoolProxiedConnection) -> None:
        super().__init__(generation)
        self._engine = engine
        self._fairy = fairy
        self._dbapi: sqlite3.Connection = fairy.driver_connection  # type: ignore[assignment]
        self._joined: Connection | None = None

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Unpack[tuple[Any, ...]]]:
        if prepared.is_marked(statement) and (parameters is None or type(parameters) is dict):
            plan = prepared.plan(statement, parameters, self._engine.dialect)
            if plan is not None:
                # The part of CursorResult's interface the app uses (see db/prepared.py).
                return cast("CursorResult[Unpack[tuple[Any, ...]]]", plan.run(self._dbapi, parameters))
        if self._joined is None:
            self._joined = Connection(self._engine, connection=self._fairy)
        return self._joined.execute(statement, parameters)

    def _sqlite_control(self, sql: str) -> None:
        # On sqlite3 itself even when a SQLAlchemy Connection joined: SQLite
        # nests the savepoint in the one transaction either way.
        _raw(sql, lambda: self._dbapi.execute(sql))

    def end(self, *, commit: bool) -> None:
        """Commit (or roll back), then give the connection back to the pool.

        A COMMIT that fails (a deferred constraint, a full disk) leaves SQLite's
        transaction open: it is rolled back here, or the pooled connection would
        refuse every later BEGIN ("cannot start a transaction within a transaction").
        """
        joined = self._joined
        try:
            if not commit:
                joined.rollback() if joined is not None else self._dbapi.rollback()
            elif joined is not None:
                joined.commit()
            else:
                _raw("COMMIT", self._dbapi.commit)
        except BaseException:
            if self._dbapi.in_transaction:
                self._dbapi.rollback()
            raise
        finally:
            if joined is not None:
                joined.close()
            else:
                self._fairy.close()


class _AsyncTx(Tx):
    __slots__ = ("_conn",)

    def __init__(self, generation: Generation, conn: AsyncConnection) -> None:
        super().__init__(generation)
        self._conn = conn

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Unpack[tuple[Any, ...]]]:
        return await self._conn.execute(statement, parameters)


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.generation = Generation()
        self._writer: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        self._async_engine: AsyncEngine | None = None
        if self.is_sqlite:
            self.sync_engine: Engine = _sqlite_engine(url)
        else:
            self._async_engine = create_async_engine(
                url,
                pool_pre_ping=True,
                pool_size=10,
                max_overflow=10,
                pool_timeout=5,
                connect_args={"timeout": 5, "command_timeout": 15},
            )
            # Where SQLAlchemy's events see every statement, on either engine.
            self.sync_engine = self._async_engine.sync_engine

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Tx]:
        if self._async_engine is not None:
            async with self._postgresql_transaction(self._async_engine) as tx:
                yield tx
            return
        fairy = _raw_begin(self.sync_engine, "BEGIN")
        async with _ending(_RawSqliteTx(self.generation, self.sync_engine, fairy)) as raw_tx:
            yield raw_tx
        raw_tx._committed()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Tx]:
        """A transaction that commits on success and rolls back on any error."""
        if self._async_engine is not None:
            # Row locks (`FOR UPDATE`) serialise writers: the same transaction as a read.
            async with self._postgresql_transaction(self._async_engine) as tx:
                yield tx
            return
        lock = self._sqlite_writer()
        deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
        try:
            # As long as SQLite's own busy timeout: same wait, same error.
            async with asyncio.timeout(SQLITE_BUSY_TIMEOUT_MS / 1000):
                await lock.acquire()
        except TimeoutError:
            raise _database_is_locked() from None
        try:
            fairy = await self._begin_immediate(deadline)
            async with _ending(_RawSqliteTx(self.generation, self.sync_engine, fairy)) as sqlite_tx:
                yield sqlite_tx
        finally:
            lock.release()
        sqlite_tx._committed()

    @asynccontextmanager
    async def _postgresql_transaction(self, engine: AsyncEngine) -> AsyncIterator[Tx]:
        async with engine.connect() as aconn, aconn.begin():
            yield (tx := _AsyncTx(self.generation, aconn))
        tx._committed()

    async def _begin_immediate(self, deadline: float) -> PoolProxiedConnection:
        """A pooled connection inside `BEGIN IMMEDIATE`, waiting for other processes' writes without blocking the loop."""

        return await _while_busy(lambda: _raw_begin(self.sync_engine, "BEGIN IMMEDIATE", busy_timeout_ms=0), deadline)

    def _sqlite_writer(self) -> asyncio.Lock:
        """This process's queue of SQLite writers (one per event loop: tests run several)."""
        loop = asyncio.get_running_loop()
        if self._writer is None or self._writer[0] is not loop:
            self._writer = (loop, asyncio.Lock())
        return self._writer[1]

    async def run_sync(self, fn: Callable[[Connection], T]) -> T:
        """`fn` on a plain connection, then commit: for Alembic and schema inspection."""
        if self._async_engine is not None:
            async with self._async_engine.connect() as aconn:
                result = await aconn.run_sync(fn)
                await aconn.commit()
                return result
        with self.sync_engine.connect() as conn:
            result = fn(conn)
            conn.commit()
            return result

    async def dedicated_connection(self) -> AsyncConnection:
        """PostgreSQL: a connection of the caller's own, kept until it closes it (a session lock's)."""
        assert self._async_engine is not None, "SQLite has no sessions to hold"
        return await self._async_engine.connect()

    async def ping(self) -> None:
        if self._async_engine is not None:
            async with self._async_engine.connect() as aconn:
                await aconn.execute(text("SELECT 1"))
            return
        with self.sync_engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        if self._async_engine is not None:
            await self._async_engine.dispose()
        else:
            self.sync_engine.dispose()


def _sqlite_engine(url: str) -> Engine:
    # The aiosqlite form earlier releases used means the same file.
    sync_url = "sqlite:" + url.split(":", 1)[1]
    in_memory = ":memory:" in url or sync_url in ("sqlite:", "sqlite://")
    kwargs: dict[str, Any] = {}
    if in_memory:
        # One database that lives as long as its one connection.
        kwargs["poolclass"] = StaticPool
    else:
        kwargs["poolclass"] = QueuePool
        kwargs["pool_size"] = SQLITE_POOL_SIZE
        kwargs["max_overflow"] = -1
    # Tests drive the app from more than one thread (Starlette's TestClient);
    # a connection is only ever used by one at a time.
    kwargs["connect_args"] = {"check_same_thread": False, "timeout": SQLITE_READ_BUSY_TIMEOUT_MS / 1000}
    engine = create_engine(sync_url, **kwargs)
    _install_sqlite_hooks(engine)
    return engine


def _install_sqlite_hooks(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves (pysqlite's own transaction handling
        # would defer it and never take the write lock up front).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_READ_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.connection.driver_connection.in_transaction:  # type: ignore[union-attr]
            return  # a Connection joining a transaction begun on sqlite3 itself (_RawSqliteTx)
        sql = "BEGIN IMMEDIATE" if conn.get_execution_options().get("immediate", False) else "BEGIN"
        conn.exec_driver_sql(sql)


async def _while_busy(attempt: Callable[[], T], deadline: float) -> T:
    """`attempt()` again after an asyncio sleep while another process holds the write lock, until `deadline`."""
    delay = 0.001
    while True:
        try:
            return attempt()
        except BaseException as exc:
            if not _is_busy(exc) or time.monotonic() >= deadline:
                raise
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.05)


@asynccontextmanager
async def _ending(tx: _RawSqliteTx) -> AsyncIterator[_RawSqliteTx]:
    """Commit when the block ends normally, roll back on any error (cancellation included)."""
    try:
        yield tx
    except BaseException:
        tx.end(commit=False)
        raise
    tx.end(commit=True)


def _raw_begin(engine: Engine, sql: str, *, busy_timeout_ms: int | None = None) -> PoolProxiedConnection:
    """A pooled connection inside `sql` (BEGIN or BEGIN IMMEDIATE), sent on sqlite3 itself.

    `busy_timeout_ms`: SQLite's busy handler for the BEGIN only (0: fail at
    once when another process holds the lock), restored afterwards.
    """
    fairy = _raw("connect", engine.raw_connection)
    dbapi: sqlite3.Connection = fairy.driver_connection  # type: ignore[assignment]
    try:
        if busy_timeout_ms is None:
            _raw(sql, lambda: dbapi.execute(sql))
            return fairy
        dbapi.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        try:
            _raw(sql, lambda: dbapi.execute(sql))
        finally:
            dbapi.execute(f"PRAGMA busy_timeout={SQLITE_READ_BUSY_TIMEOUT_MS}")
        return fairy
    except BaseException:
        fairy.close()
        raise


def _raw(sql: str, call: Callable[[], T]) -> T:
    """A sqlite3 call whose error is raised as SQLAlchemy raises it (callers catch SQLAlchemy's)."""
    try:
        return call()
    except sqlite3.Error as exc:
        raise DBAPIError.instance(sql, (), exc, sqlite3.Error) from exc


def _is_busy(exc: BaseException) -> bool:
    """SQLite's "database is locked": another process holds the write lock."""
    if not isinstance(exc, OperationalError):
        return False
    orig = exc.orig
    return isinstance(orig, sqlite3.OperationalError) and getattr(orig, "sqlite_errorcode", None) in _SQLITE_BUSY_CODES


def _database_is_locked() -> OperationalError:
    return OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked"))


def now() -> float:
    return time.time()
