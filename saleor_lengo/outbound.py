"""Rules for every outbound HTTP call: http(s) only, short timeouts."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Coroutine
from typing import Any
from urllib.parse import urlsplit

import httpx

# Requests whose caller stopped waiting: kept referenced until they end by themselves.
_abandoned: set[asyncio.Task[httpx.Response]] = set()


class UnsafeUrl(ValueError):
    """A URL the app refuses to call."""


# The same few URLs (Lengo's, Saleor's) are checked on every payment; a URL
# that fails is not remembered (exceptions are not cached).
@functools.lru_cache(maxsize=256)
def check_url(url: str) -> str:
    try:
        # Each raises on what the other lets through ("http://[::1", a port
        # out of range, a control character, a malformed "xn--" label): a URL
        # from a header is untrusted.
        parts = urlsplit(url)
        parts.port  # noqa: B018 - validates the port
        httpx.URL(url).host  # noqa: B018 - decodes the IDNA host
    except (ValueError, httpx.InvalidURL):
        raise UnsafeUrl(f"not a valid URL: {url[:80]!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeUrl(f"only absolute http(s) URLs are called, not {url[:80]!r}")
    if parts.username or parts.password:
        raise UnsafeUrl("URLs with credentials are not called")
    return url


def make_http_client(**kwargs: object) -> httpx.AsyncClient:
    # No redirects: a redirect would carry our Authorization header elsewhere.
    return httpx.AsyncClient(
        timeout=httpx.Timeout(10.0, connect=3.0),
        follow_redirects=False,
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        **kwargs,  # type: ignore[arg-type]
    )


async def within(request: Coroutine[Any, Any, httpx.Response], timeout: float) -> httpx.Response:
    """Await an httpx request for at most `timeout` seconds (TimeoutError after), without cancelling it.

    Cancelling a request inside httpx (httpcore 1.0) can leave connection
    slots of the client's pool taken for good: after a burst of requests cut
    short that way, every later request waits for a slot that never frees and
    times out too, until the process restarts (benchmarks/README.md). So the
    request runs as its own task and the caller stops waiting for it instead;
    httpx's own per-phase timeouts end it and free its connection.
    """
    task = asyncio.ensure_future(request)
    try:
        return await asyncio.wait_for(asyncio.shield(task), timeout)
    except (TimeoutError, asyncio.CancelledError):
        if not task.done():
            _abandoned.add(task)
            task.add_done_callback(_forget)
        raise


def _forget(task: asyncio.Task[httpx.Response]) -> None:
    _abandoned.discard(task)
    if not task.cancelled():
        task.exception()  # retrieved: its failure was already reported as a timeout
