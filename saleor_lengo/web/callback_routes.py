"""Lengo's callback: `POST /api/lengo/callback/<token>`, with or without a trailing slash.

Glue only: read the (capped) body, record it, answer, then confirm in the
background (or, in a burst, or while its payment's last check is recent
(`callbacks/gate.py`), leave it to the confirmer loop). 200 as soon as
the callback is recorded, whatever it says; 503 only when it could not be
recorded, so that Lengo sends it again.
No redirect (the app turns `redirect_slashes` off: a redirect drops the
body) and no rate limit.
"""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from saleor_lengo import metrics
from saleor_lengo.callbacks import confirmation, receive
from saleor_lengo.flows import payout_callback as payout_callback_flow
from saleor_lengo.logs import get_logger
from saleor_lengo.services import Services
from saleor_lengo.web.responses import BodyTooLarge, error, json_response, read_body

log = get_logger(__name__)

# Lengo's callback is five short fields; anything near this is not Lengo.
MAX_CALLBACK_BYTES = 16 * 1024
CALLBACK_PREFIX = "/api/lengo/callback/"
CALLBACK_PATH = CALLBACK_PREFIX + "{token}"
# A cash-in's callback (flows/payout_callback.py): under the same prefix, so its token stays out of the logs too.
PAYOUT_CALLBACK_PATH = CALLBACK_PREFIX + "payout/{token}"


async def callback(request: Request) -> Response:
    services: Services = request.app.state.services
    # Its log lines (and the confirmation's, which inherit them) name
    # CALLBACK_PATH, never the token: RequestContext binds it so.
    try:
        raw = await read_body(request, MAX_CALLBACK_BYTES)
    except BodyTooLarge:
        return error(413, "Body too large.")
    # In a burst, past what is already waiting for Lengo, the confirmer loop
    # takes new callbacks from the table (in batches) instead of a task each.
    confirm_now = services.callback_queue.can_confirm_now()
    try:
        receipt = await receive.record(
            services,
            request.path_params["token"],
            raw,
            content_type=request.headers.get("content-type"),
            remote_addr=request.client.host if request.client else None,
            confirm_now=confirm_now,
        )
    except receive.UnknownToken:
        log.info("callback_unknown_token")
        return Response(status_code=404)
    except receive.CallbackRejected as exc:
        return error(400, exc.reason)
    except (SQLAlchemyError, OSError):
        log.exception("callback_not_recorded")
        return error(503, "Could not record the callback; send it again.")
    if receipt.deferred_until is not None:
        # Its payment's check ran less than gate.CHECK_INTERVAL_SECONDS ago: it waits for the next one.
        services.callback_queue.due(receipt.deferred_until)
    elif receipt.needs_confirmation:
        if confirm_now:
            services.callback_queue.spawn(confirmation.confirm_callback(services, receipt.callback_id, gate_claimed=True))
        else:
            services.callback_queue.leave_to_loop()
    return json_response({"received": True})


async def payout_callback(request: Request) -> Response:
    """Only a hint: the payout's cash-in is checked with Lengo, whatever the body says."""
    services: Services = request.app.state.services
    try:
        await read_body(request, MAX_CALLBACK_BYTES)
    except BodyTooLarge:
        return error(413, "Body too large.")
    try:
        known = await payout_callback_flow.nudge(services, request.path_params["token"])
    except (SQLAlchemyError, OSError):
        log.exception("payout_callback_not_recorded")
        return error(503, "Could not record the callback; send it again.")
    return json_response({"received": True}) if known else Response(status_code=404)


def routes(app_metrics: metrics.Metrics) -> list[Route]:
    counted = metrics.counted(callback, app_metrics.callback_answered)
    return [
        Route(PAYOUT_CALLBACK_PATH, payout_callback, methods=["POST"]),
        Route(CALLBACK_PATH, counted, methods=["POST"]),
        Route(CALLBACK_PATH + "/", counted, methods=["POST"]),
    ]
