"""`saleor-lengo serve`: migrate once, then run the app under uvicorn."""

from __future__ import annotations

import argparse
import asyncio

from saleor_lengo.settings import startup_settings
from saleor_lengo.db.engine import Database
from saleor_lengo.db.migrate import migrate
from saleor_lengo.logs import get_logger
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
    settings = startup_settings(writes=True)
    if settings.metrics_closed:
        # Here, in the one process that starts the workers: once per start.
        get_logger("saleor_lengo").warning(
            "metrics_closed", detail="APP_URL is not loopback and METRICS_TOKEN is not set: /metrics answers 404"
        )

    async def apply() -> None:
        db = Database(settings.database_url)
        try:
            await migrate(db)
        finally:
            await db.dispose()

    # Once, in the parent, before any worker exists: workers never race on DDL.
    asyncio.run(apply())

    import uvicorn

    from saleor_lengo.web import deadlines

    # Several workers share their counters through files (see saleor_lengo.metrics).
    with multiprocess_directory(args.workers):
        uvicorn.run(
            "saleor_lengo.web.asgi:create",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            # Chosen by name (both are dependencies): "auto" would fall back to asyncio and h11 unnoticed.
            # The HTTP protocol is httptools', with the deadlines below.
            loop="uvloop",
            log_level=settings.log_level.lower(),
            proxy_headers=True,
            access_log=False,
            timeout_graceful_shutdown=10,
            # Slow clients: deadlines for the headers and the body (web/deadlines.py) …
            http=deadlines.protocol(
                header_seconds=settings.request_header_timeout_seconds,
                body_seconds=settings.request_body_timeout_seconds,
            ),
            # … and a cap: uvicorn answers 503 once this many connections are
            # open or requests running, counting the one asking, hence the +1.
            limit_concurrency=settings.max_connections + 1,
            # The app serves no WebSocket; an upgrade would leave the deadlines behind.
            ws="none",
        )
    return 0
