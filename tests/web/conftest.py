"""The Dashboard page served on real sockets, inside a fake Dashboard frame, and a headless Chromium to drive it."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from saleor_lengo.services import Services, build_services
from saleor_lengo.settings import Settings
from saleor_lengo.web.app import create_app
from tests.fakes.dashboard_frame import parent_app
from tests.fakes.saleor import FakeSaleor
from tests.web.browser import CHROMEDRIVER, CHROMIUM, ServerThread, require_browser


@pytest.fixture
def app_services(settings: Settings, transports: dict[str, httpx.AsyncBaseTransport]) -> Iterator[Services]:
    """The served app's own services: used only from uvicorn's thread and closed by its lifespan."""
    http = httpx.AsyncClient(mounts=dict(transports), follow_redirects=False)
    yield build_services(settings, http=http)


@pytest.fixture
def output_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "screenshots"
    folder.mkdir()
    return folder


@pytest.fixture
def browser() -> Iterator[Any]:
    require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--window-size=900,1500",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
async def served(app_services: Services, installed: FakeSaleor) -> AsyncIterator[tuple[str, str]]:
    app = create_app(app_services)
    with ServerThread(app) as app_server, ServerThread(parent_app(app_server.url, installed)) as parent:
        yield app_server.url, parent.url
