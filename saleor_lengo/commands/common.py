"""What every command needs: its services for async work, and one way to fail."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from saleor_lengo.services import Services, build_services
from saleor_lengo.settings import startup_settings

T = TypeVar("T")


def run_with_services(work: Callable[[Services], Awaitable[T]], *, writes: bool) -> T:
    settings = startup_settings(writes=writes)

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
