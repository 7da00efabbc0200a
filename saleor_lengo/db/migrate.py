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
    async with db.engine.connect() as conn:
        if not db.is_sqlite:
            await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})
        try:
            await conn.run_sync(_upgrade)
            await conn.commit()
        finally:
            if not db.is_sqlite:
                await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _ADVISORY_LOCK_KEY})
                await conn.commit()


async def is_current(db: Database) -> bool:
    async with db.engine.connect() as conn:
        return await conn.run_sync(_is_current)
