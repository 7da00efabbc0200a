"""Structured logs (structlog) with secrets redacted before anything is written.

Context such as the request id, the Saleor URL, the event and the
transaction id is bound with `structlog.contextvars` at the edge, so every
line of one request carries it. Redaction works on keys (a field called
`license_key` or `client` is masked whatever its value) and on values that
the app has registered as secrets at run time (tokens, keys).
"""

from __future__ import annotations

import functools
import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

_SENSITIVE_KEY = re.compile(
    r"(token|secret|license|password|authorization|signature|client|phone|account|key$)", re.IGNORECASE
)
# Process-wide on purpose, the one registry of its kind: logging is configured once per process, and a
# secret registered by any part of it must be masked in every logger's lines.
_KNOWN_SECRETS: set[str] = set()
_MIN_SECRET = 6


def register_secret(value: str | None) -> None:
    """Make sure this exact string is masked wherever it would be logged."""
    if value and len(value) >= _MIN_SECRET:
        _KNOWN_SECRETS.add(value)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        for secret in _KNOWN_SECRETS:
            if secret in value:
                value = value.replace(secret, "[redacted]")
        return value
    if isinstance(value, dict):
        return {k: ("[redacted]" if _SENSITIVE_KEY.search(str(k)) else _scrub(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(v) for v in value]
    return value


@functools.lru_cache(maxsize=1024)
def _is_sensitive_key(key: str) -> bool:
    # Remembered: the app logs a few dozen distinct keys, each line several of them.
    return bool(_SENSITIVE_KEY.search(key)) and key not in ("request_id", "idempotency_key")


def redact(_logger: Any, _name: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event_dict):
        if key in ("event", "level", "timestamp", "logger"):
            event_dict[key] = _scrub(event_dict[key])
        elif _is_sensitive_key(key):
            event_dict[key] = "[redacted]"
        else:
            event_dict[key] = _scrub(event_dict[key])
    return event_dict


def configure_logging(level: str = "INFO", fmt: str = "console") -> None:
    renderer: Any = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact,
    ]
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    # Library loggers (uvicorn, sqlalchemy) go through stdlib logging.
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s")


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
