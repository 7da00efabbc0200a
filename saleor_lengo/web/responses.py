"""JSON answers, written with the money-safe encoder."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from saleor_lengo import jsonutil

MAX_BODY_BYTES = 256 * 1024


class BodyTooLarge(Exception):
    pass


def json_response(content: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(jsonutil.dumps(content), status_code=status_code, media_type="application/json", headers=headers)


def error(status_code: int, message: str, code: str | None = None) -> Response:
    body: dict[str, Any] = {"error": {"message": message}}
    if code:
        body["error"]["code"] = code
    return json_response(body, status_code)


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The raw body, refusing more than `limit` bytes without reading them all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)
