"""`saleor-lengo serve`: beside a local Saleor (which holds 8000) by default, on uvloop and httptools."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from saleor_lengo.cli import main
from saleor_lengo import settings as settings_module
from saleor_lengo.settings import DEFAULT_APP_URL, load_settings
from saleor_lengo.web.deadlines import DeadlineProtocol


def serve(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *argv: str) -> dict[str, Any]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'app.sqlite3'}")
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    # The CLI configures logging for the whole process; the tests after this one keep theirs.
    monkeypatch.setattr(settings_module, "configure_logging", lambda *_args: None)
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: calls.append({"app": app, **kwargs}))
    assert main(["serve", *argv]) == 0
    [call] = calls
    return call


def test_serve_listens_on_9010_by_default_and_app_url_matches(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    call = serve(monkeypatch, tmp_path)

    assert (call["host"], call["port"]) == ("127.0.0.1", 9010)
    assert DEFAULT_APP_URL == "http://127.0.0.1:9010"
    assert load_settings({"SECRET_KEY": "k" * 40}).app_url == "http://127.0.0.1:9010"


def test_serve_runs_on_uvloop_and_httptools_which_the_package_depends_on(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    call = serve(monkeypatch, tmp_path, "--port", "9123")

    assert call["port"] == 9123
    # Named, not "auto": a missing dependency fails at start instead of silently serving on asyncio/h11.
    assert call["loop"] == "uvloop"
    # The HTTP protocol is httptools', with the slow-client deadlines (web/deadlines.py).
    protocol = call["http"]
    assert isinstance(protocol, functools.partial) and protocol.func is DeadlineProtocol
    assert issubclass(DeadlineProtocol, HttpToolsProtocol)
    assert call["app"] == "saleor_lengo.web.asgi:create" and call["factory"] is True
