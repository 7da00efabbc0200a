"""The `saleor-lengo` command run as a process against a test's database, as an operator would run it."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass

from saleor_lengo.services import Services
from tests.conftest import APP_URL, TEST_SECRET_KEY


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


async def saleor_lengo(services: Services, *args: str) -> Run:
    env = {
        "APP_URL": APP_URL,
        "DATABASE_URL": services.settings.database_url,
        "SECRET_KEY": TEST_SECRET_KEY,
        "LOG_LEVEL": "WARNING",
        "PATH": "/usr/bin:/bin",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "saleor_lengo.cli", *args,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    return Run(proc.returncode, out.decode(), err.decode())
