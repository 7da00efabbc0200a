"""What every command needs: settings, logging, and a way to run async work."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from saleor_lengo.logs import configure_logging, get_logger
from saleor_lengo.services import Services, build_services
from saleor_lengo.settings import Settings, SettingsError, load_settings, sqlite_path

T = TypeVar("T")


def startup_settings(*, writes: bool) -> Settings:
    """The settings and logging of a command; one that only reads creates no file.

    A command that `writes` may create the SQLite database and its key file;
    a read-only one is refused, with the file named, when either is missing.
    """
    settings = load_settings(create_key_file=writes)
    db_file = sqlite_path(settings.database_url)
    if not writes and db_file is not None and not db_file.exists():
        raise SettingsError(
            f"there is no database at {db_file}: nothing is stored yet "
            "(`saleor-lengo migrate` or `serve` creates it; check DATABASE_URL and the working directory)"
        )
    configure_logging(settings.log_level, settings.log_format)
    for warning in settings.warnings:
        get_logger("saleor_lengo").warning("settings_warning", detail=warning)
    return settings


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
