"""`saleor-lengo migrate`: apply pending database migrations."""

from __future__ import annotations

import argparse
import asyncio

from saleor_lengo.settings import startup_settings
from saleor_lengo.db.engine import Database
from saleor_lengo.db.migrate import migrate


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("migrate", help="apply pending database migrations", description="Apply pending database migrations.")
    p.set_defaults(run=run)


def run(_args: argparse.Namespace) -> int:
    settings = startup_settings(writes=True)

    async def go() -> None:
        db = Database(settings.database_url)
        try:
            await migrate(db)
        finally:
            await db.dispose()

    asyncio.run(go())
    print("database is up to date")
    return 0
