"""A database that fails under the app, on the path production runs: for the fault tests.

SQLite: the faults are injected into the `sqlite3` connections themselves,
which the raw fast path (`db/prepared.py`, `_RawSqliteTx`) and SQLAlchemy
share, so the app runs exactly as in production — nothing in the engine
listens for statements or switches path. Each pooled connection, while
checked out, gets a trace callback (numbers each statement as it starts:
BEGIN, BEGIN IMMEDIATE, SELECT/INSERT/UPDATE/DELETE, SAVEPOINT, RELEASE,
ROLLBACK TO and COMMIT — `sqlite3`'s own `commit()` sends a COMMIT too) and
a progress handler that interrupts the statement chosen to fail. SQLite
then fails it as it fails a statement whose disk or lock went wrong:
`sqlite3.OperationalError: interrupted`; an interrupted write — or COMMIT —
leaves SQLite's transaction rolled back or still open, exactly the two states
the app must clean up after. PRAGMAs (connection settings, not statements of
a transaction) and plain ROLLBACKs (the clean-up itself) are neither
counted nor failed. `locked()` holds the write lock from another connection
to the same file, as another worker process would. `DatabaseOutage(db,
cannot_connect=True).down()` empties the pool and has every new connection
fail as SQLite fails to open a file it cannot reach.

PostgreSQL has one path, through SQLAlchemy and asyncpg: a statement picked
to fail (or the COMMIT) first loses its connection (the asyncpg connection
is terminated under it, as when the server restarts), and `down()` raises
what a lost database raises — `sqlalchemy.exc.OperationalError`, or, with
`cannot_connect`, the bare `OSError` asyncpg lets through when it cannot connect.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from saleor_lengo.db.engine import Database


def _counted(sql: str) -> bool:
    words = sql.split(None, 2)
    first = words[0].upper() if words else ""
    if first == "PRAGMA":
        return False
    return first != "ROLLBACK" or (len(words) > 1 and words[1].upper() == "TO")


class DatabaseOutage:
    """Counts the statements sent to `db` and fails the ones it is told to."""

    def __init__(self, db: Database, *, cannot_connect: bool = False) -> None:
        self.db = db
        self.cannot_connect = cannot_connect
        self.statements = 0  # counted while armed
        self.failures = 0
        self.kinds: list[str] = []  # the first word(s) of each counted statement, in order
        self._armed = False
        self._down = False
        self._fail_at: frozenset[int] = frozenset()
        self._fail_if: Callable[[str], bool] | None = None
        self._failing: set[int] = set()  # id() of the sqlite3 connections whose running statement must fail
        if db.is_sqlite:
            event.listen(db.sync_engine, "checkout", self._watch_sqlite)
            event.listen(db.sync_engine, "checkin", self._unwatch_sqlite)
        else:
            event.listen(db.sync_engine, "before_cursor_execute", self._before_postgresql)
            event.listen(db.sync_engine, "commit", self._commit_postgresql)

    def close(self) -> None:
        if self.db.is_sqlite:
            event.remove(self.db.sync_engine, "checkout", self._watch_sqlite)
            event.remove(self.db.sync_engine, "checkin", self._unwatch_sqlite)
        else:
            event.remove(self.db.sync_engine, "before_cursor_execute", self._before_postgresql)
            event.remove(self.db.sync_engine, "commit", self._commit_postgresql)

    @contextmanager
    def down(self) -> Iterator[None]:
        """Every statement fails while inside (with `cannot_connect`, on SQLite: every connection)."""
        if not (self.db.is_sqlite and self.cannot_connect):
            with self._arm(down=True):
                yield
            return
        self.db.sync_engine.pool.dispose()  # the pooled connections are closed: each one must be opened
        event.listen(self.db.sync_engine, "connect", self._cannot_open)
        try:
            with self._arm():
                yield
        finally:
            event.remove(self.db.sync_engine, "connect", self._cannot_open)

    @contextmanager
    def counting(
        self, *, fail_at: frozenset[int] = frozenset(), fail_if: Callable[[str], bool] | None = None
    ) -> Iterator[None]:
        """Statements are counted from 1; those numbered in `fail_at`, or whose SQL `fail_if` picks, fail."""
        with self._arm(fail_at=fail_at, fail_if=fail_if):
            yield

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Another connection (another worker, a CLI command) holds SQLite's write lock while inside."""
        assert self.db.is_sqlite, "PostgreSQL has row locks, not a database lock"
        path = self.db.sync_engine.url.database
        assert path, "an in-memory database cannot be locked by another connection"
        holder = sqlite3.connect(path, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            yield
            holder.rollback()
        finally:
            holder.close()

    @contextmanager
    def _arm(
        self, *, down: bool = False, fail_at: frozenset[int] = frozenset(), fail_if: Callable[[str], bool] | None = None
    ) -> Iterator[None]:
        self.statements, self.failures, self.kinds = 0, 0, []
        self._armed, self._down, self._fail_at, self._fail_if = True, down, fail_at, fail_if
        try:
            yield
        finally:
            self._armed, self._down, self._fail_at, self._fail_if = False, False, frozenset(), None

    def _picks(self, statement: str) -> bool:
        """Counts `statement`; whether it is to fail."""
        self.statements += 1
        self.kinds.append(" ".join(statement.split()[:2]).upper())
        fail = self._down or self.statements in self._fail_at or (self._fail_if is not None and self._fail_if(statement))
        if fail:
            self.failures += 1
        return fail

    # --- SQLite: on the sqlite3 connection both paths use --------------------------

    def _watch_sqlite(self, dbapi: sqlite3.Connection, _record: Any, _proxy: Any) -> None:
        def trace(statement: str) -> None:
            if self._armed and _counted(statement) and self._picks(statement):
                self._failing.add(id(dbapi))
            else:
                self._failing.discard(id(dbapi))

        def progress() -> int:
            return 1 if id(dbapi) in self._failing else 0

        dbapi.set_trace_callback(trace)
        # Called from the first instructions of every statement: the chosen one fails before it completes.
        dbapi.set_progress_handler(progress, 1)

    def _unwatch_sqlite(self, dbapi: sqlite3.Connection, _record: Any) -> None:
        if dbapi is None:  # invalidated
            return
        dbapi.set_trace_callback(None)
        dbapi.set_progress_handler(None, 1)
        self._failing.discard(id(dbapi))

    def _cannot_open(self, _dbapi: sqlite3.Connection, _record: Any) -> None:
        self.failures += 1
        raise sqlite3.OperationalError("unable to open database file")

    # --- PostgreSQL: its one path, SQLAlchemy on asyncpg ----------------------------

    def _before_postgresql(
        self, conn: Connection, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
    ) -> None:
        if not self._armed or not self._picks(statement):
            return
        if self._down:
            if self.cannot_connect:
                raise ConnectionRefusedError(111, "Connect call failed (injected by the test)")
            raise OperationalError("(injected)", None, ConnectionError("the database went away (injected by the test)"))
        _lose_connection(conn)

    def _commit_postgresql(self, conn: Connection) -> None:
        if self._armed and self._picks("COMMIT"):
            _lose_connection(conn)


def _lose_connection(conn: Connection) -> None:
    """Close the asyncpg connection under the statement about to run: what it sends next finds no server."""
    adapted: Any = conn.connection.dbapi_connection
    adapted._connection.terminate()
