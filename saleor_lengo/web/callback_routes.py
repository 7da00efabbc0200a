"""Lengo's callback: `POST /api/lengo/callback/<token>` (filled in by the callback issue)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


async def callback(_request: Request) -> Response:
    return Response(status_code=404)


def routes() -> list[Route]:
    return [
        Route("/api/lengo/callback/{token}", callback, methods=["POST"]),
        Route("/api/lengo/callback/{token}/", callback, methods=["POST"]),
    ]
