"""`saleor-lengo configure` and `configurations list`, run in-process against a real HTTP Lengo stand-in."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
import uvicorn
from sqlalchemy import inspect, select

from saleor_lengo import configurations
from saleor_lengo.saleor import installations
from saleor_lengo.cli import main
from saleor_lengo.configurations import Configuration
from saleor_lengo.crypto import Cipher
from saleor_lengo.db.engine import Database
from saleor_lengo.db.migrate import migrate
from saleor_lengo.db.schema import configurations as configurations_table
from saleor_lengo.settings import _database_url
from saleor_lengo.simulator.api import LengoState
from saleor_lengo.simulator.api import create_app as create_lengo_app
from saleor_lengo.saleor import keys
from tests.conftest import LENGO_KEY, POSTGRES_SKIP, TEST_SECRET_KEY, WEBSITE_ID, _postgres_url, _reset_postgres

SALEOR_URL = "http://saleor.test/graphql/"
PATTERN = r"https://shop\.example/checkout/return(\?.*)?"
WRONG_KEY = "wrong-license-key-77d1c0ffee"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def lengo_server() -> Iterator[tuple[LengoState, str]]:
    """The fake Lengo over real HTTP, since the command builds its own HTTP client."""
    state = LengoState(license_key=LENGO_KEY)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_lengo_app(state), host="127.0.0.1", port=port, log_level="error", lifespan="off", loop="asyncio")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the Lengo stand-in did not start"
        time.sleep(0.02)
    yield state, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def lengo(lengo_server: tuple[LengoState, str]) -> LengoState:
    state = lengo_server[0]
    state.calls.clear()
    state.license_key = LENGO_KEY
    return state


@pytest.fixture
def lengo_url(lengo_server: tuple[LengoState, str]) -> str:
    return lengo_server[1]


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """The command configures logging for the process; give the next tests theirs back."""
    saved = structlog.get_config()
    handlers = list(logging.getLogger().handlers)
    yield
    structlog.configure(**saved)
    logging.getLogger().handlers[:] = handlers


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """DATABASE_URL and SECRET_KEY set for the command; the app installed by the fake Saleor."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    else:
        pg = _postgres_url()
        if pg is None:
            pytest.skip(POSTGRES_SKIP)
        url = pg
        asyncio.run(_reset_postgres(url))
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SECRET_KEY", TEST_SECRET_KEY)
    monkeypatch.setenv("APP_URL", "http://127.0.0.1:8000")
    monkeypatch.delenv("LENGO_LICENSE_KEY", raising=False)
    monkeypatch.delenv("SECRET_KEY_FALLBACKS", raising=False)
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    return url


async def _install(url: str) -> None:
    db = Database(_database_url(url))
    try:
        await migrate(db)
        await installations.save(
            db, Cipher(TEST_SECRET_KEY), saleor_api_url=SALEOR_URL, app_id="QXBwOjE=", token="app-token-x", jwks=keys.EMPTY
        )
    finally:
        await db.dispose()


@pytest.fixture
def installed(database: str) -> str:
    asyncio.run(_install(database))
    return database


def stored(url: str) -> list[Configuration]:
    async def read() -> list[Configuration]:
        db = Database(_database_url(url))
        try:
            inst = await installations.find(db, SALEOR_URL)
            assert inst is not None
            async with db.read() as conn:
                return await configurations.list_for(conn, inst.id)
        finally:
            await db.dispose()

    return asyncio.run(read())


def stored_key_ciphertexts(url: str) -> list[str]:
    async def read() -> list[str]:
        db = Database(_database_url(url))
        try:
            async with db.read() as conn:
                return list((await conn.execute(select(configurations_table.c.license_key_enc))).scalars())
        finally:
            await db.dispose()

    return asyncio.run(read())


def configure(*extra: str, lengo_url: str | None = None) -> int:
    argv = ["configure", "--saleor-api-url", SALEOR_URL, "--channel", "channel-gnf", "--website-id", WEBSITE_ID]
    if lengo_url:
        argv += ["--environment", "sandbox", "--lengo-url", lengo_url]
    return main([*argv, *extra])


def balance_calls(lengo: LengoState) -> int:
    return sum(1 for method, path in lengo.calls if method == "GET" and path == f"/api/getbalance/{WEBSITE_ID}")


def output(capfd: pytest.CaptureFixture[str]) -> tuple[str, str]:
    captured = capfd.readouterr()
    return captured.out, captured.err


# --- configure ---------------------------------------------------------------------------


def test_configure_checks_the_credentials_then_saves_the_configuration_and_maps_the_channel(
    installed: str, lengo: LengoState, lengo_url: str, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LENGO_LICENSE_KEY", LENGO_KEY)

    code = configure(
        "--return-url-pattern", PATTERN, "--currency", "GNF", "--currency", "xof", "--min-amount", "1000",
        "--default-return-url", "https://shop.example/checkout/return",
        lengo_url=lengo_url,
    )

    out, err = output(capfd)
    assert code == 0, err
    assert balance_calls(lengo) == 1
    assert out.splitlines()[:2] == [
        f"Credentials checked with Lengo Pay: site {WEBSITE_ID} answered (balance 0 GNF).",
        f"Created configuration 'channel-gnf': site {WEBSITE_ID}, key ••••7e41, custom {lengo_url}, "
        "currencies GNF, XOF; channel 'channel-gnf' now uses it.",
    ]
    (config,) = stored(installed)
    assert (config.name, config.website_id, config.environment, config.lengo_url) == (
        "channel-gnf", WEBSITE_ID, "custom", lengo_url
    )
    assert config.channels == ("channel-gnf",)
    assert config.currencies == ("GNF", "XOF")
    assert str(config.min_amount) == "1000" and config.max_amount is None
    assert config.return_url_patterns == (PATTERN,)
    assert config.default_return_url == "https://shop.example/checkout/return"
    # Encrypted at rest, readable with SECRET_KEY.
    assert config.credentials(Cipher(TEST_SECRET_KEY)).license_key == LENGO_KEY
    assert all(LENGO_KEY not in c for c in stored_key_ciphertexts(installed))
    assert LENGO_KEY not in out + err


def test_failing_credentials_are_reported_clearly_and_nothing_is_saved(
    installed: str, lengo: LengoState, lengo_url: str, capfd: pytest.CaptureFixture[str]
) -> None:
    code = configure("--license-key", WRONG_KEY, "--return-url-pattern", PATTERN, lengo_url=lengo_url)

    out, err = output(capfd)
    assert code == 1
    assert (
        f"saleor-lengo: Lengo Pay refused the license key for site '{WEBSITE_ID}' at custom {lengo_url} (HTTP 401). "
        "Nothing was saved. Check the key and the site id, and that they belong to this environment "
        "(sandbox keys do not work in production)."
    ) in err
    assert balance_calls(lengo) == 1
    assert stored(installed) == []
    assert WRONG_KEY not in out + err


def test_an_unreachable_lengo_is_reported_and_nothing_is_saved(
    installed: str, capfd: pytest.CaptureFixture[str]
) -> None:
    closed = f"http://127.0.0.1:{_free_port()}"

    code = configure("--license-key", LENGO_KEY, lengo_url=closed)

    out, err = output(capfd)
    assert code == 1
    assert f"saleor-lengo: could not check the credentials with Lengo Pay at custom {closed}: " in err
    assert "Nothing was saved. Check --environment/--lengo-url, or save anyway with --no-check." in err
    assert stored(installed) == []
    assert LENGO_KEY not in out + err


def test_no_check_saves_without_asking_lengo(
    installed: str, lengo: LengoState, capfd: pytest.CaptureFixture[str]
) -> None:
    code = configure("--license-key", LENGO_KEY, "--environment", "sandbox", "--no-check")

    out, err = output(capfd)
    assert code == 0, err
    assert out.splitlines()[0] == "Credentials not checked (--no-check)."
    assert "Note: no --return-url-pattern, so only loopback (localhost) return URLs are accepted" in out
    assert "Note: payments through this configuration are TEST PAYMENTS (sandbox)." in out
    assert balance_calls(lengo) == 0
    (config,) = stored(installed)
    assert (config.environment, config.lengo_url) == ("sandbox", "https://sandbox.lengopay.com")
    assert LENGO_KEY not in out + err


def test_the_license_key_can_come_from_standard_input(
    installed: str, lengo: LengoState, lengo_url: str, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(LENGO_KEY + "\n"))

    code = configure("--license-key", "-", "--name", "guinea", lengo_url=lengo_url)

    out, err = output(capfd)
    assert code == 0, err
    (config,) = stored(installed)
    assert config.name == "guinea" and config.channels == ("channel-gnf",)
    assert config.credentials(Cipher(TEST_SECRET_KEY)).license_key == LENGO_KEY
    assert LENGO_KEY not in out + err


def test_an_empty_standard_input_is_refused(installed: str, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))

    assert configure("--license-key", "-", "--no-check") == 1
    assert "saleor-lengo: no license key on standard input" in output(capfd)[1]


def test_the_environment_simulator_keeps_its_name_at_another_port(
    installed: str, lengo: LengoState, lengo_url: str, capfd: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["configure", "--saleor-api-url", SALEOR_URL, "--channel", "channel-gnf", "--website-id", WEBSITE_ID,
         "--license-key", LENGO_KEY, "--environment", "simulator", "--lengo-url", lengo_url]
    )

    assert code == 0, output(capfd)[1]
    (config,) = stored(installed)
    assert (config.environment, config.lengo_url) == ("simulator", lengo_url)


def test_a_new_configuration_needs_a_license_key(installed: str, capfd: pytest.CaptureFixture[str]) -> None:
    assert configure("--no-check") == 1
    assert (
        "saleor-lengo: a license key is required for a new configuration: "
        "--license-key K, --license-key - or $LENGO_LICENSE_KEY"
    ) in output(capfd)[1]
    assert stored(installed) == []


def test_an_update_keeps_the_stored_key_and_the_settings_not_given(
    installed: str, lengo: LengoState, lengo_url: str, capfd: pytest.CaptureFixture[str]
) -> None:
    assert configure("--license-key", LENGO_KEY, "--return-url-pattern", PATTERN, lengo_url=lengo_url) == 0

    code = main(
        ["configure", "--saleor-api-url", SALEOR_URL, "--channel", "Q2hhbm5lbDoy", "--name", "channel-gnf",
         "--website-id", WEBSITE_ID, "--max-amount", "15000000"]
    )

    out, err = output(capfd)
    assert code == 0, err
    assert "Updated configuration 'channel-gnf'" in out
    assert balance_calls(lengo) == 2  # checked again, with the stored key
    (config,) = stored(installed)
    assert config.channels == ("Q2hhbm5lbDoy", "channel-gnf")
    assert config.return_url_patterns == (PATTERN,)
    assert (config.environment, config.lengo_url) == ("custom", lengo_url)
    assert str(config.max_amount) == "15000000"
    assert config.credentials(Cipher(TEST_SECRET_KEY)).license_key == LENGO_KEY
    assert LENGO_KEY not in out + err


def test_an_unknown_saleor_is_refused_with_the_installed_ones_listed(
    installed: str, capfd: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["configure", "--saleor-api-url", "https://other.example/graphql/", "--channel", "c", "--website-id", "w",
         "--license-key", LENGO_KEY, "--no-check"]
    )

    assert code == 1
    assert (
        "saleor-lengo: no Saleor installation for 'https://other.example/graphql/': install the app in that "
        f"Saleor's Dashboard first. Installed: {SALEOR_URL}."
    ) in output(capfd)[1]


def test_configure_migrates_a_fresh_database_first(database: str, capfd: pytest.CaptureFixture[str]) -> None:
    code = configure("--license-key", LENGO_KEY, "--no-check")

    assert code == 1
    assert "No Saleor has installed the app yet." in output(capfd)[1]

    async def tables() -> set[str]:
        db = Database(_database_url(database))
        try:
            return set(await db.run_sync(lambda c: inspect(c).get_table_names()))
        finally:
            await db.dispose()

    assert {"installations", "configurations", "channel_mappings", "payments"} <= asyncio.run(tables())


def test_invalid_settings_are_refused_with_the_field_named(installed: str, capfd: pytest.CaptureFixture[str]) -> None:
    assert configure("--license-key", LENGO_KEY, "--no-check", "--currency", "francs") == 1
    assert "currencies must be ISO 4217 codes such as GNF. Nothing was saved." in output(capfd)[1]
    assert configure("--license-key", LENGO_KEY, "--no-check", "--return-url-pattern", "(") == 1
    assert "is not a valid regex" in output(capfd)[1]
    assert stored(installed) == []


# --- configurations list --------------------------------------------------------------------


def test_configurations_list_shows_every_configuration_with_its_key_masked(
    installed: str, lengo: LengoState, lengo_url: str, capfd: pytest.CaptureFixture[str]
) -> None:
    assert configure("--license-key", LENGO_KEY, "--return-url-pattern", PATTERN, lengo_url=lengo_url) == 0
    output(capfd)

    assert main(["configurations", "list"]) == 0
    out, err = output(capfd)
    assert out.splitlines() == [
        SALEOR_URL,
        f"  channel-gnf: site {WEBSITE_ID}, key ••••7e41, custom {lengo_url}",
        "    channels channel-gnf; currencies GNF; min -; max -",
        f"    return URL patterns: {PATTERN}",
        "    default return URL: -",
    ]

    assert main(["configurations", "list", "--json"]) == 0
    out_json, err_json = output(capfd)
    (entry,) = json.loads(out_json)
    assert entry["saleorApiUrl"] == SALEOR_URL
    (listed,) = entry["configurations"]
    assert listed["licenseKey"] == "••••7e41"
    assert listed["channels"] == ["channel-gnf"]
    assert LENGO_KEY not in out + err + out_json + err_json


def test_configurations_list_says_when_there_is_none(installed: str, capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["configurations", "list"]) == 0
    assert output(capfd)[0] == "No Lengo configuration yet: see `saleor-lengo configure --help`.\n"


# --- payouts -----------------------------------------------------------------------------


def test_payouts_are_off_unless_asked_for(
    installed: str, lengo: LengoState, lengo_url: str, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LENGO_LICENSE_KEY", LENGO_KEY)
    assert configure("--no-check", lengo_url=lengo_url) == 0
    (config,) = stored(installed)
    assert (config.payout_mode, config.payout_daily_limit) == ("off", None)


def test_payouts_on_need_a_daily_limit_and_keep_it_on_a_later_update(
    installed: str, lengo: LengoState, lengo_url: str, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LENGO_LICENSE_KEY", LENGO_KEY)
    assert configure("--no-check", "--payouts", "automatic", lengo_url=lengo_url) == 1
    assert "a payout daily limit is required when payouts are on" in output(capfd)[1]
    assert stored(installed) == []
    assert configure("--no-check", "--payouts", "automatic", "--payout-daily-limit", "1.5", lengo_url=lengo_url) == 1
    assert configure("--no-check", "--payouts", "automatic", "--payout-daily-limit", "500000", lengo_url=lengo_url) == 0
    assert "at most 500000 GNF over any 24 hours" in output(capfd)[0]

    assert configure("--no-check", "--min-amount", "2000", lengo_url=lengo_url) == 0

    (config,) = stored(installed)
    assert (config.payout_mode, str(config.payout_daily_limit)) == ("automatic", "500000")
    assert configure("--no-check", "--payouts", "off", lengo_url=lengo_url) == 0
    assert stored(installed)[0].payout_mode == "off"


def test_the_language_of_the_messages_in_saleor_is_english_unless_set_and_kept_on_a_later_update(
    installed: str, lengo: LengoState, lengo_url: str, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LENGO_LICENSE_KEY", LENGO_KEY)
    assert configure("--no-check", lengo_url=lengo_url) == 0
    assert "Messages written into Saleor for its payments are in English." in output(capfd)[0]
    assert stored(installed)[0].language == "en"

    assert configure("--no-check", "--language", "fr", lengo_url=lengo_url) == 0
    assert "are in French." in output(capfd)[0]
    assert configure("--no-check", "--min-amount", "2000", lengo_url=lengo_url) == 0
    assert stored(installed)[0].language == "fr"

    with pytest.raises(SystemExit):
        configure("--no-check", "--language", "de", lengo_url=lengo_url)
    assert "invalid choice: 'de'" in output(capfd)[1]
    assert stored(installed)[0].language == "fr"
