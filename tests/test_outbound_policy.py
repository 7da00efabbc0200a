"""Calls to URLs someone else chose: checked destinations at connect time, no redirects, bounded answers, errors that tell nothing.

Real sockets on 127.0.0.1 stand for the hosts an attacker would aim at (a
database's port, a cloud metadata service); a resolver of the test's own
plays DNS, rebinding included.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from saleor_lengo.db.migrate import migrate
from saleor_lengo.outbound import AnswerTooLarge, make_http_client, send_bounded
from saleor_lengo.outbound_networks import AddressNotAllowed, needed_level
from saleor_lengo.services import Services, build_services
from saleor_lengo.settings import SettingsError, load_settings
from saleor_lengo.web.app import create_app
from tests.conftest import APP_URL, make_settings
from tests.fakes.saleor import FakeSaleor
from tests.helpers.app_api import CREATE, Api, config_input

SECRET_BANNER = "internal-service-banner-7f3a"

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Server:
    def __init__(self, port: int) -> None:
        self.port = port
        self.connections = 0

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


async def _read_request(reader: asyncio.StreamReader) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            await reader.readexactly(int(line.split(b":")[1]))


def answering(status: str, body: bytes, content_type: bytes = b"text/html", extra: bytes = b"") -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(
            b"HTTP/1.1 " + status.encode() + b"\r\nContent-Type: " + content_type
            + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n" + extra + b"Connection: close\r\n\r\n" + body
        )
        await writer.drain()
        writer.close()

    return handle


async def endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """200 with a chunked body that never ends."""
    await _read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"x" * 16384
    try:
        while True:
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            await writer.drain()
    except (ConnectionError, OSError):
        writer.close()


@asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[Server]:
    server_box: list[Server] = []

    async def counted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server_box[0].connections += 1
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            writer.close()

    server = await asyncio.start_server(counted, "127.0.0.1", 0)
    server_box.append(Server(server.sockets[0].getsockname()[1]))
    try:
        yield server_box[0]
    finally:
        server.close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def resolving_to(*addresses: str) -> Callable[[str, int], Awaitable[list[str]]]:
    async def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


# --- the setting ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"APP_URL": "http://127.0.0.1:8000"}, "loopback"),
        ({"APP_URL": "https://pay.example.com"}, "none"),
        ({"APP_URL": "https://pay.example.com", "OUTBOUND_ALLOWED_NETWORKS": "private"}, "private"),
        ({"APP_URL": "http://127.0.0.1:8000", "OUTBOUND_ALLOWED_NETWORKS": "none"}, "none"),
    ],
)
def test_outbound_allowed_networks_defaults_to_loopback_only_for_a_loopback_app(
    env: dict[str, str], expected: str
) -> None:
    settings = load_settings({"DATABASE_URL": "sqlite:///:memory:", **env})
    assert settings.outbound_allowed_networks == expected


def test_an_unknown_level_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="OUTBOUND_ALLOWED_NETWORKS"):
        load_settings({"DATABASE_URL": "sqlite:///:memory:", "OUTBOUND_ALLOWED_NETWORKS": "all"})


@pytest.mark.parametrize(
    ("address", "level"),
    [
        ("93.184.216.34", "none"),
        ("2606:4700::1111", "none"),
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("0.0.0.0", "loopback"),  # reaches the machine itself
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
        ("10.0.0.5", "private"),
        ("192.168.1.1", "private"),
        ("172.16.0.1", "private"),
        ("169.254.169.254", "private"),  # link-local: cloud metadata
        ("fe80::1%eth0", "private"),
        ("fd00::1", "private"),
        ("100.64.0.1", "private"),  # shared address space
        ("224.0.0.1", None),  # multicast: never
    ],
)
def test_each_address_needs_its_level(address: str, level: str | None) -> None:
    assert needed_level(address) == level


# --- the check at connect time --------------------------------------------------------


@pytest.mark.slow
async def test_none_refuses_loopback_before_connecting() -> None:
    async with serving(answering("200 OK", b"{}")) as server:
        async with make_http_client("none") as http:
            with pytest.raises(AddressNotAllowed):
                await http.get(server.url())
        assert server.connections == 0
        async with make_http_client("loopback") as http:
            assert (await http.get(server.url())).status_code == 200
        assert server.connections == 1


@pytest.mark.slow
async def test_every_address_a_name_resolves_to_is_checked_at_connect_time() -> None:
    async with serving(answering("200 OK", b"{}")) as server:
        url = f"http://saleor.example:{server.port}/"
        # DNS rebinding: the name gives a public address to any check made before, and
        # loopback when the connection is made; only the latter counts.
        async with make_http_client("none", resolve=resolving_to("127.0.0.1")) as http:
            with pytest.raises(AddressNotAllowed):
                await http.get(url)
        # One forbidden address among allowed ones refuses the name.
        async with make_http_client("none", resolve=resolving_to("93.184.216.34", "127.0.0.1")) as http:
            with pytest.raises(AddressNotAllowed):
                await http.get(url)
        async with make_http_client("loopback", resolve=resolving_to("127.0.0.1", "169.254.169.254")) as http:
            with pytest.raises(AddressNotAllowed):
                await http.get(url)
        assert server.connections == 0
        # The connection goes to the checked address: no second resolution.
        async with make_http_client("private", resolve=resolving_to("127.0.0.1", "10.0.0.5")) as http:
            assert (await http.get(url)).status_code == 200
        assert server.connections == 1


@pytest.mark.slow
async def test_an_endless_answer_is_read_no_further_than_the_bound() -> None:
    async with serving(endless) as server, make_http_client("loopback") as http:
        with pytest.raises(AnswerTooLarge):
            await send_bounded(http, "GET", server.url(), max_bytes=100_000)


# --- registration: someone else's Saleor URL ---------------------------------------------


@asynccontextmanager
async def app_with(database_url: str, **env: str) -> AsyncIterator[tuple[httpx.AsyncClient, Services]]:
    """The app with its real outbound client (no test transports)."""
    services = build_services(make_settings(database_url, **env))
    await migrate(services.db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(services)), base_url=APP_URL) as client:
        yield client, services
    await services.aclose()


async def _register(client: httpx.AsyncClient, saleor_api_url: str) -> httpx.Response:
    return await client.post(
        "/api/register", json={"auth_token": "app-token-probe-0123456789"}, headers={"Saleor-Api-Url": saleor_api_url}
    )


@pytest.mark.slow
async def test_a_registration_cannot_make_the_app_call_a_loopback_address_when_none_is_allowed(
    database_url: str,
) -> None:
    async with serving(answering("200 OK", b'{"data": {"app": {"id": "QXBwOjE="}}}', b"application/json")) as server:
        pattern = rf"http://127\.0\.0\.1:{server.port}/graphql/"
        async with app_with(
            database_url, APP_URL="https://pay.example.com", ALLOWED_DOMAIN_PATTERN=pattern
        ) as (client, _services):
            response = await _register(client, server.url("/graphql/"))
        assert response.status_code == 401
        assert server.connections == 0


@pytest.mark.slow
async def test_a_registration_does_not_tell_an_open_port_from_a_closed_one_nor_echo_the_answer(
    database_url: str,
) -> None:
    answers: list[tuple[int, Any]] = []
    async with app_with(database_url) as (client, _services):
        response = await _register(client, f"http://127.0.0.1:{closed_port()}/graphql/")
        answers.append((response.status_code, response.json()))
        for handler in (
            answering("200 OK", f"<html>{SECRET_BANNER}</html>".encode()),
            answering("400 Bad Request", b'{"errors": [{"message": "' + SECRET_BANNER.encode() + b'"}]}',
                      b"application/json"),
            answering("302 Found", b"", extra=b"Location: http://169.254.169.254/\r\n"),
            endless,
        ):
            async with serving(handler) as server:
                response = await _register(client, server.url("/graphql/"))
                assert server.connections == 1  # a redirect is not followed
            assert SECRET_BANNER not in response.text
            answers.append((response.status_code, response.json()))
    assert all(answer == answers[0] for answer in answers), answers
    assert answers[0][0] == 401


@pytest.mark.slow
async def test_a_jwks_redirect_is_refused_not_followed(database_url: str) -> None:
    fake = FakeSaleor()
    fake.jwks_answer = (302, b"", {"Location": "http://169.254.169.254/latest/meta-data/"})
    from tests.conftest import register

    http = httpx.AsyncClient(mounts={"http://saleor.test": httpx.ASGITransport(app=fake.asgi())})
    services = build_services(make_settings(database_url), http=http)
    await migrate(services.db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(services)), base_url=APP_URL) as client:
        response = await register(client, fake)
    await services.aclose()
    assert response.status_code == 502
    assert fake.jwks_requests == 1


# --- a staff member's Lengo URL --------------------------------------------------------------


@pytest.mark.slow
async def test_a_staff_lengo_url_does_not_tell_an_open_port_from_a_closed_one_nor_echo_the_answer(
    client: httpx.AsyncClient, installed: FakeSaleor, services: Services
) -> None:
    await services.http.aclose()
    services.http = make_http_client(services.settings.outbound_allowed_networks)
    api = Api(client, installed)
    errors = [await api.fails(CREATE, {"input": config_input(lengoUrl=f"http://127.0.0.1:{closed_port()}")})]
    for handler in (
        answering("200 OK", f"<html>{SECRET_BANNER}</html>".encode()),
        answering("404 Not Found", f"<html>{SECRET_BANNER}</html>".encode()),
        answering("400 Bad Request", b'{"message": "' + SECRET_BANNER.encode() + b'"}', b"application/json"),
        answering("302 Found", b"", extra=b"Location: http://169.254.169.254/\r\n"),
        endless,
    ):
        async with serving(handler) as server:
            errors.append(await api.fails(CREATE, {"input": config_input(lengoUrl=server.url().rstrip("/"))}))
            assert server.connections == 1
    messages = {(e["message"], e["extensions"]["code"]) for e in errors}
    assert len(messages) == 1, messages
    assert all(SECRET_BANNER not in answer for answer in api.answers)


@pytest.mark.slow
async def test_a_staff_lengo_url_on_a_loopback_address_is_refused_when_none_is_allowed(
    client: httpx.AsyncClient, installed: FakeSaleor, services: Services
) -> None:
    await services.http.aclose()
    services.http = make_http_client("none")
    async with serving(answering("200 OK", b'{"balance": 1, "currency": "GNF"}', b"application/json")) as server:
        error = await Api(client, installed).fails(CREATE, {"input": config_input(lengoUrl=server.url().rstrip("/"))})
        assert server.connections == 0
    assert error["extensions"]["code"] == "CREDENTIALS_UNCHECKED"
