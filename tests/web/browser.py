"""A server on a real socket in a thread, and the framed page as Selenium sees it."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest


CHROMIUM = Path("/usr/bin/chromium")


CHROMEDRIVER = Path("/usr/bin/chromedriver")


SKIP_REASON = "Chromium not installed: apt-get install chromium chromium-driver"


WAIT_SECONDS = 20


def require_browser() -> None:
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.skip(SKIP_REASON)
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.skip("selenium is not installed: pip install -e '.[test]'")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerThread:
    """uvicorn serving one ASGI app from a thread, with its own event loop."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on", access_log=False)
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


class Page:
    """The framed page, seen through Selenium."""

    def __init__(self, driver: Any, shots: Path) -> None:
        from selenium.webdriver.common.by import By
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.support.ui import WebDriverWait

        self.d = driver
        self.By = By
        self.shots = shots
        # The page redraws its lists and forms: an element found a moment ago may be replaced
        # before it is read. Such a wait looks again instead of failing.
        self.wait = WebDriverWait(driver, WAIT_SECONDS, ignored_exceptions=(StaleElementReferenceException,))

    def el(self, css: str) -> Any:
        return self.d.find_element(self.By.CSS_SELECTOR, css)

    def visible(self, css: str) -> Any:
        self.wait.until(lambda d: d.find_element(self.By.CSS_SELECTOR, css).is_displayed(), message=css)
        return self.el(css)

    def text_in(self, css: str, words: str) -> str:
        def shown(d: Any) -> str | None:
            element = d.find_element(self.By.CSS_SELECTOR, css)
            text = str(element.text) if element.is_displayed() else ""
            return text if words in text else None

        # The text as read when the words were found in it: read again, the element may be gone.
        found: str = self.wait.until(shown, message=f"{words!r} in {css}")
        return found

    def fill(self, css: str, value: str) -> None:
        field = self.el(css)
        field.clear()
        if value:
            field.send_keys(value)

    def choose(self, css: str, *, value: str | None = None, text: str | None = None) -> None:
        from selenium.webdriver.support.ui import Select

        select = Select(self.el(css))
        if value is not None:
            select.select_by_value(value)
        else:
            select.select_by_visible_text(text or "")

    def shot(self, name: str) -> Path:
        self.d.switch_to.default_content()
        path = self.shots / f"{name}.png"
        self.d.save_screenshot(str(path))
        self.d.switch_to.frame("app")
        return path

    def html(self) -> str:
        return str(self.d.page_source)
