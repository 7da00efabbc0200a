"""`saleor-lengo serve`: migrate once, then run the app under uvicorn."""

from __future__ import annotations

import argparse
import asyncio

from saleor_lengo.commands.common import startup_settings
from saleor_lengo.db.engine import Database
from saleor_lengo.db.migrate import migrate
from saleor_lengo.metrics import multiprocess_directory
from saleor_lengo.settings import DEFAULT_PORT


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("serve", help="run the app", description="Apply migrations, then serve the app.")
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    # Not 8000: that is Saleor's own port, and the app usually runs beside a local Saleor.
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    settings = startup_settings()

    async def apply() -> None:
        db = Database(settings.database_url)
        try:
            await migrate(db)
        finally:
            await db.dispose()

    # Once, in the parent, before any worker exists: workers never race on DDL.
    asyncio.run(apply())

    import uvicorn

    # Several workers share their counters through files (see saleor_lengo.metrics).
    with multiprocess_directory(args.workers):
        uvicorn.run(
            "saleor_lengo.web.asgi:create",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            # Chosen by name (both are dependencies): "auto" would fall back to asyncio and h11 unnoticed.
            loop="uvloop",
            http="httptools",
            log_level=settings.log_level.lower(),
            proxy_headers=True,
            access_log=False,
            timeout_graceful_shutdown=10,
        )
    return 0
