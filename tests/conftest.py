"""Shared fixtures: every app test runs on SQLite and, when TEST_DATABASE_URL is set, PostgreSQL."""

from __future__ import annotations

import os
import shutil
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import create_async_engine

from saleor_lengo.db.engine import Database
from saleor_lengo.db.migrate import alembic_config, migrate
from saleor_lengo.saleor.jwks import MIN_FETCH_INTERVAL
from saleor_lengo.services import Services, build_services
from saleor_lengo.settings import Settings, load_settings
from saleor_lengo.web.app import create_app
from saleor_lengo.saleor import installations
from saleor_lengo.configurations import Configuration, ConfigurationInput
from saleor_lengo.configurations import map_channel as _map_channel
from saleor_lengo.configurations import save as _save_configuration
from saleor_lengo.simulator.api import LengoState
from saleor_lengo.simulator.api import create_app as create_lengo_app
from tests.fakes.factories import MadePayment, make_payment
from tests.fakes.saleor import FakeSaleor, reuse_keys_from_here
from tests.fakes.waits import InstantWaits
from tests.faults.ledger import Clock

if TYPE_CHECKING:
    from tests.helpers.app_api import Api

# Fails the test, and the run, in whose logs a test secret shows up; pytester runs the guard's own test.
pytest_plugins = ["tests.redaction_guard", "pytester"]

LENGO_URL = "https://lengo.test"
LENGO_KEY = "lengo-license-key-5f2c9a7e41"
WEBSITE_ID = "site-123"
RETURN_URL = "https://shop.example/checkout/return"

from hypothesis import settings as hypothesis_settings

# CI machines are slow and shared: examples are judged on correctness, not speed.
hypothesis_settings.register_profile("ci", deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

APP_URL = "http://127.0.0.1:8000"
TEST_SECRET_KEY = "test-secret-key-0123456789-abcdefghijklmnop"
POSTGRES_SKIP = "PostgreSQL tests skipped: set TEST_DATABASE_URL=postgresql://… to run them"


_private_pg: dict[str, str] = {}
# The tests' clients never open TLS (every host is mounted), but each would read
# the CA bundle into a context of its own (~30 ms): one context serves them all.
_TLS = ssl.create_default_context()


def _in_thread(coro: Any) -> Any:
    # Callable from inside a running event loop (async fixtures) as well.
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _admin(url: str, statement: str) -> None:
    from saleor_lengo.settings import _database_url

    engine = create_async_engine(_database_url(url), isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(statement))
    await engine.dispose()


def _postgres_url() -> str | None:
    """A database of this test run's own, created beside TEST_DATABASE_URL's.

    Each test resets the schema; a database per run keeps two runs on one
    server (two engineers, or CI and a developer) from wiping each other's tables.
    """
    base = os.environ.get("TEST_DATABASE_URL") or None
    if base is None:
        return None
    if base not in _private_pg:
        from sqlalchemy.engine import make_url

        parsed = make_url(base)
        name = f"{parsed.database or 'test'}_run{os.getpid()}"
        _in_thread(_admin(base, f'DROP DATABASE IF EXISTS "{name}"'))
        _in_thread(_admin(base, f'CREATE DATABASE "{name}"'))
        _private_pg[base] = parsed.set(database=name).render_as_string(hide_password=False)
    return _private_pg[base]


def pytest_report_header() -> str:
    # Said once per run: whether Saleor's schema, response schemas and recorded requests are checked.
    from tests import reference

    return reference.status_line()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for base, url in _private_pg.items():
        from sqlalchemy.engine import make_url

        try:
            _in_thread(_admin(base, f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
        except Exception:  # best effort: a leftover database is harmless
            pass


async def _reset_postgres(url: str) -> None:
    from saleor_lengo.settings import _database_url

    engine = create_async_engine(_database_url(url))
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


_HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


def _at_head(connection: Connection) -> bool:
    try:
        return bool(connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == _HEAD)
    except OperationalError:  # no alembic_version table: a database nothing migrated yet
        return False


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite database migrated by the app's own `migrate`, for each test to start from a copy of.

    Creating the tables costs a few fsyncs, about 0.25 s of waiting per
    test; copying the closed file (no WAL left beside it) costs none.
    """
    path = tmp_path_factory.mktemp("migrated") / "app.sqlite3"

    async def make() -> None:
        db = Database(f"sqlite:///{path}")
        await migrate(db)
        await db.dispose()

    _in_thread(make())
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path, migrated_sqlite: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "app.sqlite3"
        shutil.copyfile(migrated_sqlite, path)
        return f"sqlite:///{path}"
    url = _postgres_url()
    if url is None:
        pytest.skip(POSTGRES_SKIP)
    await _reset_postgres(url)
    return url


def make_settings(database_url: str, **overrides: str) -> Settings:
    env = {"APP_URL": APP_URL, "DATABASE_URL": database_url, "SECRET_KEY": TEST_SECRET_KEY, **overrides}
    return load_settings(env)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture(autouse=True)
def _signing_keys_distinct_within_each_test() -> None:
    reuse_keys_from_here()


@pytest.fixture
def fake_saleor() -> FakeSaleor:
    return FakeSaleor()


@pytest.fixture
def lengo() -> LengoState:
    """The fake Lengo (the simulator's API), reachable by the app at LENGO_URL."""

    async def no_sleep(_seconds: float) -> None:
        return None

    return LengoState(license_key=LENGO_KEY, page_base="https://payment.lengo.test", sleep=no_sleep)


@pytest.fixture
def transports(fake_saleor: FakeSaleor, lengo: LengoState) -> dict[str, httpx.AsyncBaseTransport]:
    """Outbound hosts the app may reach in tests."""
    return {
        "http://saleor.test": httpx.ASGITransport(app=fake_saleor.asgi()),
        LENGO_URL: httpx.ASGITransport(app=create_lengo_app(lengo)),
    }


@pytest.fixture
def waits() -> InstantWaits:
    return InstantWaits()


@pytest.fixture
async def services(
    settings: Settings, transports: dict[str, httpx.AsyncBaseTransport], waits: InstantWaits
) -> AsyncIterator[Services]:
    http = httpx.AsyncClient(mounts=dict(transports), follow_redirects=False, verify=_TLS)
    # Lengo retries wait no real time; `waits.slept` tells which waits they asked for.
    svc = build_services(settings, http=http, monotonic=waits.monotonic, sleep=waits.sleep)
    # A copy of `migrated_sqlite` is at head already: asking Alembic again would cost ~12 ms a test.
    if not (svc.db.is_sqlite and await svc.db.run_sync(_at_head)):
        await migrate(svc.db)
    yield svc
    await svc.aclose()


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(services)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=APP_URL) as c:
        yield c


async def register(client: httpx.AsyncClient, fake_saleor: FakeSaleor) -> httpx.Response:
    return await client.post(
        "/api/register",
        json={"auth_token": fake_saleor.app_token},
        headers={"Saleor-Api-Url": fake_saleor.api_url, "Saleor-Domain": "saleor.test"},
    )


@pytest.fixture
async def installed(client: httpx.AsyncClient, fake_saleor: FakeSaleor) -> FakeSaleor:
    response = await register(client, fake_saleor)
    assert response.status_code == 200, response.text
    return fake_saleor


async def send_webhook(
    client: httpx.AsyncClient, fake_saleor: FakeSaleor, event: str, body: dict[str, Any]
) -> httpx.Response:
    raw, headers = fake_saleor.webhook(event, body)
    path = "/api/webhooks/saleor/" + event.lower().replace("_", "-")
    return await client.post(path, content=raw, headers=headers)


async def configure_channel(
    services: Services,
    fake_saleor: FakeSaleor,
    *,
    channel: str = "channel-gnf",
    name: str | None = None,
    currencies: tuple[str, ...] = ("GNF",),
    return_url_patterns: tuple[str, ...] = (r"https://shop\.example/checkout/return(\?.*)?",),
    environment: str = "sandbox",
    **extra: str | None,
) -> Configuration:
    """A configuration pointing at the fake Lengo, mapped to `channel` (what `saleor-lengo configure` does)."""
    inst = await installations.find(services.db, fake_saleor.api_url)
    assert inst is not None, "install the app first (the `installed` fixture)"
    data = ConfigurationInput(
        name=name or channel,
        website_id=WEBSITE_ID,
        license_key=LENGO_KEY,
        environment=environment,
        lengo_url=LENGO_URL,
        currencies=currencies,
        return_url_patterns=return_url_patterns,
        **extra,  # type: ignore[arg-type]
    )
    async with services.db.write() as conn:
        config = await _save_configuration(conn, services.cipher, inst.id, data)
        await _map_channel(conn, inst.id, channel, config.id)
    return config


def keys_fetched_long_ago(services: Services, seconds: float = MIN_FETCH_INTERVAL) -> None:
    """Stop the JWKS keeper's clock `seconds` on: Saleor's new key is as old as the rule needs, and
    a test's requests take no time (so how fast the machine is cannot allow a second fetch)."""
    t = services.jwks._clock() + seconds
    services.jwks._clock = lambda: t


class WriteCounter:
    """Counts the write transactions `db` opens from now on (its `write` patched through monkeypatch)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, db: Database) -> None:
        self.count = 0
        write = db.write

        def counted_write() -> Any:
            self.count += 1
            return write()

        monkeypatch.setattr(db, "write", counted_write)


@pytest.fixture
def clock(services: Services) -> Clock:
    """The app's clock, from now, moving only when the test moves it."""
    clock = Clock(services.clock())
    services.clock = clock
    return clock


@pytest.fixture
async def second_services(
    services: Services, clock: Clock, transports: dict[str, httpx.AsyncBaseTransport]
) -> AsyncIterator[Services]:
    """Another process on the same database and host, on the same clock."""
    http = httpx.AsyncClient(mounts=dict(transports), follow_redirects=False)
    other = build_services(services.settings, http=http, clock=clock)
    yield other
    await other.aclose()


@pytest.fixture
def api(client: httpx.AsyncClient, installed: FakeSaleor) -> Api:
    """The app API client, signed in for the installed Saleor."""
    from tests.helpers.app_api import Api  # it imports this module's constants: not at the top

    return Api(client, installed)


@pytest.fixture
async def config(services: Services, installed: FakeSaleor) -> Configuration:
    """The installed Saleor's channel, configured for Lengo."""
    return await configure_channel(services, installed)


@pytest.fixture
async def made(services: Services, installed: FakeSaleor, lengo: LengoState, config: Configuration) -> MadePayment:
    """A payment made through the app for the configured channel (`make_payment`'s defaults)."""
    return await make_payment(services, installed, lengo, config)
