"""A pytest plugin that reads every log line of the whole test session and fails it on a leaked secret.

Loaded from `tests/conftest.py` (`pytest_plugins`). For the whole session it

- runs the app's own logging pipeline (`saleor_lengo.logs.configure_logging`,
  JSON, DEBUG: stricter than production's INFO), so the redaction under test
  is the one that ships;
- tees what structlog renders and what stdlib logging emits (root logger,
  at its own level: WARNING unless a test changes it) into an in-memory
  buffer, still passing every line through;
- knows the suite's secrets in `SECRETS`: the conftest constants, the e2e
  stack's, the fake Lengo's payer phone, and every token the fakes mint
  (`tests.fakes.known_secrets.remember`: FakeSaleor app tokens, Dashboard
  tokens, callback tokens of `make_payment`) or the app mints (the callback
  token of every checkout, caught where it is digested); and it flags any
  callback URL with a token in it, since the e2e processes mint tokens this
  process never sees.

A leak fails the run twice over, in whatever order the tests run: the
autouse fixture `no_secret_in_this_tests_logs` fails the test during which
the line was logged (at its teardown, so its fixtures' teardown counts too),
and `pytest_sessionfinish` checks the whole session again at the very end,
adding the log files the e2e subprocesses wrote under the session's
temporary directory, and sets a failing exit status.

Why stdlib logging is not raised to INFO: the tests' own HTTP clients log
every request URL at INFO through httpx, callback tokens included; those
lines are the test's, not the app's, and would drown the real signal.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from tests.fakes.known_secrets import LOCK as _secrets_lock
from tests.fakes.known_secrets import SECRETS, remember

__all__ = ["SECRETS", "remember", "mark", "lines_since", "leaks", "leaked_lines"]

# The fake Lengo's default payer (`saleor_lengo.simulator.api.DEFAULT_ACCOUNT`).
PAYER_PHONE = "624897845"

_lines: list[str] = []
_lock = threading.Lock()
_original_configure: Callable[..., None] = structlog.configure
_handler: logging.Handler | None = None


def _record(line: object) -> None:
    if isinstance(line, (bytes, bytearray)):
        text = bytes(line).decode("utf-8", "replace")
    else:
        text = line if isinstance(line, str) else repr(line)
    with _lock:
        _lines.append(text)


def mark() -> int:
    """Where the log stands now; `lines_since(mark)` gives what came after."""
    with _lock:
        return len(_lines)


def lines_since(position: int = 0) -> list[str]:
    with _lock:
        return _lines[position:]


def _masked(secret: str) -> str:
    return f"{secret[:3]}…{secret[-2:]} ({len(secret)} chars)"


def leaks(text: str, secrets: Iterable[str] | None = None) -> list[str]:
    """The known secrets found in `text`, shown masked (the report must not leak them either)."""
    with _secrets_lock:
        candidates = sorted(secrets if secrets is not None else SECRETS)
    return [_masked(s) for s in candidates if s in text]


# A callback URL with its token, whoever minted it (the e2e processes' tokens are never seen
# in-process): the path the app logs is the route's template, `/api/lengo/callback/{token}`.
CALLBACK_URL = re.compile(r"/api/lengo/callback/(?!\{token\})([A-Za-z0-9_\-]{16,})")


def _lines_with_secrets(lines: list[str], where: str = "") -> list[str]:
    with _secrets_lock:
        candidates = sorted(SECRETS)
    everything = "\n".join(lines)
    found = [s for s in candidates if s in everything]  # one pass over the text per secret
    found += sorted({m.group(1) for m in CALLBACK_URL.finditer(everything)} - set(found))
    report = []
    for line in lines if found else ():
        present = [s for s in found if s in line]
        if present:
            excerpt = line
            for secret in present:  # the report must not leak them either
                excerpt = excerpt.replace(secret, _masked(secret))
            report.append(f"{', '.join(_masked(s) for s in present)} in{where}: {excerpt[:200]!r}")
    return report


def leaked_lines(position: int = 0) -> list[str]:
    """The captured lines holding a known secret, each cut short and described by the secrets in it."""
    return _lines_with_secrets(lines_since(position))


# --- structlog: whatever logger_factory is configured, its loggers are teed ------------------


class _TeeLogger:
    """Forwards every call to the real logger, keeping a copy of what it is given (the rendered line)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._inner, name)
        if name.startswith("_") or not callable(target):
            return target

        def write(*args: Any, **kwargs: Any) -> Any:
            for value in (*args, *kwargs.values()):
                _record(value)
            return target(*args, **kwargs)

        return write


class _TeeFactory:
    def __init__(self, inner: Callable[..., Any]) -> None:
        self.inner = inner

    def __call__(self, *args: Any) -> _TeeLogger:
        return _TeeLogger(self.inner(*args))


def _configure(**kwargs: Any) -> None:
    factory = kwargs.get("logger_factory")
    if factory is not None and not isinstance(factory, _TeeFactory):
        kwargs["logger_factory"] = _TeeFactory(factory)
    _original_configure(**kwargs)


def _ensure_tee() -> None:
    """Tee the current factory (again, if a test reset structlog to its defaults)."""
    factory = structlog.get_config()["logger_factory"]
    if not isinstance(factory, _TeeFactory):
        _original_configure(logger_factory=_TeeFactory(factory))


# --- stdlib logging: one more handler on the root logger ------------------------------------


class _BufferHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            _record(self.format(record))
        except Exception:  # noqa: BLE001 - a log line that cannot be formatted is not a leak
            self.handleError(record)


def _ensure_handler() -> None:
    root = logging.getLogger()
    if _handler is not None and _handler not in root.handlers:
        root.addHandler(_handler)


# --- the app's own callback tokens ------------------------------------------------------------


def _remember_checkout_tokens() -> None:
    """The checkout digests each callback token it mints: remember the token on the way."""
    from saleor_lengo.flows import initialize

    digest = initialize.token_digest
    if getattr(digest, "_remembers", False):
        return

    def remembering_digest(token: str) -> str:
        remember(token)
        return digest(token)

    remembering_digest._remembers = True  # type: ignore[attr-defined]
    initialize.token_digest = remembering_digest  # type: ignore[assignment]


def _known_constants() -> None:
    from tests import conftest

    remember(conftest.TEST_SECRET_KEY, conftest.LENGO_KEY, PAYER_PHONE)
    try:
        from tests.e2e import stack
    except ImportError:  # the e2e package is optional for this guard
        return
    remember(stack.SECRET_KEY, stack.LICENSE_KEY)


# --- pytest fixtures and hooks -------------------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    global _handler
    from saleor_lengo.logs import configure_logging

    structlog.configure = _configure  # type: ignore[assignment]
    root = logging.getLogger()
    level = root.level
    _handler = _BufferHandler()
    root.addHandler(_handler)  # before configure_logging: its basicConfig then adds nothing
    configure_logging("DEBUG", "json")
    root.setLevel(level)
    _ensure_tee()
    _remember_checkout_tokens()
    _known_constants()


def pytest_runtest_setup(item: pytest.Item) -> None:
    _ensure_tee()
    _ensure_handler()


@pytest.fixture(autouse=True)
def no_secret_in_this_tests_logs() -> Iterator[None]:
    """Fails the test in whose time a known secret was logged (by it, its fixtures, or work it started)."""
    start = mark()
    yield
    leaked = leaked_lines(start)
    if leaked:
        pytest.fail("secrets in the logs:\n" + "\n".join(leaked[:30]), pytrace=False)


def _subprocess_logs(session: pytest.Session) -> list[tuple[Path, str]]:
    """The `*.log` files under this session's temporary directory (the e2e processes' output)."""
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None:
        return []
    try:
        base = factory.getbasetemp()
    except (OSError, ValueError):
        return []
    found = []
    for path in sorted(base.rglob("*.log")):
        try:
            found.append((path, path.read_text(errors="replace")))
        except OSError:
            continue
    return found


def session_leaks(session: pytest.Session) -> list[str]:
    report = leaked_lines()
    for path, text in _subprocess_logs(session):
        report.extend(_lines_with_secrets(text.splitlines(), f" {path.name}"))
    return report


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    report = session_leaks(session)
    session.config.stash[_REPORT] = report
    if report and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    report = config.stash.get(_REPORT, [])
    if not report:
        return
    terminalreporter.section("secrets in the logs", sep="=", red=True, bold=True)
    for line in report[:50]:
        terminalreporter.write_line(line)
    if len(report) > 50:
        terminalreporter.write_line(f"… and {len(report) - 50} more")


_REPORT = pytest.StashKey[list[str]]()
