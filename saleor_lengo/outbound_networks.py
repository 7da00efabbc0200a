"""Which addresses the app may connect to: `OUTBOUND_ALLOWED_NETWORKS`, enforced at connect time.

Some URLs the app calls are chosen by someone else: the Saleor API URL of a
registration (and its JWKS), a configuration's Lengo URL. Checking a host
name before the request and connecting later lets DNS answer differently in
between (DNS rebinding), so the check runs inside the connection itself:
the host name is resolved once, *every* address it resolves to is checked,
and the connection goes to one of those checked addresses — nothing is
resolved again. TLS still verifies the certificate against the host name.

Levels: `none` — public addresses only; `loopback` — also loopback;
`private` — also private (RFC 1918, unique-local), shared, link-local and
loopback. Multicast is never called.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from typing import Literal

import httpcore
import httpx

AllowedNetworks = Literal["none", "loopback", "private"]
NETWORK_LEVELS: tuple[AllowedNetworks, ...] = ("none", "loopback", "private")

# host, port → the addresses to connect to (tests put a DNS of their own here).
Resolver = Callable[[str, int], Awaitable[list[str]]]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressNotAllowed(httpx.ConnectError):
    """The host resolves to an address OUTBOUND_ALLOWED_NETWORKS forbids; nothing was sent."""


def _embedded_v4(ip: IPAddress) -> IPAddress | None:
    """The IPv4 address an IPv6 one stands for (mapped, 6to4, Teredo), which is what gets reached."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip.sixtofour is not None:
            return ip.sixtofour
        if ip.teredo is not None:
            return ip.teredo[1]
    return None


def needed_level(address: str) -> AllowedNetworks | None:
    """The least level that allows `address`; None: never (multicast, unparsable)."""
    try:
        ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None
    ip = _embedded_v4(ip) or ip
    if ip.is_multicast:
        return None
    # 0.0.0.0 and :: reach the machine itself on Linux.
    if ip.is_loopback or ip.is_unspecified:
        return "loopback"
    if not ip.is_global:
        return "private"
    return "none"


def address_allowed(address: str, allowed: AllowedNetworks) -> bool:
    level = needed_level(address)
    return level is not None and NETWORK_LEVELS.index(level) <= NETWORK_LEVELS.index(allowed)


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in addresses:
            addresses.append(address)
    return addresses


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, resolving and checking the host itself before connecting."""

    def __init__(self, allowed: AllowedNetworks, resolve: Resolver = system_resolver) -> None:
        self._allowed = allowed
        self._resolve = resolve
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await asyncio.wait_for(self._resolve(host, port), timeout)
        except TimeoutError:
            raise httpcore.ConnectTimeout("name resolution timed out") from None
        except OSError:
            raise httpcore.ConnectError("name resolution failed") from None
        if not addresses or not all(address_allowed(a, self._allowed) for a in addresses):
            raise AddressNotAllowed("the host's address is not allowed by OUTBOUND_ALLOWED_NETWORKS")
        last: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise AddressNotAllowed("unix sockets are not called")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def guarded_transport(
    allowed: AllowedNetworks, limits: httpx.Limits, resolve: Resolver = system_resolver
) -> httpx.AsyncHTTPTransport:
    """httpx's transport over a `GuardedBackend`.

    httpx has no option for a network backend, so the transport's pool is
    replaced by one built with the same arguments httpx would use.
    """
    transport = httpx.AsyncHTTPTransport(limits=limits)
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=GuardedBackend(allowed, resolve),
    )
    return transport
