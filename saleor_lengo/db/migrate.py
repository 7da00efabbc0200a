"""Apply pending migrations once, before any worker starts.

On PostgreSQL the run holds an advisory lock, so replicas that start at the
same moment take turns instead of racing to create the same tables. On SQLite
`BEGIN IMMEDIATE` does the same job.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from saleor_lengo.db.engine import Database

_MIGRATIONS = Path(__file__).with_name("migrations")
# Any constant works; it only has to be the same in every replica.
_ADVISORY_LOCK_KEY = 0x5A1E_0C0D


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    return cfg


def _upgrade(connection: Connection) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")


def _is_current(connection: Connection) -> bool:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    return MigrationContext.configure(connection).get_current_revision() == head


async def migrate(db: Database) -> None:
    await db.run_sync(_migrate_sqlite if db.is_sqlite else _migrate_postgresql)


def _migrate_postgresql(connection: Connection) -> None:
    connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})
    try:
        _upgrade(connection)
        connection.commit()
    finally:
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _ADVISORY_LOCK_KEY})


def _migrate_sqlite(connection: Connection) -> None:
    # BEGIN IMMEDIATE (the engine's "begin" hook): one process migrates, the others wait.
    with connection.execution_options(immediate=True).begin():
        _upgrade(connection)


async def is_current(db: Database) -> bool:
    return await db.run_sync(_is_current)
