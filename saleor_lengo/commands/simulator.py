"""`saleor-lengo simulator`: a stand-alone Lengo Pay stand-in, for trying the app without Lengo.

Never part of `serve`: it is a separate process with its own port, keeps
everything in memory, and forgets it all when stopped.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from saleor_lengo.lengo import vocabulary as lengo
from saleor_lengo.logs import configure_logging
from saleor_lengo.simulator.api import LengoState
from saleor_lengo.simulator.page import CallbackPolicy
from saleor_lengo.simulator.server import create_server

DEFAULT_PORT = 8001  # the port of ENVIRONMENTS["simulator"]
_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "simulator",
        help="run a Lengo Pay simulator (API and payment page) for trying the app",
        description=(
            "Run a stand-in for Lengo Pay: its merchant API and a hosted payment page where you choose to pay, "
            "decline or abandon. State is kept in memory. Point a channel at it with "
            "`saleor-lengo configure ... --environment simulator`."
        ),
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    p.add_argument(
        "--license-key",
        metavar="K",
        help="accept only this license key (default: any non-empty key); also read from LENGO_SIMULATOR_LICENSE_KEY",
    )
    p.add_argument(
        "--callback-delay", type=_non_negative, default=0.0, metavar="SECONDS", help="wait before each callback"
    )
    p.add_argument(
        "--duplicate-callbacks",
        type=_positive_int,
        default=1,
        metavar="N",
        help="send every callback N times in all (default 1)",
    )
    p.add_argument("--no-callback", action="store_true", help="never send callbacks (the app must ask for the status)")
    p.add_argument(
        "--fail-rate",
        type=_fraction,
        default=0.0,
        metavar="FRACTION",
        help="answer HTTP 500 to this share of API calls, 0 to 1 (default 0)",
    )
    p.add_argument("--slow", type=_non_negative, default=0.0, metavar="SECONDS", help="delay every API answer")
    p.add_argument(
        "--public-url",
        metavar="URL",
        help="base URL browsers reach the simulator at, for payment_url (default: the address the app called)",
    )
    p.set_defaults(run=run)


def _non_negative(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {raw!r}") from None
    if not value >= 0:  # also refuses NaN
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _fraction(raw: str) -> float:
    value = _non_negative(raw)
    if value > 1:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def _positive_int(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {raw!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def build_state(args: argparse.Namespace) -> LengoState:
    key = args.license_key or os.environ.get("LENGO_SIMULATOR_LICENSE_KEY") or None
    page_base = args.public_url.rstrip("/") + "/pay" if args.public_url else None
    return LengoState(license_key=key, fail_rate=args.fail_rate, slow=args.slow, page_base=page_base)


def build_policy(args: argparse.Namespace) -> CallbackPolicy:
    return CallbackPolicy(enabled=not args.no_callback, delay=args.callback_delay, copies=args.duplicate_callbacks)


def describe(args: argparse.Namespace, state: LengoState) -> str:
    url = f"http://{args.host}:{args.port}"
    lines = [
        f"Lengo Pay SIMULATOR on {url} — not Lengo: no real money moves, state is lost on exit.",
        f"  API: {url}{lengo.CREATE_PAYMENT_PATH}, {url}{lengo.PAYMENT_STATUS_PATH}, {url}/api/getbalance/<site>",
        f"  payments so far: {url}/",
        "  license key: " + ("only the one given" if state.license_key else "any non-empty key"),
    ]
    if args.no_callback:
        lines.append("  callbacks: never sent")
    else:
        lines.append(
            f"  callbacks: {args.duplicate_callbacks} cop{'y' if args.duplicate_callbacks == 1 else 'ies'}"
            + (f", each after {args.callback_delay:g} s" if args.callback_delay else "")
        )
    if args.fail_rate:
        lines.append(f"  HTTP 500 on {args.fail_rate:.0%} of API calls")
    if args.slow:
        lines.append(f"  every API answer delayed {args.slow:g} s")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    level = os.environ.get("LOG_LEVEL", "INFO").upper()
    fmt = os.environ.get("LOG_FORMAT", "console")
    configure_logging(level if level in _LEVELS else "INFO", fmt if fmt in ("json", "console") else "console")
    # httpx logs every request URL at INFO, and a callback URL carries the payment's secret token;
    # each delivery is logged by the page instead (pay_id, attempt, HTTP status).
    logging.getLogger("httpx").setLevel(logging.WARNING)
    state = build_state(args)
    app = create_server(state, build_policy(args))
    print(describe(args, state), file=sys.stderr, flush=True)

    import uvicorn

    # One process: the state is in memory.
    uvicorn.run(app, host=args.host, port=args.port, workers=1, access_log=False, log_level="info")
    return 0
