"""A database that goes away, from inside SQLAlchemy: for the fault tests.

Every statement the app sends passes SQLAlchemy's `before_cursor_execute`
event (SQLite's `BEGIN IMMEDIATE` included); the outage raises there what a
lost database raises — `sqlalchemy.exc.OperationalError`, or the bare
`OSError` that asyncpg lets through when it cannot connect — so a
transaction fails at its start or halfway and is rolled back, as it would
be. Nothing in the app is patched: what it sees is its engine failing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from saleor_lengo.db.engine import Database


def operational_error() -> BaseException:
    return OperationalError("(injected)", None, ConnectionError("the database went away (injected by the test)"))


def connection_refused() -> BaseException:
    return ConnectionRefusedError(111, "Connect call failed (injected by the test)")


class DatabaseOutage:
    """Counts the statements sent to `db` and fails the ones it is told to."""

    def __init__(self, db: Database, error: Callable[[], BaseException] = operational_error) -> None:
        self.db = db
        self.error = error
        self.statements = 0  # counted while armed
        self.failures = 0
        self._armed = False
        self._down = False
        self._fail_at: frozenset[int] = frozenset()
        self._fail_if: Callable[[str], bool] | None = None
        event.listen(db.sync_engine, "before_cursor_execute", self._before)

    def close(self) -> None:
        event.remove(self.db.sync_engine, "before_cursor_execute", self._before)

    @contextmanager
    def down(self) -> Iterator[None]:
        """Every statement fails while inside."""
        with self._arm(down=True):
            yield

    @contextmanager
    def counting(
        self, *, fail_at: frozenset[int] = frozenset(), fail_if: Callable[[str], bool] | None = None
    ) -> Iterator[None]:
        """Statements are counted from 1; those numbered in `fail_at`, or whose SQL `fail_if` picks, fail."""
        with self._arm(fail_at=fail_at, fail_if=fail_if):
            yield

    @contextmanager
    def _arm(
        self, *, down: bool = False, fail_at: frozenset[int] = frozenset(), fail_if: Callable[[str], bool] | None = None
    ) -> Iterator[None]:
        self.statements, self.failures = 0, 0
        self._armed, self._down, self._fail_at, self._fail_if = True, down, fail_at, fail_if
        try:
            yield
        finally:
            self._armed, self._down, self._fail_at, self._fail_if = False, False, frozenset(), None

    def _before(self, _conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool) -> None:
        if not self._armed:
            return
        self.statements += 1
        if self._down or self.statements in self._fail_at or (self._fail_if is not None and self._fail_if(statement)):
            self.failures += 1
            raise self.error()
