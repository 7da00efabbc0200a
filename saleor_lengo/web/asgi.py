"""Entry point for uvicorn workers: `saleor_lengo.web.asgi:create` (factory)."""

from __future__ import annotations

from starlette.applications import Starlette

from saleor_lengo.settings import startup_settings
from saleor_lengo.services import build_services
from saleor_lengo.web.app import create_app
from saleor_lengo.workers import start_background


def create() -> Starlette:
    settings = startup_settings(writes=True)
    return create_app(build_services(settings), background=start_background)
