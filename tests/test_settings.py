from __future__ import annotations

from pathlib import Path

import pytest

from saleor_lengo import cli
from saleor_lengo.settings import SettingsError, load_settings


def test_defaults_are_a_local_sqlite_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    s = load_settings({}, create_key_file=True)
    assert s.app_url == "http://127.0.0.1:9010"
    assert s.database_url == "sqlite:///saleor-lengo.sqlite3"
    assert s.app_url_is_loopback
    assert s.manifest_app_id == "saleor.app.payment.lengo"
    # Slow clients: headers within 10 s, the body within 30 s more, 1000 connections per process.
    assert (s.request_header_timeout_seconds, s.request_body_timeout_seconds, s.max_connections) == (10.0, 30.0, 1000)


def test_sqlite_without_key_generates_one_beside_the_database_and_warns(tmp_path: Path) -> None:
    db = tmp_path / "data" / "app.sqlite3"
    first = load_settings({"DATABASE_URL": f"sqlite:///{db}"}, create_key_file=True)
    key_file = tmp_path / "data" / "app.sqlite3.key"
    assert key_file.read_text().strip() == first.secret_key
    assert len(first.secret_key) >= 32
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert any("Back it up" in w for w in first.warnings)
    second = load_settings({"DATABASE_URL": f"sqlite:///{db}"})
    assert second.secret_key == first.secret_key
    assert second.warnings == ()


def test_reading_the_settings_creates_no_file_and_names_the_missing_key_file(tmp_path: Path) -> None:
    db = tmp_path / "data" / "app.sqlite3"
    with pytest.raises(SettingsError, match=f"no key file {tmp_path / 'data' / 'app.sqlite3.key'}"):
        load_settings({"DATABASE_URL": f"sqlite:///{db}"})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "argv",
    [["payments", "list"], ["payments", "show", "x"], ["outbox", "list"], ["configurations", "list"]],
    ids=" ".join,
)
@pytest.mark.parametrize("with_key", [False, True], ids=["no-key", "secret-key"])
def test_a_read_only_command_where_nothing_is_stored_says_so_and_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str],
    with_key: bool,
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "SECRET_KEY", "SECRET_KEY_FALLBACKS"):
        monkeypatch.delenv(name, raising=False)
    if with_key:
        monkeypatch.setenv("SECRET_KEY", "k" * 40)

    assert cli.main(argv) == 2

    err = capsys.readouterr().err
    missing = "there is no database at saleor-lengo.sqlite3" if with_key else "no key file saleor-lengo.sqlite3.key"
    assert missing in err and "saleor-lengo migrate" in err
    assert list(tmp_path.iterdir()) == []


def test_a_command_that_writes_creates_the_database_and_its_key_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "SECRET_KEY", "SECRET_KEY_FALLBACKS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("saleor_lengo.settings.configure_logging", lambda *_a: None)

    assert cli.main(["migrate"]) == 0

    assert sorted(p.name for p in tmp_path.iterdir()) == ["saleor-lengo.sqlite3", "saleor-lengo.sqlite3.key"]
    assert cli.main(["payments", "list"]) == 0


def test_postgres_without_secret_key_refuses_to_start() -> None:
    with pytest.raises(SettingsError, match="SECRET_KEY is required"):
        load_settings({"DATABASE_URL": "postgresql://postgres@127.0.0.1/test"})


def test_postgres_url_gets_the_async_driver() -> None:
    s = load_settings({"DATABASE_URL": "postgresql://u@h/db", "SECRET_KEY": "k" * 32})
    assert s.database_url == "postgresql+asyncpg://u@h/db"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SECRET_KEY": "short"}, "at least 32"),
        ({"SECRET_KEY": "a" * 40 + ",b"}, "commas"),
        ({"APP_URL": "ftp://x"}, "APP_URL"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"ALLOWED_DOMAIN_PATTERN": "("}, "ALLOWED_DOMAIN_PATTERN"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT"),
        ({"RECONCILE_INTERVAL_SECONDS": "soon"}, "RECONCILE_INTERVAL_SECONDS"),
        ({"REQUEST_HEADER_TIMEOUT_SECONDS": "0"}, "REQUEST_HEADER_TIMEOUT_SECONDS"),
        ({"REQUEST_BODY_TIMEOUT_SECONDS": "-1"}, "REQUEST_BODY_TIMEOUT_SECONDS"),
        ({"MAX_CONNECTIONS": "1.5"}, "MAX_CONNECTIONS"),
        ({"MAX_CONNECTIONS": "0"}, "MAX_CONNECTIONS"),
        ({"DASHBOARD_URL": "javascript:alert(1)"}, "DASHBOARD_URL"),
        ({"DASHBOARD_URL": "/dashboard/"}, "DASHBOARD_URL"),
    ],
)
def test_invalid_settings_name_the_variable(env: dict[str, str], message: str, tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "SECRET_KEY": "k" * 40, **env}
    with pytest.raises(SettingsError, match=message):
        load_settings(env)


def test_app_url_trailing_slash_is_dropped(tmp_path: Path) -> None:
    s = load_settings({"APP_URL": "https://pay.example.com/", "DATABASE_URL": f"sqlite:///{tmp_path/'a.sqlite3'}"},
                      create_key_file=True)
    assert s.url("/api/register") == "https://pay.example.com/api/register"
    assert not s.app_url_is_loopback


def test_the_dashboard_is_beside_saleor_unless_dashboard_url_says_where(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "SECRET_KEY": "k" * 40}
    assert load_settings(env).dashboard_url is None
    assert load_settings({**env, "DASHBOARD_URL": "https://admin.shop.example/dash"}).dashboard_url == (
        "https://admin.shop.example/dash/"
    )
