"""Short writes that arrive together, committed together on SQLite ("group commit").

Why: on SQLite a write transaction's fixed costs — a pooled connection,
`BEGIN IMMEDIATE` with its busy-handler switch, the `COMMIT` — cost more
than a callback's own two statements, and in a burst they were a good part of
answering one (benchmarks/README.md). Writers of one process already queue
one behind another (`Database.write`'s writer lock); here the writes queued
while the event loop was busy elsewhere are run one after another in one
transaction instead, each inside its own SAVEPOINT:

- a write that raises is rolled back to its savepoint alone, and its caller
  gets its exception, as it would from a transaction of its own;
- a caller gets its result only once the shared COMMIT is done: what is
  acknowledged is stored;
- if the transaction cannot begin or commit, every caller of the group gets
  the error, and none of their rows is stored.

When writes arrive one at a time a group holds one write: the cost is one
turn of the event loop. PostgreSQL runs each write in a transaction of its
own: there row locks order concurrent transactions (more than one can be in
flight), and an error aborts the whole transaction rather than a statement.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from saleor_lengo.db.engine import Database, Tx

T = TypeVar("T")

# Bounds how long one transaction holds SQLite's write lock (another worker
# process waits for it) and how much one failed commit turns away.
MAX_GROUP = 64

_Work = Callable[[Tx], Awaitable[Any]]


class WriteGroups:
    """Runs `work(tx)` in a write transaction, shared on SQLite with the works queued beside it."""

    def __init__(self, db: Database, *, max_group: int = MAX_GROUP) -> None:
        self._db = db
        self._max = max_group
        # Per event loop (tests run several, some in other threads): the works
        # waiting for the loop's flusher, which removes its entry when done.
        self._queues: dict[asyncio.AbstractEventLoop, list[tuple[_Work, asyncio.Future[Any]]]] = {}
        self._flushers: set[asyncio.Task[None]] = set()

    async def run(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        if not self._db.is_sqlite:
            async with self._db.write() as tx:
                return await work(tx)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        queue = self._queues.get(loop)
        if queue is None:
            queue = self._queues[loop] = []
            # Started at the next turn of the loop: the writes of the requests
            # being handled in this turn join the same group.
            flusher = loop.create_task(self._flush(loop, queue), name="grouped-writes")
            self._flushers.add(flusher)
            flusher.add_done_callback(self._flushers.discard)
        queue.append((work, future))
        return await future

    async def _flush(self, loop: asyncio.AbstractEventLoop, queue: list[tuple[_Work, asyncio.Future[Any]]]) -> None:
        try:
            while queue:
                group = queue[: self._max]
                del queue[: self._max]
                await _write(self._db, group)
        finally:
            # A write arriving from now on starts a new flusher.
            del self._queues[loop]
            for _work, future in queue:  # left only if this flusher was cancelled (shutdown)
                future.cancel()


async def _write(db: Database, group: list[tuple[_Work, asyncio.Future[Any]]]) -> None:
    done: list[tuple[asyncio.Future[Any], Any]] = []
    try:
        async with db.write() as tx:
            for work, future in group:
                if future.cancelled():
                    continue  # its caller has gone: nothing was acknowledged, nothing to write
                hooks = len(tx._after_commit)
                tx._sqlite_control("SAVEPOINT grouped_write")
                try:
                    value = await work(tx)
                except Exception as exc:
                    # If SQLite already rolled the whole transaction back (a full
                    # disk, an I/O error), this raises too and the group fails.
                    tx._sqlite_control("ROLLBACK TO grouped_write")
                    tx._sqlite_control("RELEASE grouped_write")
                    del tx._after_commit[hooks:]
                    _resolve_future(future, exc=exc)
                    continue
                tx._sqlite_control("RELEASE grouped_write")
                done.append((future, value))
    except BaseException as exc:
        # Not begun or not committed: no write of the group is stored.
        for _work, future in group:
            if isinstance(exc, Exception):
                _resolve_future(future, exc=exc)
            else:
                future.cancel()  # the flusher itself was cancelled (shutdown)
        if not isinstance(exc, Exception):
            raise
        return
    for future, value in done:
        _resolve_future(future, value=value)


def _resolve_future(future: asyncio.Future[Any], *, value: Any = None, exc: BaseException | None = None) -> None:
    if future.done():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(value)
