"""Rules for every outbound HTTP call: http(s) only, short timeouts."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx


class UnsafeUrl(ValueError):
    """A URL the app refuses to call."""


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
