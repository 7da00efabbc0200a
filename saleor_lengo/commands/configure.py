"""`saleor-lengo configure`: create or update a Lengo configuration and map a channel to it.

The credentials are checked first with Lengo's balance endpoint (`--no-check`
skips it); when they fail nothing is saved. The license key is read from
`--license-key K`, from standard input with `--license-key -`, or from
`LENGO_LICENSE_KEY`, and is never printed nor logged. A running `serve`
reads configurations on every request, so the change applies at once.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from dataclasses import dataclass

from sqlalchemy import select

from saleor_lengo import configurations
from saleor_lengo.commands.common import fail, run_with_services
from saleor_lengo.configurations import LANGUAGES, Configuration, ConfigurationError, ConfigurationInput
from saleor_lengo.db.migrate import migrate
from saleor_lengo.db.schema import installations as installations_table
from saleor_lengo.saleor.installations import Installation, get_by_url
from saleor_lengo.lengo.client import Balance, LengoClient, LengoCredentials
from saleor_lengo.lengo.errors import LengoError, LengoUnauthorized
from saleor_lengo.lengo.vocabulary import ENVIRONMENTS
from saleor_lengo.logs import register_secret
from saleor_lengo.outbound import UnsafeUrl
from saleor_lengo.services import Services

KEY_ENV = "LENGO_LICENSE_KEY"
DEFAULT_ENVIRONMENT = "production"


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "configure",
        help="create or update a Lengo configuration and map a channel to it",
        description=(
            "Create or update the Lengo configuration NAME (default: the channel) and map the channel to it, "
            "after checking the credentials with Lengo's balance endpoint. Options not given keep their stored "
            "values when the configuration exists."
        ),
    )
    p.add_argument("--saleor-api-url", required=True, metavar="URL", help="the Saleor that installed the app")
    p.add_argument("--channel", required=True, metavar="SLUG_OR_ID", help="the Saleor channel (slug or id)")
    p.add_argument("--website-id", required=True, metavar="W", help="the Lengo site id (websiteid)")
    p.add_argument(
        "--license-key",
        metavar="K",
        help=f"the Lengo license key; '-' reads it from standard input; default: ${KEY_ENV}. "
        "Kept when updating a configuration without one",
    )
    p.add_argument("--name", metavar="NAME", help="the configuration's name (default: the channel)")
    p.add_argument(
        "--environment",
        choices=list(ENVIRONMENTS),
        help=f"which Lengo: {', '.join(f'{k} = {v}' for k, v in ENVIRONMENTS.items())} (default {DEFAULT_ENVIRONMENT})",
    )
    p.add_argument("--lengo-url", metavar="URL", help="another Lengo base URL (the environment becomes 'custom')")
    p.add_argument(
        "--currency", action="append", metavar="CODE", help="an accepted currency, repeatable (default GNF)"
    )
    p.add_argument("--min-amount", metavar="AMOUNT", help="smallest amount accepted")
    p.add_argument("--max-amount", metavar="AMOUNT", help="largest amount accepted")
    p.add_argument(
        "--return-url-pattern",
        action="append",
        metavar="REGEX",
        help="a storefront return URL allowed, as a regex matching the whole URL; repeatable. "
        "Without any, only loopback URLs are accepted",
    )
    p.add_argument("--default-return-url", metavar="URL", help="used when the storefront sends no returnUrl")
    p.add_argument(
        "--payouts",
        choices=["off", "automatic", "approval"],
        help="refunds paid out to the payer's mobile-money wallet from the Lengo balance: off (default; refund by hand), "
        "automatic (paid out when Saleor asks), approval (recorded, paid out once approved)",
    )
    p.add_argument(
        "--payout-daily-limit",
        metavar="AMOUNT",
        help="the most paid out over any 24 hours, in the configuration's currency; required unless --payouts off",
    )
    p.add_argument(
        "--language",
        choices=list(LANGUAGES),
        help="the language of the messages the app writes into Saleor (transaction events): en (default) or fr",
    )
    p.add_argument("--no-check", action="store_true", help="save without checking the credentials with Lengo")
    p.set_defaults(run=run)


class LicenseKeyError(Exception):
    """The license key could not be read."""


def read_license_key(option: str | None) -> str | None:
    if option == "-":
        if sys.stdin.isatty():
            value = getpass.getpass("Lengo license key: ")
        else:
            value = sys.stdin.readline()
        if not value.strip():
            raise LicenseKeyError("no license key on standard input")
        return value.strip()
    if option is not None:
        return option.strip()
    from_env = os.environ.get(KEY_ENV, "").strip()
    return from_env or None


_LANGUAGE_NAMES = {"en": "English", "fr": "French"}


@dataclass(frozen=True)
class _Outcome:
    config: Configuration
    channel: str
    balance: Balance | None
    created: bool


class _Refused(Exception):
    """Why nothing was saved; the text is safe to print."""


def _input(args: argparse.Namespace, key: str | None, existing: Configuration | None) -> ConfigurationInput:
    """What to save: the options given, and for an update the stored values of those not given."""
    name = args.name or args.channel
    if existing is None:
        return ConfigurationInput(
            name=name,
            website_id=args.website_id,
            license_key=key,
            environment=args.environment or DEFAULT_ENVIRONMENT,
            lengo_url=args.lengo_url,
            currencies=tuple(args.currency or ("GNF",)),
            min_amount=args.min_amount,
            max_amount=args.max_amount,
            return_url_patterns=tuple(args.return_url_pattern or ()),
            default_return_url=args.default_return_url,
            payout_mode=args.payouts or "off",
            payout_daily_limit=args.payout_daily_limit,
            language=args.language or "en",
        )
    if args.environment or args.lengo_url:
        environment, lengo_url = args.environment or existing.environment, args.lengo_url
    else:
        environment, lengo_url = existing.environment, existing.lengo_url
    return ConfigurationInput(
        name=name,
        website_id=args.website_id,
        license_key=key,
        environment=environment,
        lengo_url=lengo_url,
        currencies=tuple(args.currency) if args.currency else existing.currencies,
        min_amount=args.min_amount if args.min_amount is not None else _plain(existing.min_amount),
        max_amount=args.max_amount if args.max_amount is not None else _plain(existing.max_amount),
        return_url_patterns=tuple(args.return_url_pattern) if args.return_url_pattern else existing.return_url_patterns,
        default_return_url=args.default_return_url if args.default_return_url is not None else existing.default_return_url,
        payout_mode=args.payouts or existing.payout_mode,
        payout_daily_limit=(
            args.payout_daily_limit if args.payout_daily_limit is not None else _plain(existing.payout_daily_limit)
        ),
        language=args.language or existing.language,
    )


def _plain(value: object) -> str | None:
    return None if value is None else format(value, "f")


async def _installation(services: Services, url: str) -> Installation:
    async with services.db.read() as conn:
        for candidate in dict.fromkeys((url, url.rstrip("/") + "/", url.rstrip("/"))):
            found = await get_by_url(conn, candidate)
            if found is not None:
                return found
        known = (await conn.execute(select(installations_table.c.saleor_api_url))).scalars().all()
    hint = f" Installed: {', '.join(known)}." if known else " No Saleor has installed the app yet."
    raise _Refused(f"no Saleor installation for {url!r}: install the app in that Saleor's Dashboard first.{hint}")


async def _check(services: Services, data: ConfigurationInput, key: str) -> Balance:
    environment, url = data.resolved_url()
    where = f"{environment} {url}"
    try:
        credentials = LengoCredentials(base_url=url, website_id=data.website_id.strip(), license_key=key)
        return await LengoClient(services.http, credentials).balance()
    except LengoUnauthorized as exc:
        raise _Refused(
            f"Lengo Pay refused the license key for site {data.website_id!r} at {where} (HTTP {exc.http_status}). "
            "Nothing was saved. Check the key and the site id, and that they belong to this environment "
            "(sandbox keys do not work in production)."
        ) from None
    except LengoError as exc:
        raise _Refused(
            f"could not check the credentials with Lengo Pay at {where}: {exc.safe_message}. Nothing was saved. "
            "Check --environment/--lengo-url, or save anyway with --no-check."
        ) from None
    except (ValueError, UnsafeUrl) as exc:
        raise _Refused(f"{exc}. Nothing was saved.") from None


async def _configure(services: Services, args: argparse.Namespace, key: str | None) -> _Outcome:
    await migrate(services.db)
    inst = await _installation(services, args.saleor_api_url)
    name = (args.name or args.channel).strip()
    async with services.db.read() as conn:
        existing = await configurations.get_by_name(conn, inst.id, name)
    if key is None and existing is None:
        raise _Refused(f"a license key is required for a new configuration: --license-key K, --license-key - or ${KEY_ENV}")
    data = _input(args, key, existing)
    try:
        data.validated()
    except ConfigurationError as exc:
        raise _Refused(f"{exc}. Nothing was saved.") from None
    balance = None
    if not args.no_check:
        check_key = key if key is not None else existing.credentials(services.cipher).license_key  # type: ignore[union-attr]
        balance = await _check(services, data, check_key)
    try:
        async with services.db.write() as conn:
            config = await configurations.save(conn, services.cipher, inst.id, data)
            await configurations.map_channel(conn, inst.id, args.channel, config.id)
            saved = await configurations.get(conn, inst.id, config.id)
    except ConfigurationError as exc:
        raise _Refused(f"{exc}. Nothing was saved.") from None
    assert saved is not None
    return _Outcome(saved, args.channel.strip(), balance, existing is None)


def run(args: argparse.Namespace) -> int:
    try:
        key = read_license_key(args.license_key)
    except LicenseKeyError as exc:
        return fail(str(exc))
    # Masked in every log line from here on, whoever logs it.
    register_secret(key)

    async def work(services: Services) -> _Outcome | str:
        try:
            return await _configure(services, args, key)
        except _Refused as exc:
            return str(exc)

    outcome = run_with_services(work, writes=True)
    if isinstance(outcome, str):
        return fail(outcome)
    config = outcome.config
    if outcome.balance is not None:
        print(
            f"Credentials checked with Lengo Pay: site {config.website_id} answered "
            f"(balance {format(outcome.balance.balance, 'f')} {outcome.balance.currency})."
        )
    else:
        print("Credentials not checked (--no-check).")
    print(
        f"{'Created' if outcome.created else 'Updated'} configuration {config.name!r}: site {config.website_id}, "
        f"key {config.masked_license_key}, {config.environment} {config.lengo_url}, "
        f"currencies {', '.join(config.currencies)}; channel {outcome.channel!r} now uses it."
    )
    if not config.return_url_patterns:
        print(
            "Note: no --return-url-pattern, so only loopback (localhost) return URLs are accepted; "
            "add one that matches your storefront's return URL."
        )
    if config.payout_mode != "off":
        print(
            f"Refunds are paid out to the payer's wallet ({config.payout_mode}), at most "
            f"{format(config.payout_daily_limit or 0, 'f')} {config.currencies[0]} over any 24 hours."
        )
    print(f"Messages written into Saleor for its payments are in {_LANGUAGE_NAMES.get(config.language, config.language)}.")
    if config.environment != "production":
        print(f"Note: payments through this configuration are TEST PAYMENTS ({config.environment}).")
    return 0
