"""`GET /metrics`: Prometheus' text format, behind `Authorization: Bearer <METRICS_TOKEN>` when it is set.

Without a token they are open only while APP_URL is loopback (local
development); otherwise the route answers as if it did not exist, and
`serve` warns once at start (`Settings.metrics_closed`).

Glue only: check the token, read the gauges' figures, render (in a thread:
in multiprocess mode rendering reads every worker's files).
"""

from __future__ import annotations

import hmac

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from saleor_lengo import gauges
from saleor_lengo.services import Services
from saleor_lengo.web.responses import error


def authorized(header: str | None, token: str) -> bool:
    """`Bearer <token>` (the scheme in any case), compared in constant time."""
    scheme, _, given = (header or "").partition(" ")
    # compare_digest runs for a wrong scheme too: the timing tells nothing about the token.
    same = hmac.compare_digest(given.strip().encode(), token.encode())
    return same and scheme.lower() == "bearer"


async def metrics(request: Request) -> Response:
    services: Services = request.app.state.services
    if services.settings.metrics_closed:
        return PlainTextResponse("Not Found", status_code=404)  # as Starlette answers an unknown path
    token = services.settings.metrics_token
    if token is not None and not authorized(request.headers.get("authorization"), token):
        refused = error(401, "A valid bearer token (METRICS_TOKEN) is required.")
        refused.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return refused
    figures = await gauges.read_database(services.db, services.clock())
    body, content_type = await run_in_threadpool(gauges.render, services.metrics, figures)
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})
