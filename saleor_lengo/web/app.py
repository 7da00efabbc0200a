"""The Starlette application: every route the app serves, fixed at install time."""

from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import structlog
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from saleor_lengo.logs import get_logger
from saleor_lengo.pressure import RequestPressure
from saleor_lengo.resources import documentation_path, static_dir
from saleor_lengo.saleor.events import SYNC_EVENTS
from saleor_lengo.services import Services
from saleor_lengo.web import callback_routes, dashboard_routes, saleor_routes
from saleor_lengo.web.responses import error, json_response

log = get_logger(__name__)


class RequestContext:
    """Binds a request id to every log line of a request, never lets a stack trace out, counts requests."""

    def __init__(self, app: ASGIApp, pressure: RequestPressure) -> None:
        self.app = app
        self.pressure = pressure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.pressure.started()
        path = scope.get("path", "")
        if path.startswith(callback_routes.CALLBACK_PREFIX):
            # The token is what lets anyone post for its payment: it stays out of every log line.
            path = callback_routes.CALLBACK_PATH
        structlog.contextvars.clear_contextvars()
        # 16 hex digits from os.urandom: uuid4 cost more and gave nothing more here.
        structlog.contextvars.bind_contextvars(request_id=os.urandom(8).hex(), path=path)
        started = False

        async def send_wrapper(message: dict) -> None:  # type: ignore[type-arg]
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)  # type: ignore[arg-type]
        except ClientDisconnect:
            # The client hung up, or was cut off by a deadline (web/deadlines.py):
            # nothing went wrong here, and there is no one left to answer.
            log.debug("client_disconnected")
        except Exception:
            log.exception("unhandled_error")
            if not started:
                await error(500, "Internal error; it has been logged.")(scope, receive, send)


async def health(_request: Request) -> Response:
    return json_response({"status": "ok"})


async def ready(request: Request) -> Response:
    services: Services = request.app.state.services
    try:
        await services.db.ping()
    except (SQLAlchemyError, OSError):
        return json_response({"status": "unavailable", "database": "unreachable"}, 503)
    return json_response({"status": "ready"})


async def logo(_request: Request) -> Response:
    return FileResponse(static_dir() / "logo.png", media_type="image/png")


def documentation(name: str) -> Callable[[Request], Awaitable[Response]]:
    """The manifest's homepage and support links lead here: the project's own Markdown, read as plain text."""

    async def serve(_request: Request) -> Response:
        return FileResponse(documentation_path(name), media_type="text/plain; charset=utf-8")

    return serve


BackgroundStarter = Callable[[Services], Awaitable[Callable[[], Awaitable[None]]]]


def create_app(services: Services, *, background: BackgroundStarter | None = None) -> Starlette:
    # Starlette tries routes in order: the ones under load (Lengo's callbacks, Saleor's webhooks) first.
    routes = [
        *callback_routes.routes(services.metrics),
        *(
            Route(
                event.path, saleor_routes.webhook_endpoint(event, services.metrics), methods=["POST"], name=event.kebab
            )
            for event in SYNC_EVENTS
        ),
        Route("/health", health, methods=["GET"]),
        Route("/ready", ready, methods=["GET"]),
        Route("/logo.png", logo, methods=["GET"]),
        Route("/docs", documentation("README.md"), methods=["GET"]),
        Route("/docs/operations", documentation("docs/operations.md"), methods=["GET"]),
        Route("/docs/privacy", documentation("docs/privacy.md"), methods=["GET"]),
        Route("/api/manifest", saleor_routes.manifest, methods=["GET"]),
        Route("/api/register", saleor_routes.register_route, methods=["POST"]),
        *dashboard_routes.routes(),
    ]

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        stop = await background(services) if background else None
        # What startup built (modules, Saleor's schema, CLDR data: most of the idle RSS) lives as long as
        # the process: moved out of the collector's reach, a full collection no longer walks it, which
        # took milliseconds off the requests it landed on.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            if stop:
                await stop()
            await services.aclose()

    middleware = [Middleware(RequestContext, pressure=services.callback_queue.pressure)]
    app = Starlette(routes=routes, lifespan=lifespan, middleware=middleware)
    # A redirect (e.g. to add a trailing slash) drops a POST body: Lengo's
    # callbacks and Saleor's webhooks must be answered where they land.
    router: Router = app.router
    router.redirect_slashes = False
    app.state.services = services
    return app
