"""Hostile connections against a real `serve`: slow headers and bodies are cut off, connections are capped,
a client that goes away is a DEBUG line, and `/metrics` stays closed.

Real sockets, because the deadlines and the cap live below the ASGI app (in
the HTTP protocol `serve` gives uvicorn). The deadlines are set short here
(the defaults, 10 s and 30 s, are checked without a process); every wait is
bounded far above them, so a slow machine makes a test slower, never wrong.
"""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import TEST_SECRET_KEY
from tests.e2e.harness import Process, free_port, wait_until
from tests.e2e.stack import base_env

pytestmark = pytest.mark.slow

HEADER_SECONDS = 1.0
BODY_SECONDS = 6.0
MAX_CONNECTIONS = 3
# A connection the server has not closed after this long never will be: far above both deadlines.
GIVE_UP_SECONDS = 20.0
DRIBBLE_SECONDS = 0.25
CALLBACK = "/api/lengo/callback/not-a-token-of-any-payment"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    tmp = tmp_path_factory.mktemp("connections")
    port = free_port()
    env = base_env(
        # Not loopback, no METRICS_TOKEN: /metrics must be closed.
        APP_URL="https://pay.example.com",
        DATABASE_URL=f"sqlite:///{tmp / 'app.sqlite3'}",
        SECRET_KEY=TEST_SECRET_KEY,
        LOG_LEVEL="DEBUG",
        MAX_CONNECTIONS=str(MAX_CONNECTIONS),
        REQUEST_HEADER_TIMEOUT_SECONDS=str(HEADER_SECONDS),
        REQUEST_BODY_TIMEOUT_SECONDS=str(BODY_SECONDS),
    )
    process = Process("serve", ["serve", "--port", str(port)], env, port, tmp / "serve.log", cwd=tmp)
    process.start("/health")
    try:
        yield process
    finally:
        process.stop()


def connect(app: Process) -> socket.socket:
    return socket.create_connection(("127.0.0.1", app.port), timeout=GIVE_UP_SECONDS)


def closed_by_server(sock: socket.socket) -> bool:
    """True once the server closed its end (end of file or reset); never blocks."""
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return False
    try:
        return sock.recv(65536, socket.MSG_PEEK) == b""
    except ConnectionError:
        return True


def dribble_until_closed(sock: socket.socket, data: bytes) -> tuple[bool, int]:
    """Send `data` one byte every DRIBBLE_SECONDS until the server closes; (closed, bytes sent)."""
    deadline = time.monotonic() + GIVE_UP_SECONDS
    sent = 0
    while time.monotonic() < deadline:
        if closed_by_server(sock):
            return True, sent
        if sent < len(data):
            try:
                sock.sendall(data[sent : sent + 1])
            except (BrokenPipeError, ConnectionResetError):
                return True, sent
            sent += 1
        time.sleep(DRIBBLE_SECONDS)
    return False, sent


def request(sock: socket.socket, raw: bytes) -> bytes:
    """Send a whole request; the response's status line and headers."""
    sock.sendall(raw)
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = sock.recv(65536)
        assert chunk, f"the server closed the connection instead of answering (got {answer!r})"
        answer += chunk
    return answer


def status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


GET_HEALTH = b"GET /health HTTP/1.1\r\nHost: pay.example.com\r\n\r\n"
SLOW_HEADERS = b"GET /health HTTP/1.1\r\nHost: pay.example.com\r\nX-Slow: " + b"a" * 1000


def log_since(app: Process, offset: int) -> str:
    return app.log_path.read_text(errors="replace")[offset:]


def log_size(app: Process) -> int:
    return len(app.log_path.read_text(errors="replace"))


# --- Header and body deadlines -------------------------------------------------------


def test_a_connection_that_sends_nothing_is_closed_after_the_header_deadline(app: Process) -> None:
    with connect(app) as sock:
        closed, _ = dribble_until_closed(sock, b"")
    assert closed, f"an idle connection was still open after {GIVE_UP_SECONDS:g} s"


@pytest.mark.parametrize("first", [False, True], ids=["new-connection", "after-a-first-request"])
def test_headers_sent_a_byte_at_a_time_are_cut_off_at_the_header_deadline(app: Process, first: bool) -> None:
    with connect(app) as sock:
        if first:  # a keep-alive connection's next request gets its own deadline
            assert status(request(sock, GET_HEALTH)) == 200
        closed, sent = dribble_until_closed(sock, SLOW_HEADERS)
    assert closed, f"still open after {GIVE_UP_SECONDS:g} s of headers at one byte per {DRIBBLE_SECONDS:g} s"
    assert sent < len(SLOW_HEADERS)


def test_a_body_sent_a_byte_at_a_time_is_cut_off_at_the_body_deadline(app: Process) -> None:
    headers = f"POST {CALLBACK} HTTP/1.1\r\nHost: pay.example.com\r\nContent-Length: 1000\r\n\r\n".encode()
    with connect(app) as sock:
        sock.sendall(headers)
        closed, sent = dribble_until_closed(sock, b"x" * 1000)
    assert closed, f"still open after {GIVE_UP_SECONDS:g} s of body at one byte per {DRIBBLE_SECONDS:g} s"
    assert sent < 1000


def test_a_slow_body_within_its_deadline_is_answered_although_it_outlasts_the_header_deadline(app: Process) -> None:
    # The body deadline runs from the end of the headers: a body taking longer
    # than the header deadline, but within its own, is read and answered.
    body = b"x" * 8  # 8 × 0.25 s = 2 s: past HEADER_SECONDS, well within BODY_SECONDS
    headers = f"POST {CALLBACK} HTTP/1.1\r\nHost: pay.example.com\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    with connect(app) as sock:
        sock.sendall(headers)
        for byte in body[:-1]:
            sock.sendall(bytes([byte]))
            time.sleep(DRIBBLE_SECONDS)
        answer = request(sock, body[-1:])
    assert status(answer) == 404  # the token is unknown: the body was read and the callback route answered


# --- The connection cap ------------------------------------------------------------------


def test_beyond_max_connections_a_new_request_gets_503_and_a_freed_slot_serves_again(app: Process) -> None:
    held = [connect(app) for _ in range(MAX_CONNECTIONS)]
    try:
        # Each answered, and kept open (keep-alive) so that each still counts.
        assert [status(request(sock, GET_HEALTH)) for sock in held] == [200] * MAX_CONNECTIONS
        with connect(app) as extra:
            refused = request(extra, GET_HEALTH)
    finally:
        for sock in held:
            sock.close()
    assert status(refused) == 503

    def served() -> bool:
        with connect(app) as sock:
            return status(request(sock, GET_HEALTH)) == 200

    wait_until(served, timeout=GIVE_UP_SECONDS, what="a request served once the held connections closed")


# --- A client that goes away -------------------------------------------------------------


def test_a_client_that_disconnects_mid_body_is_a_debug_line_never_an_error(app: Process) -> None:
    start = log_size(app)
    headers = f"POST {CALLBACK} HTTP/1.1\r\nHost: pay.example.com\r\nContent-Length: 1000\r\n\r\n".encode()
    with connect(app) as sock:
        sock.sendall(headers + b'{"pay_id": "')
        # Closed here, mid-body.

    def logged() -> str | None:
        text = log_since(app, start)
        return text if "client_disconnected" in text else None

    text = wait_until(
        logged,
        timeout=GIVE_UP_SECONDS,
        what="the app to log the disconnect",
        details=app.log_tail,
    )
    [line] = [line for line in text.splitlines() if "client_disconnected" in line]
    assert "[debug" in line
    assert "Traceback" not in text
    assert not [line for line in text.splitlines() if "[error" in line or line.startswith("ERROR")], text


# --- /metrics ---------------------------------------------------------------------------------


def test_metrics_answer_404_without_a_token_and_serve_warned_once(app: Process) -> None:
    closed = httpx.get(app.url + "/metrics", timeout=GIVE_UP_SECONDS)
    assert closed.status_code == 404
    assert "saleor_lengo" not in closed.text
    warnings = [line for line in app.log_path.read_text().splitlines() if "metrics_closed" in line]
    assert len(warnings) == 1 and "[warning" in warnings[0], warnings

