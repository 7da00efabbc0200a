"""Rules for every outbound HTTP call: http(s) only, short timeouts, bounded answers, checked destinations."""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Coroutine
from http.cookiejar import Cookie, CookieJar
from typing import Any
from urllib.parse import urlsplit

import httpx

from saleor_lengo.outbound_networks import AllowedNetworks, Resolver, guarded_transport, system_resolver

# Requests whose caller stopped waiting: kept referenced until they end by themselves (asyncio holds
# tasks weakly). Module-level on purpose: nothing reads it, and no object of ours outlives such a task.
_abandoned: set[asyncio.Task[httpx.Response]] = set()


class UnsafeUrl(ValueError):
    """A URL the app refuses to call."""


# httpx's own limits: a longer URL, or an ASCII control character anywhere in it, is refused by httpx.
MAX_URL_CHARS = 65536
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# What is wrong with a URL; "{}" is the URL, as shown in the message.
_INVALID = "not a valid URL: {}"
_NOT_ABSOLUTE = "only absolute http(s) URLs are called, not {}"
_CREDENTIALS = "URLs with credentials are not called"


def check_url(url: str) -> str:
    """`url` if the app may call it (or show it: a payment link), else UnsafeUrl.

    Every checkout checks three URLs unique to it (the return URL, our
    callback URL, Lengo's payment link), on a few origins. Parsing the
    whole URL with both parsers cost ~0.1 ms each; what can fail is the
    origin (scheme, host, port, credentials), checked once per origin, and
    the characters and length, checked here.
    """
    problem: str | None = None
    if len(url) > MAX_URL_CHARS or _CONTROL.search(url):
        problem = _INVALID
    else:
        try:
            parts = urlsplit(url)
        except ValueError:
            problem = _INVALID
        else:
            problem = _origin_problem(parts.scheme, parts.netloc)
    if problem is not None:
        raise UnsafeUrl(problem.format(repr(url[:80])))
    return url


# The answer depends on the origin alone, so it is remembered, refusals included.
@functools.lru_cache(maxsize=256)
def _origin_problem(scheme: str, netloc: str) -> str | None:
    if scheme not in ("http", "https"):
        return _NOT_ABSOLUTE
    origin = f"{scheme}://{netloc}/"
    try:
        # Each raises on what the other lets through ("http://[::1", a port
        # out of range, a malformed "xn--" label): a URL from a header is untrusted.
        parts = urlsplit(origin)
        parts.port  # noqa: B018 - validates the port
        httpx.URL(origin).host  # noqa: B018 - decodes the IDNA host
    except (ValueError, httpx.InvalidURL):
        return _INVALID
    if not parts.hostname:
        return _NOT_ABSOLUTE
    if parts.username or parts.password:
        return _CREDENTIALS
    return None


class NoCookies(CookieJar):
    """A cookie jar that keeps nothing.

    One client serves every merchant: a cookie Lengo set on one merchant's
    call (a web framework's session cookie, say) would go out with the next
    merchant's call to the same host. No API we call uses cookies, so none is
    kept (httpx has no switch for it: encode/httpx#2992; this is its
    maintainers' suggested way). It also spares parsing Set-Cookie per answer.
    """

    def extract_cookies(self, response: object, request: object) -> None:
        return None

    def set_cookie(self, cookie: Cookie) -> None:
        return None


def make_http_client(
    allowed_networks: AllowedNetworks,
    *,
    resolve: Resolver = system_resolver,
    transport: httpx.AsyncBaseTransport | None = None,
    **kwargs: object,
) -> httpx.AsyncClient:
    """The app's one client: no redirects, no cookies, destinations checked at connect time."""
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
    transport = transport or guarded_transport(allowed_networks, limits, resolve)
    # No redirects: a redirect would carry our Authorization header elsewhere.
    return httpx.AsyncClient(
        timeout=httpx.Timeout(10.0, connect=3.0),
        follow_redirects=False,
        cookies=NoCookies(),
        transport=transport,
        **kwargs,  # type: ignore[arg-type]
    )


class AnswerTooLarge(Exception):
    """An answer longer than the caller's bound; reading stopped there."""


async def send_bounded(
    http: httpx.AsyncClient, method: str, url: str, *, max_bytes: int, **kwargs: Any
) -> httpx.Response:
    """Send one request and read at most `max_bytes` of its answer (AnswerTooLarge past it).

    The body is streamed, so a huge or endless answer costs `max_bytes`,
    not memory for all of it. The answer is returned read (`.content` works).
    """
    request = http.build_request(method, url, **kwargs)
    response = await http.send(request, stream=True, follow_redirects=False)
    chunks: list[bytes] = []
    size = 0
    try:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise AnswerTooLarge(f"the answer is over {max_bytes} bytes")
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > max_bytes or response.num_bytes_downloaded > max_bytes:
                raise AnswerTooLarge(f"the answer is over {max_bytes} bytes")
            chunks.append(chunk)
    finally:
        await response.aclose()
    # What `Response.read()` would have stored, had it read without a bound.
    response._content = b"".join(chunks)
    return response


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
