"""Settings, read once from the environment and validated at start.

Every setting is documented in the README table; a bad value stops the app
with a message that names the variable, never a traceback.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from saleor_lengo.logs import configure_logging, get_logger
from saleor_lengo.outbound_networks import NETWORK_LEVELS, AllowedNetworks

DEFAULT_PORT = 9010  # beside a local Saleor, which holds 8000 (and its Dashboard 9000)
DEFAULT_APP_URL = f"http://127.0.0.1:{DEFAULT_PORT}"
DEFAULT_SQLITE_FILE = "saleor-lengo.sqlite3"
KEY_FILE_SUFFIX = ".key"
MIN_SECRET_LENGTH = 32

_N = TypeVar("_N", int, float)


class SettingsError(Exception):
    """A setting is missing or invalid; the message names it."""


@dataclass(frozen=True)
class Settings:
    app_url: str
    database_url: str
    secret_key: str
    secret_key_fallbacks: tuple[str, ...]
    allowed_domain_pattern: re.Pattern[str] | None
    manifest_app_id: str
    log_level: str
    log_format: str
    reconcile_interval_seconds: float
    payment_ttl_seconds: float
    payment_watch_seconds: float
    metrics_token: str | None
    # Slow and idle clients (web/deadlines.py): a request's headers must arrive
    # within the first, its body within the second after them; at most
    # max_connections per process at once, beyond which requests get 503.
    request_header_timeout_seconds: float = 10.0
    request_body_timeout_seconds: float = 30.0
    max_connections: int = 1000
    # Which non-public destinations outbound calls may reach (outbound_networks.py).
    outbound_allowed_networks: AllowedNetworks = "none"
    # How long an uninstalled installation keeps its token and Lengo credentials.
    uninstall_grace_seconds: float = 30 * 86400.0
    # Where merchants open the Saleor Dashboard, when it is not at `<Saleor's origin>/dashboard/`:
    # transaction events link to the payment in the app's page there (saleor/dashboard.py).
    dashboard_url: str | None = None
    warnings: tuple[str, ...] = field(default=())

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def app_url_is_loopback(self) -> bool:
        return is_loopback_url(self.app_url)

    @property
    def metrics_closed(self) -> bool:
        """`/metrics` answers 404: open metrics are only for local development (a loopback APP_URL)."""
        return self.metrics_token is None and not self.app_url_is_loopback

    def url(self, path: str) -> str:
        return self.app_url + path


def is_loopback_url(url: str) -> bool:
    """True for http(s) URLs whose host is localhost or a loopback address."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _database_url(url: str) -> str:
    """Pick the driver so operators can write SQLAlchemy's plain forms.

    SQLite goes through the standard library's sqlite3 (see db/engine.py);
    the aiosqlite form earlier releases wrote is still accepted.
    """
    if url.startswith("sqlite+aiosqlite:"):
        return "sqlite:" + url[len("sqlite+aiosqlite:") :]
    if url.startswith("sqlite:"):
        return url
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("postgresql+asyncpg:"):
        return url
    raise SettingsError(
        "DATABASE_URL must be sqlite:///file.sqlite3, sqlite:////abs/path.sqlite3 or postgresql://…"
    )


def sqlite_path(database_url: str) -> Path | None:
    """The file behind a SQLite URL, or None for an in-memory database."""
    _, _, rest = database_url.partition(":///")
    if not rest or rest.startswith(":memory:"):
        return None
    return Path(rest.split("?", 1)[0])


def _validate_secret(name: str, value: str) -> str:
    if len(value) < MIN_SECRET_LENGTH:
        raise SettingsError(f"{name} must be at least {MIN_SECRET_LENGTH} characters long")
    if "," in value:
        raise SettingsError(f"{name} must not contain commas (SECRET_KEY_FALLBACKS is comma-separated)")
    return value


def _load_or_create_key_file(db_file: Path, *, create: bool) -> tuple[str, str | None]:
    key_file = db_file.with_name(db_file.name + KEY_FILE_SUFFIX)
    if key_file.exists():
        return key_file.read_text().strip(), None
    if not create:
        raise SettingsError(
            f"SECRET_KEY is not set and there is no key file {key_file}: set SECRET_KEY, or run a command "
            "that writes to the database first (`saleor-lengo migrate` or `serve`), which creates it"
        )
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Created with 0600 so only the app's user can read it.
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key, (
        f"SECRET_KEY is not set: generated one in {key_file}. "
        "Back it up together with the database: without it the stored secrets cannot be read."
    )


def _positive(env: Mapping[str, str], name: str, default: _N, kind: Callable[[str], _N], what: str) -> _N:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise SettingsError(f"{name} must be {what}, got {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{name} must be positive")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    return _positive(env, name, default, float, "a number of seconds")


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    return _positive(env, name, default, int, "a whole number")


def load_settings(env: Mapping[str, str] | None = None, *, create_key_file: bool = False) -> Settings:
    """The settings from `env` (the environment by default).

    Reading them has no side effect unless `create_key_file`: a command that
    writes to the database passes it, so that SQLite without SECRET_KEY gets
    its key file generated beside the database; any other reader is refused
    with the file named when it is missing.
    """
    env = os.environ if env is None else env
    warnings: list[str] = []

    app_url = env.get("APP_URL", DEFAULT_APP_URL).rstrip("/")
    parts = urlsplit(app_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"APP_URL must be an absolute http(s) URL, got {app_url!r}")

    raw_db = env.get("DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE_FILE}"
    database_url = _database_url(raw_db)
    is_sqlite = database_url.startswith("sqlite")

    secret_key = env.get("SECRET_KEY", "")
    if secret_key:
        _validate_secret("SECRET_KEY", secret_key)
    elif is_sqlite:
        db_file = sqlite_path(database_url)
        if db_file is None:
            # An in-memory database dies with the process; so may its key.
            secret_key = secrets.token_urlsafe(48)
        else:
            secret_key, warning = _load_or_create_key_file(db_file, create=create_key_file)
            if warning:
                warnings.append(warning)
    else:
        raise SettingsError(
            "SECRET_KEY is required with PostgreSQL: every replica must share it "
            "to read the secrets stored in the database"
        )

    fallbacks = tuple(
        _validate_secret("SECRET_KEY_FALLBACKS", k.strip())
        for k in env.get("SECRET_KEY_FALLBACKS", "").split(",")
        if k.strip()
    )

    pattern_raw = env.get("ALLOWED_DOMAIN_PATTERN")
    pattern: re.Pattern[str] | None = None
    if pattern_raw:
        try:
            pattern = re.compile(pattern_raw)
        except re.error as exc:
            raise SettingsError(f"ALLOWED_DOMAIN_PATTERN is not a valid regex: {exc}") from None

    log_format = env.get("LOG_FORMAT", "console")
    if log_format not in ("json", "console"):
        raise SettingsError("LOG_FORMAT must be json or console")
    log_level = env.get("LOG_LEVEL", "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise SettingsError("LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL")

    networks = env.get("OUTBOUND_ALLOWED_NETWORKS") or ("loopback" if is_loopback_url(app_url) else "none")
    if networks not in NETWORK_LEVELS:
        raise SettingsError("OUTBOUND_ALLOWED_NETWORKS must be none, loopback or private")

    dashboard_url = env.get("DASHBOARD_URL") or None
    if dashboard_url is not None:
        dashboard_parts = urlsplit(dashboard_url)
        if dashboard_parts.scheme not in ("http", "https") or not dashboard_parts.netloc or len(dashboard_url) > 1024:
            raise SettingsError(f"DASHBOARD_URL must be an absolute http(s) URL, got {dashboard_url[:200]!r}")
        dashboard_url = dashboard_url.rstrip("/") + "/"
    return Settings(
        dashboard_url=dashboard_url,
        app_url=app_url,
        database_url=database_url,
        secret_key=secret_key,
        secret_key_fallbacks=fallbacks,
        allowed_domain_pattern=pattern,
        manifest_app_id=env.get("MANIFEST_APP_ID", "saleor.app.payment.lengo"),
        log_level=log_level,
        log_format=log_format,
        reconcile_interval_seconds=_float(env, "RECONCILE_INTERVAL_SECONDS", 60.0),
        payment_ttl_seconds=_float(env, "PAYMENT_TTL_SECONDS", 86400.0),
        payment_watch_seconds=_float(env, "PAYMENT_WATCH_SECONDS", 7 * 86400.0),
        metrics_token=env.get("METRICS_TOKEN") or None,
        request_header_timeout_seconds=_float(env, "REQUEST_HEADER_TIMEOUT_SECONDS", 10.0),
        request_body_timeout_seconds=_float(env, "REQUEST_BODY_TIMEOUT_SECONDS", 30.0),
        max_connections=_int(env, "MAX_CONNECTIONS", 1000),
        outbound_allowed_networks=networks,
        uninstall_grace_seconds=_float(env, "UNINSTALL_GRACE_SECONDS", 30 * 86400.0),
        warnings=tuple(warnings),
    )


def startup_settings(*, writes: bool) -> Settings:
    """The settings, with logging set up as they say: what every process does first.

    A process that `writes` may create the SQLite database and its key file;
    a read-only one is refused, with the file named, when either is missing.
    """
    settings = load_settings(create_key_file=writes)
    db_file = sqlite_path(settings.database_url)
    if not writes and db_file is not None and not db_file.exists():
        raise SettingsError(
            f"there is no database at {db_file}: nothing is stored yet "
            "(`saleor-lengo migrate` or `serve` creates it; check DATABASE_URL and the working directory)"
        )
    configure_logging(settings.log_level, settings.log_format)
    for warning in settings.warnings:
        get_logger("saleor_lengo").warning("settings_warning", detail=warning)
    return settings
