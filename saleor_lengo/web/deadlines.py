"""uvicorn's HTTP protocol with two deadlines it lacks: the headers, then the body.

uvicorn closes an idle keep-alive connection, but has no deadline for a
request being received: a client sending its headers or body one byte at a
time holds a connection (and the task reading it) for as long as it likes.
`serve` hands uvicorn this subclass of its httptools protocol instead:

- the headers must be complete within `header_seconds` of the connection
  opening, or of the first byte of the next request on a kept-alive one (the
  wait for that first byte is uvicorn's own keep-alive timeout);
- the body must be complete within `body_seconds` of the end of the headers.

Past either, the connection is closed. The app then sees the client as gone
(`http.disconnect`), as when a client hangs up. The connection cap is
uvicorn's own `limit_concurrency` (see `commands/serve.py`).

It relies on uvicorn's protocol hooks (`on_message_begin`,
`on_headers_complete`, `on_message_complete`), hence the pinned uvicorn minor
version in pyproject.toml; `tests/hostile/test_connections.py` checks both
deadlines on a real socket.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any, cast

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from saleor_lengo.logs import get_logger

log = get_logger(__name__)


class DeadlineProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        header_seconds: float,
        body_seconds: float,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.header_seconds = header_seconds
        self.body_seconds = body_seconds
        self._deadline: asyncio.TimerHandle | None = None

    def _arm(self, seconds: float, waiting_for: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._too_slow, waiting_for, seconds)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self, waiting_for: str, seconds: float) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            log.debug("request_too_slow", waiting_for=waiting_for, seconds=seconds)
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_seconds, "headers")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:  # a later request on a kept-alive connection
            self._arm(self.header_seconds, "headers")

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()
        self._arm(self.body_seconds, "body")

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def protocol(*, header_seconds: float, body_seconds: float) -> type[asyncio.Protocol]:
    """What to pass uvicorn as `http`: the protocol with these deadlines.

    A partial, not a class made on the fly: with `--workers N` uvicorn pickles
    its configuration into each worker, and a partial of a module-level class
    pickles. uvicorn only ever calls it, as it would the class.
    """
    made = functools.partial(DeadlineProtocol, header_seconds=header_seconds, body_seconds=body_seconds)
    return cast(type[asyncio.Protocol], made)


__all__ = ["DeadlineProtocol", "protocol"]
