"""Lengo configurations per installation, and the channel → configuration mapping.

Read from the database on every request (no cache), so a change made by the
CLI or the Dashboard takes effect in a running `serve` at once.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, delete, or_, select, update

from saleor_lengo.crypto import Cipher
from saleor_lengo.db.engine import Tx, now
from saleor_lengo.db.prepared import prepared
from saleor_lengo.db.schema import channel_mappings, configurations, payments
from saleor_lengo.lengo.client import LengoCredentials
from saleor_lengo.lengo.vocabulary import ENVIRONMENTS
from saleor_lengo.logs import register_secret
from saleor_lengo.money import AmountError, Problem, parse_amount
from saleor_lengo.outbound import UnsafeUrl, check_url
from saleor_lengo.page_words import ACCOUNT_CHANGE
from saleor_lengo.words import Words, words

NO_PATTERN = (
    "Return URL not allowed: Lengo account {account} has no return URL pattern; add one that matches "
    f"your storefront in {ACCOUNT_CHANGE} → “Return URL patterns”."
)
from saleor_lengo.settings import is_loopback_url


class ConfigurationError(ValueError):
    """Invalid configuration input; the message says which field and why.

    `field` (the app API's name of the input field) and `code` let the
    Dashboard page show the refusal on that field, in its own language.
    """

    def __init__(self, message: str, *, field: str | None = None, code: str = "INVALID") -> None:
        super().__init__(message)
        self.field = field
        self.code = code


@dataclass(frozen=True)
class Configuration:
    id: int
    installation_id: int
    name: str
    website_id: str
    license_key_enc: str = field(repr=False)
    license_key_last4: str
    environment: str  # production | sandbox | simulator | custom
    lengo_url: str
    currencies: tuple[str, ...]
    min_amount: Decimal | None
    max_amount: Decimal | None
    return_url_patterns: tuple[str, ...]
    default_return_url: str | None
    channels: tuple[str, ...] = ()
    # Refunds paid out to the payer's wallet: "off", "automatic" or "approval" (saleor_lengo/payouts/).
    payout_mode: str = "off"
    # The most paid out over any 24 hours, in the configuration's currency; set whenever payouts are on.
    payout_daily_limit: Decimal | None = None
    # The language of the messages written into Saleor for this account's payments (saleor/messages.py).
    language: str = "en"

    @classmethod
    def from_row(cls, row: Any, channels: tuple[str, ...] = ()) -> Configuration:
        m = row._mapping
        return cls(
            id=m["id"],
            installation_id=m["installation_id"],
            name=m["name"],
            website_id=m["website_id"],
            license_key_enc=m["license_key_enc"],
            license_key_last4=m["license_key_last4"],
            environment=m["environment"],
            lengo_url=m["lengo_url"],
            currencies=tuple(json.loads(m["currencies"])),
            min_amount=Decimal(m["min_amount"]) if m["min_amount"] is not None else None,
            max_amount=Decimal(m["max_amount"]) if m["max_amount"] is not None else None,
            return_url_patterns=tuple(json.loads(m["return_url_patterns"])),
            default_return_url=m["default_return_url"],
            channels=channels,
            payout_mode=m["payout_mode"],
            language=m["language"],
            payout_daily_limit=Decimal(m["payout_daily_limit"]) if m["payout_daily_limit"] is not None else None,
        )

    @property
    def masked_license_key(self) -> str:
        return "••••" + self.license_key_last4

    def credentials(self, cipher: Cipher) -> LengoCredentials:
        key = cipher.decrypt(self.license_key_enc)
        register_secret(key)
        return LengoCredentials(base_url=self.lengo_url, website_id=self.website_id, license_key=key)

    def return_url_refusal(self, url: str) -> Words | None:
        """None when the storefront may send shoppers back to `url`; else why not."""
        try:
            check_url(url)
        except UnsafeUrl:
            return words("The return URL must be an absolute http(s) URL.")
        if not self.return_url_patterns:
            if is_loopback_url(url):
                return None
            return words(NO_PATTERN, account=repr(self.name))
        if any(re.fullmatch(p, url) for p in self.return_url_patterns):
            return None
        return words(
            "Return URL not allowed by configuration {account}: it matches none of its return URL patterns.",
            account=repr(self.name),
        )

    def public(self) -> dict[str, Any]:
        """What may be shown: the key masked, never in clear."""
        return {
            "id": self.id,
            "name": self.name,
            "websiteId": self.website_id,
            "licenseKey": self.masked_license_key,
            "environment": self.environment,
            "lengoUrl": self.lengo_url,
            "currencies": list(self.currencies),
            "minAmount": None if self.min_amount is None else format(self.min_amount, "f"),
            "maxAmount": None if self.max_amount is None else format(self.max_amount, "f"),
            "returnUrlPatterns": list(self.return_url_patterns),
            "defaultReturnUrl": self.default_return_url,
            "channels": list(self.channels),
            "payoutMode": self.payout_mode,
            "language": self.language,
            "payoutDailyLimit": None if self.payout_daily_limit is None else format(self.payout_daily_limit, "f"),
        }


@dataclass(frozen=True)
class ConfigurationInput:
    name: str
    website_id: str
    license_key: str | None  # None on update keeps the stored key
    environment: str = "production"
    lengo_url: str | None = None
    currencies: tuple[str, ...] = ("GNF",)
    min_amount: str | None = None
    max_amount: str | None = None
    return_url_patterns: tuple[str, ...] = ()
    default_return_url: str | None = None
    payout_mode: str = "off"
    payout_daily_limit: str | None = None
    language: str = "en"

    def resolved_url(self) -> tuple[str, str]:
        """(environment, base URL); an explicit URL makes the environment 'custom' unless it is a known one."""
        if self.lengo_url:
            url = self.lengo_url.rstrip("/")
            try:
                check_url(url)
            except UnsafeUrl as exc:
                raise ConfigurationError(f"lengo_url: {exc}", field="lengoUrl", code="URL_UNSAFE") from None
            env = self.environment if self.environment in ENVIRONMENTS and ENVIRONMENTS[self.environment] == url else "custom"
            if self.environment == "simulator":
                env = "simulator"
            return env, url
        if self.environment not in ENVIRONMENTS:
            raise ConfigurationError(
                f"environment must be one of {', '.join(ENVIRONMENTS)} (or give a Lengo URL), not {self.environment!r}",
                field="environment",
                code="ENVIRONMENT_UNKNOWN",
            )
        return self.environment, ENVIRONMENTS[self.environment]

    def _payouts(self, currencies: tuple[str, ...]) -> tuple[str, str | None]:
        return _payout_settings(self.payout_mode, self.payout_daily_limit, currencies)

    def validated(self) -> dict[str, Any]:
        name = self.name.strip()
        if not name or len(name) > 255:
            raise ConfigurationError("name must be 1 to 255 characters", field="name", code="NAME_INVALID")
        if not self.website_id.strip():
            raise ConfigurationError("website id (Lengo site id) is required", field="websiteId", code="REQUIRED")
        env, url = self.resolved_url()
        currencies = tuple(dict.fromkeys(c.strip().upper() for c in self.currencies if c.strip()))
        if not currencies or any(len(c) != 3 or not c.isalpha() for c in currencies):
            raise ConfigurationError("currencies must be ISO 4217 codes such as GNF", field="currencies", code="CURRENCY_INVALID")
        bounds: dict[str, str | None] = {}
        for label, raw in (("min_amount", self.min_amount), ("max_amount", self.max_amount)):
            api_field = "minAmount" if label == "min_amount" else "maxAmount"
            if raw is None or str(raw).strip() == "":
                bounds[label] = None
                continue
            try:
                # Held to every currency of the configuration: a bound none can pay is refused.
                values = [parse_amount(raw, c, positive=False) for c in currencies]
            except AmountError as exc:
                if exc.problem == Problem.NOT_A_NUMBER:
                    raise ConfigurationError(f"{label} must be a number", field=api_field, code="AMOUNT_INVALID") from None
                if exc.reason == "negative":
                    raise ConfigurationError(f"{label} must not be negative", field=api_field, code="AMOUNT_NEGATIVE") from None
                raise ConfigurationError(f"{label}: {exc.reason}", field=api_field, code="AMOUNT_INVALID") from None
            bounds[label] = format(values[0], "f")
        if bounds["min_amount"] and bounds["max_amount"] and Decimal(bounds["min_amount"]) > Decimal(bounds["max_amount"]):
            raise ConfigurationError("min_amount is above max_amount", field="minAmount", code="MIN_ABOVE_MAX")
        for pattern in self.return_url_patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ConfigurationError(
                    f"return URL pattern {pattern!r} is not a valid regex: {exc}", field="returnUrlPatterns", code="PATTERN_INVALID"
                ) from None
        if self.default_return_url:
            try:
                check_url(self.default_return_url)
            except UnsafeUrl as exc:
                raise ConfigurationError(f"default return URL: {exc}", field="defaultReturnUrl", code="URL_UNSAFE") from None
        mode, limit = self._payouts(currencies)
        language = (self.language or "en").strip().lower()
        if language not in LANGUAGES:
            raise ConfigurationError(
                f"language must be one of {', '.join(LANGUAGES)}, not {language[:20]!r}", field="language", code="LANGUAGE_UNKNOWN"
            )
        return {
            "language": language,
            "payout_mode": mode,
            "payout_daily_limit": limit,
            "name": name,
            "website_id": self.website_id.strip(),
            "environment": env,
            "lengo_url": url,
            "currencies": json.dumps(list(currencies)),
            "min_amount": bounds["min_amount"],
            "max_amount": bounds["max_amount"],
            "return_url_patterns": json.dumps(list(self.return_url_patterns)),
            "default_return_url": self.default_return_url or None,
        }


PAYOUT_MODES = ("off", "automatic", "approval")
# The languages the app writes messages into Saleor in (saleor/messages.py has their words).
LANGUAGES = ("en", "fr")


def _payout_settings(mode: str, raw_limit: str | None, currencies: tuple[str, ...]) -> tuple[str, str | None]:
    mode = (mode or "off").strip().lower()
    if mode not in PAYOUT_MODES:
        raise ConfigurationError(
            f"payouts must be one of {', '.join(PAYOUT_MODES)}, not {mode!r}", field="payoutMode", code="PAYOUT_MODE_UNKNOWN"
        )
    if raw_limit is None or str(raw_limit).strip() == "":
        if mode != "off":
            raise ConfigurationError(
                "a payout daily limit is required when payouts are on", field="payoutDailyLimit", code="REQUIRED"
            )
        return mode, None
    try:
        values = [parse_amount(str(raw_limit).strip(), c) for c in currencies]
    except AmountError as exc:
        raise ConfigurationError(
            f"payout daily limit: {exc.reason}", field="payoutDailyLimit", code="AMOUNT_INVALID"
        ) from None
    return mode, format(values[0], "f")


async def _channels_by_config(conn: Tx, installation_id: int) -> dict[int, tuple[str, ...]]:
    rows = (
        await conn.execute(
            select(channel_mappings.c.configuration_id, channel_mappings.c.channel)
            .where(channel_mappings.c.installation_id == installation_id)
            .order_by(channel_mappings.c.channel)
        )
    ).all()
    found: dict[int, list[str]] = {}
    for config_id, channel in rows:
        found.setdefault(config_id, []).append(channel)
    return {k: tuple(v) for k, v in found.items()}


async def list_for(conn: Tx, installation_id: int) -> list[Configuration]:
    channels = await _channels_by_config(conn, installation_id)
    rows = (
        await conn.execute(
            select(configurations).where(configurations.c.installation_id == installation_id).order_by(configurations.c.name)
        )
    ).all()
    return [Configuration.from_row(r, channels.get(r.id, ())) for r in rows]


async def get(conn: Tx, installation_id: int, config_id: int) -> Configuration | None:
    row = (
        await conn.execute(
            select(configurations).where(
                configurations.c.id == config_id, configurations.c.installation_id == installation_id
            )
        )
    ).first()
    if row is None:
        return None
    return Configuration.from_row(row, (await _channels_by_config(conn, installation_id)).get(row.id, ()))


# Every callback's confirmation reads its configuration: built once (db/prepared.py).
_BY_ID = prepared(select(configurations).where(configurations.c.id == bindparam("b_id")))


async def get_by_id(conn: Tx, config_id: int) -> Configuration | None:
    row = (await conn.execute(_BY_ID, {"b_id": config_id})).first()
    return Configuration.from_row(row) if row else None


async def get_by_name(conn: Tx, installation_id: int, name: str) -> Configuration | None:
    row = (
        await conn.execute(
            select(configurations).where(
                configurations.c.installation_id == installation_id, configurations.c.name == name
            )
        )
    ).first()
    return Configuration.from_row(row) if row else None


async def for_channel(
    conn: Tx, installation_id: int, channel_id: str | None, channel_slug: str | None
) -> Configuration | None:
    """The configuration mapped to this channel, matched on its id first, then its slug."""
    keys = [k for k in (channel_id, channel_slug) if k]
    if not keys:
        return None
    rows = (
        await conn.execute(
            select(channel_mappings.c.channel, configurations)
            .join(configurations, configurations.c.id == channel_mappings.c.configuration_id)
            .where(channel_mappings.c.installation_id == installation_id, or_(*(channel_mappings.c.channel == k for k in keys)))
        )
    ).all()
    by_key = {r.channel: r for r in rows}
    for key in keys:
        if key in by_key:
            return Configuration.from_row(by_key[key])
    return None


async def save(
    conn: Tx, cipher: Cipher, installation_id: int, data: ConfigurationInput, *, config_id: int | None = None
) -> Configuration:
    """Create, or update the configuration `config_id` (or the one with the same name)."""
    conn.settings_changed()
    values = data.validated()
    t = now()
    existing = (
        await get(conn, installation_id, config_id)
        if config_id is not None
        else await get_by_name(conn, installation_id, values["name"])
    )
    if config_id is not None and existing is None:
        raise ConfigurationError("no such configuration", code="NOT_FOUND")
    if data.license_key is not None:
        key = data.license_key.strip()
        if not key:
            raise ConfigurationError("license key is empty", field="licenseKey", code="REQUIRED")
        register_secret(key)
        values["license_key_enc"] = cipher.encrypt(key)
        values["license_key_last4"] = key[-4:] if len(key) > 4 else ""
    elif existing is None:
        raise ConfigurationError("license key is required for a new configuration", field="licenseKey", code="REQUIRED")
    if existing:
        clash = await get_by_name(conn, installation_id, values["name"])
        if clash and clash.id != existing.id:
            raise ConfigurationError(
                f"another configuration is already named {values['name']!r}", field="name", code="ALREADY_EXISTS"
            )
        await conn.execute(update(configurations).where(configurations.c.id == existing.id).values(updated_at=t, **values))
        new_id = existing.id
    else:
        result = await conn.execute(
            configurations.insert().values(installation_id=installation_id, created_at=t, updated_at=t, **values)
        )
        new_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    saved = await get(conn, installation_id, new_id)
    assert saved is not None
    return saved


async def map_channel(conn: Tx, installation_id: int, channel: str, config_id: int) -> None:
    conn.settings_changed()
    channel = channel.strip()
    if not channel:
        raise ConfigurationError("channel is empty")
    if await get(conn, installation_id, config_id) is None:
        raise ConfigurationError("no such configuration")
    await conn.execute(
        delete(channel_mappings).where(
            channel_mappings.c.installation_id == installation_id, channel_mappings.c.channel == channel
        )
    )
    await conn.execute(
        channel_mappings.insert().values(installation_id=installation_id, channel=channel, configuration_id=config_id)
    )


async def unmap_channel(conn: Tx, installation_id: int, channel: str) -> bool:
    conn.settings_changed()
    result = await conn.execute(
        delete(channel_mappings).where(
            channel_mappings.c.installation_id == installation_id, channel_mappings.c.channel == channel
        )
    )
    return bool(result.rowcount)


async def remove(conn: Tx, installation_id: int, config_id: int) -> None:
    """Delete a configuration that no payment refers to (open payments need its key to be checked)."""
    conn.settings_changed()
    if await get(conn, installation_id, config_id) is None:
        raise ConfigurationError("no such configuration")
    used = (await conn.execute(select(payments.c.id).where(payments.c.configuration_id == config_id).limit(1))).first()
    if used:
        raise ConfigurationError("payments were made with this configuration: map its channels elsewhere instead of deleting it")
    await conn.execute(delete(channel_mappings).where(channel_mappings.c.configuration_id == config_id))
    await conn.execute(delete(configurations).where(configurations.c.id == config_id))
