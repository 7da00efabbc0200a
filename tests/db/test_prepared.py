"""The payment path's fixed statements run straight on sqlite3 (`saleor_lengo/db/prepared.py`).

What must hold: the same rows, counts and keys as through SQLAlchemy, the
same exceptions (callers catch SQLAlchemy's), the same transaction (a
rollback undoes them), SQLAlchemy still runs whatever this path does not
reproduce, and the fault tests' injector strikes this path itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import bindparam, event, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError

from saleor_lengo.db.engine import Database
from saleor_lengo.db.migrate import migrate
from saleor_lengo.db.prepared import prepared
from saleor_lengo.db.schema import installations, outbox
from tests.faults.outage import DatabaseOutage

INSERT_INSTALLATION = prepared(installations.insert())
INSERT_EVENT = prepared(outbox.insert())
BY_ID = prepared(select(outbox).where(outbox.c.id == bindparam("b_id")))
SETTLE = prepared(update(outbox).where(outbox.c.id == bindparam("b_id"), outbox.c.state == "pending"))
BY_IDS = prepared(select(outbox.c.id).where(outbox.c.id.in_(bindparam("b_ids", expanding=True))))


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'prepared.sqlite3'}")
    await migrate(database)
    yield database
    await database.dispose()


@contextmanager
def sqlalchemy_refuses() -> Iterator[None]:
    """Fail the test if SQLAlchemy's execution runs a statement: the fast path must take them all."""
    original = Connection.execute

    def refuse(self: Connection, statement: Any, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"went through SQLAlchemy: {statement}")

    Connection.execute = refuse  # type: ignore[method-assign]
    try:
        yield
    finally:
        Connection.execute = original  # type: ignore[method-assign]


def installation_values(n: int) -> dict[str, Any]:
    return {
        "saleor_api_url": f"https://shop{n}.example/graphql/", "app_id": f"QXBwOj{n}", "token_enc": "x",
        "jwks": "{}", "jwks_fetched_at": 1.0, "created_at": 1.0, "updated_at": 1.0,
    }


def event_values(installation_id: int, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "installation_id": installation_id, "saleor_transaction_id": "VHJhbnNhY3Rpb246MQ==",
        "event_type": "CHARGE_SUCCESS", "psp_reference": "pay-1", "amount": "150000", "currency": "GNF",
        "message": "Paid.", "available_actions": "[]", "event_time": Decimal("1700000000.5"), "state": "pending",
        "next_attempt_at": 5, "created_at": 1.0, "already_processed": 1,
    }
    values.update(overrides)
    return values


async def test_inserts_selects_and_updates_run_on_sqlite3_with_sqlalchemys_results(db: Database) -> None:
    async with db.write() as conn:
        with sqlalchemy_refuses():
            inst = await conn.execute(INSERT_INSTALLATION, installation_values(1))
            installation_id = inst.inserted_primary_key[0]  # type: ignore[index]
            first = await conn.execute(INSERT_EVENT, event_values(installation_id))
            second = await conn.execute(
                INSERT_EVENT, event_values(installation_id, psp_reference="pay-2", already_processed=None)
            )
            row = (await conn.execute(BY_ID, {"b_id": first.inserted_primary_key[0]})).one()  # type: ignore[index]
            settled = await conn.execute(SETTLE, {"b_id": second.inserted_primary_key[0], "state": "delivered"})
            again = await conn.execute(SETTLE, {"b_id": second.inserted_primary_key[0], "state": "dead"})
    assert isinstance(installation_id, int)
    assert second.inserted_primary_key[0] == first.inserted_primary_key[0] + 1  # type: ignore[index]
    # A Decimal bound to a Float column (sqlite3 alone refuses Decimal) and a Boolean read back as bool.
    assert row.event_time == 1700000000.5 and row.already_processed is True
    assert row._mapping["psp_reference"] == "pay-1" and row.attempts == 0  # the server default
    # The update's fixed `state = 'pending'` condition is bound too: the second one finds no row.
    assert (settled.rowcount, again.rowcount) == (1, 0)

    # The same rows through SQLAlchemy's own execution.
    async with db.read() as conn:
        rows = (await conn.execute(text("SELECT psp_reference, state, already_processed FROM outbox ORDER BY id"))).all()
    assert [tuple(r) for r in rows] == [("pay-1", "pending", 1), ("pay-2", "delivered", None)]


async def test_a_missing_row_and_scalar_access_behave_as_sqlalchemys(db: Database) -> None:
    async with db.read() as conn:
        with sqlalchemy_refuses():
            assert (await conn.execute(BY_ID, {"b_id": 999})).first() is None
            assert (await conn.execute(BY_ID, {"b_id": 999})).one_or_none() is None
            assert (await conn.execute(BY_ID, {"b_id": 999})).all() == []


async def test_a_constraint_failure_is_sqlalchemys_integrity_error_and_rolls_the_transaction_back(db: Database) -> None:
    with pytest.raises(IntegrityError):
        async with db.write() as conn:
            await conn.execute(INSERT_INSTALLATION, installation_values(1))
            await conn.execute(INSERT_INSTALLATION, installation_values(1))  # unique saleor_api_url
    async with db.read() as conn:
        count = (await conn.execute(text("SELECT count(*) FROM installations"))).scalar_one()
    assert count == 0  # the first insert was undone with the transaction


async def test_a_database_error_on_the_fast_path_is_sqlalchemys_operational_error(db: Database) -> None:
    with pytest.raises(OperationalError, match="readonly"):
        async with db.write() as conn:
            await conn.execute(text("PRAGMA query_only = 1"))
            try:
                await conn.execute(INSERT_INSTALLATION, installation_values(1))
            finally:
                await conn.execute(text("PRAGMA query_only = 0"))


async def test_what_the_fast_path_does_not_reproduce_goes_through_sqlalchemy(db: Database) -> None:
    seen: list[str] = []

    def spy(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement.split()[0])

    async with db.write() as conn:
        inst = await conn.execute(INSERT_INSTALLATION, installation_values(1))
        installation_id = inst.inserted_primary_key[0]  # type: ignore[index]
        event.listen(db.sync_engine, "before_cursor_execute", spy)
        try:
            # executemany (a list of rows), and an expanding IN, are SQLAlchemy's.
            await conn.execute(INSERT_EVENT, [event_values(installation_id), event_values(installation_id)])
            ids = (await conn.execute(BY_IDS, {"b_ids": [1, 2, 3]})).scalars().all()
        finally:
            event.remove(db.sync_engine, "before_cursor_execute", spy)
    assert ids == [1, 2]
    assert seen == ["INSERT", "SELECT"]


async def test_the_fault_injector_strikes_the_fast_path_its_commit_and_sqlalchemy_on_one_connection(db: Database) -> None:
    """The fault tests must fail the statements production runs, not a path of their own."""
    outage = DatabaseOutage(db)
    try:
        with outage.counting():
            async with db.write() as conn:
                with sqlalchemy_refuses():
                    await conn.execute(INSERT_INSTALLATION, installation_values(1))
                await conn.execute(text("UPDATE installations SET app_id = 'joined'"))
        assert outage.kinds == ["BEGIN IMMEDIATE", "INSERT INTO", "UPDATE INSTALLATIONS", "COMMIT"]

        with outage.counting(fail_at=frozenset({3})), pytest.raises(OperationalError, match="interrupted"):
            async with db.write() as conn:
                with sqlalchemy_refuses():
                    await conn.execute(INSERT_INSTALLATION, installation_values(2))  # then its COMMIT fails
        assert outage.kinds[:3] == ["BEGIN IMMEDIATE", "INSERT INTO", "COMMIT"] and outage.failures == 1
    finally:
        outage.close()
    async with db.read() as conn:
        count = (await conn.execute(text("SELECT count(*) FROM installations"))).scalar_one()
    assert count == 1  # what a failed COMMIT was to store is not stored
    assert db.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_a_transaction_mixing_both_paths_commits_and_rolls_back_as_one(db: Database) -> None:
    """Prepared statements run on sqlite3 itself; any other joins the same connection and transaction."""
    async with db.write() as conn:
        await conn.execute(INSERT_INSTALLATION, installation_values(1))  # sqlite3
        await conn.execute(text("UPDATE installations SET app_id = 'joined'"))  # SQLAlchemy, same transaction
        await conn.execute(INSERT_INSTALLATION, installation_values(2))  # sqlite3 again, after SQLAlchemy joined
    with pytest.raises(RuntimeError):
        async with db.write() as conn:
            await conn.execute(INSERT_INSTALLATION, installation_values(3))
            await conn.execute(text("UPDATE installations SET app_id = 'undone'"))
            raise RuntimeError("the handler failed")
    with pytest.raises(RuntimeError):
        async with db.write() as conn:
            await conn.execute(INSERT_INSTALLATION, installation_values(4))  # sqlite3 only
            raise RuntimeError("the handler failed")

    async with db.read() as conn:
        rows = (await conn.execute(text("SELECT saleor_api_url, app_id FROM installations ORDER BY id"))).all()
    assert [tuple(r) for r in rows] == [
        ("https://shop1.example/graphql/", "joined"), ("https://shop2.example/graphql/", "QXBwOj2"),
    ]
    # Every connection went back to the pool outside any transaction.
    pool = db.sync_engine.pool
    assert pool.checkedout() == 0  # type: ignore[attr-defined]



@pytest.mark.parametrize("joined", [False, True], ids=["sqlite3 only", "SQLAlchemy joined"])
async def test_a_commit_that_fails_leaves_no_transaction_open_on_the_pooled_connection(db: Database, joined: bool) -> None:
    """SQLite keeps a transaction open when its COMMIT fails; the connection must not go back to the pool so."""
    async with db.write() as conn:
        installation_id = (await conn.execute(INSERT_INSTALLATION, installation_values(1))).inserted_primary_key[0]
    with pytest.raises(IntegrityError):
        async with db.write() as conn:
            # Checked at COMMIT: an event for an installation that does not exist.
            if joined:
                await conn.execute(text("PRAGMA defer_foreign_keys=ON"))
            else:
                conn._sqlite_control("PRAGMA defer_foreign_keys=ON")
            await conn.execute(INSERT_EVENT, event_values(424242))
    # The same pooled connection serves the next transactions, read and write.
    for _ in range(3):
        async with db.write() as conn:
            await conn.execute(INSERT_EVENT, event_values(installation_id))
        async with db.read() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM outbox"))).scalar_one() >= 1
    async with db.read() as conn:
        assert (await conn.execute(text("SELECT installation_id FROM outbox"))).scalars().all() == [installation_id] * 3
