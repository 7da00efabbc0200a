"""The Dashboard page (`appUrl`), the app's own API and metrics."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from saleor_lengo.web.responses import error


async def app_page(_request: Request) -> Response:
    return HTMLResponse(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Lengo Pay</title></head>"
        "<body><h1>Lengo Pay</h1><p>Configure channels with <code>saleor-lengo configure</code>.</p></body></html>"
    )


async def app_api(_request: Request) -> Response:
    return error(404, "The app's API is not available in this version.")


async def metrics(_request: Request) -> Response:
    return error(404, "Metrics are not available in this version.")


def routes() -> list[Route]:
    return [
        Route("/app", app_page, methods=["GET"]),
        Route("/graphql", app_api, methods=["POST", "GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]
