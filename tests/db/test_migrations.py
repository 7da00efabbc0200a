"""The migrations build exactly the schema the code uses (`db/schema.py`), on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from saleor_lengo.db.engine import Database
from saleor_lengo.db.migrate import migrate
from saleor_lengo.db.schema import metadata
from saleor_lengo.settings import load_settings
from tests.conftest import TEST_SECRET_KEY


async def test_migrating_to_head_gives_the_schema_the_code_uses(database_url: str) -> None:
    db = Database(load_settings({"DATABASE_URL": database_url, "SECRET_KEY": TEST_SECRET_KEY}).database_url)
    try:
        await migrate(db)

        def differences(connection: Connection) -> list[Any]:
            return list(compare_metadata(MigrationContext.configure(connection), metadata))

        assert await db.run_sync(differences) == []
    finally:
        await db.dispose()
