"""Saleor-facing routes: manifest, registration, and the verified webhooks."""

from __future__ import annotations

import structlog
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import Response

from saleor_lengo import jsonutil, metrics
from saleor_lengo.crypto import DecryptionError
from saleor_lengo.handlers import WebhookContext, handlers, storage_unavailable_answers
from saleor_lengo.saleor.installations import Installation
from saleor_lengo.logs import get_logger
from saleor_lengo.saleor.events import SyncEvent
from saleor_lengo.saleor.manifest import render_manifest
from saleor_lengo.saleor.payloads import PayloadError
from saleor_lengo.saleor.registration import RegistrationError, register
from saleor_lengo.saleor.signature import SignatureError
from saleor_lengo.services import Services
from saleor_lengo.web.responses import BodyTooLarge, error, json_response, read_body

log = get_logger(__name__)


async def manifest(request: Request) -> Response:
    services: Services = request.app.state.services
    return json_response(render_manifest(services.settings))


def _registration_error(status: int, code: str, message: str) -> Response:
    return json_response({"success": False, "error": {"code": code, "message": message}}, status)


async def register_route(request: Request) -> Response:
    services: Services = request.app.state.services
    try:
        raw = await read_body(request, 16 * 1024)
        body = jsonutil.loads(raw) if raw else {}
    except BodyTooLarge:
        return _registration_error(413, "BODY_TOO_LARGE", "Body too large.")
    except jsonutil.JsonError:
        return _registration_error(400, "MALFORMED_JSON", "Body must be JSON.")
    token = body.get("auth_token") if isinstance(body, dict) else None
    try:
        await register(
            services.settings,
            services.db,
            services.cipher,
            services.saleor,
            saleor_api_url=request.headers.get("saleor-api-url"),
            auth_token=token,
        )
    except RegistrationError as exc:
        log.warning("registration_refused", code=exc.code, status=exc.status)
        return _registration_error(exc.status, exc.code, exc.message)
    return json_response({"success": True})


async def _verified_installation(services: Services, api_url: str, signature: str, raw: bytes) -> Installation | None:
    """The installation whose keys verify this webhook; None if none is installed, SignatureError if they do not.

    A copy that does not verify it may predate another worker's re-install or
    stored keys: the installation is read again before the webhook is refused.
    """
    inst = await services.cache.installation(api_url)
    if inst is None:
        return None
    try:
        await services.jwks.verify_webhook(inst, signature, raw)
        return inst
    except SignatureError:
        fresh = await services.cache.installation(api_url, fresh=True)
        if fresh == inst:
            raise
    if fresh is not None:  # None: uninstalled meanwhile
        await services.jwks.verify_webhook(fresh, signature, raw)
    return fresh


def webhook_endpoint(event: SyncEvent, app_metrics: metrics.Metrics):  # type: ignore[no-untyped-def]
    handler = handlers()[event.name]
    unavailable = storage_unavailable_answers().get(event.name)

    def storage_unavailable() -> Response:
        log.exception("database_unavailable")
        if unavailable is not None:
            # A session webhook: Saleor never retries it, so the answer says what happened.
            return json_response(unavailable().to_json())
        return error(503, "Storage unavailable, try again.")  # Saleor retries action requests

    async def endpoint(request: Request) -> Response:
        services: Services = request.app.state.services
        signature = request.headers.get("saleor-signature")
        api_url = request.headers.get("saleor-api-url")
        if not signature or not api_url:
            return error(400, "Missing Saleor-Signature or Saleor-Api-Url header.")
        sent_event = request.headers.get("saleor-event")
        if sent_event is not None and sent_event.lower() != event.header:
            return error(400, f"Saleor-Event {sent_event[:64]!r} does not belong to this route.")
        structlog.contextvars.bind_contextvars(saleor_api_url=api_url, event=event.name)
        try:
            raw = await read_body(request)
        except BodyTooLarge:
            return error(413, "Body too large.")
        try:
            inst = await _verified_installation(services, api_url, signature, raw)
        except SignatureError as exc:
            log.warning("webhook_signature_rejected", reason=str(exc))
            return error(401, f"Invalid signature: {exc}.")
        except (SQLAlchemyError, OSError):  # reading the installation, storing refetched keys
            return storage_unavailable()
        if inst is None:
            return error(401, "This Saleor instance has not installed the app.")
        try:
            body = jsonutil.loads(raw)
        except jsonutil.JsonError as exc:
            return error(400, f"Malformed JSON: {exc}.")
        if not isinstance(body, dict):
            return error(400, "Body must be a JSON object.")
        recipient = body.get("recipient")
        if isinstance(recipient, dict) and recipient.get("id") != inst.app_id:
            try:  # as above: a re-install gives the app a new id
                inst = await services.cache.installation(api_url, fresh=True) or inst
            except (SQLAlchemyError, OSError):
                return storage_unavailable()
        if not isinstance(recipient, dict) or recipient.get("id") != inst.app_id:
            log.warning("webhook_wrong_recipient")
            return error(403, "This webhook is addressed to another app.")
        tx = body.get("transaction")
        if isinstance(tx, dict) and isinstance(tx.get("id"), str):
            structlog.contextvars.bind_contextvars(transaction_id=tx["id"])
        try:
            answer = await handler(WebhookContext(services, inst, event, body))
        except PayloadError as exc:
            return error(400, f"Unexpected payload: {exc}.")
        except DecryptionError:
            log.error("secret_undecryptable")
            return error(503, "Stored secrets cannot be read: check SECRET_KEY.")
        except (SQLAlchemyError, OSError):
            return storage_unavailable()
        body = answer.to_json()
        log.info("webhook_answered", result=body.get("result"))
        return json_response(body)

    return metrics.counted(endpoint, lambda response: app_metrics.webhook_answered(event.name, response))
