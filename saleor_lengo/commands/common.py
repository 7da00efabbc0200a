"""What every command needs: settings, logging, and a way to run async work."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from saleor_lengo.logs import configure_logging, get_logger
from saleor_lengo.services import Services, build_services
from saleor_lengo.settings import Settings, load_settings

T = TypeVar("T")


def startup_settings() -> Settings:
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    for warning in settings.warnings:
        get_logger("saleor_lengo").warning("settings_warning", detail=warning)
    return settings


def run_with_services(work: Callable[[Services], Awaitable[T]]) -> T:
    settings = startup_settings()

    async def main() -> T:
        services = build_services(settings)
        try:
            return await work(services)
        finally:
            await services.aclose()

    return asyncio.run(main())


def fail(message: str) -> int:
    print(f"saleor-lengo: {message}", file=sys.stderr)
    return 1
