"""SQLite's write lock held by another process: waited for without blocking the event loop, then refused alike.

The app runs SQLite on the loop's own thread (`saleor_lengo/db/engine.py`), so
a writer must never sit in SQLite's busy handler while another process
(another `serve` worker, a CLI command) holds the lock: it retries
`BEGIN IMMEDIATE` with asyncio sleeps instead. "Another process" here is a
plain `sqlite3` connection on the same file, as any process's would be.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from saleor_lengo.db import engine as engine_module
from saleor_lengo.db.engine import Database


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'lock.sqlite3'}")
    async with database.write() as conn:
        await conn.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"))
    yield database
    await database.dispose()


@contextmanager
def another_process_writing(db: Database) -> Iterator[sqlite3.Connection]:
    path = db.url.split(":///", 1)[1]
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield other
    finally:
        if other.in_transaction:
            other.execute("ROLLBACK")
        other.close()


async def insert(db: Database, body: str) -> None:
    async with db.write() as conn:
        await conn.execute(text("INSERT INTO notes (body) VALUES (:body)"), {"body": body})


async def bodies(db: Database) -> list[str]:
    async with db.read() as conn:
        return [row.body for row in (await conn.execute(text("SELECT body FROM notes ORDER BY id"))).all()]


async def test_a_writer_waits_for_another_process_without_blocking_the_loop(db: Database) -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    with another_process_writing(db) as other:
        other.execute("INSERT INTO notes (body) VALUES ('theirs')")
        clock = asyncio.create_task(ticker())
        writer = asyncio.create_task(insert(db, "ours"))
        await asyncio.sleep(0.3)
        waited_ticks = ticks
        assert not writer.done()  # still waiting for the lock…
        assert await bodies(db) == []  # …and reads go on meanwhile (WAL), seeing only what was committed
        other.execute("COMMIT")
        await asyncio.wait_for(writer, timeout=5)
        clock.cancel()

    assert waited_ticks >= 10  # the loop kept running while the writer waited (a blocked loop gives 0)
    assert await bodies(db) == ["theirs", "ours"]


async def test_a_lock_held_past_the_busy_timeout_is_refused_as_database_is_locked(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "SQLITE_BUSY_TIMEOUT_MS", 300)

    with another_process_writing(db), pytest.raises(OperationalError, match="database is locked"):
        await insert(db, "ours")

    assert await bodies(db) == []
    await insert(db, "after")  # the connection the refused writer used is fine afterwards
    assert await bodies(db) == ["after"]
