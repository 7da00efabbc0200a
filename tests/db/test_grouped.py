"""Writes queued together share one transaction on SQLite (`saleor_lengo/db/grouped.py`).

What must hold, as if each write had its own transaction: a write that fails
is undone alone and its caller gets its error; a caller hears back only once
its write is committed; a group that cannot commit stores nothing and every
caller gets the error; a caller that gave up before its turn writes nothing.
PostgreSQL runs each write in its own transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from saleor_lengo.db.engine import Database, Tx
from saleor_lengo.db.grouped import WriteGroups
from saleor_lengo.db.migrate import migrate
from saleor_lengo.db.prepared import prepared
from saleor_lengo.db.schema import installations, outbox
from saleor_lengo.settings import _database_url

INSERT_INSTALLATION = prepared(installations.insert())


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(_database_url(database_url))
    await migrate(database)
    yield database
    await database.dispose()


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    """Where groups are formed."""
    database = Database(f"sqlite:///{tmp_path / 'grouped.sqlite3'}")
    await migrate(database)
    yield database
    await database.dispose()


def installation(n: int) -> dict[str, Any]:
    return {
        "saleor_api_url": f"https://shop{n}.example/graphql/", "app_id": f"QXBwOj{n}", "token_enc": "x",
        "jwks": "{}", "jwks_fetched_at": 1.0, "created_at": 1.0, "updated_at": 1.0,
    }


async def stored_urls(db: Database) -> set[str]:
    async with db.read() as tx:
        return set((await tx.execute(select(installations.c.saleor_api_url))).scalars())


class Recorder:
    """Works that insert an installation each and note the transaction they ran in."""

    def __init__(self) -> None:
        self.transactions: list[Tx] = []  # kept alive, so their ids stay distinct
        self.ran: list[int] = []

    def insert(self, n: int, *, then_fail: bool = False) -> Any:
        async def work(tx: Tx) -> int:
            self.transactions.append(tx)
            self.ran.append(n)
            result = await tx.execute(INSERT_INSTALLATION, installation(n))
            if then_fail:
                raise ValueError(f"work {n} failed after its insert")
            return int(result.inserted_primary_key[0])  # type: ignore[index]

        return work


async def test_writes_queued_together_share_one_sqlite_transaction_and_all_commit(db: Database) -> None:
    groups, rec = WriteGroups(db), Recorder()
    ids = await asyncio.gather(*(groups.run(rec.insert(n)) for n in range(10)))
    assert len(set(ids)) == 10
    assert await stored_urls(db) == {f"https://shop{n}.example/graphql/" for n in range(10)}
    if db.is_sqlite:
        assert len({id(tx) for tx in rec.transactions}) == 1
    else:
        assert len({id(tx) for tx in rec.transactions}) == 10


async def test_a_group_is_bounded(sqlite_db: Database) -> None:
    db = sqlite_db
    groups, rec = WriteGroups(db, max_group=3), Recorder()
    await asyncio.gather(*(groups.run(rec.insert(n)) for n in range(7)))
    assert len({id(tx) for tx in rec.transactions}) == 3  # 3 + 3 + 1
    assert len(await stored_urls(db)) == 7


async def test_a_failing_write_is_undone_alone_and_its_caller_gets_its_error(db: Database) -> None:
    groups, rec = WriteGroups(db), Recorder()
    hooks: list[int] = []

    async def failing_with_hook(tx: Tx) -> None:
        tx.after_commit(lambda: hooks.append(99))
        await rec.insert(1, then_fail=True)(tx)

    async def refused_statement(tx: Tx) -> None:
        await tx.execute(INSERT_INSTALLATION, {**installation(3), "token_enc": None})

    async def with_hook(n: int, tx: Tx) -> int:
        tx.after_commit(lambda: hooks.append(n))
        return int(await rec.insert(n)(tx))

    results = await asyncio.gather(
        groups.run(lambda tx: with_hook(0, tx)),
        groups.run(failing_with_hook),
        groups.run(refused_statement),  # a constraint refuses this one statement
        groups.run(lambda tx: with_hook(2, tx)),
        return_exceptions=True,
    )
    assert isinstance(results[0], int) and isinstance(results[3], int)
    assert isinstance(results[1], ValueError) and "work 1" in str(results[1])
    assert isinstance(results[2], IntegrityError)
    assert await stored_urls(db) == {"https://shop0.example/graphql/", "https://shop2.example/graphql/"}
    assert sorted(hooks) == [0, 2]  # the failed write's after-commit hook never runs
    if db.is_sqlite:
        assert len({id(tx) for tx in rec.transactions}) == 1


async def test_a_group_that_cannot_commit_stores_nothing_and_tells_every_caller(sqlite_db: Database) -> None:
    db = sqlite_db
    groups, rec = WriteGroups(db), Recorder()

    async def breaks_the_commit(tx: Tx) -> None:
        # Checked at COMMIT: an outbox row for an installation that does not exist.
        await tx.execute(text("PRAGMA defer_foreign_keys=ON"))
        await tx.execute(outbox.insert(), {
            "installation_id": 424242, "saleor_transaction_id": "VHJhbnNhY3Rpb246MQ==", "event_type": "CHARGE_SUCCESS",
            "psp_reference": "p", "amount": "1", "message": "Paid.", "currency": "GNF", "available_actions": "[]", "event_time": 1.0,
            "state": "pending", "next_attempt_at": 1.0, "created_at": 1.0, "already_processed": 0,
        })

    results = await asyncio.gather(
        groups.run(rec.insert(0)), groups.run(breaks_the_commit), groups.run(rec.insert(1)), return_exceptions=True
    )
    assert all(isinstance(r, IntegrityError) for r in results), results
    assert await stored_urls(db) == set()
    async with db.read() as tx:
        assert (await tx.execute(select(func.count()).select_from(outbox))).scalar_one() == 0
    # The next group is unaffected.
    assert await groups.run(rec.insert(5)) > 0
    assert await stored_urls(db) == {"https://shop5.example/graphql/"}


async def test_a_caller_that_gave_up_before_its_turn_writes_nothing(sqlite_db: Database) -> None:
    db = sqlite_db
    groups, rec = WriteGroups(db), Recorder()
    first = asyncio.ensure_future(groups.run(rec.insert(0)))
    gone = asyncio.ensure_future(groups.run(rec.insert(1)))
    await asyncio.sleep(0)  # both queued; the group is written at the next turn of the loop
    gone.cancel()
    assert await first > 0
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert rec.ran == [0]
    assert await stored_urls(db) == {"https://shop0.example/graphql/"}


async def test_a_write_arriving_alone_is_committed_at_once(db: Database) -> None:
    groups, rec = WriteGroups(db), Recorder()
    for n in range(3):
        await groups.run(rec.insert(n))
        assert f"https://shop{n}.example/graphql/" in await stored_urls(db)
    assert len({id(tx) for tx in rec.transactions}) == 3


async def test_when_the_flusher_is_cancelled_no_caller_is_left_waiting(sqlite_db: Database) -> None:
    """At shutdown: the group being written is rolled back, the ones queued behind it are cancelled too."""
    db = sqlite_db
    groups, rec = WriteGroups(db, max_group=2), Recorder()
    started = asyncio.Event()

    async def slow(tx: Tx) -> None:
        started.set()
        await asyncio.sleep(3600)  # a write that never ends

    callers = [asyncio.ensure_future(groups.run(w)) for w in (slow, rec.insert(1), rec.insert(2), rec.insert(3))]
    await started.wait()
    [flusher] = [t for t in asyncio.all_tasks() if t.get_name() == "grouped-writes"]
    flusher.cancel()
    results = await asyncio.wait_for(asyncio.gather(*callers, return_exceptions=True), 5)
    assert all(isinstance(r, asyncio.CancelledError) for r in results), results
    assert rec.ran == []  # the other write of the cancelled group never ran; the queued ones neither
    assert await stored_urls(db) == set()
    # The next write starts a new flusher.
    assert await groups.run(rec.insert(4)) > 0
    assert await stored_urls(db) == {"https://shop4.example/graphql/"}
