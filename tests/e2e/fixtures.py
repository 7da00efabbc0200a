"""Fixtures for the end-to-end tests; a test module imports them by name.

Each test gets its own processes, ports and database: on PostgreSQL a
fresh database created for it (and dropped after), so it never meets the
tables of tests running at the same time against `TEST_DATABASE_URL`.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from saleor_lengo.settings import _database_url

from tests.e2e.stack import Stack

POSTGRES_SKIP = "PostgreSQL tests skipped: set TEST_DATABASE_URL=postgresql://… to run them"


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


async def _admin(url: str, statement: str) -> None:
    # CREATE/DROP DATABASE cannot run inside a transaction.
    engine = create_async_engine(_database_url(url), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def e2e_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'app.sqlite3'}"
        return
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip(POSTGRES_SKIP)
    name = "e2e_" + secrets.token_hex(6)
    asyncio.run(_admin(url, f'CREATE DATABASE "{name}"'))
    try:
        yield _with_database(url, name)
    finally:
        # FORCE: a SIGKILLed app may leave a connection the server has not noticed yet.
        asyncio.run(_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


StackFactory = Callable[..., Stack]


@pytest.fixture
def make_stack(e2e_database_url: str, tmp_path: Path) -> Iterator[StackFactory]:
    """Start fake Saleor, app and simulator; everything is stopped when the test ends, whatever happens."""
    stacks: list[Stack] = []

    def make(*, app_env: Mapping[str, str] | None = None, simulator_args: Sequence[str] = ()) -> Stack:
        stack = Stack(tmp_path, e2e_database_url, dict(app_env or {}), tuple(simulator_args))
        stacks.append(stack)
        stack.start()
        return stack

    try:
        yield make
    finally:
        for stack in stacks:
            print(stack.logs())  # shown by pytest only when the test failed
            stack.close()
