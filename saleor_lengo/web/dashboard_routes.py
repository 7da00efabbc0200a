"""The Dashboard page (`appUrl`), the app's own API and metrics.

`/app` is plain HTML/CSS/JS from `static/app/` (no build step). `POST
/graphql` verifies the Dashboard token first (401/403 with a reason, never
a 500), then runs the strawberry schema, imported on the first request
only: strawberry takes long to import and most processes never need it.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from saleor_lengo import jsonutil
from saleor_lengo.app_api.auth import AuthError, authenticate, require_write
from saleor_lengo.app_api.context import ApiContext
from saleor_lengo.crypto import DecryptionError
from saleor_lengo.logs import get_logger
from saleor_lengo.resources import static_dir
from saleor_lengo.services import Services
from saleor_lengo.web.responses import BodyTooLarge, error, json_response, read_body

log = get_logger(__name__)

MAX_QUERY_BYTES = 64 * 1024
# The page runs inside the Dashboard's iframe, whose origin is not known
# here, so framing stays allowed; everything it loads comes from this app.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; object-src 'none'"
)
ASSETS = {
    "app.js": "text/javascript; charset=utf-8",
    "i18n.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
}


def _asset(name: str) -> Response:
    return FileResponse(
        static_dir() / "app" / name,
        media_type=ASSETS.get(name, "text/html; charset=utf-8"),
        headers={"Cache-Control": "no-cache", "Content-Security-Policy": PAGE_CSP, "X-Content-Type-Options": "nosniff"},
    )


async def app_page(_request: Request) -> Response:
    return _asset("index.html")


async def app_asset(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in ASSETS:
        return error(404, "No such file.")
    return _asset(name)


async def app_api(request: Request) -> Response:
    services: Services = request.app.state.services
    try:
        user = await authenticate(services, request.headers)
    except AuthError as exc:
        return error(exc.status, exc.message, exc.code)
    try:
        raw = await read_body(request, MAX_QUERY_BYTES)
        body = jsonutil.loads(raw)
    except BodyTooLarge:
        return error(413, "Request too large.")
    except jsonutil.JsonError:
        return error(400, "The body must be JSON: {query, variables, operationName}.")
    query = body.get("query") if isinstance(body, dict) else None
    variables = body.get("variables") if isinstance(body, dict) else None
    operation = body.get("operationName") if isinstance(body, dict) else None
    if not isinstance(query, str) or not query.strip():
        return error(400, "The body needs a GraphQL query.")
    if variables is not None and not isinstance(variables, dict):
        return error(400, "variables must be a JSON object.")
    if operation is not None and not isinstance(operation, str):
        return error(400, "operationName must be a string.")

    from saleor_lengo.app_api import schema  # lazily: see the module docstring

    if schema.is_mutation(query, operation):
        try:
            require_write(user)
        except AuthError as exc:
            return error(exc.status, exc.message, exc.code)
    try:
        answer = await schema.execute(ApiContext(services, user), query, variables, operation)
    except DecryptionError:
        log.error("secret_undecryptable")
        return error(503, "Stored secrets cannot be read: check SECRET_KEY.")
    return json_response(answer.body, answer.status)


async def metrics(request: Request) -> Response:
    from saleor_lengo.web import metrics_route  # its own module: see there

    return await metrics_route.metrics(request)


def routes() -> list[Route]:
    return [
        Route("/app", app_page, methods=["GET"]),
        Route("/app/{name}", app_asset, methods=["GET"]),
        Route("/graphql", app_api, methods=["POST"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]
